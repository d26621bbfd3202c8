// One message catalogue, switched live (issue 15): the gallery's main story
// (editor, chat and assistant on one document, served by the real
// `atelier serve`) is switched through fr, de, nl and en with the gallery's
// language switcher, and after each switch no string of the page — text,
// accessible names, titles, placeholders — is a catalogue message of
// another language that the current one does not also have. The test knows
// every catalogue key: it reads `pkg/messages.json`, which `cargo xtask
// dist` writes from crates/atelier-i18n/messages/, checks that the four
// languages have the same keys, and proves that its detector can fail by
// planting one foreign message first.
//
// Run: node --test e2e/i18n.test.mjs   (after `cargo xtask dist` and
// `cargo build -p atelier-server --bin atelier`). Missing Chromium, binary
// or bundle: the test is skipped and `SKIPPED: <test> (reason)` printed.
// Waits are for conditions with deadlines; a failure prints what was seen.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM, FLAGS, WWW, missing, startAtelier, waitUntil } from "./support/harness.mjs";

const CATALOGUE = path.join(WWW, "pkg/messages.json");
const LANGS = ["fr", "de", "nl", "en"];
const NAMES = [
  "the catalogue has the same keys in fr, de, nl and en",
  "switching the language live leaves no string of another language in any widget or the gallery",
];
const skipReason = missing() || (existsSync(CATALOGUE) ? null : "www/pkg/messages.json missing: run cargo xtask dist");
if (skipReason) for (const n of NAMES) console.log(`SKIPPED: ${n} (${skipReason})`);

/** Every form a message takes: a plain text, or one per plural variant. */
function forms(value) {
  return typeof value === "string" ? [value] : Object.values(value);
}

/**
 * A matcher for one message form: exact text, or, with variables
 * (`{ $n }`), a pattern whose variables match anything; null for a form
 * with fewer than 4 letters of its own (too short to tell languages apart).
 */
function matcher(form) {
  const literal = form.replace(/\{\s*\$[\w-]+\s*\}/g, "");
  if (literal.replace(/[^\p{L}]/gu, "").length < 4) return null;
  if (literal === form) return (s) => s === form;
  const parts = form.split(/\{\s*\$[\w-]+\s*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`^${parts.join(".+")}$`, "su");
  return (s) => re.test(s);
}

/** For language `lang`: the other languages' messages it does not have itself, as [key, lang, matcher]. */
function foreignMatchers(catalogue, lang) {
  const own = new Set(Object.values(catalogue[lang]).flatMap(forms));
  const out = [];
  for (const other of LANGS) {
    if (other === lang) continue;
    for (const [key, value] of Object.entries(catalogue[other])) {
      for (const form of forms(value)) {
        if (own.has(form)) continue;
        const m = matcher(form);
        if (m) out.push([key, other, form, m]);
      }
    }
  }
  return out;
}

/**
 * The strings the page shows or announces, outside what users wrote (the
 * document, chat messages, the assistant's answer) and the code panel:
 * text nodes, and the attributes assistive technologies read.
 */
function pageStrings() {
  const SKIP = ".atelier-surface, .atelier-chat-body, .atelier-chat-text, .atelier-assistant-output, pre, code, script, style, [hidden]";
  const out = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.data.replace(/\s+/g, " ").trim();
    if (text && !n.parentElement?.closest(SKIP)) out.add(text);
  }
  for (const el of document.body.querySelectorAll("[aria-label], [title], [placeholder], [aria-description], [aria-roledescription], [alt]")) {
    if (el.closest(SKIP) && !el.matches(".atelier-surface")) continue;
    for (const a of ["aria-label", "title", "placeholder", "aria-description", "aria-roledescription", "alt"]) {
      const v = el.getAttribute(a)?.replace(/\s+/g, " ").trim();
      if (v) out.add(v);
    }
  }
  return [...out];
}

describe("one catalogue, switched live", { skip: skipReason ?? false }, () => {
  const env = { server: null, browser: null, dir: null, catalogue: null };

  before(async () => {
    env.catalogue = JSON.parse(readFileSync(CATALOGUE, "utf8"));
    env.dir = mkdtempSync(path.join(tmpdir(), "atelier-i18n-"));
    env.server = await startAtelier(env.dir);
    const { chromium } = await import("playwright-core");
    env.browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });

  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });

  test(NAMES[0], () => {
    const keys = (lang) => Object.keys(env.catalogue[lang] ?? {}).sort();
    assert.ok(keys("en").length > 100, `a catalogue of ${keys("en").length} keys`);
    for (const lang of ["fr", "de", "nl"]) assert.deepEqual(keys(lang), keys("en"), `${lang} has the keys en has`);
    for (const prefix of ["editor-", "chat-", "assistant-", "gallery-"]) {
      assert.ok(keys("en").some((k) => k.startsWith(prefix)), `messages of ${prefix}* are in the one catalogue`);
    }
  });

  test(NAMES[1], async () => {
    const page = await env.browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://${env.server.addr}/#/suite/default`);
    // The three widgets are mounted and the gallery took its strings from
    // the catalogue.
    const mounted = () => page.evaluate(() => ({
      toolbar: document.querySelector("atelier-editor .atelier-toolbar")?.getAttribute("aria-label") ?? null,
      chat: !!document.querySelector("atelier-chat textarea"),
      assistant: !!document.querySelector("atelier-assistant button"),
    }));
    await waitUntil(mounted, (m) => m.toolbar && m.chat && m.assistant, "editor, chat and assistant mounted");

    // The detector can fail: a message of English planted in the page is
    // found once French is on.
    const c = env.catalogue;
    await page.selectOption("#g-lang", "fr");
    await waitUntil(mounted, (m) => m.toolbar === c.fr["editor-toolbar"], "the editor in French");
    const planted = forms(c.en["editor-link-refused"])[0];
    await page.evaluate((t) => {
      const p = document.createElement("p");
      p.id = "planted";
      p.textContent = t;
      document.getElementById("g-main").append(p);
    }, planted);
    const withPlant = await page.evaluate(pageStrings);
    const hits = withPlant.filter((s) => foreignMatchers(c, "fr").some(([, , , m]) => m(s)));
    assert.ok(hits.includes(planted), `the planted English message is detected: ${JSON.stringify(hits)}`);
    await page.evaluate(() => document.getElementById("planted").remove());

    const report = {};
    for (const lang of ["de", "nl", "en", "fr"]) {
      await page.selectOption("#g-lang", lang);
      // Each widget shows the language: a string of each from the catalogue.
      const shows = () => page.evaluate(() => ({
        html: document.documentElement.lang,
        toolbar: document.querySelector("atelier-editor .atelier-toolbar")?.getAttribute("aria-label"),
        send: document.querySelector("atelier-chat .atelier-chat-send")?.textContent?.trim(),
        panel: document.querySelector("atelier-assistant [aria-label]")?.getAttribute("aria-label"),
        title: document.querySelector("h1")?.textContent?.trim(),
      }));
      await waitUntil(shows, (s) => s.html === lang && s.toolbar === c[lang]["editor-toolbar"]
        && s.title === c[lang]["gallery-title"], `the page switched to ${lang}`);
      const foreign = foreignMatchers(c, lang);
      // Remounting widgets re-render over a few frames: wait until nothing
      // foreign is left, then report what stayed if it never empties.
      const leftover = () => page.evaluate(pageStrings).then((strings) => strings.flatMap((s) => {
        const f = foreign.find(([, , , m]) => m(s));
        return f ? [{ text: s, key: f[0], lang: f[1] }] : [];
      }));
      let left;
      try {
        left = await waitUntil(leftover, (l) => l.length === 0, `no foreign string once in ${lang}`);
      } catch (e) {
        report[lang] = await leftover();
        continue;
      }
      report[lang] = left;
    }
    await page.close();
    const failures = Object.entries(report).filter(([, l]) => l.length > 0);
    assert.deepEqual(failures, [], `strings left in another language: ${JSON.stringify(failures, null, 1)}`);
    assert.deepEqual(errors, [], "no page error");
  });
});
