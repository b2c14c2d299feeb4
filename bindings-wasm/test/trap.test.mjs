// A Rust panic traps the module (panic = "abort"); the panic hook records its
// message. Run in a child process: a trap leaves that module instance spent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../pkg/dist/", import.meta.url));

test("a panic traps with its message recorded, never as a JS value", () => {
  const script = `
    import { initSync, trap_for_tests, take_panic, parse_label } from ${JSON.stringify(dist + "tessera_wasm.js")};
    import { readFileSync } from "node:fs";
    initSync({ module: readFileSync(${JSON.stringify(dist + "tessera_wasm_bg.wasm")}) });
    let kind = "none";
    try { trap_for_tests("boom 42"); } catch (e) { kind = e instanceof WebAssembly.RuntimeError ? "trap" : String(e); }
    console.log(JSON.stringify({ kind, message: take_panic(), again: take_panic() }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
  assert.equal(out.kind, "trap");
  assert.match(out.message, /boom 42/);
  assert.equal(out.again, "");
});
