// The rest of issue 12's proof for <atelier-chat>, in headless Chromium
// (playwright-core) against the real `atelier serve`, each page on the demo
// www/chat.html (the editor beside the chat, bundle www/pkg/atelier-suite.js):
//
//  1. three pages chat at once with replies, reactions, edits and deletes
//     and end with the same rendered timeline (messages, order, reply
//     previews and thread links, reactions with who, "edited" marks,
//     tombstones), compared as DOM, not as the model;
//  2. a page that goes offline (the browser's network cut: the element
//     hears `offline` and drops its socket; the chat shows its banner)
//     while the others chat, sends while offline (shown as not sent yet),
//     is reloaded before it reconnects (its messages come back from
//     IndexedDB) and then catches up: every message once, on all three;
//  3. a chat-only token (server with `--jwt-secret`, HS256 tokens minted
//     here with node's crypto, claims `chat`/`write` as the README says)
//     chats; the same user's editor cannot change the text: the server
//     refuses it and the writer's page, the server and the commenter's
//     own page keep the text;
//  4. hostile bodies (HTML, `<script>`, `<img onerror>`, `javascript:` and
//     `data:` links, CSS, Markdown links to `javascript:`) render as text:
//     no element injected, no payload ran (a page without the CSP, so the
//     element alone is what stops them), links only http/https/mailto;
//  5. axe-core finds no WCAG 2.1 A/AA violation on chat.html in every
//     theme (light, dark, high-contrast, dsfr, neutral) with a chat that
//     shows replies, reactions, an edit, a tombstone, a mention and links.
//
// That the mention event fires on the mentioned user's page only is proved
// by chat-element.test.mjs (each page's `atelier-mention` ids are compared
// with the mentions of that page's user, Carol's lone page hearing none).
//
// Run: node --test e2e/chat-proof.test.mjs   (after `cargo xtask dist` and
// `cargo build -p atelier-server --bin atelier`). Env as in
// editor-collab.test.mjs. Missing Chromium, binary or bundle: every test is
// skipped and a line `SKIPPED: <test> (reason)` is printed. Every wait is
// for a condition with a deadline; a failure prints what each page showed
// last and the server log.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEADLINE_MS, WWW, atelierAndChromium, missing, root, startAtelier, waitUntil, watchErrors } from "./support/harness.mjs";

const TESTS = [
  "three pages chat at once with replies, reactions, edits and deletes and show the same timeline",
  "a page offline while the others chat sends pending messages, keeps them across a reload and catches up with nothing lost or doubled",
  "a chat-only token chats but its editor cannot change the text, on any page",
  "hostile message bodies render as inert text: no element, no script, only http/https/mailto links",
  "axe-core finds no WCAG 2.1 AA violation on chat.html in every theme",
];
const THEMES = ["light", "dark", "high-contrast", "dsfr", "neutral"];
const AXE = path.join(root, "e2e/node_modules/axe-core/axe.min.js");
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/** Reconnecting waits for the socket's backoff (a few seconds at most here). */
const RECONNECT_DEADLINE_MS = 45_000;

const skipReason = missing()
  ?? (existsSync(path.join(WWW, "pkg/atelier-suite.js")) ? null : "no www/pkg/atelier-suite.js; run cargo xtask dist");
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

// No embedded model: these tests do not use the assistant, and loading it takes the cores for seconds.
const NO_MODEL = ["--ai-model-path", "none"];
const env = atelierAndChromium("chat-proof", NO_MODEL);
/** A unique document name per test and run. */
const docName = (what) => `proof-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;

/** Records the chat's events as `document` hears them (installed before any page script). */
function instrument() {
  window.__events = [];
  for (const type of ["atelier-message", "atelier-mention", "atelier-status"]) {
    document.addEventListener(type, (e) => {
      const m = e.detail.message;
      window.__events.push({ type, doc: e.detail.doc, id: m?.id, status: e.detail.status });
    });
  }
}

/**
 * www/chat.html on `doc` as user `id` (display name `user`) in a fresh
 * browser context (its own storage); `token` adds a bearer token,
 * `server` another sync server, `context` options for the context.
 * Waits until the chat is synced (and the editor has a status in `editor`).
 */
async function openDemo(doc, user, id, { token, server = env.server, context: ctxOptions = {}, editor = ["synced"] } = {}) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, ...ctxOptions });
  const page = await context.newPage();
  const p = { context, page, errors: watchErrors(page), user, chat: "#chat", server };
  await page.addInitScript(instrument);
  const q = new URLSearchParams({ doc, server: `ws://${server.addr}/sync`, user, id });
  if (token) q.set("token", token);
  p.url = `http://${server.addr}/chat.html?${q}`;
  await page.goto(p.url);
  await waitPages([p], `${user}: editor and chat ready`, (s) => s[0].status === "synced" && s[0].composer && editor.includes(s[0].editorStatus));
  return p;
}

/**
 * What page `p` shows, read from the rendered DOM: the connection, the
 * banner, and the timeline row by row. Attributes that differ by viewer
 * on purpose (own, current row, `data-me` on a mention of the viewer,
 * tabindex, the action buttons) are left out; everything else a reader
 * sees is kept, the body as HTML.
 */
function snapshot(p) {
  return p.page.evaluate((sel) => {
    const chat = document.querySelector(sel);
    const bodyHtml = (b) => {
      if (!b) return null;
      const c = b.cloneNode(true);
      for (const e of c.querySelectorAll("*")) for (const a of ["data-me", "tabindex"]) e.removeAttribute(a);
      return c.innerHTML;
    };
    const rows = [...(chat?.querySelectorAll(".atelier-chat-row") ?? [])].map((row) => {
      const m = row.querySelector(".atelier-chat-message");
      return {
        id: m?.getAttribute("data-id"),
        day: row.querySelector(".atelier-chat-day")?.textContent ?? null,
        author: m?.querySelector(".atelier-chat-author")?.textContent,
        time: m?.querySelector(".atelier-chat-time")?.getAttribute("datetime"),
        edited: m?.querySelector(".atelier-chat-edited")?.textContent ?? null,
        pending: m?.getAttribute("data-pending") === "true",
        deleted: m?.getAttribute("data-deleted") === "true",
        tombstone: m?.querySelector(".atelier-chat-tombstone")?.textContent ?? null,
        parent: m?.querySelector(".atelier-chat-parent")?.textContent ?? null,
        parentTarget: m?.querySelector(".atelier-chat-parent")?.getAttribute("data-target") ?? null,
        thread: m?.querySelector(".atelier-chat-thread-link")?.textContent ?? null,
        body: bodyHtml(m?.querySelector(".atelier-chat-body")),
        text: m?.querySelector(".atelier-chat-body")?.textContent ?? null,
        reactions: [...(m?.querySelectorAll(".atelier-chat-reaction") ?? [])].map((r) => ({
          emoji: r.getAttribute("data-emoji"),
          count: r.querySelector(".atelier-chat-reaction-count")?.textContent,
          who: r.getAttribute("title"),
        })),
      };
    });
    return {
      status: chat?.status,
      editorStatus: document.getElementById("editor")?.status,
      composer: !!chat?.querySelector(".atelier-chat-input"),
      banner: chat?.querySelector(".atelier-chat-banner")?.textContent ?? null,
      error: chat?.querySelector(".atelier-chat-error")?.textContent || null,
      unsynced: chat?.unsyncedChanges,
      persistence: chat?.persistence,
      rows,
    };
  }, p.chat).catch((e) => ({ error: String(e), rows: [] }));
}

/** Prints what every page shows, its console, and the server log. */
async function dump(pages) {
  for (const p of pages) {
    console.error(`--- ${p.user}:`, JSON.stringify(await snapshot(p), null, 1), "\nconsole:", p.errors.join("\n"));
  }
  for (const server of new Set(pages.map((p) => p.server))) {
    console.error("--- server log (tail):\n" + server.log.slice(-40).join("\n"));
  }
}

/**
 * Waits until `pred` holds of the pages' snapshots (in `pages` order),
 * with `deadline`; on timeout prints every page and fails naming `what`.
 */
async function waitPages(pages, what, pred, deadline = DEADLINE_MS) {
  const until = Date.now() + deadline;
  let last;
  for (;;) {
    last = await Promise.all(pages.map(snapshot));
    try { if (pred(last)) return last; } catch { /* not there yet */ }
    if (Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await dump(pages);
  throw new Error(`${what}: not seen within ${deadline} ms`);
}

/** The row whose body contains `text`, in a snapshot. */
const rowWith = (s, text) => s.rows.find((r) => r.text?.includes(text));

/** Waits until `p` shows a message whose body starts with `text`; returns its id. */
async function waitMessage(pages, p, text) {
  const find = (s) => s.rows.find((r) => r.text?.startsWith(text));
  const [s] = await waitPages([p], `${p.user} shows "${text}"`, ([s]) => find(s));
  return find(s).id;
}

/** Types `text` into `p`'s composer and presses Enter (which sends). */
async function typeAndSend(p, text) {
  await p.page.click(`${p.chat} .atelier-chat-input`);
  await p.page.keyboard.type(text);
  await p.page.keyboard.press("Enter");
}

/** The selector of message `id`'s article in `p`'s chat. */
const article = (p, id) => `${p.chat} .atelier-chat-message[data-id="${id}"]`;

/** Clicks the `action` button of message `id` on `p`. */
const act = (p, id, action) => p.page.click(`${article(p, id)} [data-action="${action}"]`);

/** Reacts to message `id` on `p` with the picker's `index`-th emoji; returns the emoji. */
async function react(p, id, index) {
  await act(p, id, "react");
  const pick = `${p.chat} .atelier-chat-picker-emoji >> nth=${index}`;
  try {
    await p.page.waitForSelector(pick, { timeout: DEADLINE_MS });
  } catch (e) {
    const picker = await p.page.evaluate((sel) => [...document.querySelectorAll(`${sel} .atelier-chat-picker, ${sel} .atelier-chat-picker-emoji`)]
      .map((el) => ({ html: el.outerHTML.slice(0, 200), rect: JSON.stringify(el.getBoundingClientRect()), display: getComputedStyle(el).display, visibility: getComputedStyle(el).visibility })), p.chat);
    throw new Error(`${p.user}: the reaction picker of ${id} shows no emoji ${index}: ${JSON.stringify(picker)} (${e.message.split("\n")[0]})`);
  }
  const emoji = (await p.page.textContent(pick)).trim();
  await p.page.click(pick);
  return emoji;
}

/** Replies to message `id` on `p` with `text`. */
async function reply(p, id, text) {
  await act(p, id, "reply");
  await p.page.keyboard.type(text);
  await p.page.keyboard.press("Enter");
}

/** Edits `p`'s own message `id` to `text` (the composer takes the body; all of it is replaced). */
async function edit(p, id, text) {
  await act(p, id, "edit");
  await waitUntil(() => p.page.evaluate(([sel, id]) => ({
    composer: document.querySelector(`${sel} .atelier-chat-input`)?.value,
    banner: document.querySelector(`${sel} .atelier-chat-composer-banner`)?.textContent ?? null,
    editing: document.querySelector(`${sel} .atelier-chat-message[data-editing="true"]`)?.getAttribute("data-id") ?? null,
    focused: document.activeElement?.outerHTML.slice(0, 120),
    id,
  }), [p.chat, id]), (s) => s.composer?.length > 0 && s.editing === id, `${p.user}: editing ${id}`);
  await p.page.keyboard.press("Control+A");
  await p.page.keyboard.type(text);
  await p.page.keyboard.press("Enter");
}

/** Deletes `p`'s own message `id` (delete, then confirm). */
async function remove(p, id) {
  await act(p, id, "delete");
  await act(p, id, "confirm-delete");
}

/** No panic, and no handler that ran after being dropped. */
const noPanic = (p) => assert.ok(p.errors.every((e) => !/panicked|RuntimeError|closure invoked/.test(e)), `${p.user}: ${p.errors.join("\n")}`);

/** The timeline as every reader sees it (the pending mark is the sender's own). */
const shared = (s) => s.rows.map(({ pending, ...rest }) => rest);
/** Whether all snapshots show the same timeline, nothing pending, `n` rows. */
const converged = (n) => (all) => all.every((s) => s.rows.length === n && s.rows.every((r) => !r.pending))
  && all.every((s) => JSON.stringify(shared(s)) === JSON.stringify(shared(all[0])));

/** An HS256 JWT for `claims` (an hour's validity), signed with `secret`. */
function jwt(claims, secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/**
 * What page `p`'s chat holds that a hostile body could have put there:
 * elements in bodies, previews, names and presence other than those the
 * chat renders, event-handler and style attributes, links, elements that
 * load or run things, and whether a payload set `window.__pwned`.
 */
function inertness(p) {
  return p.page.evaluate((sel) => {
    const chat = document.querySelector(sel);
    const allowed = new Set(["P", "BR", "STRONG", "EM", "S", "CODE", "PRE", "UL", "OL", "LI", "BLOCKQUOTE", "A", "SPAN"]);
    const parts = [...chat.querySelectorAll(".atelier-chat-body, .atelier-chat-parent, .atelier-chat-author, .atelier-chat-presence")];
    const elements = parts.flatMap((b) => [...b.querySelectorAll("*")]);
    return {
      foreign: elements.filter((e) => !allowed.has(e.tagName)).map((e) => e.outerHTML.slice(0, 160)),
      handlers: [...chat.querySelectorAll("*")].flatMap((e) => [...e.attributes]
        .filter((a) => /^on/i.test(a.name) || a.name === "srcdoc").map((a) => `${e.tagName} ${a.name}`)),
      styled: elements.filter((e) => e.hasAttribute("style") && !e.classList.contains("atelier-chat-dot")).map((e) => e.outerHTML.slice(0, 160)),
      links: [...chat.querySelectorAll("a")].map((a) => ({ href: a.getAttribute("href"), text: a.textContent, target: a.target, rel: a.rel })),
      injected: [...chat.querySelectorAll("script, iframe, img, svg, style, link, marquee, form, object, embed")]
        .concat([...document.querySelectorAll("script:not([src]), iframe, link[href^='data:']")])
        .map((e) => e.outerHTML.slice(0, 160)),
      pwned: window.__pwned ?? null,
      visible: getComputedStyle(chat).display !== "none" && getComputedStyle(document.body).display !== "none",
      overlay: [...chat.querySelectorAll("*")].some((e) => getComputedStyle(e).position === "fixed"),
    };
  }, p.chat);
}

describe("<atelier-chat>: the proof of issue 12", () => {
  test(TESTS[0], opts, async () => {
    const doc = docName("three");
    const alice = await openDemo(doc, "Alice", "alice");
    const bob = await openDemo(doc, "Bob", "bob");
    const carol = await openDemo(doc, "Carol", "carol");
    const pages = [alice, bob, carol];
    try {
      // Round 1: all three type at once.
      await Promise.all([
        typeAndSend(alice, "A1 le plan est prêt"),
        typeAndSend(bob, "B1 je regarde le chapitre 2"),
        typeAndSend(carol, "C1 j'ajoute les figures"),
      ]);
      const ids = {};
      for (const key of ["A1", "B1", "C1"]) ids[key] = await waitMessage(pages, alice, key);
      await waitPages(pages, "round 1 everywhere", converged(3));

      // Round 2, at once: replies to each other's messages, and reactions
      // on one message by two users with the same emoji and a third.
      await Promise.all([
        reply(bob, ids.A1, "B2 réponse à A1"),
        reply(carol, ids.A1, "C2 @alice autre réponse à A1"),
        reply(alice, ids.B1, "A2 réponse à B1"),
      ]);
      for (const key of ["B2", "C2", "A2"]) ids[key] = await waitMessage(pages, alice, key);
      const [e1, e2, e3] = await Promise.all([react(bob, ids.A1, 0), react(carol, ids.A1, 0), react(alice, ids.C1, 1)]);
      assert.equal(e1, e2, "Bob and Carol picked the same emoji");

      // Round 3, at once: two edits and a deletion (of a message that has a
      // reply), while another message comes in.
      await waitPages(pages, "round 2 everywhere", converged(6));
      await Promise.all([
        edit(alice, ids.A1, "A1 le plan est prêt (v2)"),
        edit(carol, ids.C2, "C2 @alice autre réponse, corrigée"),
        // One page does one thing at a time: Bob deletes, reacts, then sends.
        (async () => { await remove(bob, ids.B1); await react(bob, ids.C1, 1); await typeAndSend(bob, "B3 dernier mot"); })(),
      ]);
      ids.B3 = await waitMessage(pages, carol, "B3 dernier mot");

      const [final] = await waitPages(pages, "the same timeline on all three pages", (all) => converged(7)(all)
        && rowWith(all[0], "(v2)") && rowWith(all[0], "corrigée") && all[0].rows.some((r) => r.deleted)
        && all[0].rows.find((r) => r.id === ids.C1)?.reactions[0]?.count === "2");

      // What the timeline holds, checked once (the three are equal).
      const byId = Object.fromEntries(final.rows.map((r) => [r.id, r]));
      assert.deepEqual(final.rows.map((r) => r.id).slice(0, 3).sort(), [ids.A1, ids.B1, ids.C1].sort(), "round 1 comes first");
      assert.deepEqual(final.rows.map((r) => r.id).at(-1), ids.B3, "the last message is last");
      assert.equal(new Set(final.rows.map((r) => r.id)).size, 7, "every message once");
      assert.ok(byId[ids.A1].edited && byId[ids.C2].edited, "edited marks on the two edited messages");
      assert.equal(final.rows.filter((r) => r.edited).length, 2, "and on no other");
      assert.ok(byId[ids.B1].deleted && byId[ids.B1].tombstone && byId[ids.B1].body === null, `B1 is a tombstone: ${JSON.stringify(byId[ids.B1])}`);
      assert.ok(!JSON.stringify(final.rows).includes("je regarde le chapitre"), "the deleted text shows nowhere, previews included");
      assert.equal(byId[ids.A2].parentTarget, ids.B1, "the reply to the deleted message keeps its thread");
      for (const key of ["B2", "C2"]) assert.equal(byId[ids[key]].parentTarget, ids.A1, `${key} answers A1`);
      assert.match(byId[ids.B2].parent, /\(v2\)/, "a reply's preview shows the edited parent");
      assert.ok(byId[ids.A1].thread, "A1 shows its thread link");
      assert.deepEqual(byId[ids.A1].reactions.map((r) => [r.emoji, r.count]), [[e1, "2"]], "two users, one emoji on A1");
      assert.match(byId[ids.A1].reactions[0].who, /Bob/);
      assert.match(byId[ids.A1].reactions[0].who, /Carol/);
      const onC1 = byId[ids.C1].reactions;
      assert.ok(onC1.some((r) => r.emoji === e3 && /Alice/.test(r.who)), `Alice's reaction on C1: ${JSON.stringify(onC1)}`);
      for (const p of pages) noPanic(p);
    } finally {
      for (const p of pages) await p.context.close();
    }
  });

  test(TESTS[1], opts, async () => {
    const doc = docName("offline");
    const alice = await openDemo(doc, "Alice", "alice");
    const bob = await openDemo(doc, "Bob", "bob");
    const carol = await openDemo(doc, "Carol", "carol");
    const pages = [alice, bob, carol];
    // Carol's sockets go through a gate this test can shut (with the page
    // online) while the page reloads: the page loads, its socket does not.
    const gate = { open: true, sockets: [] };
    await carol.context.routeWebSocket(/\/sync/, (ws) => {
      if (!gate.open) { ws.close({ code: 1013, reason: "gate shut" }); return; }
      gate.sockets.push(ws);
      ws.connectToServer();
    });
    try {
      await typeAndSend(alice, "M1 avant la coupure");
      await waitPages(pages, "M1 everywhere", converged(1));

      // The network goes: the element hears `offline`, drops its socket,
      // and the chat says so.
      await carol.context.setOffline(true);
      await waitPages([carol], "Carol's chat offline with its banner", ([s]) => s.status === "offline" && s.banner);

      // The others chat and react; Carol sends twice and reacts, offline.
      await typeAndSend(alice, "M2 pendant la coupure (Alice)");
      await typeAndSend(bob, "M3 pendant la coupure (Bob)");
      const m1 = (await snapshot(alice)).rows[0].id;
      await react(bob, m1, 0);
      await typeAndSend(carol, "C1 écrit hors ligne");
      await typeAndSend(carol, "C2 écrit hors ligne aussi");
      await react(carol, m1, 2);
      let [c] = await waitPages([carol], "Carol's two messages shown as not sent yet",
        ([s]) => ["C1 écrit", "C2 écrit"].every((t) => rowWith(s, t)?.pending));
      assert.ok(!rowWith(c, "M2") && !rowWith(c, "M3"), "offline, Carol cannot see the others' messages");
      await waitPages([alice, bob], "the others chat on", (all) => all.every((s) => s.rows.length === 3 && !rowWith(s, "C1")));

      // A reload before reconnecting: the page is online again but its
      // socket is refused; the messages come back from IndexedDB, still
      // marked as not sent.
      await waitPages([carol], "Carol's copy saved", ([s]) => s.persistence === "saved");
      gate.open = false;
      for (const ws of gate.sockets) ws.close();
      await carol.context.setOffline(false);
      await carol.page.reload();
      [c] = await waitPages([carol], "after the reload, Carol's messages still pending and the banner shown",
        ([s]) => s.composer && s.banner && ["C1 écrit", "C2 écrit"].every((t) => rowWith(s, t)?.pending), RECONNECT_DEADLINE_MS);
      assert.equal(c.rows.filter((r) => r.text?.includes("écrit hors ligne")).length, 2, "each once after the reload");
      await typeAndSend(alice, "M4 après le rechargement de Carol");

      // Back online: everything once, on all three.
      gate.open = true;
      const all = await waitPages(pages, "all three pages show the same six messages, nothing pending", (all) => converged(6)(all)
        && all.every((s) => rowWith(s, "M1")?.reactions.length === 2), RECONNECT_DEADLINE_MS);
      for (const [i, s] of all.entries()) {
        const texts = s.rows.map((r) => r.text);
        for (const t of ["M1", "M2", "M3", "C1", "C2", "M4"]) {
          assert.equal(texts.filter((x) => x.startsWith(t)).length, 1, `${pages[i].user}: "${t}" once in ${JSON.stringify(texts)}`);
        }
        assert.equal(s.banner, null, `${pages[i].user}: no offline banner`);
      }
      // Each writer's messages keep their order; where Carol's go among the
      // others' is the CRDT's choice (the same on every page, as compared).
      const order = all[0].rows.map((r) => r.text.slice(0, 2));
      assert.ok(order[0] === "M1" && order.indexOf("M2") < order.indexOf("M3") && order.indexOf("M3") < order.indexOf("M4")
        && order.indexOf("C1") < order.indexOf("C2"), `order: ${order}`);
      for (const p of pages) noPanic(p);
    } finally {
      for (const p of pages) await p.context.close();
    }
  });

  test(TESTS[2], opts, async () => {
    const secret = `proof-secret-${Date.now()}`;
    const dir = mkdtempSync(path.join(tmpdir(), "atelier-chat-proof-jwt-"));
    const server = await startAtelier(dir, "127.0.0.1:0", ["--jwt-secret", secret, ...NO_MODEL]);
    const doc = docName("commenter");
    const writerToken = jwt({ sub: "writer", name: "Wanda", write: [doc] }, secret);
    const commenterToken = jwt({ sub: "commenter", name: "Colin", chat: [doc] }, secret);
    const pages = [];
    try {
      const writer = await openDemo(doc, "Wanda", "writer", { token: writerToken, server });
      pages.push(writer);
      await writer.page.click("#editor .atelier-surface");
      await writer.page.keyboard.press("Control+End");
      await writer.page.keyboard.type("Texte relu par Wanda");
      await waitUntil(() => writer.page.evaluate(() => document.getElementById("editor").unsyncedChanges),
        (n) => n === 0, "the writer's text held by the server");
      const text = await writer.page.evaluate(() => document.getElementById("editor").getMarkdown());
      assert.match(text, /Texte relu par Wanda/);

      const commenter = await openDemo(doc, "Colin", "commenter", { token: commenterToken, server, editor: ["read-only"] });
      pages.push(commenter);
      assert.equal(await commenter.page.evaluate(() => document.getElementById("editor").getMarkdown()), text, "the commenter reads the text");

      // The commenter chats.
      await typeAndSend(commenter, "Une remarque sur le deuxième paragraphe");
      await waitMessage(pages, writer, "Une remarque");
      await waitPages([commenter], "the commenter's message held by the server", ([s]) => s.rows.length === 1 && !s.rows[0].pending);

      // Reads what the server stores, what each page's editor shows and
      // each page's statuses, after a chat message from the commenter has
      // reached the writer: that message went out on the commenter's one
      // socket after the attempt, so the server has handled the attempt.
      let round = 0;
      const afterAttempt = async () => {
        round += 1;
        await typeAndSend(commenter, `Fin de l'essai ${round}`);
        await waitMessage(pages, writer, `Fin de l'essai ${round}`);
        const rest = await fetch(`http://${server.addr}/api/docs/${encodeURIComponent(doc)}?format=markdown`,
          { headers: { authorization: `Bearer ${writerToken}` } });
        assert.equal(rest.status, 200);
        return {
          stored: await rest.text(),
          views: await Promise.all(pages.map((p) => p.page.evaluate(() => document.getElementById("editor").getMarkdown()))),
          states: await Promise.all(pages.map((p) => p.page.evaluate(() => ({
            editor: document.getElementById("editor").status, chat: document.getElementById("chat").status,
            editable: document.querySelector("#editor .atelier-surface")?.isContentEditable,
          })))),
        };
      };

      // 1. The commenter types into the editor.
      await commenter.page.click("#editor .atelier-surface");
      await commenter.page.keyboard.press("Control+End");
      await commenter.page.keyboard.type("TEXTE DU COMMENTATEUR");
      const typed = await afterAttempt();
      assert.deepEqual({ stored: typed.stored, views: typed.views }, { stored: text, views: [text, text] },
        `typing changes the text nowhere: ${JSON.stringify(typed)}`);
      assert.deepEqual(typed.states.map((s) => [s.editor, s.chat, s.editable]),
        [["synced", "synced", true], ["read-only", "synced", false]], JSON.stringify(typed));

      // 2. The commenter's page changes the text through the element's API.
      const apiAttempt = await commenter.page.evaluate(async () => {
        try { await document.getElementById("editor").setMarkdown("REMPLACÉ PAR LE COMMENTATEUR"); return "accepted"; }
        catch (e) { return `refused: ${e.message}`; }
      });
      const api = await afterAttempt();
      const seen = JSON.stringify({ apiAttempt, ...api });
      assert.equal(api.stored, text, `the server refused the API change: ${seen}`);
      assert.equal(api.views[0], text, `the writer's page keeps the text: ${seen}`);
      assert.deepEqual(api.states.map((s) => [s.editor, s.chat]), [["synced", "synced"], ["read-only", "synced"]], seen);
      // The element refuses it itself, so the commenter's own page never
      // shows text nobody else has.
      assert.match(apiAttempt, /^refused: .*read-only/, seen);
      assert.equal(api.views[1], text, `the commenter's own page keeps the text: ${seen}`);
      for (const p of pages) noPanic(p);
    } catch (e) {
      if (!/not seen within/.test(e.message)) await dump(pages);
      throw e;
    } finally {
      for (const p of pages) await p.context.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(TESTS[3], opts, async () => {
    const doc = docName("hostile");
    // Without the server's CSP (which refuses inline scripts and handlers
    // by itself): what must stop them here is the element.
    const context = { bypassCSP: true };
    const hostileName = `<img src=x onerror="window.__pwned='name'">Eve`;
    const eve = await openDemo(doc, hostileName, "eve", { context });
    const bob = await openDemo(doc, "Bob", "bob", { context });
    const pages = [eve, bob];
    const flag = (tag) => `window.__pwned='${tag}'`;
    const BODIES = [
      `<b>gras</b> <i>html</i> <div style="position:fixed;inset:0;background:red">voile</div>`,
      `<script>${flag("script")}</script>après le script`,
      `<img src=x onerror="${flag("img")}"> <svg onload="${flag("svg")}"></svg> <iframe srcdoc="<script>parent.${flag("iframe")}</script>"></iframe>`,
      `<a href="javascript:${flag("a")}">lien html</a> <a href="https://example.org/">https html</a>`,
      `[markdown js](javascript:${flag("md")}) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [vb](vbscript:msgbox(1))`,
      `javascript:${flag("bare")} data:text/html,<script>${flag("data")}</script>`,
      `[JaVaScRiPt](JaVaScRiPt:${flag("case")}) [espaces](java\tscript:${flag("tab")}) [entité](javascript&#58;${flag("entity")})`,
      `<style>.atelier-chat, body { display: none !important }</style><link rel=stylesheet href="data:text/css,body{display:none}">`,
      `**gras [relatif](/api/docs) [proto](//evil.example/x)** \`<b>code</b>\`\n> <marquee>citation</marquee>\n- <form action=javascript:1><button>envoyer</button></form>`,
      `[sûr](https://example.org/a?b=1&c=2) https://example.org/nu mailto:alice@example.org [courriel](mailto:bob@example.org)`,
      "```\n<script>" + flag("fence") + "</script>\n```",
      `&lt;b&gt;entités&lt;/b&gt; &#60;img src=x onerror=${flag("ent")}&#62; @bob`,
    ];
    try {
      // One message at a time, each checked on both pages while it is on
      // screen (the timeline is virtualized: rows out of view are not in
      // the DOM). The last one answers a hostile message: its preview is
      // rendered too.
      const sends = BODIES.map((b) => [b, null]);
      sends.push(["réponse", 2]);
      const ids = [];
      const seen = { Eve: [], Bob: [] };
      const texts = new Map();
      for (const [i, [body, replyTo]] of sends.entries()) {
        const id = await eve.page.evaluate(([b, r]) => document.getElementById("chat").send(b, r == null ? {} : { replyTo: r }),
          [body, replyTo == null ? null : ids[replyTo]]);
        ids.push(id);
        const all = await waitPages(pages, `message ${i} on both pages`, (all) => all.every((s) => s.rows.some((r) => r.id === id && !r.pending)));
        texts.set(id, all[1].rows.find((r) => r.id === id));
        for (const [k, p] of [["Eve", eve], ["Bob", bob]]) seen[k].push({ message: i, ...(await inertness(p)) });
      }
      for (const [user, list] of Object.entries(seen)) {
        const all = (key) => list.flatMap((f) => f[key].map((x) => `message ${f.message}: ${typeof x === "string" ? x : JSON.stringify(x)}`));
        assert.deepEqual(all("foreign"), [], `${user}: only the chat's own elements in bodies`);
        assert.deepEqual(all("handlers"), [], `${user}: no event handler attribute`);
        assert.deepEqual(all("styled"), [], `${user}: no style attribute in a body`);
        assert.deepEqual(all("injected"), [], `${user}: nothing injected into the page`);
        assert.deepEqual(list.filter((f) => f.pwned !== null).map((f) => `message ${f.message}: ${f.pwned}`), [], `${user}: no payload ran`);
        assert.deepEqual(list.filter((f) => !f.visible || f.overlay).map((f) => f.message), [], `${user}: the CSS in bodies did nothing`);
        const links = list.flatMap((f) => f.links);
        for (const l of links) {
          assert.match(l.href, /^(https?:\/\/|mailto:)/i, `${user}: link ${JSON.stringify(l)}`);
          assert.equal(l.target, "_blank", `${user}: link ${JSON.stringify(l)}`);
          assert.match(l.rel, /noopener/, `${user}: link ${JSON.stringify(l)}`);
        }
        const hrefs = links.map((l) => l.href);
        for (const safe of ["https://example.org/a?b=1&c=2", "https://example.org/nu", "mailto:alice@example.org", "mailto:bob@example.org"]) {
          assert.ok(hrefs.includes(safe), `${user}: ${safe} is a link: ${JSON.stringify(hrefs)}`);
        }
        assert.ok(hrefs.every((h) => !/javascript|vbscript|data:|^\/|evil/i.test(h)), `${user}: no unsafe target: ${JSON.stringify(hrefs)}`);
      }
      // The hostile text is shown as typed (as text), and so is the name.
      const shown = [...texts.values()].map((r) => r.text);
      for (const literal of ["<script>", "<img src=x onerror=", "[markdown js](javascript:", "<style>", "javascript:window.__pwned='bare'", "&lt;b&gt;", "<b>code</b>"]) {
        assert.ok(shown.some((t) => t?.includes(literal)), `Bob sees ${JSON.stringify(literal)} as text in ${JSON.stringify(shown)}`);
      }
      assert.ok([...texts.values()].every((r) => r.author === hostileName), "the hostile display name is text");
      assert.match(texts.get(ids.at(-1)).parent, /<img src=x onerror=/, "the reply's preview shows the hostile parent as text");
      // Clicking the rendered text of a refused link runs nothing either.
      await bob.page.click(`${article(bob, ids.at(-1))} .atelier-chat-body`);
      assert.equal(await bob.page.evaluate(() => window.__pwned ?? null), null);
      for (const p of pages) noPanic(p);
    } finally {
      for (const p of pages) await p.context.close();
    }
  });

  test(TESTS[4], opts, async () => {
    const doc = docName("axe");
    const alice = await openDemo(doc, "Alice", "alice");
    const bob = await openDemo(doc, "Bob", "bob");
    const pages = [alice, bob];
    try {
      // A chat showing what a chat shows: a mention of the viewer, a reply,
      // reactions, an edit, a tombstone, links, formatting.
      const send = (p, text, replyTo) => p.page.evaluate(([t, r]) => document.getElementById("chat").send(t, r ? { replyTo: r } : {}), [text, replyTo]);
      const first = await send(bob, "Bonjour @alice, **le plan** est sur https://example.org/plan et `main.rs`");
      await send(bob, "- un\n- deux\n> une citation");
      const gone = await send(alice, "Message supprimé");
      // Alice's message may have been appended concurrently with Bob's two,
      // so the order of the three depends on client ids: rows are found by
      // id or body, never by position. Alice answers Bob's first message once
      // her page has it (a reply to a message the page does not know is
      // refused).
      await waitPages(pages, "three messages on both", converged(3));
      const mine = await send(alice, "Merci !", first);
      await waitPages(pages, "four messages on both", converged(4));
      await react(bob, first, 0);
      await react(alice, first, 1);
      await edit(alice, mine, "Merci, je relis ce soir !");
      await remove(alice, gone);
      await waitPages(pages, "edits, reactions, tombstone on both", (all) => converged(4)(all)
        && rowWith(all[0], "ce soir")?.edited && all[0].rows.some((r) => r.deleted)
        && all[0].rows.find((r) => r.id === first)?.reactions.length === 2);
      const { page } = alice;
      if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(readFileSync(AXE, "utf8"));
      const failures = [];
      for (const theme of THEMES) {
        await page.evaluate((t) => {
          document.documentElement.setAttribute("data-atelier-theme", t);
          for (const el of document.querySelectorAll("atelier-editor, atelier-chat")) el.theme = t;
        }, theme);
        await waitUntil(() => page.evaluate(() => [...document.querySelectorAll("atelier-editor, atelier-chat")]
          .map((el) => el.getAttribute("data-atelier-theme"))), (v) => v.every((t) => t === theme), `theme ${theme} applied`);
        const violations = await page.evaluate(async (values) => {
          const r = await window.axe.run(document, { runOnly: { type: "tag", values }, resultTypes: ["violations"] });
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 200), summary: n.failureSummary })),
          }));
        }, WCAG_TAGS);
        const bg = await page.evaluate(() => getComputedStyle(document.querySelector("#chat .atelier-chat")).backgroundColor);
        console.log(`axe ${theme}: ${violations.length} violation(s); chat background ${bg}`);
        for (const v of violations) {
          failures.push(`[${theme}] ${v.id} (${v.impact}) ${v.help}`);
          for (const n of v.nodes) failures.push(`    ${JSON.stringify(n.target)} ${n.html}\n      ${(n.summary || "").replace(/\n/g, "\n      ")}`);
        }
      }
      if (failures.length) console.error(failures.join("\n"));
      assert.deepEqual(failures.filter((f) => f.startsWith("[")), [], "axe violations on chat.html");
      for (const p of pages) noPanic(p);
    } finally {
      for (const p of pages) await p.context.close();
    }
  });
});
