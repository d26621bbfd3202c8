// The editor bundle's entry module (www/pkg/atelier-elements.js):
// <atelier-editor> alone, so a page with only the editor downloads no chat
// code. `cargo xtask dist` bundles it with shared.js, editor-element.js and
// the wasm-bindgen glue of atelier-elements built with the `editor`
// feature. Types: atelier-elements.d.ts.
import init from "./atelier_elements.js";
import { setRuntime } from "./shared.js";
import { AtelierEditor, defineEditor } from "./editor-element.js";

setRuntime(() => init({ module_or_path: new URL("./atelier_elements_bg.wasm", import.meta.url) }));
defineEditor();

export { AtelierEditor };
export { whenReady } from "./shared.js";
