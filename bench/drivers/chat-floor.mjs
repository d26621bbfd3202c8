// The floor of opening a chat of 10,000 messages, under Node: what any
// client must do with the same bytes before it can paint anything, timed
// apart from the browser. Run by `cargo xtask bench chat` after the browser
// measures:
//
//   node bench/drivers/chat-floor.mjs PKG_DIR OUT.json
//
// PKG_DIR holds `atelier_bench_wasm.js` (crates/atelier-bench-wasm built for
// Node, as `bench crdt` builds it). The chat is the one chat-bench.mjs
// seeds, as one update (what the server's sync answer carries). Each figure
// is the median of RUNS rounds:
// - yjs: `Y.applyUpdate` into a fresh Y.Doc (what a Yjs client does);
// - check: the structural check every update from a socket goes through
//   (`atelier_sync::update_v1::check_update_v1`);
// - apply: yrs decodes and applies it to a fresh document;
// - apply_and_read: the same with the chat panel's observer reading every
//   inserted message (`atelier_doc::chat::Chat::observe`).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import path from "node:path";
import * as Y from "yjs";
import { seedUpdates } from "./chat-seed.mjs";

const [pkgDir, out] = process.argv.slice(2);
if (!pkgDir || !out) {
  console.error("usage: node bench/drivers/chat-floor.mjs PKG_DIR OUT.json");
  process.exit(2);
}
const wasm = createRequire(import.meta.url)(path.resolve(pkgDir, "atelier_bench_wasm.js"));
const MESSAGES = Number(process.env.ATELIER_BENCH_MESSAGES || 10_000);
const RUNS = Number(process.env.ATELIER_BENCH_FLOOR_RUNS || 7);

const update = Y.mergeUpdates(seedUpdates(MESSAGES, 2_500));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] * 10) / 10;
};
const time = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const runs = { yjs: [], check: [], apply: [], apply_and_read: [] };
for (let i = 0; i < RUNS; i++) {
  runs.yjs.push(time(() => Y.applyUpdate(new Y.Doc(), update)));
  runs.check.push(time(() => wasm.chatCheck(update)));
  runs.apply.push(time(() => wasm.chatLoad(update, false)));
  let read = 0;
  runs.apply_and_read.push(time(() => { read = wasm.chatLoad(update, true); }));
  if (read !== MESSAGES) throw new Error(`the observer read ${read} messages, not ${MESSAGES}`);
}
const result = {
  messages: MESSAGES,
  update_bytes: update.length,
  runs: RUNS,
  median_ms: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])),
  all_ms: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((x) => Math.round(x * 10) / 10)])),
};
writeFileSync(out, JSON.stringify(result, null, 1));
console.log("chat floor:", JSON.stringify(result.median_ms));
