// The script of bench/chat.html (a module file: the server's Content
// Security Policy refuses inline scripts). It loads the suite bundle and
// its wasm (a local chat, mounted once and removed, makes the element
// fetch and compile it) and says so; bench/drivers/chat-bench.mjs then creates
// the <atelier-chat> it measures, so that opening a chat is timed apart
// from loading the code.
await import("../pkg/atelier-suite.js");
await customElements.whenDefined("atelier-chat");
const warm = document.createElement("atelier-chat");
warm.setAttribute("doc", "warm-up");
document.getElementById("bench").append(warm);
await new Promise((resolve) => {
  const check = () => (warm.querySelector(".atelier-chat-input") ? resolve() : requestAnimationFrame(check));
  check();
});
warm.remove();
window.__benchReady = true;
