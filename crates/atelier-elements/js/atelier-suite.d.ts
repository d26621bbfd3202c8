// Types of the suite bundle, atelier-suite.js: <atelier-editor>, <atelier-chat> and <atelier-assistant>.
export * from "./editor-element.js";
export * from "./chat-element.js";
export * from "./assistant-element.js";
export { whenReady } from "./shared.js";
