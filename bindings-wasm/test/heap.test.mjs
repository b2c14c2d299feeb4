// Loading a large document grows the module's memory a logarithmic number of
// times (issue 17: a policy of 200,000 roles took 50 s in Node, all of it in
// thousands of one-page `memory.grow`s, each costing in proportion to the
// memory already there). Counted, not timed: the module counts its grows.
// Run in a child process, so that the count starts from a fresh instance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../pkg/dist/", import.meta.url));

function load(roles) {
  const script = `
    import { initSync, memory_grows, wasm_memory, RawEngine } from ${JSON.stringify(dist + "tessera_wasm.js")};
    import { readFileSync } from "node:fs";
    initSync({ module: readFileSync(${JSON.stringify(dist + "tessera_wasm_bg.wasm")}) });
    const roles = {};
    for (let i = 0; i < ${roles}; i++) {
      roles["r" + i] = { inherits: i ? ["r" + (i - 1)] : [], permissions: ["read_device:d" + i] };
    }
    const text = JSON.stringify({ version: 1, roles });
    const before = memory_grows();
    new RawEngine(text);
    const mib = wasm_memory().buffer.byteLength / 2 ** 20;
    console.log(JSON.stringify({ grows: memory_grows() - before, mib, bytes: text.length }));
  `;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
}

test("a 2.5 MB policy of 30,000 roles grows the memory a few times, not once per page", () => {
  const { grows, mib } = load(30_000);
  // Each grow adds half the memory's size, so going from 1 MiB to `mib`
  // takes about 2 · log1.5(mib) grows (the reserve and the allocation that
  // asked for it); one grow per 64 KiB page would be hundreds.
  assert.ok(mib > 16, `the load used ${mib} MiB`);
  assert.ok(grows > 0, "the count works");
  const bound = 2 * Math.ceil(Math.log(mib) / Math.log(1.5)) + 4;
  assert.ok(grows <= bound, `${grows} grows for ${mib} MiB (at most ${bound})`);
});
