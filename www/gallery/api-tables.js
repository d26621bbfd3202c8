// API tables of each element, read from pkg/custom-elements.json (the
// Custom Elements Manifest, schemaVersion 2, which `cargo xtask dist`
// writes). Nothing here is hard-coded: without the manifest the tables say
// it is missing.
import { t } from "./i18n.js";

/** @type {Promise<object | null> | null} */
let manifest = null;

/** The manifest, or null when it is missing or unreadable (loaded once). */
export function loadManifest() {
  manifest ??= fetch(new URL("../pkg/custom-elements.json", import.meta.url))
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  return manifest;
}

/** The module the gallery loads; a tag several modules declare is read from it first. */
const LOADED_MODULE = /(^|\/)atelier-suite\.js$/;

/** The declaration of custom element `tag` in `m`, or null. */
export function declarationOf(m, tag) {
  const found = [];
  for (const mod of m?.modules || []) {
    for (const d of mod.declarations || []) {
      if (d.customElement && d.tagName === tag) found.push({ path: mod.path || "", d });
    }
  }
  return (found.find((f) => LOADED_MODULE.test(f.path)) || found[0])?.d || null;
}

/** @param {string} tag @param {Record<string, string>} [attrs] @param {string} [text] */
function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

const typeText = (x) => x?.type?.text || "";
/** A description cell: the manifest's text, its `code` spans as code. */
function descCell(text = "") {
  const td = el("td");
  text.split("`").forEach((part, i) => td.append(i % 2 ? el("code", {}, part) : part));
  return td;
}
const codeCell = (text) => { const td = el("td"); if (text) td.append(el("code", {}, text)); return td; };

/**
 * One table: `rows` of cells, headed by `columns` (catalogue ids).
 * @param {string} captionId
 * @param {string[]} columns
 * @param {HTMLTableCellElement[][]} rows
 * @param {string} headingLevel
 */
function table(captionId, columns, rows, headingLevel) {
  const section = el("section", { class: "g-api-group" });
  section.append(el(headingLevel, {}, t(captionId)));
  if (!rows.length) { section.append(el("p", { class: "g-muted" }, t("gallery-api-none"))); return section; }
  const wrap = el("div", { class: "g-table-wrap", tabindex: "0", role: "region", "aria-label": t(captionId) });
  const tbl = el("table", { class: `g-table g-table-${captionId.replace("gallery-api-", "")}` });
  const head = el("tr");
  for (const c of columns) head.append(el("th", { scope: "col" }, t(c)));
  tbl.append(el("thead"), el("tbody"));
  tbl.tHead.append(head);
  for (const cells of rows) { const tr = el("tr"); tr.append(...cells); tbl.tBodies[0].append(tr); }
  wrap.append(tbl);
  section.append(wrap);
  return section;
}

const NAME = "gallery-api-name", TYPE = "gallery-api-type", DEF = "gallery-api-default", DESC = "gallery-api-description";

/**
 * The tables of `tag` (attributes, properties, methods, events, CSS parts,
 * custom properties), in a disclosure open when `open`.
 */
export function apiTables(m, tag, open = true) {
  const box = el("details", { class: "g-api-element" });
  box.open = open;
  const summary = el("summary");
  summary.append(el("h4", { id: `api-${tag}` }, `<${tag}>`));
  box.append(summary);
  if (!m) { box.append(el("p", { class: "g-notice" }, t("gallery-api-missing"))); return box; }
  const d = declarationOf(m, tag);
  if (!d) { box.append(el("p", { class: "g-notice" }, t("gallery-api-unlisted", { tag: `<${tag}>` }))); return box; }
  if (d.summary) box.append(el("p", {}, d.summary));
  if (d.description) box.append(el("p", { class: "g-muted" }, d.description.split("\n\n")[0]));
  const members = (d.members || []).filter((x) => x.privacy !== "private" && x.privacy !== "protected" && !x.name?.startsWith("_"));
  const fields = members.filter((x) => x.kind === "field" && !x.static);
  const methods = members.filter((x) => x.kind === "method" && !x.static);
  const signature = (x) => `${x.name}(${(x.parameters || []).map((p) => `${p.name}${p.optional ? "?" : ""}${typeText(p) ? `: ${typeText(p)}` : ""}`).join(", ")})${typeText(x.return) ? `: ${typeText(x.return)}` : ""}`;
  box.append(
    table("gallery-api-attributes", [NAME, TYPE, DEF, DESC], (d.attributes || []).map((a) => [
      codeCell(a.name), codeCell(typeText(a)), codeCell(a.default), descCell(a.description),
    ]), "h5"),
    table("gallery-api-properties", [NAME, TYPE, DEF, DESC], fields.map((f) => [
      codeCell(f.readonly ? `readonly ${f.name}` : f.name), codeCell(typeText(f)), codeCell(f.default), descCell(f.description),
    ]), "h5"),
    table("gallery-api-methods", [NAME, DESC], methods.map((f) => [
      codeCell(signature(f)), descCell(f.description),
    ]), "h5"),
    table("gallery-api-events", [NAME, TYPE, DESC], (d.events || []).map((e) => [
      codeCell(e.name), codeCell(typeText(e)), descCell(e.description),
    ]), "h5"),
    table("gallery-api-parts", [NAME, DESC], (d.cssParts || []).map((p) => [
      codeCell(p.name), descCell(p.description),
    ]), "h5"),
    table("gallery-api-cssprops", [NAME, DEF, DESC], (d.cssProperties || []).map((p) => [
      codeCell(p.name), codeCell(p.default), descCell(p.description),
    ]), "h5"),
  );
  return box;
}

/** The CSS parts `tag` declares in `m` ([] without a manifest). */
export function partsOf(m, tag) {
  return (declarationOf(m, tag)?.cssParts || []).map((p) => p.name);
}
