// The built package through each bundler users have: esbuild (browser iife and
// esm, Node CJS and ESM for Lambda), webpack 5, Rollup, Vite 7 and Vite 8. Each
// bundle is built from a scratch project that has the packed tarball installed,
// then run: the browser ones in headless Chromium under a strict CSP
// (`script-src 'self' 'wasm-unsafe-eval'`), the Node ones with `node` from a
// directory with no node_modules. Also: the same page without
// 'wasm-unsafe-eval', and a page whose .wasm is missing, see `ready` reject
// with `wasm_load_failed` while the app's module graph keeps running.
//
// The bundlers are this folder's own devDependencies (package-lock.json here),
// installed once by `make test-bundlers`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import webpack from "webpack";
import { rollup } from "rollup";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { serve } from "../../testkit/serve.mjs";
import { launch } from "../../testkit/chromium.mjs";

const crate = fileURLToPath(new URL("../../", import.meta.url));
const pkg = join(crate, "pkg");
const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };

let dir; // scratch: proj/ (sources + node_modules/tessera-policy), out/<bundle>/
let proj;
let out;
let server;
let browser;

const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'";

/** The app every bundle is built from (no top-level await, so iife works). */
const app = (entry) => `
import * as tessera from ${JSON.stringify(entry)};
function run() {
  const engine = new tessera.Engine({ version: 1, roles: { user: { permissions: ["read_own_device"] } } });
  const me = engine.prepare({ id: "alice", roles: ["user"] });
  return { allowed: [me.isAllowed("read", "device", "d1", "alice"), me.isAllowed("read", "device", "d2", "bob")], realm: Object.keys(tessera).includes("Realm") };
}
function report(r) {
  if (typeof document !== "undefined") { globalThis.__result = r; document.title = "done"; }
  else console.log(JSON.stringify(r));
}
// The name too: the package sets it by a literal, so minifiers (webpack production) keep it.
const errorOf = (e) => ({ internalError: e instanceof tessera.InternalError, name: e && e.name, code: e && e.code });
tessera.ready.then(
  () => report({ ok: true, ...run() }),
  (e) => { let call = null; try { run(); } catch (c) { call = errorOf(c); } report({ ok: false, ready: errorOf(e), call }); },
);
`;

const page = (script, { module = false, csp = STRICT_CSP } = {}) =>
  `<!doctype html><html><head><meta charset="utf-8">` +
  `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
  `<title>tessera bundle</title></head><body>` +
  `<script ${module ? 'type="module" ' : ""}src="${script}"></script></body></html>\n`;

const BROWSER_OK = { ok: true, allowed: [true, false], realm: false };
const FAILED = {
  ok: false,
  ready: { internalError: true, name: "InternalError", code: "wasm_load_failed" },
  call: { internalError: true, name: "InternalError", code: "wasm_load_failed" },
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-bundlers-"));
  proj = join(dir, "proj");
  out = join(dir, "out");
  const installed = join(proj, "node_modules", "tessera-policy");
  mkdirSync(installed, { recursive: true });
  mkdirSync(out);
  const packed = JSON.parse(execFileSync("npm", ["pack", "--pack-destination", dir, "--json"], { cwd: pkg, env: npmEnv, encoding: "utf8" }))[0];
  execFileSync("tar", ["-xzf", join(dir, packed.filename), "-C", installed, "--strip-components=1"]);
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  writeFileSync(join(proj, "inline.mjs"), app("tessera-policy/inline"));
  writeFileSync(join(proj, "default.mjs"), app("tessera-policy"));
  server = await serve({ "/": out });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir && !process.env.TESSERA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
});

/** Loads out/<name>/<html> in Chromium; the app's report, and the page errors. */
async function inChromium(name, html = "index.html") {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e.message));
  try {
    await tab.goto(`${server.url}/${name}/${html}`);
    await tab.waitForFunction(() => document.title === "done", null, { timeout: 20000 });
    return { result: await tab.evaluate(() => globalThis.__result), errors };
  } finally {
    await tab.close();
  }
}

const files = (d) => readdirSync(d, { recursive: true }).map(String).sort();

async function esbuildBrowser(name, format) {
  const o = join(out, name);
  await esbuild.build({
    entryPoints: [join(proj, "inline.mjs")],
    bundle: true,
    format,
    platform: "browser",
    outfile: join(o, "app.js"),
    logLevel: "error",
  });
  writeFileSync(join(o, "index.html"), page("app.js", { module: format === "esm" }));
  return o;
}

test("esbuild, browser iife (the default format) with tessera-policy/inline, under a strict CSP", async () => {
  const o = await esbuildBrowser("esbuild-iife", "iife");
  assert.deepEqual(files(o), ["app.js", "index.html"], "one file: the .wasm is inside");
  assert.deepEqual(await inChromium("esbuild-iife"), { result: BROWSER_OK, errors: [] });
});

test("esbuild, browser esm with tessera-policy/inline, under a strict CSP", async () => {
  const o = await esbuildBrowser("esbuild-esm", "esm");
  assert.deepEqual(files(o), ["app.js", "index.html"]);
  assert.deepEqual(await inChromium("esbuild-esm"), { result: BROWSER_OK, errors: [] });
});

test("a CSP without 'wasm-unsafe-eval': ready rejects with wasm_load_failed, calls throw it, the page keeps running", async () => {
  const o = join(out, "no-wasm-eval");
  cpSync(join(out, "esbuild-iife"), o, { recursive: true });
  writeFileSync(join(o, "index.html"), page("app.js", { csp: "script-src 'self'" }));
  const { result, errors } = await inChromium("no-wasm-eval");
  assert.deepEqual(result, FAILED);
  assert.deepEqual(errors, []);
});

for (const format of ["cjs", "esm"]) {
  test(`esbuild, Node/Lambda bundle (${format}) with tessera-policy/inline runs with no node_modules and no .wasm beside it`, async () => {
    const o = join(out, `node-${format}`);
    const file = join(o, format === "cjs" ? "index.cjs" : "index.mjs");
    await esbuild.build({
      entryPoints: [join(proj, "inline.mjs")],
      bundle: true,
      format,
      platform: "node",
      target: "node18",
      outfile: file,
      logLevel: "error",
    });
    assert.deepEqual(files(o), [format === "cjs" ? "index.cjs" : "index.mjs"]);
    const got = JSON.parse(execFileSync(process.execPath, [file], { cwd: o, encoding: "utf8" }));
    // The server module (node condition): the Realm is there.
    assert.deepEqual(got, { ok: true, allowed: [true, false], realm: true });
  });
}

test("webpack 5, browser, the default entry: the .wasm is emitted as an asset and fetched", async () => {
  const o = join(out, "webpack");
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: "production",
        context: proj,
        entry: "./default.mjs",
        target: "web",
        output: { path: o, filename: "main.js", publicPath: "auto" },
        infrastructureLogging: { level: "error" },
      },
      (err, s) => (err ? reject(err) : resolve(s)),
    ),
  );
  assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
  assert.ok(files(o).some((f) => f.endsWith(".wasm")), `a .wasm among ${files(o)}`);
  writeFileSync(join(o, "index.html"), page("main.js"));
  assert.deepEqual(await inChromium("webpack"), { result: BROWSER_OK, errors: [] });

  // The same bundle with its .wasm gone (a broken deploy): the import does not
  // die; ready rejects and calls throw wasm_load_failed.
  const broken = join(out, "webpack-no-wasm");
  cpSync(o, broken, { recursive: true });
  for (const f of files(broken).filter((f) => f.endsWith(".wasm"))) rmSync(join(broken, f));
  const { result, errors } = await inChromium("webpack-no-wasm");
  assert.deepEqual(result, FAILED);
  assert.deepEqual(errors, []);
});

test("Rollup with @rollup/plugin-node-resolve and tessera-policy/inline", async () => {
  const o = join(out, "rollup");
  const bundle = await rollup({ input: join(proj, "inline.mjs"), plugins: [nodeResolve({ browser: true })], logLevel: "silent" });
  await bundle.write({ file: join(o, "app.js"), format: "es" });
  await bundle.close();
  assert.deepEqual(files(o), ["app.js"]);
  writeFileSync(join(o, "index.html"), page("app.js", { module: true }));
  assert.deepEqual(await inChromium("rollup"), { result: BROWSER_OK, errors: [] });
});

for (const vite of ["vite7", "vite8"]) {
  test(`${vite}: production build of the default entry, under a strict CSP`, async () => {
    const { build } = await import(vite);
    const root = join(dir, `${vite}-root`);
    mkdirSync(root);
    cpSync(join(proj, "default.mjs"), join(root, "main.mjs"));
    writeFileSync(join(root, "index.html"), page("/main.mjs", { module: true }));
    cpSync(join(proj, "node_modules"), join(root, "node_modules"), { recursive: true });
    const o = join(out, vite);
    await build({ root, logLevel: "silent", configFile: false, base: "./", build: { outDir: o, emptyOutDir: true } });
    assert.ok(files(o).some((f) => f.endsWith(".wasm")), `a .wasm among ${files(o)}`);
    assert.deepEqual(await inChromium(vite), { result: BROWSER_OK, errors: [] });
  });
}

test("Node, unbundled: every entry exports `ready`, resolved, for import and require", () => {
  const entries = ["tessera-policy", "tessera-policy/browser", "tessera-policy/core", "tessera-policy/inline", "tessera-policy/core/inline"];
  const esm = entries.map((e, i) => `import * as m${i} from ${JSON.stringify(e)};`).join("\n") +
    `\nconst got = [];\nfor (const m of [${entries.map((_, i) => `m${i}`).join(", ")}]) { await m.ready; got.push(new m.Engine({ version: 1, roles: {} }).authorize({ id: "a" }, "read", { type: "device" }).reason); }\nconsole.log(JSON.stringify(got));\n`;
  writeFileSync(join(proj, "entries.mjs"), esm);
  const cjs = `const got = [];\n(async () => { for (const e of ${JSON.stringify(["tessera-policy", "tessera-policy/inline"])}) { const m = require(e); await m.ready; got.push(new m.Engine({ version: 1, roles: {} }).authorize({ id: "a" }, "read", { type: "device" }).reason); } console.log(JSON.stringify(got)); })();\n`;
  writeFileSync(join(proj, "entries.cjs"), cjs);
  const run = (f) => JSON.parse(execFileSync(process.execPath, [f], { cwd: proj, encoding: "utf8" }));
  assert.deepEqual(run("entries.mjs"), entries.map(() => "no_match"));
  assert.deepEqual(run("entries.cjs"), ["no_match", "no_match"]);
});
