// The gallery's strings: `pkg/messages.json` (the shared catalogue, written
// by `cargo xtask dist` from crates/atelier-i18n/messages/*/gallery.ftl),
// over the fallback in strings.js. Languages: those of the widgets.
import { FALLBACK_MESSAGES } from "./strings.js";

/** The widgets' languages, in the order the switcher lists them. */
export const LANGS = ["fr", "de", "nl", "en"];
/** Each language's name in itself (never translated). */
export const LANG_NAMES = { fr: "Français", de: "Deutsch", nl: "Nederlands", en: "English" };

/** @type {Record<string, Record<string, string | Record<string, string>>>} */
let messages = FALLBACK_MESSAGES;
let lang = "en";
/** Where the strings came from: "catalogue" (messages.json) or "fallback". */
export let source = "fallback";

/** Loads pkg/messages.json if it is there; keeps the fallback for ids it lacks. */
export async function loadMessages() {
  try {
    const r = await fetch(new URL("../pkg/messages.json", import.meta.url));
    if (!r.ok) return;
    const loaded = await r.json();
    const merged = {};
    for (const l of LANGS) merged[l] = { ...FALLBACK_MESSAGES[l], ...(loaded[l] || {}) };
    messages = merged;
    source = "catalogue";
  } catch {
    // No catalogue (not built yet, or unreadable): the fallback stays.
  }
}

/** @param {string} l */
export function setLang(l) { lang = LANGS.includes(l) ? l : "en"; }
export function currentLang() { return lang; }

/**
 * The string `id` in the current language (else English, else the id),
 * with `{ $name }` variables filled in; a plural picks its form by `count`.
 * @param {string} id
 * @param {Record<string, string | number>} [vars]
 */
export function t(id, vars = {}) {
  let m = messages[lang]?.[id] ?? messages.en?.[id] ?? FALLBACK_MESSAGES.en[id] ?? id;
  if (typeof m === "object") {
    const form = new Intl.PluralRules(lang).select(Number(vars.count ?? 0));
    m = m[form] ?? m.other ?? "";
  }
  return m.replace(/\{\s*\$([A-Za-z0-9_-]+)\s*\}/g, (_, name) => String(vars[name] ?? ""));
}
