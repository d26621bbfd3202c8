// Types of the suite bundle, atelier-suite.js: <atelier-editor> and <atelier-chat>.
export * from "./editor-element.js";
export * from "./chat-element.js";
export { whenReady } from "./shared.js";
