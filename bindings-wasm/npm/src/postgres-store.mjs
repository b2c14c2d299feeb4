// The PostgreSQL realm store (SPEC §7.1, docs/realm.md "Stores (Node)") on `pg` (an optional
// peer dependency, loaded when first used), and `PostgresRealm`, a Realm kept in it. The
// tables and records are the Python store's (tessera._postgres_store), so Python and Node
// replicas share one database.
//
// `pg` is asynchronous and the core's journal is called synchronously, so this realm is two
// realms in memory with the same state:
// - the *reader* answers `authenticate` and the other reads, synchronously; it only ever
//   changes by `apply` of records that are committed;
// - the *writer* runs each write call. A write takes the realm's advisory transaction lock
//   first (seq order = commit order, across every process, Python's too), applies what other
//   processes committed (read under the lock, so nothing is missing), runs the call on the
//   writer (its journal keeps the records), inserts them, NOTIFYs and commits; only then are
//   the records applied to the reader and the call's promise resolved. A failed commit
//   leaves the reader as it was, and the writer is rebuilt from the reader.
// The reader follows other processes: LISTEN/NOTIFY rings a doorbell, every (re)connect of
// the listener replays the log from the reader's seq, and the log is read at least every
// maxLagSeconds / 2 whatever the doorbell says. A process whose last good read of the log is
// older than maxLagSeconds fails closed: `store_unavailable`.
import { RealmError, argumentError, messageOf } from "./errors.mjs";
import { READS, RETRIES, SCHEMA_VERSION, STORE_FORMAT, WRITES, peer, seqOf, storeError } from "./store.mjs";

/** The NOTIFY channel; the payload is the realm's name. */
const CHANNEL = "tessera_realm";
// pg_advisory_xact_lock key taken while creating the schema (Python's: any fixed number).
const SCHEMA_LOCK = "7261946815";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS realm_meta (realm text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (realm, key))",
  "CREATE TABLE IF NOT EXISTS realm_changes (realm text NOT NULL, seq bigint NOT NULL, record text NOT NULL, PRIMARY KEY (realm, seq))",
  "CREATE TABLE IF NOT EXISTS realm_checkpoint (realm text PRIMARY KEY, seq bigint NOT NULL, snapshot text NOT NULL)",
];

const LAST_SEQ =
  "SELECT greatest(coalesce((SELECT max(seq) FROM realm_changes WHERE realm = $1), 0)," +
  " coalesce((SELECT seq FROM realm_checkpoint WHERE realm = $1), 0)) AS last";

function unavailable(e) {
  if (e instanceof RealmError) return e;
  return storeError("store_unavailable", `the PostgreSQL store failed: ${messageOf(e)}`);
}

function positive(name, v, fallback) {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw argumentError(`${name}: expected a positive number, got ${v}`);
  return v;
}

/** Whether `store` names a PostgreSQL database. */
export function isPostgresUrl(store) {
  return typeof store === "string" && /^postgres(ql)?:\/\//.test(store);
}

/**
 * A realm in a PostgreSQL database (`await PostgresStore.connect(url, options)`). `realm`
 * names it: several realms share a database. Its methods are asynchronous; PostgresRealm
 * uses them.
 */
export class PostgresStore {
  #pg;
  #pool;
  #lockKey = "0";
  #listener = null;
  #closed = false;
  #ring = () => {};
  #listening = false;

  constructor(pg, url, realm, options) {
    this.#pg = pg;
    this.url = url;
    this.realm = realm;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.lockTimeoutMs = options.lockTimeoutMs;
    // A client whose connection dies may emit "error" where no one listens (while the pool
    // is still connecting it, or after it was destroyed): that would be an uncaught
    // exception. Every client here listens; the failed query or connect is what reports it.
    class Client extends pg.Client {
      constructor(config) {
        super(config);
        this.on("error", () => {});
      }
    }
    this.#pool = new pg.Pool({
      Client,
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.lockTimeoutMs + options.connectTimeoutMs,
      keepAlive: true,
    });
    // A pooled connection that dies while idle: the next query gets a fresh one.
    this.#pool.on("error", () => {});
  }

  /**
   * Connects, makes the tables if absent and checks the realm's format and schema version.
   * Options: `realm` ("default"), `poolSize` (4), `connectTimeoutMs` (5000), `lockTimeoutMs`
   * (10000: how long a write waits for another process's).
   */
  static async connect(url, options = {}) {
    if (!isPostgresUrl(url)) throw argumentError("url: expected postgresql://...");
    const realm = options.realm ?? "default";
    if (typeof realm !== "string" || realm === "") throw argumentError("realm: expected a non-empty string");
    const o = {
      poolSize: Math.floor(positive("poolSize", options.poolSize, 4)),
      connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs, 5000),
      lockTimeoutMs: positive("lockTimeoutMs", options.lockTimeoutMs, 10_000),
    };
    const pg = peer("pg", "the PostgreSQL store");
    const store = new PostgresStore(pg, url, realm, o);
    try {
      await store.#prepare();
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  async #prepare() {
    let meta;
    let client;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    try {
      await client.query("BEGIN");
      await client.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
      for (const s of SCHEMA) await client.query(s);
      const rows = (await client.query("SELECT key, value FROM realm_meta WHERE realm = $1", [this.realm])).rows;
      meta = Object.fromEntries(rows.map((r) => [r.key, r.value]));
      if (rows.length === 0) {
        await client.query("INSERT INTO realm_meta VALUES ($1, 'format', $2), ($1, 'schema_version', $3)", [
          this.realm,
          STORE_FORMAT,
          String(SCHEMA_VERSION),
        ]);
      }
      const key = await client.query("SELECT hashtext($1) AS k", [`tessera-realm:${this.realm}`]);
      this.#lockKey = String(key.rows[0].k);
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw unavailable(e);
    } finally {
      client.release();
    }
    if (Object.keys(meta).length === 0) return;
    const name = JSON.stringify(this.realm);
    if (meta.format !== STORE_FORMAT) throw storeError("invalid_store", `realm ${name} in this database is not a tessera realm store`);
    const version = meta.schema_version ?? "";
    if (!/^[0-9]+$/.test(version)) {
      throw storeError("invalid_store", `realm ${name} has a malformed schema_version ${JSON.stringify(version)}`);
    }
    if (Number(version) > SCHEMA_VERSION) {
      throw storeError(
        "unsupported_store_version",
        `realm ${name} has schema version ${version}; this tessera reads up to ${SCHEMA_VERSION} (upgrade tessera-policy)`,
      );
    }
  }

  /** Whether the doorbell's connection is up. */
  get listening() {
    return this.#listening;
  }

  /**
   * Starts the doorbell: `ring()` is called on every NOTIFY for this realm and after every
   * (re)connect of the listening connection (what was committed while it was away is then
   * read from the log).
   */
  listen(ring) {
    this.#ring = ring;
    if (!this.#listener) this.#listener = this.#listen();
  }

  async #listen() {
    const closing = new Promise((resolve) => {
      this.#stopListening = resolve;
    });
    while (!this.#closed) {
      const client = new this.#pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs, keepAlive: true });
      let ended = false;
      const gone = new Promise((resolve) => {
        client.on("error", resolve);
        client.on("end", () => {
          ended = true;
          resolve();
        });
      });
      client.on("notification", (n) => {
        if (n.payload === this.realm) this.#ring();
      });
      try {
        // Every wait also ends when the store is closed (end() does not settle a connect under way).
        await Promise.race([client.connect(), closing]);
        if (this.#closed) break;
        await Promise.race([client.query(`LISTEN ${CHANNEL}`), closing]);
        if (this.#closed) break;
        this.#listening = true;
        this.#ring();
        await Promise.race([gone, closing]);
      } catch {
        // The database is away: try again.
      } finally {
        this.#listening = false;
        // end() on a client already ended would wait for an "end" that came and went.
        if (!ended) client.end().catch(() => {});
      }
      if (!this.#closed) {
        this.#ring();
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 200).unref()), closing]);
      }
    }
  }

  #stopListening = () => {};

  /** The latest checkpoint: `[snapshot JSON text or null, its seq]`. */
  async load() {
    try {
      const r = await this.#pool.query("SELECT snapshot, seq FROM realm_checkpoint WHERE realm = $1", [this.realm]);
      return r.rows.length ? [r.rows[0].snapshot, Number(r.rows[0].seq)] : [null, 0];
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** The records after `seq`, in order (a hole in the log is `seq_gap`). */
  async readAfter(seq, client = this.#pool) {
    let rows;
    try {
      rows = (await client.query("SELECT seq, record FROM realm_changes WHERE realm = $1 AND seq > $2 ORDER BY seq", [this.realm, seq]))
        .rows;
    } catch (e) {
      throw unavailable(e);
    }
    let expected = seq + 1;
    for (const r of rows) {
      const s = Number(r.seq);
      if (s !== expected) throw storeError("seq_gap", `the store's records jump from ${expected - 1} to ${s}`);
      expected += 1;
    }
    return rows.map((r) => r.record);
  }

  /**
   * A write transaction holding the realm's advisory lock (writers of one realm, in every
   * process, are serialized until commit: seq order is commit order). `release()` it.
   */
  async begin() {
    let client;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    const store = this;
    let broken = false;
    // A checked-out client whose connection dies emits "error": without a listener that is
    // an uncaught exception. The query under way fails too, and that is what is reported.
    const onError = () => {
      broken = true;
    };
    client.on("error", onError);
    const run = async (text, params) => {
      try {
        return await client.query(text, params);
      } catch (e) {
        broken = true;
        throw e;
      }
    };
    try {
      await run(`BEGIN; SET LOCAL lock_timeout = ${Math.ceil(this.lockTimeoutMs)}; SELECT pg_advisory_xact_lock(${this.#lockKey})`);
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      // Destroyed, it may still emit "error" (the server's goodbye): onError stays.
      client.release(true);
      const timedOut = e && e.code === "55P03";
      throw timedOut
        ? storeError("store_conflict", `another process held realm ${JSON.stringify(this.realm)}'s write lock for ${this.lockTimeoutMs} ms; try again`)
        : unavailable(e);
    }
    return {
      /** The seq the store is at (the log's last, or a checkpoint ahead of it). */
      async last() {
        try {
          return Number((await run(LAST_SEQ, [store.realm])).rows[0].last);
        } catch (e) {
          throw unavailable(e);
        }
      },
      readAfter: (seq) => store.readAfter(seq, { query: run }),
      /** Inserts the records and rings the doorbell, then commits. */
      async commit(records, firstSeq) {
        try {
          const params = [store.realm];
          const values = records.map((r, i) => {
            params.push(firstSeq + i, r);
            return `($1, $${2 * i + 2}, $${2 * i + 3})`;
          });
          await run(`INSERT INTO realm_changes (realm, seq, record) VALUES ${values.join(", ")}`, params);
          await run("SELECT pg_notify($1, $2)", [CHANNEL, store.realm]);
          await run("COMMIT");
        } catch (e) {
          throw unavailable(e);
        }
      },
      async rollback() {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
      },
      release() {
        // Back in the pool, the pool listens; destroyed, it may still emit "error": onError stays.
        if (broken) return client.release(true);
        client.off("error", onError);
        client.release();
      },
    };
  }

  /** Keeps a snapshot as of `seq` so that opening is quick. */
  async checkpoint(snapshot, seq) {
    try {
      await this.#pool.query(
        "INSERT INTO realm_checkpoint (realm, seq, snapshot) VALUES ($1, $2, $3) " +
          "ON CONFLICT (realm) DO UPDATE SET seq = excluded.seq, snapshot = excluded.snapshot " +
          "WHERE excluded.seq > realm_checkpoint.seq",
        [this.realm, seq, snapshot],
      );
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Stops the doorbell and closes every connection. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening();
    if (this.#listener) await this.#listener;
    await this.#pool.end().catch(() => {});
  }
}

/**
 * A Realm kept in PostgreSQL (made by `await Realm.open(policy, key, "postgresql://...")`).
 * Writes are asynchronous and resolve once committed (`writtenSeq` is then their seq);
 * `authenticate` and the other reads are synchronous, answered from memory that follows the
 * database, and fail closed with `store_unavailable` once the last good read of the log is
 * older than `maxLagSeconds`.
 */
export class PostgresRealm {
  #store;
  #make;
  #reader;
  #writer;
  #writerDirty = false;
  #captured = null;
  #maxLagMs;
  #lastGood;
  #lastError = null;
  #fault = null;
  #timer;
  #reading = null;
  #readAgain = false;
  #queue = Promise.resolve();
  #written;
  #sinceCheckpoint = 0;
  #checkpointEvery = 10_000;
  #closed = false;

  /** `options`: the Realm's, plus `realm`, `maxLagSeconds` (1) and `store` (PostgresStore.connect's). */
  static async open(Realm, policy, key, store, options) {
    const o = options ? { ...options } : {};
    const maxLag = positive("maxLagSeconds", o.maxLagSeconds, 1);
    const storeOptions = { ...(o.store ?? {}), realm: o.realm ?? o.store?.realm };
    for (const k of ["realm", "maxLagSeconds", "store"]) delete o[k];
    const realmOptions = options ? o : undefined;
    const s = store instanceof PostgresStore ? store : await PostgresStore.connect(store, storeOptions);
    try {
      const r = new PostgresRealm(s, maxLag);
      await r.#init(Realm, policy, key, realmOptions);
      return r;
    } catch (e) {
      if (!(store instanceof PostgresStore)) await s.close();
      throw e;
    }
  }

  constructor(store, maxLagSeconds) {
    this.#store = store;
    this.#maxLagMs = maxLagSeconds * 1000;
  }

  async #init(Realm, policy, key, options) {
    const started = Date.now();
    const [snapshot] = await this.#store.load();
    const make = () => (snapshot === null ? new Realm(policy, key, options) : Realm.restore(policy, snapshot, key, options));
    const reader = make();
    let writer;
    try {
      reader.apply(await this.#store.readAfter(reader.seq()));
      writer = Realm.restore(policy, reader.snapshotText(), key, options);
    } catch (e) {
      reader.free();
      throw e;
    }
    writer.setJournal((records) => {
      this.#captured = records;
    });
    this.#make = (snap) => {
      const w = Realm.restore(policy, snap, key, options);
      w.setJournal((records) => {
        this.#captured = records;
      });
      return w;
    };
    this.#reader = reader;
    this.#writer = writer;
    this.#lastGood = started;
    this.#written = reader.seq();
    this.#checkpointEvery = Math.max(10_000, reader.rows());
    this.#store.listen(() => this.#follow());
    // The slow poll: the safety net under the doorbell, and what keeps the lag bound honest.
    this.#timer = setInterval(() => this.#follow(), Math.max(10, this.#maxLagMs / 2));
    this.#timer.unref();
  }

  // ----- following other processes --------------------------------------

  #follow() {
    if (this.#closed) return this.#reading ?? Promise.resolve();
    if (this.#reading) {
      this.#readAgain = true;
      return this.#reading;
    }
    this.#reading = this.#readLog().finally(() => {
      this.#reading = null;
      if (this.#readAgain) {
        this.#readAgain = false;
        this.#follow();
      }
    });
    return this.#reading;
  }

  async #readLog() {
    const started = Date.now();
    try {
      const records = await this.#store.readAfter(this.#reader.seq());
      if (this.#closed) return;
      if (records.length) this.#reader.apply(records);
      this.#lastGood = Math.max(this.#lastGood, started);
      this.#lastError = null;
      this.#fault = null;
    } catch (e) {
      if (e instanceof RealmError && (e.code === "seq_gap" || e.code === "invalid_change")) this.#fault = e;
      else this.#lastError = e;
    }
  }

  /** Throws unless the state in memory is within the lag bound. */
  #fresh() {
    if (this.#closed) throw storeError("store_unavailable", "this realm's store was closed (closeStore)");
    if (this.#fault) throw this.#fault;
    const age = Date.now() - this.#lastGood;
    if (age > this.#maxLagMs) {
      this.#follow();
      const why = this.#lastError ? messageOf(this.#lastError) : "no read of the log has finished since";
      throw storeError(
        "store_unavailable",
        `the PostgreSQL store's log was last read ${(age / 1000).toFixed(1)} s ago, over maxLagSeconds ` +
          `(${this.#maxLagMs / 1000}): failing closed rather than miss a revocation (${why})`,
      );
    }
  }

  // ----- writes ------------------------------------------------------------

  _write(name, args) {
    const run = this.#queue.then(() => this.#writeOnce(name, args));
    this.#queue = run.then(
      () => this.#maybeCheckpoint(),
      () => {},
    );
    return run;
  }

  async #writeOnce(name, args) {
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      if (this.#closed) throw storeError("store_unavailable", "this realm's store was closed (closeStore)");
      if (this.#writerDirty) {
        const w = this.#make(this.#reader.snapshotText());
        this.#writer.free();
        this.#writer = w;
        this.#writerDirty = false;
      }
      const lockedAt = Date.now();
      const tx = await this.#store.begin();
      try {
        const last = await tx.last();
        const from = Math.min(this.#writer.seq(), this.#reader.seq());
        if (last > from) {
          // Read under the lock: nothing committed can be missing.
          const records = await tx.readAfter(from);
          this.#reader.apply(records);
          try {
            this.#writer.apply(records);
          } catch (e) {
            this.#writerDirty = true;
            throw e;
          }
        }
        this.#lastGood = Math.max(this.#lastGood, lockedAt);
        this.#captured = null;
        let result;
        try {
          result = this.#writer[name](...args);
        } catch (e) {
          // Refused: the core made no records and the writer is as it was.
          await tx.rollback();
          throw e;
        }
        const records = this.#captured;
        this.#captured = null;
        if (!records || records.length === 0) {
          await tx.rollback();
          return result;
        }
        // From here until COMMIT the writer is ahead of the store; the reader is not.
        const first = seqOf(records[0]);
        try {
          if (first !== last + 1) throw storeError("store_conflict", `seq ${first} is taken (the store is at ${last})`);
          await tx.commit(records, first);
        } catch (e) {
          this.#writerDirty = true;
          await tx.rollback();
          if (e instanceof RealmError && e.code === "store_conflict") continue;
          throw unavailable(e);
        }
        this.#reader.apply(records);
        this.#written = this.#reader.seq();
        this.#sinceCheckpoint += records.length;
        return result;
      } finally {
        tx.release();
      }
    }
    throw storeError("store_conflict", "other processes kept writing first; try again");
  }

  async #maybeCheckpoint() {
    if (this.#sinceCheckpoint < this.#checkpointEvery || this.#closed) return;
    // Read together, before any await: the text, its seq and its rows.
    const text = this.#reader.snapshotText();
    const seq = this.#reader.seq();
    const rows = this.#reader.rows();
    try {
      await this.#store.checkpoint(text, seq);
    } catch {
      // The writes are committed; a checkpoint only speeds up opening.
      return;
    }
    this.#sinceCheckpoint = 0;
    this.#checkpointEvery = Math.max(10_000, rows);
  }

  // ----- reads ----------------------------------------------------------------

  _read(name, args) {
    this.#fresh();
    return this.#reader[name](...args);
  }

  /** The realm in memory that answers reads (read it; change it only through this object). */
  get realm() {
    return this.#reader;
  }

  get engine() {
    return this.#reader.engine;
  }

  /** The PostgresStore this realm is kept in. */
  get store() {
    return this.#store;
  }

  /** The seq of the last record applied here. */
  seq() {
    return this.#reader.seq();
  }

  /** The seq of this object's last committed write (pass it as `minSeq` to another process's authenticate). */
  get writtenSeq() {
    return this.#written;
  }

  /**
   * Reads the log now and applies what other processes committed; resolves to the seq.
   * With `minSeq`, rejects with `store_unavailable` if the store has not reached it.
   */
  async sync(minSeq) {
    // A read that began before this call may have missed the latest commits: the one after it.
    await this.#follow();
    for (let i = 0; i < 3 && this.#reading; i++) await this.#reading;
    if (this.#fault) throw this.#fault;
    if (this.#lastError) throw unavailable(this.#lastError);
    if (minSeq !== undefined && minSeq !== null && this.#reader.seq() < minSeq) {
      throw storeError("store_unavailable", `the store has not reached seq ${minSeq} (it is at ${this.#reader.seq()})`);
    }
    return this.#reader.seq();
  }

  /**
   * As Realm#authenticate, on the state kept current by the listener; synchronous. Fails
   * closed (`store_unavailable`) past maxLagSeconds. `minSeq` (a seq a write returned
   * elsewhere) must be applied here, else `store_unavailable`: `await realm.sync(minSeq)` and
   * call again.
   */
  authenticate(header, now, minSeq) {
    this.#fresh();
    if (minSeq !== undefined && minSeq !== null && this.#reader.seq() < minSeq) {
      this.#follow();
      throw storeError(
        "store_unavailable",
        `this process has applied seq ${this.#reader.seq()}, not yet ${minSeq}: await realm.sync(${minSeq}) and call again`,
      );
    }
    return this.#reader.authenticate(header, now);
  }

  /**
   * As Realm#authenticateAsync (may fetch a KeySet's keys), with the same lag check; a
   * `minSeq` not applied yet is waited for with one read of the log (`sync(minSeq)`).
   */
  async authenticateAsync(header, now, minSeq) {
    this.#fresh();
    if (minSeq !== undefined && minSeq !== null && this.#reader.seq() < minSeq) await this.sync(minSeq);
    return this.#reader.authenticateAsync(header, now);
  }

  /** Waits for the writes under way, stops following, closes the store and frees the realm. */
  async closeStore() {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#reading) await this.#reading;
    await this.#store.close();
    this.#reader.free();
    this.#writer.free();
  }
}

for (const name of READS) {
  PostgresRealm.prototype[name] = function (...args) {
    return this._read(name, args);
  };
}
for (const name of WRITES) {
  PostgresRealm.prototype[name] = async function (...args) {
    return this._write(name, args);
  };
}
