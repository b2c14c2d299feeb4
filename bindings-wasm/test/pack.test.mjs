// The published artefact: `npm pack` the package, install the tarball into a
// scratch project in a temporary directory, and use it the ways users do —
// Node ESM, Node CommonJS, TypeScript (node16 and bundler resolution), a Vite
// production build run in headless Chromium, and a plain <script type="module">.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../testkit/serve.mjs";
import { launch, open } from "../testkit/chromium.mjs";

const crate = fileURLToPath(new URL("../", import.meta.url));
const pkg = join(crate, "pkg");
const tsc = join(crate, "node_modules", ".bin", "tsc");
let dir;
let proj;
let packed;

const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-pack-"));
  const out = execFileSync("npm", ["pack", "--pack-destination", dir, "--json"], { cwd: pkg, env: npmEnv, encoding: "utf8" });
  packed = JSON.parse(out)[0];
  proj = join(dir, "proj");
  mkdirSync(proj);
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "scratch", private: true, version: "0.0.0" }));
  execFileSync("npm", ["install", join(dir, packed.filename), "--offline", "--no-audit", "--no-fund"], {
    cwd: proj,
    env: npmEnv,
    stdio: "pipe",
  });
});

after(() => {
  if (dir && !process.env.TESSERA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
});

/** What every consumer computes; the same answer everywhere. */
const USAGE = `
  const engine = new Engine({ version: 1, roles: { user: { permissions: ["read_own_device"] } } });
  const me = engine.prepare({ id: "alice", roles: ["user"] });
  let code = null, isTessera = false;
  try { parseLabel("read_"); } catch (e) { code = e.code; isTessera = e instanceof TesseraError; }
  const result = {
    fast: [me.isAllowed("read", "device", "d1", "alice"), me.isAllowed("read", "device", "d2", "bob")],
    decision: engine.authorize({ id: "alice", roles: ["user"] }, "read", { type: "device", id: "d1", owner: "alice" }),
    explain: engine.explain({ id: "alice", roles: ["user", "ghost"] }, "read", { type: "device" }).unknownRoles,
    code, isTessera,
  };
`;

const EXPECTED = {
  fast: [true, false],
  decision: { allowed: true, reason: "allowed", rule: "read_own_device", source: "role:user" },
  explain: ["ghost"],
  code: "syntax",
  isTessera: true,
};

function node(file, source) {
  writeFileSync(join(proj, file), source);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: proj, encoding: "utf8" }));
}

test("the tarball holds the package and nothing else", () => {
  const files = packed.files.map((f) => f.path).sort();
  const modules = (dir, stem, names) => [...names.map((n) => `${dir}${n}.mjs`), `${dir}${stem}.js`, `${dir}${stem}_bg.wasm`, `${dir}node.cjs`];
  assert.deepEqual(
    files,
    [
      "LICENSE",
      "README.md",
      "browser.d.cts",
      "browser.d.ts",
      "core.d.cts",
      "core.d.ts",
      ...modules("dist/browser/", "tessera_browser", ["api", "browser", "common", "convert", "engine", "errors", "fastpath", "flat", "inline", "keyset", "node", "tokens", "webcrypto"]),
      ...modules("dist/core/", "tessera_core", ["api", "browser", "common", "convert", "engine", "errors", "fastpath", "flat", "inline", "node"]),
      "dist/express.mjs",
      "dist/fastify.mjs",
      "dist/http-guard.mjs",
      "dist/inline.cjs",
      "dist/inline.mjs",
      "dist/node.cjs",
      "dist/node.mjs",
      "dist/tessera_wasm.js",
      "dist/tessera_wasm_bg.wasm",
      "index.d.cts",
      "index.d.ts",
      "package.json",
      ...["analysis", "dispose", "engine", "errors", "express", "fastify", "fastpath", "http-guard", "keyset", "postgres-store", "realm", "sessions", "shapes", "tokens"].flatMap((t) => [`types/${t}.d.cts`, `types/${t}.d.ts`]),
    ].sort(),
  );
  assert.equal(packed.name, "tessera-policy");
});

test("Node ESM: import from 'tessera-policy'", () => {
  const got = node(
    "esm.mjs",
    `import { Engine, TesseraError, parseLabel } from "tessera-policy";\n${USAGE}\nconsole.log(JSON.stringify(result));`,
  );
  assert.deepEqual(got, EXPECTED);
});

test("Node CommonJS: require('tessera-policy')", () => {
  const got = node(
    "cjs.cjs",
    `const { Engine, TesseraError, parseLabel } = require("tessera-policy");\n${USAGE}\nconsole.log(JSON.stringify(result));`,
  );
  assert.deepEqual(got, EXPECTED);
});

test("Node ESM and CommonJS: the decisions-only entry 'tessera-policy/core'", () => {
  const probe = `result.tokens = [typeof Engine.prototype.verifyJwt, typeof api.Realm, typeof api.parseAuthorization];`;
  const esm = node(
    "core-esm.mjs",
    `import { Engine, TesseraError, parseLabel } from "tessera-policy/core";\nimport * as api from "tessera-policy/core";\n${USAGE}\n${probe}\nconsole.log(JSON.stringify(result));`,
  );
  const cjs = node(
    "core-cjs.cjs",
    `const api = require("tessera-policy/core");\nconst { Engine, TesseraError, parseLabel } = api;\n${USAGE}\n${probe}\nconsole.log(JSON.stringify(result));`,
  );
  const expected = { ...EXPECTED, tokens: ["undefined", "undefined", "undefined"] };
  assert.deepEqual(esm, expected);
  assert.deepEqual(cjs, expected);
});

test("Node: import and require in one process share classes", () => {
  const got = node(
    "mixed.mjs",
    `import { createRequire } from "node:module";
     import * as esm from "tessera-policy";
     const cjs = createRequire(import.meta.url)("tessera-policy");
     let same = false;
     try { cjs.parseLabel("!"); } catch (e) { same = e instanceof esm.TesseraError; }
     console.log(JSON.stringify({ same, engine: esm.Engine === cjs.Engine }));`,
  );
  assert.deepEqual(got, { same: true, engine: true });
});

test("TypeScript consumers type-check (node16 ESM + CJS, bundler)", () => {
  const body = `
    const engine = new Engine({ version: 1, roles: {} });
    const d: Decision = engine.authorize({ id: "a" }, "read", { type: "device" });
    const ok: boolean = engine.prepare({ id: "a" }).isAllowed("read", "device");
    try { parseLabel("x"); } catch (e) { if (e instanceof TesseraError) { const c: string = e.code; void c; } }
    void d; void ok;
  `;
  writeFileSync(join(proj, "use-esm.mts"), `import { Engine, TesseraError, parseLabel, type Decision } from "tessera-policy";\n${body}`);
  writeFileSync(join(proj, "use-cjs.cts"), `import { Engine, TesseraError, parseLabel, type Decision } from "tessera-policy";\n${body}`);
  writeFileSync(join(proj, "use-bundler.ts"), `import { Engine, TesseraError, parseLabel, type Decision } from "tessera-policy";\n${body}`);
  writeFileSync(join(proj, "use-core.mts"), `import { Engine, TesseraError, parseLabel, type Decision } from "tessera-policy/core";\n${body}\n// @ts-expect-error no tokens in the core entry\nnew Engine({ version: 1, roles: {} }).verifyJwt("t", { keys: [] });`);
  writeFileSync(join(proj, "use-core.ts"), `import { Engine, TesseraError, parseLabel, type Decision } from "tessera-policy/core";\n${body}`);
  const common = { strict: true, noEmit: true, types: [], lib: ["es2022", "dom"], target: "es2022", skipLibCheck: false };
  writeFileSync(
    join(proj, "tsconfig.node16.json"),
    JSON.stringify({ compilerOptions: { ...common, module: "node16", moduleResolution: "node16" }, files: ["use-esm.mts", "use-cjs.cts", "use-core.mts"] }),
  );
  writeFileSync(
    join(proj, "tsconfig.bundler.json"),
    JSON.stringify({ compilerOptions: { ...common, module: "esnext", moduleResolution: "bundler" }, files: ["use-bundler.ts", "use-core.ts"] }),
  );
  for (const config of ["tsconfig.node16.json", "tsconfig.bundler.json"]) {
    try {
      execFileSync(tsc, ["-p", config], { cwd: proj, encoding: "utf8" });
    } catch (e) {
      assert.fail(`tsc -p ${config}:\n${e.stdout}${e.stderr}`);
    }
  }
});

test("Vite production build runs in headless Chromium; plain <script type=module> too", async () => {
  writeFileSync(
    join(proj, "index.html"),
    `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>t</title></head>
     <body><script type="module" src="./main.js"></script></body></html>`,
  );
  const report = `document.body.dataset.result = JSON.stringify(result);`;
  writeFileSync(join(proj, "main.js"), `import { Engine, TesseraError, parseLabel } from "tessera-policy";\n${USAGE}\n${report}`);
  writeFileSync(
    join(proj, "core.html"),
    `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>t</title></head>
     <body><script type="module" src="./core-main.js"></script></body></html>`,
  );
  writeFileSync(join(proj, "core-main.js"), `import { Engine, TesseraError, parseLabel } from "tessera-policy/core";\n${USAGE}\n${report}`);
  writeFileSync(
    join(proj, "plain.html"),
    `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>t</title></head><body>
     <script type="module">
       import { Engine, TesseraError, parseLabel } from "./node_modules/tessera-policy/dist/browser/browser.mjs";
       ${USAGE}
       ${report}
     </script></body></html>`,
  );
  const { build } = await import("vite");
  await build({
    root: proj,
    logLevel: "error",
    configFile: false,
    build: {
      outDir: join(proj, "dist"),
      emptyOutDir: true,
      rollupOptions: { input: { main: join(proj, "index.html"), core: join(proj, "core.html") } },
    },
  });
  const assets = readdirSync(join(proj, "dist", "assets"));
  assert.ok(assets.some((f) => f.startsWith("tessera_browser_bg") && f.endsWith(".wasm")), `no browser .wasm among ${assets}`);
  assert.ok(!assets.some((f) => f.startsWith("tessera_wasm_bg")), `the server .wasm must not reach a browser build: ${assets}`);
  assert.ok(assets.some((f) => f.startsWith("tessera_core_bg") && f.endsWith(".wasm")), `no core .wasm among ${assets}`);
  const js = assets.filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(proj, "dist", "assets", f), "utf8"));
  assert.ok(!js.some((s) => s.includes("readFileSync")), "the browser bundle must not carry the Node entry");

  const server = await serve({ "/": join(proj, "dist"), "/src/": proj });
  const browser = await launch();
  try {
    for (const url of [server.url + "/", server.url + "/core.html", server.url + "/src/plain.html"]) {
      const { page, errors } = await open(browser, url);
      await page.waitForSelector("body[data-result]", { state: "attached", timeout: 20_000 });
      const got = JSON.parse(await page.getAttribute("body", "data-result"));
      assert.deepEqual(got, EXPECTED, url);
      assert.deepEqual(errors, [], url);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
});
