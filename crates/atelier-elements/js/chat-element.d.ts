// Types of chat-element.js (the <atelier-chat> custom element).
import type { AtelierStatusDetail } from "./shared.js";
export type { AtelierStatusDetail } from "./shared.js";

/** A chat message, as `atelier-message` and `atelier-mention` carry it. */
export interface AtelierChatMessage {
  /** Unique id (what `send(text, {replyTo})` answers). */
  id: string;
  /** The author's user id (what `@id` mentions name). */
  author: string;
  /** The author's display name when they sent it, if stored. */
  authorName: string | null;
  /** Sent time, milliseconds since the Unix epoch. */
  ts: number;
  /** The text: plain text with light Markdown-like formatting, never HTML. */
  body: string;
  /** Id of the message this one answers, if any. */
  replyTo: string | null;
}

/** Detail of `atelier-message` and `atelier-mention`, fired on the element and on `document`. */
export interface AtelierChatMessageDetail {
  /** The chat document's name: `doc:chat`. */
  doc: string;
  /** The message. */
  message: AtelierChatMessage;
}

/** Detail of `atelier-unread`, fired on the element and on `document`. */
export interface AtelierUnreadDetail {
  /** The chat document's name: `doc:chat`. */
  doc: string;
  /** Messages that arrived while the reader was scrolled up or the page hidden (0 once seen). */
  count: number;
}

/** Options of `AtelierChat.send`. */
export interface AtelierSendOptions {
  /** Id of the message to answer (the reply joins its thread). */
  replyTo?: string;
}

/**
 * The chat of document `doc` (the Yjs document `doc:chat`), sharing the
 * page's connection with an editor of the same `doc`: threads, replies,
 * reactions, @mentions and unread counts. It renders into its own light
 * DOM (no shadow root): style it with the design tokens below, from
 * `tokens.css`, and link `chat.css`.
 *
 * The tags below are what `cargo xtask dist` writes into
 * `custom-elements.json` (crates/xtask/src/manifest.rs), with the members
 * this class declares; `e2e/custom-elements-manifest.test.mjs` checks them
 * against the element.
 *
 * @element atelier-chat
 * @summary Chat panel of a collaborative document.
 * @attr {string} doc - The document whose chat this is (default "default"); the chat itself is the document `doc:chat`.
 * @attr {boolean} readonly - Read-only mode: messages show, none can be sent; also when the server grants only reading.
 * @attr {string} lang - Interface language: "fr", "de", "nl" or "en" (default: the page's `lang`, else "en").
 * @attr {"light" | "dark" | "high-contrast"} theme - Colour theme (sets `data-atelier-theme`); the system's preference when absent.
 * @attr {string} server - Sync server URL (ws:// or wss://); without it the chat stays local.
 * @attr {string} token - Bearer token sent to the server.
 * @attr {"hocuspocus" | "y-websocket"} protocol - Wire framing (default "hocuspocus").
 * @attr {string} user-name - The local user's display name, stored with their messages.
 * @attr {string} user-color - The local user's colour (#rrggbb).
 * @attr {string} user-id - The local user's id, what `@id` mentions name (default: the token's `sub`, else an id kept in localStorage).
 * @fires atelier-message - A message arrived or was sent; also fired on `document`.
 * @fires atelier-mention - A message mentions the local user; also fired on `document`.
 * @fires atelier-unread - The count of messages not seen yet changed; also fired on `document`.
 * @fires atelier-status - The connection or the IndexedDB copy changed state; also fired on `document`.
 * @cssprop --atelier-bg - Background of the timeline.
 * @cssprop --atelier-surface - Background of messages and the composer.
 * @cssprop --atelier-text - Text colour.
 * @cssprop --atelier-text-muted - Secondary text: times, names, placeholders.
 * @cssprop --atelier-border - Control and message boundaries.
 * @cssprop --atelier-accent - Links, mentions and the send button.
 * @cssprop --atelier-accent-text - Text on the accent colour.
 * @cssprop --atelier-danger - The unread line and failed messages.
 * @cssprop --atelier-focus - Focus ring colour.
 * @cssprop --atelier-font - Font family of the text.
 * @cssprop --atelier-font-size - Base font size.
 * @cssprop --atelier-radius - Corner radius of messages and controls.
 */
export declare class AtelierChat extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The document whose chat this is; the chat itself is the document `doc:chat`. */
  doc: string;
  /** Read-only mode (`readonly` attribute); also when the server grants only reading. */
  readOnly: boolean;
  /** Interface language: "fr" | "de" | "nl" | "en". */
  lang: string;
  /** "light" | "dark" | "high-contrast" (sets `data-atelier-theme`). */
  theme: string;
  /** Sync server URL (ws:// or wss://); null keeps the chat local. */
  server: string | null;
  /** Bearer token sent to the server. */
  token: string | null;
  /** Wire framing: "hocuspocus" (default) or "y-websocket". */
  protocol: string;
  /**
   * The local user's id (`user-id` attribute; else the token's `sub` when
   * the token is a JWT; else an id kept in localStorage), made of letters,
   * digits, `-`, `_` and `.` so that `@id` mentions it.
   */
  userId: string;
  /** Connection status ("local" without a server). */
  readonly status: "local" | AtelierStatusDetail["status"];
  /** The IndexedDB copy ("disabled" without a server). */
  readonly persistence: "disabled" | AtelierStatusDetail["persistence"];
  /** Messages that arrived unseen. */
  readonly unreadCount: number;
  /** Local changes the server has not confirmed yet. */
  readonly unsyncedChanges: number;
  /** Sends `text` as the local user; resolves with the message's id, rejects with the reason it was not sent. */
  send(text: string, options?: AtelierSendOptions): Promise<string>;
  /** Moves keyboard focus to the composer (to the timeline when read-only). */
  focus(): void;
}

/** The id `<atelier-chat>` uses for its user, from a `user-id` attribute and a token. */
export declare function userIdFor(attribute: string | null, token: string | null): string;

/** Defines `<atelier-chat>` (the bundle's entry module calls it). */
export declare function defineChat(): void;

declare global {
  interface HTMLElementTagNameMap {
    "atelier-chat": AtelierChat;
  }
  interface HTMLElementEventMap {
    "atelier-message": CustomEvent<AtelierChatMessageDetail>;
    "atelier-mention": CustomEvent<AtelierChatMessageDetail>;
    "atelier-unread": CustomEvent<AtelierUnreadDetail>;
  }
  interface DocumentEventMap {
    "atelier-message": CustomEvent<AtelierChatMessageDetail>;
    "atelier-mention": CustomEvent<AtelierChatMessageDetail>;
    "atelier-unread": CustomEvent<AtelierUnreadDetail>;
  }
}
