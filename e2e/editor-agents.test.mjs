// The in-page agents' door of <atelier-editor> (issue 14), in headless
// Chromium driven by playwright-core against the real atelier server: a
// script on page A reads the document with its block ids and edits it with
// typed operations through the element's JS API (no DOM clicks), as a
// named agent; page B, another browser context on the same document, sees
// the text and the agent's named caret. A bad batch changes nothing and
// names the failing operation. The user's Ctrl+Z leaves the agent's edit;
// the agent undoes its own. `atelier-change` says who changed what.
//
// Run: node --test e2e/editor-agents.test.mjs   (after cargo xtask dist and
// `cargo build -p atelier-server --bin atelier`). Env as in
// editor-collab.test.mjs. Missing Chromium, binary or bundle: every test is
// skipped and a line `SKIPPED: <test> (reason)` is printed. Waits are for
// conditions with deadlines; a failing check prints what both pages saw.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEADLINE_MS, atelierAndChromium, missing, waitUntil as waitFor } from "./support/harness.mjs";

const skipReason = missing();
const env = atelierAndChromium("agents");

/** Opens editor.html for `doc` as `user` in a fresh context; waits until synced and rendered. */
async function openEditor(doc, user) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__changes = [];
    document.addEventListener("atelier-change", (e) => {
      const { source, agent, blocks, structure } = e.detail;
      window.__changes.push({ source, agent, blocks, structure });
    });
  });
  const q = new URLSearchParams({ doc, server: `ws://${env.server.addr}/sync`, user });
  await page.goto(`http://${env.server.addr}/editor.html?${q}`);
  await page.waitForFunction(() => document.querySelector("#main")?.status === "synced"
    && document.querySelector("#main .atelier-surface [data-block-id]"), null, { timeout: DEADLINE_MS });
  return { context, page, errors, user };
}

const markdown = (p) => p.page.evaluate(() => document.querySelector("#main").getMarkdown());


/** The peers page `p` sees, and the remote caret labels it draws. */
const peersOf = (p) => p.page.evaluate(() => ({
  peers: document.querySelector("#main").peers,
  labels: [...document.querySelectorAll("#main .atelier-remote-caret-label")].map((l) => l.textContent),
}));

/** On failure, prints each page's Markdown, peers, changes and console, and the server log. */
async function withDump(pages, body) {
  try {
    await body();
  } catch (e) {
    for (const p of pages) {
      const dump = await p.page.evaluate(() => ({
        status: document.querySelector("#main")?.status,
        markdown: document.querySelector("#main")?.getMarkdown(),
        peers: document.querySelector("#main")?.peers,
        changes: window.__changes,
      })).catch((err) => ({ error: String(err) }));
      console.error(`--- ${p.user}:`, JSON.stringify(dump, null, 2), "\nconsole:", p.errors.join("\n"));
    }
    console.error("--- server log (tail):\n" + env.server.log.slice(-40).join("\n"));
    throw e;
  }
}

const noPanics = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError/.test(e)), p.errors.join("\n"));

const NAMES = [
  "an agent edits through the element API; another page sees the text and its named caret",
  "a bad batch changes nothing and names the failing operation",
  "the user's undo leaves the agent's edit; the agent undoes its own",
  "an agent's POST /ops reaches two open pages live, with its named caret",
];
// Printed at module level: node:test does not run a skipped suite's body.
if (skipReason) for (const name of NAMES) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

describe("editor agents' door", () => {
  test(NAMES[0], opts, async () => {
    const doc = `agents-edit-${Date.now()}`;
    const a = await openEditor(doc, "Alice");
    const b = await openEditor(doc, "Bob");
    await withDump([a, b], async () => {
      // A multi-step edit through the element API only: read, write, find, select.
      const result = await a.page.evaluate(async () => {
        const el = document.querySelector("#main");
        await el.setAgent({ name: "Résumeur", color: "#0a7f5a" });
        const [first] = await el.getDocument({ format: "blocks" });
        const r1 = await el.applyOperations([
          { op: "insertText", block: first.id, offset: 0, text: "Compte rendu du lundi" },
          { op: "updateBlock", block: first.id, type: "heading", props: { level: 2 } },
          { op: "insertBlocks", at: { at: "after", block: first.id }, blocks: [
            { type: "paragraph", content: [{ text: "Présents : Alice et Bob." }] },
            { type: "bulletListItem", content: [{ text: "budget" }] },
          ] },
        ]);
        const [, list] = r1.outcomes.slice(2)[0].ids;
        await el.applyOperations([{ op: "insertText", block: list, offset: 6, text: " voté" }]);
        const hits = await el.find("bob", { ignoreCase: true });
        await el.select(hits[0], { agent: "Résumeur" });
        return {
          outcomes: r1.outcomes,
          hits,
          md: await el.getDocument({ format: "markdown" }),
          blocks: await el.getDocument(),
        };
      });
      const want = "## Compte rendu du lundi\n\nPrésents : Alice et Bob.\n\n- budget voté\n";
      assert.equal(await markdown(a), want);
      assert.equal(result.outcomes[2].kind, "created");
      assert.equal(result.hits.length, 1, JSON.stringify(result.hits));
      const para = result.blocks[1];
      assert.deepEqual(result.hits[0], { block: para.id, offset: 20, length: 3 });
      // Markdown with the ids an agent can quote back.
      for (const block of result.blocks) assert.ok(result.md.includes(`<!-- id:${block.id} -->`), result.md);
      // B sees the text...
      await waitFor(() => markdown(b), (md) => md === want, "B: the agent's edit");
      // ... and the agent's named caret, on the word it selected.
      const seen = await waitFor(() => peersOf(b), (s) => s.peers.some((p) => p.name === "Résumeur"
        && p.color === "#0a7f5a" && p.cursor?.anchor.block === para.id
        && p.cursor.anchor.offset === 20 && p.cursor.head.offset === 23)
        && s.labels.includes("Résumeur"), "B: the agent's caret and name");
      assert.ok(seen.peers.some((p) => p.name === "Alice"), JSON.stringify(seen));
      // A's atelier-change events name the agent.
      const changes = await a.page.evaluate(() => window.__changes);
      assert.ok(changes.some((c) => c.source === "agent" && c.agent === "Résumeur" && c.structure), JSON.stringify(changes));
      // B heard the same changes as remote.
      const bChanges = await b.page.evaluate(() => window.__changes);
      assert.ok(bChanges.some((c) => c.source === "remote" && c.blocks.includes(para.id)), JSON.stringify(bChanges));
      // The agent leaves: its caret and name leave B.
      await a.page.evaluate(() => document.querySelector("#main").setAgent(null));
      await waitFor(() => peersOf(b), (s) => !s.peers.some((p) => p.name === "Résumeur")
        && !s.labels.includes("Résumeur"), "B: the agent gone");
      noPanics(a);
      noPanics(b);
    });
    await a.context.close();
    await b.context.close();
  });

  test(NAMES[1], opts, async () => {
    const doc = `agents-refused-${Date.now()}`;
    const a = await openEditor(doc, "Alice");
    const b = await openEditor(doc, "Bob");
    await withDump([a, b], async () => {
      const outcome = await a.page.evaluate(async () => {
        const el = document.querySelector("#main");
        const [first] = await el.getDocument();
        await el.applyOperations([{ op: "insertText", block: first.id, offset: 0, text: "Avant" }], { agent: "Bot" });
        const before = el.getMarkdown();
        const refusals = [];
        const attempt = async (ops) => {
          try {
            await el.applyOperations(ops, { agent: "Bot" });
            refusals.push({ accepted: true });
          } catch (e) {
            refusals.push({ name: e.constructor.name, message: e.message, index: e.index, op: e.op, reason: e.reason });
          }
        };
        // The second operation names a block that does not exist.
        await attempt([
          { op: "insertText", block: first.id, offset: 5, text: " JAMAIS" },
          { op: "deleteBlock", block: "nope" },
        ]);
        // Text out of range, after a valid op.
        await attempt([
          { op: "insertBlocks", at: { at: "end" }, blocks: [{ type: "paragraph", content: [{ text: "JAMAIS" }] }] },
          { op: "insertText", block: first.id, offset: 99, text: "x" },
        ]);
        // A type BlockNote does not know.
        await attempt([{ op: "updateBlock", block: first.id, type: "marquee" }]);
        // An operation missing its fields.
        await attempt([{ op: "deleteText", block: first.id, offset: 0, len: 1 }, { op: "insertText" }]);
        return { before, after: el.getMarkdown(), refusals, canUndo: await el.undoAgent({ agent: "Bot" }) };
      });
      const [unknown, range, type, unreadable] = outcome.refusals;
      assert.equal(outcome.after, outcome.before, JSON.stringify(outcome));
      assert.deepEqual([unknown.index, unknown.op], [1, "deleteBlock"], JSON.stringify(unknown));
      assert.match(unknown.message, /operation 1 \(deleteBlock\) refused: .*nope/);
      assert.equal(unknown.name, "Error");
      assert.deepEqual([range.index, range.op], [1, "insertText"], JSON.stringify(range));
      assert.deepEqual([type.index, type.op], [0, "updateBlock"], JSON.stringify(type));
      assert.match(type.reason, /marquee/);
      assert.deepEqual([unreadable.index, unreadable.op], [1, "insertText"], JSON.stringify(unreadable));
      // Undo took back the one accepted batch, not a refused one.
      assert.equal(outcome.canUndo, true);
      const empty = await markdown(a);
      assert.ok(!empty.includes("Avant"), empty);
      // B never sees a refused batch: it follows A to the same document.
      await a.page.evaluate(async () => {
        const el = document.querySelector("#main");
        const [first] = await el.getDocument();
        await el.applyOperations([{ op: "insertText", block: first.id, offset: 0, text: "Après" }], { agent: "Bot" });
      });
      const final = await waitFor(() => markdown(b), (md) => md.includes("Après"), "B: the accepted batch");
      assert.ok(!final.includes("JAMAIS"), final);
      assert.equal(final, await markdown(a));
      noPanics(a);
    });
    await a.context.close();
    await b.context.close();
  });

  test(NAMES[2], opts, async () => {
    const doc = `agents-undo-${Date.now()}`;
    const a = await openEditor(doc, "Alice");
    const b = await openEditor(doc, "Bob");
    await withDump([a, b], async () => {
      // Bob writes the first line (a peer's text, as in a shared document).
      await b.page.click("#main .atelier-surface");
      await b.page.keyboard.type("Bonjour");
      await waitFor(() => markdown(a), (md) => md === "Bonjour\n", "A: Bob's text");
      // Alice (the user) adds to it.
      await a.page.click("#main .atelier-surface");
      await a.page.keyboard.press("End");
      await a.page.keyboard.type(" à tous");
      await waitFor(() => markdown(a), (md) => md === "Bonjour à tous\n", "A: the user's typing");
      // The agent adds to the same block while the user keeps the caret.
      await a.page.evaluate(async () => {
        const el = document.querySelector("#main");
        const [first] = await el.getDocument();
        await el.applyOperations([{ op: "insertText", block: first.id, offset: 0, text: "Note : " }], { agent: { name: "Correcteur", color: "#b45309" } });
      });
      await waitFor(() => markdown(b), (md) => md === "Note : Bonjour à tous\n", "B: every edit");
      // Ctrl+Z takes back the user's typing (one step or a few, as it was
      // grouped), never the agent's edit: press it until nothing changes.
      const seen = [await markdown(a)];
      for (let i = 0; i < 10; i++) {
        await a.page.keyboard.press("Control+z");
        seen.push(await markdown(a));
        if (seen.at(-1) === seen.at(-2) && !seen.at(-1).includes("tous")) break;
      }
      assert.equal(seen.at(-1), "Note : Bonjour\n", JSON.stringify(seen));
      await waitFor(() => markdown(b), (md) => md === "Note : Bonjour\n", "B: the user's undo");
      // The agent undoes its own, and only its own.
      const undone = await a.page.evaluate(() => document.querySelector("#main").undoAgent({ agent: "Correcteur" }));
      assert.equal(undone, true);
      assert.equal(await markdown(a), "Bonjour\n");
      assert.equal(await a.page.evaluate(() => document.querySelector("#main").undoAgent({ agent: "Correcteur" })), false);
      assert.equal(await a.page.evaluate(() => document.querySelector("#main").redoAgent({ agent: "Correcteur" })), true);
      await waitFor(() => markdown(b), (md) => md === "Note : Bonjour\n", "B: the agent's redo");
      // Who did what, as atelier-change told A (in order, merged by author).
      const sources = await a.page.evaluate(() => window.__changes.map((c) => c.agent ?? c.source));
      const order = sources.filter((s, i) => s !== sources[i - 1]);
      assert.deepEqual(order.slice(-4), ["user", "Correcteur", "user", "Correcteur"], JSON.stringify(sources));
      noPanics(a);
    });
    await a.context.close();
    await b.context.close();
  });

  test(NAMES[3], opts, async () => {
    const doc = `agents-rest-${Date.now()}`;
    const a = await openEditor(doc, "Alice");
    const b = await openEditor(doc, "Bob");
    await withDump([a, b], async () => {
      // An agent outside the browser reads the blocks and posts a batch
      // (anonymous access is the server's default on loopback).
      const api = `http://${env.server.addr}/api/docs/${doc}`;
      const blocks = await (await fetch(`${api}?format=blocks`)).json();
      const r = await fetch(`${api}/ops`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          agent: { name: "Serveur", color: "#1d4ed8" },
          ops: [
            { op: "insertText", block: blocks[0].id, offset: 0, text: "Ordre du jour" },
            { op: "updateBlock", block: blocks[0].id, type: "heading", props: { level: 1 } },
          ],
        }),
      });
      assert.equal(r.status, 200, await r.text());
      for (const p of [a, b]) {
        await waitFor(() => markdown(p), (md) => md === "# Ordre du jour\n", `${p.user}: the agent's batch`);
        await waitFor(() => peersOf(p), (s) => s.labels.includes("Serveur"), `${p.user}: the agent's named caret`);
      }
      noPanics(a);
      noPanics(b);
    });
    await a.context.close();
    await b.context.close();
  });
});
