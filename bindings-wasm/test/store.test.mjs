// SPEC §7.1 from Node: Realm.open on SQLite (better-sqlite3), several realms and processes on
// one file, failed commits, bad store files, and a kill -9 crash test. Nothing depends on
// timing: child processes are told what to do through argv and their answers read from stdout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Realm, RealmError, TesseraError, SqliteStore, StoredRealm } from "../pkg/dist/node.mjs";
import { SESSION_KEY } from "./support.mjs";

const Database = createRequire(import.meta.url)("better-sqlite3");
const POLICY = {
  version: 1,
  roles: {
    user: { permissions: ["read_own_user", "create_own_token", "read_own_token", "update_own_token", "delete_own_token"] },
    admin: { inherits: ["user"], permissions: ["admin_user", "admin_token"] },
  },
};
const FAST = { argon2: { memoryKib: 8, iterations: 1, parallelism: 1 } };
const ADMIN = { id: "u-root", roles: ["admin"] };
const NOW = 1_700_000_000;

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), "tessera-store-"));
  return { dir, db: join(dir, "realm.db"), done: () => rmSync(dir, { recursive: true, force: true }) };
}

function code(f) {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TesseraError, `expected a TesseraError, got ${e}`);
    return e.code;
  }
  assert.fail("expected an error");
}

test("the journal: a failed commit changes nothing in memory", () => {
  const realm = new Realm(POLICY, SESSION_KEY, FAST);
  const kept = [];
  realm.setJournal((records) => kept.push(records));
  realm.createUser(null, "root", null, { id: "u-root" }, 100);
  assert.deepEqual(kept, [realm.changes()]);
  assert.match(kept[0][0], /^\{"seq":1,"kind":"user_put","user":\{"id":"u-root"/);
  const before = realm.snapshot();
  realm.setJournal(() => {
    throw Object.assign(new Error("disk full"), { code: "store_unavailable" });
  });
  assert.equal(code(() => realm.createUser(ADMIN, "ann", null, { id: "u-ann" }, 101)), "store_unavailable");
  assert.deepEqual(realm.snapshot(), before);
  assert.equal(realm.seq(), 1);
  realm.setJournal(null);
  realm.createUser(ADMIN, "ann", null, { id: "u-ann" }, 101);
  assert.equal(realm.seq(), 2);
  realm.free();
});

test("Realm.open on SQLite: reopening keeps everything and is not a restart", () => {
  const t = tmp();
  try {
    const a = Realm.open(POLICY, SESSION_KEY, `sqlite:${t.db}`, FAST);
    assert.ok(a instanceof StoredRealm);
    a.createUser(null, "root", "pw-root-1", { id: "u-root" }, NOW);
    const tok = a.createApiToken(ADMIN, "u-root", null, {}, NOW);
    const s = a.openSession(tok.secret, NOW);
    const seq = a.writtenSeq;
    assert.equal(seq, a.seq());
    a.closeStore();
    const b = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    assert.equal(b.seq(), seq);
    assert.equal(b.authenticate(`Bearer ${s.token}`, NOW + 1).id, "u-root");
    b.closeStore();
  } finally {
    t.done();
  }
});

test("two realms on one file: users, tokens and revocations are honoured on the next call", () => {
  const t = tmp();
  try {
    const a = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    const b = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    a.createUser(null, "root", null, { id: "u-root" }, NOW);
    // Exactly one bootstrap admin: b's call is redone on the newer state, which has one.
    assert.equal(code(() => b.createUser(null, "eve", null, { id: "u-eve" }, NOW)), "forbidden");
    // Unique usernames across both.
    assert.equal(code(() => b.createUser(ADMIN, "ROOT", null, {}, NOW)), "conflict");
    const tok = b.createApiToken(ADMIN, "u-root", null, {}, NOW);
    const s = a.openSession(tok.secret, NOW);
    assert.equal(b.authenticate(`Bearer ${s.token}`, NOW).id, "u-root");
    a.revokeApiToken(ADMIN, tok.record.id);
    assert.equal(code(() => b.openSession(tok.secret, NOW)), "revoked");
    // A write through b after the revocation does not bring the token back.
    b.createUser(ADMIN, "ann", null, { id: "u-ann" }, NOW);
    const c = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    assert.equal(code(() => c.openSession(tok.secret, NOW)), "revoked");
    assert.deepEqual(c.snapshot(), a.snapshot());
    assert.deepEqual(b.snapshot(), a.snapshot());
    for (const r of [a, b, c]) r.closeStore();
  } finally {
    t.done();
  }
});

test("a failed SQLite commit changes nothing in memory", () => {
  const t = tmp();
  try {
    const a = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    a.createUser(null, "root", null, { id: "u-root" }, NOW);
    const before = a.snapshot();
    // Another connection holds the write lock past the busy timeout.
    const slow = Realm.open(POLICY, SESSION_KEY, new SqliteStore(t.db, { busyTimeoutMs: 50 }), FAST);
    const other = new Database(t.db);
    other.prepare("BEGIN IMMEDIATE").run();
    assert.equal(code(() => slow.createUser(ADMIN, "ann", null, {}, NOW)), "store_unavailable");
    assert.deepEqual(slow.snapshot(), before);
    other.prepare("ROLLBACK").run();
    other.close();
    slow.createUser(ADMIN, "ann", null, { id: "u-ann" }, NOW);
    assert.equal(a.getUser(ADMIN, "u-ann").username, "ann");
    a.closeStore();
    slow.closeStore();
  } finally {
    t.done();
  }
});

test("bad store files are typed errors", () => {
  const t = tmp();
  try {
    writeFileSync(t.db, "this is not a database, just text that is long enough to be read as a header....");
    assert.equal(code(() => Realm.open(POLICY, SESSION_KEY, t.db, FAST)), "invalid_store");
    rmSync(t.db);
    const plain = new Database(t.db);
    plain.prepare("CREATE TABLE t (x)").run();
    plain.close();
    assert.equal(code(() => Realm.open(POLICY, SESSION_KEY, t.db, FAST)), "invalid_store");
    rmSync(t.db);
    Realm.open(POLICY, SESSION_KEY, t.db, FAST).closeStore();
    const db = new Database(t.db);
    db.prepare("UPDATE realm_meta SET value = '99' WHERE key = 'schema_version'").run();
    assert.equal(code(() => Realm.open(POLICY, SESSION_KEY, t.db, FAST)), "unsupported_store_version");
    db.prepare("UPDATE realm_meta SET value = '1' WHERE key = 'schema_version'").run();
    db.prepare(`INSERT INTO realm_changes VALUES (1, '{"seq":1,"kind":"nope"}')`).run();
    assert.equal(code(() => Realm.open(POLICY, SESSION_KEY, t.db, FAST)), "invalid_change");
    db.prepare(`UPDATE realm_changes SET seq = 2, record = '{"seq":2,"kind":"epoch_raised","epoch":1}'`).run();
    assert.equal(code(() => Realm.open(POLICY, SESSION_KEY, t.db, FAST)), "seq_gap");
    // The same gap met while following another process: the realm stays as it was.
    db.prepare("DELETE FROM realm_changes").run();
    const r = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    db.prepare(`INSERT INTO realm_changes VALUES (2, '{"seq":2,"kind":"epoch_raised","epoch":1}')`).run();
    assert.equal(code(() => r.authenticate("Bearer x", NOW)), "seq_gap");
    assert.equal(r.seq(), 0);
    r.closeStore();
    db.close();
  } finally {
    t.done();
  }
});

// A writer process: creates users u-<i> in a loop and prints each acknowledged one.
const WORKER = `
import { Realm } from ${JSON.stringify(new URL("../pkg/dist/node.mjs", import.meta.url).href)};
const [db, from, count] = process.argv.slice(2);
const KEY = ${JSON.stringify(SESSION_KEY)};
const r = Realm.open(${JSON.stringify(POLICY)}, KEY, db, ${JSON.stringify(FAST)});
const admin = { id: "u-root", roles: ["admin"] };
for (let i = Number(from); i < Number(from) + Number(count); i++) {
  r.createUser(admin, "user" + i, null, { id: "u-" + i }, 1);
  process.stdout.write("ack " + i + "\\n");
}
r.closeStore();
`;

function worker(dir, db, from, count) {
  const file = join(dir, "worker.mjs");
  writeFileSync(file, WORKER);
  return spawn(process.execPath, [file, db, String(from), String(count)], { stdio: ["ignore", "pipe", "inherit"] });
}

test("three processes write to one file: every write lands once, in one order", async () => {
  const t = tmp();
  try {
    const root = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    root.createUser(null, "root", null, { id: "u-root" }, NOW);
    const kids = [0, 1, 2].map((k) => worker(t.dir, t.db, k * 1000, 40));
    const codes = await Promise.all(kids.map((c) => new Promise((ok) => c.on("exit", ok))));
    assert.deepEqual(codes, [0, 0, 0]);
    const users = root.listUsers(ADMIN);
    assert.equal(users.length, 1 + 3 * 40);
    assert.equal(root.seq(), 1 + 3 * 40);
    root.closeStore();
  } finally {
    t.done();
  }
});

test("kill -9 in the middle of writes, 20 times: every acknowledged change survives", async () => {
  const t = tmp();
  try {
    const root = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    root.createUser(null, "root", null, { id: "u-root" }, NOW);
    root.closeStore();
    let from = 0;
    for (let round = 0; round < 20; round++) {
      const child = worker(t.dir, t.db, from, 100_000);
      const acked = await new Promise((ok) => {
        let text = "";
        let got = [];
        child.stdout.on("data", (d) => {
          text += d;
          const lines = text.split("\n");
          text = lines.pop();
          got.push(...lines.map((l) => Number(l.slice(4))));
          // Killed at a different point each round, mid-burst.
          if (got.length >= 5 + round * 3 && !child.killed) child.kill("SIGKILL");
        });
        child.on("exit", () => ok(got));
      });
      assert.ok(acked.length >= 5, `round ${round}: the writer acknowledged ${acked.length} writes`);
      const r = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
      const ids = new Set(r.listUsers(ADMIN).map((u) => u.id));
      for (const i of acked) assert.ok(ids.has(`u-${i}`), `acknowledged u-${i} survived round ${round}`);
      // Nothing half-done: the store opens, folds, and every record is a whole user.
      assert.equal(r.seq(), ids.size);
      r.closeStore();
      from += 10_000;
    }
  } finally {
    t.done();
  }
});

test("Node and Python read each other's store files (one schema)", { skip: !python() }, () => {
  const t = tmp();
  try {
    const a = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    a.createUser(null, "root", null, { id: "u-root" }, NOW);
    a.closeStore();
    const script = `
import json, sys, tessera
r = tessera.Realm.open(json.loads(sys.argv[2]), json.loads(sys.argv[3]), "sqlite:" + sys.argv[1], {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}})
r.create_user({"id": "u-root", "roles": ["admin"]}, "py", None, {"id": "u-py"}, 5)
r.close_store()
`;
    execFileSync(python(), ["-c", script, t.db, JSON.stringify(POLICY), JSON.stringify(SESSION_KEY)]);
    const b = Realm.open(POLICY, SESSION_KEY, t.db, FAST);
    assert.equal(b.getUser(ADMIN, "u-py").username, "py");
    b.closeStore();
  } finally {
    t.done();
  }
});

function python() {
  const venv = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));
  try {
    execFileSync(venv, ["-c", "import tessera; tessera.Realm.open"], { stdio: "ignore" });
    return venv;
  } catch {
    return null;
  }
}
