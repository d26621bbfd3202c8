// What the gallery's documents hold: sample and long documents as block
// JSON for the server's agents' door (POST /api/docs/NAME/ops, insertBlocks),
// so a document is filled before any widget opens it, whatever the widget
// may do (read-only, chat only), and as Markdown for a widget with no
// server to ask (offline).
import { t } from "./i18n.js";

/** Inline runs from a tiny subset of Markdown: **bold**, *italic*, `code`, [text](url). */
function runs(text) {
  const out = [];
  const re = /\*\*([^*]+)\*\*|\*([^*]+)\*|`([^`]+)`|\[([^\]]+)\]\(([^)]+)\)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    if (m[1]) out.push({ text: m[1], marks: { bold: true } });
    else if (m[2]) out.push({ text: m[2], marks: { italic: true } });
    else if (m[3]) out.push({ text: m[3], marks: { code: true } });
    else out.push({ text: m[4], marks: { link: m[5] } });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

const block = (type, text, props = {}) => ({ type, props, content: text ? runs(text) : [] });

/** The sample document: a heading, a paragraph with marks, a list, a quote. */
export function sampleBlocks() {
  return [
    block("heading", t("gallery-sample-title"), { level: 2 }),
    block("paragraph", t("gallery-sample-body")),
    block("bulletListItem", t("gallery-sample-item")),
    block("checkListItem", t("gallery-sample-done"), { checked: true }),
    block("quote", t("gallery-intro")),
  ];
}

/** The sample document as Markdown. */
export function sampleMarkdown() {
  return `## ${t("gallery-sample-title")}\n\n${t("gallery-sample-body")}\n\n- ${t("gallery-sample-item")}\n- [x] ${t("gallery-sample-done")}\n\n> ${t("gallery-intro")}\n`;
}

/** A long document: `sections` sections of a heading, paragraphs, a list, a quote and code. */
export function longBlocks(sections = 40) {
  const blocks = [];
  let n = 0;
  for (let s = 1; s <= sections; s++) {
    blocks.push(block("heading", t("gallery-long-section", { n: s }), { level: s % 5 === 1 ? 2 : 3 }));
    for (let p = 0; p < 3; p++) blocks.push(block("paragraph", t("gallery-long-paragraph", { n: ++n })));
    blocks.push(block("bulletListItem", t("gallery-sample-item")));
    blocks.push(block("numberedListItem", t("gallery-sample-item")));
    if (s % 4 === 0) blocks.push(block("quote", t("gallery-sample-body")));
    if (s % 6 === 0) blocks.push({ type: "codeBlock", props: { language: "rust" }, content: [{ text: `fn section_${s}() -> usize {\n    ${s}\n}` }] });
  }
  return blocks;
}

/** The API address of document `doc` on this page's server. */
export const apiOf = (doc) => `/api/docs/${encodeURIComponent(doc)}`;

/** The document's blocks (the REST API's ?format=blocks). */
export async function readBlocks(doc) {
  const r = await fetch(`${apiOf(doc)}?format=blocks`);
  if (!r.ok) throw new Error(`GET ${apiOf(doc)}: ${r.status} ${await r.text()}`);
  return r.json();
}

/**
 * Posts one batch as `agent` ({name, color}); resolves with the answer,
 * rejects with the server's error sentence.
 */
export async function postOps(doc, agent, ops) {
  const r = await fetch(`${apiOf(doc)}/ops`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ agent, ops }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(body.error || `HTTP ${r.status}`), { status: r.status });
  return body;
}

/** The gallery itself, as the agent that fills documents. */
export const SEEDER = { name: "Atelier", color: "#000091" };

/** Fills `doc` with `blocks` if it is empty (one batch, before any widget opens it). */
export async function seed(doc, blocks) {
  const existing = await readBlocks(doc);
  if (existing.length) return;
  await postOps(doc, SEEDER, [{ op: "insertBlocks", at: { at: "end" }, blocks }]);
}
