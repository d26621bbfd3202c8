// The script of editor.html: two editors on one document, the page's
// controls, Markdown in and out.
// A module file, not an inline script, so that the page runs under the
// server's Content Security Policy (`script-src 'self'`).
import { applyConnection } from "./connection.js";
const main = document.getElementById("main");
const mirror = document.getElementById("mirror");
// Connection settings come from the query string; set them before the
// module defines the element, so it connects once with all of them.
const server = applyConnection([main, mirror]).get("server");
const statusOut = document.getElementById("status");
const peersOut = document.getElementById("peers");
document.addEventListener("atelier-status", (e) => { statusOut.textContent = e.detail.status; });
document.addEventListener("atelier-presence", (e) => {
  peersOut.textContent = e.detail.peers.map((p) => p.name || `#${p.clientId}`).join(", ") || "—";
});
const { whenReady } = await import("../pkg/atelier-elements.js");
const out = document.getElementById("out");
const sample = "# Bienvenue\n\nUn paragraphe avec du **gras**, de l’*italique* et un [lien](https://lasuite.numerique.gouv.fr).\n\n- une liste\n  - imbriquée\n- [ ] une tâche\n\n> une citation\n\n```\ncode\n```\n";
document.addEventListener("atelier-change", () => { out.textContent = main.getMarkdown(); });
document.getElementById("lang").addEventListener("change", (e) => {
  main.lang = e.target.value; mirror.lang = e.target.value;
});
document.getElementById("theme").addEventListener("change", (e) => {
  main.theme = e.target.value; mirror.theme = e.target.value;
  document.documentElement.setAttribute("data-atelier-theme", e.target.value);
});
document.getElementById("load").addEventListener("click", () => main.setMarkdown(sample));
document.getElementById("export").addEventListener("click", () => { out.textContent = main.getMarkdown(); });
await whenReady();
// A shared document is never overwritten with the sample on load.
if (!server) await main.setMarkdown(sample);
out.textContent = main.getMarkdown();
