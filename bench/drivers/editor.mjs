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
//  - time from navigation to an editable, synced document holding it, on
//    loopback and on an emulated slow 4G network (THROTTLE);
//  - the same latencies and load times for BlockNote (React, the Mantine
//    view, Yjs, the Hocuspocus provider, bundled for production: the page
//    in BLOCKNOTE_WWW) holding the same paragraphs in a real Hocuspocus
//    server (peers/hocuspocus-blocknote-bench-server.mjs), in the same
//    browsers, typed into at the same places.
// Writes a JSON file (path as argv[2]) with p50/p95/p99 per case.
//
// Env: ATELIER_BIN (server binary), ATELIER_WWW (the served directory:
// www/ and these pages, assembled by xtask), BLOCKNOTE_WWW (the BlockNote
// page, built by xtask), CHROMIUM, ATELIER_TRACES (trace dir),
// ATELIER_BENCH_KEYS (keystrokes per position, default 700 → 2,100 per size),
// ATELIER_BENCH_SIZES (comma list of multipliers, default "1,10"),
// ATELIER_BENCH_MODES (default "unpaced,display").
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { CHROMIUM, FLAGS, missing, root, startAtelier } from "../../e2e/support/harness.mjs";

const out = process.argv[2] || path.join(root, "bench/results/editor.json");
const KEYS = Number(process.env.ATELIER_BENCH_KEYS || 700);
const SIZES = (process.env.ATELIER_BENCH_SIZES || "1,10").split(",").map(Number);
const traces = process.env.ATELIER_TRACES || path.join(root, "../shared/data/editing-traces");
const tracePath = path.join(traces, "sequential/automerge-paper.json.gz");

const blocknoteWww = process.env.BLOCKNOTE_WWW && path.resolve(process.env.BLOCKNOTE_WWW);
const why = missing(path.join(root, "bench/node_modules")) || (existsSync(tracePath) ? null : `no trace at ${tracePath}`)
  || (blocknoteWww && existsSync(path.join(blocknoteWww, "main.js")) ? null : "no BlockNote page (BLOCKNOTE_WWW); run it through cargo xtask bench editor");
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

// The editing surface of each editor: Atelier's, and BlockNote's
// ProseMirror view.
const SURFACE = { atelier: ".atelier-surface", blocknote: ".ProseMirror" };

/** Puts the caret at the start, middle or end of the surface's (`sel`) text. */
async function placeCaret(page, where, sel = SURFACE.atelier) {
  await page.evaluate(([where, surfaceSel]) => {
    const surface = document.querySelector(surfaceSel);
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
  }, [where, sel]);
}

async function measureTyping(page, where, keys, sel = SURFACE.atelier) {
  await placeCaret(page, where, sel);
  await page.evaluate((sel) => {
    window.__frame = [];
    window.__painted = [];
    window.__work = [];
    if (!window.__workHooked) {
      window.__workHooked = true;
      let started = 0;
      window.addEventListener("beforeinput", () => { started = performance.now(); }, true);
      window.addEventListener("beforeinput", () => { window.__work.push(performance.now() - started); }, false);
    }
    const surface = document.querySelector(sel);
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
  }, sel);
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

// The slow 4G profile of the throttled load, as Chromium's DevTools
// network emulation takes it (Network.emulateNetworkConditions): 150 ms
// added to every request's round trip, 1.6 Mbit/s down, 750 kbit/s up.
const THROTTLE = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
// How long a page may take to become editable before that is the figure.
const LOAD_DEADLINE_MS = Number(process.env.ATELIER_BENCH_LOAD_DEADLINE_MS || 120_000);

/**
 * Opens `url` in a fresh context of `browser` (nothing cached), on the
 * emulated slow 4G network when `throttled`, and times navigation to an
 * editable, synced document, the same test for both editors: the editor
 * says it is synced with its server (`kind`), its surface is
 * contenteditable, the text near its end holds `tail` (the end of the
 * document's last paragraph), and a key typed at its end shows in the
 * surface. Returns `{ ms, page, ctx }`, or `{ ms: null, timed_out_after_ms }`
 * when that did not happen within LOAD_DEADLINE_MS.
 */
async function timeToEditable(browser, url, kind, tail, throttled) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  if (throttled) {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", THROTTLE);
  }
  const sel = SURFACE[kind];
  const started = Date.now();
  const left = () => Math.max(1, LOAD_DEADLINE_MS - (Date.now() - started));
  try {
    await page.goto(url, { timeout: left() });
    await page.waitForFunction(([kind, sel, tail]) => {
      const synced = kind === "atelier" ? window.__status === "synced" : window.bnSynced === true;
      const el = document.querySelector(sel);
      if (!synced || !el?.isContentEditable) return false;
      // The last characters of the surface, read backwards from its last
      // text node (the whole text of 1 M characters would cost more than
      // the wait).
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      let last = el;
      while (last.lastChild) last = last.lastChild;
      walker.currentNode = last;
      let end = last.nodeType === Node.TEXT_NODE ? last.data : "";
      for (let n = walker.previousNode(); n && end.length < tail.length + 20_000; n = walker.previousNode()) end = n.data + end;
      return end.includes(tail);
    }, [kind, sel, tail], { timeout: left(), polling: 20 });
    await placeCaret(page, "end", sel);
    const before = await page.evaluate((sel) => document.querySelector(sel).textContent.length, sel);
    await page.keyboard.press("z");
    await page.waitForFunction(([sel, n]) => document.querySelector(sel).textContent.length > n, [sel, before], { timeout: left(), polling: 20 });
    const ms = Date.now() - started;
    if (throttled) await (await ctx.newCDPSession(page)).send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    return { ms, page, ctx };
  } catch (e) {
    if (Date.now() - started < LOAD_DEADLINE_MS - 1_000) throw e;
    await ctx.close();
    return { ms: null, timed_out_after_ms: LOAD_DEADLINE_MS };
  }
}

/** Starts the Hocuspocus server of BlockNote documents (rooms from `dir`); `{ port, build(name), stop() }`. */
async function startHocuspocus(dir) {
  const child = spawn(process.execPath, [path.join(root, "peers/hocuspocus-blocknote-bench-server.mjs"), "0", dir], {
    cwd: path.join(root, "peers"), stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on("line", (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the Hocuspocus server did not answer")), 120_000);
    waiting.push((v) => { clearTimeout(timer); resolve(v); });
  });
  const { port } = await next();
  return {
    port,
    /** Builds room `name`'s document now, so no browser's load waits for it. */
    async build(name) { child.stdin.write(name + "\n"); return next(); },
    stop: () => new Promise((r) => { child.once("exit", r); child.stdin.end(); }),
  };
}

/** Sorted-percentile summary of the BlockNote typing, without the Atelier-only editor work. */
function withoutWork(t) {
  delete t.work_p50_ms;
  delete t.work_p99_ms;
  return t;
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
// BlockNote's page, served by the same server program from its own
// directory; without a Content-Security-Policy, since BlockNote's page
// talks to Hocuspocus on another port and its view inserts style elements.
mkdirSync(path.join(dir, "blocknote"));
const bnServer = await startAtelier(path.join(dir, "blocknote"), "127.0.0.1:0", ["--csp", ""], blocknoteWww);
const hocuspocus = await startHocuspocus(dir);
const { chromium } = await import("playwright-core");
const browsers = {};
for (const m of modes) browsers[m] = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...MODES[m]] });
const results = {
  generated: new Date().toISOString(), keys_per_position: KEYS, modes, cases: [],
  throttled_load: { profile: { latency_ms: THROTTLE.latency, download_kbit_s: 1600, upload_kbit_s: 750 }, deadline_ms: LOAD_DEADLINE_MS, cases: [] },
};
try {
  for (const mult of SIZES) {
    const text = Array.from({ length: mult }, () => base).join("\n\n");
    // The end of the last paragraph, which both editors show as it is.
    const tail = base.trimEnd().split("\n").at(-1).trim().slice(-40);
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
    // BlockNote's room: the same paragraphs, built in Hocuspocus before
    // any browser asks for them.
    const room = `bn-${mult}`;
    writeFileSync(path.join(dir, `${room}.txt`), text);
    await hocuspocus.build(room);
    const bnUrl = `http://${bnServer.addr}/index.html?server=ws://127.0.0.1:${hocuspocus.port}&doc=${room}`;
    // Navigation to an editable, synced document on the emulated slow 4G
    // network, in the first mode's browser.
    const slow = {};
    for (const [kind, u] of [["atelier", url], ["blocknote", bnUrl]]) {
      const r = await timeToEditable(browsers[modes[0]], u, kind, tail, true);
      await r.ctx?.close();
      slow[kind] = r.ms === null ? { ms: null, timed_out_after_ms: r.timed_out_after_ms } : { ms: r.ms };
    }
    results.throttled_load.cases.push({ size: `${mult}x automerge-paper`, chars, atelier: slow.atelier, blocknote: slow.blocknote });
    console.log(JSON.stringify(results.throttled_load.cases.at(-1)));
    for (const mode of modes) {
      const browser = browsers[mode];
      // Reader: a fresh page; time from navigation to an editable, synced,
      // rendered document, then typing.
      const loaded = await timeToEditable(browser, url, "atelier", tail, false);
      if (loaded.ms === null) throw new Error(`Atelier did not become editable within ${LOAD_DEADLINE_MS} ms`);
      const page = loaded.page;
      const typing = {};
      for (const where of ["start", "middle", "end"]) typing[where] = await measureTyping(page, where, KEYS);
      await loaded.ctx.close();
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
      const floor = withoutWork(await measureTyping(native, "middle", KEYS));
      await nctx.close();
      // BlockNote: the same test of editability, the same keystrokes at
      // the same places (its work per keystroke is not comparable: the
      // browser edits its DOM before ProseMirror reads the change back).
      const bnLoaded = await timeToEditable(browser, bnUrl, "blocknote", tail, false);
      const blocknote = { load_to_editable_ms: bnLoaded.ms };
      if (bnLoaded.ms === null) {
        blocknote.timed_out_after_ms = bnLoaded.timed_out_after_ms;
      } else {
        blocknote.chars = await bnLoaded.page.evaluate((sel) => document.querySelector(sel).textContent.length - 1, SURFACE.blocknote);
        blocknote.typing = {};
        for (const where of ["start", "middle", "end"]) {
          blocknote.typing[where] = withoutWork(await measureTyping(bnLoaded.page, where, KEYS, SURFACE.blocknote));
        }
        await bnLoaded.ctx.close();
      }
      results.cases.push({ mode, size: `${mult}x automerge-paper`, chars, load_to_editable_ms: loaded.ms, typing, native_contenteditable_floor: floor, blocknote });
      console.log(JSON.stringify(results.cases.at(-1)));
    }
  }
} finally {
  for (const b of Object.values(browsers)) await b.close();
  await server.stop();
  await bnServer.stop();
  await hocuspocus.stop();
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
console.log(`wrote ${out}`);
