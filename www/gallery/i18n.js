// The gallery's strings come from the shared catalogue: `pkg/messages.json`,
// which `cargo xtask dist` writes from crates/atelier-i18n/messages/ (the
// gallery's are in */gallery.ftl, beside the widgets'). Languages: those of
// the widgets.

/** The widgets' languages, in the order the switcher lists them. */
export const LANGS = ["fr", "de", "nl", "en"];
/** Each language's name in itself (never translated). */
export const LANG_NAMES = { fr: "Français", de: "Deutsch", nl: "Nederlands", en: "English" };

/** @type {Record<string, Record<string, string | Record<string, string>>>} */
let messages = {};
let lang = "en";
/** Where the strings came from: "catalogue" (messages.json) or "missing" (ids shown). */
export let source = "missing";

/** Loads pkg/messages.json; without it every string shows as its id. */
export async function loadMessages() {
  try {
    const r = await fetch(new URL("../pkg/messages.json", import.meta.url));
    if (!r.ok) return;
    messages = await r.json();
    source = "catalogue";
  } catch {
    // No catalogue (not built yet, or unreadable): ids are shown.
  }
}

/** @param {string} l */
export function setLang(l) { lang = LANGS.includes(l) ? l : "en"; }
export function currentLang() { return lang; }

/**
 * The string `id` in the current language (else English, else the id),
 * with `{ $name }` variables filled in; a plural picks its form by `n`
 * (the catalogue's plurals all select on `$n`).
 * @param {string} id
 * @param {Record<string, string | number>} [vars]
 */
export function t(id, vars = {}) {
  let m = messages[lang]?.[id] ?? messages.en?.[id] ?? id;
  if (typeof m === "object") {
    const form = new Intl.PluralRules(lang).select(Number(vars.n ?? 0));
    m = m[form] ?? m.other ?? "";
  }
  return m.replace(/\{\s*\$([A-Za-z0-9_-]+)\s*\}/g, (_, name) => String(vars[name] ?? ""));
}
