// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// Sessions and API tokens (SPEC §6.2, §6.3): the server module (Node) only.
import type { Principal, Seconds } from "./shapes.js";
import type { Jwk, VerifiedPrincipal } from "./tokens.js";
import { Engine as JwtEngine } from "./tokens.js";

/** A session signing key: a JWK (object or JSON text), or a raw HS256 secret of 32 bytes or more. */
export type SessionKey = Jwk | string | Uint8Array;

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

/** active → suspended, as a new record. Throws `TokenError` (`invalid_transition`). */
export function suspendApiToken(record: ApiTokenRecord): ApiTokenRecord;
/** suspended → active, as a new record. */
export function resumeApiToken(record: ApiTokenRecord): ApiTokenRecord;
/** active or suspended → revoked (final), as a new record. */
export function revokeApiToken(record: ApiTokenRecord): ApiTokenRecord;

/** A loaded, compiled policy and every decision and token check made with it. */
export class Engine extends JwtEngine {
  issueSession(principal: Principal, key: SessionKey, now?: Seconds | null, options?: SessionOptions | null): SessionGrant;
  renewSession(token: string, key: SessionKey, now?: Seconds | null, revocations?: Revocations | null): SessionGrant;
  verifySession(token: string, key: SessionKey, now?: Seconds | null, revocations?: Revocations | null): VerifiedPrincipal;
  createApiToken(owner: string, roles: readonly string[], now?: Seconds | null, options?: ApiTokenOptions | null): NewApiToken;
  verifyApiToken(secret: string, records: readonly ApiTokenRecord[], now?: Seconds | null): VerifiedPrincipal;
  /** A new token with the old one's owner, roles, limits and lifespan, and the old record revoked. */
  replaceApiToken(record: ApiTokenRecord, now?: Seconds | null): [created: NewApiToken, revoked: ApiTokenRecord];
}
