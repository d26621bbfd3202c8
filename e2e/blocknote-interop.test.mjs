// A real BlockNote page (as La Suite Docs builds it: @blocknote/core +
// @hocuspocus/provider, fragment `document-store`) and an <atelier-editor>
// page co-edit one document through the atelier server's Hocuspocus
// endpoint, in headless Chromium driven by playwright-core (real keyboard).
//
// Run: node --test e2e/blocknote-interop.test.mjs   (after `cargo xtask dist`
// and `cargo build -p atelier-server --bin atelier`). Env: ATELIER_BIN,
// CHROMIUM as in editor-collab.test.mjs. The BlockNote page, one of the
// npm peers (peers/blocknote-page/main.mjs), is bundled with esbuild into
// peers/blocknote-page/dist/ (git-ignored) by the `before` hook and served by
// a small static server in this process. Missing Chromium, server binary,
// wasm bundle, esbuild or the npm peers (`npm ci` in peers/): every test is
// skipped with a line `SKIPPED: <test> (reason)`.
//
// No fixed sleeps: every wait is for a condition, with a deadline. On
// failure both pages' text and HTML, the BlockNote document JSON, the
// awareness states each side sees, console errors and the server log tail
// are printed.
//
// One test swaps the atelier server for a real @hocuspocus/server (the one
// La Suite Docs runs: `node peers/hocuspocus-server.mjs`, token "secret"):
// there www/ is served by a second static server in this process, so that
// page does not depend on the atelier server at all. Without
// peers/node_modules/@hocuspocus/server that test alone is skipped (same
// SKIPPED line).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { BLOCKNOTE_PAGE, CHROMIUM, DEADLINE_MS, FLAGS, PEERS, WWW, missing, root, serveStatic, startAtelier, buildBlockNotePage, watchErrors } from "./support/harness.mjs";

const E2E = path.join(root, "e2e");
const PAGE_DIR = BLOCKNOTE_PAGE;
const ESBUILD = path.join(E2E, "node_modules/.bin/esbuild");

const TESTS = {
  a: "text typed in BlockNote appears in Atelier",
  b: "heading and bullet list typed in Atelier appear in BlockNote as heading and bulletListItem blocks",
  c: "bold made in either editor shows in the other",
  d: "each page shows the other's presence and caret",
  e: "a document started in BlockNote opens in Atelier, edits flow both ways",
  f: "BlockNote and Atelier co-edit through a real Hocuspocus server",
};

function missingPeers() {
  const m = missing();
  if (m) return m;
  if (!existsSync(ESBUILD)) return "esbuild missing; npm install in e2e/";
  for (const pkg of ["@blocknote/core", "@hocuspocus/provider", "yjs"]) {
    if (!existsSync(path.join(PEERS, "node_modules", pkg))) return `${pkg} missing; npm ci in peers/`;
  }
  if (!existsSync(path.join(PAGE_DIR, "main.mjs"))) return "peers/blocknote-page/main.mjs missing";
  return null;
}
const skipReason = missingPeers();
/** The real-Hocuspocus test also needs @hocuspocus/server. */
const hocuspocusSkip = skipReason
  ?? (existsSync(path.join(PEERS, "node_modules/@hocuspocus/server")) ? null : "@hocuspocus/server missing; npm ci in peers/");

/** Serves `base` (peers/blocknote-page/ by default) on a free loopback port. */
const startStatic = (base = PAGE_DIR) => serveStatic(base);

/**
 * Starts `node peers/hocuspocus-server.mjs` (a real @hocuspocus/server on
 * loopback); resolves once its first stdout line gives {"port": N}.
 * `stop()` closes its stdin (it then destroys the server and exits), and
 * kills it if it has not exited within 5 s.
 */
async function startHocuspocus() {
  const child = spawn(process.execPath, [path.join(PEERS, "hocuspocus-server.mjs")],
    { cwd: PEERS, stdio: ["pipe", "pipe", "pipe"] });
  const log = [];
  const keep = (line) => { log.push(line); if (log.length > 400) log.shift(); };
  createInterface({ input: child.stderr }).on("line", (l) => keep(`[stderr] ${l}`));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (gone()) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no port line within deadline")), DEADLINE_MS);
      child.once("error", (e) => { clearTimeout(timer); reject(e); });
      child.once("exit", (code, sig) => { clearTimeout(timer); reject(new Error(`exited (${code ?? sig})`)); });
      let first = true;
      createInterface({ input: child.stdout }).on("line", (line) => {
        keep(`[stdout] ${line}`);
        if (!first) return;
        first = false;
        clearTimeout(timer);
        try {
          const port = JSON.parse(line).port;
          if (!Number.isInteger(port)) throw new Error("no integer port");
          resolve(port);
        } catch (e) { reject(new Error(`first stdout line ${JSON.stringify(line)}: ${e.message}`)); }
      });
    });
    child.removeAllListeners("exit");
    return { url: `ws://127.0.0.1:${port}`, log, stop };
  } catch (e) {
    await stop();
    throw new Error(`hocuspocus-server.mjs: ${e.message}\n${log.join("\n")}`);
  }
}

let browser;
let sync;
let web;
let dir;
/** Started by the real-Hocuspocus test; stopped there and, as a fallback, in `after`. */
let www;
let hocuspocus;

before(async () => {
  if (skipReason) return;
  await buildBlockNotePage();
  const { chromium } = await import("playwright-core");
  dir = mkdtempSync(path.join(tmpdir(), "atelier-blocknote-"));
  sync = await startAtelier(dir);
  web = await startStatic();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await hocuspocus?.stop();
  await www?.close();
  await web?.close();
  await sync?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Opens editor.html (<atelier-editor>) for `doc` as `user`; waits until
 * synced. `via` (optional): {origin, server, token} to load the page from
 * another origin and sync with another server (default: the atelier server).
 */
async function openAtelier(doc, user, color, via = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    window.__presence = null;
    document.addEventListener("atelier-presence", (e) => { window.__presence = e.detail; });
  });
  const q = new URLSearchParams({ doc, server: via.server ?? `ws://${sync.addr}/sync`, user, color });
  if (via.token) q.set("token", via.token);
  await page.goto(`${via.origin ?? `http://${sync.addr}`}/editor.html?${q}`);
  await page.waitForFunction(() => document.querySelector("#main")?.status === "synced"
    && document.querySelector("#main .atelier-surface [data-block-id]"), null, { timeout: DEADLINE_MS })
    .catch((e) => notReady("atelier", user, page, errors, e, () => ({
      status: document.querySelector("#main")?.status,
      text: document.querySelector("#main .atelier-surface")?.innerText,
    })));
  return { kind: "atelier", context, page, errors, user };
}

/**
 * Opens the BlockNote page for `doc` as `user`; waits until synced and
 * editable. `via` (optional): {server, token} as for openAtelier.
 */
async function openBlockNote(doc, user, color, via = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const q = new URLSearchParams({ doc, server: via.server ?? `ws://${sync.addr}/sync`, user, color });
  if (via.token) q.set("token", via.token);
  await page.goto(`${web.origin}/index.html?${q}`);
  await page.waitForFunction(() => window.bnSynced === true
    && document.querySelector("#editor[contenteditable=true]"), null, { timeout: DEADLINE_MS })
    .catch((e) => notReady("blocknote", user, page, errors, e, () => ({
      status: window.bnStatus, synced: window.bnSynced, text: document.querySelector("#editor")?.innerText,
    })));
  return { kind: "blocknote", context, page, errors, user };
}

/** Throws why a page did not get ready: its state (`probe`) and console. */
async function notReady(kind, user, page, errors, e, probe) {
  const state = await page.evaluate(probe).catch((err) => ({ error: String(err) }));
  throw new Error(`${kind} (${user}) not ready within ${DEADLINE_MS} ms (${e.message.split("\n")[0]}): `
    + `${JSON.stringify(state)}\nconsole:\n${errors.join("\n")}`);
}

/** Waits until `fn(arg)` is truthy in `p`'s page; names `what` on timeout. */
async function waitIn(p, what, fn, arg) {
  try {
    return await (await p.page.waitForFunction(fn, arg, { timeout: DEADLINE_MS, polling: 50 })).jsonValue();
  } catch (e) {
    throw new Error(`${p.kind} (${p.user}): ${what} not seen within ${DEADLINE_MS} ms (${e.message.split("\n")[0]})`);
  }
}

/** BlockNote blocks (JSON) of page `p`. */
const bnBlocks = (p) => p.page.evaluate(() => window.bnBlocks());
const atelierMarkdown = (p) => p.page.evaluate(() => document.querySelector("#main").getMarkdown());

/**
 * On failure, prints each page's text, HTML, BlockNote JSON, awareness and
 * console, then the tail of `server` (default: the atelier server).
 */
async function withDump(pages, body, server = { name: "server", log: sync?.log ?? [] }) {
  try {
    await body();
  } catch (e) {
    for (const p of pages) {
      const dump = await p.page.evaluate((kind) => {
        if (kind === "atelier") {
          const el = document.querySelector("#main");
          return {
            status: el?.status,
            markdown: el?.getMarkdown(),
            text: el?.querySelector(".atelier-surface")?.innerText,
            html: el?.querySelector(".atelier-surface")?.innerHTML,
            peers: el?.peers,
            presence: window.__presence,
          };
        }
        const ed = document.querySelector("#editor");
        return {
          status: window.bnStatus, synced: window.bnSynced,
          text: ed?.innerText, html: ed?.innerHTML,
          document: window.bnBlocks?.(),
          fragment: window.bnDoc?.getXmlFragment("document-store").toString(),
          awareness: window.bnPeers?.(),
        };
      }, p.kind).catch((err) => ({ error: String(err) }));
      console.error(`--- ${p.kind} (${p.user}):`, JSON.stringify(dump, null, 2), "\nconsole:", p.errors.join("\n"));
    }
    console.error(`--- ${server.name} log (tail):\n` + server.log.slice(-40).join("\n"));
    throw e;
  }
}

/** Focuses the editing surface of `p` and puts the caret at the very end. */
async function caretAtEnd(p) {
  await p.page.click(p.kind === "atelier" ? "#main .atelier-surface" : "#editor[contenteditable=true]");
  await p.page.keyboard.press("Control+End");
}

/** Selected text of page `p` (BlockNote: from its ProseMirror state). */
const selectedText = (p) => p.page.evaluate((kind) => {
  if (kind === "blocknote") {
    const state = window.bnEditor.prosemirrorState;
    return state.doc.textBetween(state.selection.from, state.selection.to);
  }
  return String(getSelection());
}, p.kind);

/**
 * Selects the last `n` characters before the caret with Shift+ArrowLeft,
 * waiting after each press until the editor's selection has grown.
 */
async function selectBack(p, n) {
  for (let i = 1; i <= n; i++) {
    await p.page.keyboard.press("Shift+ArrowLeft");
    const deadline = Date.now() + DEADLINE_MS;
    let got = await selectedText(p);
    while (got.length < i && Date.now() < deadline) got = await selectedText(p);
    if (got.length !== i) throw new Error(`${p.kind}: after ${i} × Shift+ArrowLeft the selection is ${JSON.stringify(got)}`);
  }
}

/** Opens the Atelier page first (it initialises the document), then BlockNote. */
async function openPair(name) {
  const doc = `bn-${name}-${Date.now()}`;
  const at = await openAtelier(doc, "Alice", "#ee6352");
  const bn = await openBlockNote(doc, "Bea", "#30bced");
  return { doc, at, bn };
}

async function closeAll(...pages) {
  for (const p of pages) await p?.context.close();
}

const noCrash = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError|unreachable/.test(e)),
  `${p.kind}: ${p.errors.join("\n")}`);

// Printed here, not inside the suite: node:test does not run a skipped
// suite's body. Each test is skipped on its own so the counts show it.
if (skipReason) for (const name of Object.values(TESTS)) console.log(`SKIPPED: ${name} (${skipReason})`);
else if (hocuspocusSkip) console.log(`SKIPPED: ${TESTS.f} (${hocuspocusSkip})`);
const opts = { skip: skipReason ?? false };

describe("BlockNote ↔ Atelier interop", () => {

  test(TESTS.a, opts, async () => {
    const { at, bn } = await openPair("a");
    await withDump([at, bn], async () => {
      await caretAtEnd(bn);
      await bn.page.keyboard.type("Bonjour depuis BlockNote");
      // BlockNote has it locally, in the document-store fragment.
      await waitIn(bn, "own typing in editor.document", () => JSON.stringify(window.bnBlocks()).includes("Bonjour depuis BlockNote"));
      await waitIn(at, "BlockNote's typing", () => document.querySelector("#main").getMarkdown().includes("Bonjour depuis BlockNote"));
      // Rendered on the surface too, not only in the model.
      await waitIn(at, "BlockNote's typing on the surface",
        () => document.querySelector("#main .atelier-surface").innerText.includes("Bonjour depuis BlockNote"));
      // Continue in BlockNote: a second paragraph arrives as a second block.
      await bn.page.keyboard.press("Enter");
      await bn.page.keyboard.type("Deuxième ligne");
      const md = await waitIn(at, "BlockNote's second paragraph", () => {
        const m = document.querySelector("#main").getMarkdown();
        return m.includes("Deuxième ligne") ? m : false;
      });
      assert.match(md, /Bonjour depuis BlockNote\s*\n\s*\n\s*Deuxième ligne/, `Markdown: ${JSON.stringify(md)}`);
      noCrash(at); noCrash(bn);
    });
    await closeAll(at, bn);
  });

  test(TESTS.b, opts, async () => {
    const { at, bn } = await openPair("b");
    await withDump([at, bn], async () => {
      await caretAtEnd(at);
      await at.page.keyboard.type("# Titre Atelier");
      await at.page.keyboard.press("Enter");
      await at.page.keyboard.type("- point un");
      await at.page.keyboard.press("Enter");
      await at.page.keyboard.type("point deux");
      await waitIn(at, "own heading and list", () => {
        const m = document.querySelector("#main").getMarkdown();
        return /^# Titre Atelier$/m.test(m) && /^[-*] point un$/m.test(m) && /^[-*] point deux$/m.test(m);
      });
      // In BlockNote: a heading block (level 1) and two bulletListItem blocks.
      const blocks = await waitIn(bn, "heading + bulletListItem blocks", () => {
        const flat = [];
        const walk = (bs) => { for (const b of bs) { flat.push(b); walk(b.children ?? []); } };
        walk(window.bnBlocks());
        const text = (b) => (Array.isArray(b.content) ? b.content.map((c) => c.text ?? "").join("") : "");
        const h = flat.find((b) => b.type === "heading" && text(b) === "Titre Atelier");
        const l1 = flat.find((b) => b.type === "bulletListItem" && text(b) === "point un");
        const l2 = flat.find((b) => b.type === "bulletListItem" && text(b) === "point deux");
        return h && l1 && l2 ? window.bnBlocks() : false;
      });
      const heading = blocks.find((b) => b.type === "heading");
      assert.equal(heading.props.level, 1, JSON.stringify(heading));
      // Top-level order: heading, then the two items (siblings, not nested).
      const types = blocks.map((b) => b.type).filter((t, i) => !(t === "paragraph" && blocks[i].content.length === 0));
      assert.deepEqual(types, ["heading", "bulletListItem", "bulletListItem"], JSON.stringify(blocks, null, 2));
      // BlockNote renders them as such.
      await waitIn(bn, "rendered heading and list items", () =>
        [...document.querySelectorAll("#editor [data-content-type=heading]")].some((e) => e.textContent === "Titre Atelier")
        && [...document.querySelectorAll("#editor [data-content-type=bulletListItem]")].filter((e) => e.textContent.startsWith("point")).length === 2);
      noCrash(at); noCrash(bn);
    });
    await closeAll(at, bn);
  });

  test(TESTS.c, opts, async () => {
    const { at, bn } = await openPair("c");
    await withDump([at, bn], async () => {
      // Bold in BlockNote (keyboard selection + Ctrl+B) shows in Atelier.
      await caretAtEnd(bn);
      await bn.page.keyboard.type("du gras ici");
      // ProseMirror reads typed text from DOM mutations; a selection made
      // before it has flushed them can lose a step. Wait for the state.
      await waitIn(bn, "own typing in editor.document", () => JSON.stringify(window.bnBlocks()).includes("du gras ici"));
      await selectBack(bn, "ici".length);
      await bn.page.keyboard.press("Control+b");
      await waitIn(bn, "own bold in editor.document", () =>
        JSON.stringify(window.bnBlocks()).includes('{"type":"text","text":"ici","styles":{"bold":true}}'));
      await waitIn(at, "BlockNote's bold", () => document.querySelector("#main").getMarkdown().includes("du gras **ici**"));
      await waitIn(at, "BlockNote's bold on the surface", () =>
        [...document.querySelectorAll("#main .atelier-surface strong, #main .atelier-surface b")].some((e) => e.textContent === "ici"));

      // Bold in Atelier shows in BlockNote, with the bold style on that text only.
      await caretAtEnd(at);
      await at.page.keyboard.press("Enter");
      await at.page.keyboard.type("et encore");
      await waitIn(at, "own typing", () => document.querySelector("#main").getMarkdown().includes("et encore"));
      await selectBack(at, "encore".length);
      await at.page.keyboard.press("Control+b");
      await waitIn(at, "own bold", () => document.querySelector("#main").getMarkdown().includes("et **encore**"));
      await waitIn(bn, "Atelier's bold in editor.document", () => window.bnBlocks().some((b) =>
        Array.isArray(b.content)
        && b.content.some((c) => c.text === "et " && !c.styles.bold)
        && b.content.some((c) => c.text === "encore" && c.styles.bold === true)));
      // (Alice's caret and selection decorations may sit inside the <strong>.)
      await waitIn(bn, "Atelier's bold rendered", () => [...document.querySelectorAll("#editor strong")].some((e) => {
        const c = e.cloneNode(true);
        for (const w of c.querySelectorAll(".bn-collaboration-cursor__base")) w.remove();
        return c.textContent === "encore";
      }));
      // Both still agree on the first paragraph.
      const blocks = await bnBlocks(bn);
      assert.ok(blocks.some((b) => Array.isArray(b.content)
        && b.content.some((c) => c.text === "ici" && c.styles.bold === true)), JSON.stringify(blocks));
      noCrash(at); noCrash(bn);
    });
    await closeAll(at, bn);
  });

  test(TESTS.e, opts, async () => {
    // BlockNote alone creates the document; Atelier joins later.
    const doc = `bn-e-${Date.now()}`;
    const bn = await openBlockNote(doc, "Bea", "#30bced");
    await withDump([bn], async () => {
      await caretAtEnd(bn);
      await bn.page.keyboard.type("Premier mot");
      await waitIn(bn, "own typing in the fragment",
        () => window.bnDoc.getXmlFragment("document-store").toString().includes("Premier mot"));
    });
    const at = await openAtelier(doc, "Alice", "#ee6352");
    await withDump([at, bn], async () => {
      await waitIn(at, "BlockNote's document", () => /^Premier mot$/m.test(document.querySelector("#main").getMarkdown()));
      await caretAtEnd(at);
      await at.page.keyboard.type(" et la suite");
      await waitIn(bn, "Atelier's text in the same block", () => {
        const bs = window.bnBlocks().filter((b) => !(b.type === "paragraph" && b.content.length === 0));
        return bs.length === 1 && bs[0].content.map((c) => c.text).join("") === "Premier mot et la suite";
      });
      noCrash(at); noCrash(bn);
    });
    await closeAll(at, bn);
  });

  test(TESTS.d, opts, async () => {
    const { at, bn } = await openPair("d");
    await withDump([at, bn], async () => {
      // Names and colours cross both ways.
      await waitIn(at, "Bea in the atelier-presence event",
        () => window.__presence?.peers.some((p) => p.name === "Bea" && p.color === "#30bced"));
      await waitIn(bn, "Alice in BlockNote's awareness",
        () => window.bnPeers().some((s) => s.user?.name === "Alice" && s.user?.color === "#ee6352"));

      // Bea types in BlockNote: Atelier resolves her caret and draws it.
      await caretAtEnd(bn);
      await bn.page.keyboard.type("Salut");
      await waitIn(at, "Bea's caret resolved in the document",
        () => document.querySelector("#main").peers.some((p) => p.name === "Bea" && p.cursor?.head.offset === 5));
      await waitIn(at, "Bea's caret drawn with her name",
        () => [...document.querySelectorAll("#main .atelier-remote-caret-label")].some((l) => l.textContent === "Bea"));

      // Alice types in Atelier: BlockNote (y-prosemirror's cursor plugin) draws her caret.
      await caretAtEnd(at);
      await at.page.keyboard.type(" Alice");
      await waitIn(bn, "Alice's text", () => JSON.stringify(window.bnBlocks()).includes("Salut Alice"));
      await waitIn(bn, "Alice's cursor in BlockNote's awareness",
        () => window.bnPeers().some((s) => s.user?.name === "Alice" && s.cursor?.anchor && s.cursor?.head));
      await waitIn(bn, "Alice's caret drawn by BlockNote", () =>
        [...document.querySelectorAll("#editor .bn-collaboration-cursor__caret .bn-collaboration-cursor__label")]
          .some((l) => l.textContent === "Alice"));
      // The caret sits right after "Salut Alice" in the same paragraph.
      const where = await bn.page.evaluate(() => {
        const caret = [...document.querySelectorAll("#editor .bn-collaboration-cursor__base")]
          .find((c) => c.textContent.includes("Alice"));
        const block = caret?.closest("[data-content-type]");
        const before = document.createRange();
        before.setStart(block, 0);
        before.setEndBefore(caret);
        return { block: block?.textContent, before: before.toString().replace(/\u2060/g, "") };
      });
      assert.equal(where.before, "Salut Alice", JSON.stringify(where));

      // Bea leaves: Atelier's presence list loses her and her caret goes.
      await bn.context.close();
      await waitIn(at, "Bea gone", () => !document.querySelector("#main").peers.some((p) => p.name === "Bea")
        && ![...document.querySelectorAll("#main .atelier-remote-caret-label")].some((l) => l.textContent === "Bea"));
      noCrash(at);
    });
    await closeAll(at);
  });

  test(TESTS.f, { skip: hocuspocusSkip ?? false }, async () => {
    // www/ from a static server of ours: the atelier server plays no part.
    www = await startStatic(WWW);
    hocuspocus = await startHocuspocus();
    const via = { origin: www.origin, server: hocuspocus.url, token: "secret" };
    const doc = `bn-hocuspocus-${Date.now()}`;
    let at;
    let bn;
    try {
      at = await openAtelier(doc, "Alice", "#ee6352", via);
      bn = await openBlockNote(doc, "Bea", "#30bced", via);
      await withDump([at, bn], async () => {
        // BlockNote → Atelier.
        await caretAtEnd(bn);
        await bn.page.keyboard.type("Écrit dans BlockNote");
        await waitIn(bn, "own typing in editor.document", () => JSON.stringify(window.bnBlocks()).includes("Écrit dans BlockNote"));
        await waitIn(at, "BlockNote's typing", () => document.querySelector("#main").getMarkdown().includes("Écrit dans BlockNote"));
        await waitIn(at, "BlockNote's typing on the surface",
          () => document.querySelector("#main .atelier-surface").innerText.includes("Écrit dans BlockNote"));

        // Atelier → BlockNote, in a new paragraph.
        await caretAtEnd(at);
        await at.page.keyboard.press("Enter");
        await at.page.keyboard.type("Écrit dans Atelier");
        await waitIn(at, "own typing", () => document.querySelector("#main").getMarkdown().includes("Écrit dans Atelier"));
        await waitIn(bn, "Atelier's typing in editor.document", () => JSON.stringify(window.bnBlocks()).includes("Écrit dans Atelier"));
        await waitIn(bn, "Atelier's typing on the surface",
          () => document.querySelector("#editor").innerText.includes("Écrit dans Atelier"));

        // Both end with the same two paragraphs, in that order.
        const bnText = await waitIn(bn, "both paragraphs as blocks", () => {
          const text = (b) => (Array.isArray(b.content) ? b.content.map((c) => c.text ?? "").join("") : "");
          const t = window.bnBlocks().map(text).filter(Boolean);
          return t.length === 2 ? t : false;
        });
        assert.deepEqual(bnText, ["Écrit dans BlockNote", "Écrit dans Atelier"]);
        const md = await atelierMarkdown(at);
        assert.match(md, /Écrit dans BlockNote\s*\n\s*\n\s*Écrit dans Atelier/, `Markdown: ${JSON.stringify(md)}`);
        noCrash(at); noCrash(bn);
      }, { name: "hocuspocus-server.mjs", log: hocuspocus.log });
    } finally {
      await closeAll(at, bn);
      await hocuspocus.stop();
      hocuspocus = null;
      await www.close();
      www = null;
    }
  });
});
