// A real BlockNote page (as La Suite Docs builds it: @blocknote/core +
// @hocuspocus/provider, fragment `document-store`) and an <atelier-editor>
// page co-edit one document through the atelier server's Hocuspocus
// endpoint, in headless Chromium driven by playwright-core (real keyboard).
//
// Run: node --test e2e/blocknote-interop.test.mjs   (after `cargo xtask dist`
// and `cargo build -p atelier-server --bin atelier`). Env: ATELIER_BIN,
// CHROMIUM as in editor-collab.test.mjs. The BlockNote page
// (e2e/blocknote-page/main.mjs) is bundled with esbuild into
// e2e/blocknote-page/dist/ (git-ignored) by the `before` hook and served by
// a small static server in this process. Missing Chromium, server binary,
// wasm bundle, esbuild or the npm peers: every test is skipped with a line
// `SKIPPED: <test> (reason)`.
//
// No fixed sleeps: every wait is for a condition, with a deadline. On
// failure both pages' text and HTML, the BlockNote document JSON, the
// awareness states each side sees, console errors and the server log tail
// are printed.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CHROMIUM, DEADLINE_MS, FLAGS, missing, root, startAtelier } from "./support/harness.mjs";

const E2E = path.join(root, "e2e");
const PAGE_DIR = path.join(E2E, "blocknote-page");
const ESBUILD = path.join(E2E, "node_modules/.bin/esbuild");

const TESTS = {
  a: "text typed in BlockNote appears in Atelier",
  b: "heading and bullet list typed in Atelier appear in BlockNote as heading and bulletListItem blocks",
  c: "bold made in either editor shows in the other",
  d: "each page shows the other's presence and caret",
  e: "a document started in BlockNote opens in Atelier, edits flow both ways",
};

function missingPeers() {
  const m = missing();
  if (m) return m;
  if (!existsSync(ESBUILD)) return "esbuild missing; npm install in e2e/";
  for (const pkg of ["@blocknote/core", "@hocuspocus/provider", "yjs"]) {
    if (!existsSync(path.join(E2E, "node_modules", pkg))) return `${pkg} missing; npm install in e2e/`;
  }
  if (!existsSync(path.join(PAGE_DIR, "main.mjs"))) return "e2e/blocknote-page/main.mjs missing";
  return null;
}
const skipReason = missingPeers();

/** Bundles the BlockNote page into blocknote-page/dist/ (main.js, main.css). */
async function buildPage() {
  await promisify(execFile)(ESBUILD, [
    path.join(PAGE_DIR, "main.mjs"), "--bundle", "--format=esm", "--target=es2022",
    `--outdir=${path.join(PAGE_DIR, "dist")}`, "--log-level=error",
  ], { cwd: E2E });
  for (const f of ["main.js", "main.css"]) {
    if (!existsSync(path.join(PAGE_DIR, "dist", f))) throw new Error(`esbuild did not write dist/${f}`);
  }
}

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".map": "application/json", ".svg": "image/svg+xml",
};

/** Serves e2e/blocknote-page/ on a free loopback port. */
async function startStatic() {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const file = path.normalize(path.join(PAGE_DIR, decodeURIComponent(url.pathname)));
    if (!file.startsWith(PAGE_DIR + path.sep) || !existsSync(file)) { res.writeHead(404).end(); return; }
    try {
      res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream" })
        .end(readFileSync(file));
    } catch { res.writeHead(404).end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

let browser;
let sync;
let web;
let dir;

before(async () => {
  if (skipReason) return;
  await buildPage();
  const { chromium } = await import("playwright-core");
  dir = mkdtempSync(path.join(tmpdir(), "atelier-blocknote-"));
  sync = await startAtelier(dir);
  web = await startStatic();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  await sync?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
  return errors;
}

/** Opens editor.html (<atelier-editor>) for `doc` as `user`; waits until synced. */
async function openAtelier(doc, user, color) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    window.__presence = null;
    document.addEventListener("atelier-presence", (e) => { window.__presence = e.detail; });
  });
  const q = new URLSearchParams({ doc, server: `ws://${sync.addr}/sync`, user, color });
  await page.goto(`http://${sync.addr}/editor.html?${q}`);
  await page.waitForFunction(() => document.querySelector("#main")?.status === "synced"
    && document.querySelector("#main .atelier-surface [data-block-id]"), null, { timeout: DEADLINE_MS });
  return { kind: "atelier", context, page, errors, user };
}

/** Opens the BlockNote page for `doc` as `user`; waits until synced and editable. */
async function openBlockNote(doc, user, color) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const q = new URLSearchParams({ doc, server: `ws://${sync.addr}/sync`, user, color });
  await page.goto(`${web.origin}/index.html?${q}`);
  await page.waitForFunction(() => window.bnSynced === true
    && document.querySelector("#editor[contenteditable=true]"), null, { timeout: DEADLINE_MS });
  return { kind: "blocknote", context, page, errors, user };
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

/** On failure, prints each page's text, HTML, BlockNote JSON, awareness and console. */
async function withDump(pages, body) {
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
    console.error("--- server log (tail):\n" + sync.log.slice(-40).join("\n"));
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
});
