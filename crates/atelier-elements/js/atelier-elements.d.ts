// Types for atelier-elements.js (the <atelier-editor> custom element).

/** Detail of the `atelier-change` event, fired on the element and on `document`. */
export interface AtelierChangeDetail {
  /** Name of the shared document that changed. */
  doc: string;
  /** The element whose document changed. */
  element: AtelierEditor;
}

/** `<atelier-editor doc readonly lang theme server token>`. */
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
  /** Sync server URL: stored for the network step, NOT used yet. */
  server: string | null;
  /** Bearer token: stored for the network step, NOT used yet. */
  token: string | null;
  /** The document as Markdown ("" until the wasm module has loaded). */
  getMarkdown(): string;
  /** Replaces the document with Markdown as one undoable change. */
  setMarkdown(md: string): Promise<void>;
  /** The document as sanitized HTML. */
  getHTML(): string;
  /** Moves keyboard focus into the editing surface. */
  focus(): void;
}

/** Resolves once the wasm module is loaded. */
export declare function whenReady(): Promise<void>;

declare global {
  interface HTMLElementTagNameMap {
    "atelier-editor": AtelierEditor;
  }
  interface HTMLElementEventMap {
    "atelier-change": CustomEvent<AtelierChangeDetail>;
  }
  interface DocumentEventMap {
    "atelier-change": CustomEvent<AtelierChangeDetail>;
  }
}
