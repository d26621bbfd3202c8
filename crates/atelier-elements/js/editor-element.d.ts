// Types of editor-element.js (the <atelier-editor> custom element).
import type { AtelierStatusDetail } from "./shared.js";
export type { AtelierStatusDetail } from "./shared.js";

/** Detail of the `atelier-change` event, fired on the element and on `document`. */
export interface AtelierChangeDetail {
  /** Name of the shared document that changed. */
  doc: string;
  /** The element whose document changed. */
  element: AtelierEditor;
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

/** `<atelier-editor doc readonly lang theme server token protocol user-name user-color>`. */
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
  /** The document as Markdown ("" until the wasm module has loaded). */
  getMarkdown(): string;
  /** Replaces the document with Markdown as one undoable change (the Markdown module loads on first use; rejects if it cannot). */
  setMarkdown(md: string): Promise<void>;
  /** The document as sanitized HTML. */
  getHTML(): string;
  /** Moves keyboard focus into the editing surface. */
  focus(): void;
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
