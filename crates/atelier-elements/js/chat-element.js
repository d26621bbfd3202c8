// <atelier-chat>: a thin custom element over the wasm bundle.
// wasm-bindgen cannot subclass HTMLElement, so this module defines the
// element class and delegates everything to `mountChat`
// (crates/atelier-elements/src/chat_element.rs). `./atelier_elements.js`
// is the crate's wasm-bindgen glue (built with the `chat` feature), which
// `cargo xtask dist` bundles in. Types: chat-element.d.ts beside this file.
import { mountChat } from "./atelier_elements.js";
import { applyTheme, load } from "./shared.js";
import { refreshAgentTools } from "./webmcp.js";

/** Where a page keeps the id it made up for its user (no `user-id`, no readable token). */
const STORED_ID = "atelier-user-id";
/** Characters of a user id that an `@mention` can name (atelier_doc::chat::is_mention_char). */
const NOT_MENTIONABLE = /[^\p{L}\p{N}\-_.]/gu;

/**
 * `id` made mentionable: characters an `@mention` cannot hold become `_`,
 * and a trailing `.` (a sentence's full stop) goes. "" if nothing is left.
 * @param {string} id
 */
function mentionable(id) {
  return id.replace(NOT_MENTIONABLE, "_").replace(/\.+$/, "");
}

/**
 * The `sub` claim of a JWT, read without checking its signature (the
 * server checks the token; the page only needs a stable name for its user).
 * @param {string | null} token
 * @returns {string}
 */
function tokenSubject(token) {
  const payload = token?.split(".")[1];
  if (!payload) return "";
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const sub = JSON.parse(new TextDecoder().decode(bytes))?.sub;
    return typeof sub === "string" ? sub : "";
  } catch {
    return "";
  }
}

/** @type {string | null} A made-up id when localStorage is unavailable (one per page). */
let pageId = null;

/** A stable made-up id for this browser, kept in localStorage. */
function storedId() {
  try {
    let id = localStorage.getItem(STORED_ID);
    if (!id || mentionable(id) !== id) {
      id = `user-${crypto.randomUUID().slice(0, 8)}`;
      localStorage.setItem(STORED_ID, id);
    }
    return id;
  } catch {
    pageId ??= `user-${crypto.randomUUID().slice(0, 8)}`;
    return pageId;
  }
}

/**
 * The local user's id: the `user-id` attribute, else the token's `sub` if
 * the token is a readable JWT, else an id kept in localStorage; always
 * made of letters, digits, `-`, `_` and `.` so that it can be @mentioned.
 * @param {string | null} attribute
 * @param {string | null} token
 */
export function userIdFor(attribute, token) {
  return mentionable(attribute || "") || mentionable(tokenSubject(token)) || storedId();
}

/**
 * The chat panel element, beside a document's editor: the chat of `doc` is
 * the document `doc:chat`, on the same connection.
 * Attributes: doc, readonly, lang, theme; with `server` (ws:// or wss://)
 * the chat is synced live: token, protocol, user-name, user-color and
 * user-id describe the connection and the local user.
 * Events: atelier-message, atelier-mention, atelier-unread, atelier-status.
 */
export class AtelierChat extends HTMLElement {
  static get observedAttributes() {
    return ["doc", "readonly", "lang", "theme", "server", "token", "protocol", "user-name", "user-color", "user-id"];
  }

  constructor() {
    super();
    /** @type {import("./atelier_elements.js").ChatMount | null} */
    this._mount = null;
    /** @type {number} */
    this._generation = 0;
    /** Calls waiting for a mount that can send. @type {Array<() => void>} */
    this._waiters = [];
  }

  /** The document whose chat this is (`doc` attribute, default "default"). */
  get doc() { return this.getAttribute("doc") || "default"; }
  set doc(v) { this.setAttribute("doc", String(v)); }
  /** Whether sending is disabled. */
  get readOnly() { return this.hasAttribute("readonly"); }
  set readOnly(v) { this.toggleAttribute("readonly", Boolean(v)); }
  /** Interface language: fr, de, nl or en. */
  get lang() { return this.getAttribute("lang") || document.documentElement.lang || "en"; }
  set lang(v) { this.setAttribute("lang", String(v)); }
  /** Theme: light, dark or high-contrast. */
  get theme() { return this.getAttribute("theme") || ""; }
  set theme(v) { this.setAttribute("theme", String(v)); }
  /** Sync server URL (ws:// or wss://); null keeps the chat local. */
  get server() { return this.getAttribute("server"); }
  set server(v) { if (v == null) this.removeAttribute("server"); else this.setAttribute("server", v); }
  /** Bearer token sent to the server. */
  get token() { return this.getAttribute("token"); }
  set token(v) { if (v == null) this.removeAttribute("token"); else this.setAttribute("token", v); }
  /** Wire framing: "hocuspocus" (default) or "y-websocket". */
  get protocol() { return this.getAttribute("protocol") || "hocuspocus"; }
  set protocol(v) { this.setAttribute("protocol", String(v)); }
  /** The local user's id: what their messages carry as author and what `@id` mentions match. */
  get userId() { return userIdFor(this.getAttribute("user-id"), this.token); }
  set userId(v) { if (v == null) this.removeAttribute("user-id"); else this.setAttribute("user-id", v); }
  /** Connection status: "local", "connecting", "synced", "offline", "read-only" or "denied". */
  get status() { return this._mount ? this._mount.status : (this.server ? "connecting" : "local"); }
  /** IndexedDB copy: "disabled" (no server), "loading", "saving", "saved" or "unavailable". */
  get persistence() { return this._mount ? this._mount.persistence : (this.server ? "loading" : "disabled"); }
  /** Messages that arrived unseen (as in `atelier-unread`). */
  get unreadCount() { return this._mount ? this._mount.unreadCount : 0; }
  /** Local changes the server has not confirmed yet. */
  get unsyncedChanges() { return this._mount ? this._mount.unsyncedChanges() : 0; }

  connectedCallback() {
    this._remount();
    // An editor's WebMCP tools include posting here while this chat is on the page.
    refreshAgentTools();
  }

  disconnectedCallback() {
    this._unmount();
    this._wake();
    refreshAgentTools();
  }

  /**
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue) return;
    if (name === "theme") { applyTheme(this); return; }
    if (this.isConnected && this._mount) this._remount();
  }

  /** Lets waiting `send` calls look again. */
  _wake() {
    const waiters = this._waiters;
    this._waiters = [];
    for (const w of waiters) w();
  }

  _unmount() {
    this._generation++;
    if (this._mount) { this._mount.unmount(); this._mount.free(); this._mount = null; }
    this.replaceChildren();
  }

  async _remount() {
    this._unmount();
    const generation = this._generation;
    applyTheme(this);
    await load();
    if (generation !== this._generation || !this.isConnected) return;
    this._mount = mountChat(
      this, this.doc, this.readOnly, this.lang,
      this.server || undefined, this.token || undefined, this.getAttribute("protocol") || undefined,
      this.userId, this.getAttribute("user-name") || undefined, this.getAttribute("user-color") || undefined,
      () => this._wake(),
    );
    this._wake();
  }

  /**
   * Sends `text` as the local user (answering `replyTo`, a message id, if
   * given); resolves with the new message's id, rejects with a sentence
   * saying why it was not sent (empty, too long, read-only, …).
   * @param {string} text
   * @param {{replyTo?: string}} [options]
   * @returns {Promise<string>}
   */
  async send(text, options = {}) {
    await load();
    while (!this._mount?.ready) {
      if (!this.isConnected) throw new Error("atelier-chat is not connected");
      await new Promise((resolve) => this._waiters.push(() => resolve(undefined)));
    }
    return this._mount.send(String(text), options.replyTo == null ? undefined : String(options.replyTo));
  }

  /** Moves keyboard focus to the composer (to the timeline when read-only). */
  focus() { if (this._mount) this._mount.focus(); else super.focus(); }
}

/** Defines `<atelier-chat>` (once per page); the entry module calls it after `setRuntime`. */
export function defineChat() {
  if (!customElements.get("atelier-chat")) customElements.define("atelier-chat", AtelierChat);
}
