// A long-lived Yjs peer for interop tests driven from Rust
// (crates/atelier-sync/tests/yjs_yrs_convergence.rs).
//
// Protocol: newline-delimited JSON. Every line on stdin is one request
// object with a `cmd` field; every request gets exactly one line on stdout,
// either a result object or `{"error": "..."}`. Binary data (updates, state
// vectors) travels as base64 of the Yjs v1 encoding. The process hosts any
// number of named replicas, each a `Y.Doc` whose XML lives in the
// `Y.XmlFragment` named `xml`.
//
// Commands (fields besides `cmd`):
//   create   {name, client_id, gc}          -> {ok}
//   drop     {name}                         -> {ok}
//   op       {name, op}                     -> {update: base64 | null}
//   tree     {name}                         -> {tree: [node]}
//   state_vector {name}                     -> {state_vector: base64}
//   diff     {name, state_vector: base64}   -> {update: base64}
//   apply    {name, update: base64}         -> {ok}
//   report   {name}                         -> report
//   replay   {updates: [base64], gc, client_id?} -> report of a fresh replica
//            that applied `updates` in order (the replica is not kept), plus
//            `cleanup: [base64]`, the updates of formatting cleanups Yjs ran
//            on its own while applying them
//   truth    {updates: [base64]}             -> {ok}: remember the document
//            these updates make (all local edits of a run) as the truth
//   validate {updates: [base64]}             -> {corrupt: [string | null]}:
//            for each update, how it contradicts the truth (an item whose
//            id, origins, parent or content differ, a clock or delete past
//            what was ever created), or null
//
// A report is {xml, state_vector: {client: clock}, pending, full_state}.
// A tree node is {kind: "element", name, attrs: [key], children: [node]} or
// {kind: "text", text} (the plain text of an XmlText, formatting dropped);
// both carry `client`, the id of the client that created the node.
// An op is {kind, path, ...} where `path` lists child indices from the
// fragment down to the node the op works on; see `applyOp` for the kinds.
//
// The randomness lives on the Rust side: this peer only executes the
// operations it is given, so a seed there replays a whole run.

import * as Y from 'yjs'
import { createInterface } from 'node:readline'

// Everything on stdout is protocol; keep stray logging out of it.
console.log = (...args) => process.stderr.write(args.join(' ') + '\n')

const FRAGMENT = 'xml'

/** @type {Map<string, {doc: Y.Doc, captured: Uint8Array[] | null}>} */
const replicas = new Map()

const toBase64 = (bytes) => Buffer.from(bytes).toString('base64')
const fromBase64 = (text) => {
  if (typeof text !== 'string') throw new Error('expected a base64 string')
  return new Uint8Array(Buffer.from(text, 'base64'))
}

const newDoc = (clientId, gc) => {
  const doc = new Y.Doc({ gc: Boolean(gc) })
  if (clientId !== undefined && clientId !== null) doc.clientID = Number(clientId)
  // Define the root type up front so updates integrate into an XmlFragment.
  doc.getXmlFragment(FRAGMENT)
  return doc
}

const replica = (name) => {
  const r = replicas.get(name)
  if (r === undefined) throw new Error(`no replica named ${JSON.stringify(name)}`)
  return r
}

const report = (doc) => {
  const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
  const stateVector = {}
  for (const [client, clock] of sv) stateVector[String(client)] = clock
  return {
    xml: doc.getXmlFragment(FRAGMENT).toString(),
    state_vector: stateVector,
    pending: doc.store.pendingStructs != null || doc.store.pendingDs != null,
    full_state: toBase64(Y.encodeStateAsUpdate(doc))
  }
}

const plainText = (text) =>
  text.toDelta().map((d) => (typeof d.insert === 'string' ? d.insert : '')).join('')

const tree = (parent) =>
  parent.toArray().map((child) => {
    const client = child._item.id.client
    if (child instanceof Y.XmlText) return { kind: 'text', text: plainText(child), client }
    if (child instanceof Y.XmlElement) {
      return {
        kind: 'element',
        name: child.nodeName,
        attrs: Object.keys(child.getAttributes()).sort(),
        children: tree(child),
        client
      }
    }
    return { kind: 'other' }
  })

const checkIndex = (index, max, what) => {
  if (!Number.isInteger(index) || index < 0 || index > max) {
    throw new Error(`${what} ${index} out of range 0..=${max}`)
  }
}

const resolve = (doc, path) => {
  if (!Array.isArray(path)) throw new Error('op.path must be an array')
  let node = doc.getXmlFragment(FRAGMENT)
  for (const i of path) {
    if (!(node instanceof Y.XmlFragment)) throw new Error(`path ${JSON.stringify(path)} goes through a non-container`)
    checkIndex(i, node.length - 1, 'path index')
    node = node.get(i)
  }
  return node
}

const container = (doc, path) => {
  const node = resolve(doc, path)
  // Y.XmlElement extends Y.XmlFragment.
  if (!(node instanceof Y.XmlFragment)) throw new Error(`path ${JSON.stringify(path)} is not a container`)
  return node
}

const element = (doc, path) => {
  const node = resolve(doc, path)
  if (!(node instanceof Y.XmlElement)) throw new Error(`path ${JSON.stringify(path)} is not an element`)
  return node
}

const text = (doc, path) => {
  const node = resolve(doc, path)
  if (!(node instanceof Y.XmlText)) throw new Error(`path ${JSON.stringify(path)} is not an XmlText`)
  return node
}

// `format` is null (inherit the formatting at the position) or an object of
// formatting attributes (a null value removes that attribute).
const formatArg = (format) => (format === null || format === undefined ? undefined : format)

const applyOp = (doc, op) => {
  switch (op.kind) {
    case 'insert_element': {
      const parent = container(doc, op.path)
      checkIndex(op.index, parent.length, 'index')
      parent.insert(op.index, [new Y.XmlElement(op.name)])
      break
    }
    case 'insert_text': {
      const parent = container(doc, op.path)
      checkIndex(op.index, parent.length, 'index')
      const node = new Y.XmlText()
      parent.insert(op.index, [node])
      if (op.text.length > 0) node.insert(0, op.text, formatArg(op.format))
      break
    }
    case 'delete_children': {
      const parent = container(doc, op.path)
      checkIndex(op.index, parent.length, 'index')
      checkIndex(op.index + op.len, parent.length, 'end')
      parent.delete(op.index, op.len)
      break
    }
    case 'set_attribute':
      element(doc, op.path).setAttribute(op.key, op.value)
      break
    case 'remove_attribute':
      element(doc, op.path).removeAttribute(op.key)
      break
    case 'text_insert': {
      const node = text(doc, op.path)
      checkIndex(op.index, node.length, 'index')
      node.insert(op.index, op.text, formatArg(op.format))
      break
    }
    case 'text_delete': {
      const node = text(doc, op.path)
      checkIndex(op.index, node.length, 'index')
      checkIndex(op.index + op.len, node.length, 'end')
      node.delete(op.index, op.len)
      break
    }
    case 'text_format': {
      const node = text(doc, op.path)
      checkIndex(op.index, node.length, 'index')
      checkIndex(op.index + op.len, node.length, 'end')
      node.format(op.index, op.len, op.format)
      break
    }
    default:
      throw new Error(`unknown op kind ${JSON.stringify(op.kind)}`)
  }
}

// Ground truth for telling a correct update from a corrupt one: every
// clock of every item that the run's local edits created, with what an
// update must say about it. Set by `truth`, used by `validate`.
/** @type {{sv: Map<number, number>, units: Map<string, object>} | null} */
let truth = null

const idKey = (id) => (id ? `${id.client}:${id.clock}` : null)

// What unit `k` of an item's content is; null when the content is gone
// (a deleted item's content may travel as ContentDeleted).
const contentUnit = (content, k) => {
  switch (content.constructor) {
    case Y.ContentString:
      return `s:${content.str[k]}`
    case Y.ContentAny:
      return `a:${JSON.stringify(content.arr[k])}`
    case Y.ContentFormat:
      return `f:${content.key}=${JSON.stringify(content.value)}`
    case Y.ContentType:
      return `t:${content.type.constructor.name}:${content.type.nodeName ?? ''}`
    case Y.ContentDeleted:
      return null
    default:
      return `${content.constructor.name}:${JSON.stringify(content.getContent()[k] ?? null)}`
  }
}

// The units of an item: per clock, its origins, parent and content. Items
// split or merged differently still give the same units.
const itemUnits = (item, parentKey) => {
  const units = []
  for (let k = 0; k < item.length; k++) {
    units.push({
      origin: k === 0 ? idKey(item.origin) : `${item.id.client}:${item.id.clock + k - 1}`,
      rightOrigin: idKey(item.rightOrigin),
      parent: parentKey,
      parentSub: item.parentSub ?? null,
      content: contentUnit(item.content, k)
    })
  }
  return units
}

const setTruth = (updates) => {
  const doc = newDoc(0x7ffffff1, false)
  try {
    for (const u of updates) Y.applyUpdate(doc, fromBase64(u))
    if (doc.store.pendingStructs != null) throw new Error('the truth has pending structs')
    const units = new Map()
    for (const [client, structs] of doc.store.clients) {
      for (const item of structs) {
        if (!(item instanceof Y.Item)) continue
        const parent = item.parent
        const parentKey = parent._item ? idKey(parent._item.id) : Y.findRootTypeKey(parent)
        itemUnits(item, parentKey).forEach((unit, k) => {
          units.set(`${client}:${item.id.clock + k}`, unit)
        })
      }
    }
    truth = { sv: Y.decodeStateVector(Y.encodeStateVector(doc)), units }
    return { ok: true, clocks: units.size }
  } finally {
    doc.destroy()
  }
}

// Why `update` contradicts the truth, or null if it does not.
const corruption = (update) => {
  const decoded = Y.decodeUpdate(update)
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue
    const { client, clock } = struct.id
    const known = truth.sv.get(client) ?? 0
    if (clock + struct.length > known) {
      return `${struct.constructor.name} ${client}:${clock}+${struct.length} goes past clock ${known}`
    }
    if (!(struct instanceof Y.Item)) continue
    // An encoded item names its parent (and key in a map) only when it has
    // no origins; otherwise the parent follows from them.
    const named = struct.parent !== null
    const parentKey = !named ? undefined : typeof struct.parent === 'string' ? struct.parent : idKey(struct.parent)
    const units = itemUnits(struct, parentKey)
    if (!named) units.forEach((unit) => { unit.parentSub = undefined })
    for (let k = 0; k < units.length; k++) {
      const want = truth.units.get(`${client}:${clock + k}`)
      const got = units[k]
      if (want === undefined) return `no item at ${client}:${clock + k}`
      for (const field of ['origin', 'rightOrigin', 'parent', 'parentSub', 'content']) {
        if (got[field] === undefined) continue
        if (field === 'content' && (got.content === null || want.content === null)) continue
        if (got[field] !== want[field]) {
          return `item ${client}:${clock + k} has ${field} ${JSON.stringify(got[field])}, the truth ${JSON.stringify(want[field])}`
        }
      }
    }
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const known = truth.sv.get(client) ?? 0
    for (const r of ranges) {
      if (r.clock + r.len > known) return `deletes ${client}:${r.clock}+${r.len}, past clock ${known}`
    }
  }
  return null
}

const handle = (req) => {
  switch (req.cmd) {
    case 'create': {
      if (replicas.has(req.name)) throw new Error(`replica ${req.name} exists`)
      const doc = newDoc(req.client_id, req.gc)
      const r = { doc, captured: null }
      doc.on('update', (update) => {
        if (r.captured !== null) r.captured.push(update)
      })
      replicas.set(req.name, r)
      return { ok: true }
    }
    case 'drop': {
      const r = replica(req.name)
      r.doc.destroy()
      replicas.delete(req.name)
      return { ok: true }
    }
    case 'op': {
      const r = replica(req.name)
      const captured = []
      r.captured = captured
      try {
        r.doc.transact(() => applyOp(r.doc, req.op))
      } finally {
        r.captured = null
      }
      if (captured.length === 0) return { update: null }
      const update = captured.length === 1 ? captured[0] : Y.mergeUpdates(captured)
      return { update: toBase64(update) }
    }
    case 'tree':
      return { tree: tree(replica(req.name).doc.getXmlFragment(FRAGMENT)) }
    case 'state_vector':
      return { state_vector: toBase64(Y.encodeStateVector(replica(req.name).doc)) }
    case 'diff':
      return { update: toBase64(Y.encodeStateAsUpdate(replica(req.name).doc, fromBase64(req.state_vector))) }
    case 'apply':
      Y.applyUpdate(replica(req.name).doc, fromBase64(req.update))
      return { ok: true }
    case 'report':
      return report(replica(req.name).doc)
    case 'replay': {
      if (!Array.isArray(req.updates)) throw new Error('updates must be an array')
      const doc = newDoc(req.client_id ?? 0x7ffffff0, req.gc ?? true)
      // Applying remote formatting can make Yjs delete redundant formatting
      // marks in a transaction of its own (a local one): report those
      // updates, so another implementation can be given the same deletes.
      const cleanup = []
      doc.on('update', (update, _origin, _doc, transaction) => {
        if (transaction.local) cleanup.push(toBase64(update))
      })
      try {
        for (const u of req.updates) Y.applyUpdate(doc, fromBase64(u))
        return { ...report(doc), cleanup }
      } finally {
        doc.destroy()
      }
    }
    case 'truth':
      if (!Array.isArray(req.updates)) throw new Error('updates must be an array')
      return setTruth(req.updates)
    case 'validate': {
      if (truth === null) throw new Error('no truth set')
      if (!Array.isArray(req.updates)) throw new Error('updates must be an array')
      return { corrupt: req.updates.map((u) => corruption(fromBase64(u))) }
    }
    default:
      throw new Error(`unknown cmd ${JSON.stringify(req.cmd)}`)
  }
}

const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

// Requests are handled synchronously, so an exception outside of one cannot
// be answered without breaking the one-reply-per-request framing: log it.
process.on('uncaughtException', (err) => process.stderr.write(`yjs-peer: ${err?.stack ?? err}\n`))

// The first lines of the stack say where Yjs gave up; the rest is readline.
const describe = (err) => String(err?.stack ?? err).split('\n').slice(0, 4).join('\n')

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => {
  if (line.trim() === '') return
  let req
  try {
    req = JSON.parse(line)
  } catch (err) {
    reply({ error: `bad JSON: ${err.message}` })
    return
  }
  try {
    reply(handle(req))
  } catch (err) {
    reply({ error: describe(err) })
  }
})
lines.on('close', () => process.exit(0))
