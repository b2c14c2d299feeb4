// A core driver for the random differential made of the npm package (Node
// ESM entry): reads cases as JSON lines on stdin (the vector case format
// without `expect`; a line's `policy` stays in force for the lines after it)
// and prints one JSON line per case, `{"ok": result}`, `{"error": {code, ...}}`
// or `{"fault": message}`, exactly as conformance/src/bin/differential.rs does
// for the Rust core. Every `authorize` case also checks the fast path and its
// cache (see conformance/README.md), over far more shapes than the vectors.
//
//   .venv/bin/python conformance/random/differential.py \
//       --core "node conformance/node/differential_driver.mjs" --n 10000 --seed 1
import { createInterface } from "node:readline";
import * as tessera from "../../bindings-wasm/pkg/dist/node.mjs";
import { Runner } from "../js/dispatch.mjs";

const runner = new Runner(tessera, { sync: true });
let policy = null;
const out = [];
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === "") continue;
  let reply;
  try {
    const c = JSON.parse(line);
    if ("policy" in c) policy = c.policy;
    reply = await runner.run(c, policy);
  } catch (e) {
    reply = { fault: `bad JSON line: ${e.message}` };
  }
  out.push(JSON.stringify(reply));
  if (out.length >= 256) process.stdout.write(out.splice(0).join("\n") + "\n");
}
if (out.length) process.stdout.write(out.join("\n") + "\n");
