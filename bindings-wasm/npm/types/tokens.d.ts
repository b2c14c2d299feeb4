// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// Provider JWTs (SPEC §6.1) and `Authorization` headers: the browser and the
// server modules. JWKS, JWKs and raw JWT `claims` are passed through exactly
// as written. Signatures are the host's (SPEC §6.1.1): `node:crypto` where it
// exists, WebCrypto elsewhere.
import type { Credential, Principal, Seconds } from "./shapes.js";
import { Engine as DecisionEngine } from "./engine.js";
import type { KeySet } from "./keyset.js";

/** A JSON Web Key, verbatim (`kty`, `kid`, `alg`, `use`, `n`, `e`, `crv`, `x`, `y`, `k`, `d`, ...). */
export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set, verbatim. */
export interface Jwks {
  keys: Jwk[];
}

/** A verified credential's principal: always has an id and a credential kind. */
export interface VerifiedPrincipal extends Principal {
  id: string;
  roles: string[];
  groups: string[];
  permissions: string[];
  scopes: string[];
  credential: Credential;
}

/** A compact JWS whose signature verified (payload not read as claims). */
export interface VerifiedJws {
  header: Record<string, unknown>;
  payload: Uint8Array;
  algorithm: string;
}

/** The token of an `Authorization` header value. Throws `TokenError` (`malformed`). */
export function parseAuthorization(header: string): string;

/** The signature layer of `verifyJwt` for any compact JWS. Needs `node:crypto` (else `unsupported_runtime`). */
export function verifyJwsSync(token: string, jwks: Jwks | string, algorithms?: readonly string[] | null): VerifiedJws;
/** `verifyJwsSync` as a promise, in every runtime (WebCrypto where `node:crypto` is missing). */
export function verifyJws(token: string, jwks: Jwks | string, algorithms?: readonly string[] | null): Promise<VerifiedJws>;
/** One signature with one JWK through the key checks every token takes; throws `TokenError` unless it verifies. */
export function verifySignatureSync(algorithm: string, jwk: Jwk | string, message: Uint8Array, signature: Uint8Array): void;
export function verifySignature(algorithm: string, jwk: Jwk | string, message: Uint8Array, signature: Uint8Array): Promise<void>;

/** A loaded, compiled policy and every decision and provider-JWT check made with it. */
export class Engine extends DecisionEngine {
  /**
   * Verifies a provider JWT; a promise in every runtime (WebCrypto where `node:crypto` is missing).
   * With a KeySet it fetches when the set says so (first use, cache time over, an unknown `kid`).
   */
  verifyJwt(token: string, jwks: KeySet | Jwks | string, now?: Seconds | null): Promise<VerifiedPrincipal>;
  /**
   * The same answer synchronously; needs `node:crypto` (`TokenError` `unsupported_runtime` elsewhere).
   * Never fetches: a KeySet that needs a fetch is `jwks_unavailable`.
   */
  verifyJwtSync(token: string, jwks: KeySet | Jwks | string, now?: Seconds | null): VerifiedPrincipal;
}
