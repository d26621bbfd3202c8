// <atelier-chat> as people use it (issue 12): two users chat live on one
// document through a real `atelier serve`, in headless Chromium driven by
// playwright-core, each on the demo page www/chat.html (the editor beside
// the chat, bundle www/pkg/atelier-suite.js); a third page holds the chat
// alone.
//
// Run: node --test e2e/chat-element.test.mjs   (after `cargo xtask dist`
// and `cargo build -p atelier-server --bin atelier`). Env as in
// editor-collab.test.mjs. Missing Chromium, binary or bundle: every test is
// skipped and a line `SKIPPED: <test> (reason)` is printed.
//
// What is checked: a message typed in one page's composer shows in the
// other's timeline, and loses its "not sent yet" mark on the sender's page
// once the server holds it; an @mention completed from the collaborators
// fires `atelier-mention` on the mentioned user's page only; a reply joins
// the message's thread; a reaction shows with who reacted; every message
// fires `atelier-message` once on `document`; the text typed in one editor
// reaches the other; a page with the editor and the chat of one document
// opens one WebSocket; the chat alone on a page catches up and sends
// through the element's `send()`. Waits are for conditions with deadlines;
// a failure prints every page's timeline, events, sockets and console, and
// the server log.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { DEADLINE_MS, WWW, atelierAndChromium, missing, openBlankServerPage, watchErrors } from "./support/harness.mjs";

const TESTS = [
  "two users chat beside the editor on one socket: messages, a mention, a reply, a reaction; the chat alone catches up and sends",
];
const skipReason = missing()
  ?? (existsSync(path.join(WWW, "pkg/atelier-suite.js")) ? null : "no www/pkg/atelier-suite.js; run cargo xtask dist");
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

const env = atelierAndChromium("chat");

/**
 * Installed before any page script: counts the sockets and tab channels
 * the page creates, and records the chat's events as `document` hears them.
 */
function instrument() {
  window.__sockets = [];
  window.__channels = [];
  window.__events = [];
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) { super(...args); window.__sockets.push(String(args[0])); }
  };
  const NativeChannel = window.BroadcastChannel;
  window.BroadcastChannel = class extends NativeChannel {
    constructor(...args) { super(...args); window.__channels.push(String(args[0])); }
  };
  for (const type of ["atelier-message", "atelier-mention"]) {
    document.addEventListener(type, (e) => {
      const m = e.detail.message;
      window.__events.push({ type, doc: e.detail.doc, id: m.id, author: m.author, body: m.body, replyTo: m.replyTo });
    });
  }
}

/** A fresh browser context (its own storage) with the page instrumented. */
async function newPage(user) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(instrument);
  return { context, page, errors, user };
}

/** www/chat.html on document `doc` as user `id` (display name `user`); waits until both widgets are synced. */
async function openDemo(doc, user, id) {
  const p = await newPage(user);
  p.chat = "#chat";
  const q = new URLSearchParams({ doc, server: `ws://${env.server.addr}/sync`, user, id });
  await p.page.goto(`http://${env.server.addr}/chat.html?${q}`);
  await waitFor([p], p, `${user}: editor and chat synced`, () => {
    const editor = document.getElementById("editor");
    const chat = document.getElementById("chat");
    return editor?.status === "synced" && chat?.status === "synced"
      && editor.querySelector(".atelier-surface [data-block-id]") && chat.querySelector(".atelier-chat-input");
  });
  return p;
}

/**
 * The chat alone, put into the server's own index page (a page Playwright
 * made up would be "public" to Chromium's local-network checks, which then
 * block its sockets to 127.0.0.1); waits until synced.
 */
async function openChatAlone(doc, user, id) {
  const p = await newPage(user);
  p.chat = "#solo";
  await openBlankServerPage(p.page, env.server.addr);
  await p.page.evaluate(async ({ doc, server, user, id }) => {
    for (const css of ["/pkg/tokens.css", "/pkg/chat.css"]) {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = css;
      document.head.append(link);
    }
    const chat = document.createElement("atelier-chat");
    chat.id = "solo";
    chat.style.height = "30rem";
    for (const [k, v] of Object.entries({ doc, server, "user-name": user, "user-id": id, lang: "en" })) {
      chat.setAttribute(k, v);
    }
    document.body.replaceChildren(chat);
    await import("/pkg/atelier-suite.js");
  }, { doc, server: `ws://${env.server.addr}/sync`, user, id });
  await waitFor([p], p, `${user}: lone chat synced`,
    () => document.getElementById("solo")?.status === "synced" && document.querySelector("#solo .atelier-chat-input"));
  return p;
}

/** What page `p` holds: its chat timeline as rendered, the events heard, sockets, channels, status. */
function inspect(p) {
  return p.page.evaluate((sel) => {
    const chat = document.querySelector(sel);
    const messages = [...(chat?.querySelectorAll(".atelier-chat-message") ?? [])].map((m) => ({
      id: m.getAttribute("data-id"),
      author: m.querySelector(".atelier-chat-author")?.textContent,
      body: m.querySelector(".atelier-chat-body")?.textContent ?? null,
      pending: m.getAttribute("data-pending") === "true",
      parent: m.querySelector(".atelier-chat-parent")?.textContent ?? null,
      thread: m.querySelector(".atelier-chat-thread-link")?.textContent ?? null,
      reactions: [...m.querySelectorAll(".atelier-chat-reaction")].map((r) => ({
        emoji: r.getAttribute("data-emoji"),
        count: r.querySelector(".atelier-chat-reaction-count")?.textContent,
        who: r.getAttribute("title"),
      })),
    }));
    return {
      status: chat?.status,
      userId: chat?.userId,
      messages,
      events: window.__events,
      sockets: window.__sockets,
      channels: window.__channels,
      notice: document.getElementById("notice")?.textContent ?? null,
      editor: document.getElementById("editor")?.getMarkdown?.() ?? null,
      error: chat?.querySelector(".atelier-chat-error")?.textContent ?? null,
    };
  }, p.chat).catch((e) => ({ error: String(e) }));
}

/** Prints what every page holds, its console, and the server log. */
async function dump(pages) {
  for (const p of pages) {
    console.error(`--- ${p.user}:`, JSON.stringify(await inspect(p), null, 2), "\nconsole:", p.errors.join("\n"));
  }
  console.error("--- server log (tail):\n" + env.server.log.slice(-40).join("\n"));
}

/**
 * Waits until `fn(arg)` is truthy in page `p` (polling, with the common
 * deadline); on timeout dumps `pages` and fails with `what`.
 */
async function waitFor(pages, p, what, fn, arg) {
  try {
    return await (await p.page.waitForFunction(fn, arg, { timeout: DEADLINE_MS, polling: 50 })).jsonValue();
  } catch (e) {
    await dump(pages);
    throw new Error(`${what}: not seen within ${DEADLINE_MS} ms (${e.message.split("\n")[0]})`);
  }
}

/** Waits until `p`'s timeline has a message whose body contains `text`; returns its id. */
const waitMessage = (pages, p, text, what) => waitFor(pages, p, what, ([sel, t]) => {
  const m = [...document.querySelectorAll(`${sel} .atelier-chat-message`)]
    .find((a) => a.querySelector(".atelier-chat-body")?.textContent.includes(t));
  return m?.getAttribute("data-id") ?? null;
}, [p.chat, text]);

/** Types `text` into `p`'s composer and presses Enter (which sends). */
async function typeAndSend(p, text) {
  await p.page.click(`${p.chat} .atelier-chat-input`);
  await p.page.keyboard.type(text);
  await p.page.keyboard.press("Enter");
}

/** The selector of message `id`'s article in `p`'s chat. */
const article = (p, id) => `${p.chat} .atelier-chat-message[data-id="${id}"]`;

/** No panic, and no event handler that ran after being dropped or re-entered (the first-click bug). */
const noPanic = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError|closure invoked/.test(e)), `${p.user}: ${p.errors.join("\n")}`);

describe("<atelier-chat>", () => {
  test(TESTS[0], opts, async () => {
    const doc = `chat-${Date.now()}`;
    const alice = await openDemo(doc, "Alice", "alice");
    const bob = await openDemo(doc, "Bob", "bob");
    const pages = [alice, bob];
    try {
      // 1. Typed in Alice's composer, shown on Bob's page; on Alice's page
      //    the "not sent yet" mark goes once the server holds the message.
      await typeAndSend(alice, "Bonjour Bob, le plan est prêt");
      const hello = await waitMessage(pages, bob, "le plan est prêt", "Bob sees Alice's message");
      await waitFor(pages, alice, "Alice's message confirmed by the server (no pending mark)",
        (sel) => { const m = document.querySelector(sel); return m && m.getAttribute("data-pending") !== "true"; },
        article(alice, hello));
      const seenByBob = (await inspect(bob)).messages.find((m) => m.id === hello);
      assert.equal(seenByBob?.author, "Alice", `Bob's view of the message: ${JSON.stringify(seenByBob)}`);

      // 2. A mention completed from the collaborators: Bob types "@ali",
      //    picks Alice in the list, and sends.
      await bob.page.click(`${bob.chat} .atelier-chat-input`);
      await bob.page.keyboard.type("@ali");
      await waitFor(pages, bob, "the mention list offers @alice", (sel) =>
        [...document.querySelectorAll(`${sel} .atelier-chat-mention-option`)].some((o) => o.textContent.includes("@alice")),
      bob.chat);
      await bob.page.keyboard.press("Enter");
      await bob.page.keyboard.type("tu peux relire ?");
      await bob.page.keyboard.press("Enter");
      const mention = await waitMessage(pages, alice, "tu peux relire", "Alice sees Bob's mention");
      await waitFor(pages, alice, "atelier-mention on Alice's page",
        (id) => window.__events.some((e) => e.type === "atelier-mention" && e.id === id), mention);
      const aliceSeen = await inspect(alice);
      const mentionEvent = aliceSeen.events.find((e) => e.type === "atelier-mention");
      assert.match(mentionEvent.body, /^@alice\s+tu peux relire \?$/, `the completed body: ${JSON.stringify(mentionEvent)}`);
      assert.equal(mentionEvent.author, "bob");
      assert.equal(mentionEvent.doc, `${doc}:chat`);
      assert.match(aliceSeen.notice, /vous mentionne/, `the host's notification: ${aliceSeen.notice}`);

      // 3. Alice answers in the thread of Bob's message.
      await alice.page.click(`${article(alice, mention)} [data-action="reply"]`);
      await alice.page.keyboard.type("Oui, je relis ce soir");
      await alice.page.keyboard.press("Enter");
      const reply = await waitMessage(pages, bob, "je relis ce soir", "Bob sees Alice's reply");
      await waitFor(pages, bob, "the reply is in the thread of Bob's message",
        ([root, id]) => window.__events.some((e) => e.type === "atelier-message" && e.id === id && e.replyTo === root)
          && document.querySelector(`#chat .atelier-chat-message[data-id="${root}"] .atelier-chat-thread-link`),
        [mention, reply]);

      // 4. Bob reacts to Alice's first message; Alice sees who reacted.
      await bob.page.click(`${article(bob, hello)} [data-action="react"]`);
      await waitFor(pages, bob, "the reaction picker opens",
        (sel) => document.querySelector(`${sel} .atelier-chat-picker-emoji`), bob.chat);
      const emoji = await bob.page.textContent(`${bob.chat} .atelier-chat-picker-emoji`);
      await bob.page.click(`${bob.chat} .atelier-chat-picker-emoji`);
      await waitFor(pages, alice, "Alice sees Bob's reaction",
        ([sel, e]) => [...document.querySelectorAll(`${sel} .atelier-chat-reaction`)].some((r) =>
          r.getAttribute("data-emoji") === e && r.textContent.includes("1") && r.getAttribute("title")?.includes("Bob")),
        [article(alice, hello), emoji]);

      // 5. The text beside the chat is shared too.
      await alice.page.click("#editor .atelier-surface");
      await alice.page.keyboard.press("Control+End");
      await alice.page.keyboard.type("Plan relu par Bob");
      await waitFor(pages, bob, "Bob's editor shows Alice's line",
        () => document.getElementById("editor").getMarkdown().includes("Plan relu par Bob"));

      // 6. The chat alone on a page catches up and sends through `send()`.
      const carol = await openChatAlone(doc, "Carol", "carol");
      pages.push(carol);
      await waitMessage(pages, carol, "je relis ce soir", "Carol's lone chat loads the history");
      const sent = await carol.page.evaluate(() => document.getElementById("solo").send("Je suis là aussi @bob"));
      assert.equal(typeof sent, "string");
      for (const p of [alice, bob]) await waitMessage(pages, p, "Je suis là aussi", `${p.user} sees Carol's message`);
      await waitFor(pages, bob, "Carol's mention reaches Bob",
        (id) => window.__events.some((e) => e.type === "atelier-mention" && e.id === id), sent);

      // What each page heard and opened.
      const all = [hello, mention, reply, sent];
      for (const p of pages) {
        // Carol's page reads the history as loaded: it fires only for what came after.
        const expected = p === carol ? [sent] : all;
        await waitFor(pages, p, `${p.user}: atelier-message for every new message`,
          (ids) => ids.every((id) => window.__events.some((e) => e.type === "atelier-message" && e.id === id)), expected);
        const seen = await inspect(p);
        for (const id of expected) {
          const n = seen.events.filter((e) => e.type === "atelier-message" && e.id === id).length;
          assert.equal(n, 1, `${p.user}: atelier-message for ${id} once on document, heard ${n}`);
        }
        if (p === carol) {
          // The sync that loads the history also marks the chat synced: the
          // history's messages are still not news.
          const old = seen.events.filter((e) => e.type === "atelier-message" && all.slice(0, 3).includes(e.id)).map((e) => e.id);
          assert.deepEqual(old, [], "Carol: no atelier-message for the history she loaded");
        }
        const mentions = seen.events.filter((e) => e.type === "atelier-mention").map((e) => e.id);
        const mine = { Alice: [mention], Bob: [sent], Carol: [] }[p.user];
        assert.deepEqual(mentions, mine, `${p.user}: mentions of this user only`);
        assert.equal(seen.sockets.length, 1, `${p.user}: one WebSocket for the text and its chat; saw ${JSON.stringify(seen.sockets)}`);
        assert.equal(seen.channels.length, 1, `${p.user}: one BroadcastChannel; saw ${JSON.stringify(seen.channels)}`);
        assert.deepEqual(seen.messages.map((m) => m.id), all, `${p.user}: the same timeline in the same order`);
        noPanic(p);
      }
    } catch (e) {
      if (!e.message.includes("not seen within")) await dump(pages);
      throw e;
    } finally {
      for (const p of pages) await p.context.close();
    }
  });
});
