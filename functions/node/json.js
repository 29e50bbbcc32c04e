// JSON as the Python suite reads and writes it (json.loads, json.dumps with separators (",", ":")
// and ensure_ascii): objects are Maps (insertion order kept, the last duplicate key wins),
// integers are BigInt (exact at any size), other numbers are floats (JS numbers) and print the
// way Python's repr prints a float ("100.0", "1e-05"), so int and float survive a round trip.
"use strict";

class JsonError extends Error {}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

function parse(text) {
  let at = 0;
  const fail = (what) => {
    throw new JsonError(`${what} at char ${at}`);
  };
  const space = () => {
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at += 1;
      else break;
    }
  };
  const number = () => {
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (match === null) fail("Expecting value");
    at += match[0].length;
    if (match[2] === undefined && match[3] === undefined) return BigInt(match[0]);
    return Number(match[0]);
  };
  const string = () => {
    at += 1;
    let out = "";
    let start = at;
    for (;;) {
      if (at >= text.length) fail("Unterminated string");
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        out += text.slice(start, at);
        at += 1;
        return out;
      }
      if (c < 0x20) fail("Invalid control character");
      if (c === 0x5c) {
        out += text.slice(start, at);
        const e = text[at + 1];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) {
          out += simple[e];
          at += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) {
          out += String.fromCharCode(parseInt(text.slice(at + 2, at + 6), 16));
          at += 6;
        } else {
          fail("Invalid \\escape");
        }
        start = at;
      } else {
        at += 1;
      }
    }
  };
  const value = (depth) => {
    if (depth > 1000) fail("Nesting too deep");
    space();
    const c = text[at];
    if (c === "{") {
      at += 1;
      const object = new Map();
      space();
      if (text[at] === "}") {
        at += 1;
        return object;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail("Expecting property name enclosed in double quotes");
        const key = string();
        space();
        if (text[at] !== ":") fail("Expecting ':' delimiter");
        at += 1;
        object.set(key, value(depth + 1));
        space();
        if (text[at] === ",") at += 1;
        else if (text[at] === "}") {
          at += 1;
          return object;
        } else fail("Expecting ',' delimiter");
      }
    }
    if (c === "[") {
      at += 1;
      const array = [];
      space();
      if (text[at] === "]") {
        at += 1;
        return array;
      }
      for (;;) {
        array.push(value(depth + 1));
        space();
        if (text[at] === ",") at += 1;
        else if (text[at] === "]") {
          at += 1;
          return array;
        } else fail("Expecting ',' delimiter");
      }
    }
    if (c === '"') return string();
    for (const [word, result] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return result;
      }
    }
    return number();
  };
  const result = value(0);
  space();
  if (at !== text.length) fail("Extra data");
  return result;
}

// The shortest digits that read back as |x| and the decimal point's position: x = 0.DIGITS × 10^point.
function shortestDigits(x) {
  const [mantissa, exponent] = Math.abs(x).toExponential().split("e");
  return { digits: mantissa.replace(".", ""), point: Number(exponent) + 1 };
}

// Python's repr of a float: fixed notation from 1e-4 up to 1e16, else exponent notation.
function floatRepr(x) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0.0`;
  const { digits, point } = shortestDigits(x);
  if (point <= -4 || point > 16) {
    const exponent = point - 1;
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent).toString().padStart(2, "0");
    return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${e}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const ESCAPES = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

function quote(text) {
  return `"${text.replace(/[^\x20-\x7e]|["\\]/g, (c) => ESCAPES[c] || `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

function stringify(value) {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      if (Number.isNaN(value)) return "NaN";
      if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
      return floatRepr(value);
    case "string":
      return quote(value);
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`;
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return `{${entries.map(([k, v]) => `${quote(String(k))}:${stringify(v)}`).join(",")}}`;
}

// Python's type name for a parsed value, for messages ("got list").
function typeName(value) {
  if (value === null || value === undefined) return "NoneType";
  if (Array.isArray(value)) return "list";
  if (value instanceof Map) return "dict";
  return { boolean: "bool", bigint: "int", number: "float", string: "str" }[typeof value] || "dict";
}

module.exports = { JsonError, parse, stringify, floatRepr, typeName };
