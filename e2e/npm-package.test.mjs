// The npm package @atelier/elements (target/npm/atelier-elements/, written
// by `cargo xtask dist`) as a frontend team uses it: `npm pack` accepts it
// and packs the modules, wasm, stylesheets, declarations, manifest and
// schema; the tarball installs into a copy of e2e/vite-app (which imports
// `@atelier/elements/suite` and the stylesheets); `vite build` bundles it
// for production, the wasm files found through the modules'
// `new URL("…_bg.wasm", import.meta.url)`; `vite preview` serves the build
// and, in headless Chromium (playwright-core), the three elements mount:
// typing in the editor changes `getMarkdown()`, `setMarkdown()` loads the
// Markdown module (a second wasm, a chunk of its own), and the chat panel
// and the assistant pane render. No sync server: the elements stay local.
//
// Run: node --test e2e/npm-package.test.mjs   (after `cargo xtask dist`;
// vite comes from e2e/package.json). Missing Chromium, playwright-core,
// vite or the package: skipped with a line `SKIPPED: <test> (reason)`.
// Takes about 15 s (npm pack ~2 s, npm install ~2 s, vite build ~5 s).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CHROMIUM, FLAGS, root, waitUntil, watchErrors } from "./support/harness.mjs";

const run = promisify(execFile);
const PACKAGE = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "npm/atelier-elements");
const VITE = path.join(root, "e2e/node_modules/vite/bin/vite.js");
const TESTS = ["npm pack accepts @atelier/elements; a Vite production build of an app using it mounts the editor, chat and assistant"];
const skipReason = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}`
  : !existsSync(path.join(root, "e2e/node_modules/playwright-core")) ? "playwright-core missing; npm ci in e2e/"
  : !existsSync(VITE) ? "vite missing; npm ci in e2e/"
  : !existsSync(path.join(PACKAGE, "package.json")) ? `no npm package in ${PACKAGE}; run cargo xtask dist`
  : null;
if (skipReason) for (const name of TESTS) console.log(`SKIPPED: ${name} (${skipReason})`);

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Runs `cmd args` in `cwd`; fails with its output. */
async function sh(cmd, args, cwd) {
  try {
    return await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: "false" } });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${e.stdout}\n${e.stderr}`);
  }
}

describe("npm package @atelier/elements", { skip: skipReason ?? false }, () => {
  let dir;
  let preview;
  let previewLog = [];
  let browser;

  before(() => { dir = mkdtempSync(path.join(tmpdir(), "atelier-npm-")); });
  after(async () => {
    await browser?.close();
    if (preview && preview.exitCode === null) {
      const exited = new Promise((r) => { preview.once("exit", r); setTimeout(r, 5_000); });
      preview.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(TESTS[0], async (t) => {
    const timings = {};
    const timed = async (what, f) => { const t0 = Date.now(); const r = await f(); timings[what] = Date.now() - t0; return r; };

    // npm pack: the package as npm would publish it.
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE, "package.json"), "utf8"));
    assert.equal(pkg.name, "@atelier/elements");
    assert.equal(pkg.type, "module");
    assert.equal(pkg.customElements, "./custom-elements.json");
    const { stdout } = await timed("npm pack", () =>
      sh("npm", ["pack", "--json", "--pack-destination", dir], PACKAGE));
    const [packed] = JSON.parse(stdout);
    const files = packed.files.map((f) => f.path);
    for (const f of [
      "package.json", "README.md", "atelier-elements.js", "atelier-suite.js", "atelier_elements_bg.wasm",
      "atelier_suite_bg.wasm", "atelier_markdown.js", "atelier_markdown_bg.wasm", "atelier-suite.d.ts",
      "atelier-elements.d.ts", "editor-element.d.ts", "custom-elements.json", "operations.schema.json",
      "styles/tokens.css", "styles/editor.css", "styles/chat.css", "styles/assistant.css",
    ]) assert.ok(files.includes(f), `the tarball holds ${f} (it holds ${files.join(", ")})`);
    for (const target of Object.values(pkg.exports).flatMap((e) => typeof e === "string" ? [e] : Object.values(e))) {
      if (!target.includes("*")) assert.ok(files.includes(target.replace(/^\.\//, "")), `export target ${target} packed`);
    }
    const tarball = path.join(dir, packed.filename);

    // A copy of the Vite app with the tarball installed, built for production.
    const app = path.join(dir, "app");
    cpSync(path.join(root, "e2e/vite-app"), app, { recursive: true });
    await timed("npm install", () => sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball], app));
    assert.ok(existsSync(path.join(app, "node_modules/@atelier/elements/custom-elements.json")));
    await timed("vite build", () => sh(process.execPath, [VITE, "build", "--logLevel", "warn"], app));
    const assets = readdirSync(path.join(app, "dist/assets"));
    assert.ok(assets.some((f) => /^atelier_suite_bg.*\.wasm$/.test(f)), `the suite's wasm emitted (assets: ${assets.join(", ")})`);
    assert.ok(assets.some((f) => /^atelier_markdown_bg.*\.wasm$/.test(f)), `the Markdown wasm emitted (assets: ${assets.join(", ")})`);

    // vite preview serves the build.
    const port = await freePort();
    preview = spawn(process.execPath, [VITE, "preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
      { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    for (const s of [preview.stdout, preview.stderr]) s.on("data", (d) => previewLog.push(String(d)));
    const origin = `http://127.0.0.1:${port}`;
    await waitUntil(() => fetch(origin).then((r) => r.ok, () => false), Boolean, `vite preview on ${origin}`);

    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const page = await browser.newPage();
    const errors = watchErrors(page);
    const wasm = [];
    page.on("response", (r) => { if (r.url().endsWith(".wasm")) wasm.push(`${r.status()} ${new URL(r.url()).pathname}`); });
    try {
      await timed("page load", async () => {
        await page.goto(origin);
        await waitUntil(() => page.evaluate(() => document.documentElement.dataset.atelier ?? ""),
          (v) => v !== "", "whenReady()");
      });
      assert.equal(await page.evaluate(() => document.documentElement.dataset.atelier), "ready");

      // The editor: typing changes the Markdown.
      const editable = "atelier-editor [contenteditable=true]";
      await page.waitForSelector(editable);
      const before = await page.evaluate(() => document.getElementById("editor").getMarkdown());
      await page.click(editable);
      await page.keyboard.type("Hello from Vite");
      await waitUntil(() => page.evaluate(() => document.getElementById("editor").getMarkdown()),
        (md) => md.includes("Hello from Vite") && md !== before, "the typed text in getMarkdown()");
      // setMarkdown loads the Markdown module and its wasm from the build.
      await page.evaluate(() => document.getElementById("editor").setMarkdown("# Title\n\nBody"));
      await waitUntil(() => page.evaluate(() => document.getElementById("editor").getMarkdown()),
        (md) => md.includes("# Title"), "setMarkdown's heading in getMarkdown()");

      // The chat panel and the assistant pane render.
      await waitUntil(() => page.evaluate(() => {
        const chat = document.getElementById("chat");
        return chat.childElementCount > 0 && chat.getBoundingClientRect().height > 0
          && Boolean(chat.querySelector("textarea, [contenteditable=true], input"));
      }), Boolean, "the chat panel with its composer");
      await waitUntil(() => page.evaluate(() => {
        const pane = document.getElementById("assistant");
        return pane.childElementCount > 0 && pane.querySelectorAll("button").length > 0;
      }), Boolean, "the assistant pane with its actions");
      // The stylesheets applied: the tokens are defined on :root.
      assert.notEqual(await page.evaluate(() =>
        getComputedStyle(document.documentElement).getPropertyValue("--atelier-accent").trim()), "");

      assert.ok(wasm.some((w) => /^200 \/assets\/atelier_suite_bg.*\.wasm$/.test(w)), `suite wasm loaded: ${wasm}`);
      assert.ok(wasm.some((w) => /^200 \/assets\/atelier_markdown_bg.*\.wasm$/.test(w)), `Markdown wasm loaded: ${wasm}`);
      assert.deepEqual(errors, [], "page errors");
    } catch (e) {
      t.diagnostic(`wasm responses: ${wasm.join(", ")}`);
      t.diagnostic(`page errors: ${errors.join("\n")}`);
      t.diagnostic(`vite preview: ${previewLog.join("")}`);
      throw e;
    }
    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  });
});
