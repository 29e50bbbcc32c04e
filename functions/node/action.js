// The OpenWhisk nodejs entry: exports main(params), which runs one function of the suite and
// returns the envelope functions/_openwhisk.py returns, {"result", "meta"} or {"error", "meta"},
// with meta.adapter "openwhisk".
//
// The function is the constant __function when the packager has put a line
//     const __function = "matrix";
// at the top of this file, else the environment variable FUNCTION. Parameters named __ow_* (what
// OpenWhisk adds for web actions) are dropped. The action is a zip of functions/node/*.js with a
// package.json whose "main" is "action.js".

const { invoke } = require("./runtime.js");
const { FUNCTIONS } = require("./functions.js");

function chosen() {
  // eslint-disable-next-line no-undef
  return typeof __function === "string" ? __function : process.env.FUNCTION;
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
  if (!name || !Object.hasOwn(FUNCTIONS, name)) {
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
