// Offline persistence (IndexedDB) and cross-tab sharing (BroadcastChannel)
// of <atelier-editor>, in headless Chromium driven by playwright-core.
//
// Run: node --test e2e/offline.test.mjs   (after `cargo xtask dist` and
// `cargo build -p atelier-server --bin atelier`). Env: ATELIER_BIN, CHROMIUM
// as in editor-collab.test.mjs. Missing pieces: every test is skipped with a
// line `SKIPPED: <test> (reason)`.
//
// The page is served by a small static server in this process, not by the
// atelier server, so it still loads (and reloads) while the sync server is
// killed. The sync server is killed with SIGKILL and restarted on the same
// SQLite file and port. No fixed sleeps: every wait is for a condition,
// with a deadline.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM, DEADLINE_MS, FLAGS, WWW, missing, startAtelier } from "./support/harness.mjs";

/** Reconnecting after a restart waits for the backoff (up to 8 s then). */
const RECONNECT_DEADLINE_MS = 45_000;
const TESTS = [
  "an offline edit survives a reload and reaches the server after its restart",
  "two tabs converge through BroadcastChannel with the server down",
  "without IndexedDB the editor syncs in memory and says so",
];

const skipReason = missing();

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json", ".svg": "image/svg+xml",
};

/** Serves www/ on a free loopback port. */
async function startStatic() {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const file = path.normalize(path.join(WWW, decodeURIComponent(url.pathname)));
    if (!file.startsWith(WWW) || !existsSync(file)) { res.writeHead(404).end(); return; }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream" }).end(body);
    } catch { res.writeHead(404).end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** Starts the sync server on `addr` with the SQLite file in `dir`. */
const startSync = (dir, addr) => startAtelier(dir, addr);

let browser;
let web;
const dirs = [];
const servers = [];

before(async () => {
  if (skipReason) return;
  const { chromium } = await import("playwright-core");
  web = await startStatic();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.kill();
  await web?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function newSync(addr) {
  if (!addr) {
    const dir = mkdtempSync(path.join(tmpdir(), "atelier-offline-"));
    dirs.push(dir);
    const s = await startSync(dir);
    s.dir = dir;
    servers.push(s);
    return s;
  }
  throw new Error("use restartSync");
}

async function restartSync(old) {
  const s = await startSync(old.dir, old.addr);
  s.dir = old.dir;
  servers.push(s);
  return s;
}

/** Opens editor.html for `doc` in `context`; waits for `ready` (a page predicate). */
async function openPage(context, sync, doc, user, ready = "synced", setup = null) {
  const page = await context.newPage();
  if (setup) await page.addInitScript(setup);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__statuses = [];
    document.addEventListener("atelier-status", (e) => window.__statuses.push(`${e.detail.status}/${e.detail.persistence}`));
  });
  const q = new URLSearchParams({ doc, server: `ws://${sync.addr}/sync`, user });
  await page.goto(`${web.origin}/editor.html?${q}`);
  const p = { context, page, errors, user };
  await waitReady(p, ready);
  return p;
}

/** Waits until the editor shows blocks and, if asked, has `status`. */
async function waitReady(p, status, timeout = DEADLINE_MS) {
  await p.page.waitForFunction((want) => {
    const el = document.querySelector("#main");
    return el && (!want || el.status === want) && el.querySelector(".atelier-surface [data-block-id]");
  }, status, { timeout });
}

const markdown = (p) => p.page.evaluate(() => document.querySelector("#main")?.getMarkdown() ?? "");

/** Waits until `pred(markdown)` holds on page `p`. */
async function waitMarkdown(p, pred, what) {
  const deadline = Date.now() + DEADLINE_MS;
  let last = "";
  while (Date.now() < deadline) {
    last = await markdown(p);
    if (pred(last)) return last;
    await p.page.waitForFunction(
      (prev) => (document.querySelector("#main")?.getMarkdown() ?? "") !== prev, last, { timeout: 1_000 },
    ).catch(() => {});
  }
  throw new Error(`${p.user}: ${what} not seen within ${DEADLINE_MS} ms; last Markdown: ${JSON.stringify(last)}`);
}

const waitProp = (p, prop, value, timeout = DEADLINE_MS) => p.page.waitForFunction(
  ([k, v]) => document.querySelector("#main")?.[k] === v, [prop, value], { timeout },
);

/** On failure, prints every page's text, HTML, statuses and console, and the server logs. */
async function withDump(pages, body) {
  try {
    await body();
  } catch (e) {
    for (const p of pages()) {
      const dump = await p.page.evaluate(() => ({
        status: document.querySelector("#main")?.status,
        persistence: document.querySelector("#main")?.persistence,
        text: document.querySelector("#main .atelier-surface")?.innerText,
        html: document.querySelector("#main .atelier-surface")?.innerHTML,
        statuses: window.__statuses,
      })).catch((err) => ({ error: String(err) }));
      console.error(`--- ${p.user}:`, JSON.stringify(dump, null, 2), "\nconsole:", p.errors.join("\n"));
    }
    for (const s of servers) console.error("--- server log (tail):\n" + s.log.slice(-30).join("\n"));
    throw e;
  }
}

async function typeAtEnd(p, text) {
  await p.page.click("#main .atelier-surface");
  await p.page.keyboard.press("Control+End");
  await p.page.keyboard.press("Enter");
  await p.page.keyboard.type(text);
}

const noPanic = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError/.test(e)), p.errors.join("\n"));

// Printed at module level: node:test does not run a skipped suite's body.
// Each test is skipped on its own so the counts show it.
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

describe("offline persistence and tabs", () => {

  test(TESTS[0], opts, async () => {
    const doc = `offline-${Date.now()}`;
    let sync = await newSync();
    const ctxA = await browser.newContext();
    const a = await openPage(ctxA, sync, doc, "Alice");
    let b = null;
    await withDump(() => [a, b].filter(Boolean), async () => {
      await typeAtEnd(a, "avant la panne");
      await waitProp(a, "unsyncedChanges", 0);

      // The server dies: the page says offline and keeps editing.
      await sync.kill();
      await waitProp(a, "status", "offline");
      await typeAtEnd(a, "écrit hors ligne");
      await waitMarkdown(a, (md) => md.includes("écrit hors ligne"), "the offline edit");
      await waitProp(a, "persistence", "saved");

      // Reloaded with the server still down: the state comes from IndexedDB.
      await a.page.reload();
      await waitReady(a, null);
      await waitMarkdown(a, (md) => md.includes("avant la panne") && md.includes("écrit hors ligne"),
        "the stored state after the reload");
      assert.equal(await a.page.evaluate(() => document.querySelector("#main").status), "offline");
      // ... and edits it.
      await typeAtEnd(a, "après rechargement");
      await waitMarkdown(a, (md) => md.includes("après rechargement"), "an edit after the reload");
      await waitProp(a, "persistence", "saved");

      // The server comes back on the same database and port; the page
      // reconnects by itself and the offline edits reach another browser.
      sync = await restartSync(sync);
      await waitProp(a, "status", "synced", RECONNECT_DEADLINE_MS);
      await waitProp(a, "unsyncedChanges", 0);
      const ctxB = await browser.newContext();
      b = await openPage(ctxB, sync, doc, "Bob");
      const want = (md) => ["avant la panne", "écrit hors ligne", "après rechargement"].every((t) => md.includes(t));
      const finalB = await waitMarkdown(b, want, "A's offline edits");
      await waitMarkdown(a, (md) => md === finalB, "the same document as B");
      // The first empty paragraph and the three typed ones, nothing more:
      // the stored document was not initialised a second time (which would
      // add another root group with its own empty paragraph).
      const blocks = await b.page.evaluate(() => document.querySelectorAll("#main .atelier-surface [data-block-id]").length);
      assert.equal(blocks, 4, `blocks in B's document:\n${finalB}`);
      noPanic(a);
      noPanic(b);
    });
    await ctxA.close();
    await b?.context.close();
    await sync.kill();
  });

  test(TESTS[1], opts, async () => {
    const doc = `tabs-${Date.now()}`;
    const sync = await newSync();
    const ctx = await browser.newContext();
    const a = await openPage(ctx, sync, doc, "Alice");
    const b = await openPage(ctx, sync, doc, "Bob");
    await withDump(() => [a, b], async () => {
      await sync.kill();
      await waitProp(a, "status", "offline");
      await waitProp(b, "status", "offline");
      await typeAtEnd(a, "depuis l’onglet A");
      // B types once A's line has reached it. Otherwise, on a loaded
      // machine, B's Ctrl+End can land before the rest of A's line arrives,
      // and B's Enter then splits A's paragraph there, carrying the part
      // after B's caret into B's new paragraph (seen once in CI: "uis
      // l’onglet A" / "depuis l’onglet Bdep"): a correct outcome for a
      // concurrent split, not the convergence this test checks.
      await waitMarkdown(b, (md) => md.includes("depuis l’onglet A"), "A's line in tab B");
      await typeAtEnd(b, "depuis l’onglet B");
      const both = (md) => md.includes("depuis l’onglet A") && md.includes("depuis l’onglet B");
      const finalA = await waitMarkdown(a, both, "both tabs' edits");
      const finalB = await waitMarkdown(b, (md) => md === finalA, "the same document as A");
      assert.equal(finalB, finalA);
      // Presence crosses tabs too.
      await a.page.waitForFunction(() => document.querySelector("#main").peers.some((p) => p.name === "Bob"),
        null, { timeout: DEADLINE_MS });
      // A third tab opened with the server down joins through storage and the channel.
      const c = await openPage(ctx, sync, doc, "Chloé", null);
      await waitMarkdown(c, (md) => md === finalA, "the shared state in a new tab");
      noPanic(a);
      noPanic(b);
    });
    await ctx.close();
  });

  test(TESTS[2], opts, async () => {
    const doc = `no-idb-${Date.now()}`;
    const sync = await newSync();
    const ctxA = await browser.newContext();
    const ctxB = await browser.newContext();
    // As in some private modes: no IndexedDB at all.
    const noIdb = () => Object.defineProperty(window, "indexedDB", { value: undefined, configurable: true });
    const a = await openPage(ctxA, sync, doc, "Alice", "synced", noIdb);
    const b = await openPage(ctxB, sync, doc, "Bob");
    await withDump(() => [a, b], async () => {
      await waitProp(a, "persistence", "unavailable");
      assert.ok(await a.page.evaluate(() => window.__statuses.some((s) => s.endsWith("/unavailable"))),
        "the atelier-status event reports the missing persistence");
      await typeAtEnd(a, "gardé en mémoire");
      await waitMarkdown(b, (md) => md.includes("gardé en mémoire"), "A's edit");
      await waitProp(b, "persistence", "saved");
    });
    await ctxA.close();
    await ctxB.close();
    await sync.kill();
  });
});
