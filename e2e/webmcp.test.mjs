// WebMCP (issue 21): in headless Chromium with WebMCP on
// (`--enable-features=WebMCPTesting`), <atelier-editor> registers its
// agent tools on `document.modelContext`; `executeTool` reads and edits
// the document through them as a named agent, and a second page (default
// Chromium flags, where nothing registers) sees the text and the agent's
// named caret. A read-only editor offers only the read tools, an element
// with `agent-tools="off"` none, and removing the element removes them.
// With a chat for the same document on the page, posting to it is a tool.
//
// Run: node --test e2e/webmcp.test.mjs   (after cargo xtask dist and
// `cargo build -p atelier-server --bin atelier`). Missing Chromium, binary
// or bundle: every test is skipped and prints `SKIPPED: <test> (reason)`.
// Waits are for conditions with deadlines; a failure prints what it saw.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { DEADLINE_MS, FLAGS, CHROMIUM, atelierAndChromium, missing, root, waitUntil as waitFor } from "./support/harness.mjs";

const MODEL = path.join(root, "data/models/SmolLM2-135M-Instruct.Q4_1.gguf");
if (!missing() && !existsSync(MODEL)) {
  console.log(`SKIPPED: the_assistant_beside_is_a_tool (no embedded model at ${MODEL}; run bash scripts/fetch-model.sh)`);
}

const skipReason = missing();
// The server and a default browser (the second page, without WebMCP) ...
const env = atelierAndChromium("webmcp");
// ... and a browser with WebMCP for the agent's page.
let webmcp = null;
before(async () => {
  if (skipReason) return;
  const { chromium } = await import("playwright-core");
  webmcp = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, "--enable-features=WebMCPTesting"] });
});
after(async () => { await webmcp?.close(); });

/** Opens `page` (editor.html or chat.html) for `doc` in `browser`; waits until the editor synced. */
async function open(browser, doc, user, file = "editor.html") {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Console errors and warnings with where they come from (Chromium's
  // favicon request is filtered out below), and uncaught exceptions.
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.text()} (${m.location().url})`);
  });
  const q = new URLSearchParams({ doc, server: `ws://${env.server.addr}/sync`, user });
  await page.goto(`http://${env.server.addr}/${file}?${q}`);
  await page.waitForFunction(() => document.querySelector("atelier-editor")?.status === "synced"
    && document.querySelector("atelier-editor .atelier-surface [data-block-id]"), null, { timeout: DEADLINE_MS });
  return { context, page, errors, user };
}

/** The tools the page registered, as plain objects. */
const toolsOf = (p) => p.page.evaluate(async () => {
  const mc = document.modelContext;
  if (!mc) return null;
  return (await mc.getTools()).map((t) => ({ name: t.name, inputSchema: t.inputSchema, annotations: t.annotations }));
});

/** Calls tool `name` with `args` through WebMCP; its answer. */
const call = (p, name, args) => p.page.evaluate(async ({ name, args }) => {
  const mc = document.modelContext;
  const tool = (await mc.getTools()).find((t) => t.name === name);
  if (!tool) return `no tool ${name}`;
  return mc.executeTool(tool, args);
}, { name, args });


const names = (tools) => (tools ?? []).map((t) => t.name).sort();
const READ_TOOLS = ["atelier_find_text", "atelier_get_selection", "atelier_read_document"];
const ALL_TOOLS = [...READ_TOOLS, "atelier_apply_operations", "atelier_select", "atelier_undo_agent"].sort();

describe("WebMCP tools of <atelier-editor>", { skip: skipReason || false }, () => {
  if (skipReason) {
    for (const t of ["tools_list_read_and_edit_as_a_named_agent", "read_only_off_and_removed_editors", "no_webmcp_no_tools", "the_chat_beside_is_a_tool", "the_assistant_beside_is_a_tool"]) {
      console.log(`SKIPPED: ${t} (${skipReason})`);
    }
  }

  test("tools_list_read_and_edit_as_a_named_agent", async () => {
    const doc = `webmcp-${Date.now()}`;
    const a = await open(webmcp, doc, "Alice");
    const b = await open(env.browser, doc, "Bob");
    try {
      const tools = await waitFor(() => toolsOf(a), (t) => names(t).length === ALL_TOOLS.length, "the editor's tools");
      assert.deepEqual(names(tools), ALL_TOOLS);
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      assert.equal(byName.atelier_read_document.annotations.readOnlyHint, true);
      assert.equal(byName.atelier_apply_operations.annotations.readOnlyHint, false);
      // The operations' schema is the one generated from atelier_doc::Op.
      const opsSchema = JSON.stringify(byName.atelier_apply_operations.inputSchema);
      assert.ok(opsSchema.includes("insertText") && opsSchema.includes("deleteBlock"), opsSchema.slice(0, 400));

      // editor.html holds two editors: "main", and "mirror", read-only.
      assert.deepEqual(byName.atelier_read_document.inputSchema.properties.editor.enum, ["main", "mirror"]);
      assert.match(String(await call(a, "atelier_read_document", {})), /^error: several editors/);
      const md = await call(a, "atelier_read_document", { editor: "main" });
      const id = /<!-- id:([^ ]+) -->/.exec(md)?.[1];
      assert.ok(id, `a block id in ${JSON.stringify(md)}`);
      assert.match(String(await call(a, "atelier_apply_operations", {
        editor: "mirror", operations: [{ op: "insertText", block: id, offset: 0, text: "x" }],
      })), /^error: .*read-only/);
      const done = await call(a, "atelier_apply_operations", {
        editor: "main",
        agent: { name: "Robot", color: "#aa3300" },
        operations: [{ op: "insertText", block: id, offset: 0, text: "Écrit par un agent" }],
      });
      assert.ok(!String(done).startsWith("error"), done);
      // The second page (no WebMCP) sees the text and the agent's named caret.
      await waitFor(() => b.page.evaluate(() => ({
        md: document.querySelector("atelier-editor").getMarkdown(),
        labels: [...document.querySelectorAll("atelier-editor .atelier-remote-caret-label")].map((l) => l.textContent),
      })), (s) => s.md.includes("Écrit par un agent") && s.labels.includes("Robot"), "the agent's text and caret on page B");
      assert.equal(await toolsOf(b), null, "no WebMCP on page B");

      const found = JSON.parse(await call(a, "atelier_find_text", { editor: "main", text: "agent" }));
      assert.equal(found.length, 1, JSON.stringify(found));
      // A bad batch is refused with a reason and changes nothing.
      const before = await a.page.evaluate(() => document.querySelector("atelier-editor").getMarkdown());
      const refused = await call(a, "atelier_apply_operations", {
        editor: "main", operations: [{ op: "deleteBlock", block: "ghost" }],
      });
      assert.match(String(refused), /^error: .*ghost/);
      assert.equal(await a.page.evaluate(() => document.querySelector("atelier-editor").getMarkdown()), before);
      // The agent undoes its own edit.
      assert.equal(await call(a, "atelier_undo_agent", { editor: "main", agent: "Robot" }), "undone");
      await waitFor(() => b.page.evaluate(() => document.querySelector("atelier-editor").getMarkdown()),
        (m) => !m.includes("Écrit par un agent"), "the undo on page B");
      assert.deepEqual(a.errors.filter((e) => !/WebSocket|favicon/.test(e)), []);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  test("read_only_off_and_removed_editors", async () => {
    const a = await open(webmcp, `webmcp-ro-${Date.now()}`, "Alice");
    try {
      // One editor left on the page: the read-only mirror goes.
      await a.page.evaluate(() => document.querySelector("#mirror").remove());
      await waitFor(() => toolsOf(a), (t) => names(t).length === ALL_TOOLS.length, "all tools");
      await a.page.evaluate(() => document.querySelector("atelier-editor").setAttribute("readonly", ""));
      await waitFor(() => toolsOf(a), (t) => JSON.stringify(names(t)) === JSON.stringify(READ_TOOLS), "only the read tools");
      await a.page.evaluate(() => document.querySelector("atelier-editor").setAttribute("agent-tools", "off"));
      await waitFor(() => toolsOf(a), (t) => names(t).length === 0, "no tools with agent-tools=off");
      await a.page.evaluate(() => {
        const el = document.querySelector("atelier-editor");
        el.removeAttribute("agent-tools");
        el.removeAttribute("readonly");
      });
      await waitFor(() => toolsOf(a), (t) => names(t).length === ALL_TOOLS.length, "the tools back");
      await a.page.evaluate(() => document.querySelector("atelier-editor").remove());
      await waitFor(() => toolsOf(a), (t) => names(t).length === 0, "no tools once the element is gone");
    } finally {
      await a.context.close();
    }
  });

  test("the_chat_beside_is_a_tool", async () => {
    // chat.html: an editor (id "editor") and a chat on one document.
    const a = await open(webmcp, `webmcp-chat-${Date.now()}`, "Alice", "chat.html");
    try {
      const tools = await waitFor(() => toolsOf(a), (t) => names(t).includes("atelier_post_chat_message"),
        "the chat tool");
      assert.deepEqual(names(tools), [...ALL_TOOLS, "atelier_post_chat_message"].sort());
      const sent = await call(a, "atelier_post_chat_message", { editor: "editor", text: "Bonjour de l'agent" });
      assert.ok(!String(sent).startsWith("error"), sent);
      await waitFor(() => a.page.evaluate(() => [...document.querySelectorAll("#chat .atelier-chat-body")]
        .map((b) => b.textContent)), (bodies) => bodies.includes("Bonjour de l'agent"), "the message in the chat");
      // Naming an editor that is not there is an answer, not a crash.
      assert.match(String(await call(a, "atelier_read_document", { editor: "nowhere" })), /^error: no editor named/);
      await a.page.evaluate(() => document.querySelector("atelier-chat").remove());
      await waitFor(() => toolsOf(a), (t) => !names(t).includes("atelier_post_chat_message"), "the chat tool gone");
    } finally {
      await a.context.close();
    }
  });

  test("the_assistant_beside_is_a_tool", { skip: existsSync(MODEL) ? false : `no embedded model at ${MODEL}` }, async () => {
    // assistant.html: an editor (id "editor") and the assistant pane on one
    // document; the server answers from the embedded model.
    const a = await open(webmcp, `webmcp-ai-${Date.now()}`, "Alice", "assistant.html");
    try {
      await waitFor(() => toolsOf(a), (t) => names(t).includes("atelier_run_assistant_action"), "the assistant tool");
      const md = await call(a, "atelier_read_document", { editor: "editor" });
      const id = /<!-- id:([^ ]+) -->/.exec(md)?.[1];
      const text = "Le chat dort sur le canapé depuis ce matin.";
      await call(a, "atelier_apply_operations", { operations: [{ op: "insertText", block: id, offset: 0, text }] });
      const out = await call(a, "atelier_run_assistant_action", {
        editor: "editor", action: "rephrase", block: id, offset: 0, length: text.length, accept: true,
      });
      assert.match(String(out), /"applied":true/, String(out));
      const events = await a.page.evaluate(() => window.__assistant ?? null);
      assert.notEqual(await a.page.evaluate(() => document.getElementById("editor").getMarkdown()), `${text}\n`,
        `the document after the assistant's change; events ${JSON.stringify(events)}`);
    } finally {
      await a.context.close();
    }
  });

  test("no_webmcp_no_tools", async () => {
    const b = await open(env.browser, `webmcp-none-${Date.now()}`, "Bob");
    try {
      assert.equal(await b.page.evaluate(() => "modelContext" in document), false);
      // The editor works as before: typing reaches the document.
      await b.page.click("atelier-editor .atelier-surface [data-block-id]");
      await b.page.keyboard.type("sans WebMCP");
      await waitFor(() => b.page.evaluate(() => document.querySelector("atelier-editor").getMarkdown()),
        (m) => m.includes("sans WebMCP"), "typed text");
      assert.deepEqual(b.errors.filter((e) => !/WebSocket|favicon/.test(e)), []);
    } finally {
      await b.context.close();
    }
  });
});
