// A Yjs peer that writes into a chat document what Atelier's Matrix bridge
// writes when Matrix refuses a message: the key `failed:<message id>` of
// the `matrix` map beside the `chat` array, holding the refusal's text
// (atelier-relay-status names both). The bridge is a collaborator like
// this one: it applies its ledger's update through the server's room.
//
// Run: node peers/ledger-writer.mjs WS_URL CHAT_DOC BODY REASON
//   e.g. ws://127.0.0.1:8080/sync notes:chat "hello" "refused …"
// Connects over y-websocket, waits for a message whose body contains BODY,
// records its refusal, and prints one JSON line {"id"} once the update left
// the socket; then stays connected until stdin closes (so the update is
// never cut off), and prints {"error"} and exits 1 on a failure.

import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import WebSocket from "ws";

const [url, doc, body, reason] = process.argv.slice(2);
if (!url || !doc || !body || !reason) {
  console.log(JSON.stringify({ error: "usage: ledger-writer.mjs WS_URL CHAT_DOC BODY REASON" }));
  process.exit(1);
}
const ydoc = new Y.Doc();
const provider = new WebsocketProvider(url, doc, ydoc, { WebSocketPolyfill: WebSocket });
const chat = ydoc.getArray("chat");
const ledger = ydoc.getMap("matrix");
const deadline = setTimeout(() => {
  const bodies = chat.toArray().map((m) => m?.get?.("body"));
  console.log(JSON.stringify({ error: `no message containing ${JSON.stringify(body)} within 20 s; saw ${JSON.stringify(bodies)}` }));
  process.exit(1);
}, 20_000);

let done = false;
function tryWrite() {
  if (done || !provider.synced) return;
  const message = chat.toArray().find((m) => m instanceof Y.Map && String(m.get("body") ?? "").includes(body));
  if (!message) return;
  done = true;
  const id = message.get("id");
  ydoc.transact(() => ledger.set(`failed:${id}`, reason));
  const flushed = setInterval(() => {
    if (provider.ws && provider.ws.bufferedAmount === 0) {
      clearInterval(flushed);
      clearTimeout(deadline);
      console.log(JSON.stringify({ id }));
    }
  }, 20);
}
provider.on("sync", tryWrite);
chat.observeDeep(tryWrite);
process.stdin.on("end", () => { provider.destroy(); process.exit(0); });
process.stdin.resume();
