// Type declarations of `tessera-policy/core`: decisions only (no tokens, no
// Realm). The same declarations as index.d.ts, less tokens and the Realm.
export * from "./types/shapes.js";
export * from "./types/errors.js";
export * from "./types/fastpath.js";
export * from "./types/engine.js";
