// Loads Yjs v1 updates into a fresh Y.Doc and reports what a Yjs replica sees.
//
// Used by crates/atelier-sync/tests/yrs_regressions.rs to check that a state
// produced by `yrs` loads in real Yjs (the `yjs` package in peers/node_modules).
//
// Usage:
//   node peers/yjs-state-check.mjs FRAGMENT [BASE64_UPDATE ...]
//   ... | node peers/yjs-state-check.mjs FRAGMENT     (one base64 update a line)
//
// The updates are applied in the given order. Prints one line of JSON:
//   {"state_vector": {"<client>": clock, ...}, "pending": bool, "xml": string}
// where `pending` says whether the document still holds structs or deletes
// it could not integrate, and `xml` is `doc.getXmlFragment(FRAGMENT).toString()`.
// Exits with status 2 and a message on stderr on bad input.

import * as Y from 'yjs'
import { readFileSync } from 'node:fs'

const fail = (message) => {
  process.stderr.write(`yjs-state-check: ${message}\n`)
  process.exit(2)
}

const [fragment, ...args] = process.argv.slice(2)
if (!fragment) fail('usage: yjs-state-check.mjs FRAGMENT [BASE64_UPDATE ...]')

const encoded = args.length > 0
  ? args
  : readFileSync(0, 'utf8').split(/\s+/).filter((line) => line.length > 0)

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const doc = new Y.Doc()
encoded.forEach((text, i) => {
  if (!BASE64.test(text) || text.length % 4 !== 0) fail(`update ${i} is not base64`)
  try {
    Y.applyUpdate(doc, new Uint8Array(Buffer.from(text, 'base64')))
  } catch (err) {
    fail(`update ${i} does not apply: ${err && err.message ? err.message : err}`)
  }
})

const stateVector = {}
for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
  stateVector[String(client)] = clock
}

process.stdout.write(JSON.stringify({
  state_vector: stateVector,
  pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
  xml: doc.getXmlFragment(fragment).toString()
}) + '\n')
