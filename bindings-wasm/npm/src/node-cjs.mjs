// Source of dist/node.cjs (bundled to CommonJS at build time): instantiates the
// .wasm synchronously from disk, so `require("tessera-policy")` is ready at once.
// `__dirname` is CommonJS's own, valid in the bundled output.
import { initSync } from "./tessera_wasm.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

initSync({ module: readFileSync(join(__dirname, "tessera_wasm_bg.wasm")) });

export * from "./api.mjs";
