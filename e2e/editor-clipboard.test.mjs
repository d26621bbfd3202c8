// Copy, cut and paste of <atelier-editor>, in headless Chromium driven by
// playwright-core, and the same data pasted into a real BlockNote editor.
//
// Run: node --test e2e/editor-clipboard.test.mjs   (after `cargo xtask dist`
// and `cargo build -p atelier-server --bin atelier`). Env: ATELIER_BIN,
// CHROMIUM as in editor-collab.test.mjs. Missing Chromium, server binary or
// wasm bundle: every test is skipped; without esbuild or the BlockNote page's
// npm peers (`npm ci` in peers/) the BlockNote tests alone are skipped (a
// line `SKIPPED: <test> (reason)`).
//
// Clipboard events are dispatched by the page with a fresh DataTransfer
// (`new ClipboardEvent("copy", {clipboardData})`), so the test reads
// exactly what the editor wrote, with no system clipboard involved. A
// synthetic `paste` event has no default action, and <atelier-editor>
// pastes from the `beforeinput` event (inputType `insertFromPaste`) the
// browser sends after it, so pasting into Atelier dispatches that
// `beforeinput` with the DataTransfer. BlockNote (ProseMirror) handles the
// `paste` and `copy` events themselves, so those are dispatched on its
// editor. One test also goes through Chromium's own clipboard with real
// Ctrl+C / Ctrl+V key presses.
//
// No fixed sleeps: every wait is for a condition, with a deadline. On
// failure the pages' Markdown, text, HTML, the clipboard data seen and the
// console are printed.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BLOCKNOTE_PAGE, CHROMIUM, DEADLINE_MS, FLAGS, PEERS, missing, root, serveStatic, startAtelier, buildBlockNotePage, watchErrors } from "./support/harness.mjs";

const E2E = path.join(root, "e2e");
const PAGE_DIR = BLOCKNOTE_PAGE;
const ESBUILD = path.join(E2E, "node_modules/.bin/esbuild");

const TESTS = {
  atelier: "copy puts HTML and Markdown on the clipboard; paste, cut and undo use them",
  keyboard: "Ctrl+C and Ctrl+V through Chromium's clipboard copy blocks with their marks",
  toBlockNote: "what <atelier-editor> copies pastes into BlockNote as the same blocks",
  fromBlockNote: "what BlockNote copies pastes into <atelier-editor> as the same blocks",
  markdownLazy: "Markdown pasted as plain text becomes blocks; its module loads on first use only",
  markdownDown: "without the Markdown module a Markdown paste keeps its text and setMarkdown says why",
};

const skipReason = missing();
const blockNoteSkip = skipReason
  ?? (!existsSync(ESBUILD) ? "esbuild missing; npm install in e2e/"
    : !existsSync(path.join(PEERS, "node_modules/@blocknote/core")) ? "@blocknote/core missing; npm ci in peers/"
      : !existsSync(path.join(PEERS, "node_modules/@hocuspocus/provider")) ? "@hocuspocus/provider missing; npm ci in peers/"
        : null);

/** The document every test starts from. */
const SRC = "# Titre principal\n\nDu **gras** ici\n\n- un\n- deux\n\nfin\n";
/** From "Titre principal" offset 6 to "deux" offset 2, as the editor copies it. */
const COPIED_HTML = "<h1>principal</h1><p>Du <strong>gras</strong> ici</p><ul><li>un</li><li>de</li></ul>";
const COPIED_MD = "# principal\n\nDu **gras** ici\n\n- un\n- de\n";

let dir;
let server;
let browser;
let web;


before(async () => {
  if (skipReason) return;
  const { chromium } = await import("playwright-core");
  dir = mkdtempSync(path.join(tmpdir(), "atelier-clipboard-"));
  server = await startAtelier(dir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  if (!blockNoteSkip) {
    await buildBlockNotePage();
    web = await serveStatic(PAGE_DIR);
  }
});

after(async () => {
  await browser?.close();
  await web?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * In-page helpers for <atelier-editor> #main: DOM points by block text,
 * selections, clipboard events with a fresh DataTransfer, and paste.
 */
function installAtelierHelpers() {
  const surface = () => document.querySelector("#main .atelier-surface");
  /** The DOM point `offset` UTF-16 units into the block whose text is `text`. */
  const point = (text, offset) => {
    const blocks = [...surface().querySelectorAll("[data-atelier-content]")];
    const el = blocks.find((b) => b.textContent === text);
    if (!el) throw new Error(`no block ${JSON.stringify(text)} in ${JSON.stringify(blocks.map((b) => b.textContent))}`);
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let left = offset;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (left <= n.length) return [n, left];
      left -= n.length;
    }
    throw new Error(`offset ${offset} is past the end of ${JSON.stringify(text)}`);
  };
  const dataOf = (dt) => Object.fromEntries([...dt.types].map((t) => [t, dt.getData(t)]));
  window.__clip = {
    /** Focuses the surface and selects from (anchorText, anchorOffset) to (focusText, focusOffset). */
    select(anchorText, anchorOffset, focusText, focusOffset) {
      surface().focus();
      const [an, ao] = point(anchorText, anchorOffset);
      const [fn, fo] = point(focusText, focusOffset);
      getSelection().setBaseAndExtent(an, ao, fn, fo);
      return String(getSelection());
    },
    /** Dispatches `copy` or `cut` on the surface; returns what it wrote. */
    clipboardEvent(type) {
      const dt = new DataTransfer();
      const ev = new ClipboardEvent(type, { clipboardData: dt, bubbles: true, cancelable: true });
      surface().dispatchEvent(ev);
      return { types: [...dt.types], data: dataOf(dt), prevented: ev.defaultPrevented };
    },
    /** Pastes `data` ({mime: text}) at the selection, as the browser does after a paste. */
    paste(data) {
      const dt = new DataTransfer();
      for (const [type, text] of Object.entries(data)) dt.setData(type, text);
      const ev = new InputEvent("beforeinput", {
        inputType: "insertFromPaste", dataTransfer: dt, bubbles: true, cancelable: true,
      });
      surface().dispatchEvent(ev);
      return ev.defaultPrevented;
    },
    markdown: () => document.querySelector("#main").getMarkdown(),
  };
}

/**
 * Opens editor.html on a fresh document; waits until synced, then (unless
 * `load` is false) loads SRC. `p.markdownFetches` lists the requests for
 * the Markdown module; `block` makes them fail (as offline would).
 */
async function openAtelier(name, { load = true, block = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const markdownFetches = [];
  page.on("request", (r) => { if (r.url().includes("atelier_markdown")) markdownFetches.push(r.url()); });
  if (block) await page.route("**/atelier_markdown*", (r) => r.abort("internetdisconnected"));
  await page.addInitScript(installAtelierHelpers);
  const q = new URLSearchParams({ doc: `clip-${name}-${Date.now()}`, server: `ws://${server.addr}/sync`, user: "Alice" });
  await page.goto(`http://${server.addr}/editor.html?${q}`);
  const p = { kind: "atelier", context, page, errors, seen: {}, markdownFetches };
  await waitIn(p, "a synced editor", () => document.querySelector("#main")?.status === "synced"
    && document.querySelector("#main .atelier-surface [data-block-id]"));
  if (!load) return p;
  await page.evaluate((md) => document.querySelector("#main").setMarkdown(md), SRC);
  await waitMarkdown(p, SRC, "the loaded Markdown");
  return p;
}

/** Types `text` into the empty document of `p` and waits for it. */
async function typeInto(p, text) {
  await p.page.click("#main .atelier-surface");
  await p.page.keyboard.type(text);
  await waitMarkdown(p, `${text}\n`, "typed text");
}

/** Opens the BlockNote page on a fresh document; waits until synced and editable. */
async function openBlockNote(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const q = new URLSearchParams({ doc: `clip-bn-${name}-${Date.now()}`, server: `ws://${server.addr}/sync`, user: "Bea" });
  await page.goto(`${web.origin}/index.html?${q}`);
  const p = { kind: "blocknote", context, page, errors, seen: {} };
  await waitIn(p, "a synced BlockNote editor", () => window.bnSynced === true
    && document.querySelector("#editor[contenteditable=true]"));
  return p;
}

/** Waits until `fn(arg)` is truthy in `p`'s page; names `what` on timeout. */
async function waitIn(p, what, fn, arg) {
  try {
    return await (await p.page.waitForFunction(fn, arg, { timeout: DEADLINE_MS, polling: 50 })).jsonValue();
  } catch (e) {
    throw new Error(`${p.kind}: ${what} not seen within ${DEADLINE_MS} ms (${e.message.split("\n")[0]})`);
  }
}

/** Waits until #main's Markdown is `want`; the error shows the last one seen. */
async function waitMarkdown(p, want, what) {
  try {
    await p.page.waitForFunction((w) => document.querySelector("#main").getMarkdown() === w, want,
      { timeout: DEADLINE_MS, polling: 50 });
  } catch {
    const last = await p.page.evaluate(() => document.querySelector("#main").getMarkdown());
    assert.equal(last, want, `${what}: Markdown not reached within ${DEADLINE_MS} ms`);
  }
}

/** BlockNote's blocks as [type, text, styled runs] rows, empty trailing paragraphs left out. */
const bnRows = (p) => p.page.evaluate(() => {
  const rows = [];
  const walk = (blocks, depth) => {
    for (const b of blocks) {
      const runs = Array.isArray(b.content) ? b.content : [];
      const text = runs.map((r) => r.text ?? "").join("");
      const styled = runs.filter((r) => Object.keys(r.styles ?? {}).length > 0)
        .map((r) => `${r.text}:${Object.keys(r.styles).sort().join("+")}`);
      rows.push([depth, b.type, b.type === "heading" ? b.props.level : null, text, styled]);
      walk(b.children ?? [], depth + 1);
    }
  };
  walk(window.bnBlocks(), 0);
  while (rows.length > 0 && rows.at(-1)[1] === "paragraph" && rows.at(-1)[3] === "") rows.pop();
  return rows;
});

/** The rows BlockNote must show for COPIED_MD. */
const COPIED_ROWS = [
  [0, "heading", 1, "principal", []],
  [0, "paragraph", null, "Du gras ici", ["gras:bold"]],
  [0, "bulletListItem", null, "un", []],
  [0, "bulletListItem", null, "de", []],
];

/**
 * BlockNote page `b` loads `md` through its own Markdown import, selects
 * everything and copies it; returns the clipboard types and data.
 */
const blockNoteCopy = (b, md) => b.page.evaluate(async (md) => {
  const ed = window.bnEditor;
  ed.replaceBlocks(ed.document, await ed.tryParseMarkdownToBlocks(md));
  ed.setSelection(ed.document[0], ed.document.at(-1));
  const dt = new DataTransfer();
  const ev = new ClipboardEvent("copy", { clipboardData: dt, bubbles: true, cancelable: true });
  document.querySelector("#editor").dispatchEvent(ev);
  return { types: [...dt.types], data: Object.fromEntries([...dt.types].map((t) => [t, dt.getData(t)])) };
}, md);

/** On failure, prints each page's state, the clipboard data it saw, and its console. */
async function withDump(pages, body) {
  try {
    await body();
  } catch (e) {
    for (const p of pages) {
      const dump = await p.page.evaluate((kind) => {
        if (kind === "atelier") {
          const el = document.querySelector("#main");
          return {
            status: el?.status, markdown: el?.getMarkdown(), selection: String(getSelection()),
            text: el?.querySelector(".atelier-surface")?.innerText,
            html: el?.querySelector(".atelier-surface")?.innerHTML,
          };
        }
        return {
          synced: window.bnSynced, text: document.querySelector("#editor")?.innerText,
          document: window.bnBlocks?.(),
        };
      }, p.kind).catch((err) => ({ error: String(err) }));
      console.error(`--- ${p.kind}:`, JSON.stringify(dump, null, 2),
        "\nclipboard data seen:", JSON.stringify(p.seen, null, 2), "\nconsole:", p.errors.join("\n"));
    }
    console.error("--- server log (tail):\n" + (server?.log ?? []).slice(-20).join("\n"));
    throw e;
  }
}

const noCrash = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError|unreachable/.test(e)),
  `${p.kind}: ${p.errors.join("\n")}`);

// Printed here: node:test does not run a skipped test's body.
if (skipReason) for (const name of Object.values(TESTS)) console.log(`SKIPPED: ${name} (${skipReason})`);
else if (blockNoteSkip) for (const name of [TESTS.toBlockNote, TESTS.fromBlockNote]) console.log(`SKIPPED: ${name} (${blockNoteSkip})`);

describe("editor clipboard", () => {
  test(TESTS.atelier, { skip: skipReason ?? false }, async () => {
    const a = await openAtelier("atelier");
    await withDump([a], async () => {
      const clip = (expr, ...args) => a.page.evaluate(expr, ...args);

      // 1. Copy a backward selection across four blocks.
      const selected = await clip(() => window.__clip.select("deux", 2, "Titre principal", 6));
      assert.match(selected, /^principal[\s\S]*de$/, `DOM selection: ${JSON.stringify(selected)}`);
      const copy = a.seen.copy = await clip(() => window.__clip.clipboardEvent("copy"));
      assert.equal(copy.prevented, true, "copy was not cancelled (the browser's own data would be used)");
      assert.deepEqual(copy.types.sort(), ["text/html", "text/plain"]);
      assert.equal(copy.data["text/html"], COPIED_HTML);
      assert.equal(copy.data["text/plain"], COPIED_MD);
      await waitMarkdown(a, SRC, "copy leaves the document alone");

      // 2. Paste the copied data after "fin": the blocks come back with their marks.
      await clip(() => window.__clip.select("fin", 3, "fin", 3));
      const pasted = await clip((data) => window.__clip.paste(data), copy.data);
      assert.equal(pasted, true, "paste's beforeinput was not cancelled");
      const afterPaste = SRC + "\n" + COPIED_MD;
      await waitMarkdown(a, afterPaste, "pasted after fin");

      // 3. Cut the same range: the clipboard gets the same data, the text goes.
      await clip(() => window.__clip.select("Titre principal", 6, "deux", 2));
      const cut = a.seen.cut = await clip(() => window.__clip.clipboardEvent("cut"));
      assert.equal(cut.prevented, true, "cut was not cancelled");
      assert.deepEqual(cut.data, copy.data);
      await waitMarkdown(a, "# Titre ux\n\nfin\n\n" + COPIED_MD, "the cut");

      // 4. Ctrl+Z brings the cut text back (paste was its own undo step).
      await a.page.keyboard.press("Control+z");
      await waitMarkdown(a, afterPaste, "undo of the cut");
      await a.page.keyboard.press("Control+z");
      await waitMarkdown(a, SRC, "undo of the paste");

      // 5. A collapsed selection writes nothing and leaves the browser's default.
      await clip(() => window.__clip.select("fin", 1, "fin", 1));
      const none = a.seen.collapsed = await clip(() => window.__clip.clipboardEvent("copy"));
      assert.deepEqual(none, { types: [], data: {}, prevented: false });
      // So does a selection of only a block boundary (no text in it).
      await clip(() => window.__clip.select("Titre principal", 15, "Du gras ici", 0));
      const boundary = a.seen.boundary = await clip(() => window.__clip.clipboardEvent("copy"));
      assert.deepEqual(boundary, { types: [], data: {}, prevented: false });
      noCrash(a);
    });
    await a.context.close();
  });

  test(TESTS.keyboard, { skip: skipReason ?? false }, async () => {
    const a = await openAtelier("keyboard");
    await withDump([a], async () => {
      await a.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: `http://${server.addr}` });
      await a.page.evaluate(() => window.__clip.select("Titre principal", 6, "deux", 2));
      await a.page.keyboard.press("Control+c");
      const read = async () => a.page.evaluate(async () => {
        const out = {};
        for (const item of await navigator.clipboard.read()) {
          for (const type of item.types) out[type] = await (await item.getType(type)).text();
        }
        return out;
      });
      // The system clipboard may wrap the HTML (e.g. a <meta charset>).
      a.seen.clipboard = await read();
      assert.ok(a.seen.clipboard["text/html"]?.includes(COPIED_HTML), "text/html on the clipboard");
      assert.equal(a.seen.clipboard["text/plain"], COPIED_MD);
      await a.page.evaluate(() => window.__clip.select("fin", 3, "fin", 3));
      await a.page.keyboard.press("Control+v");
      await waitMarkdown(a, SRC + "\n" + COPIED_MD, "Ctrl+V after fin");
      await a.page.evaluate(() => window.__clip.select("Titre principal", 6, "deux", 2));
      await a.page.keyboard.press("Control+x");
      await waitMarkdown(a, "# Titre ux\n\nfin\n\n" + COPIED_MD, "Ctrl+X");
      noCrash(a);
    });
    await a.context.close();
  });

  test(TESTS.markdownLazy, { skip: skipReason ?? false }, async () => {
    const a = await openAtelier("md-lazy", { load: false });
    await withDump([a], async () => {
      await typeInto(a, "Intro");
      assert.deepEqual(a.markdownFetches, [], "the Markdown module was fetched before any Markdown was used");
      await a.page.evaluate(() => window.__clip.select("Intro", 5, "Intro", 5));
      const md = "# Titre\n\n- un\n- **deux**\n";
      const prevented = await a.page.evaluate((md) => window.__clip.paste({ "text/plain": md }), md);
      assert.equal(prevented, true, "paste's beforeinput was not cancelled");
      await waitMarkdown(a, "Intro\n\n" + md, "Markdown pasted as blocks");
      assert.equal(a.markdownFetches.filter((u) => u.endsWith(".wasm")).length, 1, `fetches: ${a.markdownFetches}`);
      // Once loaded, the module is reused; the paste is one undo step.
      await a.page.evaluate(() => window.__clip.select("deux", 4, "deux", 4));
      await a.page.evaluate(() => window.__clip.paste({ "text/plain": "> cité\n" }));
      await waitMarkdown(a, "Intro\n\n" + md + "\n> cité\n", "a second Markdown paste");
      assert.equal(a.markdownFetches.filter((u) => u.endsWith(".wasm")).length, 1, `fetches: ${a.markdownFetches}`);
      await a.page.keyboard.press("Control+z");
      await waitMarkdown(a, "Intro\n\n" + md, "undo of the second paste");
      noCrash(a);
    });
    await a.context.close();
  });

  test(TESTS.markdownDown, { skip: skipReason ?? false }, async () => {
    const a = await openAtelier("md-down", { load: false, block: true });
    await withDump([a], async () => {
      await typeInto(a, "Intro");
      await a.page.evaluate(() => window.__clip.select("Intro", 5, "Intro", 5));
      await a.page.evaluate(() => window.__clip.paste({ "text/plain": "# Titre\n\nun **gras**" }));
      // Kept as plain paragraphs: every character is still there.
      await waitIn(a, "the pasted text as plain paragraphs", () => {
        const t = document.querySelector("#main .atelier-surface").innerText;
        return t.includes("# Titre") && t.includes("un **gras**");
      });
      assert.ok(a.errors.some((e) => e.includes("Markdown paste kept as plain text")),
        `no warning in the console: ${a.errors.join("\n")}`);
      const before = await a.page.evaluate(() => document.querySelector("#main").getMarkdown());
      const refused = await a.page.evaluate(() => document.querySelector("#main").setMarkdown("# autre\n")
        .then(() => "resolved", (e) => String(e && e.message)));
      assert.match(refused, /^setMarkdown: /, "setMarkdown must reject, saying why");
      assert.equal(await a.page.evaluate(() => document.querySelector("#main").getMarkdown()), before,
        "a failed setMarkdown changed the document");
      // Back online: the next use loads the module.
      await a.page.unroute("**/atelier_markdown*");
      await a.page.evaluate(() => document.querySelector("#main").setMarkdown("# autre\n"));
      await waitMarkdown(a, "# autre\n", "setMarkdown once the module loads");
      noCrash(a);
    });
    await a.context.close();
  });

  test(TESTS.toBlockNote, { skip: blockNoteSkip ?? false }, async () => {
    const a = await openAtelier("to-bn");
    const b = await openBlockNote("to-bn");
    await withDump([a, b], async () => {
      await a.page.evaluate(() => window.__clip.select("Titre principal", 6, "deux", 2));
      const copy = a.seen.copy = await a.page.evaluate(() => window.__clip.clipboardEvent("copy"));
      assert.equal(copy.data["text/plain"], COPIED_MD);

      // BlockNote reads what a paste from another application gives it.
      const paste = (data) => b.page.evaluate((data) => {
        const dt = new DataTransfer();
        for (const [type, text] of Object.entries(data)) dt.setData(type, text);
        document.querySelector("#editor").dispatchEvent(
          new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
      }, data);
      const emptyDocument = () => b.page.evaluate(() => {
        const ed = window.bnEditor;
        ed.replaceBlocks(ed.document, [{ type: "paragraph" }]);
        ed.setTextCursorPosition(ed.document[0], "start");
        ed.focus();
      });

      // Both types, as on a real clipboard (BlockNote prefers the Markdown).
      await emptyDocument();
      await paste(copy.data);
      b.seen.both = await waitIn(b, "the pasted blocks", () => window.bnBlocks().length >= 4 && window.bnBlocks());
      assert.deepEqual(await bnRows(b), COPIED_ROWS);

      // HTML alone: BlockNote understands our HTML too.
      await emptyDocument();
      await paste({ "text/html": copy.data["text/html"] });
      b.seen.htmlOnly = await waitIn(b, "the pasted HTML blocks", () => window.bnBlocks().length >= 4 && window.bnBlocks());
      assert.deepEqual(await bnRows(b), COPIED_ROWS);
      noCrash(a);
      noCrash(b);
    });
    await a.context.close();
    await b.context.close();
  });

  // BlockNote's external HTML wraps a list item's text in a paragraph
  // (`<ul><li><p>un</p></li></ul>`): the paste reader must fill the item.
  test(TESTS.fromBlockNote, { skip: blockNoteSkip ?? false }, async () => {
    const a = await openAtelier("from-bn");
    const b = await openBlockNote("from-bn");
    await withDump([a, b], async () => {
      const copy = b.seen.copy = await blockNoteCopy(b, COPIED_MD);
      assert.ok(copy.types.includes("text/html") && copy.types.includes("text/plain"), copy.types.join(", "));

      // Pasted after "fin" in Atelier, with every type BlockNote wrote.
      await a.page.evaluate(() => window.__clip.select("fin", 3, "fin", 3));
      await a.page.evaluate((data) => window.__clip.paste(data), copy.data);
      await waitMarkdown(a, SRC + "\n" + COPIED_MD, "BlockNote's blocks pasted after fin");

      // A nested list keeps its nesting (BlockNote writes the sub-list
      // inside the item's <li>).
      const NESTED = "- haut\n  - bas **gras**\n    1. tout en bas\n- fin de liste\n";
      const nested = b.seen.nested = (await blockNoteCopy(b, NESTED)).data;
      await a.page.evaluate(() => document.querySelector("#main").setMarkdown("x\n"));
      await waitMarkdown(a, "x\n", "the document reset");
      await a.page.evaluate(() => window.__clip.select("x", 1, "x", 1));
      await a.page.evaluate((data) => window.__clip.paste({ "text/html": data["text/html"] }), nested);
      await waitMarkdown(a, "x\n\n" + NESTED, "BlockNote's nested list pasted as HTML");
      noCrash(a);
      noCrash(b);
    });
    await a.context.close();
    await b.context.close();
  });
});
