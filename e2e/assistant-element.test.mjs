// <atelier-assistant> end to end (issue 13): the demo page www/assistant.html
// (an editor and the assistant on one document, suite bundle) against a real
// `atelier serve` whose AI endpoint runs the embedded SmolLM2-135M model
// (greedy decoding), in headless Chromium driven by playwright-core, with a
// second page (Bob's editor) on the same document.
//
// Run: node --test e2e/assistant-element.test.mjs   (after `cargo xtask
// dist`, `cargo build -p atelier-server --bin atelier` and
// `bash scripts/fetch-model.sh`). Missing Chromium, binary, bundle or model:
// every test is skipped and a line `SKIPPED: <test> (reason)` is printed.
//
// What it checks: a rephrase and a translation of Alice's selection stream
// from the model into the pane, preview, and Accept applies them as the
// collaborator "Assistant", whose presence Bob's page lists; the
// assistant's undo takes the change back on both pages; Reject leaves the
// document as it was; once the user's rate limit is spent, the pane says so
// with the server's code.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { DEADLINE_MS, atelierAndChromium, missing, root, watchErrors } from "./support/harness.mjs";

const TESTS = [
  "a rephrase and a translation stream from the embedded model and are applied as the assistant",
];
const MODEL = path.join(root, "data/models/SmolLM2-135M-Instruct.Q4_1.gguf");
const SUITE = path.join(root, "www/pkg/atelier_suite_bg.wasm");
const skipReason = missing()
  ?? (existsSync(SUITE) ? null : "no www/pkg suite bundle; run cargo xtask dist")
  ?? (existsSync(MODEL) ? null : `no embedded model at ${MODEL}; run bash scripts/fetch-model.sh`);
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

// Three AI requests an hour per user: the fourth is refused whatever the
// time the model takes (the default, 3 a minute, slides on a slow machine).
const env = atelierAndChromium("assistant", ["--ai-rate-user", "3/h"]);
/** A generation on 2 busy cores: the model loads, then writes ~25 tokens/s. */
const MODEL_DEADLINE_MS = 120_000;

/** Opens `page` (a path with its query) in a fresh context; waits until its editor is synced. */
async function openPage(url, user, editorId) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    window.__assistant = [];
    document.addEventListener("atelier-assistant", (e) => window.__assistant.push(e.detail));
  });
  await page.goto(`http://${env.server.addr}${url}`);
  await page.waitForFunction((id) => {
    const el = document.getElementById(id);
    return el?.status === "synced" && el.querySelector(".atelier-surface [data-block-id]");
  }, editorId, { timeout: DEADLINE_MS });
  return { context, page, errors, user, editorId };
}

const markdownOf = (p) => p.page.evaluate((id) => document.getElementById(id).getMarkdown(), p.editorId);

/** Waits until `p`'s editor shows Markdown for which `pred` holds. */
async function waitMarkdown(p, pred, what) {
  const deadline = Date.now() + DEADLINE_MS;
  let last = "";
  while (Date.now() < deadline) {
    last = await markdownOf(p);
    if (pred(last)) return last;
    await p.page.waitForTimeout(50);
  }
  throw new Error(`${p.user}: ${what} not seen within ${DEADLINE_MS} ms; last Markdown: ${JSON.stringify(last)}`);
}

/** Selects the whole text of the first block of Alice's editor (as a mouse would). */
const selectFirstBlock = (p) => p.page.evaluate((id) => {
  const content = document.querySelector(`#${id} .atelier-surface [data-atelier-content]`);
  const range = document.createRange();
  range.selectNodeContents(content);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}, p.editorId);

/** Waits for the pane to reach `phase` (or a notice, which fails with its text). */
async function waitPhase(p, phase) {
  await p.page.waitForFunction((want) => {
    const el = document.getElementById("assistant");
    return el.phase === want || (want !== "notice" && el.phase === "notice");
  }, phase, { timeout: MODEL_DEADLINE_MS });
  const seen = await p.page.evaluate(() => ({
    phase: document.getElementById("assistant").phase,
    text: document.querySelector("#assistant .atelier-assistant-output")?.textContent,
  }));
  assert.equal(seen.phase, phase, `the pane shows ${JSON.stringify(seen.text)}`);
  return seen.text;
}

/** Runs `action` from the pane's own button and waits for its preview. */
async function runAndPreview(p, button) {
  await selectFirstBlock(p);
  await p.page.click(`#assistant ${button}`);
  // The answer streams into the pane before it is whole.
  await p.page.waitForFunction(() => document.getElementById("assistant").phase !== "idle", null,
    { timeout: DEADLINE_MS });
  return waitPhase(p, "review");
}

async function modelReady() {
  const deadline = Date.now() + MODEL_DEADLINE_MS;
  let last;
  while (Date.now() < deadline) {
    last = await (await fetch(`http://${env.server.addr}/ai`)).json();
    if (last.state === "ready") return;
    if (last.state !== "loading") throw new Error(`the embedded model is ${last.state}: ${last.detail}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the embedded model did not load: ${JSON.stringify(last)}`);
}

describe("<atelier-assistant> with the embedded model", () => {
  test(TESTS[0], { ...opts, timeout: 10 * MODEL_DEADLINE_MS }, async () => {
    await modelReady();
    const doc = `assistant-${Date.now()}`;
    const server = `ws://${env.server.addr}/sync`;
    const q = (user) => `?server=${encodeURIComponent(server)}&doc=${doc}&user=${user}`;
    const alice = await openPage(`/assistant.html${q("Alice")}`, "Alice", "editor");
    const bob = await openPage(`/editor.html${q("Bob")}`, "Bob", "main");
    const pages = [alice, bob];
    try {
      await alice.page.click("#editor .atelier-surface");
      await alice.page.keyboard.type("The meeting is on Monday at noon.");
      const original = await waitMarkdown(bob, (md) => md.includes("Monday at noon."), "Alice's whole sentence");

      // A rephrase: streamed, previewed, applied as the assistant.
      const preview = await runAndPreview(alice, "[data-action=rephrase]");
      assert.ok(preview.length > 0, "the preview shows the proposal");
      assert.equal(await markdownOf(bob), original, "nothing reaches the document before Accept");
      await alice.page.click("#assistant .atelier-assistant-accept");
      await waitPhase(alice, "notice");
      const rephrased = await waitMarkdown(bob, (md) => md !== original, "the rephrase on Bob's page");
      assert.deepEqual(await alice.page.evaluate(() => window.__assistant.at(-1)?.type), "applied");
      // Bob's page lists the assistant as a collaborator of its own.
      await bob.page.waitForFunction(
        () => document.getElementById("main").peers.some((peer) => peer.name === "Assistant"),
        null, { timeout: DEADLINE_MS });

      // One undo of the assistant's takes it back, there too.
      await alice.page.click("#assistant .atelier-assistant-undo");
      await waitMarkdown(bob, (md) => md === original, "the undo on Bob's page");
      assert.notEqual(rephrased, original);

      // A translation, accepted.
      await runAndPreview(alice, "[data-action=translate]");
      await alice.page.click("#assistant .atelier-assistant-accept");
      await waitMarkdown(bob, (md) => md !== original, "the translation on Bob's page");
      const translated = await markdownOf(alice);

      // Reject leaves the document as it was (continuing the text always
      // proposes a change; the small model may answer a shortening with
      // the same sentence).
      await runAndPreview(alice, "[data-action=continue]");
      await alice.page.click("#assistant .atelier-assistant-reject");
      await waitPhase(alice, "notice");
      assert.equal(await markdownOf(alice), translated);
      assert.equal(await markdownOf(bob), translated);

      // The user's fourth request this hour is refused; the pane says why.
      await selectFirstBlock(alice);
      await alice.page.click("#assistant [data-action=simplify]");
      const notice = await waitPhase(alice, "notice");
      const failed = await alice.page.evaluate(() => window.__assistant.at(-1));
      assert.equal(failed?.type, "failed", JSON.stringify(failed));
      assert.equal(failed.code, "rate_limited_user");
      assert.match(notice, /Trop de demandes/);
      for (const p of pages) {
        assert.ok(p.errors.every((e) => !/panicked|RuntimeError/.test(e)), p.errors.join("\n"));
      }
    } catch (e) {
      for (const p of pages) {
        const peers = await p.page.evaluate((id) => JSON.stringify(document.getElementById(id).peers), p.editorId).catch(String);
        console.error(`--- ${p.user}:`, await markdownOf(p).catch(String), "\npeers:", peers, "\nconsole:", p.errors.join("\n"));
      }
      console.error("--- server log (tail):\n" + env.server.log.slice(-40).join("\n"));
      throw e;
    } finally {
      for (const p of pages) await p.context.close();
    }
  });
});
