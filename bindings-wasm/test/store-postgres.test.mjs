// SPEC §7.1 from Node on PostgreSQL (docs/realm.md "Stores (Node)"): Realm.open on a real
// PostgreSQL server started by the test (test/pg-server.mjs: initdb + pg_ctl as `postgres` on
// a unix socket, stopped by PID), two and more Node processes (test/pg-worker.mjs) on one
// database, concurrent writers, Python and Node on one database, failed commits, bad stores,
// the database going away, and kill -9 in the middle of writes, 20 times. No assertion depends
// on timing: a change made elsewhere is waited for with a generous deadline (the bound itself
// is measured by bench/realm-store-pg.mjs, not asserted).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Realm, TesseraError, PostgresRealm, PostgresStore } from "../pkg/dist/node.mjs";
import { ADMIN, FAST, PG_KEY, PG_POLICY, PgServer, pgBinDir } from "./pg-server.mjs";

const pg = createRequire(import.meta.url)("pg");
const NOW = 1_700_000_000;
const WORKER = fileURLToPath(new URL("./pg-worker.mjs", import.meta.url));
const SKIP = pgBinDir() === null ? "PostgreSQL is not installed (make setup-postgres)" : false;
if (SKIP) console.log(`# skipping the PostgreSQL store tests: ${SKIP}`);

let server;
before(() => {
  if (!SKIP) server = new PgServer();
});
after(async () => {
  if (server) await server.stop();
});

let counter = 0;
const fresh = () => `r${process.pid}-${counter++}`;
const open = (name, extra = {}, url = server.url) => Realm.open(PG_POLICY, PG_KEY, url, { ...FAST, realm: name, ...extra });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function codeOf(f) {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TesseraError, `expected a TesseraError, got ${e}`);
    return e.code;
  }
  return null;
}

async function rejection(p) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TesseraError, `expected a TesseraError, got ${e && e.stack}`);
    return e.code;
  }
  assert.fail("expected a rejection");
}

/** Waits for `f()` to be true (a condition, not a duration: the deadline is generous). */
async function until(what, f, deadlineMs = 30_000) {
  const end = Date.now() + deadlineMs;
  let last;
  for (;;) {
    try {
      if (await f()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) assert.fail(`waited ${deadlineMs} ms for ${what}${last ? `: ${last.message}` : ""}`);
    await sleep(10);
  }
}

async function sql(text, params, url = server.url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** A Node process with its own PostgreSQL realm (test/pg-worker.mjs). */
class Child {
  constructor(name, mode = "serve", args = []) {
    this.proc = spawn(process.execPath, [WORKER, server.url, name, mode, ...args], { stdio: ["pipe", "pipe", "inherit"] });
    this.exited = new Promise((ok) => this.proc.on("exit", (code, signal) => ok(signal ?? code)));
    this.waiting = [];
    this.lines = [];
    createInterface({ input: this.proc.stdout }).on("line", (l) => {
      const w = this.waiting.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
  }

  line() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return new Promise((ok, fail) => {
      this.waiting.push(ok);
      this.exited.then((c) => fail(new Error(`the worker exited (${c}) before answering`)));
    });
  }

  async ready() {
    assert.equal(await this.line(), "ready");
    return this;
  }

  send(op, args = [], minSeq) {
    this.proc.stdin.write(`${JSON.stringify({ op, args, minSeq })}\n`);
  }

  async call(op, args = [], minSeq) {
    this.send(op, args, minSeq);
    return JSON.parse(await this.line());
  }

  async exit() {
    this.proc.stdin.end(`${JSON.stringify({ op: "exit" })}\n`);
    assert.equal(await this.exited, 0);
  }
}

test("Realm.open on PostgreSQL: a promise of a PostgresRealm; reopening keeps everything and is not a restart", { skip: SKIP }, async () => {
  const name = fresh();
  const opening = open(name);
  assert.ok(opening instanceof Promise);
  const a = await opening;
  assert.ok(a instanceof PostgresRealm);
  assert.equal(a.seq(), 0);
  const root = await a.createUser(null, "root", "pw-root-1", { id: "u-root" }, NOW);
  assert.deepEqual(root.roles, ["admin"]);
  assert.equal(a.writtenSeq, 1);
  const tok = await a.createApiToken(ADMIN, "u-root", null, {}, NOW);
  const s = await a.openSession(tok.secret, NOW);
  const grant = await a.login("root", "pw-root-1", NOW);
  assert.equal(a.authenticate(`Bearer ${grant.token}`, NOW + 1).id, "u-root");
  const seq = a.writtenSeq;
  assert.equal(seq, a.seq());
  // A refused write commits nothing and resolves nothing.
  assert.equal(await rejection(a.createUser(ADMIN, "ROOT", null, {}, NOW)), "conflict");
  assert.equal(a.seq(), seq);
  await a.closeStore();
  const b = await open(name);
  assert.equal(b.seq(), seq);
  assert.equal(b.authenticate(`Bearer ${s.token}`, NOW + 1).id, "u-root");
  // The records are the same bytes as the database holds.
  const rows = await sql("SELECT record FROM realm_changes WHERE realm = $1 ORDER BY seq", [name]);
  assert.deepEqual(b.changes(0), rows.map((r) => r.record));
  await b.closeStore();
  // Another realm in the same database is another realm.
  const other = await open(`${name}-other`);
  assert.equal(other.seq(), 0);
  await other.closeStore();
});

test("two Node processes on one database: a user, token, session and revocation made through one are honoured by the other", { skip: SKIP }, async () => {
  const name = fresh();
  const a = await open(name);
  const b = await new Child(name).ready();
  try {
    await a.createUser(null, "root", "pw", { id: "u-root" }, NOW);
    const ann = await b.call("createUser", [ADMIN, "ann", null, { id: "u-ann" }, NOW]);
    assert.equal(ann.ok.id, "u-ann", JSON.stringify(ann));
    assert.equal(ann.writtenSeq, 2);
    // No sync: the doorbell (or the poll) brings it within the bound.
    await until("A sees the user B made", () => a.getUser(ADMIN, "u-ann").username === "ann");
    const made = await b.call("createApiToken", [ADMIN, "u-ann", null, {}, NOW]);
    const tok = made.ok;
    // Read-your-writes: with minSeq, an answer is current or store_unavailable, never stale.
    const c = codeOf(() => assert.equal(a.authenticate(tok.secret, NOW, made.writtenSeq).id, "u-ann"));
    assert.ok(c === null || c === "store_unavailable", String(c));
    assert.equal(await a.sync(made.writtenSeq), made.writtenSeq);
    assert.equal(a.authenticate(tok.secret, NOW, made.writtenSeq).id, "u-ann");
    assert.equal((await a.authenticateAsync(tok.secret, NOW, made.writtenSeq)).id, "u-ann");
    // A session opened through A is honoured by B.
    const s = await a.openSession(tok.secret, NOW);
    assert.equal((await b.call("sync", [], a.writtenSeq)).ok, a.writtenSeq);
    assert.equal((await b.call("authenticate", [`Bearer ${s.token}`, NOW], a.writtenSeq)).ok.id, "u-ann");
    // A revocation through B: A refuses the token and its session within the bound.
    const revoked = await b.call("revokeApiToken", [ADMIN, tok.record.id]);
    assert.equal(revoked.ok.state, "revoked");
    await until("A refuses the token B revoked", () => codeOf(() => a.authenticate(tok.secret, NOW)) === "revoked");
    assert.equal(codeOf(() => a.authenticate(`Bearer ${s.token}`, NOW)), "revoked");
    assert.equal(await rejection(a.openSession(tok.secret, NOW)), "revoked");
    // A's next write does not bring it back; a third realm agrees.
    await a.createUser(ADMIN, "bob", null, { id: "u-bob" }, NOW);
    const third = await open(name);
    assert.equal(codeOf(() => third.authenticate(tok.secret, NOW)), "revoked");
    assert.deepEqual(third.snapshot(), a.snapshot());
    assert.deepEqual((await b.call("sync", [], a.writtenSeq)).ok, a.writtenSeq);
    assert.deepEqual((await b.call("snapshot")).ok, a.snapshot());
    await third.closeStore();
  } finally {
    await b.exit();
    await a.closeStore();
  }
});

test("concurrent writers in three processes: one bootstrap admin, unique usernames, a revoked token never comes back", { skip: SKIP }, async () => {
  const name = fresh();
  const kids = await Promise.all([0, 1, 2].map(() => new Child(name).ready()));
  try {
    // Every process asks to be the first user at once.
    kids.forEach((k, i) => k.send("createUser", [null, `boot${i}`, null, { id: `u-boot${i}` }, NOW]));
    const boots = await Promise.all(kids.map(async (k) => JSON.parse(await k.line())));
    const won = boots.filter((b) => b.ok);
    assert.equal(won.length, 1, JSON.stringify(boots));
    assert.deepEqual(won[0].ok.roles, ["admin"]);
    for (const b of boots) if (!b.ok) assert.equal(b.error, "forbidden", JSON.stringify(b));
    // All three create the same 15 usernames at once (in a different case each).
    const N = 15;
    kids.forEach((k, i) => {
      for (let n = 0; n < N; n++) k.send("createUser", [ADMIN, i === 1 ? `NAME${n}` : `name${n}`, null, null, NOW]);
    });
    const answers = await Promise.all(kids.map(async (k) => Promise.all(Array.from({ length: N }, async () => JSON.parse(await k.line())))));
    for (let n = 0; n < N; n++) {
      const column = answers.map((a) => a[n]);
      // Each name is created once; the others are refused, however the writes interleaved.
      const oks = answers.flat().filter((a) => a.ok && a.ok.username.toLowerCase() === `name${n}`);
      assert.equal(oks.length, 1, `name${n}: ${JSON.stringify(column)}`);
    }
    for (const a of answers.flat()) if (!a.ok) assert.equal(a.error, "conflict", JSON.stringify(a));
    const owner = won[0].ok.id;
    const view = await open(name);
    await view.sync();
    assert.equal(view.listUsers(ADMIN).length, 1 + N);
    // One process revokes a token while the others suspend and resume it.
    const tok = await view.createApiToken(ADMIN, owner, null, {}, NOW);
    const id = tok.record.id;
    kids.forEach((k, i) => {
      for (let n = 0; n < 10; n++) {
        if (i === 0 && n === 4) k.send("revokeApiToken", [ADMIN, id]);
        k.send("suspendApiToken", [ADMIN, id]);
        k.send("resumeApiToken", [ADMIN, id]);
      }
    });
    const counts = [21, 20, 20];
    const races = await Promise.all(kids.map(async (k, i) => Promise.all(Array.from({ length: counts[i] }, async () => JSON.parse(await k.line())))));
    // Refused: suspending a suspended token, resuming an active one, or anything after the revocation.
    for (const a of races.flat()) if (!a.ok) assert.ok(["invalid_transition", "revoked"].includes(a.error), JSON.stringify(a));
    assert.ok(races[0].some((a) => a.ok && a.ok.state === "revoked"), "the revocation went through");
    await view.sync();
    assert.equal(view.listApiTokens(ADMIN, owner).find((t) => t.id === id).state, "revoked");
    assert.equal(await rejection(view.openSession(tok.secret, NOW)), "revoked");
    // In the log, once revoked the token is never put back live.
    let revokedAt = null;
    for (const text of view.changes(0)) {
      const r = JSON.parse(text);
      if (r.kind !== "token_put" || r.token.id !== id) continue;
      if (revokedAt !== null) assert.equal(r.token.state, "revoked", `seq ${r.seq} after the revocation at ${revokedAt}`);
      if (r.token.state === "revoked") revokedAt ??= r.seq;
    }
    assert.ok(revokedAt !== null);
    // Every process ends with the same state.
    for (const k of kids) assert.deepEqual((await k.call("sync", [], view.seq())).ok, view.seq());
    for (const k of kids) assert.deepEqual((await k.call("snapshot")).ok, view.snapshot());
    await view.closeStore();
  } finally {
    for (const k of kids) await k.exit();
  }
});

test("a failed commit changes nothing in memory, and the next write goes through", { skip: SKIP }, async () => {
  const name = fresh();
  const a = await open(name);
  await a.createUser(null, "root", null, { id: "u-root" }, NOW);
  const before = a.snapshot();
  // The database refuses this realm's inserts (a real failure inside the transaction).
  const trigger = `refuse_${name.replace(/[^a-z0-9]/gi, "_")}`;
  await sql("CREATE OR REPLACE FUNCTION tessera_test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$ LANGUAGE plpgsql");
  await sql(`CREATE TRIGGER ${trigger} BEFORE INSERT ON realm_changes FOR EACH ROW WHEN (NEW.realm = '${name}') EXECUTE FUNCTION tessera_test_refuse()`);
  try {
    assert.equal(await rejection(a.createUser(ADMIN, "ann", null, { id: "u-ann" }, NOW)), "store_unavailable");
    const tok = rejection(a.createApiToken(ADMIN, "u-root", null, {}, NOW));
    assert.equal(await tok, "store_unavailable");
    assert.deepEqual(a.snapshot(), before);
    assert.equal(a.seq(), 1);
    assert.equal(codeOf(() => a.getUser(ADMIN, "u-ann")), "not_found");
  } finally {
    await sql(`DROP TRIGGER ${trigger} ON realm_changes`);
  }
  // The same call again: nothing of the failed one is left behind (it would be a conflict).
  assert.equal((await a.createUser(ADMIN, "ann", null, { id: "u-ann" }, NOW)).id, "u-ann");
  assert.equal(a.seq(), 2);
  // A write that waits too long for another process's lock is store_conflict, and changes nothing.
  const slow = await open(name, { store: { lockTimeoutMs: 100 } });
  const holder = new pg.Client({ connectionString: server.url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`tessera-realm:${name}`]);
  assert.equal(await rejection(slow.createUser(ADMIN, "cy", null, { id: "u-cy" }, NOW)), "store_conflict");
  await holder.query("ROLLBACK");
  await holder.end();
  assert.equal((await slow.createUser(ADMIN, "cy", null, { id: "u-cy" }, NOW)).id, "u-cy");
  await until("A sees cy", () => a.getUser(ADMIN, "u-cy").username === "cy");
  await slow.closeStore();
  await a.closeStore();
});

test("connections cut in the middle of writes: every write resolves or rejects typed, and memory equals the log", { skip: SKIP }, async () => {
  const name = fresh();
  const a = await open(name, { store: { poolSize: 2 } });
  await a.createUser(null, "root", null, { id: "u-root" }, NOW);
  const killer = new pg.Client({ connectionString: server.url });
  await killer.connect();
  const done = [];
  const failed = [];
  let cutting = true;
  const cuts = (async () => {
    let n = 0;
    while (cutting) {
      // Every other client connection of this server (the realm's pool and its listener).
      await killer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'");
      n += 1;
      await sleep(3);
    }
    return n;
  })();
  for (let i = 0; i < 300; i++) {
    try {
      await a.createUser(ADMIN, `user${i}`, null, { id: `u-${i}` }, NOW);
      done.push(i);
    } catch (e) {
      assert.ok(e instanceof TesseraError, String(e));
      assert.equal(e.code, "store_unavailable", e.message);
      failed.push(i);
    }
  }
  cutting = false;
  const rounds = await cuts;
  await killer.end();
  assert.ok(rounds > 0 && done.length > 0, `${rounds} cuts, ${done.length} writes went through`);
  // Whatever the cuts did, memory follows the log exactly, and every acknowledged write is in it.
  await until("a follows the log again", async () => (await a.sync()) >= 0);
  const b = await open(name);
  assert.deepEqual(a.snapshot(), b.snapshot());
  const ids = new Set(b.listUsers(ADMIN).map((u) => u.id));
  for (const i of done) assert.ok(ids.has(`u-${i}`), `acknowledged u-${i} is in the log`);
  assert.equal(b.seq(), ids.size);
  // And the realm still writes.
  assert.equal((await a.createUser(ADMIN, "after", null, { id: "u-after" }, NOW)).id, "u-after");
  await b.closeStore();
  await a.closeStore();
});

test("bad stores and bad arguments are typed errors", { skip: SKIP }, async () => {
  const name = fresh();
  const r0 = await open(name);
  await r0.closeStore();
  await sql("UPDATE realm_meta SET value = '99' WHERE realm = $1 AND key = 'schema_version'", [name]);
  assert.equal(await rejection(open(name)), "unsupported_store_version");
  await sql("UPDATE realm_meta SET value = 'one' WHERE realm = $1 AND key = 'schema_version'", [name]);
  assert.equal(await rejection(open(name)), "invalid_store");
  await sql("UPDATE realm_meta SET value = '1' WHERE realm = $1 AND key = 'schema_version'", [name]);
  await sql("UPDATE realm_meta SET value = 'something-else' WHERE realm = $1 AND key = 'format'", [name]);
  assert.equal(await rejection(open(name)), "invalid_store");
  await sql("UPDATE realm_meta SET value = 'tessera-realm' WHERE realm = $1 AND key = 'format'", [name]);
  await sql(`INSERT INTO realm_changes VALUES ($1, 1, '{"seq":1,"kind":"nope"}')`, [name]);
  assert.equal(await rejection(open(name)), "invalid_change");
  await sql(`UPDATE realm_changes SET seq = 2, record = '{"seq":2,"kind":"epoch_raised","epoch":1}' WHERE realm = $1`, [name]);
  assert.equal(await rejection(open(name)), "seq_gap");
  // The same gap met while following the log: the realm stays as it was and fails closed.
  await sql("DELETE FROM realm_changes WHERE realm = $1", [name]);
  const r = await open(name);
  await sql(`INSERT INTO realm_changes VALUES ($1, 2, '{"seq":2,"kind":"epoch_raised","epoch":1}')`, [name]);
  assert.equal(await rejection(r.sync()), "seq_gap");
  assert.equal(codeOf(() => r.authenticate("Bearer x", NOW)), "seq_gap");
  assert.equal(r.seq(), 0);
  await r.closeStore();
  // Arguments, and a database that is not there.
  assert.equal(await rejection(open(fresh(), { maxLagSeconds: 0 })), "invalid_argument");
  assert.equal(await rejection(open(fresh(), { realm: "" })), "invalid_argument");
  const nowhere = `postgresql://postgres@/postgres?host=${server.root}/nowhere`;
  assert.equal(await rejection(open(fresh(), { store: { connectTimeoutMs: 2000 } }, nowhere)), "store_unavailable");
  assert.equal(await rejection(PostgresStore.connect("sqlite:x")), "invalid_argument");
});

test("the database goes away: answers from memory within maxLagSeconds, then store_unavailable; back again, the log is replayed", { skip: SKIP }, async () => {
  const own = new PgServer();
  try {
    const name = fresh();
    const r = await open(name, { maxLagSeconds: 0.5 }, own.url);
    await r.createUser(null, "root", null, { id: "u-root" }, NOW);
    const tok = await r.createApiToken(ADMIN, "u-root", null, {}, NOW);
    const before = r.snapshot();
    await own.halt();
    await until("authenticate fails closed", () => codeOf(() => r.authenticate(tok.secret, NOW)) === "store_unavailable");
    assert.equal(codeOf(() => r.listUsers(ADMIN)), "store_unavailable");
    assert.equal(await rejection(r.createUser(ADMIN, "ann", null, {}, NOW)), "store_unavailable");
    assert.equal(await rejection(r.sync()), "store_unavailable");
    assert.deepEqual(r.realm.snapshot(), before);
    own.start();
    // While r was cut off, another process revokes the token: r replays it on reconnecting.
    const other = await open(name, {}, own.url);
    await other.revokeApiToken(ADMIN, tok.record.id);
    await until("r follows the log again", () => codeOf(() => r.authenticate(tok.secret, NOW)) === "revoked");
    await until("r writes again", async () => (await r.createUser(ADMIN, "ann", null, { id: "u-ann" }, NOW)).id === "u-ann");
    await until("other sees it", () => other.getUser(ADMIN, "u-ann").username === "ann");
    await other.closeStore();
    await r.closeStore();
  } finally {
    await own.stop();
  }
});

test("kill -9 in the middle of a burst of writes, 20 times: every acknowledged change survives, the store always opens", { skip: SKIP }, async () => {
  const name = fresh();
  const root = await open(name);
  await root.createUser(null, "root", null, { id: "u-root" }, NOW);
  await root.closeStore();
  let from = 0;
  for (let round = 0; round < 20; round++) {
    const child = new Child(name, "burst", [String(from), "100000"]);
    await child.ready();
    const acked = [];
    // Killed at a different point each round, mid-burst.
    while (acked.length < 3 + round * 2) acked.push(Number((await child.line()).slice(4)));
    child.proc.kill("SIGKILL");
    assert.equal(await child.exited, "SIGKILL");
    const r = await open(name);
    const ids = new Set(r.listUsers(ADMIN).map((u) => u.id));
    for (const i of acked) assert.ok(ids.has(`u-${i}`), `acknowledged u-${i} survived round ${round}`);
    // Nothing half-done: every record is a whole user, in one unbroken log.
    assert.equal(r.seq(), ids.size);
    await r.closeStore();
    from += 10_000;
  }
});

function python() {
  const venv = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));
  try {
    execFileSync(venv, ["-c", "import tessera, psycopg, psycopg_pool; tessera.Realm.open"], { stdio: "ignore" });
    return venv;
  } catch {
    return null;
  }
}

const PY = python();
const PY_SKIP = SKIP || (PY ? false : "the Python package is not built into .venv (make build-python)");
if (!SKIP && !PY) console.log(`# skipping Python and Node on one PostgreSQL database: ${PY_SKIP}`);

test("a Python realm and a Node realm share one database", { skip: PY_SKIP }, async () => {
  const name = fresh();
  const a = await open(name);
  await a.createUser(null, "root", null, { id: "u-root" }, NOW);
  const script = `
import json, sys, tessera
url, name, policy, key = sys.argv[1:5]
r = tessera.Realm.open(json.loads(policy), json.loads(key), url, {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}}, realm=name, max_lag_seconds=0)
admin = {"id": "u-root", "roles": ["admin"]}
r.create_user(admin, "py", None, {"id": "u-py"}, 5)
t = r.create_api_token(admin, "u-py", None, None, 6)
print(json.dumps({"secret": t["secret"], "id": t["record"]["id"], "seq": r.written_seq}), flush=True)
seq = int(sys.stdin.readline())
try:
    r.authenticate(t["secret"], 7, min_seq=seq)
    print("accepted", flush=True)
except tessera.TesseraError as e:
    print(e.code, flush=True)
print(json.dumps(r.snapshot()), flush=True)
r.close_store()
`;
  const py = spawn(PY, ["-c", script, server.url, name, JSON.stringify(PG_POLICY), JSON.stringify(PG_KEY)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value;
  const made = JSON.parse(await next());
  await a.sync(made.seq);
  assert.equal(a.getUser(ADMIN, "u-py").username, "py");
  assert.equal(a.authenticate(made.secret, NOW, made.seq).id, "u-py");
  await a.revokeApiToken(ADMIN, made.id);
  py.stdin.write(`${a.writtenSeq}\n`);
  assert.equal(await next(), "revoked");
  assert.deepEqual(JSON.parse(await next()), a.snapshot());
  assert.equal(await new Promise((ok) => py.on("exit", ok)), 0);
  await a.closeStore();
});
