// Accessibility of the demo pages (WCAG 2.1 A/AA rules of axe-core, in the
// light, dark and high-contrast themes) and keyboard-only editing of
// <atelier-editor>, in headless Chromium driven by playwright-core.
//
// Run: node --test e2e/a11y.test.mjs   (after cargo xtask dist and
// `cargo build -p atelier-server --bin atelier`). Env as in
// editor-collab.test.mjs. Missing Chromium, binary or bundle: every test is
// skipped and a line `SKIPPED: <test> (reason)` is printed.
//
// The keyboard test uses `page.keyboard` only (no mouse, no `focus()`): it
// tabs into the surface, edits, opens the link field (Ctrl+K) and the slash
// menu (axe runs with each open), leaves the surface with Escape then
// Shift+Tab (Tab itself indents inside the editor), works a toolbar button
// and checks that every focused control shows a visible focus indicator.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DEADLINE_MS, atelierAndChromium, missing, root } from "./support/harness.mjs";

const skipReason = missing();
const AXE = path.join(root, "e2e/node_modules/axe-core/axe.min.js");
const THEMES = ["light", "dark", "high-contrast", "dsfr", "neutral"];
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const env = atelierAndChromium("a11y");

/** A fresh page; console errors and page errors are collected in `errors`. */
async function newPage() {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  return { context, page, errors };
}

/** Opens editor.html on `doc`, connected to the server; waits until synced and rendered. */
async function openEditor(doc) {
  const p = await newPage();
  const q = new URLSearchParams({ doc, server: `ws://${env.server.addr}/sync`, user: "Alice", color: "#a4161a" });
  await p.page.goto(`http://${env.server.addr}/editor.html?${q}`);
  await p.page.waitForFunction(() => document.querySelector("#main")?.status === "synced"
    && document.querySelector("#main .atelier-surface [data-block-id]")
    && document.querySelector("#mirror .atelier-surface [data-block-id]"), null, { timeout: DEADLINE_MS });
  return p;
}

/** Runs axe-core (WCAG 2.1 A and AA rules) on the page; returns its violations. */
async function axe(page) {
  // Evaluated by the driver, not added as a <script>: the server's CSP
  // refuses inline scripts (e2e/csp.test.mjs).
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(readFileSync(AXE, "utf8"));
  return page.evaluate(async (values) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values }, resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ html: n.html, target: n.target, summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

/** Asserts no axe violation, printing each one (id, impact, help, nodes) otherwise. */
async function assertAxeClean(page, where) {
  const violations = await axe(page);
  if (violations.length) {
    const lines = [`axe: ${violations.length} violation(s) on ${where}`];
    for (const v of violations) {
      lines.push(`- ${v.id} [${v.impact}] ${v.help}`);
      for (const n of v.nodes) lines.push(`    ${JSON.stringify(n.target)} ${n.html}\n      ${(n.summary || "").replace(/\n/g, "\n      ")}`);
    }
    console.error(lines.join("\n"));
  }
  assert.deepEqual(violations.map((v) => v.id), [], `axe violations on ${where}`);
}

/** Sets the theme of the page and of both editors (what the page's own theme control does). */
async function setTheme(page, theme) {
  await page.evaluate((t) => {
    document.documentElement.setAttribute("data-atelier-theme", t);
    for (const el of document.querySelectorAll("atelier-editor")) el.theme = t;
  }, theme);
  await page.waitForFunction((t) => [...document.querySelectorAll("atelier-editor")]
    .every((el) => el.getAttribute("data-atelier-theme") === t), theme, { timeout: DEADLINE_MS });
}

/**
 * Non-text contrast (WCAG 1.4.11, which axe does not check): the editor's
 * frame and the toolbar buttons' borders against what is behind them, and
 * the focus colour against the toolbar and the editor. Returns the failures.
 */
function nonTextContrast(page) {
  return page.evaluate(() => {
    const parse = (c) => c.match(/[\d.]+/g).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const bgOf = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length < 4 || c[3] > 0) return c;
      }
      return [255, 255, 255];
    };
    const resolve = (inside, value) => {
      const probe = document.createElement("span");
      probe.style.color = value;
      inside.append(probe);
      const c = parse(getComputedStyle(probe).color);
      probe.remove();
      return c;
    };
    const failures = [];
    const check = (what, fg, bg) => {
      const r = ratio(fg, bg);
      if (r < 3) failures.push(`${what}: rgb(${fg}) on rgb(${bg}) is ${r.toFixed(2)}:1`);
    };
    for (const id of ["main", "mirror"]) {
      const editor = document.querySelector(`#${id} .atelier-editor`);
      check(`#${id} frame`, parse(getComputedStyle(editor).borderTopColor), bgOf(editor.parentElement));
    }
    const toolbar = document.querySelector("#main .atelier-toolbar");
    const tool = toolbar.querySelector(".atelier-tool-italic");
    check("tool border", parse(getComputedStyle(tool).borderTopColor), bgOf(toolbar));
    const focus = resolve(toolbar, "var(--atelier-focus)");
    check("focus on toolbar", focus, bgOf(toolbar));
    check("focus on editor", focus, bgOf(document.querySelector("#main .atelier-surface")));
    return failures;
  });
}

/** What has keyboard focus, and whether its focus indicator is visible. */
function focusInfo(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: "body", visible: false };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2
      && !/rgba\(.*, 0\)$/.test(cs.outlineColor);
    return {
      tag: el.tagName.toLowerCase(),
      cls: el.className,
      label: el.getAttribute("aria-label") || el.textContent.trim().slice(0, 30),
      surface: el.classList.contains("atelier-surface") && !!el.closest("#main"),
      disabled: !!el.disabled,
      focusVisible: el.matches(":focus-visible"),
      outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`,
      visible: el.matches(":focus-visible") && outline,
    };
  });
}

/** Presses `key` until `pred(focusInfo)` holds (at most `max` times); checks focus is visible each step. */
async function pressUntilFocused(page, key, pred, what, max = 30) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focusInfo(page);
    seen.push(f);
    assert.ok(f.visible, `focus not visible on ${JSON.stringify(f)} (after ${key} × ${i + 1})`);
    if (pred(f)) return f;
  }
  throw new Error(`${what}: not reached with ${key} × ${max}; focus went through ${JSON.stringify(seen, null, 1)}`);
}

const markdown = (page) => page.evaluate(() => document.querySelector("#main").getMarkdown());

/** Waits until the document's Markdown equals `want`. */
async function waitMarkdown(page, want, what) {
  try {
    await page.waitForFunction((w) => document.querySelector("#main").getMarkdown() === w, want, { timeout: DEADLINE_MS });
  } catch {
    assert.equal(await markdown(page), want, `${what}: Markdown not reached within ${DEADLINE_MS} ms`);
  }
}

describe("accessibility", { skip: skipReason ?? false }, () => {
  const names = ["editor page has no WCAG 2.1 AA violation in each theme",
    "index page (the gallery) has no WCAG 2.1 AA violation in each theme", "editor is fully usable with the keyboard"];
  if (skipReason) for (const name of names) console.log(`SKIPPED: ${name} (${skipReason})`);

  test(names[0], async () => {
    const p = await openEditor(`a11y-${Date.now()}`);
    try {
      // Some content of every kind the sample has, so every rendering is checked.
      await p.page.evaluate(() => document.querySelector("#main").setMarkdown(
        "# Titre\n\nDu **gras**, de l’*italique*, du `code` et un [lien](https://example.org).\n\n"
        + "- une liste\n  - imbriquée\n1. un\n- [ ] une tâche\n- [x] faite\n\n> une citation\n\n```\ncode\n```\n\n---\n"));
      await p.page.waitForFunction(() => document.querySelector("#mirror .atelier-check-input"), null, { timeout: DEADLINE_MS });
      for (const theme of THEMES) {
        await setTheme(p.page, theme);
        await assertAxeClean(p.page, `editor.html (${theme})`);
        assert.deepEqual(await nonTextContrast(p.page), [], `non-text contrast (${theme})`);
      }
      // No theme chosen, the system prefers dark.
      await p.page.emulateMedia({ colorScheme: "dark" });
      await p.page.evaluate(() => {
        document.documentElement.removeAttribute("data-atelier-theme");
        for (const el of document.querySelectorAll("atelier-editor")) el.removeAttribute("theme");
      });
      await p.page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === "rgb(22, 22, 22)",
        null, { timeout: DEADLINE_MS });
      await assertAxeClean(p.page, "editor.html (system dark)");
      assert.deepEqual(await nonTextContrast(p.page), [], "non-text contrast (system dark)");
      assert.deepEqual(p.errors.filter((e) => /panicked|RuntimeError/.test(e)), []);
    } finally {
      await p.context.close();
    }
  });

  test(names[1], async () => {
    const p = await newPage();
    try {
      await p.page.goto(`http://${env.server.addr}/index.html`);
      // The gallery: its server status checked and its first story shown.
      await p.page.waitForFunction(() => document.getElementById("g-health")?.dataset.health
        && document.getElementById("g-main")?.dataset.ready, null, { timeout: DEADLINE_MS });
      for (const theme of THEMES) {
        await p.page.evaluate((t) => document.documentElement.setAttribute("data-atelier-theme", t), theme);
        await assertAxeClean(p.page, `index.html (${theme})`);
      }
    } finally {
      await p.context.close();
    }
  });

  test(names[2], async () => {
    const p = await openEditor(`a11y-kbd-${Date.now()}`);
    const { page } = p;
    const log = [];
    try {
      // 1. Tab from the top of the page into the editing surface.
      await pressUntilFocused(page, "Tab", (f) => f.surface, "the editing surface");
      await assertAxeClean(page, "editor.html with the surface focused");

      // 2. Type a paragraph; bold a word selected with Shift+Arrow.
      await page.keyboard.type("Hello world");
      await waitMarkdown(page, "Hello world\n", "typing");
      for (let i = 0; i < "world".length; i++) await page.keyboard.press("Shift+ArrowLeft");
      await page.keyboard.press("Control+b");
      await waitMarkdown(page, "Hello **world**\n", "Ctrl+B");
      log.push(await markdown(page));

      // 2b. Ctrl+K opens the link field on the selection, focused; a refused
      //     address is announced; Escape gives the selection back.
      await page.keyboard.press("Control+k");
      await page.waitForFunction(() => document.activeElement?.matches("#main .atelier-link-field input"), null, { timeout: DEADLINE_MS });
      assert.ok((await focusInfo(page)).visible, "focus visible in the link field");
      await assertAxeClean(page, "editor.html with the link field open");
      await page.keyboard.type("javascript:alert(1)");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector("#main .atelier-link-field [role=alert]")?.textContent, null, { timeout: DEADLINE_MS });
      await assertAxeClean(page, "editor.html with a link refused");
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => document.activeElement?.matches("#main .atelier-surface") && String(getSelection()) === "world",
        null, { timeout: DEADLINE_MS });
      await waitMarkdown(page, "Hello **world**\n", "nothing linked");

      // 3. Slash menu at the start of a new block: "Heading 1" with arrows + Enter.
      await page.keyboard.press("End");
      await page.keyboard.press("Enter");
      await page.keyboard.type("/");
      await page.waitForSelector("#main [role=listbox] [role=option]", { timeout: DEADLINE_MS });
      await assertAxeClean(page, "editor.html with the slash menu open");
      // Nothing matches: a status line says so, and the page stays clean.
      await page.keyboard.type("zzz");
      await page.waitForFunction(() => !document.querySelector("#main .atelier-slash-menu [role=option]")
        && document.querySelector("#main .atelier-slash-menu [role=status]")?.textContent, null, { timeout: DEADLINE_MS });
      await assertAxeClean(page, "editor.html with the slash menu matching nothing");
      for (let i = 0; i < 3; i++) await page.keyboard.press("Backspace");
      await page.waitForSelector("#main [role=listbox] [role=option]", { timeout: DEADLINE_MS });
      const active = () => page.evaluate(() => {
        const s = document.querySelector("#main .atelier-surface");
        const id = s.getAttribute("aria-activedescendant");
        return id ? document.getElementById(id)?.textContent : null;
      });
      const wanted = await page.evaluate(() => document.querySelectorAll("#main [role=option]")[1].textContent);
      for (let i = 0; i < 12 && (await active()) !== wanted; i++) await page.keyboard.press("ArrowDown");
      assert.equal(await active(), wanted, "the Heading 1 option is active");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#main [role=listbox]", { state: "detached", timeout: DEADLINE_MS });
      await page.keyboard.type("Title");
      await waitMarkdown(page, "Hello **world**\n\n# Title\n", "heading from the slash menu");
      assert.equal((await focusInfo(page)).surface, true, "focus stays in the surface");

      // 4. Select the heading's text, leave the surface (Escape, Shift+Tab)
      //    and make it italic with the toolbar button (Space), then bold (Enter).
      for (let i = 0; i < "Title".length; i++) await page.keyboard.press("Shift+ArrowLeft");
      await page.keyboard.press("Escape");
      const italic = await pressUntilFocused(page, "Shift+Tab", (f) => /italic/.test(f.cls), "the Italic button", 12);
      assert.equal(italic.tag, "button");
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-pressed")), "false");
      await page.keyboard.press("Space");
      await waitMarkdown(page, "Hello **world**\n\n# _Title_\n", "Italic button (Space)");
      await page.waitForFunction(() => document.activeElement.getAttribute("aria-pressed") === "true", null, { timeout: DEADLINE_MS });
      const nowFocused = await focusInfo(page);
      assert.ok(nowFocused.visible && /italic/.test(nowFocused.cls), `focus stays visible on the button: ${JSON.stringify(nowFocused)}`);
      await pressUntilFocused(page, "Shift+Tab", (f) => /bold/.test(f.cls), "the Bold button", 3);
      await page.keyboard.press("Enter");
      await waitMarkdown(page, "Hello **world**\n\n# **_Title_**\n", "Bold button (Enter)");

      // 5. On along the toolbar with Tab to Undo (Enter undoes the bold), on
      //    into the surface, where Ctrl+Z undoes the italic.
      await pressUntilFocused(page, "Tab", (f) => /undo/.test(f.cls), "the Undo button", 10);
      await page.keyboard.press("Enter");
      await waitMarkdown(page, "Hello **world**\n\n# _Title_\n", "Undo button (Enter)");
      await pressUntilFocused(page, "Tab", (f) => f.surface, "the editing surface again", 4);
      await page.keyboard.press("Control+z");
      await waitMarkdown(page, "Hello **world**\n\n# Title\n", "Ctrl+Z");
      log.push(await markdown(page));
      assert.deepEqual(p.errors.filter((e) => /panicked|RuntimeError/.test(e)), []);
    } catch (e) {
      const dump = await page.evaluate(() => ({
        md: document.querySelector("#main")?.getMarkdown(),
        html: document.querySelector("#main .atelier-surface")?.innerHTML,
        active: document.activeElement?.outerHTML?.slice(0, 200),
      })).catch((err) => ({ error: String(err) }));
      console.error("--- page:", JSON.stringify(dump, null, 2), "\nsteps:", log, "\nconsole:", p.errors.join("\n"));
      throw e;
    } finally {
      await p.context.close();
    }
  });
});
