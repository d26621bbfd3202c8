// Simulated collaborators: named agents editing a document through the
// real server's agents' door (POST /api/docs/NAME/ops), each in a block of
// its own, one word at a time on a timer. The server shows each agent's
// caret at the end of the block it changed last, so every open widget sees
// three named carets moving as the text grows.
import { SEEDER, postOps, readBlocks } from "./content.js";
import { t } from "./i18n.js";

/** Who the simulated collaborators are; colours dark enough for white caret labels. */
export const PEERS = [
  { name: "Ada", color: "#b3261e", block: "gallery-peer-ada" },
  { name: "Grace", color: "#0a6b4a", block: "gallery-peer-grace" },
  { name: "Linus", color: "#6d28d9", block: "gallery-peer-linus" },
];

/** Longest a collaborator's line grows before it starts again. */
const MAX_LINE = 90;

/**
 * Makes sure `doc` holds `leading` blocks and then one paragraph per
 * collaborator (ids from PEERS), in one batch when the document is new.
 */
export async function preparePeers(doc, leading = []) {
  const ids = new Set((await readBlocks(doc)).map((b) => b.id));
  const missing = PEERS.filter((p) => !ids.has(p.block));
  if (!missing.length) return;
  await postOps(doc, SEEDER, [{
    op: "insertBlocks", at: { at: "end" },
    blocks: [...(ids.size ? [] : leading), ...missing.map((p) => ({ id: p.block, type: "paragraph", content: [{ text: `${p.name}:` }] }))],
  }]);
}

/**
 * Starts the collaborators on `doc`, one edit every `everyMs` (taking turns).
 * `onStatus(text)` hears what they do (a refused edit). Returns
 * {stop, paused, setPaused}.
 */
export function startPeers(doc, { everyMs = 700, onStatus = () => {} } = {}) {
  const words = () => t("gallery-peer-text").split(/\s+/);
  /** The length of each collaborator's line as last known (UTF-16 units). */
  const lengths = new Map();
  /** How far into the sentence each collaborator is. */
  const counts = new Map();
  let turn = 0;
  let stopped = false;
  let paused = false;
  let busy = false;

  async function lengthsFromServer() {
    for (const b of await readBlocks(doc)) {
      lengths.set(b.id, (b.content || []).reduce((n, r) => n + r.text.length, 0));
    }
  }

  async function tick() {
    if (stopped || paused || busy) return;
    busy = true;
    const peer = PEERS[turn++ % PEERS.length];
    try {
      if (!lengths.has(peer.block)) await lengthsFromServer();
      const len = lengths.get(peer.block) ?? 0;
      const list = words();
      // Each collaborator writes the sentence in order, from its own place in it.
      const k = (counts.get(peer.block) ?? PEERS.indexOf(peer) * 3) % list.length;
      counts.set(peer.block, k + 1);
      const word = list[k];
      const ops = len > MAX_LINE
        ? [{ op: "setContent", block: peer.block, content: [{ text: `${peer.name}: ${word}` }] }]
        : [{ op: "insertText", block: peer.block, offset: len, text: ` ${word}` }];
      await postOps(doc, { name: peer.name, color: peer.color }, ops);
      lengths.set(peer.block, len > MAX_LINE ? peer.name.length + 2 + word.length : len + 1 + word.length);
    } catch (e) {
      // Someone else (the user) changed the line: read it again next time.
      lengths.delete(peer.block);
      if (e.status !== 422) onStatus(t("gallery-peers-error", { reason: e.message }));
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(tick, everyMs);
  return {
    stop() { stopped = true; clearInterval(timer); },
    get paused() { return paused; },
    setPaused(p) { paused = p; },
  };
}

/**
 * A collaborator typing in one editor element (the in-page agents' door:
 * `applyOperations`), so its edits reach the server from that client only.
 * Returns {stop}.
 */
export function startTypist(editor, { everyMs = 600, name = "Ada", color = "#b3261e" } = {}) {
  let stopped = false;
  let busy = false;
  let n = 0;
  const timer = setInterval(async () => {
    if (stopped || busy || editor.status !== "synced") return;
    busy = true;
    try {
      const blocks = await editor.getDocument();
      const last = blocks[blocks.length - 1];
      const list = t("gallery-peer-text").split(/\s+/);
      const word = list[n++ % list.length];
      const len = last ? last.content.reduce((k, r) => k + r.text.length, 0) : 0;
      const ops = !last || len > 70
        ? [{ op: "insertBlocks", at: { at: "end" }, blocks: [{ type: "paragraph", content: [{ text: word }] }] }]
        : [{ op: "insertText", block: last.id, offset: len, text: ` ${word}` }];
      await editor.applyOperations(ops, { agent: { name, color } });
    } catch {
      // The user edited the same block meanwhile: the next tick reads again.
    } finally {
      busy = false;
    }
  }, everyMs);
  return { stop() { stopped = true; clearInterval(timer); } };
}
