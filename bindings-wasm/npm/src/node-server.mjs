// Source of dist/node.cjs for the server module (bundled to CommonJS at build
// time): instantiates the .wasm synchronously from disk and installs
// `node:crypto` as the signature primitive before anything is exported.
import { initSync, install_host_crypto } from "./tessera_wasm.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hostCrypto } from "./node-crypto.mjs";

initSync({ module: readFileSync(join(__dirname, "tessera_wasm_bg.wasm")) });
install_host_crypto(hostCrypto);

export * from "./api.mjs";
