// Per-instance state, parameter parsing and the envelope, as functions/_runtime.py and
// functions/_params.py define them: {"result": ..., "meta": {...}} with status 200, or
// {"error": "message", "meta": {...}} with 400 (bad parameter) or 500 (failure).
"use strict";

const crypto = require("node:crypto");
const { floatRepr, typeName } = require("./json.js");

// The suite's version (functions/_runtime.py VERSION) and this runtime's language.
const VERSION = "1.1.0";
const LANGUAGE = "node";

const instance = {
  id: crypto.randomBytes(8).toString("hex"),
  startedNs: BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)),
  coldPending: true,
};

class ParamError extends Error {}

// Python's repr of a value, as _params._show quotes a bad value (60 characters at most).
function show(value) {
  let text;
  if (Array.isArray(value) || value instanceof Map) text = typeName(value);
  else if (typeof value === "string") {
    const q = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/[\\\x00-\x1f\x7f]/g, (c) => {
      const named = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" }[c];
      return named || `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
    });
    text = q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  } else if (typeof value === "number") text = floatRepr(value);
  else if (typeof value === "boolean") text = value ? "True" : "False";
  else text = String(value);
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

// Python's "{:g}" of the bounds the suite uses (whole numbers below 1e16).
function formatG(x) {
  return Number.isInteger(x) && Math.abs(x) < 1e16 ? String(x) : floatRepr(x);
}

function get(params, name) {
  const value = params instanceof Map ? params.get(name) : params[name];
  return value === undefined ? null : value;
}

const INTEGER = /^[+-]?[0-9]+(_[0-9]+)*$/;
const FLOAT = /^[+-]?([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)([eE][+-]?[0-9]+(_[0-9]+)*)?$/;
const SPECIAL = { inf: Infinity, "+inf": Infinity, "-inf": -Infinity, infinity: Infinity, "+infinity": Infinity, "-infinity": -Infinity, nan: NaN, "+nan": NaN, "-nan": NaN };

// params[name] as an integer (BigInt) in [low, high], or `fallback` when absent or null.
function intParam(params, name, fallback, low, high) {
  const value = get(params, name);
  if (value === null) return fallback;
  let number;
  if (typeof value === "boolean") throw new ParamError(`${name} must be an integer, got a boolean`);
  if (typeof value === "bigint") number = value;
  else if (typeof value === "number" && Number.isInteger(value)) number = BigInt(value);
  else if (typeof value === "string") {
    const text = value.trim();
    if (!INTEGER.test(text)) throw new ParamError(`${name} must be an integer, got ${show(value)}`);
    number = BigInt(text.replace(/_/g, ""));
  } else throw new ParamError(`${name} must be an integer, got ${typeName(value)}`);
  if (number < low || number > high) {
    throw new ParamError(`${name} must be between ${low} and ${high}, got ${number}`);
  }
  return number;
}

// params[name] as a finite float in [low, high], or `fallback` when absent or null.
function floatParam(params, name, fallback, low, high) {
  const value = get(params, name);
  if (value === null) return fallback;
  let number;
  if (typeof value === "boolean") throw new ParamError(`${name} must be a number, got a boolean`);
  if (typeof value === "bigint" || typeof value === "number") number = Number(value);
  else if (typeof value === "string") {
    const text = value.trim();
    if (text.toLowerCase() in SPECIAL) number = SPECIAL[text.toLowerCase()];
    else if (FLOAT.test(text)) number = Number(text.replace(/_/g, ""));
    else throw new ParamError(`${name} must be a number, got ${show(value)}`);
  } else throw new ParamError(`${name} must be a number, got ${typeName(value)}`);
  if (!Number.isFinite(number) || number < low || number > high) {
    throw new ParamError(`${name} must be between ${formatG(low)} and ${formatG(high)}, got ${show(value)}`);
  }
  return number;
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}

// Runs handler(params) as one invocation of this instance; resolves to {status, document}.
async function invoke(name, handler, params, adapter) {
  const cold = instance.coldPending;
  instance.coldPending = false;
  const start = process.hrtime.bigint();
  let status = 200;
  let body;
  try {
    if (!(params instanceof Map)) {
      throw new ParamError(`parameters must be a JSON object, got ${typeName(params)}`);
    }
    body = new Map([["result", await handler(params)]]);
  } catch (error) {
    if (error instanceof ParamError) status = 400;
    else {
      status = 500;
      process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    }
    const message = error instanceof ParamError ? error.message : `internal error: ${error && error.name}: ${error && error.message}`;
    body = new Map([["error", message]]);
  }
  const elapsedNs = Number(process.hrtime.bigint() - start);
  body.set(
    "meta",
    new Map([
      ["function", name],
      ["instance", instance.id],
      ["cold", cold],
      ["instance_started_ns", instance.startedNs],
      ["handler_ms", round3(elapsedNs / 1e6)],
      ["version", VERSION],
      ["adapter", adapter],
      ["language", LANGUAGE],
    ]),
  );
  return { status, document: body };
}

module.exports = { VERSION, LANGUAGE, instance, ParamError, intParam, floatParam, round3, invoke, show };
