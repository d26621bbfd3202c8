// Wire vectors for atelier-sync, produced by the real npm packages.
//
// Prints one JSON array on stdout: [{name, framing, bytes, expect}], where
// `bytes` is base64 and `expect` describes the message as the JavaScript
// readers (lib0 decoding, y-protocols, @hocuspocus/server and provider
// MessageReceiver logic) see it. crates/atelier-sync/tests/wire_vectors.rs
// decodes every vector with the Rust codec, compares its description with
// `expect`, and re-encodes it to the same bytes.
//
// Three sources:
//  1. static vectors from the packages' own encoders (lib0, y-protocols,
//     @hocuspocus/common, @hocuspocus/server's OutgoingMessage), covering
//     every message type, Hocuspocus 4's additions (Ping/Pong frames, the
//     provider version after the token; 4.x is not installed, so these
//     follow its source with lib0) and Yjs updates with every content type;
//  2. live traffic between a real @hocuspocus/server and real
//     @hocuspocus/provider instances on 127.0.0.1 (read-write, read-only,
//     refused, stateless, close), tapped at the WebSocket;
//  3. live traffic of a real y-websocket WebsocketProvider against a small
//     y-protocols server, tapped the same way.
//
// Usage: node peers/protocol-vectors.mjs > vectors.json

import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as authProtocol from 'y-protocols/auth';
import {
  writeAuthentication,
  writePermissionDenied,
  writeAuthenticated,
  writeTokenSyncRequest,
} from '@hocuspocus/common';
import { Server, OutgoingMessage } from '@hocuspocus/server';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { WebsocketProvider, messageSync, messageAwareness, messageAuth, messageQueryAwareness } from 'y-websocket';
import WebSocket, { WebSocketServer } from 'ws';

// Libraries may log; stdout carries only the JSON.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.warn = (...args) => console.error(...args);

const b64 = (u8) => Buffer.from(u8).toString('base64');
const toU8 = (data) => (data instanceof Uint8Array ? new Uint8Array(data) : new Uint8Array(data));
const vectors = [];
const seen = new Set();

function add(name, framing, bytes) {
  const u8 = toU8(bytes);
  const key = `${framing}:${b64(u8)}`;
  if (seen.has(key)) return;
  seen.add(key);
  const expect = framing === 'hocuspocus' ? describeHocuspocus(u8) : describeYws(u8);
  vectors.push({ name, framing, bytes: b64(u8), expect });
}

// --- describers: how the JavaScript side reads each message ---------------

function done(dec, what) {
  if (decoding.hasContent(dec)) throw new Error(`${what}: trailing bytes`);
}

function describeSync(dec) {
  const kind = decoding.readVarUint(dec);
  const payload = decoding.readVarUint8Array(dec);
  const names = { [syncProtocol.messageYjsSyncStep1]: 'step1', [syncProtocol.messageYjsSyncStep2]: 'step2', [syncProtocol.messageYjsUpdate]: 'update' };
  if (!(kind in names)) throw new Error(`unknown sync kind ${kind}`);
  return { sync: names[kind], payload: b64(payload) };
}

function describeAwareness(update) {
  const dec = decoding.createDecoder(update);
  const n = decoding.readVarUint(dec);
  const entries = [];
  for (let i = 0; i < n; i++) {
    const client = decoding.readVarUint(dec);
    const clock = decoding.readVarUint(dec);
    const state = decoding.readVarString(dec);
    JSON.parse(state);
    entries.push({ client, clock, state });
  }
  done(dec, 'awareness update');
  return entries;
}

function describeYws(u8) {
  const dec = decoding.createDecoder(u8);
  const type = decoding.readVarUint(dec);
  let out;
  switch (type) {
    case messageSync: out = { type: 'sync', ...describeSync(dec) }; break;
    case messageAwareness: out = { type: 'awareness', entries: describeAwareness(decoding.readVarUint8Array(dec)) }; break;
    case messageAuth: {
      const sub = decoding.readVarUint(dec);
      if (sub !== authProtocol.messagePermissionDenied) throw new Error(`auth ${sub}`);
      out = { type: 'auth', auth: 'permission-denied', reason: decoding.readVarString(dec) };
      break;
    }
    case messageQueryAwareness: out = { type: 'query-awareness' }; break;
    default: throw new Error(`unknown y-websocket type ${type}`);
  }
  done(dec, 'y-websocket message');
  return out;
}

function describeHocuspocus(u8) {
  // HocuspocusProviderWebsocket.onMessage (4.x): a one-byte [9] is a Ping.
  if (u8.length === 1 && u8[0] === 9) return { type: 'ping' };
  if (u8.length === 1 && u8[0] === 10) return { type: 'pong' };
  const dec = decoding.createDecoder(u8);
  const document = decoding.readVarString(dec);
  const type = decoding.readVarUint(dec);
  let out;
  switch (type) {
    case 0: out = { type: 'sync', ...describeSync(dec) }; break;
    case 4: out = { type: 'sync-reply', ...describeSync(dec) }; break;
    case 1: out = { type: 'awareness', entries: describeAwareness(decoding.readVarUint8Array(dec)) }; break;
    case 2: {
      const sub = decoding.readVarUint(dec);
      if (sub === 0 && !decoding.hasContent(dec)) out = { type: 'auth', auth: 'token-request' };
      else if (sub === 0) {
        const token = decoding.readVarString(dec);
        const providerVersion = decoding.hasContent(dec) ? decoding.readVarString(dec) : null;
        out = { type: 'auth', auth: 'token', token, providerVersion };
      } else if (sub === 1) out = { type: 'auth', auth: 'permission-denied', reason: decoding.readVarString(dec) };
      else if (sub === 2) out = { type: 'auth', auth: 'authenticated', scope: decoding.readVarString(dec) };
      else throw new Error(`auth ${sub}`);
      break;
    }
    case 3: out = { type: 'query-awareness' }; break;
    case 5: out = { type: 'stateless', payload: decoding.readVarString(dec) }; break;
    case 6: out = { type: 'broadcast-stateless', payload: decoding.readVarString(dec) }; break;
    case 7: out = { type: 'close', reason: decoding.hasContent(dec) ? decoding.readVarString(dec) : null }; break;
    // The server writes varUint, the provider reads varInt: 0 and 1 are the same byte.
    case 8: out = { type: 'sync-status', applied: decoding.readVarInt(dec) === 1 }; break;
    default: throw new Error(`unknown Hocuspocus type ${type}`);
  }
  done(dec, 'Hocuspocus message');
  return { document, ...out };
}

// --- 1. static vectors ------------------------------------------------------

function richDoc() {
  const doc = new Y.Doc();
  doc.clientID = 4242;
  const text = doc.getText('text');
  text.insert(0, 'héllo 👋 wörld');
  text.format(0, 5, { bold: true, link: { href: 'https://example.org' } });
  text.insertEmbed(3, { image: 'x.png' });
  text.delete(1, 2);
  const map = doc.getMap('map');
  map.set('int', 42);
  map.set('neg', -7);
  map.set('float', 1.5);
  map.set('big', 2n ** 60n);
  map.set('bool', true);
  map.set('null', null);
  map.set('undef', undefined);
  map.set('nested', { a: [1, 'two', { three: false }], b: new Uint8Array([1, 2, 3]) });
  map.set('bytes', new Uint8Array([9, 8, 7]));
  map.set('sub', new Y.Doc({ guid: 'sub-guid' }));
  map.set('gone', 'soon');
  map.delete('gone');
  const arr = doc.getArray('array');
  arr.push([new Uint8Array([5]), 'a', 1]);
  arr.push([new Y.Map(), new Y.Text('t')]);
  const xml = doc.getXmlFragment('document-store');
  const el = new Y.XmlElement('paragraph');
  el.setAttribute('textColor', 'default');
  el.insert(0, [new Y.XmlText('inside')]);
  xml.insert(0, [el, new Y.XmlHook('hook')]);
  return doc;
}

function staticVectors() {
  const doc = richDoc();
  const sv = Y.encodeStateVector(doc);
  const full = Y.encodeStateAsUpdate(doc);
  const other = new Y.Doc();
  other.clientID = 7;
  let incremental;
  other.on('update', (u) => { incremental = u; });
  other.getText('text').insert(0, 'x');
  // A merged update with a gap: Yjs writes a Skip struct.
  const gap = new Y.Doc();
  gap.clientID = 9;
  const parts = [];
  gap.on('update', (u) => parts.push(u));
  for (const c of 'abc') gap.getText('t').insert(gap.getText('t').length, c);
  const withSkip = Y.mergeUpdates([parts[0], parts[2]]);
  // A GC'd type: deleting a nested type leaves GC structs.
  const gc = new Y.Doc();
  gc.clientID = 11;
  gc.getArray('a').insert(0, [new Y.Map()]);
  gc.getArray('a').delete(0, 1);
  const gcUpdate = Y.encodeStateAsUpdate(gc);

  // y-websocket framing, built the way y-websocket and y-protocols build it.
  const yws = (name, build) => {
    const e = encoding.createEncoder();
    build(e);
    add(name, 'ywebsocket', encoding.toUint8Array(e));
  };
  yws('yws-sync-step1', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeSyncStep1(e, doc); });
  yws('yws-sync-step1-empty', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeSyncStep1(e, new Y.Doc()); });
  yws('yws-sync-step2-full', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeSyncStep2(e, doc); });
  yws('yws-sync-step2-diff', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeSyncStep2(e, doc, sv); });
  yws('yws-sync-update', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeUpdate(e, incremental); });
  yws('yws-sync-update-skip', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeUpdate(e, withSkip); });
  yws('yws-sync-update-gc', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeUpdate(e, gcUpdate); });
  yws('yws-sync-update-empty', (e) => { encoding.writeVarUint(e, messageSync); syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(new Y.Doc())); });
  const aw = new awarenessProtocol.Awareness(doc);
  aw.setLocalState({ user: { name: 'Zoé', color: '#30bced' }, cursor: null });
  const aw2 = new awarenessProtocol.Awareness(other);
  aw2.setLocalState({ user: { name: 'Bob' } });
  awarenessProtocol.applyAwarenessUpdate(aw, awarenessProtocol.encodeAwarenessUpdate(aw2, [7]), 'remote');
  yws('yws-awareness', (e) => { encoding.writeVarUint(e, messageAwareness); encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [4242, 7])); });
  awarenessProtocol.removeAwarenessStates(aw, [7], 'left');
  yws('yws-awareness-removal', (e) => { encoding.writeVarUint(e, messageAwareness); encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [7])); });
  yws('yws-auth-permission-denied', (e) => { encoding.writeVarUint(e, messageAuth); authProtocol.writePermissionDenied(e, 'no access'); });
  yws('yws-query-awareness', (e) => { encoding.writeVarUint(e, messageQueryAwareness); });

  // Hocuspocus framing: the server's own OutgoingMessage, and @hocuspocus/common.
  const name = 'docs/ünïcode room';
  const hp = (n, msg) => add(n, 'hocuspocus', msg.toUint8Array());
  hp('hp-server-authenticated-rw', new OutgoingMessage(name).writeAuthenticated(false));
  hp('hp-server-authenticated-ro', new OutgoingMessage(name).writeAuthenticated(true));
  hp('hp-server-permission-denied', new OutgoingMessage(name).writePermissionDenied('permission-denied'));
  hp('hp-server-token-request', new OutgoingMessage(name).writeTokenSyncRequest());
  hp('hp-server-sync-step1', new OutgoingMessage(name).createSyncMessage().writeFirstSyncStepFor(doc));
  hp('hp-server-sync-reply-step1', new OutgoingMessage(name).createSyncReplyMessage().writeFirstSyncStepFor(doc));
  const step2 = new OutgoingMessage(name).createSyncMessage();
  syncProtocol.writeSyncStep2(step2.encoder, doc);
  hp('hp-server-sync-step2', step2);
  hp('hp-server-update', new OutgoingMessage(name).createSyncMessage().writeUpdate(incremental));
  hp('hp-server-awareness', new OutgoingMessage(name).createAwarenessUpdateMessage(aw));
  hp('hp-server-query-awareness', new OutgoingMessage(name).writeQueryAwareness());
  hp('hp-server-stateless', new OutgoingMessage(name).writeStateless('{"kind":"hello"}'));
  hp('hp-server-broadcast-stateless', new OutgoingMessage(name).writeBroadcastStateless('fan out'));
  hp('hp-server-sync-status-applied', new OutgoingMessage(name).writeSyncStatus(true));
  hp('hp-server-sync-status-refused', new OutgoingMessage(name).writeSyncStatus(false));
  hp('hp-server-close', new OutgoingMessage(name).writeCloseMessage('Server closed the connection'));
  const hpRaw = (n, build) => {
    const e = encoding.createEncoder();
    build(e);
    add(n, 'hocuspocus', encoding.toUint8Array(e));
  };
  // The provider's messages (3.x OutgoingMessages; their classes are not exported).
  hpRaw('hp-client-token', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 2); writeAuthentication(e, 'eyJhbGciOi.token'); });
  hpRaw('hp-client-empty-token', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 2); writeAuthentication(e, ''); });
  // Hocuspocus 4 AuthenticationMessage: the token, then the provider version.
  hpRaw('hp4-client-token-with-version', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 2); writeAuthentication(e, 't'); encoding.writeVarString(e, '4.5.0'); });
  // Hocuspocus 4 addresses may carry a session id after a NUL.
  hpRaw('hp4-session-address', (e) => { encoding.writeVarString(e, `${name}\u0000s3ss10n`); encoding.writeVarUint(e, 3); });
  hpRaw('hp-common-permission-denied', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 2); writePermissionDenied(e, 'nope'); });
  hpRaw('hp-common-authenticated', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 2); writeAuthenticated(e, 'read-write'); });
  hpRaw('hp-common-token-request', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 2); writeTokenSyncRequest(e); });
  hpRaw('hp-client-close', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 7); });
  hpRaw('hp-client-stateless', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 5); encoding.writeVarString(e, ''); });
  hpRaw('hp-client-update-skip', (e) => { encoding.writeVarString(e, name); encoding.writeVarUint(e, 0); syncProtocol.writeUpdate(e, withSkip); });
  // Hocuspocus 4 keep-alives (HocuspocusProviderWebsocket.sendPong writes varUint(10)).
  hpRaw('hp4-ping', (e) => { encoding.writeVarUint(e, 9); });
  hpRaw('hp4-pong', (e) => { encoding.writeVarUint(e, 10); });
  hpRaw('hp-long-document-name', (e) => { encoding.writeVarString(e, 'd'.repeat(300)); encoding.writeVarUint(e, 3); });
}

// --- 2. live Hocuspocus traffic ----------------------------------------------

function tappingSocket(framing, label) {
  let n = 0;
  return class TapWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        n += 1;
        add(`live-${label}-s2c-${String(n).padStart(2, '0')}`, framing, toU8(event.data));
      });
    }

    send(data, ...rest) {
      n += 1;
      add(`live-${label}-c2s-${String(n).padStart(2, '0')}`, framing, toU8(data));
      return super.send(data, ...rest);
    }
  };
}

function waitFor(check, what, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timeout waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

async function liveHocuspocus() {
  const server = new Server({
    port: 0,
    address: '127.0.0.1',
    quiet: true,
    stopOnSignals: false,
    async onAuthenticate({ token, connectionConfig }) {
      if (token === 'ro') connectionConfig.readOnly = true;
      else if (token !== 'rw') throw new Error('refused');
    },
    async onStateless({ connection, payload }) {
      connection.sendStateless(`echo:${payload}`);
    },
  });
  await server.listen();
  const url = `ws://127.0.0.1:${server.address.port}`;
  const open = (label, token) => {
    const doc = new Y.Doc();
    doc.clientID = { rw: 101, ro: 202, bad: 303 }[token];
    const state = { synced: false, denied: null, stateless: null };
    const provider = new HocuspocusProvider({
      url,
      name: 'live-doc',
      document: doc,
      token,
      WebSocketPolyfill: tappingSocket('hocuspocus', label),
      onSynced: () => { state.synced = true; },
      onAuthenticationFailed: ({ reason }) => { state.denied = reason; },
      onStateless: ({ payload }) => { state.stateless = payload; },
    });
    provider.awareness.setLocalStateField('user', { name: label, color: '#ff0000' });
    return { doc, provider, state };
  };

  const rw = open('hp-rw', 'rw');
  await waitFor(() => rw.state.synced && rw.provider.unsyncedChanges === 0, 'read-write sync');
  rw.doc.getText('text').insert(0, 'live edit');
  await waitFor(() => rw.provider.unsyncedChanges === 0, 'read-write ack');
  rw.provider.sendStateless('hello');
  await waitFor(() => rw.state.stateless !== null, 'stateless echo');

  const ro = open('hp-ro', 'ro');
  await waitFor(() => ro.state.synced, 'read-only sync');
  await waitFor(() => ro.doc.getText('text').toString() === 'live edit', 'read-only content');
  ro.doc.getText('text').insert(0, 'refused ');
  await new Promise((r) => setTimeout(r, 100));

  const bad = open('hp-bad', 'bad');
  await waitFor(() => bad.state.denied !== null, 'permission denied');

  // Provider-initiated Close, then a server-initiated one.
  ro.provider.destroy();
  await new Promise((r) => setTimeout(r, 50));
  server.hocuspocus.closeConnections('live-doc');
  await new Promise((r) => setTimeout(r, 100));
  for (const p of [rw, bad]) p.provider.destroy();
  await server.destroy();
}

// --- 3. live y-websocket traffic ----------------------------------------------

async function liveYWebsocket() {
  const serverDoc = richDoc();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (ws) => {
    // As y-websocket servers do: step 1 at once, then answer sync messages.
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, messageSync);
    syncProtocol.writeSyncStep1(e, serverDoc);
    ws.send(encoding.toUint8Array(e));
    ws.on('message', (data) => {
      const dec = decoding.createDecoder(toU8(data));
      if (decoding.readVarUint(dec) !== messageSync) return;
      const reply = encoding.createEncoder();
      encoding.writeVarUint(reply, messageSync);
      syncProtocol.readSyncMessage(dec, reply, serverDoc, null);
      if (encoding.length(reply) > 1) ws.send(encoding.toUint8Array(reply));
    });
  });
  const doc = new Y.Doc();
  doc.clientID = 505;
  doc.getText('text').insert(0, 'offline first');
  const provider = new WebsocketProvider(`ws://127.0.0.1:${wss.address().port}`, 'room', doc, {
    WebSocketPolyfill: tappingSocket('ywebsocket', 'yws'),
    disableBc: true,
  });
  provider.awareness.setLocalStateField('user', { name: 'yws', color: '#00ff00' });
  await waitFor(() => provider.synced, 'y-websocket sync');
  doc.getText('text').insert(0, 'online ');
  await new Promise((r) => setTimeout(r, 100));
  provider.destroy();
  await new Promise((r) => wss.close(r));
}

staticVectors();
await liveHocuspocus();
await liveYWebsocket();
process.stdout.write(JSON.stringify(vectors, null, 1) + '\n');
process.exit(0);
