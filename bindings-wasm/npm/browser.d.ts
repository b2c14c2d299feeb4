// Type declarations of `tessera-policy` in browsers, bundlers and other
// runtimes (the browser module: decisions, operations, provider JWTs; no
// sessions, API tokens or Realm, which need a secret: SPEC §6.1.1).
export * from "./types/shapes.js";
export * from "./types/errors.js";
export * from "./types/fastpath.js";
export { parseLabel, formatLabel, reasons, definePolicy } from "./types/engine.js";
export * from "./types/tokens.js";
export * from "./types/keyset.js";
