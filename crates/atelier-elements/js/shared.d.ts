// Types shared by Atelier's elements (shared.js).

/** Detail of `atelier-status`, fired by every element on itself and on `document`. */
export interface AtelierStatusDetail {
  /** Name of the shared document (for `<atelier-chat doc="D">`, the chat document `D:chat`). */
  doc: string;
  /** Where its connection stands. */
  status: "connecting" | "synced" | "offline" | "read-only" | "denied";
  /** The IndexedDB copy of the document ("unavailable": kept in memory only). */
  persistence: "loading" | "saving" | "saved" | "unavailable";
  /** Why the connection could not start (bad server address), if so. */
  error?: string;
}

/** Resolves once the wasm module is loaded. */
export declare function whenReady(): Promise<void>;

/** Called once by a bundle's entry module with the function that loads its wasm. */
export declare function setRuntime(init: () => Promise<unknown>): void;

/** Loads the wasm module (once per page). */
export declare function load(): Promise<unknown>;

/** Mirrors an element's `theme` attribute as `data-atelier-theme`. */
export declare function applyTheme(el: HTMLElement): void;

declare global {
  interface HTMLElementEventMap {
    "atelier-status": CustomEvent<AtelierStatusDetail>;
  }
  interface DocumentEventMap {
    "atelier-status": CustomEvent<AtelierStatusDetail>;
  }
}
