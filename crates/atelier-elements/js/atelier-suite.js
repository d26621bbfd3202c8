// The suite bundle's entry module (www/pkg/atelier-suite.js):
// <atelier-editor> and <atelier-chat> on one runtime (the assistant will
// join them), for pages that use the chat. `cargo xtask dist` bundles it
// with shared.js, the element modules and the wasm-bindgen glue of
// atelier-elements built with the `editor` and `chat` features. A page
// loads one bundle: this one or atelier-elements.js, never both.
// Types: atelier-suite.d.ts.
import init from "./atelier_elements.js";
import { setRuntime } from "./shared.js";
import { AtelierEditor, defineEditor } from "./editor-element.js";
import { AtelierChat, defineChat } from "./chat-element.js";

setRuntime(() => init({ module_or_path: new URL("./atelier_suite_bg.wasm", import.meta.url) }));
defineEditor();
defineChat();

export { AtelierEditor, AtelierChat };
export { whenReady } from "./shared.js";
