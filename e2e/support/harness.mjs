// Shared by the browser e2e tests: where things are, the Chromium flags of
// TOOLCHAIN.md, why a run must be skipped, and the atelier server started
// as a real process on loopback (its address read from its JSON log).
import { execFile, spawn } from "node:child_process";
import { after, before } from "node:test";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.resolve(root, process.env.ATELIER_BIN || "target/debug/atelier");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// The directory `atelier serve` serves: www/, or (ATELIER_WWW, as for the
// server itself) another one, e.g. the benchmarks' www/ plus bench/pages/.
export const WWW = path.resolve(root, process.env.ATELIER_WWW || "www");
export const BUNDLE = path.join(WWW, "pkg/atelier_elements_bg.wasm");
export const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run",
];
/**
 * Opens the server's own index page with the gallery's script blocked: a
 * blank page of the server's origin where a test mounts its own elements
 * and nothing else opens a document (the gallery would open its own, and
 * its socket, channel and database would be counted with the test's). A
 * page Playwright made up would be "public" to Chromium's local-network
 * checks, which then block its sockets to 127.0.0.1.
 */
export async function openBlankServerPage(page, addr) {
  const gallery = `http://${addr}/gallery/**`;
  await page.route(gallery, (route) => route.abort());
  await page.goto(`http://${addr}/`);
  await page.unroute(gallery);
}

/** Deadline of every wait for a condition. */
export const DEADLINE_MS = 20_000;

/** Polls `read()` until `pred(value)` holds, for up to DEADLINE_MS; throws naming `what` and the last value seen. */
export async function waitUntil(read, pred, what) {
  const deadline = Date.now() + DEADLINE_MS;
  let last;
  for (;;) {
    last = await read();
    if (pred(last)) return last;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not seen within ${DEADLINE_MS} ms; last: ${JSON.stringify(last)}`);
}

/**
 * Why the browser tests cannot run here, or null. `modules` is the
 * node_modules directory the caller imports playwright-core from (e2e's;
 * the benchmark drivers pass bench's).
 */
export function missing(modules = path.join(root, "e2e/node_modules")) {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}; apt-get install -y chromium chromium-driver`;
  if (!existsSync(BIN)) return `no server binary at ${BIN}; cargo build -p atelier-server --bin atelier`;
  if (!existsSync(BUNDLE)) return "no www/pkg bundle; run cargo xtask dist";
  if (!existsSync(path.join(modules, "playwright-core"))) {
    return `playwright-core missing; npm ci in ${path.relative(root, path.dirname(modules)) || "."}/`;
  }
  return null;
}

/**
 * Starts `atelier serve` with its SQLite file in `dir` on `addr` (port 0:
 * a free one) and `extraArgs` after the usual ones, serving `www`;
 * resolves once it logs its address. `stop()` asks it to shut down (SIGTERM); `kill()` kills it
 * as a crash would (SIGKILL).
 */
export async function startAtelier(dir, addr = "127.0.0.1:0", extraArgs = [], www = WWW) {
  const child = spawn(BIN, [
    "serve", "--addr", addr, "--allow-anonymous",
    "--db", `sqlite://${path.join(dir, "e2e.db")}`, "--www", www, ...extraArgs,
  ], { cwd: root, env: { ...process.env, ATELIER_LOG_FORMAT: "json" }, stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  const bound = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not log its address:\n${log.join("\n")}`)), DEADLINE_MS);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log.join("\n")}`)); });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        log.push(line);
        if (log.length > 400) log.shift();
        try {
          const entry = JSON.parse(line);
          if (entry.fields?.message === "atelier listening") { clearTimeout(timer); resolve(entry.fields.addr); }
        } catch { /* not a JSON line */ }
      });
    }
  });
  child.removeAllListeners("exit");
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    addr: bound, log,
    async stop() {
      if (gone()) return;
      const exited = new Promise((r) => { child.once("exit", r); setTimeout(r, 5_000); });
      child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (gone()) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".map": "application/json", ".json": "application/json",
  ".svg": "image/svg+xml", ".wasm": "application/wasm",
};

/**
 * Serves the files under `base` on a free loopback port (read only; a path
 * that leaves `base` is a 404). Returns `{ origin, close }`.
 */
export async function serveStatic(base) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const file = path.normalize(path.join(base, decodeURIComponent(url.pathname)));
    if (!file.startsWith(base + path.sep) || !existsSync(file)) { res.writeHead(404).end(); return; }
    try {
      res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream" })
        .end(readFileSync(file));
    } catch { res.writeHead(404).end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The npm peers (`peers/`: real Yjs, Hocuspocus, BlockNote), with their own node_modules. */
export const PEERS = path.join(root, "peers");
/** The BlockNote page (npm `@blocknote/core` + Hocuspocus provider) the interop tests open. */
export const BLOCKNOTE_PAGE = path.join(PEERS, "blocknote-page");

/**
 * Bundles the BlockNote page into blocknote-page/dist/ (main.js, main.css;
 * git-ignored) with e2e's esbuild; its imports resolve from peers/node_modules.
 */
export async function buildBlockNotePage() {
  const esbuild = path.join(root, "e2e/node_modules/.bin/esbuild");
  await promisify(execFile)(esbuild, [
    path.join(BLOCKNOTE_PAGE, "main.mjs"), "--bundle", "--format=esm", "--target=es2022",
    `--outdir=${path.join(BLOCKNOTE_PAGE, "dist")}`, "--log-level=error",
  ], { cwd: PEERS });
  for (const f of ["main.js", "main.css"]) {
    if (!existsSync(path.join(BLOCKNOTE_PAGE, "dist", f))) throw new Error(`esbuild did not write dist/${f}`);
  }
}

/** Collects a page's uncaught errors and console errors/warnings. */
export function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
  return errors;
}

/**
 * For a test file: starts `atelier serve` (SQLite in a temporary directory
 * named after `prefix`, `serverArgs` added to its command line) and
 * Chromium before its tests, and stops both after.
 * Returns an object whose `server` and `browser` are set once started (not
 * at all when `missing()` gives a reason to skip).
 */
export function atelierAndChromium(prefix, serverArgs = []) {
  const env = { server: null, browser: null };
  let dir;
  before(async () => {
    if (missing()) return;
    const { chromium } = await import("playwright-core");
    dir = mkdtempSync(path.join(tmpdir(), `atelier-${prefix}-`));
    env.server = await startAtelier(dir, "127.0.0.1:0", serverArgs);
    env.browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return env;
}
