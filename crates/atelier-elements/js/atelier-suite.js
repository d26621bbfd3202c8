// The suite bundle's entry module (www/pkg/atelier-suite.js):
// <atelier-editor>, <atelier-chat> and <atelier-assistant> on one runtime,
// for pages that use the chat or the assistant. `cargo xtask dist` bundles
// it with shared.js, the element modules and the wasm-bindgen glue of
// atelier-elements built with the `editor`, `chat` and `assistant` features. A page
// loads one bundle: this one or atelier-elements.js, never both.
// Types: atelier-suite.d.ts.
import init from "./atelier_elements.js";
import { setRuntime } from "./shared.js";
import { AtelierEditor, defineEditor } from "./editor-element.js";
import { AtelierChat, defineChat } from "./chat-element.js";
import { AtelierAssistant, defineAssistant } from "./assistant-element.js";

setRuntime(() => init({ module_or_path: new URL("./atelier_suite_bg.wasm", import.meta.url) }));
defineEditor();
defineChat();
defineAssistant();

export { AtelierEditor, AtelierChat, AtelierAssistant };
export { whenReady } from "./shared.js";
