// The gallery's stories: each widget in each state. A state says which
// elements to show with which attributes (what the code panel prints), how
// to lay them out, what to prepare on the server first, what to start once
// they are on the page, and which connection status each one must reach
// before the state counts as shown (data-ready on <main>, which the e2e
// test waits for).

/** Themes offered, in order; those the loaded tokens.css lacks are left out at run time. */
export const THEMES = ["light", "dark", "high-contrast", "dsfr", "neutral"];

/**
 * Addresses on this server where no WebSocket and no AI endpoint answer,
 * for the offline and AI-down states. They stay on this origin because the
 * server's Content-Security-Policy (`connect-src 'self'`) refuses a page's
 * connections anywhere else before they are even tried.
 */
export const UNREACHABLE_PATH = "/gallery-unreachable";
const http = location.protocol === "https:" ? "https" : "http";
export const UNREACHABLE_WS = `${http === "https" ? "wss" : "ws"}://${location.host}${UNREACHABLE_PATH}/sync`;
export const UNREACHABLE_AI = `${http}://${location.host}${UNREACHABLE_PATH}/ai/v1/chat/completions`;
/** A token no server accepts. */
export const BAD_TOKEN = "not-a-valid-token";

/**
 * The stories and their states, in the order the navigation lists them.
 * Names and descriptions are the catalogue's `gallery-story-ID(-desc)` and
 * `gallery-state-ID(-desc)`.
 */
export const STORIES = [
  { id: "suite", states: ["default"] },
  { id: "editor", states: ["empty", "default", "long", "collaborators", "offline", "readonly", "bad-token"] },
  { id: "chat", states: ["default", "chat-only", "offline", "readonly", "bad-token"] },
  { id: "assistant", states: ["default", "ai-down", "offline", "readonly"] },
  { id: "two-clients", states: ["default"] },
  { id: "restyle", states: ["default"] },
];

/** The user every widget of the gallery speaks as. */
const USER = { "user-name": "Alice", "user-color": "#a4161a" };

/**
 * The state `story`/`state`: {layout, items: [{tag, attrs, caption?}],
 * prepare?: "sample" | "long" | "peers", seedLocal?, seedChat?, lockAfterSeed? (readonly once seeded),
 * start?: "peers" | "typist" | "summarize",
 * expect: {[item index]: statuses}, allowNetworkErrors?}.
 * @param {string} story
 * @param {string} state
 * @param {{server: string, docOf: (name: string) => string}} ctx
 */
export function stateSpec(story, state, { server, docOf }) {
  const doc = docOf(`${story}-${state}`);
  const editor = (attrs = {}) => ({ tag: "atelier-editor", attrs: { doc, server, ...USER, ...attrs } });
  const chat = (attrs = {}) => ({ tag: "atelier-chat", attrs: { doc, server, ...USER, "user-id": "alice", ...attrs } });
  const SYNCED = ["synced"];
  switch (story) {
    case "suite":
      return {
        layout: "suite", prepare: "sample", seedChat: true,
        items: [
          editor({ id: "suite-editor" }),
          chat(),
          { tag: "atelier-assistant", attrs: { for: "suite-editor" } },
        ],
        expect: [SYNCED, SYNCED, SYNCED],
      };
    case "editor": {
      const shared = docOf("editor-default");
      switch (state) {
        case "empty": return { layout: "single", items: [editor()], expect: [SYNCED] };
        case "default": return { layout: "single", prepare: "sample", items: [editor({ doc: shared })], expect: [SYNCED] };
        case "long": return { layout: "single", prepare: "long", items: [editor()], expect: [SYNCED] };
        case "collaborators": return { layout: "single", prepare: "peers", start: "peers", items: [editor()], expect: [SYNCED] };
        case "offline":
          return { layout: "single", seedLocal: true, items: [editor({ server: UNREACHABLE_WS })], expect: [["offline", "connecting"]], allowNetworkErrors: true };
        case "readonly": return { layout: "single", prepare: "sample", items: [editor({ doc: shared, readonly: "" })], expect: [SYNCED] };
        case "bad-token":
          return { layout: "single", items: [editor({ token: BAD_TOKEN })], expect: [["denied"]], allowNetworkErrors: true };
      }
      break;
    }
    case "chat": {
      const shared = docOf("chat-default");
      switch (state) {
        case "default": return { layout: "single", seedChat: true, items: [chat({ doc: shared })], expect: [SYNCED] };
        case "chat-only":
          return {
            layout: "suite", prepare: "sample", seedChat: true,
            items: [editor({ readonly: "" }), chat()], expect: [SYNCED, SYNCED],
          };
        case "offline":
          return { layout: "single", items: [chat({ server: UNREACHABLE_WS })], expect: [["offline", "connecting"]], allowNetworkErrors: true };
        case "readonly":
          // A read-only chat cannot write its own first message: it opens
          // writable, says hello once, then turns read-only.
          return { layout: "single", seedChat: true, lockAfterSeed: true, items: [chat({ doc: shared })], expect: [SYNCED] };
        case "bad-token":
          return { layout: "single", items: [chat({ token: BAD_TOKEN })], expect: [["denied"]], allowNetworkErrors: true };
      }
      break;
    }
    case "assistant": {
      const assistant = (attrs = {}) => ({ tag: "atelier-assistant", attrs: { doc, server, ...USER, ...attrs } });
      switch (state) {
        case "default": return { layout: "single", prepare: "sample", items: [assistant()], expect: [SYNCED] };
        case "ai-down":
          return {
            layout: "single", prepare: "sample", start: "summarize",
            items: [assistant({ "ai-url": UNREACHABLE_AI })], expect: [SYNCED], allowNetworkErrors: true,
          };
        case "offline":
          return { layout: "single", items: [assistant({ server: UNREACHABLE_WS })], expect: [["offline", "connecting"]], allowNetworkErrors: true };
        case "readonly": return { layout: "single", prepare: "sample", items: [assistant({ readonly: "" })], expect: [SYNCED] };
      }
      break;
    }
    case "two-clients":
      // A second connection to the same server: the same address with a
      // query string the server ignores, so the page's hub opens a socket
      // (and a local copy) of its own for client B.
      return {
        layout: "pair", prepare: "sample", start: "typist",
        items: [
          editor({ id: "client-a", "user-name": "Alice" }),
          editor({ id: "client-b", server: `${server}?client=b`, "user-name": "Bob", "user-color": "#1d4ed8" }),
        ],
        captions: ["gallery-client-a", "gallery-client-b"],
        expect: [SYNCED, SYNCED],
      };
    case "restyle":
      return {
        layout: "suite", prepare: "sample", seedChat: true, restyle: true,
        items: [editor({ id: "restyled-editor" }), chat()],
        expect: [SYNCED, SYNCED],
      };
  }
  throw new Error(`no story ${story}/${state}`);
}
