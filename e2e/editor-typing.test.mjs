// The editor as a person types it (issue 22), in headless Chromium driven
// by playwright-core, with the keyboard only: where the slash menu opens
// (next to the caret, in a short and in a long scrolled document), what it
// lists, the Markdown shortcuts (inline marks that stop at their closing
// mark, block shortcuts that Backspace undoes), and links from the
// keyboard (Ctrl+K, a URL pasted over selected text).
//
// Run: node --test e2e/editor-typing.test.mjs   (after cargo xtask dist and
// `cargo build -p atelier-server --bin atelier`). Env as in
// editor-collab.test.mjs; ATELIER_SCREENSHOTS names the directory the slash
// menu screenshots go to (default target/e2e-screenshots; each path is
// printed). Missing Chromium, binary or bundle: every test is skipped and a
// line `SKIPPED: <test> (reason)` is printed.
//
// Every check reads the model (the element's getHTML() and getMarkdown())
// and the rendered surface; waits are for conditions with deadlines, and a
// failing check prints what it saw.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DEADLINE_MS, atelierAndChromium, missing, root } from "./support/harness.mjs";

const skipReason = missing();
const env = atelierAndChromium("typing");
const SHOTS = path.resolve(root, process.env.ATELIER_SCREENSHOTS || "target/e2e-screenshots");
/** Typing is applied to the model in the key's own event: a short deadline is plenty. */
const SETTLE_MS = 5_000;

/** Opens editor.html (French interface) on a fresh document; waits until synced and rendered. */
async function openEditor(name, viewport = { width: 1000, height: 760 }) {
  const context = await env.browser.newContext({ viewport });
  const page = await context.newPage();
  await page.addInitScript(installGeometry);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const q = new URLSearchParams({ doc: `typing-${name}-${Date.now()}`, server: `ws://${env.server.addr}/sync`, user: "Alice" });
  await page.goto(`http://${env.server.addr}/editor.html?${q}`);
  await page.waitForFunction(() => document.querySelector("#main")?.status === "synced"
    && document.querySelector("#main .atelier-surface [data-block-id]"), null, { timeout: DEADLINE_MS });
  return { context, page, errors };
}

/** Presses Tab until the editing surface of #main has focus (keyboard only). */
async function tabIntoSurface(page) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.matches("#main .atelier-surface"))) return;
  }
  throw new Error(`Tab never reached the editing surface; focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}`);
}

/** What the page shows now: the model as HTML and Markdown, the surface, the menu, focus. */
function snapshot(page) {
  return page.evaluate(() => {
    const main = document.querySelector("#main");
    const menu = main.querySelector(".atelier-slash-menu");
    return {
      html: main.getHTML(),
      markdown: main.getMarkdown(),
      surface: main.querySelector(".atelier-surface")?.innerHTML,
      menu: menu ? { text: menu.innerText, style: menu.getAttribute("style") } : null,
      linkField: main.querySelector(".atelier-link-field")?.outerHTML ?? null,
      focus: document.activeElement?.outerHTML.slice(0, 160),
    };
  }).catch((e) => ({ error: String(e) }));
}

/** Waits until `fn(arg)` is truthy in the page; on timeout fails with `what` and a snapshot. */
async function waitFor(page, what, fn, arg, timeout = SETTLE_MS) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout, polling: 25 })).jsonValue();
  } catch (e) {
    const seen = await snapshot(page);
    throw new Error(`${what}: not seen within ${timeout} ms (${e.message.split("\n")[0]})\nseen: ${JSON.stringify(seen, null, 2)}`);
  }
}

/** Waits until the model's HTML is `html` and its Markdown is `md`; prints both otherwise. */
async function expectDoc(page, html, md, what) {
  await waitFor(page, `${what}: HTML ${html}`, (w) => document.querySelector("#main").getHTML() === w, html);
  assert.equal(await page.evaluate(() => document.querySelector("#main").getMarkdown()), md, `${what}: Markdown`);
}

/** The texts of the slash menu's options, or null when it is closed. */
const menuOptions = (page) => page.evaluate(() => {
  const menu = document.querySelector("#main .atelier-slash-menu");
  return menu ? [...menu.querySelectorAll("[role=option]")].map((o) => o.textContent) : null;
});

/**
 * In-page helper (installed before the page's scripts; the page's CSP
 * forbids evaluating strings): the slash menu's box against the caret, in
 * viewport pixels, with the verdicts the tests assert for `side` ("below"
 * or "above"): next to the caret, inside the viewport, over neither the
 * caret's line nor (below) the text above it.
 */
function installGeometry() {
  const box = (r) => ({ top: r.top, bottom: r.bottom, left: r.left, right: r.right });
  const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  window.__menuGeometry = (side) => {
    const menu = document.querySelector("#main .atelier-slash-menu");
    const sel = getSelection();
    if (!menu || !sel.rangeCount) return { ok: false, menu: !!menu, ranges: sel.rangeCount };
    const range = sel.getRangeAt(0);
    let c = range.getBoundingClientRect();
    if (!c.height) c = range.getClientRects()[0] ?? range.startContainer.parentElement.getBoundingClientRect();
    const caret = box(c);
    const m = box(menu.getBoundingClientRect());
    const vw = document.documentElement.clientWidth;
    const vh = window.innerHeight;
    const below = m.top >= caret.bottom - 0.5;
    const above = m.bottom <= caret.top + 0.5;
    // Text above the caret: block contents that end above its line and show in the viewport.
    const textAbove = [...document.querySelectorAll("#main [data-atelier-content]")]
      .map((e) => box(e.getBoundingClientRect()))
      .filter((r) => r.bottom <= caret.top + 0.5 && r.bottom > 0 && r.top < vh);
    const g = {
      side, caret, menu: m, viewport: { width: vw, height: vh }, scrollY: window.scrollY,
      below, above,
      gap: below ? m.top - caret.bottom : caret.top - m.bottom,
      inViewport: m.top >= 0 && m.left >= 0 && m.bottom <= vh && m.right <= vw,
      coversCaretLine: !below && !above,
      coversTextAbove: textAbove.filter((r) => overlaps(r, m)).length,
      horizontalDistance: Math.max(0, m.left - caret.left, caret.left - m.right),
    };
    g.ok = g[side] && g.gap >= 0 && g.gap <= 16 && g.inViewport && !g.coversCaretLine
      && g.horizontalDistance <= 24 && (side === "above" || g.coversTextAbove === 0);
    return g;
  };
}

/** Waits until the caret's line keeps its place in the page for 10 animation frames in a row; throws with its last positions otherwise. */
async function caretSettled(page) {
  const seen = await page.evaluate((deadlineMs) => new Promise((resolve) => {
    const ys = [];
    let same = 0;
    const end = performance.now() + deadlineMs;
    const tick = () => {
      const sel = getSelection();
      const y = sel.rangeCount ? sel.getRangeAt(0).getBoundingClientRect().top + scrollY : null;
      same = ys.length && ys[ys.length - 1] === y ? same + 1 : 0;
      ys.push(y);
      if (same >= 10) resolve({ settled: true, y });
      else if (performance.now() > end) resolve({ settled: false, last: ys.slice(-20) });
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }), DEADLINE_MS);
  assert.ok(seen.settled, `the caret's line kept moving: ${JSON.stringify(seen)}`);
}

/** Waits until the slash menu sits next to the caret on `side` ("below" or "above"); prints the boxes otherwise. */
async function expectMenuNextToCaret(page, side, what) {
  try {
    await page.waitForFunction((s) => window.__menuGeometry(s).ok, side, { timeout: SETTLE_MS, polling: 25 });
  } catch { /* the check below says what is wrong */ }
  const g = await page.evaluate((s) => window.__menuGeometry(s), side);
  assert.ok(g.ok, `${what}: the slash menu is not ${side} the caret, next to it and inside the viewport:\n${JSON.stringify(g, null, 2)}`);
  return g;
}

/** Saves a screenshot of the viewport for a reviewer and prints its path. */
async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot: ${file}`);
}

/** Runs `body(p)` on a fresh page, printing a snapshot and the console when it throws. */
async function withEditor(name, body, viewport) {
  const p = await openEditor(name, viewport);
  try {
    await tabIntoSurface(p.page);
    await body(p);
    assert.deepEqual(p.errors.filter((e) => /panicked|RuntimeError/.test(e)), [], "page errors");
  } catch (e) {
    console.error(`--- ${name}:`, JSON.stringify(await snapshot(p.page), null, 2), "\nconsole:", p.errors.join("\n"));
    throw e;
  } finally {
    await p.context.close();
  }
}

const SLASH = {
  short: "the slash menu opens next to the caret after eight typed paragraphs",
  long: "the slash menu opens next to the caret at the end of a long scrolled document",
  flip: "with no room below the caret the slash menu opens above it, inside the viewport",
  filter: "the slash menu filters on its items' own words and English aliases, and closes as expected",
};

const INLINE = [
  { name: "**bold**", typed: "**gras** puis normal", html: "<p><strong>gras</strong> puis normal</p>", md: "**gras** puis normal\n" },
  { name: "*italic*", typed: "*penché* puis normal", html: "<p><em>penché</em> puis normal</p>", md: "_penché_ puis normal\n" },
  { name: "_italic_", typed: "_penché_ puis normal", html: "<p><em>penché</em> puis normal</p>", md: "_penché_ puis normal\n" },
  { name: "~~strike~~", typed: "~~barré~~ puis normal", html: "<p><s>barré</s> puis normal</p>", md: "~~barré~~ puis normal\n" },
  { name: "`code`", typed: "`x = 1` puis normal", html: "<p><code>x = 1</code> puis normal</p>", md: "`x = 1` puis normal\n" },
];

const LITERAL = "inline marks stay literal inside words and inside code";

// `leave`: the keys that leave the block (Enter after a heading; twice in
// a list, the first leaving an empty item); a quote is not left.
const BLOCK = [
  { name: "# ", surface: "h1", leave: 1, html: "<h1>Titre</h1><p>suite</p>", md: "# Titre\n\nsuite\n", back: "<p># </p>" },
  { name: "- ", surface: "[data-type=bulletListItem]", leave: 2, html: "<ul><li>Titre</li></ul><p>suite</p>", md: "- Titre\n\nsuite\n", back: "<p>- </p>" },
  { name: "1. ", surface: "[data-type=numberedListItem]", leave: 2, html: "<ol><li>Titre</li></ol><p>suite</p>", md: "1. Titre\n\nsuite\n", back: "<p>1. </p>" },
  { name: "[] ", surface: "[data-type=checkListItem]", leave: 2, html: "<ul><li><input type=\"checkbox\" disabled> Titre</li></ul><p>suite</p>", md: "- [ ] Titre\n\nsuite\n", back: "<p>[] </p>" },
  { name: "> ", surface: "blockquote", leave: 0, html: "<blockquote>Titre suite</blockquote>", md: "> Titre suite\n", back: "<p>&gt; </p>" },
];

const LINK = {
  ctrlK: "Ctrl+K opens a link field on the selection; Enter links it, text typed after is plain",
  refused: "the link field refuses anything but http, https and mailto with a message, and Escape gives the text back",
  paste: "a URL pasted over selected text links it",
};

const ALL = [
  ...Object.values(SLASH),
  ...INLINE.map((s) => `typing ${s.name} marks the text, and what follows is plain`),
  LITERAL,
  ...BLOCK.map((s) => `"${s.name}" changes the block, Backspace right after gives the characters back`),
  ...Object.values(LINK),
];

describe("the editor as a person types it", { skip: skipReason ?? false }, () => {
  if (skipReason) for (const name of ALL) console.log(`SKIPPED: ${name} (${skipReason})`);

  test(SLASH.short, () => withEditor("slash-short", async ({ page }) => {
    for (let i = 1; i <= 8; i++) {
      await page.keyboard.type(`Paragraphe ${i}, tapé au clavier.`);
      await page.keyboard.press("Enter");
    }
    await page.keyboard.type("/");
    await waitFor(page, "the slash menu", () => document.querySelector("#main [role=listbox] [role=option]"));
    await expectMenuNextToCaret(page, "below", "short document");
    await screenshot(page, "slash-menu-short-document");
    await page.keyboard.press("Escape");
    await waitFor(page, "the menu closed by Escape", () => !document.querySelector("#main .atelier-slash-menu"));
  }));

  test(SLASH.long, () => withEditor("slash-long", async ({ page }) => {
    const md = Array.from({ length: 120 }, (_, i) => `Paragraphe ${i + 1} d’un long document.`).join("\n\n");
    await page.evaluate((m) => document.querySelector("#main").setMarkdown(m), md);
    await waitFor(page, "the long document", () => document.querySelectorAll("#main [data-block-id]").length === 120, null, DEADLINE_MS);
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    // The chunks the jump brought into view are laid out at their real
    // height over a few frames (content-visibility), moving the caret's
    // line: the menu is placed when it opens, so type once that settled.
    await caretSettled(page);
    await page.keyboard.type("/");
    await waitFor(page, "the slash menu", () => document.querySelector("#main [role=listbox] [role=option]"));
    const g = await expectMenuNextToCaret(page, "below", "long document");
    assert.ok(g.scrollY > 1000, `the page is scrolled down to the end of the document: ${JSON.stringify(g)}`);
    await screenshot(page, "slash-menu-long-document");
  }));

  test(SLASH.flip, () => withEditor("slash-flip", async ({ page }) => {
    // The editor alone at the bottom of the page: nothing below it to scroll to.
    await page.evaluate(() => {
      for (const el of document.querySelectorAll("#mirror, h2, #out")) el.style.display = "none";
      document.body.style.paddingBottom = "0";
    });
    const md = Array.from({ length: 60 }, (_, i) => `Ligne ${i + 1}.`).join("\n\n");
    await page.evaluate((m) => document.querySelector("#main").setMarkdown(m), md);
    await waitFor(page, "the document", () => document.querySelectorAll("#main [data-block-id]").length === 60, null, DEADLINE_MS);
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    // The page scrolled to its end, the caret's line near the bottom of the viewport.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.keyboard.type("/");
    await waitFor(page, "the slash menu", () => document.querySelector("#main [role=listbox] [role=option]"));
    await expectMenuNextToCaret(page, "above", "caret at the bottom of the page");
    await screenshot(page, "slash-menu-above-the-caret");
  }));

  test(SLASH.filter, () => withEditor("slash-filter", async ({ page }) => {
    const options = async (typed, want, what) => {
      await page.keyboard.type(typed);
      try {
        await page.waitForFunction((w) => {
          const m = document.querySelector("#main .atelier-slash-menu");
          return m && JSON.stringify([...m.querySelectorAll("[role=option]")].map((o) => o.textContent)) === JSON.stringify(w);
        }, want, { timeout: SETTLE_MS, polling: 25 });
      } catch { /* asserted below */ }
      assert.deepEqual(await menuOptions(page), want, what);
    };
    // French interface: "/tit" lists the three headings ("Titre"), not the lists.
    await options("/tit", ["Titre 1", "Titre 2", "Titre 3"], "/tit");
    // English aliases.
    for (let i = 0; i < 3; i++) await page.keyboard.press("Backspace");
    await options("h2", ["Titre 2"], "/h2");
    for (let i = 0; i < 2; i++) await page.keyboard.press("Backspace");
    await options("quote", ["Citation"], "/quote");
    for (let i = 0; i < 5; i++) await page.keyboard.press("Backspace");
    await options("liste", ["Liste à puces", "Liste numérotée", "Liste de tâches"], "/liste");
    // Nothing matches: "no result" is said, and no option is offered.
    for (let i = 0; i < 5; i++) await page.keyboard.press("Backspace");
    await options("zzz", [], "/zzz");
    await waitFor(page, "the \"no result\" message", () => /Aucun résultat/.test(document.querySelector("#main .atelier-slash-menu")?.textContent ?? ""));
    // Escape closes it and keeps the text.
    await page.keyboard.press("Escape");
    await waitFor(page, "the menu closed by Escape", () => !document.querySelector("#main .atelier-slash-menu"));
    await expectDoc(page, "<p>/zzz</p>", "/zzz\n", "Escape");
    // A space right after "/" closes it.
    for (let i = 0; i < 4; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type("/");
    await waitFor(page, "the menu", () => document.querySelector("#main .atelier-slash-menu [role=option]"));
    await page.keyboard.type(" ");
    await waitFor(page, "the menu closed by a space", () => !document.querySelector("#main .atelier-slash-menu"));
    await expectDoc(page, "<p>/ </p>", "/ \n", "a space after /");
    // A click elsewhere on the page closes it.
    for (let i = 0; i < 2; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type("/");
    await waitFor(page, "the menu", () => document.querySelector("#main .atelier-slash-menu [role=option]"));
    await page.mouse.click(5, 5);
    await waitFor(page, "the menu closed by a click elsewhere", () => !document.querySelector("#main .atelier-slash-menu"));
    await expectDoc(page, "<p>/</p>", "/\n", "a click elsewhere");
  }));

  for (const s of INLINE) {
    test(`typing ${s.name} marks the text, and what follows is plain`, () => withEditor(`inline-${s.name}`, async ({ page }) => {
      await page.keyboard.type(s.typed);
      await expectDoc(page, s.html, s.md, s.name);
      // The rendered surface shows the same runs.
      const tag = { "<strong>": "strong", "<em>": "em", "<s>": "s", "<code>": "code" }[s.html.match(/<(strong|em|s|code)>/)[0]];
      const runs = await page.evaluate((t) => [...document.querySelectorAll(`#main .atelier-surface ${t}`)].map((e) => e.textContent), tag);
      assert.deepEqual(runs, [s.html.match(/>([^<]*)<\//)[1]], `${s.name}: the marked runs in the surface`);
    }));
  }

  test(LITERAL, () => withEditor("literal", async ({ page }) => {
    await page.keyboard.type("snake_case_name et 2*3*4 et `a*b*` ici");
    await expectDoc(page, "<p>snake_case_name et 2*3*4 et <code>a*b*</code> ici</p>",
      "snake\\_case\\_name et 2\\*3\\*4 et `a*b*` ici\n", "inside words, inside code");
    // In a code block nothing is a shortcut.
    await page.keyboard.press("Enter");
    await page.keyboard.type("```");
    await waitFor(page, "a code block", () => document.querySelector("#main [data-type=codeBlock]"));
    await page.keyboard.type("**pas gras** et *pas penché*");
    await waitFor(page, "literal text in the code block",
      () => document.querySelector("#main").getHTML().includes("**pas gras** et *pas penché*</code></pre>"));
  }));

  for (const s of BLOCK) {
    test(`"${s.name}" changes the block, Backspace right after gives the characters back`, () => withEditor(`block-${s.name.trim()}`, async ({ page }) => {
      await page.keyboard.type(s.name);
      await waitFor(page, `the block made by "${s.name}"`, (sel) => document.querySelector(`#main .atelier-surface ${sel}`), s.surface);
      // Backspace right after the shortcut: a paragraph again, holding what was typed.
      await page.keyboard.press("Backspace");
      await waitFor(page, `"${s.name}" given back by Backspace`, (w) => document.querySelector("#main").getHTML() === w, s.back);
      const caret = await page.evaluate(() => getSelection().focusOffset);
      assert.equal(caret, s.name.length, "the caret is after the characters given back");
      // Type the shortcut again, then text; leave the block and type on.
      for (let i = 0; i < s.name.length; i++) await page.keyboard.press("Backspace");
      await page.keyboard.type(`${s.name}Titre`);
      for (let i = 0; i < s.leave; i++) await page.keyboard.press("Enter");
      await page.keyboard.type(s.leave ? "suite" : " suite");
      await expectDoc(page, s.html, s.md, s.name);
    }));
  }

  test(LINK.ctrlK, () => withEditor("link-ctrl-k", async ({ page }) => {
    await page.keyboard.type("Voir le site");
    for (let i = 0; i < "site".length; i++) await page.keyboard.press("Shift+ArrowLeft");
    await page.keyboard.press("Control+k");
    await waitFor(page, "the link field, focused", () => document.activeElement?.matches("#main .atelier-link-field input"));
    await page.keyboard.type("https://example.org/page");
    await page.keyboard.press("Enter");
    await expectDoc(page, '<p>Voir le <a href="https://example.org/page" rel="noopener noreferrer">site</a></p>',
      "Voir le [site](https://example.org/page)\n", "Ctrl+K");
    await waitFor(page, "focus back in the surface, the field closed",
      () => document.activeElement?.matches("#main .atelier-surface") && !document.querySelector("#main .atelier-link-field"));
    await page.keyboard.press("End");
    await page.keyboard.type(" puis normal");
    await expectDoc(page, '<p>Voir le <a href="https://example.org/page" rel="noopener noreferrer">site</a> puis normal</p>',
      "Voir le [site](https://example.org/page) puis normal\n", "text typed after the link");
  }));

  test(LINK.refused, () => withEditor("link-refused", async ({ page }) => {
    await page.keyboard.type("Cliquez ici");
    for (let i = 0; i < "ici".length; i++) await page.keyboard.press("Shift+ArrowLeft");
    await page.keyboard.press("Control+k");
    await waitFor(page, "the link field, focused", () => document.activeElement?.matches("#main .atelier-link-field input"));
    await page.keyboard.type("javascript:alert(1)");
    await page.keyboard.press("Enter");
    await waitFor(page, "the refusal message", () => {
      const f = document.querySelector("#main .atelier-link-field");
      const input = f?.querySelector("input");
      return input?.getAttribute("aria-invalid") === "true"
        && /http, https/.test(f.querySelector("[role=alert]")?.textContent ?? "")
        && document.activeElement === input;
    });
    assert.equal(await page.evaluate(() => document.querySelector("#main").getHTML()), "<p>Cliquez ici</p>", "nothing linked");
    await page.keyboard.press("Escape");
    await waitFor(page, "focus back in the surface with the selection",
      () => document.activeElement?.matches("#main .atelier-surface") && String(getSelection()) === "ici"
        && !document.querySelector("#main .atelier-link-field"));
    // mailto is allowed.
    await page.keyboard.press("Control+k");
    await waitFor(page, "the link field again", () => document.activeElement?.matches("#main .atelier-link-field input"));
    await page.keyboard.type("mailto:contact@example.org");
    await page.keyboard.press("Enter");
    await expectDoc(page, '<p>Cliquez <a href="mailto:contact@example.org" rel="noopener noreferrer">ici</a></p>',
      "Cliquez [ici](mailto:contact@example.org)\n", "mailto link");
  }));

  test(LINK.paste, () => withEditor("link-paste", async ({ page, context }) => {
    // The URL is on the clipboard as if copied from the address bar.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(page.url()).origin });
    await page.evaluate(() => navigator.clipboard.writeText("https://example.org/doc"));
    await page.keyboard.type("Lire la documentation");
    for (let i = 0; i < "documentation".length; i++) await page.keyboard.press("Shift+ArrowLeft");
    await page.keyboard.press("Control+v");
    await expectDoc(page, '<p>Lire la <a href="https://example.org/doc" rel="noopener noreferrer">documentation</a></p>',
      "Lire la [documentation](https://example.org/doc)\n", "URL pasted over the selection");
    // With nothing selected the URL is pasted as text.
    await page.keyboard.press("End");
    await page.keyboard.type(" ");
    await page.keyboard.press("Control+v");
    await waitFor(page, "the URL pasted as text", () => document.querySelector("#main").getHTML().endsWith(" https://example.org/doc</p>"));
  }));
});
