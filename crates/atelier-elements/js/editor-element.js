// <atelier-editor>: a thin custom element over the wasm bundle.
// wasm-bindgen cannot subclass HTMLElement, so this module defines the
// element class and delegates everything to `mountEditor`
// (crates/atelier-elements/src/editor_element.rs). `./atelier_elements.js`
// is the crate's wasm-bindgen glue, which `cargo xtask dist` bundles in.
// Types: editor-element.d.ts beside this file.
import { mountEditor } from "./atelier_elements.js";
import { applyTheme, load } from "./shared.js";
import { offerAgentTools, refreshAgentTools, withdrawAgentTools } from "./webmcp.js";

/** @type {Promise<typeof import("./atelier_markdown.js")> | null} */
let markdownModule = null;

/**
 * The Markdown module: a second wasm, fetched the first time Markdown is
 * pasted or set or an agent reads or edits, so the parser and the agents'
 * checks are not part of the editor's initial download. A failed load is
 * retried on the next call.
 */
function markdown() {
  if (!markdownModule) {
    markdownModule = import("./atelier_markdown.js").then(async (m) => {
      await m.default({ module_or_path: new URL("./atelier_markdown_bg.wasm", import.meta.url) });
      return m;
    });
    markdownModule.catch(() => { markdownModule = null; });
  }
  return markdownModule;
}

/**
 * Reads Markdown into blocks (a JSON array) with the Markdown module.
 * @param {string} md
 * @returns {Promise<string>}
 */
async function parseMarkdown(md) {
  return (await markdown()).parse(md);
}

/**
 * The collaborative rich-text editor element.
 * Attributes: doc, readonly, lang, theme; with `server` (ws:// or wss://)
 * the document is synced live: token, protocol ("hocuspocus" default or
 * "y-websocket"), user-name and user-color describe the connection and the
 * local user. Events: atelier-change, atelier-status, atelier-presence.
 * Agents (an in-page script, a browser automation) read and edit it with
 * typed operations: getDocument, find, select, applyOperations, setAgent,
 * undoAgent, redoAgent (see editor-element.d.ts and operations.schema.json).
 */
export class AtelierEditor extends HTMLElement {
  static get observedAttributes() {
    return ["doc", "readonly", "lang", "theme", "server", "token", "protocol", "user-name", "user-color", "agent-tools"];
  }

  constructor() {
    super();
    /** @type {import("./atelier_elements.js").EditorMount | null} */
    this._mount = null;
    /** @type {number} */
    this._generation = 0;
    /** Set when the server granted read-only access: the editor remounts read-only. */
    this._serverReadOnly = false;
    /** @type {{name: string, color?: string} | null} The agent set by setAgent. */
    this._agent = null;
    /** @type {Map<string, ReturnType<typeof setTimeout>>} Agents shown for a while after a batch. */
    this._lingering = new Map();
    this.addEventListener("atelier-status", (e) => {
      const status = /** @type {CustomEvent} */ (e).detail.status;
      // Read-only or refused by the server: the editor remounts read-only
      // (a refused one also says why, in its notice).
      if ((status === "read-only" || status === "denied") && !this._serverReadOnly && !this.readOnly) {
        this._serverReadOnly = true;
        if (this.isConnected) this._remount();
        refreshAgentTools();
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
  /** The user's selection ({anchor, head} as {block, offset}), or null. */
  get selection() { return this._mount ? this._mount.selection : null; }
  /** Local changes the server has not confirmed yet. */
  get unsyncedChanges() { return this._mount ? this._mount.unsyncedChanges() : 0; }

  connectedCallback() {
    this._remount();
    offerAgentTools(this);
  }

  disconnectedCallback() {
    this._unmount();
    withdrawAgentTools(this);
  }

  /** Whether the editor is read-only, by its attribute or the server's grant. */
  get _readOnlyNow() { return this.readOnly || this._serverReadOnly; }

  /**
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue) return;
    if (name === "agent-tools" || name === "readonly" || name === "doc") refreshAgentTools();
    if (name === "agent-tools") return;
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
    // The agent set by setAgent stays shown across a remount.
    if (this._agent) this._mount.showAgent(this._agent.name, this._agent.color);
  }

  /** The document as Markdown ("" before the wasm module has loaded). */
  getMarkdown() { return this._mount ? this._mount.getMarkdown() : ""; }

  /**
   * Replaces the document with Markdown (one undoable change); rejects when
   * the editor is read-only (the attribute, or the server's grant).
   * @param {string} md
   */
  async setMarkdown(md) {
    const mount = await this._ready();
    if (this._readOnlyNow) throw new Error("atelier-editor is read-only");
    await mount.setMarkdown(String(md));
  }

  /** The document as sanitized HTML. */
  getHTML() { return this._mount ? this._mount.getHTML() : ""; }

  /** Moves keyboard focus into the editing surface. */
  focus() { if (this._mount) this._mount.focus(); else super.focus(); }

  /** The mount, once the wasm module has loaded and the editor is mounted. */
  async _ready() {
    await load();
    if (!this._mount) await new Promise((r) => requestAnimationFrame(r));
    if (!this._mount) throw new Error("atelier-editor is not connected");
    return this._mount;
  }

  /**
   * The agent an option names (a name or {name, color}), else the one set
   * by setAgent, else "Agent".
   * @param {{agent?: string | {name: string, color?: string}}} [options]
   */
  _agentOf(options) {
    const a = options && options.agent;
    if (typeof a === "string") return { name: a, color: undefined };
    if (a && typeof a.name === "string") return { name: a.name, color: a.color || undefined };
    return this._agent || { name: "Agent", color: undefined };
  }

  /**
   * The document with its block ids: `blocks` (a JSON array of blocks) or
   * `markdown` (each block's id in an HTML comment an agent can quote back).
   * @param {{format?: "blocks" | "markdown"}} [options]
   */
  async getDocument({ format = "blocks" } = {}) {
    const m = await markdown();
    const text = m.documentAs((await this._ready()).encodeState(), format);
    return format === "blocks" ? JSON.parse(text) : text;
  }

  /**
   * Applies a batch of operations (www/operations.schema.json) as an agent,
   * all or nothing, as one undo step of the agent's own; its name and caret
   * show to every collaborator (for 8 s after the batch, or while set by
   * setAgent). Rejects with an Error whose `index` and `op` name the first
   * refused operation; nothing changed then.
   * @param {object[]} ops
   * @param {{agent?: string | {name: string, color?: string}}} [options]
   */
  async applyOperations(ops, options) {
    const m = await markdown();
    const mount = await this._ready();
    if (this.readOnly || this._serverReadOnly) throw new Error("atelier-editor is read-only");
    const agent = this._agentOf(options);
    // Checked and run on a copy of the state as it is now; nothing else
    // runs before the update is applied, so it applies as checked.
    const batch = m.tryOperations(mount.encodeState(), JSON.stringify(ops), mount.clientId);
    const result = JSON.parse(batch.result);
    const update = batch.update;
    batch.free();
    if (result.error) {
      const { index, op, message } = result.error;
      throw Object.assign(new Error(`operation ${index} (${op}) refused: ${message}`), { index, op, reason: message });
    }
    const caret = result.caret;
    mount.applyAgentUpdate(update, agent.name, agent.color, caret ? caret.block : undefined, caret ? caret.offset : 0);
    this._linger(agent.name);
    return { outcomes: result.outcomes };
  }

  /**
   * Keeps an agent that was not set by setAgent shown for 8 s after its
   * last batch, as the server's REST and MCP agents are.
   * @param {string} name
   */
  _linger(name) {
    clearTimeout(this._lingering.get(name));
    if (this._agent && this._agent.name === name) return;
    this._lingering.set(name, setTimeout(() => {
      this._lingering.delete(name);
      if (this._mount && !(this._agent && this._agent.name === name)) this._mount.clearAgent(name);
    }, 8000));
  }

  /**
   * Every place `text` occurs, as [{block, offset, length}] (UTF-16 units),
   * in reading order; never across two blocks.
   * @param {string} text
   * @param {{ignoreCase?: boolean, limit?: number}} [options]
   */
  async find(text, { ignoreCase = false, limit = 1000 } = {}) {
    // Folds character by character, keeping each one's UTF-16 length, so
    // offsets in the folded text are offsets in the block.
    const fold = (/** @type {string} */ s) => ignoreCase
      ? [...s].map((c) => { const l = c.toLowerCase(); return l.length === c.length ? l : c; }).join("")
      : s;
    const needle = fold(String(text));
    /** @type {{block: string, offset: number, length: number}[]} */
    const hits = [];
    if (!needle) return hits;
    for (const [block, blockText] of (await this._ready()).blockTexts()) {
      const hay = fold(blockText);
      for (let i = hay.indexOf(needle); i >= 0 && hits.length < limit; i = hay.indexOf(needle, i + needle.length)) {
        hits.push({ block, offset: i, length: needle.length });
      }
      if (hits.length >= limit) break;
    }
    return hits;
  }

  /**
   * Selects a range: a find() match {block, offset, length} or {anchor,
   * head} positions ({block, offset}). With `agent`, the agent's selection,
   * shown to every collaborator; without, the user's own.
   * @param {{block: string, offset: number, length?: number} | {anchor: {block: string, offset: number}, head: {block: string, offset: number}}} range
   * @param {{agent?: string | {name: string, color?: string}}} [options]
   */
  async select(range, options) {
    const mount = await this._ready();
    const r = /** @type {any} */ (range);
    const anchor = r.anchor || { block: r.block, offset: r.offset };
    const head = r.head || { block: r.block, offset: (r.offset | 0) + (r.length | 0) };
    const agent = options && options.agent ? this._agentOf(options) : null;
    mount.selectRange(String(anchor.block), anchor.offset | 0, String(head.block), head.offset | 0,
      agent ? agent.name : undefined, agent ? agent.color : undefined);
  }

  /**
   * Sets the agent later calls act as, and shows its name and caret to every
   * collaborator until setAgent(null), which withdraws it.
   * @param {{name: string, color?: string} | null} agent
   */
  async setAgent(agent) {
    const mount = await this._ready();
    const previous = this._agent;
    this._agent = agent ? { name: String(agent.name), color: agent.color || undefined } : null;
    if (previous && (!this._agent || previous.name !== this._agent.name)) mount.clearAgent(previous.name);
    if (this._agent) mount.showAgent(this._agent.name, this._agent.color);
  }

  /**
   * Takes back the agent's last batch, never the user's changes nor another
   * agent's; false if it has none.
   * @param {{agent?: string | {name: string, color?: string}}} [options]
   */
  async undoAgent(options) { return (await this._ready()).undoAgent(this._agentOf(options).name); }

  /**
   * Redoes the agent's last undone batch; false if it has none.
   * @param {{agent?: string | {name: string, color?: string}}} [options]
   */
  async redoAgent(options) { return (await this._ready()).redoAgent(this._agentOf(options).name); }
}

/** Defines `<atelier-editor>` (once per page); the entry module calls it after `setRuntime`. */
export function defineEditor() {
  if (!customElements.get("atelier-editor")) customElements.define("atelier-editor", AtelierEditor);
}
