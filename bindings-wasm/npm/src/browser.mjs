// Entry for browsers and bundlers (Vite, webpack, Rollup) and plain
// `<script type="module">`: fetches the .wasm next to this file, then exposes
// the API. The relative `new URL(..., import.meta.url)` is what bundlers
// recognise to ship the .wasm as an asset.
import init from "./tessera_wasm.js";

await init({ module_or_path: new URL("./tessera_wasm_bg.wasm", import.meta.url) });

export * from "./api.mjs";
