// The Custom Elements Manifest (www/pkg/custom-elements.json, written by
// `cargo xtask dist` from the elements' JSDoc tags and .d.ts declarations)
// is true of the elements that ship: each entry module of www/pkg is loaded
// in headless Chromium (playwright-core) and, for every element declared
// in the manifest, reality is compared with it:
// - the module's exports are the manifest's `js` exports, and the tag is
//   defined by the class the module exports;
// - `observedAttributes` equals the manifest's attributes;
// - the public methods on the prototype (not `_…`, not lifecycle
//   callbacks) are the manifest's methods, and its public accessors its
//   fields (read-only exactly when there is no setter);
// - every event the element's sources dispatch (`new CustomEvent("atelier-…"`
//   in its JS, `fire(…, "atelier-…"` / `fire_for_mount(…, "atelier-…"` in
//   its Rust file and in the shared crate/atelier-elements/src/lib.rs) is
//   listed, and so is every `atelier-…` event seen dispatched on it while
//   the test types in the editor and sends in the chat;
// - every CSS custom property listed is defined once tokens.css is linked.
//
// Run: node --test e2e/custom-elements-manifest.test.mjs   (after
// `cargo xtask dist`; no server needed; ATELIER_PKG=DIR checks another
// package directory). Missing Chromium, playwright-core
// or the manifest: skipped with a line `SKIPPED: <test> (reason)`.
// Takes about 3 s.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { CHROMIUM, FLAGS, WWW, root, serveStatic, waitUntil, watchErrors } from "./support/harness.mjs";

// ATELIER_PKG checks another built package directory than www/pkg.
const PKG = path.resolve(process.env.ATELIER_PKG ?? path.join(WWW, "pkg"));
const MANIFEST = path.join(PKG, "custom-elements.json");
const TESTS = ["the manifest lists each element's attributes, methods, fields and events as they are"];
const skipReason = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}`
  : !existsSync(path.join(root, "e2e/node_modules/playwright-core")) ? "playwright-core missing; npm ci in e2e/"
  : !existsSync(MANIFEST) ? `no ${MANIFEST}; run cargo xtask dist`
  : null;
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);

const LIFECYCLE = new Set([
  "constructor", "connectedCallback", "disconnectedCallback", "attributeChangedCallback",
  "adoptedCallback", "connectedMoveCallback",
]);

/** Every `atelier-…` event name `pattern` (with one capture group) finds in `file`. */
function eventsIn(file, pattern) {
  if (!existsSync(file)) return [];
  return [...readFileSync(file, "utf8").matchAll(pattern)].map((m) => m[1]);
}

/** The events the sources of element `tag` (atelier-editor → editor) dispatch. */
function dispatchedInSources(tag) {
  const short = tag.replace(/^atelier-/, "");
  const js = path.join(root, "crates/atelier-elements/js");
  const rs = path.join(root, "crates/atelier-elements/src");
  const jsEvent = /new\s+CustomEvent\(\s*["'`](atelier-[a-z-]+)["'`]/g;
  const rsEvent = /\bfire(?:_for_mount)?\(\s*[^,()]+,\s*"(atelier-[a-z-]+)"/g;
  return new Set([
    ...eventsIn(path.join(js, `${short}-element.js`), jsEvent),
    ...eventsIn(path.join(js, "shared.js"), jsEvent),
    ...eventsIn(path.join(rs, `${short}_element.rs`), rsEvent),
    // What every element's mount fires through the shared helpers.
    ...eventsIn(path.join(rs, "lib.rs"), rsEvent),
  ]);
}

const sorted = (xs) => [...xs].sort();

/** A page that loads one entry module of www/pkg, with every `atelier-…` dispatch recorded. */
async function openModule(browser, origin, module) {
  const base = `/${path.basename(PKG)}`;
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    window.__dispatched = [];
    const dispatch = EventTarget.prototype.dispatchEvent;
    EventTarget.prototype.dispatchEvent = function (event) {
      if (event.type.startsWith("atelier-") && this instanceof Element) {
        window.__dispatched.push({ tag: this.localName, type: event.type });
      }
      return dispatch.call(this, event);
    };
  });
  await page.route(`${origin}/manifest-check.html`, (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><html lang="en"><head><link rel="stylesheet" href="${base}/tokens.css"></head>
      <body><script type="module">
        window.__module = await import("${base}/${module}");
        window.__loaded = true;
      </script></body></html>`,
  }));
  await page.goto(`${origin}/manifest-check.html`);
  await waitUntil(() => page.evaluate(() => window.__loaded === true), Boolean, `${module} loaded`);
  return { context, page, errors };
}

/** What the element class of `tag` really is, read in the page. */
function reality(page, tag, exportName) {
  return page.evaluate(({ tag, exportName }) => {
    const cls = customElements.get(tag);
    const proto = cls.prototype;
    const methods = [];
    const fields = [];
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof d.value === "function") methods.push(name);
      else if (d.get || d.set) fields.push({ name, readonly: !d.set });
    }
    return {
      defined: Boolean(cls),
      sameAsExport: window.__module[exportName] === cls,
      extendsHTMLElement: Object.getPrototypeOf(proto) === HTMLElement.prototype,
      observedAttributes: cls.observedAttributes,
      methods,
      fields,
      exports: Object.keys(window.__module),
    };
  }, { tag, exportName });
}

describe("custom-elements.json", { skip: skipReason ?? false }, () => {
  let browser;
  let server;
  const manifest = skipReason ? null : JSON.parse(readFileSync(MANIFEST, "utf8"));

  before(async () => {
    const { chromium } = await import("playwright-core");
    server = await serveStatic(path.dirname(PKG));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test(TESTS[0], async () => {
    assert.equal(manifest.schemaVersion, "2.0.0");
    const modules = manifest.modules.map((m) => m.path);
    assert.deepEqual(sorted(modules), ["atelier-elements.js", "atelier-suite.js"]);
    const seenTags = new Set();
    for (const mod of manifest.modules) {
      const { context, page, errors } = await openModule(browser, server.origin, mod.path);
      try {
        const jsExports = mod.exports.filter((e) => e.kind === "js").map((e) => e.name);
        const classes = mod.declarations.filter((d) => d.kind === "class" && d.customElement);
        assert.ok(classes.length > 0, `${mod.path} declares no element`);
        for (const decl of classes) {
          const where = `${mod.path} <${decl.tagName}>`;
          seenTags.add(decl.tagName);
          const real = await reality(page, decl.tagName, decl.name);
          assert.deepEqual(sorted(real.exports), sorted(jsExports), `${mod.path}: the module's exports`);
          assert.ok(real.defined && real.sameAsExport, `${where}: defined by the exported class ${decl.name}`);
          assert.ok(real.extendsHTMLElement, `${where}: extends HTMLElement`);
          assert.ok(
            mod.exports.some((e) => e.kind === "custom-element-definition" && e.name === decl.tagName),
            `${where}: a custom-element-definition export`,
          );

          // Attributes.
          assert.deepEqual(sorted(decl.attributes.map((a) => a.name)), sorted(real.observedAttributes),
            `${where}: manifest attributes vs observedAttributes`);

          // Methods and fields.
          const listedMethods = decl.members.filter((m) => m.kind === "method" && !m.static).map((m) => m.name);
          const realMethods = real.methods.filter((n) => !n.startsWith("_") && !LIFECYCLE.has(n));
          assert.deepEqual(sorted(listedMethods), sorted(realMethods), `${where}: manifest methods vs the prototype's`);
          const listedFields = decl.members.filter((m) => m.kind === "field" && !m.static);
          const realFields = real.fields.filter((f) => !f.name.startsWith("_"));
          assert.deepEqual(sorted(listedFields.map((f) => f.name)), sorted(realFields.map((f) => f.name)),
            `${where}: manifest fields vs the prototype's accessors`);
          for (const f of realFields) {
            const listed = listedFields.find((l) => l.name === f.name);
            assert.equal(Boolean(listed.readonly), f.readonly, `${where}: field ${f.name} read-only ${f.readonly}`);
          }
          for (const a of decl.attributes.filter((a) => a.fieldName)) {
            assert.ok(listedFields.some((f) => f.name === a.fieldName), `${where}: attribute ${a.name}'s field ${a.fieldName}`);
          }

          // Events the sources dispatch.
          const listedEvents = new Set(decl.events.map((e) => e.name));
          for (const type of dispatchedInSources(decl.tagName)) {
            assert.ok(listedEvents.has(type), `${where}: its sources dispatch ${type}, the manifest does not list it`);
          }

          // CSS custom properties: defined once tokens.css is linked.
          const undefinedProps = await page.evaluate((names) => {
            const style = getComputedStyle(document.documentElement);
            return names.filter((n) => style.getPropertyValue(n).trim() === "");
          }, decl.cssProperties.map((p) => p.name));
          assert.deepEqual(undefinedProps, [], `${where}: custom properties tokens.css does not define`);
        }

        // Events dispatched in use: the editor's change, the chat's message.
        const tags = classes.map((d) => d.tagName);
        await page.evaluate((tags) => {
          for (const tag of tags) document.body.append(Object.assign(document.createElement(tag), { id: tag }));
        }, tags);
        await page.evaluate(() => window.__module.whenReady());
        if (tags.includes("atelier-editor")) {
          await page.waitForSelector("atelier-editor [contenteditable]");
          await page.click("atelier-editor [contenteditable]");
          await page.keyboard.type("Manifest");
          await waitUntil(() => page.evaluate(() => window.__dispatched.some((d) => d.type === "atelier-change")),
            Boolean, `${mod.path}: atelier-change dispatched`);
        }
        if (tags.includes("atelier-chat")) {
          await page.evaluate(() => Promise.race([
            document.getElementById("atelier-chat").send("hello"),
            new Promise((r) => setTimeout(r, 5000)),
          ]));
        }
        const dispatched = await page.evaluate(() => window.__dispatched);
        for (const { tag, type } of dispatched) {
          const decl = classes.find((d) => d.tagName === tag);
          if (!decl) continue;
          assert.ok(decl.events.some((e) => e.name === type), `${mod.path}: <${tag}> dispatched ${type}, the manifest does not list it`);
        }
        assert.deepEqual(errors, [], `${mod.path}: page errors`);
      } finally {
        await context.close();
      }
    }
    assert.deepEqual(sorted(seenTags), ["atelier-assistant", "atelier-chat", "atelier-editor"]);
  });
});
