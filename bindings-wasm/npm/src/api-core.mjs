// The public API of the decisions-only entry `tessera-policy/core` (over
// tessera_core.wasm): the decision modules of api.mjs, without tokens and the
// Realm.
export {
  TesseraError,
  LabelError,
  PolicyError,
  TokenError,
  ArgumentError,
  RealmError,
  InternalError,
} from "./errors.mjs";
export { parseLabel, formatLabel, definePolicy } from "./engine.mjs";
export { PreparedPrincipal } from "./fastpath.mjs";
export { Engine } from "./engine.mjs";
