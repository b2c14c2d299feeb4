// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// Shapes and codes follow the tessera SPEC; object keys are camelCase here
// (snake_case in Rust and Python), except inside the policy document, JWKS,
// JWKs and raw JWT `claims`, which are passed through exactly as written.
//
// `core.d.ts` (the entry `tessera-policy/core`) is this file without the
// lines between `// #if tokens` and `// #endif` (scripts/assemble.mjs).

// ------------------------------------------------------------------ inputs

/** How a principal proved who it is. */
export type Credential = "jwt" | "session" | "api_token";

/** Who is asking (SPEC §3). Token verification returns one, ready to authorize. */
export interface Principal {
  id?: string;
  roles?: string[];
  groups?: string[];
  /** Labels held by the principal itself (source `principal`). */
  permissions?: string[];
  scopes?: string[];
  /** When present, every allowed request must also match one of these labels. */
  limits?: string[];
  credential?: Credential;
  /** Seconds since the epoch at which the credential stops being valid. */
  expiresAt?: number;
  /** The session this principal came from (session credentials only). */
  sessionId?: string;
  /** The API token this principal came from, directly or through a session. */
  apiTokenId?: string;
  /** The verified claims of a provider JWT, untouched (keys as in the token). */
  claims?: Record<string, unknown>;
}

/** What is acted on. Without `id` and owners it is type-level (listing, creating). */
export interface Resource {
  type: string;
  id?: string;
  owner?: string;
  owners?: string[];
}

/** What the caller knows about the resource an operation acts on (SPEC §5). */
export interface OperationContext {
  /** Used when the route has no `{id}` parameter (RPC operations). */
  id?: string;
  owner?: string;
  owners?: string[];
}

/** A policy document (SPEC §2), passed through verbatim (snake_case keys). */
export interface PolicyDocument {
  version: 1;
  actions?: string[];
  subjects?: string[];
  roles?: Record<string, { permissions?: string[]; inherits?: string[] }>;
  groups?: Record<string, string[]>;
  grants?: Array<{ principal: string; permissions: string[] }>;
  operations?: Record<string, OperationEntry>;
  tokens?: {
    jwt?: {
      issuers?: string[];
      client_ids?: string[];
      audiences?: string[];
      token_use?: string[];
      algorithms?: string[];
      leeway_seconds?: number;
      max_age_seconds?: number | null;
      claims?: { id?: string; groups?: string; scopes?: string };
    };
    session?: { ttl_seconds?: number; max_lifetime_seconds?: number };
  };
}

/** One entry of `policy.operations`. */
export interface OperationEntry {
  access?:
    | "public"
    | "authenticated"
    | { groups_all?: string[]; roles_any?: string[]; scopes_any?: string[] };
  credential?: Credential;
  permission?: string;
}

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

/** Options of `issueSession`. */
export interface SessionOptions {
  /** Drawn at random (22 base62 characters) when absent. */
  sessionId?: string;
  /** The API token the session was opened with (default: the principal's). */
  apiTokenId?: string;
  /** Labels narrowing the session (default: the principal's `limits`). */
  limits?: string[];
  /** The host's restart counter at issue (default 0). */
  epoch?: number;
}

/** Sessions a host has ended (SPEC §6.2). */
export interface Revocations {
  sessions?: string[];
  subjects?: string[];
  apiTokens?: string[];
  /** Sessions issued with a lower epoch are dead (a restart). */
  epoch?: number;
}

/** Options of `createApiToken`. */
export interface ApiTokenOptions {
  /** Seconds until the token expires; absent: it does not expire. */
  lifespanSeconds?: number;
  limits?: string[];
}

/** Seconds since the Unix epoch; when omitted the clock is read. */
export type Seconds = number;

// ----------------------------------------------------------------- results

export type Reason =
  | "allowed"
  | "denied"
  | "no_match"
  | "limited"
  | "invalid_request"
  | "public"
  | "unauthenticated"
  | "missing_group"
  | "missing_role"
  | "missing_scope"
  | "wrong_credential"
  | "unknown_operation";

/** `principal`, `grant`, or `role:NAME`. */
export type Source = "principal" | "grant" | `role:${string}`;

/** The answer to "may this principal do this?" (SPEC §4). */
export interface Decision {
  allowed: boolean;
  reason: Reason;
  /** The label that decided: the first matching deny, else the first matching allow. */
  rule: string | null;
  source: Source | null;
  /** Why the request is invalid (only with `invalid_request`). */
  message?: string;
}

/** One rule that matched a request. */
export interface MatchedRule {
  rule: string;
  source: Source;
  effect: "allow" | "deny";
}

/** A decision with everything that led to it. */
export interface Explanation extends Decision {
  effectiveRoles: string[];
  unknownRoles: string[];
  matched: MatchedRule[];
}

/** A parsed permission label (SPEC §1). */
export interface Label {
  effect: "allow" | "deny";
  /** An action of the policy, or `admin` for every action. */
  action: string;
  own: boolean;
  /** `null` only for bare `admin` / `admin_own`. */
  subject: string | null;
  instance: string | null;
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

/** What issuing or renewing a session returns. */
export interface SessionGrant {
  token: string;
  sessionId: string;
  expiresAt: number;
  renewableUntil: number;
}

export type ApiTokenState = "active" | "suspended" | "revoked";

/** What a host stores for an API token (never the secret). */
export interface ApiTokenRecord {
  id: string;
  owner: string;
  roles: string[];
  limits: string[] | null;
  state: ApiTokenState;
  createdAt: number;
  expiresAt: number | null;
  /** Lowercase hex SHA-256 of the whole token text. */
  hash: string;
}

/** A freshly made API token: show `secret` once, store `record`. */
export interface NewApiToken {
  /** `tsr_<id>_<secret>`. */
  secret: string;
  record: ApiTokenRecord;
}

// ------------------------------------------------------------------ errors

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
  | "too_old"
  | "missing_claim"
  | "session_ended"
  | "revoked"
  | "unknown_token"
  | "suspended"
  | "invalid_transition";

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
/** The WebAssembly module failed (a bug); every later call throws this too. */
export class InternalError extends TesseraError {
  readonly kind: "internal";
}

// --------------------------------------------------------------------- API

/** Parses a label with the default actions and subjects. Throws `LabelError`. */
export function parseLabel(text: string): Label;

// #if tokens
/** The token of an `Authorization` header value. Throws `TokenError` (`malformed`). */
export function parseAuthorization(header: string): string;

/** active → suspended, as a new record. Throws `TokenError` (`invalid_transition`). */
export function suspendApiToken(record: ApiTokenRecord): ApiTokenRecord;
/** suspended → active, as a new record. */
export function resumeApiToken(record: ApiTokenRecord): ApiTokenRecord;
/** active or suspended → revoked (final), as a new record. */
export function revokeApiToken(record: ApiTokenRecord): ApiTokenRecord;

// #endif
/** One request of `authorizeBatch`: the arguments of `isAllowed`. */
export type BatchRequest =
  | readonly [action: string, type: string]
  | readonly [action: string, type: string, id: string | null | undefined]
  | readonly [action: string, type: string, id: string | null | undefined, owner: string | null | undefined];

/** A loaded, compiled policy and every decision and token check made with it. */
export class Engine {
  /** Loads a policy (object or JSON text). Throws `PolicyError` with every problem. */
  constructor(policy: PolicyDocument | string);

  /** Replaces the policy atomically; on error the old one stays in force. */
  load(policy: PolicyDocument | string): void;
  /** Parses a label against this policy's actions and subjects. */
  parseLabel(text: string): Label;

  authorize(principal: Principal, action: string, resource: Resource): Decision;
  explain(principal: Principal, action: string, resource: Resource): Explanation;
  /** The allowed actions on `resource`, in the policy's order. */
  capabilities(principal: Principal, resource: Resource): string[];
  /** `principal` null: an anonymous caller. */
  authorizeOperation(principal: Principal | null, operation: string, context?: OperationContext | null): Decision;

  /** Resolves a principal once for many fast checks. */
  prepare(principal: Principal): PreparedPrincipal;
  /** One boolean per `[action, type, id?, owner?]` request, in one call (the fast path, batched). */
  authorizeBatch(prepared: PreparedPrincipal, requests: readonly BatchRequest[]): boolean[];

// #if tokens
  verifyJwt(token: string, jwks: Jwks | string, now?: Seconds | null): VerifiedPrincipal;
  issueSession(principal: Principal, key: Jwk | string, now?: Seconds | null, options?: SessionOptions | null): SessionGrant;
  renewSession(token: string, key: Jwk | string, now?: Seconds | null, revocations?: Revocations | null): SessionGrant;
  verifySession(token: string, key: Jwk | string, now?: Seconds | null, revocations?: Revocations | null): VerifiedPrincipal;
  createApiToken(owner: string, roles: readonly string[], now?: Seconds | null, options?: ApiTokenOptions | null): NewApiToken;
  verifyApiToken(secret: string, records: readonly ApiTokenRecord[], now?: Seconds | null): VerifiedPrincipal;
  /** A new token with the old one's owner, roles, limits and lifespan, and the old record revoked. */
  replaceApiToken(record: ApiTokenRecord, now?: Seconds | null): [created: NewApiToken, revoked: ApiTokenRecord];

// #endif
  /** Releases the WebAssembly memory now rather than at garbage collection. */
  free(): void;
}

/** A principal resolved once against an engine's policy: the fast path. */
export class PreparedPrincipal {
  private constructor();
  /** Strings in, a boolean out; no objects are converted. */
  isAllowed(action: string, type: string, id?: string | null, owner?: string | null): boolean;
  /** The full decision. */
  authorize(action: string, resource: Resource): Decision;
  /** The principal this was prepared from. */
  readonly principal: Principal;
  /** The effective roles, breadth-first from the principal's own. */
  readonly effectiveRoles: string[];
  free(): void;
}

// #if tokens
// ------------------------------------------------------------------- realm

/** Argon2id costs of a realm's password hashes. Defaults: m=19456 KiB, t=2, p=1. */
export interface Argon2Options {
  memoryKib?: number;
  iterations?: number;
  parallelism?: number;
}

/** Options of `new Realm` and `Realm.restore`. */
export interface RealmOptions {
  argon2?: Argon2Options;
  /** A JWKS (passed verbatim): provider JWTs are then accepted by `authenticate`. */
  jwks?: Jwks;
}

/** Options of `realm.createUser`. */
export interface UserOptions {
  /** 1–128 characters of `A-Z a-z 0-9 - _ . @ ~`; random when absent. */
  id?: string;
}

/** A user as the realm shows it (never the password hash). */
export interface User {
  id: string;
  username: string;
  /** The roles given to the user (not closed under `inherits`). */
  roles: string[];
  hasPassword: boolean;
  createdAt: number;
}

/** A snapshot document, verbatim (snake_case, as in Rust and Python). Keep it secret. */
export interface RealmSnapshot {
  version: number;
  bootstrapped: boolean;
  epoch: number;
  users: Array<{ id: string; username: string; roles: string[]; password_hash: string | null; created_at: number }>;
  api_tokens: Array<Record<string, unknown>>;
  sessions: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * Users, password hashes, API token records and live sessions (SPEC §7).
 * `actor` is the principal acting (normally what `authenticate` returned),
 * or null for an anonymous caller.
 */
export class Realm {
  /** An empty realm. `key`: the JWK sessions are signed with (HS256 `oct` of 32+ bytes, or Ed25519 `OKP` with `d`). */
  constructor(policy: PolicyDocument | string, key: Jwk | string, options?: RealmOptions | null);
  /** The realm a snapshot describes (object or JSON text). */
  static restore(
    policy: PolicyDocument | string,
    snapshot: RealmSnapshot | string,
    key: Jwk | string,
    options?: RealmOptions | null,
  ): Realm;

  /** Everything the realm holds, verbatim (password hashes included). */
  snapshot(): RealmSnapshot;
  /** The realm's engine, shared (not a copy): `load` on it changes the realm's rules. */
  readonly engine: Engine;

  createUser(
    actor: Principal | null,
    username: string,
    password?: string | null,
    options?: UserOptions | null,
    now?: Seconds | null,
  ): User;
  getUser(actor: Principal | null, userId: string): User;
  listUsers(actor: Principal | null): User[];
  setRoles(actor: Principal | null, userId: string, roles: readonly string[]): User;
  /** `password` null removes it (the user can then not log in). */
  setPassword(actor: Principal | null, userId: string, password: string | null): void;
  /** Ends the user's sessions and revokes its API tokens. */
  deleteUser(actor: Principal | null, userId: string): void;
  /** Throws `RealmError` `invalid_credentials` for an unknown user and a wrong password alike. */
  login(username: string, password: string, now?: Seconds | null): SessionGrant;

  /** `roles` null or omitted: the owner's roles. */
  createApiToken(
    actor: Principal | null,
    owner: string,
    roles?: readonly string[] | null,
    options?: ApiTokenOptions | null,
    now?: Seconds | null,
  ): NewApiToken;
  listApiTokens(actor: Principal | null, owner?: string | null): ApiTokenRecord[];
  suspendApiToken(actor: Principal | null, tokenId: string): ApiTokenRecord;
  resumeApiToken(actor: Principal | null, tokenId: string): ApiTokenRecord;
  /** Ends the sessions opened with the token. */
  revokeApiToken(actor: Principal | null, tokenId: string): ApiTokenRecord;
  /** A new token like the old one; the old one is revoked. */
  replaceApiToken(actor: Principal | null, tokenId: string, now?: Seconds | null): NewApiToken;

  /** A session opened with an API token secret (Eva's `POST /api/v1/auth`). */
  openSession(apiTokenSecret: string, now?: Seconds | null): SessionGrant;
  renew(token: string, now?: Seconds | null): SessionGrant;
  close(token: string, now?: Seconds | null): void;
  /** Ends every session. */
  restart(): void;
  /** The principal of an `Authorization` header value (`Bearer <t>` or a bare token). */
  authenticate(header: string, now?: Seconds | null): VerifiedPrincipal;

  /** Releases the WebAssembly memory now (`realm.engine` stays usable). */
  free(): void;
}
// #endif
