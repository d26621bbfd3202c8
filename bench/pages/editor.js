// The benchmark page's script: connects the editor when asked and tells
// the driver (bench/drivers/editor.mjs) when it is ready. A module file, not an inline
// script, so the page runs under the server's Content Security Policy.
const el = document.getElementById("e");
const params = new URLSearchParams(location.search);
if (params.get("server")) {
  el.setAttribute("doc", params.get("doc") || "bench");
  el.setAttribute("server", params.get("server"));
}
window.__status = "loading";
document.addEventListener("atelier-status", (e) => { window.__status = e.detail.status; });
const { whenReady } = await import("../pkg/atelier-elements.js");
await whenReady();
window.__editor = el;
window.__ready = performance.now();
