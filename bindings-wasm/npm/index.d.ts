// Type declarations of `tessera-policy` in Node (the server module: decisions,
// provider JWTs, sessions, API tokens, the Realm), written by hand and checked
// by `tsc --noEmit` over a typed usage file in the package's tests. One file
// per concept under types/, as in src/.
//
// Shapes and codes follow the tessera SPEC; object keys are camelCase here
// (snake_case in Rust and Python), except inside the policy document, JWKS,
// JWKs and raw JWT `claims`, which are passed through exactly as written.
export * from "./types/shapes.js";
export * from "./types/errors.js";
export * from "./types/fastpath.js";
export { parseLabel, formatLabel, reasons, definePolicy } from "./types/engine.js";
export { parseAuthorization, verifyJws, verifyJwsSync, verifySignature, verifySignatureSync } from "./types/tokens.js";
export type { Jwk, Jwks, VerifiedPrincipal, VerifiedJws } from "./types/tokens.js";
export * from "./types/keyset.js";
export * from "./types/sessions.js";
export * from "./types/realm.js";
export * from "./types/postgres-store.js";
export * from "./types/analysis.js";
