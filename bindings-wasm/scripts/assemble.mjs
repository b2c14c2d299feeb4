// Assembles the npm package `tessera-policy` in bindings-wasm/pkg/ from the
// wasm-bindgen output (--target web) and the hand-written files in npm/, then
// measures the .wasm and fails above the size budget.
//
//   node scripts/assemble.mjs <wasm-bindgen-out-dir>
//
// Layout of pkg/:
//   package.json, README.md, index.d.ts, index.d.cts
//   dist/tessera_wasm.js, dist/tessera_wasm_bg.wasm   (wasm-bindgen, web target)
//   dist/api.mjs                                      (the public API layer)
//   dist/browser.mjs                                  (browsers, bundlers: fetches the .wasm)
//   dist/node.cjs                                     (Node require: reads the .wasm synchronously)
//   dist/node.mjs                                     (Node import: re-exports node.cjs)
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

// The budget for the gzipped .wasm (KiB). Lower it as the module shrinks.
// TESSERA_WASM_BUDGET_KIB overrides it for one local run, loudly; CI (CI=true)
// ignores the override: changing the budget is a change to this line.
// 310 KiB holds the full module (decisions + token crypto: RSA, P-256/P-384, Ed25519).
export const BUDGET_GZIP_KIB = 310;
const override = process.env.CI ? undefined : process.env.TESSERA_WASM_BUDGET_KIB;
const budgetKib = override ? Number(override) : BUDGET_GZIP_KIB;

const here = dirname(fileURLToPath(import.meta.url));
const crate = resolve(here, "..");
const pkg = join(crate, "pkg");
const dist = join(pkg, "dist");
const npm = join(crate, "npm");

const outDir = resolve(process.argv[2] ?? join(crate, "..", "target", "wasm-bindgen"));
const glue = join(outDir, "tessera_wasm.js");
const wasm = join(outDir, "tessera_wasm_bg.wasm");
for (const f of [glue, wasm]) {
  if (!existsSync(f)) {
    console.error(`assemble: ${f} is missing; run \`make build-wasm\``);
    process.exit(1);
  }
}

rmSync(pkg, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

copyFileSync(join(npm, "package.json"), join(pkg, "package.json"));
copyFileSync(join(crate, "README.md"), join(pkg, "README.md"));
copyFileSync(join(npm, "index.d.ts"), join(pkg, "index.d.ts"));
// The CommonJS entry gets its own declaration file (same declarations): with
// "type": "module", TypeScript reads a .d.ts as ESM and a .d.cts as CommonJS.
copyFileSync(join(npm, "index.d.ts"), join(pkg, "index.d.cts"));
copyFileSync(glue, join(dist, "tessera_wasm.js"));
for (const f of ["api.mjs", "browser.mjs"]) copyFileSync(join(npm, "src", f), join(dist, f));

// wasm-opt (npm `binaryen`, no download) on top of rustc's opt-level "z".
const wasmOpt = join(crate, "node_modules", ".bin", "wasm-opt");
const before = statSync(wasm).size;
execFileSync(wasmOpt, [wasm, "-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", "-o", join(dist, "tessera_wasm_bg.wasm")], {
  stdio: "inherit",
});

// dist/node.cjs: the API bundled to CommonJS with a synchronous instantiation.
const esbuild = join(crate, "node_modules", ".bin", "esbuild");
copyFileSync(join(npm, "src", "node-cjs.mjs"), join(dist, "node-cjs.mjs"));
execFileSync(
  esbuild,
  [join(dist, "node-cjs.mjs"), "--bundle", "--format=cjs", "--platform=node", "--target=node18",
    "--log-level=error", "--log-override:empty-import-meta=silent", `--outfile=${join(dist, "node.cjs")}`],
  { stdio: "inherit" },
);
rmSync(join(dist, "node-cjs.mjs"));

// dist/node.mjs: ESM names over the one CommonJS instance (no dual-package hazard).
const require = createRequire(import.meta.url);
const names = Object.keys(require(join(dist, "node.cjs"))).filter((n) => n !== "default" && n !== "__esModule");
writeFileSync(
  join(dist, "node.mjs"),
  `// Node ESM entry: the same module instance as require("tessera-policy"), so\n` +
    `// classes (and instanceof TesseraError) are one and the same in both.\n` +
    `import api from "./node.cjs";\n\n` +
    `export const {\n${names.map((n) => `  ${n},`).join("\n")}\n} = api;\n`,
);

// Size: what a browser downloads.
const bytes = readFileSync(join(dist, "tessera_wasm_bg.wasm"));
const gz = gzipSync(bytes, { level: 9 }).length;
const size = {
  wasm_bindgen_bytes: before,
  raw_bytes: bytes.length,
  gzip_bytes: gz,
  budget_gzip_bytes: BUDGET_GZIP_KIB * 1024,
  glue_js_bytes: statSync(join(dist, "tessera_wasm.js")).size,
  api_js_bytes: statSync(join(dist, "api.mjs")).size,
};
writeFileSync(join(pkg, "size.json"), JSON.stringify(size, null, 2) + "\n");
const kib = (n) => (n / 1024).toFixed(1);
console.log(
  `tessera-policy: .wasm ${kib(before)} KiB after wasm-bindgen, ${kib(bytes.length)} KiB after wasm-opt -Oz, ` +
    `${kib(gz)} KiB gzipped (budget ${BUDGET_GZIP_KIB} KiB); exports: ${names.join(", ")}`,
);
if (gz > BUDGET_GZIP_KIB * 1024) {
  const over = `assemble: the gzipped .wasm is ${kib(gz)} KiB, over the ${BUDGET_GZIP_KIB} KiB budget`;
  if (!(gz <= budgetKib * 1024)) {
    console.error(over);
    process.exit(1);
  }
  console.error(`${over}; ALLOWED for this run only by TESSERA_WASM_BUDGET_KIB=${override}`);
}
