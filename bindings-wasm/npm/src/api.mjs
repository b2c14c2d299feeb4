// The public API of the server module (entry `tessera-policy` in Node):
// decisions, provider JWTs, sessions, API tokens and the Realm, over
// tessera_wasm.wasm with `node:crypto` as the signature primitive (installed by
// the entry, node-server.mjs). A thin layer over the raw wasm-bindgen exports
// that converts and decides nothing; one module per concept.
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
export { parseAuthorization, verifyJws, verifyJwsSync, verifySignature, verifySignatureSync } from "./tokens.mjs";
export { Engine, suspendApiToken, resumeApiToken, revokeApiToken } from "./sessions.mjs";
export { diff } from "./analysis.mjs";
export { Realm } from "./realm.mjs";
export { SqliteStore, StoredRealm } from "./store.mjs";
