// Types of editor-element.js (the <atelier-editor> custom element).
import type { AtelierStatusDetail } from "./shared.js";
export type { AtelierStatusDetail } from "./shared.js";

/** Detail of the `atelier-change` event, fired on the element and on `document`. */
export interface AtelierChangeDetail {
  /** Name of the shared document that changed. */
  doc: string;
  /** The element whose document changed. */
  element: AtelierEditor;
  /** Who changed it: the local user, an agent through this page, or anyone else (a peer, another tab). */
  source: "user" | "agent" | "remote";
  /** The agent's name when `source` is "agent", else null. */
  agent: string | null;
  /** Ids of the blocks whose own content (type, props, text) changed. */
  blocks: string[];
  /** Whether blocks were added, removed or moved. */
  structure: boolean;
}

/**
 * One operation of a batch (`atelier_doc::Op`); the exact shapes are in
 * `www/operations.schema.json` (`cargo xtask schema`). Offsets
 * and lengths count UTF-16 units of a block's text.
 */
export type AtelierOperation = { op: string; [field: string]: unknown };

/** What an operation did: nothing to report, blocks created, or text joined into a block. */
export type AtelierOperationOutcome =
  | { kind: "done" }
  | { kind: "created"; ids: string[] }
  | { kind: "joined"; block: string; offset: number };

/** The error `applyOperations` rejects with; nothing of the batch was applied. */
export interface AtelierOperationError extends Error {
  /** Position of the refused operation in the batch (0-based). */
  index: number;
  /** Its kind (`insertText`, `deleteBlock`, …), "unknown" if unreadable. */
  op: string;
  /** Why, for a person or an LLM to act on. */
  reason: string;
}

/** An agent as collaborators see it: a name and a caret colour (#rrggbb). */
export interface AtelierAgent { name: string; color?: string; }

/** Which agent a call acts as: a name, an agent, or (absent) the one set by `setAgent`, else "Agent". */
export interface AtelierAgentOption { agent?: string | AtelierAgent; }

/** A place `find` found: a block and a UTF-16 range of its text. */
export interface AtelierTextMatch { block: string; offset: number; length: number; }

/** A run of text sharing its marks (a hard break is "\n"). */
export interface AtelierInlineRun { text: string; marks?: Record<string, unknown>; }

/** A block with its id, as `getDocument({format: "blocks"})` returns it (the REST API's `?format=blocks`). */
export interface AtelierBlock {
  /** The block's id, which operations name. */
  id: string;
  /** BlockNote's block type (`paragraph`, `heading`, …). */
  type: string;
  /** BlockNote's props (`level`, `textAlignment`, …). */
  props: Record<string, unknown>;
  /** Inline content; empty for blocks without text. */
  content: AtelierInlineRun[];
  /** For tables: rows of cells of runs. */
  table?: AtelierInlineRun[][][];
  /** Nested blocks. */
  children: AtelierBlock[];
}

/** A position in the document: block id and UTF-16 offset in its text. */
export interface AtelierPeerPos { block: string; offset: number; }

/** A remote collaborator, from awareness. */
export interface AtelierPeer {
  /** Awareness client id. */
  clientId: number;
  /** Display name ("" when the peer published none). */
  name: string;
  /** Caret colour (#rrggbb). */
  color: string;
  /** Their selection, if it resolves in this document. */
  cursor: { anchor: AtelierPeerPos; head: AtelierPeerPos } | null;
}

/** Detail of `atelier-presence`, fired on the element and on `document`. */
export interface AtelierPresenceDetail {
  /** Name of the shared document. */
  doc: string;
  /** Every remote peer now. */
  peers: AtelierPeer[];
}

/**
 * The collaborative rich-text editor: a BlockNote-compatible document,
 * synced live with `server` (Yjs wire protocol, Hocuspocus or y-websocket
 * framing), kept in IndexedDB and editable by agents through typed
 * operations. Elements with the same `doc` share one document.
 * Where the browser has WebMCP (`document.modelContext`), the editor offers
 * its agent operations as tools (`js/webmcp.js`); `agent-tools="off"` keeps them off.
 * It renders into its own light DOM (no shadow root): style it with the
 * design tokens below, from `tokens.css`, and link `editor.css`.
 *
 * The tags below are what `cargo xtask dist` writes into
 * `custom-elements.json` (crates/xtask/src/manifest.rs), with the members
 * this class declares; `e2e/custom-elements-manifest.test.mjs` checks them
 * against the element.
 *
 * @element atelier-editor
 * @summary Collaborative rich-text editor (BlockNote documents, Yjs sync).
 * @attr {string} doc - Shared document name (default "default"); elements with the same `doc` share one document.
 * @attr {boolean} readonly - Read-only mode; the editor also turns read-only when the server grants only reading.
 * @attr {string} lang - Interface language: "fr", "de", "nl" or "en" (default: the page's `lang`, else "en").
 * @attr {"light" | "dark" | "high-contrast"} theme - Colour theme (sets `data-atelier-theme`); the system's preference when absent.
 * @attr {string} server - Sync server URL (ws:// or wss://); without it the document stays local.
 * @attr {string} token - Bearer token sent to the server.
 * @attr {"hocuspocus" | "y-websocket"} protocol - Wire framing (default "hocuspocus").
 * @attr {string} user-name - The local user's name, shown to collaborators beside their caret.
 * @attr {string} user-color - The local user's caret colour (#rrggbb).
 * @attr {"off"} agent-tools - "off" keeps the editor's WebMCP tools from being offered to the browser's agent.
 * @fires atelier-change - The document changed (by the user, an agent through this page, or a peer); also fired on `document`, once per change.
 * @fires atelier-status - The connection or the IndexedDB copy changed state; also fired on `document`.
 * @fires atelier-presence - Remote collaborators came, went or moved their carets; also fired on `document`.
 * @cssprop --atelier-bg - Background of the editing surface.
 * @cssprop --atelier-surface - Background of the toolbar, menus and code blocks.
 * @cssprop --atelier-text - Text colour.
 * @cssprop --atelier-text-muted - Secondary text: placeholders, labels, quotes.
 * @cssprop --atelier-border - Control and block boundaries.
 * @cssprop --atelier-accent - Links, active tools and the caret.
 * @cssprop --atelier-accent-text - Text on the accent colour.
 * @cssprop --atelier-focus - Focus ring colour.
 * @cssprop --atelier-selection - Background of selected text.
 * @cssprop --atelier-font - Font family of the text.
 * @cssprop --atelier-font-mono - Font family of code.
 * @cssprop --atelier-font-size - Base font size.
 * @cssprop --atelier-line-height - Line height of the text.
 * @cssprop --atelier-radius - Corner radius of controls and menus.
 */
export declare class AtelierEditor extends HTMLElement {
  static readonly observedAttributes: string[];
  /** Shared document name; elements with the same `doc` share one document. */
  doc: string;
  /** Read-only mode (`readonly` attribute). */
  readOnly: boolean;
  /** Interface language: "fr" | "de" | "nl" | "en". */
  lang: string;
  /** "light" | "dark" | "high-contrast" (sets `data-atelier-theme`). */
  theme: string;
  /** Sync server URL (ws:// or wss://); null keeps the document local. */
  server: string | null;
  /** Bearer token sent to the server. */
  token: string | null;
  /** Wire framing: "hocuspocus" (default) or "y-websocket". */
  protocol: string;
  /** Connection status ("local" without a server). */
  readonly status: "local" | AtelierStatusDetail["status"];
  /** The IndexedDB copy ("disabled" without a server). */
  readonly persistence: "disabled" | AtelierStatusDetail["persistence"];
  /** Remote peers now. */
  readonly peers: AtelierPeer[];
  /** Local changes the server has not confirmed yet. */
  readonly unsyncedChanges: number;
  /** The user's selection (UTF-16 offsets), or null when the editor has none. */
  readonly selection: { anchor: AtelierPeerPos; head: AtelierPeerPos } | null;
  /** The document as Markdown ("" until the wasm module has loaded). */
  getMarkdown(): string;
  /** Replaces the document with Markdown as one undoable change (the Markdown module loads on first use; rejects if it cannot, or when the editor is read-only by attribute or by the server's grant). */
  setMarkdown(md: string): Promise<void>;
  /** The document as sanitized HTML. */
  getHTML(): string;
  /** Moves keyboard focus into the editing surface. */
  focus(): void;
  /** The document with its block ids: BlockNote's block JSON, or Markdown with each block's id in an HTML comment. */
  getDocument(options?: { format?: "blocks" }): Promise<AtelierBlock[]>;
  getDocument(options: { format: "markdown" }): Promise<string>;
  /** Applies a batch as an agent, all or nothing, one undo step of its own; its name and caret show to every peer. Rejects with an `AtelierOperationError`. */
  applyOperations(ops: AtelierOperation[], options?: AtelierAgentOption): Promise<{ outcomes: AtelierOperationOutcome[] }>;
  /** Every occurrence of `text` (UTF-16 offsets), never across two blocks. */
  find(text: string, options?: { ignoreCase?: boolean; limit?: number }): Promise<AtelierTextMatch[]>;
  /** Selects a `find` match or an {anchor, head} range: the agent's selection (shown to peers) with `agent`, else the user's. */
  select(
    range: AtelierTextMatch | { block: string; offset: number; length?: number } | { anchor: AtelierPeerPos; head: AtelierPeerPos },
    options?: AtelierAgentOption,
  ): Promise<void>;
  /** The agent later calls act as, shown to every peer until `setAgent(null)`. */
  setAgent(agent: AtelierAgent | null): Promise<void>;
  /** Takes back the agent's last batch (never the user's changes); false if none. */
  undoAgent(options?: AtelierAgentOption): Promise<boolean>;
  /** Redoes the agent's last undone batch; false if none. */
  redoAgent(options?: AtelierAgentOption): Promise<boolean>;
}

/** Defines `<atelier-editor>` (the bundle's entry module calls it). */
export declare function defineEditor(): void;

declare global {
  interface HTMLElementTagNameMap {
    "atelier-editor": AtelierEditor;
  }
  interface HTMLElementEventMap {
    "atelier-change": CustomEvent<AtelierChangeDetail>;
    "atelier-presence": CustomEvent<AtelierPresenceDetail>;
  }
  interface DocumentEventMap {
    "atelier-change": CustomEvent<AtelierChangeDetail>;
    "atelier-presence": CustomEvent<AtelierPresenceDetail>;
  }
}
