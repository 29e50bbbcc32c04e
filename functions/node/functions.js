// echo, sleep and matrix, as functions/echo.py, sleep.py and matrix.py define them.
"use strict";

const { intParam, floatParam, round3 } = require("./runtime.js");

const MAX_SLEEP_MS = 240000;
const MAX_N = 400n;
const MAX_SEED = 2n ** 63n - 1n;

// echo: returns its parameters unchanged.
function echo(params) {
  return new Map(params);
}

// sleep: waits `ms` milliseconds (default 100) without blocking other requests; reports how long
// it slept (never less than asked: a timer that fires early is set again for the rest).
async function sleep(params) {
  const ms = floatParam(params, "ms", 100.0, 0.0, MAX_SLEEP_MS);
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
  while (elapsed() < ms) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(ms - elapsed()))));
  }
  return new Map([
    ["ms", ms],
    ["slept_ms", round3(elapsed())],
  ]);
}

// MT19937 seeded as CPython's random.Random(seed) seeds it (init_by_array over the 32-bit words
// of the seed, least significant first), with random() as CPython's genrand_res53.
class PythonRandom {
  constructor(seed) {
    const key = [];
    let rest = seed;
    do {
      key.push(Number(rest & 0xffffffffn));
      rest >>= 32n;
    } while (rest > 0n);
    this.mt = new Uint32Array(624);
    this.index = 624;
    const mt = this.mt;
    mt[0] = 19650218;
    for (let i = 1; i < 624; i += 1) {
      mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
    }
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k -= 1) {
      mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j;
      i += 1;
      j += 1;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k -= 1) {
      mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i;
      i += 1;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  next32() {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k += 1) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index];
    this.index += 1;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  random() {
    const a = this.next32() >>> 5;
    const b = this.next32() >>> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  uniform(low, high) {
    return low + (high - low) * this.random();
  }
}

// The correctly rounded sum of the values added, as CPython's math.fsum computes it
// (Shewchuk's partials, then half-even rounding across them).
class Fsum {
  constructor() {
    this.partials = [];
  }

  add(value) {
    const p = this.partials;
    let x = value;
    let i = 0;
    for (let j = 0; j < p.length; j += 1) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0.0) p[i++] = lo;
      x = hi;
    }
    p.length = i;
    if (x !== 0.0) p.push(x);
  }

  value() {
    const p = this.partials;
    let n = p.length;
    if (n === 0) return 0.0;
    let hi = p[--n];
    let lo = 0.0;
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0.0) break;
    }
    if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
      const y = lo * 2.0;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}

// matrix: multiplies two n×n matrices drawn from `seed` exactly as functions/matrix.py draws
// them (a, then b, row by row, uniform(-1, 1)); every sum is an fsum, so checksum and trace are
// Python's to the last bit.
function matrix(params) {
  const n = intParam(params, "n", 100n, 1n, MAX_N);
  const seed = intParam(params, "seed", 0n, 0n, MAX_SEED);
  const size = Number(n);
  const rng = new PythonRandom(seed);
  const draw = () => Array.from({ length: size }, () => Float64Array.from({ length: size }, () => rng.uniform(-1.0, 1.0)));
  const a = draw();
  const b = draw();
  const columns = Array.from({ length: size }, (_, j) => Float64Array.from(b, (row) => row[j]));
  const total = new Fsum();
  const trace = new Fsum();
  for (let i = 0; i < size; i += 1) {
    const row = a[i];
    for (let j = 0; j < size; j += 1) {
      const column = columns[j];
      const dot = new Fsum();
      for (let k = 0; k < size; k += 1) dot.add(row[k] * column[k]);
      const entry = dot.value();
      total.add(entry);
      if (i === j) trace.add(entry);
    }
  }
  return new Map([
    ["n", n],
    ["seed", seed],
    ["checksum", total.value()],
    ["trace", trace.value()],
  ]);
}

const FUNCTIONS = { echo, sleep, matrix };

module.exports = { FUNCTIONS, PythonRandom, Fsum };
