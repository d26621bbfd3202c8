// A BlockNote page without React, wired to a Hocuspocus endpoint the way
// La Suite Docs does it: one Y.Doc, the `document-store` fragment,
// HocuspocusProvider({url, name, document}) and its awareness for carets.
//
// Query string: doc (room name), server (ws://…/sync), token (sent in
// Hocuspocus' Auth message; none by default), user, color.
// Bundled with esbuild into dist/ by e2e/support/harness.mjs
// (buildBlockNotePage) for the browser tests, and by `cargo xtask bench size`.
//
// BlockNote 0.55 no longer takes a `collaboration` option on
// BlockNoteEditor.create itself: `withCollaboration` from
// `@blocknote/core/yjs` (Yjs 13 + y-prosemirror) adds the extension and
// the fixed initial block id.
import * as Y from "yjs";
import { HocuspocusProvider } from "@hocuspocus/provider";
import { BlockNoteEditor } from "@blocknote/core";
import { withCollaboration } from "@blocknote/core/yjs";
import "@blocknote/core/style.css";

const params = new URLSearchParams(location.search);
const doc = params.get("doc") || "demo";
const server = params.get("server") || `ws://${location.host}/sync`;
const token = params.get("token"); // null (the provider's default) when absent
const user = { name: params.get("user") || "BlockNote", color: params.get("color") || "#7b2ff7" };

const ydoc = new Y.Doc();
const status = document.getElementById("status");
window.bnSynced = false;
window.bnStatus = "connecting";
const provider = new HocuspocusProvider({
  url: server,
  name: doc,
  document: ydoc,
  token,
  onStatus: ({ status: s }) => { window.bnStatus = s; status.textContent = s; },
  onSynced: () => { window.bnSynced = true; status.textContent = "synced"; },
});

const editor = BlockNoteEditor.create(withCollaboration({
  collaboration: {
    provider,
    fragment: ydoc.getXmlFragment("document-store"),
    user,
  },
}));
editor.mount(document.getElementById("editor"));

window.Y = Y;
window.bnDoc = ydoc;
window.bnProvider = provider;
window.bnEditor = editor;
/** The document as BlockNote blocks (plain JSON). */
window.bnBlocks = () => JSON.parse(JSON.stringify(editor.document));
/** Awareness states of everyone else, as JSON. */
window.bnPeers = () => [...provider.awareness.getStates().entries()]
  .filter(([id]) => id !== ydoc.clientID)
  .map(([clientId, state]) => ({ clientId, ...JSON.parse(JSON.stringify(state)) }));
