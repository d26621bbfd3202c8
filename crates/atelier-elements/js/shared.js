// Shared by Atelier's element classes: the wasm module, loaded once per
// page. The entry module of a bundle (atelier-elements.js, atelier-suite.js)
// says where its wasm file is, then defines its elements; each element
// awaits `load()` before it mounts. Types: shared.d.ts beside this file.

/** @type {(() => Promise<unknown>) | null} */
let initWasm = null;
/** @type {Promise<unknown> | null} */
let ready = null;

/**
 * Called once by the entry module, before any element is defined.
 * @param {() => Promise<unknown>} init loads and instantiates the bundle's wasm
 */
export function setRuntime(init) {
  initWasm = init;
}

/** Loads the wasm module once for every element on the page. */
export function load() {
  if (!ready) {
    if (!initWasm) return Promise.reject(new Error("atelier: the entry module did not set the wasm runtime"));
    ready = initWasm();
  }
  return ready;
}

/** Resolves once the wasm module is loaded. */
export function whenReady() { return load().then(() => undefined); }

/**
 * Mirrors the `theme` attribute of `el` as `data-atelier-theme`, which the
 * stylesheets' theme rules select on.
 * @param {HTMLElement} el
 */
export function applyTheme(el) {
  const theme = el.getAttribute("theme") || "";
  if (theme) el.setAttribute("data-atelier-theme", theme);
  else el.removeAttribute("data-atelier-theme");
}
