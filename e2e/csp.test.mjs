// The widgets under the server's Content Security Policy (issue 15): the demo
// pages www/editor.html, www/chat.html and www/assistant.html, served by a
// real `atelier serve` with its default policy (script-src 'self'
// 'wasm-unsafe-eval', no 'unsafe-inline'), in headless Chromium driven by
// playwright-core, each widget used a little: two users type in one
// document (each sees the other's caret), the slash menu opens, a chat
// message goes out and arrives, the assistant pane takes a selection and a
// request.
//
// Run: node --test e2e/csp.test.mjs   (after `cargo xtask dist` and
// `cargo build -p atelier-server --bin atelier`). Missing Chromium, binary
// or bundle: every test is skipped and a line `SKIPPED: <test> (reason)` is
// printed. ATELIER_E2E_CSP=POLICY runs the pages under POLICY instead
// (`--csp`), e.g. a stricter one to see what the widgets still need.
//
// What is checked: no `securitypolicyviolation` event (listened for before
// any page script runs) and no console error or warning on any page; and,
// so that the test can fail, that an inline <script> and <style> added to
// a served page are refused and reported.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { WWW, atelierAndChromium, missing, waitUntil, watchErrors } from "./support/harness.mjs";

const TESTS = {
  probe: "an inline script and style element on a served page are refused and reported",
  editor: "two users type in editor.html and open the slash menu with no violation",
  chat: "a chat message goes out and arrives on chat.html with no violation",
  assistant: "the assistant pane takes a selection and a request on assistant.html with no violation",
};
const skipReason = missing()
  ?? (existsSync(path.join(WWW, "pkg/atelier-suite.js")) ? null : "no www/pkg/atelier-suite.js; run cargo xtask dist");
if (skipReason) for (const name of Object.values(TESTS)) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

const policy = process.env.ATELIER_E2E_CSP;
const env = atelierAndChromium("csp", policy ? ["--csp", policy] : []);
const run = Date.now().toString(36);

/** Installed before any page script: records every CSP violation the page reports. */
function recordViolations() {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__violations.push({
      directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
      source: `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
    });
  }, true);
}

/** A fresh context (its own storage) on `file` with `query`; resolves once `ready` holds in the page. */
async function open(file, query, ready) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(recordViolations);
  const q = new URLSearchParams({ server: `ws://${env.server.addr}/sync`, ...query });
  await page.goto(`http://${env.server.addr}/${file}?${q}`);
  const p = { context, page, errors, file };
  await waitUntil(() => page.evaluate(ready), Boolean, `${file}: ready`);
  return p;
}

const violations = (p) => p.page.evaluate(() => window.__violations);

/** Fails listing every violation and console error of `pages`, with the policy the server sent. */
async function assertClean(pages) {
  const found = [];
  for (const p of pages) {
    for (const v of await violations(p)) found.push(`${p.file}: violates ${v.directive}: ${JSON.stringify(v)}`);
    for (const e of p.errors) found.push(`${p.file}: console: ${e}`);
  }
  if (found.length) {
    const r = await fetch(`http://${env.server.addr}/${pages[0].file}`);
    found.push(`policy: ${r.headers.get("content-security-policy")}`);
  }
  assert.deepEqual(found, [], found.join("\n"));
}

const editorReady = () => document.querySelector("#main")?.status === "synced"
  && document.querySelector("#main .atelier-surface [data-block-id]");

/** Clicks into the first block of `sel`'s surface and puts the caret at its end. */
async function clickIntoEditor(page, sel) {
  await page.click(`${sel} .atelier-surface [data-block-id]`);
  await page.keyboard.press("End");
}

describe("the widgets under the server's Content Security Policy", () => {
  test(TESTS.probe, opts, async () => {
    const p = await open("editor.html", { doc: `csp-probe-${run}` }, editorReady);
    try {
      const ran = await p.page.evaluate(() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true;";
        document.head.append(script);
        const style = document.createElement("style");
        style.textContent = "body { outline: 7px solid red; }";
        document.head.append(style);
        return { script: window.__inlineRan === true, style: getComputedStyle(document.body).outlineWidth };
      });
      assert.equal(ran.script, false, "the inline script ran");
      assert.notEqual(ran.style, "7px", "the inline style applied");
      const seen = await waitUntil(() => violations(p),
        (v) => ["script-src-elem", "style-src-elem"].every((d) => v.some((x) => x.directive === d)),
        "both violations reported");
      assert.ok(seen.every((v) => v.blocked === "inline"), JSON.stringify(seen));
      // Chromium says so on the console too; this test must see it there.
      await waitUntil(() => p.errors, (e) => e.some((m) => /Content Security Policy/.test(m)),
        "the refusal on the console");
    } finally {
      await p.context.close();
    }
  });

  test(TESTS.editor, opts, async () => {
    const doc = `csp-editor-${run}`;
    const alice = await open("editor.html", { doc, user: "Alice", color: "#a4161a" }, editorReady);
    const bob = await open("editor.html", { doc, user: "Bob", color: "#1d4ed8" }, editorReady);
    try {
      await clickIntoEditor(alice.page, "#main");
      await alice.page.keyboard.type(" Alice écrit");
      await clickIntoEditor(bob.page, "#main");
      await bob.page.keyboard.type(" et Bob aussi");
      // Each page draws the other's caret (an overlay positioned at run time).
      for (const [p, other] of [[alice, "Bob"], [bob, "Alice"]]) {
        await waitUntil(() => p.page.evaluate(() => ({
          md: document.querySelector("#main").getMarkdown(),
          carets: document.querySelector("#main .atelier-carets")?.textContent ?? "",
        })), (s) => s.md.includes("Alice écrit") && s.md.includes("et Bob aussi") && s.carets.includes(other),
        `${p.file}: both texts and ${other}'s caret`);
      }
      // The slash menu, placed against the caret when it opens.
      await alice.page.keyboard.press("Enter");
      await alice.page.keyboard.type("/");
      await waitUntil(() => alice.page.evaluate(() => document.querySelectorAll("#main [role=listbox] [role=option]").length),
        (n) => n > 0, "the slash menu");
      await alice.page.keyboard.press("Escape");
      await waitUntil(() => alice.page.evaluate(() => !document.querySelector("#main .atelier-slash-menu")),
        Boolean, "the slash menu closed");
      await assertClean([alice, bob]);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  test(TESTS.chat, opts, async () => {
    const doc = `csp-chat-${run}`;
    const ready = () => ["editor", "chat"].every((id) => document.getElementById(id)?.status === "synced")
      && document.querySelector("#chat .atelier-chat-input");
    const alice = await open("chat.html", { doc, user: "Alice", id: "alice" }, ready);
    const bob = await open("chat.html", { doc, user: "Bob", id: "bob" }, ready);
    try {
      await alice.page.click("#chat .atelier-chat-input");
      await alice.page.keyboard.type("Bonjour Bob");
      await alice.page.keyboard.press("Enter");
      // The message with its author's colour dot, and the other user in the presence list.
      for (const p of [alice, bob]) {
        await waitUntil(() => p.page.evaluate(() => ({
          log: document.querySelector("#chat")?.textContent ?? "",
          people: document.querySelectorAll("#chat .atelier-chat-person").length,
        })), (s) => s.log.includes("Bonjour Bob") && s.people >= 1, `${p.file}: the message and the other user present`);
      }
      await assertClean([alice, bob]);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  test(TESTS.assistant, opts, async () => {
    const ready = () => document.querySelector("#editor")?.status === "synced"
      && document.querySelector("#editor .atelier-surface [data-block-id]")
      && document.querySelector("#assistant .atelier-assistant-prompt textarea");
    const p = await open("assistant.html", { doc: `csp-assistant-${run}`, user: "Alice" }, ready);
    try {
      await clickIntoEditor(p.page, "#editor");
      await p.page.keyboard.type("Un texte à reformuler");
      await p.page.keyboard.press("Shift+Home");
      await p.page.fill("#assistant .atelier-assistant-prompt textarea", "Plus court, s’il te plaît");
      await waitUntil(() => p.page.evaluate(() => document.querySelector("#assistant .atelier-assistant-prompt textarea").value),
        (v) => v.startsWith("Plus court"), "the request in the pane");
      await assertClean([p]);
    } finally {
      await p.context.close();
    }
  });
});
