// Entry for browsers and bundlers (Vite, webpack) and plain
// `<script type="module">`: fetches the .wasm next to this file, then exposes
// the API. The relative `new URL(..., import.meta.url)` is what bundlers
// recognise to ship the .wasm as an asset (esbuild and Rollup do not: they
// take `tessera-policy/inline`). A failed load does not reject the import:
// `ready` rejects and every call throws `wasm_load_failed`.
import init from "./tessera_wasm.js";
import { readiness, unloaded } from "./errors.mjs";

let failure = null;
try {
  await init({ module_or_path: new URL("./tessera_wasm_bg.wasm", import.meta.url) });
} catch (e) {
  failure = unloaded(e);
}

/** Resolves once the WebAssembly module is loaded; rejects with a TesseraError (`wasm_load_failed`) if it did not. */
export const ready = readiness(failure);

export * from "./api.mjs";
