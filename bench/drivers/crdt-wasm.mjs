// Replays one editing trace with atelier-doc compiled to wasm
// (crates/atelier-bench-wasm, built by `cargo xtask bench crdt` with the
// wasm-release profile and `wasm-bindgen --target nodejs`) and prints one
// JSON record in the same shape as crdt-yjs.mjs:
//
//   node --expose-gc bench/drivers/crdt-wasm.mjs --pkg DIR --runs N TRACE
//
// The trace is parsed on the wasm side once, untimed; each timed run is one
// full replay (the same code as the native replay). Memory is counted by the
// module's own global allocator (peak and retained heap bytes of the first
// replay), as the native measurement does; heapUsed would not see it, since
// wasm memory lives outside the V8 heap.

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { readTraceText, parseArgs, collect, timed, summary, bulkRecord } from './trace-common.mjs';

const { runs, file, options } = parseArgs(process.argv.slice(2));
if (!options.pkg) throw new Error('--pkg DIR (the wasm-bindgen output) is required');
const require = createRequire(import.meta.url);
const wasm = require(resolve(options.pkg, 'atelier_bench_wasm.js'));

const trace = wasm.TraceHandle.parse(readTraceText(file));

collect();
const memBefore = wasm.memoryBytes();
const heapBefore = wasm.heapLiveBytes();
wasm.resetHeapPeak();
const first = timed(() => trace.replay());
const peakHeap = wasm.heapPeakBytes() - heapBefore;
const retainedHeap = wasm.heapLiveBytes() - heapBefore;
const memAfter = wasm.memoryBytes();
const times = [first.ms];
const result = first.value;
const ok = result.ok();
const diff = result.mismatch() ?? null;
const finalLen = result.finalLen();
const update = result.encodeState();
result.free();
for (let i = 1; i < runs; i++) {
  collect();
  const { ms, value } = timed(() => trace.replay());
  times.push(ms);
  value.free();
}

const load = [];
for (let i = 0; i < runs; i++) {
  load.push(timed(() => wasm.loadState(update)).ms);
}

// Bulk rows: the whole sequential trace in one transaction, the final text
// pasted in one insertion, and the load of the final text ×REPEAT.
const REPEAT = 100;
let bulkMismatch = null;
let oneTxn = null;
if (trace.kind() === 'sequential') {
  const t = [];
  for (let i = 0; i < runs; i++) {
    collect();
    const { ms, value } = timed(() => trace.replayOneTransaction());
    t.push(ms);
    if (i === 0 && !value.ok()) bulkMismatch = `one transaction: ${value.mismatch()}`;
    value.free();
  }
  oneTxn = summary(t);
}
const pasted = [];
for (let i = 0; i < runs; i++) {
  collect();
  const { ms, value } = timed(() => trace.paste());
  pasted.push(ms);
  if (i === 0 && !value.ok() && bulkMismatch === null) bulkMismatch = `paste: ${value.mismatch()}`;
  value.free();
}
const repeated = trace.repeatedState(REPEAT);
if (bulkMismatch === null && !trace.checkRepeated(repeated, REPEAT)) {
  bulkMismatch = `the ×${REPEAT} document did not load with its text`;
}
const repeatedLoad = [];
for (let i = 0; i < runs; i++) {
  collect();
  repeatedLoad.push(timed(() => wasm.loadState(repeated)).ms);
}
const bulk = bulkRecord({ mismatch: bulkMismatch, oneTxn, pasted, repeat: REPEAT, repeated, repeatedLoad });

console.log(JSON.stringify({
  ok: ok && bulk.ok,
  mismatch: diff ?? bulk.mismatch,
  kind: trace.kind(),
  ops: trace.patches(),
  finalLen,
  replayMs: summary(times),
  updateBytes: update.length,
  memory: {
    peakBytes: peakHeap,
    retainedBytes: retainedHeap,
    linearMemoryGrowthBytes: memAfter - memBefore,
    method: 'heap bytes counted by the module\'s global allocator: peak during the first replay and ' +
      'retained after it with the final document alive; linearMemoryGrowthBytes = growth of the wasm memory',
  },
  loadMs: summary(load),
  bulk,
  engine: `atelier-doc wasm32 (wasm-release), node ${process.version}`,
}));
trace.free();
