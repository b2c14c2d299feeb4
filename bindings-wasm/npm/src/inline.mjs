// Entry `tessera-policy/inline` (browser and core modules): the .wasm is in
// the JavaScript (base64, written by scripts/assemble.mjs into
// wasm-inline.mjs) and instantiated synchronously, with no top-level await, no
// fetch and no file system. So it works in any bundler and output format
// (esbuild iife and esm, Rollup, a Lambda bundle) with nothing to copy. A
// failed load does not throw from the import: `ready` rejects and every call
// throws `wasm_load_failed`.
import { initSync } from "./tessera_wasm.js";
import { readiness, unloaded } from "./errors.mjs";
import { decodeBase64 } from "./base64.mjs";
import wasm from "./wasm-inline.mjs";

let failure = null;
try {
  initSync({ module: decodeBase64(wasm) });
} catch (e) {
  failure = unloaded(e);
}

/** Resolves once the WebAssembly module is loaded; rejects with a TesseraError (`wasm_load_failed`) if it did not. */
export const ready = readiness(failure);

export * from "./api.mjs";
