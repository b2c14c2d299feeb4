// Size and start-up of the three WebAssembly modules: gzipped bytes (from
// pkg/size.json) and the time to compile and instantiate each, in Node
// (`new WebAssembly.Module` + `initSync`, in a fresh process per sample) and
// in headless Chromium (`WebAssembly.compile` + `init`, in a fresh page).
//
//   node bench/startup.mjs                 print the figures
//   node bench/startup.mjs --write FILE    also rewrite the section "## WebAssembly modules: size and start-up" of FILE
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { serve } from "../testkit/serve.mjs";
import { launch, open } from "../testkit/chromium.mjs";
import { writeSection } from "./report.mjs";

const write = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : null;
const load = loadavg()[0].toFixed(1);
const pkg = fileURLToPath(new URL("../pkg/", import.meta.url));
const sizes = JSON.parse(readFileSync(pkg + "size.json", "utf8"));
const MODULES = [
  { name: "server", dir: "dist/", stem: "tessera_wasm", entry: "tessera-policy in Node" },
  { name: "browser", dir: "dist/browser/", stem: "tessera_browser", entry: "tessera-policy in browsers and bundlers" },
  { name: "core", dir: "dist/core/", stem: "tessera_core", entry: "tessera-policy/core" },
];
const SAMPLES = 7;
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function nodeTimes(m) {
  const glue = pkg + m.dir + m.stem + ".js";
  const wasm = pkg + m.dir + m.stem + "_bg.wasm";
  const script = `
    import { readFileSync } from "node:fs";
    const { initSync } = await import(${JSON.stringify(glue)});
    const bytes = readFileSync(${JSON.stringify(wasm)});
    const t0 = performance.now();
    const module = new WebAssembly.Module(bytes);
    const t1 = performance.now();
    initSync({ module });
    const t2 = performance.now();
    console.log(JSON.stringify([t1 - t0, t2 - t1]));`;
  const runs = [];
  for (let i = 0; i < SAMPLES; i++) runs.push(JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" })));
  return { compile: median(runs.map((r) => r[0])), instantiate: median(runs.map((r) => r[1])) };
}

async function chromiumTimes(browser, url, m) {
  const runs = [];
  for (let i = 0; i < SAMPLES; i++) {
    const { page } = await open(browser, url);
    runs.push(
      await page.evaluate(async ({ dir, stem }) => {
        const glue = await import(`/pkg/${dir}${stem}.js`);
        const bytes = await (await fetch(`/pkg/${dir}${stem}_bg.wasm`)).arrayBuffer();
        const t0 = performance.now();
        const module = await WebAssembly.compile(bytes);
        const t1 = performance.now();
        await glue.default({ module_or_path: module });
        const t2 = performance.now();
        return [t1 - t0, t2 - t1];
      }, m),
    );
    await page.close();
  }
  return { compile: median(runs.map((r) => r[0])), instantiate: median(runs.map((r) => r[1])) };
}

const rows = [];
const server = await serve({ "/": fileURLToPath(new URL("../../conformance/browser/", import.meta.url)), "/pkg/": pkg });
const browser = await launch();
try {
  for (const m of MODULES) {
    const s = sizes[m.name];
    rows.push({ ...m, gz: s.gzip_bytes / 1024, raw: s.raw_bytes / 1024, budget: s.budget_gzip_bytes / 1024, node: nodeTimes(m), chromium: await chromiumTimes(browser, server.url + "/", m) });
  }
} finally {
  await browser.close();
  await server.close();
}
const table = [
  "| module (entry) | .wasm gzipped | raw | budget | Node compile + instantiate | Chromium compile + instantiate |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    (r) =>
      `| ${r.name} (\`${r.entry}\`) | ${r.gz.toFixed(1)} KiB | ${r.raw.toFixed(1)} KiB | ${r.budget} KiB | ${r.node.compile.toFixed(1)} + ${r.node.instantiate.toFixed(1)} ms | ${r.chromium.compile.toFixed(1)} + ${r.chromium.instantiate.toFixed(1)} ms |`,
  ),
].join("\n");
console.log(table);
if (write) {
  const section = [
    "Command: `make bench-wasm` (`node bench/startup.mjs --write BENCHMARKS.md` in `bindings-wasm/`),",
    `${process.version}, Debian Chromium (headless), ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${load}.`,
    `Medians of ${SAMPLES} fresh processes (Node: \`new WebAssembly.Module\`, then \`initSync\`) and`,
    `${SAMPLES} fresh pages (Chromium: \`WebAssembly.compile\`, then the glue's \`init\`). None of the`,
    "three holds RSA, ECDSA or Ed25519 code (SPEC §6.1.1); Argon2id is in the server module only.",
    "",
    table,
    "",
  ].join("\n");
  writeSection(write, "## WebAssembly modules: size and start-up", section);
}
