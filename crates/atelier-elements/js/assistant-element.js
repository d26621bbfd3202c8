// <atelier-assistant>: a thin custom element over the wasm bundle.
// wasm-bindgen cannot subclass HTMLElement, so this module defines the
// element class and delegates everything to `mountAssistant`
// (crates/atelier-elements/src/assistant_element.rs). `./atelier_elements.js`
// is the crate's wasm-bindgen glue (built with the `assistant` feature),
// which `cargo xtask dist` bundles in. Types: assistant-element.d.ts.
import { mountAssistant } from "./atelier_elements.js";
import { applyTheme, load } from "./shared.js";
import { refreshAgentTools } from "./webmcp.js";

/** Django's CSRF token for La Suite Docs (`mode="docs"`), from its `csrftoken` cookie. */
function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : undefined;
}

/**
 * The AI assistant pane of a document, beside its editor: actions on the
 * editor's selection (improve, fix spelling, simplify, shorten, rephrase,
 * translate) or the document (continue, summarize, action items) and a
 * free prompt; the answer streams, shows as a preview, and Accept applies
 * it as the collaborator "Assistant" (own caret, own undo).
 * Attributes: doc, readonly, lang, theme, server, token, protocol,
 * user-name, user-color (as <atelier-editor>), mode ("atelier" or "docs"),
 * ai-url, model.
 * Events: atelier-assistant, atelier-status.
 */
export class AtelierAssistant extends HTMLElement {
  static get observedAttributes() {
    return ["for", "doc", "readonly", "lang", "theme", "server", "token", "protocol", "user-name", "user-color", "mode", "ai-url", "model"];
  }

  constructor() {
    super();
    /** @type {import("./atelier_elements.js").AssistantMount | null} */
    this._mount = null;
    /** @type {number} */
    this._generation = 0;
  }

  /**
   * Attribute `name` of this element, else of the editor that `for` names
   * (`<atelier-assistant for="EDITOR-ID">` takes its document, server,
   * token and user from that editor).
   * @param {string} name
   * @returns {string | null}
   */
  _setting(name) {
    const own = this.getAttribute(name);
    if (own) return own;
    const id = this.getAttribute("for");
    return id ? document.getElementById(id)?.getAttribute(name) || null : null;
  }

  /** The document the assistant works on (`doc` attribute, else the `for` editor's, default "default"). */
  get doc() { return this._setting("doc") || "default"; }
  set doc(v) { this.setAttribute("doc", String(v)); }
  /** Whether the assistant may not change the document. */
  get readOnly() { return this.hasAttribute("readonly"); }
  set readOnly(v) { this.toggleAttribute("readonly", Boolean(v)); }
  /** Interface language: fr, de, nl or en. */
  get lang() { return this.getAttribute("lang") || document.documentElement.lang || "en"; }
  set lang(v) { this.setAttribute("lang", String(v)); }
  /** Theme: light, dark or high-contrast. */
  get theme() { return this.getAttribute("theme") || ""; }
  set theme(v) { this.setAttribute("theme", String(v)); }
  /** Sync server URL (ws:// or wss://); its AI endpoint is asked unless `ai-url` says otherwise. */
  get server() { return this._setting("server"); }
  set server(v) { if (v == null) this.removeAttribute("server"); else this.setAttribute("server", v); }
  /** Bearer token, for the document and the AI endpoint. */
  get token() { return this._setting("token"); }
  set token(v) { if (v == null) this.removeAttribute("token"); else this.setAttribute("token", v); }
  /** "atelier" (default: the Atelier server's /ai/v1/chat/completions) or "docs" (La Suite Docs' ai-proxy). */
  get mode() { return this.getAttribute("mode") || "atelier"; }
  set mode(v) { this.setAttribute("mode", String(v)); }
  /** What the pane shows: "idle", "streaming", "review", "prose" or "notice" ("" before it mounts). */
  get phase() { return this._mount ? this._mount.phase : ""; }
  /** Connection status: "local", "connecting", "synced", "offline", "read-only" or "denied". */
  get status() { return this._mount ? this._mount.status : (this.server ? "connecting" : "local"); }

  connectedCallback() {
    this._remount();
    // An editor's WebMCP tools include this pane's actions while it is on the page.
    refreshAgentTools();
  }

  disconnectedCallback() {
    this._unmount();
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
    const attr = (/** @type {string} */ name) => this._setting(name) || undefined;
    this._mount = mountAssistant(
      this, this.doc, this.readOnly, this.lang,
      attr("server"), attr("token"), attr("protocol"), attr("user-name"), attr("user-color"),
      attr("mode"), attr("ai-url"), attr("model"), this.mode === "docs" ? csrfToken() : undefined,
    );
  }

  /** @returns {import("./atelier_elements.js").AssistantMount} */
  _mounted() {
    if (!this._mount) throw new Error("atelier-assistant is not mounted yet (await whenReady())");
    return this._mount;
  }

  /**
   * Runs an action on the editor's selection, as the pane's buttons do:
   * "improve", "fix-spelling", "simplify", "shorten", "rephrase",
   * "translate" (arg: "fr", "de", "nl", "en" or a language's name),
   * "continue", "summarize", "action-items", "prompt" (arg: the request).
   * @param {string} action
   * @param {string} [arg]
   */
  run(action, arg) { this._mounted().run(String(action), arg == null ? undefined : String(arg)); }
  /** Applies the proposal under review, as the assistant. */
  accept() { this._mounted().accept(); }
  /** Drops the proposal under review: the document never saw it. */
  reject() { this._mounted().reject(); }
  /** Stops the answer being written (the server stops the model). */
  stop() { this._mounted().stop(); }
  /** Takes back the assistant's last applied change (never the user's). */
  undo() { this._mounted().undo(); }
}

/** Defines `<atelier-assistant>` (once per page); the entry module calls it after `setRuntime`. */
export function defineAssistant() {
  if (!customElements.get("atelier-assistant")) customElements.define("atelier-assistant", AtelierAssistant);
}
