// Replays one editing trace with real Yjs (bench/node_modules/yjs) and prints
// one JSON record: replay time (median of --runs), full-state update size,
// retained heap, load time. Run by `cargo xtask bench crdt`:
//
//   node --expose-gc bench/drivers/crdt-yjs.mjs --runs N [--native-update F] [--save-update F] TRACE
//
// The text lives where atelier-doc's replay puts it: a Y.XmlText inside
// document-store > blockGroup > blockContainer > codeBlock, BlockNote's
// shape, so both sides do the same work. Each deletion and insertion is its
// own Yjs transaction, as in the model. A concurrent trace is replayed with
// one Y.Doc per agent by the algorithm of atelier_doc::trace::replay_concurrent:
// before each transaction the agent's replica receives exactly the updates of
// the other agents' transactions in the parents' history that it lacks.
// --native-update loads atelier-doc's final state into Yjs and checks its
// text; --save-update writes the Yjs final state for the reverse check.

import * as Y from 'yjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  readTraceText, parseArgs, collect, canCollect, timed, summary, median, mismatch, scalarLength, ScalarIndex, bulkRecord,
} from './trace-common.mjs';

const FRAGMENT = 'document-store';
const SEQUENTIAL_CLIENT = 1;
const GENESIS_CLIENT = 0x7fff0000;
const MERGE_CLIENT = 0x7fff0001;

const plain = (ytext) => Y.Text.prototype.toString.call(ytext);

/** Writes the block holding `start` and returns its Y.XmlText. */
function createBlock(doc, start) {
  let text;
  doc.transact(() => {
    const group = new Y.XmlElement('blockGroup');
    doc.getXmlFragment(FRAGMENT).insert(0, [group]);
    const container = new Y.XmlElement('blockContainer');
    group.insert(0, [container]);
    // UUID-shaped like the ids atelier-doc derives, so both states have the same size.
    container.setAttribute('id', '00000000-0000-4000-8000-000000000001');
    const code = new Y.XmlElement('codeBlock');
    container.insert(0, [code]);
    code.setAttribute('language', 'text');
    text = new Y.XmlText();
    code.insert(0, [text]);
    if (start) text.insert(0, start);
  });
  return text;
}

/** The block's Y.XmlText in a doc holding the structure createBlock wrote. */
function findText(doc) {
  const text = doc.getXmlFragment(FRAGMENT).get(0)?.get(0)?.get(0)?.get(0);
  if (!(text instanceof Y.XmlText)) throw new Error('the document has no trace block');
  return text;
}

function applyPatch(ytext, index, [pos, del, ins]) {
  if (del > 0) {
    const at = index.toUtf16(pos);
    ytext.delete(at, index.toUtf16(pos + del) - at);
    index.delete(pos, del);
  }
  if (ins.length > 0) {
    ytext.insert(index.toUtf16(pos), ins);
    index.insert(pos, ins);
  }
}

function replaySequential(trace) {
  const doc = new Y.Doc();
  doc.clientID = SEQUENTIAL_CLIENT;
  const ytext = createBlock(doc, trace.startContent ?? '');
  const index = new ScalarIndex(trace.startContent ?? '');
  for (const txn of trace.txns) {
    for (const patch of txn.patches) applyPatch(ytext, index, patch);
  }
  return { doc, text: plain(ytext) };
}

/** The sequential replay with every patch inside ONE Yjs transaction. */
function replayOneTransaction(trace) {
  const doc = new Y.Doc();
  doc.clientID = SEQUENTIAL_CLIENT;
  const ytext = createBlock(doc, trace.startContent ?? '');
  const index = new ScalarIndex(trace.startContent ?? '');
  doc.transact(() => {
    for (const txn of trace.txns) {
      for (const patch of txn.patches) applyPatch(ytext, index, patch);
    }
  });
  return { doc, text: plain(ytext) };
}

/** The final text pasted as one insertion into the block's empty text. */
function paste(text) {
  const doc = new Y.Doc();
  doc.clientID = SEQUENTIAL_CLIENT;
  const ytext = createBlock(doc, '');
  ytext.insert(0, text);
  return { doc, text: plain(ytext) };
}

/** A doc whose block holds `text` `times` times, written as `times` insertions. */
function repeatedDoc(text, times) {
  const doc = new Y.Doc();
  doc.clientID = SEQUENTIAL_CLIENT;
  const ytext = createBlock(doc, '');
  for (let i = 0; i < times; i++) ytext.insert(i * text.length, text);
  return doc;
}

function replayConcurrent(trace) {
  const agents = trace.numAgents;
  const genesisDoc = new Y.Doc();
  genesisDoc.clientID = GENESIS_CLIENT;
  createBlock(genesisDoc, '');
  const genesis = Y.encodeStateAsUpdate(genesisDoc);
  const replicas = [];
  for (let a = 0; a < agents; a++) {
    const doc = new Y.Doc();
    doc.clientID = a + 1;
    Y.applyUpdate(doc, genesis);
    const r = { doc, text: findText(doc), index: new ScalarIndex(), version: new Array(agents).fill(0), sink: [] };
    doc.on('update', (u) => r.sink.push(u));
    replicas.push(r);
  }
  const updates = [];
  const astral = [];
  const versions = [];
  const byAgent = Array.from({ length: agents }, () => []);
  const target = new Array(agents).fill(0);
  trace.txns.forEach((txn, i) => {
    const a = txn.agent;
    target.fill(0);
    for (const p of txn.parents) {
      const row = versions[p];
      for (let b = 0; b < agents; b++) if (row[b] > target[b]) target[b] = row[b];
    }
    if (target[a] !== byAgent[a].length) throw new Error(`txn ${i}: agent ${a} does not edit sequentially`);
    const r = replicas[a];
    const missing = [];
    for (let b = 0; b < agents; b++) {
      if (r.version[b] > target[b]) throw new Error(`txn ${i}: agent ${a} has seen more than its parents`);
      for (let k = r.version[b]; k < target[b]; k++) missing.push(byAgent[b][k]);
    }
    if (missing.length > 0) {
      missing.sort((x, y) => x - y);
      Y.transact(r.doc, () => {
        for (const m of missing) for (const u of updates[m]) Y.applyUpdate(r.doc, u);
      });
      const staysBmp = r.index.astral.length === 0 && missing.every((m) => !astral[m]);
      r.index = staysBmp ? Object.assign(new ScalarIndex(), { len: r.text.length }) : new ScalarIndex(plain(r.text));
      r.sink = [];
    }
    for (let b = 0; b < agents; b++) r.version[b] = target[b];
    for (const patch of txn.patches) applyPatch(r.text, r.index, patch);
    r.version[a] += 1;
    updates.push(r.sink);
    r.sink = [];
    astral.push(txn.patches.some(([, , ins]) => /[\u{10000}-\u{10FFFF}]/u.test(ins)));
    versions.push([...r.version]);
    byAgent[a].push(i);
  });
  const merged = new Y.Doc();
  merged.clientID = MERGE_CLIENT;
  Y.applyUpdate(merged, genesis);
  for (const r of replicas) Y.applyUpdate(merged, Y.encodeStateAsUpdate(r.doc));
  if (merged.store.pendingStructs !== null || merged.store.pendingDs !== null) {
    throw new Error('the merged replicas left updates pending');
  }
  return { doc: merged, text: plain(findText(merged)) };
}

const { runs, file, options } = parseArgs(process.argv.slice(2));
const trace = JSON.parse(readTraceText(file));
const concurrent = trace.kind === 'concurrent';
const replay = concurrent ? replayConcurrent : replaySequential;

// Every run also measures the heap its final document retains (heapUsed
// after GC, before and after the replay); the median is reported, since an
// unrelated late collection can inflate one run.
const times = [];
const retained = [];
let diff;
let update;
let finalLen;
for (let i = 0; i < runs; i++) {
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const run = timed(() => replay(trace));
  collect();
  retained.push(Math.max(0, process.memoryUsage().heapUsed - heapBefore));
  times.push(run.ms);
  if (i === 0) {
    const { doc, text } = run.value;
    diff = mismatch(trace.endContent, text);
    update = Y.encodeStateAsUpdate(doc);
    finalLen = scalarLength(text);
  }
  run.value = null;
}

const load = [];
let loadedOk = true;
for (let i = 0; i < runs; i++) {
  collect();
  const { ms, value } = timed(() => {
    const d = new Y.Doc();
    Y.applyUpdate(d, update);
    return d;
  });
  load.push(ms);
  if (i === 0) loadedOk = plain(findText(value)) === trace.endContent;
}

// Bulk rows: the whole sequential trace in one transaction, the final text
// pasted in one insertion, and the load of the final text ×REPEAT.
const REPEAT = 100;
let bulkMismatch = null;
let oneTxn = null;
if (!concurrent) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    collect();
    const { ms, value } = timed(() => replayOneTransaction(trace));
    t.push(ms);
    if (i === 0) {
      const d = mismatch(trace.endContent, value.text);
      if (d !== null) bulkMismatch = `one transaction: ${d}`;
    }
  }
  oneTxn = summary(t);
}
const pasted = [];
for (let i = 0; i < runs; i++) {
  collect();
  const { ms, value } = timed(() => paste(trace.endContent));
  pasted.push(ms);
  if (i === 0 && bulkMismatch === null && value.text !== trace.endContent) bulkMismatch = 'paste: texts differ';
}
const repeated = Y.encodeStateAsUpdate(repeatedDoc(trace.endContent, REPEAT));
const repeatedLoad = [];
for (let i = 0; i < runs; i++) {
  collect();
  const { ms, value } = timed(() => {
    const d = new Y.Doc();
    Y.applyUpdate(d, repeated);
    return d;
  });
  repeatedLoad.push(ms);
  if (i === 0 && bulkMismatch === null) {
    const text = plain(findText(value));
    if (text.length !== trace.endContent.length * REPEAT || !text.startsWith(trace.endContent)) {
      bulkMismatch = `the ×${REPEAT} document did not load with its text`;
    }
  }
}
const bulk = bulkRecord({ mismatch: bulkMismatch, oneTxn, pasted, repeat: REPEAT, repeated, repeatedLoad });

let nativeInYjs = null;
if (options['native-update']) {
  const d = new Y.Doc();
  Y.applyUpdate(d, new Uint8Array(readFileSync(options['native-update'])));
  nativeInYjs = {
    ok: plain(findText(d)) === trace.endContent && d.store.pendingStructs === null && d.store.pendingDs === null,
  };
}
if (options['save-update']) writeFileSync(options['save-update'], update);

const require = createRequire(import.meta.url);
const yjsVersion = require('yjs/package.json').version;
console.log(JSON.stringify({
  ok: diff === null && loadedOk && bulk.ok,
  mismatch: diff ?? (loadedOk ? null : 'the loaded state differs from endContent') ?? bulk.mismatch,
  kind: concurrent ? 'concurrent' : 'sequential',
  ops: trace.txns.reduce((n, t) => n + t.patches.length, 0),
  txns: trace.txns.length,
  finalLen,
  replayMs: summary(times),
  updateBytes: update.length,
  memory: canCollect()
    ? {
        peakBytes: null,
        retainedBytes: median(retained),
        retainedRuns: retained,
        method: 'V8 heapUsed after GC with the final document alive, minus before the replay (--expose-gc); median of the runs',
      }
    : { peakBytes: null, retainedBytes: null, method: 'unavailable (run node with --expose-gc)' },
  loadMs: summary(load),
  bulk,
  nativeInYjs,
  engine: `yjs ${yjsVersion}, node ${process.version}`,
}));
