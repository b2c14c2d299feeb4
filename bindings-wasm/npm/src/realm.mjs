// The Realm (SPEC §7): users, password hashes, API token records and live
// sessions, over an engine with tokens (tokens.mjs).
import * as raw from "./tessera_wasm.js";
import { INTERNAL, TesseraError, argumentError, guard, guardClass, invoke, messageOf } from "./errors.mjs";
import { input, isPlain, json, optionalObject, optionalString, output, seconds, string, stringArray, typeOf, verbatim } from "./convert.mjs";
import { Engine, sessionKey } from "./sessions.mjs";
import { StoredRealm } from "./store.mjs";
import { PostgresRealm, PostgresStore, isPostgresUrl } from "./postgres-store.mjs";
import { KeySet, rawOf, withFetch, withoutFetch } from "./keyset.mjs";

/** The token of an `Authorization` value, or null if it has none. */
function tokenOf(header) {
  try {
    return JSON.parse(raw.parse_authorization(header));
  } catch {
    return null;
  }
}

/** `actor`: a principal object, or null for an anonymous caller. */
function actorOf(v) {
  if (v === null) return "null";
  if (!isPlain(v)) throw argumentError(`actor: expected a principal object or null, got ${typeOf(v)}`);
  return input("actor", v);
}

/** Users, password hashes, API token records and live sessions (SPEC §7). */
export class Realm {
  #raw;
  #engine = null;
  /** The KeySet given as `options.jwks`, if one was (a JWKS value is the core's alone). */
  #keys = null;

  /**
   * @param policy a policy document (object or JSON text)
   * @param key the JWK sessions are signed with (object or JSON text), or a raw secret (`Uint8Array`)
   * @param options `{argon2?: {memoryKib?, iterations?, parallelism?}, jwks?}`; `jwks` a JWKS
   *   or a KeySet (rotated keys need no rebuild; `authenticateAsync` fetches for it)
   */
  constructor(policy, key, options) {
    if (policy === INTERNAL) {
      [this.#raw, this.#keys] = key;
      return;
    }
    try {
      [this.#raw, this.#keys] = Realm.#make(policy, key, options, undefined);
    } catch (e) {
      throw e instanceof TesseraError ? e : argumentError(`Realm: ${messageOf(e)}`);
    }
  }

  /** `[raw realm, KeySet or null]`. */
  static #make(policy, key, options, snapshot) {
    const p = verbatim("policy", policy);
    const k = sessionKey(key);
    let keys = null;
    let rest = options;
    if (isPlain(options) && options.jwks instanceof KeySet) {
      keys = options.jwks;
      rest = { ...options };
      delete rest.jwks;
    }
    const o = optionalObject("options", rest);
    const s = snapshot === undefined ? undefined : verbatim("snapshot", snapshot);
    const r = invoke(() => new raw.RawRealm(p, k, o, s));
    if (keys !== null) invoke(() => r.set_key_set(rawOf(keys)));
    return [r, keys];
  }

  /** The realm a `snapshot()` describes (object or JSON text, as `snapshot()` gave it). */
  static restore(policy, snapshot, key, options) {
    if (snapshot === undefined || snapshot === null) {
      throw argumentError(`snapshot: expected a snapshot object or JSON text, got ${typeOf(snapshot)}`);
    }
    return new Realm(INTERNAL, Realm.#make(policy, key, options, snapshot));
  }

  /**
   * A realm kept in a store (SPEC §7.1): `"sqlite:PATH"` (or a bare path), or a store object
   * (`new SqliteStore(path, options)`). Every change is committed before the call returns and
   * the changes other processes commit are applied before the next call. Synchronous. For
   * `"postgresql://..."` (or a PostgresStore) it returns a Promise of a PostgresRealm, whose
   * writes are asynchronous (options `realm`, `maxLagSeconds`). See docs/realm.md.
   */
  static open(policy, key, store, options) {
    if (isPostgresUrl(store) || store instanceof PostgresStore) return PostgresRealm.open(Realm, policy, key, store, options);
    return StoredRealm.open(Realm, policy, key, store, options);
  }

  /**
   * Sets (or, with null, removes) the journal: `journal(records)` gets each call's change
   * records (their JSON text) before the call returns and throws to fail the call, which
   * then changes nothing in memory (the thrown error's `code` and `message` are kept).
   */
  setJournal(journal) {
    if (journal !== null && journal !== undefined && typeof journal !== "function") {
      throw argumentError(`journal: expected a function or null, got ${typeOf(journal)}`);
    }
    const r = this.#live();
    if (!journal) return r.set_journal(undefined);
    r.set_journal({
      commit(text) {
        try {
          journal(JSON.parse(text));
          return undefined;
        } catch (e) {
          const code = e && typeof e.code === "string" && e.code ? e.code : "store_unavailable";
          return [code, messageOf(e)];
        }
      },
    });
  }

  #live() {
    if (!this.#raw) throw argumentError("this Realm was freed");
    return this.#raw;
  }

  /** Everything the realm holds, verbatim (snake_case): keep it as secret as a password database. */
  snapshot() {
    return JSON.parse(this.snapshotText());
  }

  /** `snapshot()` as JSON text, written by the core (what a store checkpoints). */
  snapshotText() {
    const r = this.#live();
    return invoke(() => r.snapshot());
  }

  /** How many users, API tokens and live sessions the realm holds. */
  rows() {
    const r = this.#live();
    return invoke(() => r.rows());
  }

  /** The realm's engine, shared: `load` on it changes the realm's rules. */
  get engine() {
    if (this.#engine === null) {
      const r = this.#live();
      this.#engine = new Engine(INTERNAL, invoke(() => r.engine()));
    }
    return this.#engine;
  }

  createUser(actor, username, password, options, now) {
    const a = actorOf(actor);
    const u = string("username", username);
    const p = optionalString("password", password);
    const o = optionalObject("options", options);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.create_user(a, u, p, o, n)));
  }

  getUser(actor, userId) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    const r = this.#live();
    return output(invoke(() => r.get_user(a, u)));
  }

  listUsers(actor) {
    const a = actorOf(actor);
    const r = this.#live();
    return output(invoke(() => r.list_users(a)));
  }

  setRoles(actor, userId, roles) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    const l = json("roles", stringArray("roles", roles));
    const r = this.#live();
    return output(invoke(() => r.set_roles(a, u, l)));
  }

  /** `password` a string, or null to remove it (the user can then not log in). */
  setPassword(actor, userId, password) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    if (password === undefined) throw argumentError("password: expected a string or null, got undefined");
    const p = password === null ? undefined : string("password", password);
    const r = this.#live();
    invoke(() => r.set_password(a, u, p));
  }

  deleteUser(actor, userId) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    const r = this.#live();
    invoke(() => r.delete_user(a, u));
  }

  login(username, password, now) {
    const u = string("username", username);
    const p = string("password", password);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.login(u, p, n)));
  }

  /** `roles` null or undefined: the owner's roles. */
  createApiToken(actor, owner, roles, options, now) {
    const a = actorOf(actor);
    const w = string("owner", owner);
    const l = roles === undefined || roles === null ? "null" : json("roles", stringArray("roles", roles));
    const o = optionalObject("options", options);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.create_api_token(a, w, l, o, n)));
  }

  listApiTokens(actor, owner) {
    const a = actorOf(actor);
    const w = optionalString("owner", owner);
    const r = this.#live();
    return output(invoke(() => r.list_api_tokens(a, w)));
  }

  suspendApiToken(actor, tokenId) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const r = this.#live();
    return output(invoke(() => r.suspend_api_token(a, t)));
  }

  resumeApiToken(actor, tokenId) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const r = this.#live();
    return output(invoke(() => r.resume_api_token(a, t)));
  }

  revokeApiToken(actor, tokenId) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const r = this.#live();
    return output(invoke(() => r.revoke_api_token(a, t)));
  }

  replaceApiToken(actor, tokenId, now) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.replace_api_token(a, t, n)));
  }

  openSession(apiTokenSecret, now) {
    const s = string("apiTokenSecret", apiTokenSecret);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.open_session(s, n)));
  }

  renew(token, now) {
    const t = string("token", token);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.renew(t, n)));
  }

  close(token, now) {
    const t = string("token", token);
    const n = seconds(now);
    const r = this.#live();
    invoke(() => r.close(t, n));
  }

  /** Ends every session, as after a power cycle. */
  restart() {
    const r = this.#live();
    invoke(() => r.restart());
  }

  /** The seq of the last change record the realm holds (SPEC §7.1; 0 for none). */
  seq() {
    const r = this.#live();
    return invoke(() => r.seq());
  }

  /**
   * The change records after `afterSeq` (default 0), oldest first, each as its JSON
   * text: the same bytes in every binding (SPEC §7.1).
   */
  changes(afterSeq) {
    const a = afterSeq === undefined || afterSeq === null ? undefined : afterSeq;
    if (a !== undefined && !(Number.isSafeInteger(a) && a >= 0)) {
      throw argumentError(`afterSeq: expected a non-negative integer, got ${typeOf(afterSeq)}`);
    }
    const r = this.#live();
    return JSON.parse(invoke(() => r.changes(a)));
  }

  /**
   * Applies change records made elsewhere (objects or JSON text, verbatim), whole or not
   * at all; returns the new seq. Records at or below `seq()` are skipped.
   */
  apply(records) {
    if (!Array.isArray(records)) throw argumentError(`records: expected an array, got ${typeOf(records)}`);
    const parsed = records.map((rec, i) => {
      if (typeof rec !== "string") return rec;
      try {
        return JSON.parse(rec);
      } catch {
        throw argumentError(`records[${i}]: not JSON text`);
      }
    });
    const text = verbatim("records", parsed);
    const r = this.#live();
    return invoke(() => r.apply(text));
  }

  /**
   * The principal of an `Authorization` header value (or a bare token). Never
   * fetches: with a KeySet, its keys as it holds them now (`authenticateAsync` fetches).
   */
  authenticate(header, now) {
    const h = string("header", header);
    const n = seconds(now);
    const r = this.#live();
    const once = () => output(invoke(() => r.authenticate(h, n)));
    if (this.#keys === null) return once();
    return withoutFetch(this.#keys, tokenOf(h), n, once, "await realm.authenticateAsync(header)");
  }

  /**
   * `authenticate` as a promise that may fetch the KeySet's keys first (first
   * use, cache time over, an unknown `kid` once per cooldown): provider JWTs only.
   */
  async authenticateAsync(header, now) {
    const h = string("header", header);
    const n = seconds(now);
    const r = this.#live();
    const once = () => output(invoke(() => r.authenticate(h, n)));
    if (this.#keys === null) return once();
    return withFetch(this.#keys, tokenOf(h) ?? "", n, once);
  }

  /** Releases the WebAssembly memory now (`realm.engine` stays usable). */
  free() {
    const r = this.#raw;
    this.#raw = null;
    if (r) r.free();
  }
}

guardClass(Realm);
Realm.restore = guard("restore", Realm.restore);
