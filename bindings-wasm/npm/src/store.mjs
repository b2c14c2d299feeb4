// Realm stores (SPEC §7.1, docs/realm.md): the SQLite store on `better-sqlite3` (an optional
// peer dependency, loaded when first used) and `StoredRealm`, a Realm kept in a store. The
// same design as the Python package's tessera._store and tessera._sqlite_store, so that both
// packages read and write the same files: the core checks and folds every record and hands
// each call's records to the journal, which commits them before the call returns; records
// other processes committed are read back and applied through the core's `apply`.
import { createRequire } from "node:module";
import { RealmError, argumentError, messageOf } from "./errors.mjs";

/** Format name and schema version written into every store. */
export const STORE_FORMAT = "tessera-realm";
export const SCHEMA_VERSION = 1;

// How often a call is redone after another process wrote first.
export const RETRIES = 64;

const SCHEMA = [
  "CREATE TABLE realm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  "CREATE TABLE realm_changes (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
  "CREATE TABLE realm_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, snapshot TEXT NOT NULL)",
];

/** A store fault: a RealmError with `code` store_unavailable, store_conflict, invalid_store, unsupported_store_version or seq_gap. */
export function storeError(code, message) {
  return new RealmError({ kind: "realm", code, message });
}

// An optional peer dependency, by a name esbuild does not bundle (the user's copy is loaded).
export function peer(name, why) {
  const load = typeof require === "function" ? require : createRequire(import.meta.url);
  try {
    return load(name);
  } catch (e) {
    throw storeError("store_unavailable", `${why} needs the package ${name} (npm install ${name}): ${messageOf(e)}`);
  }
}

export function seqOf(record) {
  // The core writes every record as '{"seq":N,...'.
  return Number(record.slice(7, record.indexOf(",")));
}

/**
 * A realm in one SQLite file (made if absent), in WAL mode. `synchronous` is "FULL" (the
 * default: a commit survives power loss) or "NORMAL" (survives a crash of the process).
 */
export class SqliteStore {
  #db;
  #dataVersion;
  #stmts;

  constructor(path, options = {}) {
    if (typeof path !== "string" || path === "") throw argumentError("path: expected a file name");
    const synchronous = options.synchronous ?? "FULL";
    if (synchronous !== "FULL" && synchronous !== "NORMAL") throw argumentError("synchronous: expected FULL or NORMAL");
    const busy = options.busyTimeoutMs ?? 10_000;
    const Database = peer("better-sqlite3", "the SQLite store");
    this.path = path;
    try {
      this.#db = new Database(path, { timeout: busy });
    } catch (e) {
      throw storeError("store_unavailable", `the SQLite store failed: ${messageOf(e)}`);
    }
    try {
      const mode = this.#db.pragma("journal_mode = WAL", { simple: true });
      if (String(mode).toLowerCase() !== "wal") {
        throw storeError("store_unavailable", `cannot use WAL on ${path} (journal_mode ${mode})`);
      }
      this.#db.pragma(`synchronous = ${synchronous}`);
      this.#prepare();
    } catch (e) {
      this.#db.close();
      if (e instanceof RealmError) throw e;
      // "file is not a database" and its kin; a locked or unreadable file is not a bad one.
      if (e && (e.code === "SQLITE_NOTADB" || e.code === "SQLITE_CORRUPT")) throw storeError("invalid_store", `${path} is not a tessera realm store: ${messageOf(e)}`);
      throw storeError("store_unavailable", `the SQLite store failed: ${messageOf(e)}`);
    }
    const db = this.#db;
    this.#stmts = {
      version: db.prepare("PRAGMA data_version").pluck(),
      after: db.prepare("SELECT seq, record FROM realm_changes WHERE seq > ? ORDER BY seq").raw(),
      last: db
        .prepare(
          "SELECT max(coalesce((SELECT max(seq) FROM realm_changes), 0)," +
            " coalesce((SELECT seq FROM realm_checkpoint WHERE id = 1), 0))",
        )
        .pluck(),
      insert: db.prepare("INSERT INTO realm_changes (seq, record) VALUES (?, ?)"),
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
    };
    this.#dataVersion = this.#stmts.version.get();
  }

  #prepare() {
    const db = this.#db;
    db.prepare("BEGIN IMMEDIATE").run();
    try {
      const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
      if (tables.size === 0) {
        for (const s of SCHEMA) db.prepare(s).run();
        db.prepare("INSERT INTO realm_meta VALUES ('format', ?), ('schema_version', ?)").run(STORE_FORMAT, String(SCHEMA_VERSION));
      } else if (!tables.has("realm_meta")) {
        throw storeError("invalid_store", `${this.path} is a SQLite database but not a tessera realm store`);
      } else {
        const meta = Object.fromEntries(db.prepare("SELECT key, value FROM realm_meta").raw().all());
        if (meta.format !== STORE_FORMAT) {
          throw storeError("invalid_store", `${this.path} is not a tessera realm store (format ${JSON.stringify(meta.format ?? null)})`);
        }
        const version = meta.schema_version ?? "";
        if (!/^[0-9]+$/.test(version)) {
          throw storeError("invalid_store", `${this.path} has a malformed schema_version ${JSON.stringify(version)}`);
        }
        if (Number(version) > SCHEMA_VERSION) {
          throw storeError(
            "unsupported_store_version",
            `${this.path} has schema version ${version}; this tessera reads up to ${SCHEMA_VERSION}`,
          );
        }
        if (!tables.has("realm_changes") || !tables.has("realm_checkpoint")) {
          throw storeError("invalid_store", `${this.path} lacks the realm tables`);
        }
      }
      db.prepare("COMMIT").run();
    } catch (e) {
      if (db.inTransaction) db.prepare("ROLLBACK").run();
      throw e;
    }
  }

  #fail(e) {
    if (e instanceof RealmError) return e;
    return storeError("store_unavailable", `the SQLite store failed: ${messageOf(e)}`);
  }

  /** The latest checkpoint: `[snapshot JSON text or null, its seq]`. */
  load() {
    try {
      const row = this.#db.prepare("SELECT snapshot, seq FROM realm_checkpoint WHERE id = 1").raw().get();
      return row ? [row[0], row[1]] : [null, 0];
    } catch (e) {
      throw this.#fail(e);
    }
  }

  /** The records after `seq`, in order (a hole in the log is `seq_gap`). */
  readAfter(seq) {
    let rows;
    try {
      rows = this.#stmts.after.all(seq);
    } catch (e) {
      throw this.#fail(e);
    }
    let expected = seq + 1;
    for (const [s] of rows) {
      if (s !== expected) throw storeError("seq_gap", `the store's records jump from ${expected - 1} to ${s}`);
      expected += 1;
    }
    return rows.map((r) => r[1]);
  }

  /** Whether another connection may have committed since the last look (true is always safe). */
  changed() {
    let v;
    try {
      v = this.#stmts.version.get();
    } catch {
      return true;
    }
    if (v !== this.#dataVersion) {
      this.#dataVersion = v;
      return true;
    }
    return false;
  }

  /** Commits `records` (`firstSeq` on) in one transaction; store_conflict if `firstSeq` is taken. */
  append(records, firstSeq) {
    const s = this.#stmts;
    try {
      s.begin.run();
      try {
        // A checkpoint may be ahead of the log (a store made from a snapshot).
        const last = s.last.get();
        if (last !== firstSeq - 1) {
          throw storeError("store_conflict", `seq ${firstSeq} is taken (the store is at ${last})`);
        }
        records.forEach((r, i) => s.insert.run(firstSeq + i, r));
        s.commit.run();
      } catch (e) {
        if (this.#db.inTransaction) s.rollback.run();
        throw e;
      }
    } catch (e) {
      throw this.#fail(e);
    }
    // Our own commit does not move data_version; other connections' do.
  }

  /** Keeps a snapshot as of `seq` so that opening is quick. */
  checkpoint(snapshot, seq) {
    try {
      this.#db
        .prepare(
          "INSERT INTO realm_checkpoint (id, seq, snapshot) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE" +
            " SET seq = excluded.seq, snapshot = excluded.snapshot WHERE excluded.seq > realm_checkpoint.seq",
        )
        .run(seq, snapshot);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  close() {
    this.#db.close();
  }
}

/** A store from a URL: "sqlite:PATH" or a bare path. */
export function openStore(url, options) {
  if (typeof url !== "string") throw argumentError("store: expected a URL or a store object");
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw argumentError("store: a PostgreSQL store is asynchronous: use await Realm.open(policy, key, url, options)");
  }
  return new SqliteStore(url.startsWith("sqlite:") ? url.slice(7) : url, options);
}

// The Realm's calls, by what they do to the store (the PostgreSQL store's too).
export const READS = ["getUser", "listUsers", "listApiTokens", "changes", "snapshot", "snapshotText", "rows"];
export const WRITES = [
  "createUser",
  "setRoles",
  "setPassword",
  "deleteUser",
  "login",
  "createApiToken",
  "suspendApiToken",
  "resumeApiToken",
  "revokeApiToken",
  "replaceApiToken",
  "openSession",
  "renew",
  "close",
  "restart",
];

/**
 * A Realm whose every change is committed to a store before the call returns, and that
 * follows what other processes commit to the same store (made by `Realm.open`). Every
 * method of Realm is here with the same arguments. A call that fails commits nothing and a
 * failed commit changes nothing in memory; when another process wrote first the call is
 * redone on the newer state (usernames stay unique, one bootstrap admin, a revoked token
 * stays revoked). Opening is not a restart.
 */
export class StoredRealm {
  #store;
  #realm;
  #sinceCheckpoint = 0;
  #checkpointEvery = 10_000;
  #written;

  static open(Realm, policy, key, store, options) {
    const s = typeof store === "string" ? openStore(store, options?.store) : store;
    if (!s || typeof s.append !== "function") throw argumentError("store: expected a URL or a store object");
    const realmOptions = options ? { ...options } : undefined;
    if (realmOptions) delete realmOptions.store;
    try {
      return new StoredRealm(Realm, policy, key, s, realmOptions);
    } catch (e) {
      if (typeof store === "string") s.close();
      throw e;
    }
  }

  constructor(Realm, policy, key, store, options) {
    this.#store = store;
    const [snapshot] = store.load();
    const realm = snapshot === null ? new Realm(policy, key, options) : Realm.restore(policy, snapshot, key, options);
    try {
      realm.apply(store.readAfter(realm.seq()));
      realm.setJournal((records) => {
        store.append(records, seqOf(records[0]));
        this.#sinceCheckpoint += records.length;
      });
    } catch (e) {
      realm.free();
      throw e;
    }
    this.#realm = realm;
    this.#written = realm.seq();
    // Checkpoints every max(10k, rows) records: their O(rows) cost per record
    // stays constant, from the first one on.
    this.#checkpointEvery = Math.max(10_000, realm.rows());
  }

  #catchUp() {
    if (this.#store.changed()) {
      const records = this.#store.readAfter(this.#realm.seq());
      if (records.length) this.#realm.apply(records);
    }
  }

  _write(name, args) {
    for (let i = 0; i < RETRIES; i++) {
      this.#catchUp();
      let result;
      try {
        result = this.#realm[name](...args);
      } catch (e) {
        if (e instanceof RealmError && e.code === "store_conflict") continue;
        throw e;
      }
      this.#written = this.#realm.seq();
      this.#maybeCheckpoint();
      return result;
    }
    throw storeError("store_conflict", "other processes kept writing first; try again");
  }

  _read(name, args) {
    this.#catchUp();
    return this.#realm[name](...args);
  }

  #maybeCheckpoint() {
    if (this.#sinceCheckpoint < this.#checkpointEvery) return;
    // The core writes the text: no JS objects in between.
    const text = this.#realm.snapshotText();
    const seq = this.#realm.seq();
    const rows = this.#realm.rows();
    try {
      this.#store.checkpoint(text, seq);
    } catch {
      // The call itself is committed; a checkpoint only speeds up opening.
      return;
    }
    // Taken every max(10k, rows) records, its O(rows) cost per record stays constant.
    this.#sinceCheckpoint = 0;
    this.#checkpointEvery = Math.max(10_000, rows);
  }

  /** The realm in memory (read it; change it only through this object). */
  get realm() {
    return this.#realm;
  }

  get engine() {
    return this.#realm.engine;
  }

  /** The seq of the last record applied here. */
  seq() {
    return this.#realm.seq();
  }

  /** The seq of this object's last committed write (pass it as `minSeq` elsewhere). */
  get writtenSeq() {
    return this.#written;
  }

  /** Applies whatever other processes committed; returns the seq. */
  sync() {
    this.#catchUp();
    return this.#realm.seq();
  }

  /** As Realm#authenticate, after applying what other processes committed; `minSeq` must be reached. */
  authenticate(header, now, minSeq) {
    this.#reach(minSeq);
    return this.#realm.authenticate(header, now);
  }

  /** As Realm#authenticateAsync (may fetch a KeySet's keys), after the same catching up as `authenticate`. */
  async authenticateAsync(header, now, minSeq) {
    this.#reach(minSeq);
    return this.#realm.authenticateAsync(header, now);
  }

  #reach(minSeq) {
    this.#catchUp();
    if (minSeq !== undefined && minSeq !== null && this.#realm.seq() < minSeq) {
      const records = this.#store.readAfter(this.#realm.seq());
      if (records.length) this.#realm.apply(records);
      if (this.#realm.seq() < minSeq) throw storeError("store_unavailable", `the store has not reached seq ${minSeq}`);
    }
  }

  /** Detaches the journal, closes the store and frees the realm. */
  closeStore() {
    this.#realm.setJournal(null);
    this.#store.close();
    this.#realm.free();
  }
}

for (const name of READS) {
  StoredRealm.prototype[name] = function (...args) {
    return this._read(name, args);
  };
}
for (const name of WRITES) {
  StoredRealm.prototype[name] = function (...args) {
    return this._write(name, args);
  };
}
