// What a frontend team writes after `npm install @atelier/elements`: the
// design tokens and each element's stylesheet, then the suite module
// (<atelier-editor>, <atelier-chat>, <atelier-assistant>), which Vite
// bundles with its wasm files (found through `new URL(…, import.meta.url)`).
import "@atelier/elements/styles/tokens.css";
import "@atelier/elements/styles/editor.css";
import "@atelier/elements/styles/chat.css";
import "@atelier/elements/styles/assistant.css";
import { whenReady } from "@atelier/elements/suite";

whenReady().then(
  () => { document.documentElement.dataset.atelier = "ready"; },
  (e) => { document.documentElement.dataset.atelier = `failed: ${e}`; },
);
