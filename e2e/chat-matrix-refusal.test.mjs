// A message Matrix refused shows as failed in <atelier-chat>, with Matrix's
// reason (issue 19), in headless Chromium driven by playwright-core against
// a real `atelier serve`.
//
// Run: node --test e2e/chat-matrix-refusal.test.mjs   (after `cargo xtask
// dist` and `cargo build -p atelier-server --bin atelier`; `npm ci` in e2e/
// and peers/). Missing Chromium, binary, bundle or peers: the test is
// skipped and a line `SKIPPED: <test> (reason)` is printed.
//
// The refusal is written the way the bridge writes it: by another
// collaborator of the chat document (peers/ledger-writer.mjs, a Yjs peer
// over y-websocket) setting `failed:<message id>` in the document's
// `matrix` map. The bridge's own path to that key, from a real Synapse's
// M_FORBIDDEN, is tests/matrix_bridge.rs in atelier-server.
//
// What is checked: the sender's message gets a failed mark in words, the
// reason under it as the message's accessible description, coloured with
// the danger token; a page opened afterwards shows the same; the other
// messages stay unmarked. Waits are for conditions with deadlines; a
// failure prints the pages' timelines, the peer's output and the server log.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { DEADLINE_MS, PEERS, WWW, atelierAndChromium, missing, openBlankServerPage, watchErrors } from "./support/harness.mjs";

const TESTS = ["a message refused by Matrix shows as failed with the reason, on every page"];
const skipReason = missing()
  ?? (existsSync(path.join(WWW, "pkg/atelier-suite.js")) ? null : "no www/pkg/atelier-suite.js; run cargo xtask dist")
  ?? (existsSync(path.join(PEERS, "node_modules/y-websocket")) ? null : "y-websocket missing; npm ci in peers/");
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);
const opts = { skip: skipReason ?? false };

const env = atelierAndChromium("chat-refusal");

/** The lone chat on the server's blank page, as `user`; waits until synced. */
async function openChat(doc, user, id) {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const p = { context, page, user, errors: watchErrors(page) };
  await openBlankServerPage(page, env.server.addr);
  await page.evaluate(async ({ doc, server, user, id }) => {
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
  await waitFor([p], p, `${user}: chat synced`,
    () => document.getElementById("solo")?.status === "synced" && document.querySelector("#solo .atelier-chat-input"));
  return p;
}

/** Every message of `p`'s timeline: body, the failed mark, the described reason, their colours. */
function inspect(p) {
  return p.page.evaluate(() => [...document.querySelectorAll("#solo .atelier-chat-message")].map((m) => {
    const described = m.getAttribute("aria-describedby");
    const reason = described ? document.getElementById(described) : null;
    const mark = m.querySelector(".atelier-chat-refused");
    const danger = getComputedStyle(document.documentElement).getPropertyValue("--atelier-danger").trim();
    return {
      id: m.getAttribute("data-id"),
      body: m.querySelector(".atelier-chat-body")?.textContent ?? null,
      refused: m.getAttribute("data-refused") === "true",
      mark: mark?.textContent ?? null,
      markInLabel: !!mark && m.getAttribute("aria-labelledby") === mark.parentElement?.id,
      reason: reason?.textContent ?? null,
      reasonColor: reason ? getComputedStyle(reason).color : null,
      danger,
    };
  })).catch((e) => ({ error: String(e) }));
}

async function dump(pages, peerLines = []) {
  for (const p of pages) {
    console.error(`--- ${p.user}:`, JSON.stringify(await inspect(p), null, 2), "\nconsole:", p.errors.join("\n"));
  }
  console.error("--- ledger writer:\n" + peerLines.join("\n"));
  console.error("--- server log (tail):\n" + env.server.log.slice(-40).join("\n"));
}

async function waitFor(pages, p, what, fn, arg) {
  try {
    return await (await p.page.waitForFunction(fn, arg, { timeout: DEADLINE_MS, polling: 50 })).jsonValue();
  } catch (e) {
    await dump(pages);
    throw new Error(`${what}: not seen within ${DEADLINE_MS} ms (${e.message.split("\n")[0]})`);
  }
}

/** Runs peers/ledger-writer.mjs; resolves with {id, stop(), lines} once it wrote the refusal. */
function writeRefusal(doc, body, reason) {
  const child = spawn(process.execPath, [path.join(PEERS, "ledger-writer.mjs"),
    `ws://${env.server.addr}/sync`, `${doc}:chat`, body, reason], { cwd: PEERS, stdio: ["pipe", "pipe", "pipe"] });
  const lines = [];
  createInterface({ input: child.stderr }).on("line", (l) => lines.push(`stderr: ${l}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ledger writer silent for ${DEADLINE_MS} ms:\n${lines.join("\n")}`)), DEADLINE_MS + 2_000);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`ledger writer exited (${code}):\n${lines.join("\n")}`)); });
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      let out;
      try { out = JSON.parse(line); } catch { return; }
      clearTimeout(timer);
      child.removeAllListeners("exit");
      if (out.error) reject(new Error(`ledger writer: ${out.error}`));
      else resolve({ id: out.id, lines, stop: () => { child.stdin.end(); child.kill(); } });
    });
  });
}

describe("<atelier-chat> and the Matrix bridge's refusals", () => {
  test(TESTS[0], opts, async () => {
    const doc = `refusal-${Date.now()}`;
    const alice = await openChat(doc, "Alice", "alice");
    const pages = [alice];
    let writer;
    try {
      await alice.page.evaluate(async () => {
        const chat = document.getElementById("solo");
        await chat.send("This one reaches Matrix");
        await chat.send("Ce message sera refusé");
      });
      await waitFor(pages, alice, "both messages held by the server", () =>
        [...document.querySelectorAll("#solo .atelier-chat-message")].filter((m) => m.getAttribute("data-pending") !== "true").length === 2);
      const reason = "refused by the homeserver (403 M_FORBIDDEN): User @bot:localhost not in room !abc:localhost";
      writer = await writeRefusal(doc, "sera refusé", reason);
      const refusedIs = ([id, reason]) => {
        const m = document.querySelector(`#solo .atelier-chat-message[data-id="${id}"]`);
        const described = m?.getAttribute("aria-describedby");
        return m?.getAttribute("data-refused") === "true"
          && described && document.getElementById(described)?.textContent.includes(reason);
      };
      await waitFor(pages, alice, "Alice's message marked refused with the reason", refusedIs, [writer.id, reason]);
      const bob = await openChat(doc, "Bob", "bob");
      pages.push(bob);
      await waitFor(pages, bob, "a page opened later shows the refusal too", refusedIs, [writer.id, reason]);
      for (const p of pages) {
        const seen = await inspect(p);
        console.log(`${p.user} sees:`, JSON.stringify(seen));
        const refused = seen.find((m) => m.id === writer.id);
        assert.ok(refused.mark?.endsWith("Not delivered to Matrix"), `${p.user}: the mark says it in words: ${refused.mark}`);
        assert.ok(refused.markInLabel, `${p.user}: the mark is in the message's accessible name`);
        assert.equal(refused.reason, `The Matrix room refused this message: ${reason}`);
        assert.ok(refused.danger.length > 0, "the danger token is defined");
        const other = seen.find((m) => m.id !== writer.id);
        assert.equal(other.refused, false, `${p.user}: the other message is not marked`);
        assert.equal(other.reason, null);
        assert.ok(p.errors.every((e) => !/panicked|RuntimeError/.test(e)), `${p.user}: ${p.errors.join("\n")}`);
      }
      // The reason's colour is the danger token's.
      const same = await alice.page.evaluate((id) => {
        const probe = document.createElement("span");
        probe.style.color = "var(--atelier-danger)";
        document.getElementById("solo").append(probe);
        const want = getComputedStyle(probe).color;
        probe.remove();
        const m = document.querySelector(`#solo .atelier-chat-message[data-id="${id}"]`);
        return { want, got: getComputedStyle(document.getElementById(m.getAttribute("aria-describedby"))).color };
      }, writer.id);
      assert.equal(same.got, same.want, JSON.stringify(same));
    } catch (e) {
      await dump(pages, writer?.lines ?? []);
      throw e;
    } finally {
      writer?.stop();
      for (const p of pages) await p.context.close();
    }
  });
});
