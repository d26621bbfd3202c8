// Chat benchmark (driven by `cargo xtask bench chat`, issue 12): in
// headless Chromium against `atelier serve` on loopback, with a chat of
// 10,000 messages, measures
//  - open: from inserting `<atelier-chat>` (bundle and wasm already
//    loaded: bench/pages/chat.html, served at /bench/chat.html) to the end
//    of the frame that paints the newest message, synced with the server:
//    the socket, the sync of the whole chat, building the timeline and
//    rendering its window. Cold (a fresh browser profile: everything comes
//    from the server) and again after a reload (the IndexedDB copy, then
//    the sync of what changed);
//    navigation-to-painted is reported beside it (code loading included);
//  - scroll: the interval between animation frames while the log scrolls
//    200 px per frame, up through 1,000 frames' worth of never-seen rows
//    and back down (each frame: the scroll, the virtual window's render,
//    style, layout, paint);
//  - delivery: from `send()` on one page to the end of the frame that
//    paints the message on another page (both on the 10,000-message chat,
//    through the server), one message at a time.
// Chromium draws frames unpaced (`--disable-frame-rate-limit
// --disable-gpu-vsync`), as in the editor bench: a frame's interval is
// what the page and the browser cost, not a wait for a 60 Hz display.
// The chat is seeded with updates built here with the yjs package (the
// layout of crates/atelier-doc/src/chat.rs), 2,500 messages each (the
// server's HTTP body limit is 2 MB), POSTed to `/api/docs/NAME:chat/update`.
// Writes a JSON file (path as argv[2]). Timings are measured, never
// judged: the script fails only when something does not work.
//
// Env: ATELIER_BIN (server binary), ATELIER_WWW (the served directory:
// www/ and these pages, assembled by xtask), CHROMIUM, ATELIER_BENCH_MESSAGES
// (default 10000), ATELIER_BENCH_OPENS (cold opens, default 5),
// ATELIER_BENCH_SENDS (deliveries, default 200), ATELIER_BENCH_FRAMES
// (scroll frames each way, default 500).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { seedUpdates } from "./chat-seed.mjs";
import { BIN, CHROMIUM, FLAGS, WWW, missing, root, startAtelier } from "../../e2e/support/harness.mjs";

const out = process.argv[2] || path.join(root, "bench/results/chat.json");
const MESSAGES = Number(process.env.ATELIER_BENCH_MESSAGES || 10_000);
const OPENS = Number(process.env.ATELIER_BENCH_OPENS || 5);
const SENDS = Number(process.env.ATELIER_BENCH_SENDS || 200);
const FRAMES = Number(process.env.ATELIER_BENCH_FRAMES || 500);
const SCROLL_STEP = 200;
const TARGETS = { open_ms: 150, scroll_frame_p99_ms: 16, delivery_p99_ms: 100 };
const UNPACED = ["--disable-frame-rate-limit", "--disable-gpu-vsync"];
/** Deadline of one wait (a cold open of 10,000 messages on a busy machine included). */
const WAIT_MS = 120_000;

const why = missing(path.join(root, "bench/node_modules")) || (existsSync(path.join(WWW, "pkg/atelier-suite.js")) ? null : "no www/pkg/atelier-suite.js; run cargo xtask dist");
if (why) {
  console.log(`SKIPPED: bench chat (${why})`);
  process.exit(0);
}

function pct(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 100) / 100;
}
const stats = (values) => ({
  n: values.length, p50_ms: pct(values, 50), p95_ms: pct(values, 95), p99_ms: pct(values, 99), max_ms: pct(values, 100),
});
const round = (x) => Math.round(x * 100) / 100;


/** Waits for `fn` (in the page) to be truthy, with a deadline; says what it saw. */
async function until(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 20 });
  } catch (e) {
    const seen = await page.evaluate(() => {
      const chat = document.querySelector("#bench atelier-chat");
      return { status: chat?.status, rows: chat?.querySelectorAll(".atelier-chat-message").length };
    }).catch(() => null);
    throw new Error(`timeout waiting for ${what}; saw ${JSON.stringify(seen)}: ${e.message.split("\n")[0]}`);
  }
}

/**
 * In the page: inserts `<atelier-chat>` for `doc` and resolves, at the end
 * of the frame that paints the newest message synced, with the times from
 * insertion and from navigation.
 */
function openChat({ doc, server, last, user }) {
  const chat = document.createElement("atelier-chat");
  for (const [k, v] of Object.entries({ doc, server, "user-id": user, "user-name": user, lang: "en" })) chat.setAttribute(k, v);
  chat.style.display = "block";
  chat.style.height = "640px";
  chat.style.width = "420px";
  const shown = () => [...chat.querySelectorAll(".atelier-chat-body")].some((b) => b.textContent.startsWith(last));
  return new Promise((resolve) => {
    const t0 = performance.now();
    // The first frames (from insertion) with the chat synced, and with the
    // newest message on screen whatever the status (after a reload, the
    // IndexedDB copy shows before the sync). Long animation frames are
    // kept to say where the time went.
    let synced = null;
    let content = null;
    const frame = () => {
      // Not the callback's argument (the frame's start, which can come
      // before a long task of the same frame): now, as the frame renders.
      const at = performance.now() - t0;
      if (synced === null && chat.status === "synced") synced = at;
      const here = shown();
      if (content === null && here) content = at;
      if (synced === null || !here) { requestAnimationFrame(frame); return; }
      // This frame shows it synced; a task posted now runs once its style,
      // layout and paint are done.
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        const t = performance.now();
        resolve({
          open_ms: t - t0, navigation_ms: t, synced_frame_ms: synced, newest_shown_frame_ms: content, 
          rows: chat.querySelectorAll(".atelier-chat-message").length,
        });
      };
      ch.port2.postMessage(0);
    };
    // When the newest message is painted, from the Element Timing API: each
    // element that shows it gets `elementtiming` before its first paint.
    window.__painted = [];
    window.__loaf = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__loaf.push({ start: Math.round(e.startTime - t0), duration: Math.round(e.duration), render: Math.round(e.renderStart - t0), layout: Math.round(e.styleAndLayoutStart - t0), blocking: Math.round(e.blockingDuration), scripts: e.scripts.map((x) => `${x.invoker}:${Math.round(x.duration)}`).slice(0, 4) });
      }
    }).observe({ type: "long-animation-frame" });
    new MutationObserver(() => {
      for (const b of chat.querySelectorAll(".atelier-chat-body:not([elementtiming])")) {
        if (b.textContent.startsWith(last)) b.setAttribute("elementtiming", "newest");
      }
    }).observe(chat, { subtree: true, childList: true });
    document.getElementById("bench").replaceChildren(chat);
    requestAnimationFrame(frame);
  });
}

/** In the page: scrolls the log `step` px per frame, `frames` frames up then down; the frame intervals. */
function scrollFrames({ frames, step }) {
  const log = document.querySelector("#bench atelier-chat [role=log]");
  return new Promise((resolve) => {
    const intervals = [];
    let last = null;
    let i = 0;
    const start = log.scrollTop;
    const tick = (now) => {
      if (last !== null) intervals.push(now - last);
      last = now;
      if (i === 2 * frames) {
        resolve({ intervals, from: start, top: log.scrollTop, height: log.scrollHeight, rows: document.querySelectorAll("#bench .atelier-chat-message").length });
        return;
      }
      log.scrollTop += i < frames ? -step : step;
      i += 1;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/** In the receiving page: records when each `bench-N` message is painted (epoch ms). */
function watchDeliveries() {
  window.__painted = {};
  const chat = document.querySelector("#bench atelier-chat");
  new MutationObserver(() => {
    for (const b of chat.querySelectorAll(".atelier-chat-body")) {
      const m = /^bench-(\d+) /.exec(b.textContent);
      if (!m || m[1] in window.__painted) continue;
      window.__painted[m[1]] = null;
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => { window.__painted[m[1]] = performance.timeOrigin + performance.now(); };
        ch.port2.postMessage(0);
      });
    }
  }).observe(chat, { subtree: true, childList: true, characterData: true });
}

const load = () => os.loadavg()[0];
const dir = mkdtempSync(path.join(tmpdir(), "atelier-bench-chat-"));
const loadBefore = load();
const server = await startAtelier(dir, "127.0.0.1:0", ["--ai-model-path", "none"]);
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...UNPACED] });
const doc = `bench-chat-${Date.now()}`;
const results = {
  generated: new Date().toISOString(),
  messages: MESSAGES,
  targets: TARGETS,
  mode: "unpaced frames (--disable-frame-rate-limit --disable-gpu-vsync)",
};
try {
  // Seed.
  let t = performance.now();
  const updates = seedUpdates(MESSAGES, 2_500);
  const built = performance.now() - t;
  t = performance.now();
  for (const update of updates) {
    const res = await fetch(`http://${server.addr}/api/docs/${encodeURIComponent(`${doc}:chat`)}/update`, {
      method: "POST", headers: { "content-type": "application/octet-stream" }, body: update,
    });
    if (res.status !== 204) throw new Error(`seeding answered ${res.status}: ${await res.text()}`);
  }
  results.seed = {
    updates: updates.length, update_bytes: updates.reduce((n, u) => n + u.length, 0),
    built_ms: round(built), posted_ms: round(performance.now() - t),
  };
  console.log(JSON.stringify(results.seed));

  const url = `http://${server.addr}/bench/chat.html`;
  const last = `#${MESSAGES - 1} `;
  const args = (user) => ({ doc, server: `ws://${server.addr}/sync`, last, user });
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url);
    await until(page, () => window.__benchReady === true, null, "the bundle loaded");
    return { context, page, errors };
  };

  // Open, cold (fresh profiles) and after a reload (IndexedDB copy).
  const cold = [];
  const warm = [];
  for (let i = 0; i < OPENS; i++) {
    const p = await newPage();
    cold.push(await p.page.evaluate(openChat, args(`reader${i}`)));
    console.log(`open cold ${i}: ${JSON.stringify(cold.at(-1))}`);
    // Let the IndexedDB copy settle before the reload.
    await until(p.page, () => document.querySelector("#bench atelier-chat")?.persistence === "saved", null, "the IndexedDB copy saved");
    cold.at(-1).long_frames = await p.page.evaluate(() => window.__loaf);
    await p.page.reload();
    await until(p.page, () => window.__benchReady === true, null, "the bundle loaded again");
    warm.push(await p.page.evaluate(openChat, args(`reader${i}`)));
    console.log(`open warm ${i}: ${JSON.stringify(warm.at(-1))}`);
    if (p.errors.length) console.log(`page errors: ${p.errors.join("\n")}`);
    await p.context.close();
  }
  const median = (xs) => pct(xs, 50);
  results.open = {
    runs: OPENS,
    cold_open_ms: cold.map((r) => round(r.open_ms)),
    cold_open_median_ms: median(cold.map((r) => r.open_ms)),
    cold_navigation_median_ms: median(cold.map((r) => r.navigation_ms)),
    cold_long_frames: cold.map((r) => r.long_frames),
    reload_open_ms: warm.map((r) => round(r.open_ms)),
    reload_open_median_ms: median(warm.map((r) => r.open_ms)),
    reload_newest_shown_frame_median_ms: median(warm.map((r) => r.newest_shown_frame_ms)),
    rendered_message_nodes: cold.map((r) => r.rows),
  };

  // Scroll, then deliveries, on two fresh pages.
  const a = await newPage();
  const b = await newPage();
  await a.page.evaluate(openChat, args("sender"));
  await b.page.evaluate(openChat, args("receiver"));
  const scroll = await a.page.evaluate(scrollFrames, { frames: FRAMES, step: SCROLL_STEP });
  results.scroll = {
    step_px: SCROLL_STEP, frames_each_way: FRAMES, ...stats(scroll.intervals),
    over_16ms: scroll.intervals.filter((x) => x > 16).length,
    scrolled_from_px: scroll.from, log_height_px: scroll.height, rendered_message_nodes: scroll.rows,
  };
  console.log(`scroll: ${JSON.stringify(results.scroll)}`);
  // Back at the bottom, so new messages show on both.
  await a.page.evaluate(() => { const l = document.querySelector("#bench atelier-chat [role=log]"); l.scrollTop = l.scrollHeight; });

  await b.page.evaluate(watchDeliveries);
  const deliveries = [];
  for (let i = 0; i < SENDS; i++) {
    const sent = await a.page.evaluate(async (i) => {
      const t = performance.timeOrigin + performance.now();
      await document.querySelector("#bench atelier-chat").send(`bench-${i} livraison`);
      return t;
    }, i);
    await until(b.page, (i) => typeof window.__painted[i] === "number", String(i), `delivery ${i}`);
    deliveries.push((await b.page.evaluate((i) => window.__painted[i], String(i))) - sent);
  }
  results.delivery = stats(deliveries);
  console.log(`delivery: ${JSON.stringify(results.delivery)}`);
  for (const p of [a, b]) {
    if (p.errors.length) console.log(`page errors: ${p.errors.join("\n")}`);
    await p.context.close();
  }

  results.met = {
    open: results.open.cold_open_median_ms <= TARGETS.open_ms,
    scroll: results.scroll.p99_ms <= TARGETS.scroll_frame_p99_ms,
    delivery: results.delivery.p99_ms <= TARGETS.delivery_p99_ms,
  };
  results.machine = {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memory_gib: round(os.totalmem() / 2 ** 30),
    node: process.version,
    chromium: browser.version(),
    server_binary: path.relative(root, BIN),
    load_average_1min_before: round(loadBefore),
    load_average_1min_after: round(load()),
  };
  try {
    results.commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
  } catch { results.commit = null; }
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
console.log(`wrote ${out}`);
