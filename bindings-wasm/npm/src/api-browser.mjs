// The public API of the browser module (entry `tessera-policy` in browsers,
// bundlers and other runtimes): decisions, operations and provider-JWT checks
// over tessera_browser.wasm, signatures by WebCrypto (SPEC §6.1.1). Nothing
// here needs a secret or a password hash: sessions, API tokens and the Realm
// are the server module's.
export * from "./common.mjs";
export { Engine, parseAuthorization, verifyJws, verifyJwsSync, verifySignature, verifySignatureSync } from "./tokens.mjs";
export { KeySet } from "./keyset.mjs";
