// Source of dist/node.cjs for the server module (bundled to CommonJS at build
// time): instantiates the .wasm synchronously from disk and installs
// `node:crypto` as the signature primitive before anything is exported. A
// failed load leaves `ready` rejected and every call throwing `wasm_load_failed`.
import { initSync, install_host_crypto } from "./tessera_wasm.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hostCrypto } from "./node-crypto.mjs";
import { readiness, unloaded } from "./errors.mjs";

let failure = null;
try {
  initSync({ module: readFileSync(join(__dirname, "tessera_wasm_bg.wasm")) });
  install_host_crypto(hostCrypto);
} catch (e) {
  failure = unloaded(e);
}

/** Resolves at once (the load was synchronous); rejects with `wasm_load_failed` if it failed. */
export const ready = readiness(failure);

export * from "./api.mjs";
