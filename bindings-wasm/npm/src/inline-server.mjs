// Entry `tessera-policy/inline` in Node (the server module): the .wasm is in
// the JavaScript (base64, written by scripts/assemble.mjs into
// wasm-inline.mjs), so a Node or Lambda bundle (esbuild, webpack, Rollup; CJS
// or ESM output) needs no `fs`, no `__dirname` and no .wasm beside it.
// `node:crypto` is the signature primitive, as in the plain Node entry.
import { initSync, install_host_crypto } from "./tessera_wasm.js";
import { readiness, unloaded } from "./errors.mjs";
import { decodeBase64 } from "./base64.mjs";
import { hostCrypto } from "./node-crypto.mjs";
import wasm from "./wasm-inline.mjs";

let failure = null;
try {
  initSync({ module: decodeBase64(wasm) });
  install_host_crypto(hostCrypto);
} catch (e) {
  failure = unloaded(e);
}

/** Resolves once the WebAssembly module is loaded; rejects with a TesseraError (`wasm_load_failed`) if it did not. */
export const ready = readiness(failure);

export * from "./api.mjs";
