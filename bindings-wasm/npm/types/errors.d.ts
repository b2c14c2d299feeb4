// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// Every error this package throws, and the stable codes (SPEC).

export type ErrorKind = "label" | "policy" | "token" | "argument" | "realm" | "internal";

/** One problem found while loading a policy. */
export interface Problem {
  code: string;
  message: string;
  /** JSON path in the policy, e.g. `roles.admin.permissions[2]`. */
  path: string;
}

/** Label error codes (SPEC §1). */
export type LabelErrorCode = "syntax" | "unknown_action" | "unknown_subject" | "own_with_instance" | "too_long";

/** Token error codes (SPEC §6). */
export type TokenErrorCode =
  | "too_large"
  | "malformed"
  | "unsupported_alg"
  | "unsupported_crit"
  | "unknown_key"
  | "weak_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_token_use"
  | "wrong_client"
  | "wrong_audience"
  | "wrong_type"
  | "jwks_unavailable"
  | "too_old"
  | "missing_claim"
  | "session_ended"
  | "revoked"
  | "unknown_token"
  | "suspended"
  | "invalid_transition"
  | "unsupported_runtime";

/** Every error this package throws. */
export class TesseraError extends Error {
  readonly kind: ErrorKind;
  /** Stable machine code (`syntax`, `invalid_policy`, `expired`, `invalid_argument`, ...). */
  readonly code: string;
  /** JSON path of the fault, where there is one. */
  readonly path?: string;
  /** Byte offset of the fault in a label, where there is one. */
  readonly offset?: number;
  /** Every problem of a failed policy load; empty otherwise. */
  readonly problems: Problem[];
}
export class LabelError extends TesseraError {
  readonly kind: "label";
  readonly code: LabelErrorCode;
}
export class PolicyError extends TesseraError {
  readonly kind: "policy";
}
export class TokenError extends TesseraError {
  readonly kind: "token";
  readonly code: TokenErrorCode;
}
export class ArgumentError extends TesseraError {
  readonly kind: "argument";
  readonly code: "invalid_argument";
}
export class RealmError extends TesseraError {
  readonly kind: "realm";
}
/**
 * The WebAssembly module failed: a trap (`internal`, a bug) or a module that
 * did not load (`wasm_load_failed`: a missing .wasm, or a page whose
 * Content-Security-Policy lacks 'wasm-unsafe-eval'); every later call throws this too.
 */
export class InternalError extends TesseraError {
  readonly kind: "internal";
  readonly code: "internal" | "wasm_load_failed";
}

/**
 * Resolves once the entry's WebAssembly module is loaded (at once in Node and
 * with `tessera-policy/inline`); rejects with an `InternalError` of code
 * `wasm_load_failed` if it did not load, the error every call then throws.
 */
export declare const ready: Promise<void>;
