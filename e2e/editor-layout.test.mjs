// Layout of <atelier-editor> with a long document, in headless Chromium
// driven by playwright-core: top-level blocks render in chunks that the
// browser skips off screen (`content-visibility: auto`), and those chunks
// must not change how the editor sits in the host page.
//
// Run: node --test e2e/editor-layout.test.mjs   (after cargo xtask dist and
// `cargo build -p atelier-server --bin atelier`). Missing Chromium, binary
// or bundle: every test is skipped and a line `SKIPPED: <test> (reason)` is
// printed.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEADLINE_MS, atelierAndChromium, missing } from "./support/harness.mjs";

const skipReason = missing();
const TESTS = [
  "a long document in a flex row keeps the editor as wide as the row",
];

const env = atelierAndChromium("layout");

describe("editor layout", { skip: skipReason ?? false }, () => {
  if (skipReason) for (const t of TESTS) console.log(`SKIPPED: ${t} (${skipReason})`);

  test(TESTS[0], async () => {
    const context = await env.browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await context.newPage();
    // Console errors and warnings, but Chromium's request for a favicon
    // (the server has none) is not the page's.
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if ((m.type() === "error" || m.type() === "warning") && !m.location().url?.endsWith("/favicon.ico")) {
        errors.push(m.text());
      }
    });
    const q = new URLSearchParams({ doc: "layout-demo", server: `ws://${env.server.addr}/sync`, user: "Alice" });
    await page.goto(`http://${env.server.addr}/editor.html?${q}`);
    await page.waitForFunction(() => document.querySelector("#main")?.status === "synced", null, { timeout: DEADLINE_MS });
    // A second editor, alone in a 600 px flex row (flex items do not shrink
    // below their content's minimum width), on a document of 1,500
    // paragraphs: dozens of chunks, most never laid out.
    await page.evaluate(async (server) => {
      const row = document.createElement("div");
      row.id = "row";
      row.style.cssText = "display:flex;width:600px";
      const ed = document.createElement("atelier-editor");
      ed.id = "wide";
      ed.setAttribute("doc", "layout-long");
      ed.setAttribute("server", server);
      row.append(ed);
      document.body.append(row);
      const md = Array.from({ length: 1500 }, (_, i) => `Paragraph ${i} with a few words in it.`).join("\n\n");
      await customElements.whenDefined("atelier-editor");
      await ed.setMarkdown(md);
    }, `ws://${env.server.addr}/sync`);
    await page.waitForFunction(
      () => document.querySelectorAll("#wide .atelier-chunk").length > 10
        && document.querySelectorAll("#wide [data-block-id]").length === 1500,
      null, { timeout: DEADLINE_MS },
    );
    const seen = await page.evaluate(() => {
      const row = document.querySelector("#row");
      const ed = document.querySelector("#wide");
      return {
        chunks: document.querySelectorAll("#wide .atelier-chunk").length,
        rowWidth: row.clientWidth,
        rowScrollWidth: row.scrollWidth,
        editorWidth: ed.getBoundingClientRect().width,
        pageScrollWidth: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
      };
    });
    assert.ok(seen.editorWidth <= seen.rowWidth, `the editor is wider than its flex row: ${JSON.stringify(seen)}`);
    assert.ok(seen.rowScrollWidth <= seen.rowWidth, `the flex row overflows: ${JSON.stringify(seen)}`);
    assert.ok(seen.pageScrollWidth <= seen.viewport, `the page scrolls sideways: ${JSON.stringify(seen)}`);
    assert.deepEqual(errors, [], "console errors or warnings");
    await context.close();
  });
});
