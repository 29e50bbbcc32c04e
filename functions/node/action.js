// The OpenWhisk nodejs entry: exports main(params), which runs one function of the suite and
// returns the envelope functions/_openwhisk.py returns, {"result", "meta"} or {"error", "meta"},
// with meta.adapter "openwhisk".
//
// The function is named by function.json ({"function": NAME}) beside this file, which the
// packager (functions/package.py) writes into the action's zip, else by the environment variable
// FUNCTION. Parameters named __ow_* (what OpenWhisk adds for web actions) are dropped. The action
// is a zip of functions/node/*.js with a package.json whose "main" is "action.js".

const fs = require("fs");
const path = require("path");
const { invoke } = require("./runtime.js");
const { FUNCTIONS } = require("./functions.js");

const FUNCTION_FILE = path.join(__dirname, "function.json");

function chosen() {
  if (fs.existsSync(FUNCTION_FILE)) {
    return JSON.parse(fs.readFileSync(FUNCTION_FILE, "utf8")).function;
  }
  return process.env.FUNCTION;
}

// A document OpenWhisk can serialise with JSON.stringify: Maps become objects, BigInts numbers.
function plain(value) {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  return value;
}

async function main(params) {
  const name = chosen();
  if (!name || !Object.prototype.hasOwnProperty.call(FUNCTIONS, name)) {
    throw new Error(`unknown function ${JSON.stringify(name)}; known: ${Object.keys(FUNCTIONS).join(", ")}`);
  }
  let args = params;
  if (args !== null && typeof args === "object" && !Array.isArray(args)) {
    args = new Map(Object.entries(args).filter(([key]) => !key.startsWith("__ow_")));
  }
  const outcome = await invoke(name, FUNCTIONS[name], args, "openwhisk");
  return plain(outcome.document);
}

module.exports = { main };
