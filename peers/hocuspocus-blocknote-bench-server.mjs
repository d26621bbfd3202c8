// @hocuspocus/server as shipped, holding BlockNote documents for
// `cargo xtask bench editor`: a room named NAME starts with the text of
// DIR/NAME.txt (paragraphs split at blank lines), turned into BlockNote
// paragraph blocks in the `document-store` fragment by BlockNote's own
// schema (@blocknote/server-util). Built once per room, in Node, before a
// browser asks for it. Usage: node hocuspocus-blocknote-bench-server.mjs
// PORT DIR. Prints {"port": N} once listening; stops when stdin closes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as Y from 'yjs';
import { Server } from '@hocuspocus/server';
import { ServerBlockNoteEditor } from '@blocknote/server-util';

const dir = process.argv[3];
const editor = ServerBlockNoteEditor.create();
const updates = new Map();

/** The Yjs update of room `name`, or null when DIR has no text for it. */
function initialUpdate(name) {
  if (!updates.has(name)) {
    const file = path.join(dir, `${path.basename(name)}.txt`);
    if (!existsSync(file)) return null;
    const blocks = readFileSync(file, 'utf8').split('\n\n').map((para) => ({
      type: 'paragraph',
      content: [{ type: 'text', text: para, styles: {} }],
    }));
    const doc = editor.blocksToYDoc(blocks, 'document-store');
    updates.set(name, Y.encodeStateAsUpdate(doc));
  }
  return updates.get(name);
}

const server = new Server({
  port: Number(process.argv[2] || 0),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true,
  async onLoadDocument({ documentName, document }) {
    const update = initialUpdate(documentName);
    if (update) Y.applyUpdate(document, update);
    return document;
  },
});
await server.listen();
process.stdout.write(JSON.stringify({ port: server.address.port }) + '\n');
// A line `NAME` on stdin builds that room's document now, so its cost is
// not counted in the browser's load time; answers the line back.
process.stdin.setEncoding('utf8');
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
    const name = pending.slice(0, i);
    pending = pending.slice(i + 1);
    const update = initialUpdate(name);
    process.stdout.write(JSON.stringify({ built: name, bytes: update?.length ?? 0 }) + '\n');
  }
});
process.stdin.on('close', () => server.destroy().then(() => process.exit(0)));
