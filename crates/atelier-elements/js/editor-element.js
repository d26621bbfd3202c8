// <atelier-editor>: a thin custom element over the wasm bundle.
// wasm-bindgen cannot subclass HTMLElement, so this module defines the
// element class and delegates everything to `mountEditor`
// (crates/atelier-elements/src/editor_element.rs). `./atelier_elements.js`
// is the crate's wasm-bindgen glue, which `cargo xtask dist` bundles in.
// Types: editor-element.d.ts beside this file.
import { mountEditor } from "./atelier_elements.js";
import { applyTheme, load } from "./shared.js";

/** @type {Promise<typeof import("./atelier_markdown.js")> | null} */
let markdownModule = null;

/**
 * Reads Markdown into blocks (a JSON array) with the Markdown module: a
 * second wasm, fetched the first time Markdown is pasted or set, so the
 * parser is not part of the editor's initial download. A failed load is
 * retried on the next call.
 * @param {string} md
 * @returns {Promise<string>}
 */
async function parseMarkdown(md) {
  if (!markdownModule) {
    markdownModule = import("./atelier_markdown.js").then(async (m) => {
      await m.default({ module_or_path: new URL("./atelier_markdown_bg.wasm", import.meta.url) });
      return m;
    });
    markdownModule.catch(() => { markdownModule = null; });
  }
  const m = await markdownModule;
  return m.parse(md);
}

/**
 * The collaborative rich-text editor element.
 * Attributes: doc, readonly, lang, theme; with `server` (ws:// or wss://)
 * the document is synced live: token, protocol ("hocuspocus" default or
 * "y-websocket"), user-name and user-color describe the connection and the
 * local user. Events: atelier-change, atelier-status, atelier-presence.
 */
export class AtelierEditor extends HTMLElement {
  static get observedAttributes() {
    return ["doc", "readonly", "lang", "theme", "server", "token", "protocol", "user-name", "user-color"];
  }

  constructor() {
    super();
    /** @type {import("./atelier_elements.js").EditorMount | null} */
    this._mount = null;
    /** @type {number} */
    this._generation = 0;
    /** Set when the server granted read-only access: the editor remounts read-only. */
    this._serverReadOnly = false;
    this.addEventListener("atelier-status", (e) => {
      const status = /** @type {CustomEvent} */ (e).detail.status;
      if (status === "read-only" && !this._serverReadOnly && !this.readOnly) {
        this._serverReadOnly = true;
        if (this.isConnected) this._remount();
      }
    });
  }

  /** The shared document's name (`doc` attribute, default "default"). */
  get doc() { return this.getAttribute("doc") || "default"; }
  set doc(v) { this.setAttribute("doc", String(v)); }
  /** Whether editing is disabled. */
  get readOnly() { return this.hasAttribute("readonly"); }
  set readOnly(v) { this.toggleAttribute("readonly", Boolean(v)); }
  /** Interface language: fr, de, nl or en. */
  get lang() { return this.getAttribute("lang") || document.documentElement.lang || "en"; }
  set lang(v) { this.setAttribute("lang", String(v)); }
  /** Theme: light, dark or high-contrast. */
  get theme() { return this.getAttribute("theme") || ""; }
  set theme(v) { this.setAttribute("theme", String(v)); }
  /** Sync server URL (ws:// or wss://); null keeps the document local. */
  get server() { return this.getAttribute("server"); }
  set server(v) { if (v == null) this.removeAttribute("server"); else this.setAttribute("server", v); }
  /** Bearer token sent to the server. */
  get token() { return this.getAttribute("token"); }
  set token(v) { if (v == null) this.removeAttribute("token"); else this.setAttribute("token", v); }
  /** Wire framing: "hocuspocus" (default) or "y-websocket". */
  get protocol() { return this.getAttribute("protocol") || "hocuspocus"; }
  set protocol(v) { this.setAttribute("protocol", String(v)); }
  /** Connection status: "local", "connecting", "synced", "offline", "read-only" or "denied". */
  get status() { return this._mount ? this._mount.status : (this.server ? "connecting" : "local"); }
  /** IndexedDB copy: "disabled" (no server), "loading", "saving", "saved" or "unavailable". */
  get persistence() { return this._mount ? this._mount.persistence : (this.server ? "loading" : "disabled"); }
  /** Remote peers as in `atelier-presence` events. */
  get peers() { return this._mount ? this._mount.peers : []; }
  /** Local changes the server has not confirmed yet. */
  get unsyncedChanges() { return this._mount ? this._mount.unsyncedChanges() : 0; }

  connectedCallback() { this._remount(); }

  disconnectedCallback() { this._unmount(); }

  /**
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue) return;
    if (name === "theme") { this._applyTheme(); return; }
    if (name === "server" || name === "token") this._serverReadOnly = false;
    if (this.isConnected && this._mount) this._remount();
  }

  _applyTheme() { applyTheme(this); }

  _unmount() {
    this._generation++;
    if (this._mount) { this._mount.unmount(); this._mount.free(); this._mount = null; }
    this.replaceChildren();
  }

  async _remount() {
    this._unmount();
    const generation = this._generation;
    this._applyTheme();
    await load();
    if (generation !== this._generation || !this.isConnected) return;
    this._mount = mountEditor(
      this, this.doc, this.readOnly || this._serverReadOnly, this.lang,
      this.server || undefined, this.token || undefined, this.getAttribute("protocol") || undefined,
      this.getAttribute("user-name") || undefined, this.getAttribute("user-color") || undefined,
      parseMarkdown,
    );
  }

  /** The document as Markdown ("" before the wasm module has loaded). */
  getMarkdown() { return this._mount ? this._mount.getMarkdown() : ""; }

  /** Replaces the document with Markdown (one undoable change). @param {string} md */
  async setMarkdown(md) {
    await load();
    if (!this._mount) await new Promise((r) => requestAnimationFrame(r));
    if (!this._mount) throw new Error("atelier-editor is not connected");
    await this._mount.setMarkdown(String(md));
  }

  /** The document as sanitized HTML. */
  getHTML() { return this._mount ? this._mount.getHTML() : ""; }

  /** Moves keyboard focus into the editing surface. */
  focus() { if (this._mount) this._mount.focus(); else super.focus(); }
}

/** Defines `<atelier-editor>` (once per page); the entry module calls it after `setRuntime`. */
export function defineEditor() {
  if (!customElements.get("atelier-editor")) customElements.define("atelier-editor", AtelierEditor);
}
