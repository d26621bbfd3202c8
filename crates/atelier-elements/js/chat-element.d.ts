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
 * `<atelier-chat doc readonly lang theme server token protocol user-name user-color user-id>`:
 * the chat of document `doc` (the Yjs document `doc:chat`), sharing the
 * page's connection with an editor of the same `doc`.
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
