// Assembles the npm package `tessera-policy` in bindings-wasm/pkg/ from the
// wasm-bindgen output (--target web) of its two modules and the hand-written
// files in npm/, then measures each .wasm and fails above its size budget.
//
//   node scripts/assemble.mjs <wasm-bindgen-out-dir> [<core-out-dir>]
//
// The two modules (one crate, `tessera-wasm`, built twice):
//   full  tessera_wasm.wasm  (default features: decisions, tokens, Realm)  → entry `tessera-policy`
//   core  tessera_core.wasm  (--no-default-features: decisions only)       → entry `tessera-policy/core`
//
// Layout of pkg/:
//   package.json, README.md, index.d.ts, index.d.cts, core.d.ts, core.d.cts
//   dist/tessera_wasm.js, dist/tessera_wasm_bg.wasm   (wasm-bindgen, web target)
//   dist/api.mjs                                      (the public API layer)
//   dist/browser.mjs                                  (browsers, bundlers: fetches the .wasm)
//   dist/node.cjs                                     (Node require: reads the .wasm synchronously)
//   dist/node.mjs                                     (Node import: re-exports node.cjs)
//   dist/core/…                                       (the same five for tessera_core.*)
//
// The core files are the full ones with the lines between `// #if tokens` and
// `// #endif` removed (npm/src/api.mjs, npm/index.d.ts) and `tessera_wasm`
// renamed `tessera_core` (the entry modules).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

// Budgets for the gzipped .wasm (KiB). Lower them as the modules shrink.
// TESSERA_WASM_BUDGET_KIB (full) and TESSERA_CORE_BUDGET_KIB (core) override
// them for one local run, loudly; CI (CI=true) ignores the overrides: changing
// a budget is a change to these lines.
//
// core: decisions only (Engine, labels, operations, prepare/isAllowed/
// authorizeBatch). The issue's 150 KB limit, lowered to the measured size
// (87.9 KiB) plus a small margin.
export const CORE_BUDGET_GZIP_KIB = 92;
// full: decisions, token crypto (RSA, P-256/P-384, Ed25519) and the Realm
// (Argon2id, snapshots): measured 328.3 KiB. This is over the issue's 150 KB;
// see BENCHMARKS.md, "WebAssembly package size", for where the bytes are and
// what it would take. The budget keeps it from growing unnoticed.
export const BUDGET_GZIP_KIB = 335;

const here = dirname(fileURLToPath(import.meta.url));
const crate = resolve(here, "..");
const pkg = join(crate, "pkg");
const dist = join(pkg, "dist");
const npm = join(crate, "npm");

const outDir = resolve(process.argv[2] ?? join(crate, "..", "target", "wasm-bindgen"));
const coreOutDir = resolve(process.argv[3] ?? join(crate, "..", "target", "wasm-bindgen-core"));

const MODULES = [
  { name: "full", stem: "tessera_wasm", from: outDir, dir: dist, budget: BUDGET_GZIP_KIB, env: "TESSERA_WASM_BUDGET_KIB" },
  { name: "core", stem: "tessera_core", from: coreOutDir, dir: join(dist, "core"), budget: CORE_BUDGET_GZIP_KIB, env: "TESSERA_CORE_BUDGET_KIB" },
];

for (const m of MODULES) {
  for (const f of [`${m.stem}.js`, `${m.stem}_bg.wasm`]) {
    if (!existsSync(join(m.from, f))) {
      console.error(`assemble: ${join(m.from, f)} is missing; run \`make build-wasm\``);
      process.exit(1);
    }
  }
}

/** `text` without the lines from `// #if tokens` to `// #endif` (inclusive). */
function withoutTokens(text) {
  const out = [];
  let skipping = false;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "// #if tokens") {
      if (skipping) throw new Error("assemble: nested `// #if tokens`");
      skipping = true;
    } else if (t === "// #endif") {
      if (!skipping) throw new Error("assemble: `// #endif` without `// #if tokens`");
      skipping = false;
    } else if (!skipping) out.push(line);
  }
  if (skipping) throw new Error("assemble: `// #if tokens` without `// #endif`");
  return out.join("\n");
}

/** The full build keeps every line, without the markers. */
function withTokens(text) {
  return text
    .split("\n")
    .filter((l) => !["// #if tokens", "// #endif"].includes(l.trim()))
    .join("\n");
}

rmSync(pkg, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
mkdirSync(join(dist, "core"), { recursive: true });

copyFileSync(join(npm, "package.json"), join(pkg, "package.json"));
copyFileSync(join(crate, "README.md"), join(pkg, "README.md"));
// Each entry gets a declaration file per module system (same declarations):
// with "type": "module", TypeScript reads a .d.ts as ESM and a .d.cts as CommonJS.
const dts = readFileSync(join(npm, "index.d.ts"), "utf8");
for (const f of ["index.d.ts", "index.d.cts"]) writeFileSync(join(pkg, f), withTokens(dts));
const coreDts =
  "// `tessera-policy/core`: decisions only (no tokens, no Realm). Generated from index.d.ts.\n" + withoutTokens(dts);
for (const f of ["core.d.ts", "core.d.cts"]) writeFileSync(join(pkg, f), coreDts);

const wasmOpt = join(crate, "node_modules", ".bin", "wasm-opt");
const esbuild = join(crate, "node_modules", ".bin", "esbuild");
const require = createRequire(import.meta.url);
const api = readFileSync(join(npm, "src", "api.mjs"), "utf8");
const kib = (n) => (n / 1024).toFixed(1);
const sizes = {};
let failed = false;

for (const m of MODULES) {
  const rename = (text) => (m.stem === "tessera_wasm" ? text : text.replaceAll("tessera_wasm", m.stem));
  const glue = join(m.from, `${m.stem}.js`);
  const wasm = join(m.from, `${m.stem}_bg.wasm`);
  copyFileSync(glue, join(m.dir, `${m.stem}.js`));
  writeFileSync(join(m.dir, "api.mjs"), rename(m.name === "core" ? withoutTokens(api) : withTokens(api)));
  writeFileSync(join(m.dir, "browser.mjs"), rename(readFileSync(join(npm, "src", "browser.mjs"), "utf8")));

  // wasm-opt (npm `binaryen`, no download) on top of rustc's opt-level "z".
  const before = statSync(wasm).size;
  execFileSync(wasmOpt, [wasm, "-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
    "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", "-o", join(m.dir, `${m.stem}_bg.wasm`)], {
    stdio: "inherit",
  });

  // node.cjs: the API bundled to CommonJS with a synchronous instantiation.
  writeFileSync(join(m.dir, "node-cjs.mjs"), rename(readFileSync(join(npm, "src", "node-cjs.mjs"), "utf8")));
  execFileSync(
    esbuild,
    [join(m.dir, "node-cjs.mjs"), "--bundle", "--format=cjs", "--platform=node", "--target=node18",
      "--log-level=error", "--log-override:empty-import-meta=silent", `--outfile=${join(m.dir, "node.cjs")}`],
    { stdio: "inherit" },
  );
  rmSync(join(m.dir, "node-cjs.mjs"));

  // node.mjs: ESM names over the one CommonJS instance (no dual-package hazard).
  const names = Object.keys(require(join(m.dir, "node.cjs"))).filter((n) => n !== "default" && n !== "__esModule");
  writeFileSync(
    join(m.dir, "node.mjs"),
    `// Node ESM entry: the same module instance as require() of node.cjs, so\n` +
      `// classes (and instanceof TesseraError) are one and the same in both.\n` +
      `import api from "./node.cjs";\n\n` +
      `export const {\n${names.map((n) => `  ${n},`).join("\n")}\n} = api;\n`,
  );

  // Size: what a browser downloads.
  const bytes = readFileSync(join(m.dir, `${m.stem}_bg.wasm`));
  const gz = gzipSync(bytes, { level: 9 }).length;
  sizes[m.name] = {
    file: `${m.stem}_bg.wasm`,
    wasm_bindgen_bytes: before,
    raw_bytes: bytes.length,
    gzip_bytes: gz,
    budget_gzip_bytes: m.budget * 1024,
    glue_js_bytes: statSync(join(m.dir, `${m.stem}.js`)).size,
    api_js_bytes: statSync(join(m.dir, "api.mjs")).size,
  };
  console.log(
    `tessera-policy (${m.name}): .wasm ${kib(before)} KiB after wasm-bindgen, ${kib(bytes.length)} KiB after wasm-opt -Oz, ` +
      `${kib(gz)} KiB gzipped (budget ${m.budget} KiB); exports: ${names.join(", ")}`,
  );
  if (gz > m.budget * 1024) {
    const override = process.env.CI ? undefined : process.env[m.env];
    const over = `assemble: the gzipped ${m.stem}_bg.wasm is ${kib(gz)} KiB, over the ${m.budget} KiB budget`;
    if (override && gz <= Number(override) * 1024) {
      console.error(`${over}; ALLOWED for this run only by ${m.env}=${override}`);
    } else {
      console.error(over);
      failed = true;
    }
  }
}
writeFileSync(join(pkg, "size.json"), JSON.stringify(sizes, null, 2) + "\n");
if (failed) process.exit(1);
