// Type declarations of the framework integrations' shared guard
// (tessera-policy/express, tessera-policy/fastify).
import type { OperationContext, Principal } from "./shapes.js";
import type { KeySet } from "./keyset.js";
import type { Jwks } from "./tokens.js";

/** What the guard verifies provider JWTs against: a KeySet (fetched and rotated), or a JWKS given as a value or JSON text. */
export type GuardKeys = KeySet | Jwks | string;

/** What an owners hook may answer: nothing (type level), one owner, several, or a whole context. */
export type OwnersAnswer = null | undefined | string | string[] | OperationContext;

/** Anything with the operations table and, with `keys`, `verifyJwt` (an `Engine`). */
export interface GuardEngine {
  authorizeOperation(principal: Principal | null, operation: string, context?: OperationContext): { allowed: boolean; reason: string };
  verifyJwt?(token: string, keys: GuardKeys, now?: number): Principal | Promise<Principal>;
}

/** Options of `tessera(...)` in both integrations (give one of realm, keys, authenticate). */
export interface GuardOptions<Req> {
  /** The engine whose operations table decides (default: `realm.engine`). */
  engine?: GuardEngine;
  /** Authenticates sessions, API tokens and, when it holds a key set, provider JWTs. */
  realm?: { engine: GuardEngine; authenticate(header: string, now?: number): Principal };
  /** A KeySet or JWKS for provider JWTs when there is no realm. */
  keys?: GuardKeys;
  /** Any other authenticator; throws a TokenError (or an error with `kind: "token"`). */
  authenticate?: (header: string) => Principal | Promise<Principal>;
  /** Who owns what the request acts on. */
  owners?: (request: Req) => OwnersAnswer | Promise<OwnersAnswer>;
  /** `"not_found"` (default): 404 for a request not in the table; `"pass"`: through, unauthenticated. */
  unknown?: "not_found" | "pass";
  /** A clock in whole seconds, for tests. */
  now?: () => number;
}

/** The answer for one request. */
export declare class Outcome {
  readonly status: 200 | 400 | 401 | 403 | 404;
  readonly principal: Principal | null;
  readonly code: string | null;
  readonly reason: string | null;
  readonly operation: string;
  readonly allowed: boolean;
  readonly body: { error: string; reason?: string };
  readonly headers: Record<string, string>;
}

/** The framework-neutral check both integrations use. */
export declare class Guard {
  constructor(options: GuardOptions<unknown>);
  operation(method: string, rawUrl: string): string;
  anonymous(operation: string): Outcome | null;
  authenticate(values: string[] | undefined, operation?: string): Promise<Principal | Outcome>;
  /**
   * `authenticate` without a promise when nothing needs waiting; a promise when
   * the key set must fetch, the runtime has no synchronous primitive, or the
   * authenticator answers with one.
   */
  authenticateNow(values: string[] | undefined, operation?: string): Principal | Outcome | Promise<Principal | Outcome>;
  /**
   * `verified`: the principal came from the package's own realm or key set;
   * the engine is then asked without its raw `claims`, which no decision reads.
   */
  decide(principal: Principal, operation: string, owners?: OwnersAnswer, verified?: boolean): Outcome;
  check(method: string, rawUrl: string, known: { operation: string; early: Outcome | null } | undefined, authorization: string[] | undefined, owners?: () => OwnersAnswer | Promise<OwnersAnswer>): Promise<Outcome>;
  /** `check` without a promise when nothing needs waiting (see `authenticateNow`; also an owners hook's promise). */
  checkNow(method: string, rawUrl: string, known: { operation: string; early: Outcome | null } | undefined, authorization: string[] | undefined, owners?: () => OwnersAnswer | Promise<OwnersAnswer>): Outcome | Promise<Outcome>;
}
