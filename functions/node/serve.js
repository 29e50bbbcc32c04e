// The suite's HTTP server in Node.js, the same HTTP mode as functions/serve.py:
//
//     FUNCTION=echo PORT=8080 node functions/node/serve.js
//
// GET, POST, PUT, PATCH or DELETE on any path outside /_/ runs the function with the JSON object
// in the body (empty body: {}) over the query parameters; /_/health and /_/ready answer without
// running it (probes never take the cold flag). JSON responses with Content-Length, X-Call-Id
// echoed, keep-alive (idle connections close after 120 s), 413 above 16 MiB. SIGTERM or SIGINT
// stops accepting, lets requests in flight finish (up to SHUTDOWN_GRACE_S, 30 s) and exits 0.
// Settings: FUNCTION, HOST (0.0.0.0), PORT (8080), SHUTDOWN_GRACE_S.
"use strict";

const http = require("node:http");
const { JsonError, parse, stringify } = require("./json.js");
const { instance, invoke } = require("./runtime.js");
const { FUNCTIONS } = require("./functions.js");

const MAX_BODY = 16 * 1024 * 1024;
const IDLE_TIMEOUT_MS = 120000;
const PROBE_PATHS = ["/_/health", "/_/ready"];
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const NAMES = Object.keys(FUNCTIONS);

function fail(message) {
  process.stderr.write(`functions/node/serve.js: ${message}\n`);
  process.exit(2);
}

// Python's urllib.parse.unquote_plus, malformed UTF-8 replaced.
function unquotePlus(text) {
  const bytes = [];
  const plain = text.replace(/\+/g, " ");
  for (let i = 0; i < plain.length; i += 1) {
    if (plain[i] === "%" && /^[0-9a-fA-F]{2}$/.test(plain.slice(i + 1, i + 3))) {
      bytes.push(parseInt(plain.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(plain[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

// The JSON body over the query parameters (a repeated query key gives a list), as parse_qs reads
// them with blank values kept.
function requestParams(query, body) {
  const params = new Map();
  for (const piece of query.split("&")) {
    if (piece === "") continue;
    const cut = piece.indexOf("=");
    const key = unquotePlus(cut < 0 ? piece : piece.slice(0, cut));
    const value = unquotePlus(cut < 0 ? "" : piece.slice(cut + 1));
    const seen = params.get(key);
    if (seen === undefined) params.set(key, value);
    else if (Array.isArray(seen)) seen.push(value);
    else params.set(key, [seen, value]);
  }
  if (body.every((byte) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d))) return params;
  let text;
  try {
    const start = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    text = new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(start));
  } catch (error) {
    throw new JsonError(`the body is not UTF-8: ${error.message}`);
  }
  const document = parse(text);
  if (!(document instanceof Map)) return document;
  for (const [key, value] of document) params.set(key, value);
  return params;
}

function main() {
  const name = process.env.FUNCTION;
  if (!name) fail(`FUNCTION is not set; one of: ${NAMES.join(", ")}`);
  if (!Object.hasOwn(FUNCTIONS, name)) fail(`FUNCTION: unknown function '${name}'; known: ${NAMES.join(", ")}`);
  const handler = FUNCTIONS[name];
  const host = process.env.HOST || "0.0.0.0";
  const portText = process.env.PORT || "8080";
  const graceText = process.env.SHUTDOWN_GRACE_S || "30";
  const port = Number(portText);
  const graceS = Number(graceText);
  if (!/^[0-9]+$/.test(portText.trim()) || port > 65535 || !Number.isFinite(graceS) || graceS < 0) {
    fail(`bad PORT or SHUTDOWN_GRACE_S: ${portText}, ${graceText}`);
  }
  let draining = false;

  function send(req, res, status, document, close) {
    const body = Buffer.from(stringify(document), "latin1");
    const headers = { "Content-Type": "application/json", "Content-Length": body.length };
    const callId = req.headers["x-call-id"];
    if (callId && /^[\x20-\x7e]+$/.test(callId)) headers["X-Call-Id"] = callId;
    if (close || draining) headers.Connection = "close";
    res.writeHead(status, headers);
    res.end(body);
  }

  function probe(req, res, path) {
    if (!PROBE_PATHS.includes(path)) send(req, res, 404, { error: `no such path ${path}` });
    else if (path === "/_/ready" && draining) send(req, res, 503, { status: "draining" });
    else send(req, res, 200, new Map([["status", "ok"], ["function", name], ["instance", instance.id]]));
  }

  async function dispatch(req, res, body) {
    const url = req.url;
    const cut = url.indexOf("?");
    const path = cut < 0 ? url : url.slice(0, cut);
    if (path.startsWith("/_/")) {
      probe(req, res, path);
      return;
    }
    let params;
    try {
      params = requestParams(cut < 0 ? "" : url.slice(cut + 1), body);
    } catch (error) {
      if (!(error instanceof JsonError)) throw error;
      send(req, res, 400, { error: `the body is not valid JSON: ${error.message}` });
      return;
    }
    const outcome = await invoke(name, handler, params, "http");
    send(req, res, outcome.status, outcome.document);
  }

  const server = http.createServer({ noDelay: true, requestTimeout: 0 }, (req, res) => {
    if (!METHODS.has(req.method)) {
      send(req, res, 501, { error: `unsupported method ${req.method}` });
      req.resume();
      return;
    }
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > MAX_BODY) {
      send(req, res, 413, { error: `bodies are up to ${MAX_BODY} B` }, true);
      return;
    }
    const chunks = [];
    let total = 0;
    let refused = false;
    req.on("data", (chunk) => {
      if (refused) return;
      total += chunk.length;
      if (total > MAX_BODY) {
        refused = true;
        send(req, res, 413, { error: `bodies are up to ${MAX_BODY} B` }, true);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      dispatch(req, res, Buffer.concat(chunks)).catch((error) => {
        process.stderr.write(`${error.stack}\n`);
        if (!res.headersSent) send(req, res, 500, { error: `internal error: ${error.message}` });
      });
    });
  });
  server.keepAliveTimeout = IDLE_TIMEOUT_MS;
  server.headersTimeout = IDLE_TIMEOUT_MS + 1000;

  function stop() {
    if (draining) return;
    draining = true;
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      process.stderr.write("functions/node/serve.js: requests still in flight after the grace period\n");
      process.exit(0);
    }, graceS * 1000).unref();
  }
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  server.on("error", (error) => fail(`cannot listen on ${host}:${port}: ${error.message}`));
  server.listen(port, host, () => {
    const address = server.address();
    process.stderr.write(`functions/node/serve.js: ${name} on ${address.address}:${address.port} (instance ${instance.id})\n`);
  });
}

main();
