// Prints, as base64, a Yjs v1 update whose rich text nests LEVELS elements
// deep: `blockGroup` and `blockContainer` alternating in `document-store`,
// the shape of the update that took the server down in issue 20. Built
// with the real `yjs` package one level at a time (no recursion).
//
// Used by crates/atelier-server/tests/deep_updates.rs.
//
// Usage: node peers/deep-update.mjs LEVELS

import * as Y from 'yjs'

const levels = Number.parseInt(process.argv[2] ?? '', 10)
if (!Number.isInteger(levels) || levels < 1) {
  process.stderr.write('usage: deep-update.mjs LEVELS\n')
  process.exit(2)
}

const doc = new Y.Doc()
const root = doc.getXmlFragment('document-store')
doc.transact(() => {
  let parent = new Y.XmlElement('blockGroup')
  root.insert(0, [parent])
  for (let i = 1; i < levels; i++) {
    const child = new Y.XmlElement(i % 2 === 1 ? 'blockContainer' : 'blockGroup')
    parent.insert(0, [child])
    parent = child
  }
})
process.stdout.write(Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64') + '\n')
