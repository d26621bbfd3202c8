// Types of assistant-element.js (the <atelier-assistant> custom element).
export type { AtelierStatusDetail } from "./shared.js";

/** Detail of `atelier-assistant`, fired on the element and on `document`. */
export type AtelierAssistantDetail =
  | {
      /** The document's name. */
      doc: string;
      /** A proposal was applied, as the collaborator "Assistant". */
      type: "applied";
      /** Parts of the proposal applied. */
      kept: number;
      /** Parts dropped because someone changed their blocks since the request. */
      dropped: number;
    }
  | { doc: string; type: "rejected" | "undone" }
  | {
      doc: string;
      /** A run failed. */
      type: "failed";
      /**
       * The AI endpoint's error code (`rate_limited_user`, `rate_limited_document`,
       * `model_missing`, `model_loading`, `upstream_unreachable`, `upstream_timeout`,
       * `forbidden`, …) or `network` when no answer came.
       */
      code: string;
      /** The sentence the pane shows, in its language. */
      message: string;
    };

/** The actions `AtelierAssistant.run` takes. */
export type AtelierAssistantAction =
  | "improve"
  | "fix-spelling"
  | "simplify"
  | "shorten"
  | "rephrase"
  | "translate"
  | "continue"
  | "summarize"
  | "action-items"
  | "prompt";

/**
 * `<atelier-assistant for doc readonly lang theme server token protocol user-name user-color mode ai-url model>`:
 * the AI assistant pane of document `doc`, sharing the page's connection
 * (and the selection of an `<atelier-editor>` of the same `doc`).
 * `for="EDITOR-ID"` takes `doc`, `server`, `token`, `protocol` and the
 * user from that editor's attributes (its own attributes win).
 */
export declare class AtelierAssistant extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The document the assistant works on. */
  doc: string;
  /** No action may change the document (also when the server grants only reading). */
  readOnly: boolean;
  /** Interface language: "fr" | "de" | "nl" | "en". */
  lang: string;
  /** "light" | "dark" | "high-contrast" (sets `data-atelier-theme`). */
  theme: string;
  /** Sync server URL (ws:// or wss://); its `/ai/v1/chat/completions` is asked unless `ai-url` is set. */
  server: string | null;
  /** Bearer token for the document and the AI endpoint. */
  token: string | null;
  /** "atelier" (default) or "docs" (La Suite Docs' ai-proxy; `ai-url` is the Docs origin). */
  mode: string;
  /** "idle" | "streaming" | "review" | "prose" | "notice" ("" before it mounts). */
  readonly phase: string;
  /** "local" | "connecting" | "synced" | "offline" | "read-only" | "denied". */
  readonly status: string;
  /** Runs an action on the editor's selection; `arg` is the language of "translate" or the request of "prompt". */
  run(action: AtelierAssistantAction, arg?: string): void;
  /** Applies the proposal under review, as the collaborator "Assistant". */
  accept(): void;
  /** Drops the proposal under review. */
  reject(): void;
  /** Stops the answer being written. */
  stop(): void;
  /** Takes back the assistant's last applied change. */
  undo(): void;
}

/** Defines `<atelier-assistant>` (the suite entry module calls it). */
export declare function defineAssistant(): void;

declare global {
  interface HTMLElementTagNameMap {
    "atelier-assistant": AtelierAssistant;
  }
  interface HTMLElementEventMap {
    "atelier-assistant": CustomEvent<AtelierAssistantDetail>;
  }
  interface DocumentEventMap {
    "atelier-assistant": CustomEvent<AtelierAssistantDetail>;
  }
}
