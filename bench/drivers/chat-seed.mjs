// The chat the chat benchmarks open: 10,000 messages in the layout of
// `atelier_doc::chat`, built with the yjs package. Shared by
// chat-bench.mjs (through the server, in Chromium) and chat-floor.mjs
// (the same bytes applied under Node).
import * as Y from "yjs";

/**
 * The chat of a document as `Chat::post` writes it (`chat` is a Y.Array of
 * Y.Maps), as updates of at most `batch` messages each: the server's HTTP
 * body limit (2 MB) is below one update of 10,000 messages.
 */
export function seedUpdates(n, batch) {
  const doc = new Y.Doc();
  const chat = doc.getArray("chat");
  const people = [["alice", "Alice Martin"], ["bob", "Bob Durand"], ["carol", "Carol Petit"], ["dan", "Dan Moreau"]];
  const now = Date.now();
  const updates = [];
  for (let from = 0; from < n; from += batch) {
    const before = Y.encodeStateVector(doc);
    doc.transact(() => {
      const maps = [];
      for (let i = from; i < Math.min(n, from + batch); i++) {
        const [author, authorName] = people[i % people.length];
        const m = new Y.Map();
        m.set("id", `${doc.clientID.toString(16)}-${i.toString(16)}`);
        m.set("author", author);
        // About three messages an hour over the weeks before now: day separators.
        m.set("ts", now - (n - i) * 20 * 60_000);
        // Mostly one line; every 7th has a list and bold, every 11th a link and a mention.
        let body = `#${i} Point ${i} du plan de la réunion, à relire avant jeudi.`;
        if (i % 7 === 0) body += "\n- une liste\n- avec du **gras**";
        if (i % 11 === 0) body += ` Voir https://example.org/doc/${i} @${people[(i + 1) % people.length][0]}`;
        m.set("body", body);
        m.set("authorName", authorName);
        m.set("reactions", new Y.Map());
        maps.push(m);
      }
      chat.push(maps);
    });
    updates.push(Y.encodeStateAsUpdate(doc, before));
  }
  return updates;
}
