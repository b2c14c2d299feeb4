// The SQLite-backed realm from Node (SPEC §7.1, issue 15): 10k users, 100k API tokens and
// 1k or 100k live sessions; authenticate, renew and openSession per second with
// synchronous=NORMAL and FULL, and snapshot/restore time and bytes. Not a test.
//   node bench/realm-store.mjs [--sessions 1000,100000] [--json out.json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { Realm, SqliteStore } from "../pkg/dist/node.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const SESSIONS = opt("--sessions", "1000,100000").split(",").map(Number);
const USERS = Number(opt("--users", "10000"));
const TOKENS = Number(opt("--tokens", "100000"));
const POLICY = { version: 1, roles: { user: { permissions: ["read_own_user"] }, admin: { inherits: ["user"], permissions: ["admin_user", "admin_token"] } } };
const KEY = { kty: "oct", k: Buffer.from("session-secret-session-secret-32").toString("base64url") };
const FAST = { argon2: { memoryKib: 8, iterations: 1, parallelism: 1 } };
const ADMIN = { id: "u-0", roles: ["admin"] };
const NOW = 1_700_000_000;

function rate(f, ms = 1500) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 200; i++) f(n++);
    t = performance.now();
  }
  return Math.round((n * 1000) / (t - t0));
}

// Writes: calls per second over the whole window, and from the median call (the steady
// state), with the longest call: a write that takes a checkpoint pauses for O(rows).
function writes(f, ms = 1500) {
  const lat = [];
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    const s = t;
    f(n++);
    t = performance.now();
    lat.push(t - s);
  }
  lat.sort((a, b) => a - b);
  return {
    per_s: Math.round((n * 1000) / (t - t0)),
    median_per_s: Math.round(1000 / lat[lat.length >> 1]),
    max_ms: Number(lat[lat.length - 1].toFixed(1)),
  };
}

function build(sessions) {
  const realm = new Realm(POLICY, KEY, FAST);
  for (let u = 0; u < USERS; u++) realm.createUser(u === 0 ? null : ADMIN, `user${u}`, null, { id: `u-${u}` }, NOW);
  const secrets = [];
  for (let t = 0; t < TOKENS; t++) secrets.push(realm.createApiToken(ADMIN, `u-${t % USERS}`, null, {}, NOW).secret);
  const tokens = [];
  for (let s = 0; s < sessions; s++) tokens.push(realm.openSession(secrets[s % TOKENS], NOW).token);
  return { realm, secrets, tokens };
}

const out = { users: USERS, tokens: TOKENS, runs: [] };
for (const sessions of SESSIONS) {
  const { realm, secrets, tokens } = build(sessions);
  let t = performance.now();
  const snap = realm.snapshot();
  const text = JSON.stringify(snap);
  const snapshotMs = performance.now() - t;
  t = performance.now();
  Realm.restore(POLICY, text, KEY, FAST).free();
  const restoreMs = performance.now() - t;
  for (const synchronous of ["NORMAL", "FULL"]) {
    const dir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
    const file = join(dir, "realm.db");
    const seed = new SqliteStore(file);
    seed.checkpoint(text, snap.seq);
    seed.close();
    t = performance.now();
    const stored = Realm.open(POLICY, KEY, file, { ...FAST, store: { synchronous } });
    const openMs = performance.now() - t;
    const run = { sessions, synchronous, snapshot_ms: Math.round(snapshotMs), snapshot_bytes: text.length, restore_ms: Math.round(restoreMs), open_ms: Math.round(openMs) };
    // First sight: each session token once, as the store opened (decoded, signature checked);
    // then seen before: the same tokens again, answered from the realm key's memory.
    t = performance.now();
    for (const token of tokens) stored.authenticate(`Bearer ${token}`, NOW + 1);
    run.authenticate_first_per_s = Math.round((tokens.length * 1000) / (performance.now() - t));
    run.authenticate_per_s = rate((i) => stored.authenticate(`Bearer ${tokens[i % tokens.length]}`, NOW + 1));
    for (const token of tokens) realm.authenticate(`Bearer ${token}`, NOW + 1);
    run.authenticate_in_memory_per_s = rate((i) => realm.authenticate(`Bearer ${tokens[i % tokens.length]}`, NOW + 1));
    // Each pass over the sessions a second later, so that every renewal moves `expires_at`
    // and is written (a renewal that changes nothing commits nothing).
    run.renew = writes((i) => stored.renew(tokens[i % tokens.length], NOW + 2 + Math.floor(i / tokens.length)));
    run.open_session = writes((i) => stored.openSession(secrets[i % secrets.length], NOW + 3), 1000);
    stored.closeStore();
    rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify(run));
    out.runs.push(run);
  }
  realm.free();
}
if (opt("--json")) writeFileSync(opt("--json"), JSON.stringify(out, null, 2));
