// Unmodified Yjs network clients for the server interop tests: y-websocket's
// WebsocketProvider and @hocuspocus/provider, driven over stdin/stdout with
// one JSON object per line.
//
// Commands (each answered by one line {ok:true,...} or {error}):
//   {"cmd":"connect","id":"a","kind":"ywebsocket"|"hocuspocus","url":"ws://…","doc":"d","token":"t","name":"Zoé"}
//   {"cmd":"wait_synced","id":"a","timeout_ms":5000}
//   {"cmd":"insert","id":"a","index":0,"text":"hi"}       (Y.Text "text")
//   {"cmd":"state","id":"a"}   → {text, state_vector, awareness:[names], unsynced, status}
//   {"cmd":"wait_text","id":"a","text":"…","timeout_ms":5000}
//   {"cmd":"wait_awareness","id":"a","names":["x","y"],"timeout_ms":5000}
//   {"cmd":"append_wait_ack","id":"a","text":"…","timeout_ms":500} → {acked}
//   {"cmd":"move","id":"a","url":"ws://…"}  the same replica (and its unacknowledged
//       edits) through another server, as a load balancer does when a node dies
//   {"cmd":"disconnect","id":"a"}
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider } from '@hocuspocus/provider';
import WebSocket from 'ws';
import readline from 'node:readline';

const peers = new Map();

// @hocuspocus/provider closes a socket that is still connecting when a
// reconnection attempt times out (seen while a server refuses documents
// with its store down); `ws` then emits 'error', which with no listener
// kills this process. A browser's WebSocket only fires an event there.
class QuietWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.on('error', () => {});
  }
}

function stateOf(p) {
  const names = [...p.awareness.getStates().values()]
    .map((s) => s && s.user && s.user.name)
    .filter(Boolean)
    .sort();
  return {
    text: p.doc.getText('text').toString(),
    state_vector: Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(p.doc))),
    awareness: names,
    unsynced: p.kind === 'hocuspocus' ? p.provider.unsyncedChanges : null,
    status: p.status,
    synced: p.synced,
    denied: p.denied,
  };
}

// Polls `check` until it returns true or the deadline passes; on timeout the
// error carries what was seen, so a failing test prints the actual state.
function waitFor(p, check, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + (timeoutMs || 5000);
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timeout waiting for ${what}; saw ${JSON.stringify(stateOf(p))}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

// Opens a provider for `peer` (kind and Y.Doc already set) with the
// options of a connect command.
function openProvider(peer, m, user) {
  const doc = peer.doc;
  peer.options = m;
  if (peer.kind === 'ywebsocket') {
    peer.provider = new WebsocketProvider(m.url, m.doc, doc, {
      WebSocketPolyfill: QuietWebSocket,
      params: m.token ? { token: m.token } : {},
      disableBc: true,
    });
    peer.provider.on('status', (e) => { peer.status = e.status; });
    peer.provider.on('sync', (s) => { peer.synced = s; });
    peer.provider.on('connection-close', (e) => { if (e && e.reason) peer.denied = e.reason; });
  } else {
    peer.provider = new HocuspocusProvider({
      url: m.url,
      name: m.doc,
      document: doc,
      token: m.token || 'anonymous',
      WebSocketPolyfill: QuietWebSocket,
      onSynced: () => { peer.synced = true; },
      onStatus: (e) => { peer.status = e.status; },
      onAuthenticationFailed: (e) => { peer.denied = e.reason || 'denied'; },
    });
  }
  peer.awareness = peer.provider.awareness;
  peer.awareness.setLocalStateField('user', user || { name: m.name || m.id, color: '#30bced' });
}

async function handle(m) {
  const p = peers.get(m.id);
  switch (m.cmd) {
    case 'connect': {
      const peer = { kind: m.kind, doc: new Y.Doc(), status: 'connecting', synced: false, denied: null };
      openProvider(peer, m);
      peers.set(m.id, peer);
      return {};
    }
    case 'move': {
      const user = p.awareness.getLocalState()?.user;
      p.provider.destroy();
      p.synced = false;
      p.status = 'connecting';
      openProvider(p, { ...p.options, url: m.url }, user);
      return {};
    }
    case 'wait_synced':
      await waitFor(p, () => p.synced, m.timeout_ms, 'sync');
      return stateOf(p);
    case 'insert':
      p.doc.getText('text').insert(m.index, m.text);
      return {};
    case 'state':
      return stateOf(p);
    case 'append_wait_ack': {
      // Appends text, then reports whether the server acknowledged every
      // change (Hocuspocus SyncStatus) before the deadline.
      const t = p.doc.getText('text');
      t.insert(t.length, m.text);
      try {
        await waitFor(p, () => p.provider.unsyncedChanges === 0, m.timeout_ms, 'ack');
        return { acked: true };
      } catch {
        return { acked: false };
      }
    }
    case 'wait_text':
      await waitFor(p, () => p.doc.getText('text').toString() === m.text, m.timeout_ms, `text ${JSON.stringify(m.text)}`);
      return stateOf(p);
    case 'wait_unsynced_zero':
      await waitFor(p, () => p.provider.unsyncedChanges === 0, m.timeout_ms, 'all changes acknowledged');
      return stateOf(p);
    case 'wait_denied':
      await waitFor(p, () => p.denied !== null, m.timeout_ms, 'permission denied');
      return stateOf(p);
    case 'wait_awareness': {
      const want = [...m.names].sort().join('\u0000');
      await waitFor(p, () => stateOf(p).awareness.join('\u0000') === want, m.timeout_ms, `awareness ${m.names}`);
      return stateOf(p);
    }
    case 'disconnect':
      p.provider.destroy();
      peers.delete(m.id);
      return {};
    default:
      throw new Error(`unknown command ${m.cmd}`);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let m;
  try {
    m = JSON.parse(line);
    const out = await handle(m);
    process.stdout.write(JSON.stringify({ ok: true, seq: m.seq, ...out }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e && e.message || e), seq: m && m.seq }) + '\n');
  }
});
rl.on('close', () => {
  for (const p of peers.values()) p.provider.destroy();
  process.exit(0);
});
