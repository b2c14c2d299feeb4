// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// The PostgreSQL realm store (SPEC §7.1, docs/realm.md "Stores (Node)"): needs the optional
// peer dependency `pg`.
import type { Principal, Seconds } from "./shapes.js";
import type { VerifiedPrincipal } from "./tokens.js";
import type { ApiTokenOptions, ApiTokenRecord, Engine, NewApiToken, SessionGrant } from "./sessions.js";
import type { Realm, RealmOptions, RealmSnapshot, User, UserOptions } from "./realm.js";

/** A PostgreSQL connection URL. */
export type PostgresUrl = `postgresql://${string}` | `postgres://${string}`;

/** Options of `PostgresStore.connect` (and `store` in `Realm.open`'s options). */
export interface PostgresStoreOptions {
  /** The realm's name (default "default"); several realms can share a database. */
  realm?: string;
  /** Connections in the pool (default 4; the listener has one more). */
  poolSize?: number;
  /** How long connecting may take (default 5000). */
  connectTimeoutMs?: number;
  /** How long a write waits for another process's lock before `store_conflict` (default 10000). */
  lockTimeoutMs?: number;
}

/** Options of `Realm.open` on PostgreSQL: the Realm's, plus the store's. */
export interface PostgresRealmOptions extends RealmOptions {
  /** The realm's name in the database (default "default"). */
  realm?: string;
  /**
   * How stale this process's view may be (default 1 second, must be > 0): past it, with
   * the log unreadable, every read is `store_unavailable`.
   */
  maxLagSeconds?: number;
  store?: PostgresStoreOptions;
}

/** A realm's tables in a PostgreSQL database (`realm_meta`, `realm_changes`, `realm_checkpoint`). Asynchronous. */
export class PostgresStore {
  private constructor();
  /** Connects, makes the tables if absent, checks the realm's format and schema version. */
  static connect(url: PostgresUrl | string, options?: PostgresStoreOptions): Promise<PostgresStore>;
  readonly url: string;
  readonly realm: string;
  /** Whether the LISTEN connection (the doorbell) is up. */
  readonly listening: boolean;
  load(): Promise<[string | null, number]>;
  readAfter(seq: number): Promise<string[]>;
  checkpoint(snapshot: string, seq: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Realm kept in PostgreSQL (`await Realm.open(policy, key, "postgresql://...")`). Writes are
 * asynchronous: each resolves once its records are committed (then `writtenSeq` is their seq)
 * and rejects with nothing changed in memory. Reads, `authenticate` first, are synchronous:
 * they answer from memory kept current by LISTEN/NOTIFY and a poll, and throw `RealmError`
 * `store_unavailable` once the log was last read more than `maxLagSeconds` ago.
 */
export class PostgresRealm {
  private constructor();
  /** The realm in memory that answers the reads (read it; change it only through this object). */
  readonly realm: Realm;
  readonly engine: Engine;
  readonly store: PostgresStore;
  /** The seq of this object's last committed write: pass it as `minSeq` to another process's `authenticate`. */
  readonly writtenSeq: number;
  /** The seq of the last record applied here. */
  seq(): number;
  /** Reads the log now; resolves to the seq, or rejects `store_unavailable` if `minSeq` is not reached. */
  sync(minSeq?: number | null): Promise<number>;
  /** Realm#authenticate on the followed state; `minSeq` not yet applied here is `store_unavailable` (then `await sync(minSeq)`). */
  authenticate(header: string, now?: Seconds | null, minSeq?: number | null): VerifiedPrincipal;
  /** As Realm#authenticateAsync (may fetch a KeySet's keys); a `minSeq` not yet applied is read from the log first. */
  authenticateAsync(header: string, now?: Seconds | null, minSeq?: number | null): Promise<VerifiedPrincipal>;

  getUser(actor: Principal | null, userId: string): User;
  listUsers(actor: Principal | null): User[];
  listApiTokens(actor: Principal | null, owner?: string | null): ApiTokenRecord[];
  changes(afterSeq?: number | null): string[];
  snapshot(): RealmSnapshot;
  snapshotText(): string;
  rows(): number;

  createUser(
    actor: Principal | null,
    username: string,
    password?: string | null,
    options?: UserOptions | null,
    now?: Seconds | null,
  ): Promise<User>;
  setRoles(actor: Principal | null, userId: string, roles: readonly string[]): Promise<User>;
  setPassword(actor: Principal | null, userId: string, password: string | null): Promise<void>;
  deleteUser(actor: Principal | null, userId: string): Promise<void>;
  login(username: string, password: string, now?: Seconds | null): Promise<SessionGrant>;
  createApiToken(
    actor: Principal | null,
    owner: string,
    roles?: readonly string[] | null,
    options?: ApiTokenOptions | null,
    now?: Seconds | null,
  ): Promise<NewApiToken>;
  suspendApiToken(actor: Principal | null, tokenId: string): Promise<ApiTokenRecord>;
  resumeApiToken(actor: Principal | null, tokenId: string): Promise<ApiTokenRecord>;
  revokeApiToken(actor: Principal | null, tokenId: string): Promise<ApiTokenRecord>;
  replaceApiToken(actor: Principal | null, tokenId: string, now?: Seconds | null): Promise<NewApiToken>;
  openSession(apiTokenSecret: string, now?: Seconds | null): Promise<SessionGrant>;
  renew(token: string, now?: Seconds | null): Promise<SessionGrant>;
  close(token: string, now?: Seconds | null): Promise<void>;
  /** Ends every session everywhere (opening never does). */
  restart(): Promise<void>;
  /** Waits for the writes under way, stops following, closes the connections, frees the realm. */
  closeStore(): Promise<void>;
}
