// The public API of `tessera-policy` (entry `tessera-policy`): decisions,
// tokens and the Realm. A thin layer over the raw wasm-bindgen exports of the
// `tessera-wasm` crate that converts and decides nothing; one module per
// concept (errors, convert, fastpath, engine, tokens, realm).
//
// The entry modules (node.cjs / node.mjs / browser.mjs) instantiate the
// WebAssembly module before anything here is called.
export {
  TesseraError,
  LabelError,
  PolicyError,
  TokenError,
  ArgumentError,
  RealmError,
  InternalError,
} from "./errors.mjs";
export { parseLabel, formatLabel } from "./engine.mjs";
export { PreparedPrincipal } from "./fastpath.mjs";
export { Engine, parseAuthorization, suspendApiToken, resumeApiToken, revokeApiToken } from "./tokens.mjs";
export { Realm } from "./realm.mjs";
