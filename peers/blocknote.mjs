// BlockNote peer for the interop tests: real @blocknote/core (through
// @blocknote/server-util) and real yjs read and write the `document-store`
// fragment exactly as La Suite Docs does.
//
// Usage (one JSON object on stdout):
//   node blocknote.mjs fixture            a rich document written by BlockNote
//   node blocknote.mjs inspect < b64      read a Yjs v1 update (base64 on stdin)
//   node blocknote.mjs write < json       write BlockNote blocks (JSON on stdin)
//   node blocknote.mjs markdown < json    for each block of a JSON array: the
//                                         Yjs update of a document holding it
//                                         and BlockNote's Markdown export of it
import * as Y from 'yjs';
import { ServerBlockNoteEditor } from '@blocknote/server-util';

const FRAGMENT = 'document-store';
const editor = ServerBlockNoteEditor.create();

// Every node as {name, attrs, children} or {text: delta}; an explicit
// `undefined` attribute is written as {"$undefined": true} so the Rust side
// can check BlockNote's exact attribute types.
function tree(node) {
  if (node instanceof Y.XmlText) return { text: node.toDelta() };
  const attrs = {};
  if (node instanceof Y.XmlElement) {
    for (const [k, v] of Object.entries(node.getAttributes())) {
      attrs[k] = v === undefined ? { $undefined: true } : v;
    }
  }
  return {
    name: node instanceof Y.XmlElement ? node.nodeName : '#fragment',
    attrs,
    children: node.toArray().map(tree),
  };
}

function describe(doc) {
  return {
    update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64'),
    blocks: editor.yDocToBlocks(doc, FRAGMENT),
    tree: tree(doc.getXmlFragment(FRAGMENT)),
  };
}

const FIXTURE = [
  { id: 'h1', type: 'heading', props: { level: 1 }, content: 'Compte rendu 😀' },
  { id: 'h2', type: 'heading', props: { level: 3, textColor: 'blue' }, content: [{ type: 'text', text: 'Sous-titre', styles: { italic: true } }] },
  {
    id: 'p1', type: 'paragraph', props: { textAlignment: 'center', backgroundColor: 'yellow' },
    content: [
      { type: 'text', text: 'Plain, ', styles: {} },
      { type: 'text', text: 'bold', styles: { bold: true } },
      { type: 'text', text: ' and ', styles: {} },
      { type: 'text', text: 'all', styles: { bold: true, italic: true, underline: true, strike: true } },
      { type: 'text', text: ' code', styles: { code: true } },
      { type: 'text', text: ' rouge', styles: { textColor: 'red', backgroundColor: 'gray' } },
      { type: 'link', href: 'https://lasuite.numerique.gouv.fr', content: [{ type: 'text', text: ' lien', styles: {} }] },
      { type: 'text', text: ' 中文 é\nnouvelle ligne', styles: {} },
    ],
  },
  {
    id: 'b1', type: 'bulletListItem', content: 'un',
    children: [
      { id: 'b2', type: 'bulletListItem', content: 'un.un', children: [{ id: 'b3', type: 'numberedListItem', content: 'profond' }] },
    ],
  },
  { id: 'n1', type: 'numberedListItem', content: 'premier' },
  { id: 'n2', type: 'numberedListItem', props: { start: 5 }, content: 'cinquième' },
  { id: 'c1', type: 'checkListItem', props: { checked: true }, content: 'fait' },
  { id: 'c2', type: 'checkListItem', content: 'à faire' },
  { id: 'code', type: 'codeBlock', props: { language: 'rust' }, content: 'fn main() {\n    println!("hi");\n}' },
  { id: 'q', type: 'quote', content: 'Une citation' },
  { id: 'div', type: 'divider' },
  { id: 't1', type: 'toggleListItem', content: 'repli' },
  {
    id: 'tbl', type: 'table',
    content: { type: 'tableContent', rows: [{ cells: ['a', 'b'] }, { cells: ['c', [{ type: 'text', text: 'd', styles: { bold: true } }]] }] },
  },
  { id: 'img', type: 'image', props: { url: 'https://example.org/x.png', caption: 'légende' } },
  { id: 'empty', type: 'paragraph' },
];

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const cmd = process.argv[2];
try {
  let out;
  if (cmd === 'fixture') {
    out = describe(editor.blocksToYDoc(FIXTURE, FRAGMENT));
  } else if (cmd === 'inspect') {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Buffer.from((await readStdin()).trim(), 'base64'));
    out = describe(doc);
    out.pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
  } else if (cmd === 'write') {
    out = describe(editor.blocksToYDoc(JSON.parse(await readStdin()), FRAGMENT));
  } else if (cmd === 'markdown') {
    out = [];
    for (const block of JSON.parse(await readStdin())) {
      const doc = editor.blocksToYDoc([block], FRAGMENT);
      out.push({
        update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64'),
        markdown: await editor.blocksToMarkdownLossy([block]),
      });
    }
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
  process.stdout.write(JSON.stringify(out));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }));
  process.exitCode = 1;
}
