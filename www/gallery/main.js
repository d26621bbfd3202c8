// The component gallery atelier serve shows at `/`: every widget in every
// state, live against this server, with controls, the HTML of what is
// shown, the elements' API tables (from pkg/custom-elements.json), a theme,
// language and preview-width switcher. Every string comes from the shared
// catalogue (i18n.js). No inline script or style anywhere (the server's
// CSP): widths and tokens are set through the CSSOM.
//
// Routing: `#/STORY/STATE` (e.g. `#/editor/offline`); `?theme=` and
// `?lang=` choose the first theme and language. <main> carries
// data-story="STORY/STATE" and data-ready="STORY/STATE" once every widget
// of the state reached its expected connection status (what the e2e test
// waits for).
import { LANGS, LANG_NAMES, currentLang, loadMessages, setLang, source, t } from "./i18n.js";
import { STORIES, THEMES, stateSpec } from "./stories.js";
import { apiTables, loadManifest, partsOf } from "./api-tables.js";
import { SEEDER, sampleBlocks, sampleMarkdown, longBlocks, seed } from "./content.js";
import { PEERS, preparePeers, startPeers, startTypist } from "./peers.js";
import { snippet, copyText } from "./code-panel.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const WIDTHS = ["360", "768", "1280", "full"];
const SERVER = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sync`;
/** Documents of this visit: a suffix per page load, so every state starts as described. */
const RUN = Math.random().toString(36).slice(2, 8);
const docOf = (name) => `gallery-${name}-${RUN}`;

const settings = { theme: "light", lang: "en", width: "full" };
/** What is on show: {story, state, spec, elements, stops: Function[], token}. */
let current = null;
let showToken = 0;
/** Documents already filled this visit (a state shown again is not filled twice). */
const seeded = new Set();

/** Says `text` in the live region (polite). */
function announce(text) {
  const region = $("g-announce");
  region.textContent = "";
  // A change of text after a clear is announced even when it repeats.
  requestAnimationFrame(() => { region.textContent = text; });
}

/** The themes listed in THEMES that the loaded tokens stylesheet defines. */
function availableThemes() {
  const found = new Set();
  for (const sheet of document.styleSheets) {
    let rules;
    try { rules = sheet.cssRules; } catch { continue; }
    const walk = (list) => {
      for (const r of list) {
        if (r.selectorText) for (const m of r.selectorText.matchAll(/data-atelier-theme="([^"]+)"/g)) found.add(m[1]);
        if (r.cssRules) walk(r.cssRules);
      }
    };
    walk(rules);
  }
  const themes = THEMES.filter((x) => found.has(x));
  return themes.length ? themes : ["light"];
}

/** Fills every [data-i18n] element with its string. */
function translateStatic() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.getAttribute("data-i18n"));
  document.title = t("gallery-title");
}

function buildSettings(themes) {
  const theme = $("g-theme");
  theme.replaceChildren(...themes.map((x) => new Option(t(`gallery-theme-${x}`), x)));
  theme.value = settings.theme;
  const lang = $("g-lang");
  lang.replaceChildren(...LANGS.map((l) => { const o = new Option(LANG_NAMES[l], l); o.lang = l; return o; }));
  lang.value = settings.lang;
  const vp = $("g-viewport");
  vp.replaceChildren(...WIDTHS.map((w) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "g-button g-segment";
    b.dataset.width = w;
    b.textContent = w === "full" ? t("gallery-viewport-full") : t("gallery-viewport-px", { width: w });
    b.setAttribute("aria-pressed", String(w === settings.width));
    return b;
  }));
}

function buildNav() {
  const list = $("g-stories");
  list.replaceChildren(...STORIES.map((story) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "g-story-name";
    name.id = `g-nav-${story.id}`;
    name.textContent = t(`gallery-story-${story.id}`);
    const states = document.createElement("ul");
    states.setAttribute("aria-labelledby", name.id);
    for (const state of story.states) {
      const a = document.createElement("a");
      a.href = `#/${story.id}/${state}`;
      a.textContent = t(`gallery-state-${state}`);
      if (current && current.story === story.id && current.state === state) a.setAttribute("aria-current", "page");
      const item = document.createElement("li");
      item.append(a);
      states.append(item);
    }
    li.append(name, states);
    return li;
  }));
}

/** Keeps a choice for the next visit (nothing if storage is refused). */
function remember(key, value) {
  try { localStorage.setItem(`atelier-gallery-${key}`, value); } catch { /* private mode */ }
}

/** Applies the theme to the page and to every widget. */
function applyTheme(theme) {
  settings.theme = theme;
  remember("theme", theme);
  document.documentElement.setAttribute("data-atelier-theme", theme);
  for (const w of widgets()) w.setAttribute("theme", theme);
  refreshCode();
}

/** Applies the language to the page, every widget and the gallery's strings. */
function applyLang(lang) {
  settings.lang = lang;
  remember("lang", lang);
  setLang(lang);
  document.documentElement.lang = lang;
  for (const w of widgets()) w.setAttribute("lang", lang);
  translateStatic();
  buildSettings(availableThemes());
  buildNav();
  if (current) {
    describeState(); buildControls(); renderApi(); refreshCode(); current.elements.forEach(showStatus);
    // The convergence line says its state again in the new language.
    const out = document.getElementById("g-converged");
    if (out) delete out.dataset.converged;
  }
}

/** Constrains the preview to a width (CSSOM, allowed by the CSP). */
function applyWidth(width) {
  settings.width = width;
  $("g-frame").style.width = width === "full" ? "" : `${width}px`;
  for (const b of $("g-viewport").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.width === width));
}

/** The widgets on show. */
function widgets() {
  return current ? current.elements : [];
}

function describeState() {
  const { story, state } = current;
  $("g-story-title").textContent = `${t(`gallery-story-${story}`)} — ${t(`gallery-state-${state}`)}`;
  document.title = `${$("g-story-title").textContent} · ${t("gallery-title")}`;
  $("g-story-desc").textContent = `${t(`gallery-story-${story}-desc`)} ${t(`gallery-state-${state}-desc`)}`;
}

/** Stops what the state on show started and takes its widgets off the page. */
function teardown() {
  if (!current) return;
  for (const stop of current.stops) stop();
  $("g-frame").replaceChildren();
  $("g-frame").className = "g-frame";
  current = null;
}

/** Creates the elements of `spec` with the page's theme and language. */
function createElements(spec) {
  return spec.items.map((item) => {
    const el = document.createElement(item.tag);
    for (const [k, v] of Object.entries(item.attrs)) if (v != null) el.setAttribute(k, v);
    el.setAttribute("theme", settings.theme);
    el.setAttribute("lang", settings.lang);
    return el;
  });
}

/** Lays the elements out as `spec.layout` says, each in a captioned figure. */
function place(spec, elements) {
  const frame = $("g-frame");
  frame.className = `g-frame g-layout-${spec.layout}${spec.restyle ? " g-restyle" : ""}`;
  const extra = [];
  if (current.story === "two-clients") {
    const p = document.createElement("p");
    p.className = "g-convergence";
    // Not a live region: it changes with every keystroke of the typist.
    const label = document.createElement("span");
    label.dataset.i18n = "gallery-convergence";
    label.textContent = t("gallery-convergence");
    const out = document.createElement("span");
    out.id = "g-converged";
    out.textContent = t("gallery-converging");
    p.append(label, " ", out);
    extra.push(p);
  }
  const grid = document.createElement("div");
  grid.className = "g-grid";
  frame.append(...extra, grid);
  grid.append(...elements.map((el, i) => {
    const fig = document.createElement("figure");
    fig.className = `g-item g-item-${spec.items[i].tag}`;
    const cap = document.createElement("figcaption");
    const code = document.createElement("code");
    code.textContent = `<${spec.items[i].tag}>`;
    if (spec.captions) {
      const name = document.createElement("span");
      name.dataset.i18n = spec.captions[i];
      name.textContent = t(spec.captions[i]);
      cap.append(name, " ");
    }
    cap.append(code);
    const status = document.createElement("p");
    status.className = "g-item-status";
    fig.append(cap, el, status);
    showStatus(el);
    return fig;
  }));
}

/** Writes a widget's connection status under it, as a host page would from `atelier-status`. */
function showStatus(el) {
  const line = el.parentElement?.querySelector(":scope > .g-item-status");
  if (!line) return;
  const status = el.status || "connecting";
  line.dataset.status = status;
  line.textContent = t("gallery-status", { status: t(`gallery-status-${status}`) });
}

/** Whether every widget reached a status its state expects, and is drawn. */
function reachedExpected(spec, elements) {
  return elements.every((el, i) => el.childElementCount > 0 && spec.expect[i].includes(el.status));
}

/** Prepares the server side of a state (documents filled) before its widgets open. */
async function prepare(spec) {
  const doc = spec.items[0].attrs.doc;
  if (!spec.prepare || seeded.has(`${spec.prepare}:${doc}`)) return;
  if (spec.prepare === "sample") await seed(doc, sampleBlocks());
  else if (spec.prepare === "long") await seed(doc, longBlocks());
  else if (spec.prepare === "peers") await preparePeers(doc, sampleBlocks().slice(0, 2));
  seeded.add(`${spec.prepare}:${doc}`);
}

/** What a state does once its widgets are on the page. */
function start(spec, elements) {
  const stops = [];
  const doc = spec.items[0].attrs.doc;
  if (spec.start === "peers") {
    const peers = startPeers(doc, { onStatus: announce });
    current.peers = peers;
    stops.push(() => peers.stop());
  }
  if (spec.start === "typist") {
    const [a, b] = elements;
    const typist = startTypist(a);
    stops.push(() => typist.stop());
    const timer = setInterval(() => {
      const out = document.getElementById("g-converged");
      if (!out) return;
      const ma = a.getMarkdown(), mb = b.getMarkdown();
      const same = ma !== "" && ma === mb && a.unsyncedChanges === 0;
      if (out.dataset.converged !== String(same)) {
        out.dataset.converged = String(same);
        out.textContent = same ? t("gallery-converged") : t("gallery-converging");
      }
    }, 200);
    stops.push(() => clearInterval(timer));
  }
  return stops;
}

/** Once the state's widgets are ready: what needs them ready (seeding a chat, an offline copy, a failing request). */
async function whenReady(spec, elements, token) {
  const deadline = Date.now() + 20_000;
  while (!reachedExpected(spec, elements)) {
    if (token !== showToken) return;
    if (Date.now() > deadline) { $("g-main").dataset.timeout = `${current.story}/${current.state}`; return; }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (token !== showToken) return;
  for (const el of elements) {
    if (el.localName === "atelier-chat" && spec.seedChat && !seeded.has(`chat:${el.doc}`)) {
      seeded.add(`chat:${el.doc}`);
      await el.send(t("gallery-sample-chat")).catch(() => {});
    }
    if (el.localName === "atelier-editor" && spec.seedLocal && el.getMarkdown().trim() === "") {
      await el.setMarkdown(sampleMarkdown()).catch(() => {});
    }
  }
  if (spec.lockAfterSeed) {
    for (const el of elements) el.setAttribute("readonly", "");
    refreshCode();
    buildControls();
    // The widgets remount read-only; wait until they are back.
    await new Promise((r) => requestAnimationFrame(r));
    while (!reachedExpected(spec, elements) && token === showToken) await new Promise((r) => setTimeout(r, 100));
  }
  if (spec.start === "summarize") {
    const assistant = elements[0];
    // The pane mounts after the wasm loads; its phase says when it can run.
    while (assistant.phase === "" && token === showToken) await new Promise((r) => setTimeout(r, 50));
    if (token === showToken) assistant.run("summarize");
  }
  if (token !== showToken) return;
  $("g-main").dataset.ready = `${current.story}/${current.state}`;
}

/** Shows `story`/`state` (from the address). */
async function show(story, state) {
  const token = ++showToken;
  teardown();
  const main = $("g-main");
  delete main.dataset.ready;
  delete main.dataset.timeout;
  main.dataset.story = `${story}/${state}`;
  const spec = stateSpec(story, state, { server: SERVER, docOf });
  current = { story, state, spec, elements: [], stops: [] };
  describeState();
  buildNav();
  try {
    await prepare(spec);
  } catch (e) {
    announce(String(e.message || e));
  }
  if (token !== showToken) return;
  const elements = createElements(spec);
  current.elements = elements;
  place(spec, elements);
  current.stops = start(spec, elements);
  buildControls();
  renderApi();
  refreshCode();
  announce(t("gallery-shown", { story: t(`gallery-story-${story}`), state: t(`gallery-state-${state}`) }));
  whenReady(spec, elements, token);
}

/** One labelled control. */
function control(labelText, input) {
  const label = document.createElement("label");
  label.className = "g-field";
  const span = document.createElement("span");
  span.textContent = labelText;
  label.append(span, input);
  return label;
}

/** A control changing attribute `name` of `el` live. */
function attrControl(el, name) {
  let input;
  if (name === "readonly") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = el.hasAttribute("readonly");
    input.addEventListener("change", () => { el.toggleAttribute("readonly", input.checked); refreshCode(); });
    const label = control(t("gallery-control-readonly"), input);
    label.classList.add("g-check");
    return label;
  }
  if (name === "agent-tools") {
    input = document.createElement("select");
    input.append(new Option(t("gallery-control-on"), "on"), new Option(t("gallery-control-off"), "off"));
    input.value = el.getAttribute("agent-tools") === "off" ? "off" : "on";
    input.addEventListener("change", () => {
      if (input.value === "off") el.setAttribute("agent-tools", "off"); else el.removeAttribute("agent-tools");
      refreshCode();
    });
    return control(t("gallery-control-agent-tools"), input);
  }
  input = document.createElement("input");
  input.type = name === "user-color" ? "color" : name === "ai-url" ? "url" : "text";
  input.value = el.getAttribute(name) || "";
  // On change (Enter or leaving the field), not on every key: a widget
  // remounts when its connection attributes change.
  input.addEventListener("change", () => {
    if (input.value) el.setAttribute(name, input.value); else el.removeAttribute(name);
    refreshCode();
  });
  return control(t(`gallery-control-${name}`), input);
}

/** The restyling story's host variables (on the preview's wrapper, through the CSSOM). */
const RESTYLE = { accent: "#6b21a8", radius: "14", font: "serif" };
const FONTS = { system: "system-ui, sans-serif", serif: "Georgia, \"Times New Roman\", serif", mono: "ui-monospace, Menlo, Consolas, monospace" };

function applyRestyle() {
  const frame = $("g-frame");
  frame.style.setProperty("--brand-accent", RESTYLE.accent);
  frame.style.setProperty("--brand-radius", `${RESTYLE.radius}px`);
  frame.style.setProperty("--brand-font", FONTS[RESTYLE.font]);
}

function buildControls() {
  const box = $("g-controls");
  box.replaceChildren();
  const spec = current.spec;
  current.elements.forEach((el, i) => {
    const names = el.localName === "atelier-editor" ? ["readonly", "user-name", "user-color", "agent-tools"]
      : el.localName === "atelier-chat" ? ["readonly", "user-name", "user-color"]
      : el.hasAttribute("for") ? ["readonly"] : ["readonly", "ai-url"];
    const fs = document.createElement("fieldset");
    fs.className = "g-fieldset";
    const legend = document.createElement("legend");
    legend.textContent = `${spec.captions ? `${t(spec.captions[i])} ` : ""}<${el.localName}>`;
    fs.append(legend, ...names.map((n) => attrControl(el, n)));
    box.append(fs);
  });
  if (spec.start === "peers") {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "g-button";
    const label = () => (current.peers?.paused ? t("gallery-resume") : t("gallery-pause"));
    b.textContent = label();
    const line = document.createElement("p");
    line.className = "g-muted";
    line.textContent = t("gallery-peers", { n: PEERS.length });
    b.addEventListener("click", () => {
      current.peers.setPaused(!current.peers.paused);
      b.textContent = label();
      announce(current.peers.paused ? t("gallery-peers-paused") : t("gallery-peers", { n: PEERS.length }));
    });
    box.append(line, b);
  }
  if (spec.restyle) {
    const fs = document.createElement("fieldset");
    fs.className = "g-fieldset";
    const legend = document.createElement("legend");
    legend.textContent = t("gallery-story-restyle");
    const accent = document.createElement("input");
    accent.type = "color";
    accent.value = RESTYLE.accent;
    accent.addEventListener("change", () => { RESTYLE.accent = accent.value; applyRestyle(); refreshCode(); });
    const radius = document.createElement("input");
    radius.type = "range"; radius.min = "0"; radius.max = "24"; radius.value = RESTYLE.radius;
    radius.addEventListener("input", () => { RESTYLE.radius = radius.value; applyRestyle(); refreshCode(); });
    const font = document.createElement("select");
    for (const f of Object.keys(FONTS)) font.append(new Option(t(`gallery-font-${f}`), f));
    font.value = RESTYLE.font;
    font.addEventListener("change", () => { RESTYLE.font = font.value; applyRestyle(); refreshCode(); });
    const note = document.createElement("p");
    note.className = "g-muted";
    loadManifest().then((m) => {
      const parts = current ? current.elements.flatMap((el) => partsOf(m, el.localName)) : [];
      note.textContent = !m ? t("gallery-restyle-parts-missing") : parts.length ? "" : t("gallery-restyle-parts-none");
    });
    fs.append(legend, control(t("gallery-control-accent"), accent), control(t("gallery-control-radius"), radius),
      control(t("gallery-control-font"), font), note);
    box.append(fs);
    applyRestyle();
  }
  if (!box.childElementCount) {
    const p = document.createElement("p");
    p.textContent = t("gallery-controls-none");
    box.append(p);
  }
}

async function renderApi() {
  const m = await loadManifest();
  if (!current) return;
  const tags = [...new Set(current.elements.map((el) => el.localName))];
  $("g-api").replaceChildren(...tags.map((tag, i) => apiTables(m, tag, i === 0)));
}

function refreshCode() {
  if (!current) return;
  $("g-code").textContent = snippet(current.elements, current.spec.restyle ? { ...RESTYLE, font: FONTS[RESTYLE.font] } : null);
}

/** The state the address names, else the first story. */
function route() {
  const [, story, state] = location.hash.match(/^#\/([\w-]+)\/([\w-]+)/) || [];
  const s = STORIES.find((x) => x.id === story);
  if (s && s.states.includes(state)) return [story, state];
  return [STORIES[0].id, STORIES[0].states[0]];
}

async function checkHealth() {
  const out = $("g-health");
  let key = "gallery-health-unreachable";
  try {
    const r = await fetch("/healthz", { cache: "no-store" });
    key = r.ok ? "gallery-health-ok" : "gallery-health-down";
    out.dataset.health = r.ok ? "ok" : "down";
  } catch {
    out.dataset.health = "unreachable";
  }
  // Kept as the element's string id, so a language switch relabels it.
  out.dataset.i18n = key;
  out.textContent = t(key);
}

async function main() {
  const params = new URLSearchParams(location.search);
  await loadMessages();
  const themes = availableThemes();
  // The address's choice, else the last one made here, else the system's.
  const stored = (key) => { try { return localStorage.getItem(`atelier-gallery-${key}`); } catch { return null; } };
  const systemTheme = matchMedia("(prefers-contrast: more)").matches ? "high-contrast"
    : matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  settings.theme = [params.get("theme"), stored("theme"), systemTheme].find((x) => themes.includes(x)) || themes[0];
  settings.lang = [params.get("lang"), stored("lang"), navigator.language.slice(0, 2)].find((x) => LANGS.includes(x)) || "en";
  setLang(settings.lang);
  document.documentElement.lang = settings.lang;
  document.documentElement.setAttribute("data-atelier-theme", settings.theme);
  translateStatic();
  buildSettings(themes);
  checkHealth();
  $("g-theme").addEventListener("change", (e) => {
    applyTheme(e.target.value);
    announce(t("gallery-theme-set", { theme: t(`gallery-theme-${e.target.value}`) }));
  });
  $("g-lang").addEventListener("change", (e) => { applyLang(e.target.value); announce(t("gallery-language-set")); });
  $("g-viewport").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-width]");
    if (!b) return;
    applyWidth(b.dataset.width);
    announce(t("gallery-viewport-set", { width: b.textContent }));
  });
  // Every status change comes once to document; the elements' status
  // properties say whose.
  document.addEventListener("atelier-status", () => { for (const el of widgets()) showStatus(el); });
  $("g-copy").addEventListener("click", async () => {
    announce(await copyText($("g-code")) ? t("gallery-copied") : t("gallery-copy-failed"));
  });
  // The suite bundle defines the three elements; elements created before
  // it loads upgrade then.
  await import("../pkg/atelier-suite.js");
  window.addEventListener("hashchange", () => {
    show(...route());
    // Keyboard and screen-reader users land on the story they picked.
    $("g-story-title").focus({ preventScroll: true });
  });
  // What the e2e test reads: the stories, and the themes this build has.
  window.atelierGallery = {
    STORIES, THEMES: themes, LANGS, get lang() { return currentLang(); }, seeder: SEEDER,
    /** "catalogue" when pkg/messages.json was loaded, else "missing". */
    strings: source,
  };
  await show(...route());
}

main();
