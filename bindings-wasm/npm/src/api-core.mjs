// The public API of the decisions-only entry `tessera-policy/core` (over
// tessera_core.wasm): the decision modules of api.mjs, without tokens and the
// Realm.
export * from "./common.mjs";
export { Engine } from "./engine.mjs";
