// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// The Realm (SPEC §7).
import type { PolicyDocument, Principal, Seconds } from "./shapes.js";
import type { Jwk, Jwks, VerifiedPrincipal } from "./tokens.js";
import type { KeySet } from "./keyset.js";
import type { ApiTokenOptions, ApiTokenRecord, Engine, NewApiToken, SessionGrant, SessionKey } from "./sessions.js";
import type { PostgresRealm, PostgresRealmOptions, PostgresStore, PostgresUrl } from "./postgres-store.js";

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
  /**
   * A JWKS (passed verbatim) or a KeySet (rotates without a rebuild; `authenticateAsync`
   * fetches for it): provider JWTs are then accepted by `authenticate`.
   */
  jwks?: Jwks | KeySet | null;
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
  constructor(policy: PolicyDocument | string, key: SessionKey, options?: RealmOptions | null);
  /** The realm a snapshot describes (object or JSON text). */
  static restore(
    policy: PolicyDocument | string,
    snapshot: RealmSnapshot | string,
    key: SessionKey,
    options?: RealmOptions | null,
  ): Realm;

  /**
   * A realm kept in PostgreSQL (SPEC §7.1; the optional peer dependency `pg`): a promise, and
   * the realm's writes are asynchronous. `options.realm` names it, `options.maxLagSeconds`
   * (default 1) bounds how stale its reads may be. TypeScript picks this overload for a
   * `postgresql://…` literal or a `PostgresUrl`; for a plain `string` (an environment
   * variable) write `url as PostgresUrl`, or pass `await PostgresStore.connect(url)`.
   */
  static open(
    policy: PolicyDocument | string,
    key: SessionKey,
    store: PostgresUrl | PostgresStore,
    options?: PostgresRealmOptions | null,
  ): Promise<PostgresRealm>;
  /**
   * A realm kept in a store (SPEC §7.1): `"sqlite:PATH"`, a bare path, or a store object.
   * Needs the optional peer dependency `better-sqlite3` for SQLite. Synchronous.
   */
  static open(
    policy: PolicyDocument | string,
    key: SessionKey,
    store: string | RealmStore,
    options?: (RealmOptions & { store?: SqliteStoreOptions }) | null,
  ): StoredRealm;
  /** Sets (or removes) the journal each call's change records go to before it returns; a throw fails the call. */
  setJournal(journal: ((records: string[]) => void) | null): void;

  /** Everything the realm holds, verbatim (password hashes included). */
  snapshot(): RealmSnapshot;
  /** `snapshot()` as JSON text, written by the core (what a store checkpoints). */
  snapshotText(): string;
  /** How many users, API tokens and live sessions the realm holds. */
  rows(): number;
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
  /** The seq of the last change record the realm holds (SPEC §7.1; 0 for none). */
  seq(): number;
  /** The change records after `afterSeq` (default 0), each as its JSON text. */
  changes(afterSeq?: number | null): string[];
  /** Applies change records made elsewhere (objects or JSON text), whole or not at all; returns the new seq. */
  apply(records: ReadonlyArray<string | Record<string, unknown>>): number;
  /** The principal of an `Authorization` header value (`Bearer <t>` or a bare token). Never fetches. */
  authenticate(header: string, now?: Seconds | null): VerifiedPrincipal;
  /** `authenticate`, fetching the KeySet's keys first when the set says so. */
  authenticateAsync(header: string, now?: Seconds | null): Promise<VerifiedPrincipal>;

  /** Releases the WebAssembly memory now (`realm.engine` stays usable). */
  free(): void;
  /** `free()`, for `using realm = new Realm(...)`. */
  [Symbol.dispose](): void;
}

/** What a realm store does (SPEC §7.1); `SqliteStore` is one. */
export interface RealmStore {
  load(): [string | null, number];
  readAfter(seq: number): string[];
  changed(): boolean;
  append(records: string[], firstSeq: number): void;
  checkpoint(snapshot: string, seq: number): void;
  close(): void;
}

export interface SqliteStoreOptions {
  /** "FULL" (default: survives power loss) or "NORMAL" (survives a process crash). */
  synchronous?: "FULL" | "NORMAL";
  /** How long a write waits for another process's (default 10000). */
  busyTimeoutMs?: number;
}

/** A realm in one SQLite file, WAL mode (better-sqlite3). */
export class SqliteStore implements RealmStore {
  constructor(path: string, options?: SqliteStoreOptions);
  readonly path: string;
  load(): [string | null, number];
  readAfter(seq: number): string[];
  changed(): boolean;
  append(records: string[], firstSeq: number): void;
  checkpoint(snapshot: string, seq: number): void;
  close(): void;
}

/**
 * A Realm whose changes are committed to a store before each call returns and that follows
 * what other processes commit (made by `Realm.open`); Realm's calls with the same arguments.
 */
export interface StoredRealm extends Omit<Realm, "authenticate" | "authenticateAsync" | "free" | "setJournal"> {}
export class StoredRealm {
  private constructor();
  /** The realm in memory. */
  readonly realm: Realm;
  /** The seq of this object's last committed write. */
  readonly writtenSeq: number;
  /** Applies whatever other processes committed; returns the seq. */
  sync(): number;
  /** As Realm#authenticate after catching up; `minSeq` must be reached, else `store_unavailable`. */
  authenticate(header: string, now?: Seconds | null, minSeq?: number | null): VerifiedPrincipal;
  /** As Realm#authenticateAsync after the same catching up. */
  authenticateAsync(header: string, now?: Seconds | null, minSeq?: number | null): Promise<VerifiedPrincipal>;
  /** Detaches the journal, closes the store, frees the realm. */
  closeStore(): void;
}
