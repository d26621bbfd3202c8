// The script of chat.html: an editor beside the chat of its document, the
// page's controls and notices.
// A module file, not an inline script, so that the page runs under the
// server's Content Security Policy (`script-src 'self'`).
import { applyConnection } from "./connection.js";
const editor = document.getElementById("editor");
const chat = document.getElementById("chat");
// Connection settings come from the query string; they are set before
// the bundle defines the elements, so each connects once with all of
// them (and both share the page's one socket).
const params = applyConnection([editor, chat]);
if (params.get("server") && params.get("id")) chat.setAttribute("user-id", params.get("id"));
const statusOut = document.getElementById("status");
const chatStatusOut = document.getElementById("chat-status");
// Read from the attribute: the element is not defined before the bundle loads.
const chatDoc = `${chat.getAttribute("doc")}:chat`;
// Each document's status comes once to `document`; `doc` says whose.
document.addEventListener("atelier-status", (e) => {
  (e.detail.doc === chatDoc ? chatStatusOut : statusOut).textContent = e.detail.status;
});
document.addEventListener("atelier-unread", (e) => {
  document.getElementById("unread").textContent = String(e.detail.count);
});
// What a host turns into a notification: a mention of this page's user.
const notice = document.getElementById("notice");
document.addEventListener("atelier-mention", (e) => {
  const m = e.detail.message;
  notice.textContent = `${m.authorName || m.author} vous mentionne : ${m.body}`;
});
document.getElementById("lang").addEventListener("change", (e) => {
  editor.lang = e.target.value; chat.lang = e.target.value;
});
document.getElementById("theme").addEventListener("change", (e) => {
  editor.theme = e.target.value; chat.theme = e.target.value;
  document.documentElement.setAttribute("data-atelier-theme", e.target.value);
});
document.getElementById("hello").addEventListener("click", () => {
  chat.send("Bonjour !").catch((err) => { notice.textContent = err.message; });
});
await import("../pkg/atelier-suite.js");
