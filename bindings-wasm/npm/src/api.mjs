// The public API of the server module (entry `tessera-policy` in Node):
// decisions, provider JWTs, sessions, API tokens and the Realm, over
// tessera_wasm.wasm with `node:crypto` as the signature primitive (installed by
// the entry, node-server.mjs). A thin layer over the raw wasm-bindgen exports
// that converts and decides nothing; one module per concept.
export * from "./common.mjs";
export { parseAuthorization, verifyJws, verifyJwsSync, verifySignature, verifySignatureSync } from "./tokens.mjs";
export { Engine, suspendApiToken, resumeApiToken, revokeApiToken } from "./sessions.mjs";
export { diff } from "./analysis.mjs";
export { Realm } from "./realm.mjs";
export { KeySet } from "./keyset.mjs";
export { SqliteStore, StoredRealm } from "./store.mjs";
export { PostgresStore, PostgresRealm } from "./postgres-store.mjs";
