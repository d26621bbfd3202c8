// Types of the editor bundle, atelier-elements.js: <atelier-editor>.
export * from "./editor-element.js";
export { whenReady } from "./shared.js";
