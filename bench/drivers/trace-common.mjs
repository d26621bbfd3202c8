// Shared by the CRDT benchmark scripts (crdt-yjs.mjs, crdt-wasm.mjs) that
// `cargo xtask bench crdt` runs: reading traces, timing, memory, arguments.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';

/** The JSON text of a trace file, gunzipped when it starts with the gzip magic. */
export function readTraceText(file) {
  const raw = readFileSync(file);
  const json = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  return json.toString('utf8');
}

/** `--runs N [--flag value]... FILE` → { runs, file, options }. */
export function parseArgs(argv) {
  const options = {};
  let file = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      options[a.slice(2)] = argv[++i];
    } else {
      file = a;
    }
  }
  if (!file) throw new Error('usage: node --expose-gc SCRIPT --runs N [options] TRACE_FILE');
  const runs = Number(options.runs ?? 1);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs expects a positive integer, not ${options.runs}`);
  return { runs, file, options };
}

/** Runs the collector when node was started with --expose-gc. */
export function collect() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

/** Whether heap figures mean anything (needs --expose-gc). */
export const canCollect = () => typeof globalThis.gc === 'function';

/** Milliseconds taken by f(), and its result. */
export function timed(f) {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export const summary = (times) => ({ median: median(times), runs: times });

/**
 * The bulk figures of one engine, as `bench crdt` reads them: the whole
 * trace in one transaction (`oneTxn`, a summary or null), one paste
 * (`pasted`, times), and the load of the ×`repeat` document (`repeated`,
 * its update; `repeatedLoad`, times); `mismatch` says what came out wrong.
 */
export function bulkRecord({ mismatch, oneTxn, pasted, repeat, repeated, repeatedLoad }) {
  return {
    ok: mismatch === null,
    mismatch,
    oneTxnMs: oneTxn,
    pasteMs: summary(pasted),
    repeat,
    repeatedUpdateBytes: repeated.length,
    repeatedLoadMs: summary(repeatedLoad),
  };
}

/** Number of Unicode scalar values in s. */
export function scalarLength(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** First difference between expected and actual, in scalars, with context. */
export function mismatch(expected, actual) {
  if (expected === actual) return null;
  const e = [...expected];
  const a = [...actual];
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  const win = (s) => s.slice(Math.max(0, i - 24), i + 24).join('');
  return `texts differ at scalar ${i}: expected ${JSON.stringify(win(e))}, got ${JSON.stringify(win(a))} ` +
    `(lengths: expected ${e.length}, got ${a.length})`;
}

/**
 * Scalar → UTF-16 offsets for a changing text, like atelier_doc's
 * ScalarIndex: the sorted scalar positions of astral characters.
 */
export class ScalarIndex {
  constructor(text = '') {
    this.len = 0;
    this.astral = [];
    let pos = 0;
    for (const c of text) {
      if (c.length === 2) this.astral.push(pos);
      pos++;
    }
    this.len = pos;
  }

  /** Number of astral positions < n. */
  before(n) {
    let lo = 0;
    let hi = this.astral.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.astral[mid] < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  toUtf16(n) {
    if (n > this.len) throw new Error(`scalar offset ${n} is past the end (${this.len})`);
    return n + this.before(n);
  }

  insert(at, text) {
    if (at > this.len) throw new Error(`insert at ${at} is past the end (${this.len})`);
    const i = this.before(at);
    const added = [];
    let pos = at;
    for (const c of text) {
      if (c.length === 2) added.push(pos);
      pos++;
    }
    const n = pos - at;
    for (let k = i; k < this.astral.length; k++) this.astral[k] += n;
    if (added.length) this.astral.splice(i, 0, ...added);
    this.len += n;
  }

  delete(at, n) {
    if (at + n > this.len) throw new Error(`delete ${at}+${n} is past the end (${this.len})`);
    const lo = this.before(at);
    const hi = this.before(at + n);
    this.astral.splice(lo, hi - lo);
    for (let k = lo; k < this.astral.length; k++) this.astral[k] -= n;
    this.len -= n;
  }
}
