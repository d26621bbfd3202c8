// The script of assistant.html: an editor beside the assistant pane of
// its document, the page's controls and notices.
// A module file, not an inline script, so that the page runs under the
// server's Content Security Policy (`script-src 'self'`).
import { applyConnection } from "./connection.js";
const editor = document.getElementById("editor");
const assistant = document.getElementById("assistant");
// Connection settings come from the query string; they are set on the
// editor before the bundle defines the elements, so each connects once
// with all of them; the assistant takes them from the editor it is
// `for` (and both share the page's one socket).
const params = applyConnection([editor]);
if (params.get("ai-url")) assistant.setAttribute("ai-url", params.get("ai-url"));
document.addEventListener("atelier-status", (e) => {
  document.getElementById("status").textContent = e.detail.status;
});
// What a host may do with the assistant's events: say what happened.
const notice = document.getElementById("notice");
document.addEventListener("atelier-assistant", (e) => {
  const d = e.detail;
  notice.textContent = d.type === "applied" ? `Assistant : ${d.kept} modification(s) appliquée(s)`
    : d.type === "failed" ? `Assistant (${d.code}) : ${d.message}`
    : `Assistant : ${d.type}`;
});
document.getElementById("lang").addEventListener("change", (e) => {
  editor.lang = e.target.value; assistant.lang = e.target.value;
});
document.getElementById("theme").addEventListener("change", (e) => {
  editor.theme = e.target.value; assistant.theme = e.target.value;
  document.documentElement.setAttribute("data-atelier-theme", e.target.value);
});
await import("../pkg/atelier-suite.js");
