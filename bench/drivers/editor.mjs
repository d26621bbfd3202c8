// Editor benchmark (driven by `cargo xtask bench editor`): in headless
// Chromium, measures
//  - keydown-to-frame latency: from the keydown event's timestamp to the
//    start of the animation frame that shows the editor's DOM change, per
//    keystroke, at the start, middle and end of a document of the final
//    automerge-paper text (~105 k characters) and of one ten times that;
//    and keydown-to-painted: until that frame's style, layout and paint are
//    done (a task posted from the frame's callback). Both with Chromium's
//    frames unpaced and paced at 60 Hz (see MODES);
//  - the editor's own work per keystroke: from the start of `beforeinput`
//    dispatch to its end, microtasks included (model transaction, render,
//    caret, outgoing sync);
//  - the same keydown-to-frame latency in a plain `contenteditable` holding
//    the same text with no script at all: the browser's own floor under this
//    measurement (frame scheduling), to read the editor's figures against;
//  - time from navigation to an editable, synced document holding it.
// Writes a JSON file (path as argv[2]) with p50/p95/p99 per case.
//
// Env: ATELIER_BIN (server binary), ATELIER_WWW (the served directory:
// www/ and these pages, assembled by xtask), CHROMIUM, ATELIER_TRACES (trace dir),
// ATELIER_BENCH_KEYS (keystrokes per position, default 700 → 2,100 per size),
// ATELIER_BENCH_SIZES (comma list of multipliers, default "1,10"),
// ATELIER_BENCH_MODES (default "unpaced,display").
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { CHROMIUM, FLAGS, missing, root, startAtelier } from "../../e2e/support/harness.mjs";

const out = process.argv[2] || path.join(root, "bench/results/editor.json");
const KEYS = Number(process.env.ATELIER_BENCH_KEYS || 700);
const SIZES = (process.env.ATELIER_BENCH_SIZES || "1,10").split(",").map(Number);
const traces = process.env.ATELIER_TRACES || path.join(root, "../shared/data/editing-traces");
const tracePath = path.join(traces, "sequential/automerge-paper.json.gz");

const why = missing(path.join(root, "bench/node_modules")) || (existsSync(tracePath) ? null : `no trace at ${tracePath}`);
if (why) {
  console.log(`SKIPPED: bench editor (${why})`);
  process.exit(0);
}
const base = JSON.parse(gunzipSync(readFileSync(tracePath)).toString("utf8")).endContent;

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 100) / 100;
}

/** Waits for `fn` (in the page) to be truthy, with a deadline. */
async function until(page, fn, arg, what, ms = 600_000) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 20 });
  } catch (e) {
    const seen = await page.evaluate(() => ({ status: window.__status, len: window.__editor?.getMarkdown?.().length }));
    throw new Error(`timeout waiting for ${what}; saw ${JSON.stringify(seen)}: ${e.message}`);
  }
}

/** Puts the caret at the start, middle or end of the surface's text. */
async function placeCaret(page, where) {
  await page.evaluate((where) => {
    const surface = document.querySelector(".atelier-surface");
    const walker = document.createTreeWalker(surface, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement?.closest("[contenteditable=false]") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const texts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.length > 0) texts.push(n);
    const node = where === "start" ? texts[0] : where === "end" ? texts[texts.length - 1] : texts[Math.floor(texts.length / 2)];
    const offset = where === "start" ? 0 : where === "end" ? node.data.length : Math.floor(node.data.length / 2);
    surface.focus();
    const sel = document.getSelection();
    sel.collapse(node, offset);
    node.parentElement.scrollIntoView({ block: "center" });
  }, where);
}

async function measureTyping(page, where, keys) {
  await placeCaret(page, where);
  await page.evaluate(() => {
    window.__frame = [];
    window.__painted = [];
    window.__work = [];
    if (!window.__workHooked) {
      window.__workHooked = true;
      let started = 0;
      window.addEventListener("beforeinput", () => { started = performance.now(); }, true);
      window.addEventListener("beforeinput", () => { window.__work.push(performance.now() - started); }, false);
    }
    const surface = document.querySelector(".atelier-surface");
    // From the keydown's own timestamp (when the browser took the input).
    let stamp = null;
    surface.addEventListener("keydown", (e) => { stamp = e.timeStamp; }, true);
    if (window.__obs) window.__obs.disconnect();
    window.__obs = new MutationObserver(() => {
      if (stamp === null) return;
      const start = stamp;
      stamp = null;
      requestAnimationFrame(() => {
        // The frame that shows the change starts here; a task posted now
        // runs once that frame's style, layout and paint are done.
        const frame = performance.now();
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          window.__painted.push(performance.now() - start);
          window.__frame.push(frame - start);
        };
        ch.port2.postMessage(0);
      });
    });
    window.__obs.observe(surface, { subtree: true, childList: true, characterData: true });
  });
  const alphabet = "abcdefghijklmnopqrstuvwxyz ";
  for (let i = 0; i < keys; i++) {
    await page.keyboard.press(alphabet[i % alphabet.length] === " " ? "Space" : alphabet[i % alphabet.length]);
    await until(page, (n) => window.__painted.length >= n, i + 1, `paint of keystroke ${i + 1} (${where})`, 30_000);
  }
  const sorted = async (name) => (await page.evaluate((n) => window[n].slice(), name)).sort((a, b) => a - b);
  const frame = await sorted("__frame");
  const painted = await sorted("__painted");
  const work = await sorted("__work");
  return {
    keys: frame.length,
    p50_ms: pct(frame, 50), p95_ms: pct(frame, 95), p99_ms: pct(frame, 99), max_ms: pct(frame, 100),
    painted_p50_ms: pct(painted, 50), painted_p95_ms: pct(painted, 95), painted_p99_ms: pct(painted, 99),
    // Empty for the plain contenteditable (no handler to time).
    work_p50_ms: pct(work, 50), work_p99_ms: pct(work, 99),
  };
}

// Two ways to run Chromium: "unpaced" draws a frame as soon as there is
// something to draw (no wait for a display refresh: what the editor and the
// browser add, the latency the targets are about); "display" paces frames
// at 60 Hz like a monitor, so each keystroke also waits for the next
// refresh (0–16.7 ms, the same for any page).
const MODES = {
  unpaced: ["--disable-frame-rate-limit", "--disable-gpu-vsync"],
  display: [],
};
const modes = (process.env.ATELIER_BENCH_MODES || "unpaced,display").split(",").filter((m) => m in MODES);

const dir = mkdtempSync(path.join(tmpdir(), "atelier-bench-"));
const server = await startAtelier(dir);
const { chromium } = await import("playwright-core");
const browsers = {};
for (const m of modes) browsers[m] = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...MODES[m]] });
const results = { generated: new Date().toISOString(), keys_per_position: KEYS, modes, cases: [] };
try {
  for (const mult of SIZES) {
    const text = Array.from({ length: mult }, () => base).join("\n\n");
    const doc = `bench-${mult}-${Date.now()}`;
    const url = `http://${server.addr}/bench/editor.html?server=ws://${server.addr}/sync&doc=${doc}`;
    // Writer: fills the document through the element's API and waits until
    // the server acknowledged it.
    const writerCtx = await browsers[modes[0]].newContext();
    const writer = await writerCtx.newPage();
    await writer.goto(url);
    await until(writer, () => window.__status === "synced", null, "writer sync");
    await writer.evaluate((t) => window.__editor.setMarkdown(t), text);
    await until(writer, () => window.__editor.unsyncedChanges === 0, null, "server acknowledgement of the document");
    const chars = await writer.evaluate(() => document.querySelector(".atelier-surface").textContent.length);
    await writerCtx.close();
    for (const mode of modes) {
      const browser = browsers[mode];
      // Reader: a fresh page; time from navigation to an editable, synced,
      // rendered document.
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const started = Date.now();
      await page.goto(url);
      await until(page, (n) => window.__status === "synced"
        && document.querySelector(".atelier-surface")?.isContentEditable
        && document.querySelector(".atelier-surface").textContent.length >= n, chars, "an editable synced document");
      const loadMs = Date.now() - started;
      const typing = {};
      for (const where of ["start", "middle", "end"]) typing[where] = await measureTyping(page, where, KEYS);
      await ctx.close();
      // The floor: a plain contenteditable with the same paragraphs, typed
      // into natively, measured the same way.
      const nctx = await browser.newContext();
      const native = await nctx.newPage();
      await native.goto(`http://${server.addr}/bench/editor.html`);
      await native.evaluate((t) => {
        const main = document.querySelector("main");
        main.replaceChildren();
        const d = document.createElement("div");
        d.className = "atelier-surface";
        d.contentEditable = "true";
        for (const para of t.split("\n\n")) {
          const p = document.createElement("p");
          p.textContent = para;
          d.appendChild(p);
        }
        main.appendChild(d);
      }, text);
      const floor = await measureTyping(native, "middle", KEYS);
      delete floor.work_p50_ms;
      delete floor.work_p99_ms;
      await nctx.close();
      results.cases.push({ mode, size: `${mult}x automerge-paper`, chars, load_to_editable_ms: loadMs, typing, native_contenteditable_floor: floor });
      console.log(JSON.stringify(results.cases.at(-1)));
    }
  }
} finally {
  for (const b of Object.values(browsers)) await b.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
console.log(`wrote ${out}`);
