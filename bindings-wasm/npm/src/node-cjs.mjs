// Source of dist/node.cjs (bundled to CommonJS at build time): instantiates the
// .wasm synchronously from disk, so `require("tessera-policy")` is ready at once.
// `__dirname` is CommonJS's own, valid in the bundled output (a bundle of this
// entry has no .wasm beside it: bundles take `tessera-policy/inline`). A failed
// load leaves `ready` rejected and every call throwing `wasm_load_failed`.
import { initSync } from "./tessera_wasm.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readiness, unloaded } from "./errors.mjs";

let failure = null;
try {
  initSync({ module: readFileSync(join(__dirname, "tessera_wasm_bg.wasm")) });
} catch (e) {
  failure = unloaded(e);
}

/** Resolves at once (the load was synchronous); rejects with `wasm_load_failed` if it failed. */
export const ready = readiness(failure);

export * from "./api.mjs";
