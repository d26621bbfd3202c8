// BlockNote as its users run it, for `cargo xtask bench editor`: React,
// the Mantine view (`@blocknote/mantine`), one Y.Doc with the
// `document-store` fragment and a HocuspocusProvider, the way La Suite Docs
// wires it. Bundled for production (esbuild --minify,
// NODE_ENV=production) by crates/xtask/src/editor_bench.rs.
//
// Query string: doc (room name), server (the Hocuspocus ws:// address).
// Tells the driver (bench/drivers/editor.mjs) where it is through
// `window.bnSynced` (the provider's first sync is done).
import * as Y from "yjs";
import { HocuspocusProvider } from "@hocuspocus/provider";
import { createRoot } from "react-dom/client";
import { withCollaboration } from "@blocknote/core/yjs";
import { useCreateBlockNote } from "@blocknote/react";
import { BlockNoteView } from "@blocknote/mantine";
import "@blocknote/core/fonts/inter.css";
import "@blocknote/mantine/style.css";

const params = new URLSearchParams(location.search);
const ydoc = new Y.Doc();
window.bnSynced = false;
const provider = new HocuspocusProvider({
  url: params.get("server"),
  name: params.get("doc") || "bench",
  document: ydoc,
  onSynced: () => { window.bnSynced = true; },
});

function Editor() {
  const editor = useCreateBlockNote(withCollaboration({
    collaboration: {
      provider,
      fragment: ydoc.getXmlFragment("document-store"),
      user: { name: "Bench", color: "#7b2ff7" },
    },
  }));
  window.bnEditor = editor;
  return <BlockNoteView editor={editor} theme="light" />;
}

createRoot(document.getElementById("root")).render(<Editor />);
