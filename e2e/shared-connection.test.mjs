// One connection for every widget (issue 11): two editors of a document `D`
// and its sibling `D:chat` on one page, against a real `atelier serve`, in
// headless Chromium driven by playwright-core.
//
// Run: node --test e2e/shared-connection.test.mjs   (after `cargo xtask
// dist` and `cargo build -p atelier-server --bin atelier`). Env as in
// editor-collab.test.mjs. Missing Chromium, binary or bundle: every test is
// skipped and a line `SKIPPED: <test> (reason)` is printed.
//
// The page (the server's index page, with the editors put in) counts
// `new WebSocket` and `new BroadcastChannel` calls by wrapping both
// constructors before the bundle loads, and lists its
// IndexedDB databases with `indexedDB.databases()`. The sibling is opened
// through the hub by a third <atelier-editor> whose `doc` is `D:chat` (the
// chat widget will open it the same way); what is typed there must reach
// another browser through the same shared socket.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEADLINE_MS, atelierAndChromium, missing, openBlankServerPage, watchErrors } from "./support/harness.mjs";

const TESTS = [
  "two editors and the chat sibling share one socket, one database and one tab channel",
  "y-websocket keeps one socket per document",
];
const skipReason = missing();
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

const env = atelierAndChromium("shared");

/**
 * The `<atelier-editor>`s for `docs` ({id, doc}) on the test server. They
 * go into the server's own index page: a page Playwright made up would be
 * "public" to Chromium's local-network checks, which then block its sockets
 * to 127.0.0.1.
 */
function editorsHtml(docs, user, protocol) {
  const server = `ws://${env.server.addr}/sync`;
  return docs.map(({ id, doc }) =>
    `<atelier-editor id="${id}" doc="${doc}" server="${server}" user-name="${user}"` +
    `${protocol ? ` protocol="${protocol}"` : ""}></atelier-editor>`).join("\n");
}

/** Puts the editors into the page, then loads the bundle (which defines the element). */
async function mountEditors(p) {
  await openBlankServerPage(p.page, env.server.addr);
  await p.page.evaluate(async (html) => {
    for (const css of ["/pkg/tokens.css", "/pkg/editor.css"]) {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = css;
      document.head.append(link);
    }
    document.body.innerHTML = html;
    await import("/pkg/atelier-elements.js");
  }, p.html);
  await withDump([p], () => p.page.waitForFunction((ids) => ids.every((id) => {
    const el = document.getElementById(id);
    return el?.status === "synced" && el.querySelector(".atelier-surface [data-block-id]");
  }), p.docs.map((d) => d.id), { timeout: DEADLINE_MS }));
}

/** Counts sockets and channels the page creates (installed before any page script). */
function countConstructors() {
  window.__sockets = [];
  window.__channels = [];
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) { super(...args); window.__sockets.push(String(args[0])); }
  };
  const NativeChannel = window.BroadcastChannel;
  window.BroadcastChannel = class extends NativeChannel {
    constructor(...args) { super(...args); window.__channels.push(String(args[0])); }
  };
}

/** Opens a page with `docs` in a fresh context (its own storage); waits until every editor is synced. */
async function openPage(docs, user, protocol = null) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(countConstructors);
  const p = { context, page, errors, user, docs, html: editorsHtml(docs, user, protocol) };
  await mountEditors(p);
  return p;
}

/** What the page holds: sockets and channels created, IndexedDB databases, each editor's state. */
const inspect = (p) => p.page.evaluate(async (ids) => ({
  sockets: window.__sockets,
  channels: window.__channels,
  databases: (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith("atelier-web/")),
  editors: Object.fromEntries(ids.map((id) => {
    const el = document.getElementById(id);
    return [id, { doc: el.doc, status: el.status, persistence: el.persistence, markdown: el.getMarkdown() }];
  })),
}), p.docs.map((d) => d.id));

/** On failure, prints what every page holds, its console, and the server log. */
async function withDump(pages, body) {
  try {
    return await body();
  } catch (e) {
    for (const p of pages) {
      const seen = await inspect(p).catch((err) => ({ error: String(err) }));
      console.error(`--- ${p.user}:`, JSON.stringify(seen, null, 2), "\nconsole:", p.errors.join("\n"));
    }
    console.error("--- server log (tail):\n" + env.server.log.slice(-40).join("\n"));
    throw e;
  }
}

const markdownOf = (p, id) => p.page.evaluate((i) => document.getElementById(i).getMarkdown(), id);

/** Waits until editor `id` of page `p` shows Markdown for which `pred` holds. */
async function waitMarkdown(p, id, pred, what) {
  const deadline = Date.now() + DEADLINE_MS;
  let last = "";
  while (Date.now() < deadline) {
    last = await markdownOf(p, id);
    if (pred(last)) return last;
    await p.page.waitForFunction(([i, prev]) => document.getElementById(i).getMarkdown() !== prev,
      [id, last], { timeout: 1_000 }).catch(() => {});
  }
  throw new Error(`${p.user}/${id}: ${what} not seen within ${DEADLINE_MS} ms; last Markdown: ${JSON.stringify(last)}`);
}

async function typeAtEnd(p, id, text) {
  await p.page.click(`#${id} .atelier-surface`);
  await p.page.keyboard.press("Control+End");
  await p.page.keyboard.type(text);
}

const noPanic = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError/.test(e)), p.errors.join("\n"));

describe("one connection for every widget", () => {
  test(TESTS[0], opts, async () => {
    const doc = `shared-${Date.now()}`;
    const docs = [{ id: "a", doc }, { id: "b", doc }, { id: "chat", doc: `${doc}:chat` }];
    const alice = await openPage(docs, "Alice");
    const bob = await openPage(docs, "Bob");
    await withDump([alice, bob], async () => {
      // Written in the sibling on one page, seen in the sibling on the other,
      // through the one socket each page has; the text document too.
      await typeAtEnd(alice, "chat", "dans la discussion");
      await waitMarkdown(bob, "chat", (md) => md.includes("dans la discussion"), "Alice's line in D:chat");
      await typeAtEnd(bob, "a", "dans le texte");
      await waitMarkdown(alice, "b", (md) => md.includes("dans le texte"), "Bob's line in D");
      // The two documents stay apart.
      assert.ok(!(await markdownOf(alice, "a")).includes("dans la discussion"), "the chat's text leaked into D");
      assert.ok(!(await markdownOf(bob, "chat")).includes("dans le texte"), "D's text leaked into the chat");

      for (const p of [alice, bob]) {
        const seen = await inspect(p);
        assert.equal(seen.sockets.length, 1, `${p.user}: one WebSocket for D and D:chat; saw ${JSON.stringify(seen.sockets)}`);
        assert.equal(seen.channels.length, 1, `${p.user}: one BroadcastChannel; saw ${JSON.stringify(seen.channels)}`);
        assert.equal(seen.databases.length, 1, `${p.user}: one IndexedDB database; saw ${JSON.stringify(seen.databases)}`);
        // Both documents are stored in it.
        await p.page.waitForFunction((ids) => ids.every((id) => document.getElementById(id).persistence === "saved"),
          docs.map((d) => d.id), { timeout: DEADLINE_MS });
        noPanic(p);
      }

      // A new page load reads both documents back from the one database.
      await mountEditors(alice);
      await waitMarkdown(alice, "chat", (md) => md.includes("dans la discussion"), "D:chat after a reload");
      await waitMarkdown(alice, "a", (md) => md.includes("dans le texte"), "D after a reload");
      const reloaded = await inspect(alice);
      assert.equal(reloaded.sockets.length, 1, `after the reload: ${JSON.stringify(reloaded.sockets)}`);
      assert.equal(reloaded.databases.length, 1, `after the reload: ${JSON.stringify(reloaded.databases)}`);
    });
    await alice.context.close();
    await bob.context.close();
  });

  test(TESTS[1], opts, async () => {
    const doc = `yws-${Date.now()}`;
    const docs = [{ id: "a", doc }, { id: "b", doc }, { id: "chat", doc: `${doc}:chat` }];
    const p = await openPage(docs, "Chloé", "y-websocket");
    await withDump([p], async () => {
      const seen = await inspect(p);
      // The document is in the URL: one socket per document, shared by its two editors.
      assert.deepEqual(seen.sockets.map((u) => decodeURIComponent(new URL(u).pathname)).sort(),
        [`/sync/${doc}`, `/sync/${doc}:chat`]);
      assert.equal(seen.databases.length, 1, JSON.stringify(seen.databases));
      noPanic(p);
    });
    await p.context.close();
  });
});
