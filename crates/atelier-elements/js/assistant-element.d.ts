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
 * The AI assistant pane of document `doc`, sharing the page's connection
 * (and the selection of an `<atelier-editor>` of the same `doc`): actions
 * on the selection or the document and a free prompt; the answer streams,
 * shows as a preview, and Accept applies it as the collaborator
 * "Assistant". `for="EDITOR-ID"` takes `doc`, `server`, `token`,
 * `protocol` and the user from that editor's attributes (its own
 * attributes win). It renders into its own light DOM (no shadow root):
 * style it with the design tokens below, from `tokens.css`, and link
 * `assistant.css`.
 *
 * The tags below are what `cargo xtask dist` writes into
 * `custom-elements.json` (crates/xtask/src/manifest.rs), with the members
 * this class declares; `e2e/custom-elements-manifest.test.mjs` checks them
 * against the element.
 *
 * @element atelier-assistant
 * @summary AI assistant pane beside a collaborative editor.
 * @attr {string} for - Id of the `<atelier-editor>` whose document, server, token, protocol and user the pane takes (its own attributes win).
 * @attr {string} doc - The document the assistant works on (default: the `for` editor's, else "default").
 * @attr {boolean} readonly - No action may change the document (also when the server grants only reading).
 * @attr {string} lang - Interface language: "fr", "de", "nl" or "en" (default: the page's `lang`, else "en").
 * @attr {"light" | "dark" | "high-contrast"} theme - Colour theme (sets `data-atelier-theme`); the system's preference when absent.
 * @attr {string} server - Sync server URL (ws:// or wss://); its `/ai/v1/chat/completions` is asked unless `ai-url` is set.
 * @attr {string} token - Bearer token for the document and the AI endpoint.
 * @attr {"hocuspocus" | "y-websocket"} protocol - Wire framing (default "hocuspocus").
 * @attr {string} user-name - The local user's name.
 * @attr {string} user-color - The local user's colour (#rrggbb).
 * @attr {"atelier" | "docs"} mode - "atelier" (default: the Atelier server's AI endpoint) or "docs" (La Suite Docs' ai-proxy; `ai-url` is the Docs origin).
 * @attr {string} ai-url - Where to send AI requests instead of the sync server's AI endpoint.
 * @attr {string} model - The model name sent with each request.
 * @fires atelier-assistant - A proposal was applied, rejected or undone, or a run failed; also fired on `document`.
 * @fires atelier-status - The connection changed state; also fired on `document`.
 * @cssprop --atelier-bg - Background of the pane.
 * @cssprop --atelier-surface - Background of the preview and the prompt.
 * @cssprop --atelier-text - Text colour.
 * @cssprop --atelier-text-muted - Secondary text: notices and labels.
 * @cssprop --atelier-border - Control boundaries.
 * @cssprop --atelier-accent - The action buttons and Accept.
 * @cssprop --atelier-accent-text - Text on the accent colour.
 * @cssprop --atelier-danger - Removed text in the preview and errors.
 * @cssprop --atelier-success - Added text in the preview.
 * @cssprop --atelier-focus - Focus ring colour.
 * @cssprop --atelier-font - Font family of the text.
 * @cssprop --atelier-font-size - Base font size.
 * @cssprop --atelier-radius - Corner radius of controls.
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
