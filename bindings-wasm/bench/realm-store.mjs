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
// state), with the longest call (a write that takes a checkpoint pauses for O(rows)) and
// the number of calls made.
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
    n,
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

// The sizes are measured side by side: both realms are built first, and each
// figure is taken in slices that alternate between them (SLICES of each), the
// median slice reported. The machine drifts (this VM's disk time for an fsync
// moved FULL writes by 25% between two phases of one run), and alternating
// puts both sizes under the same drift.
const SLICES = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const out = { users: USERS, tokens: TOKENS, slices: SLICES, runs: [] };
const built = SESSIONS.map((sessions) => {
  const b = build(sessions);
  let t = performance.now();
  const snap = b.realm.snapshot();
  const text = JSON.stringify(snap);
  const snapshotMs = performance.now() - t;
  t = performance.now();
  Realm.restore(POLICY, text, KEY, FAST).free();
  const restoreMs = performance.now() - t;
  return { sessions, ...b, snap, text, snapshotMs, restoreMs };
});
for (const synchronous of ["NORMAL", "FULL"]) {
  const runs = built.map((b) => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
    const file = join(dir, "realm.db");
    const seed = new SqliteStore(file);
    seed.checkpoint(b.text, b.snap.seq);
    seed.close();
    const t = performance.now();
    const stored = Realm.open(POLICY, KEY, file, { ...FAST, store: { synchronous } });
    const openMs = performance.now() - t;
    const run = { sessions: b.sessions, synchronous, snapshot_ms: Math.round(b.snapshotMs), snapshot_bytes: b.text.length, restore_ms: Math.round(b.restoreMs), open_ms: Math.round(openMs) };
    return { b, dir, stored, run, slices: { auth: [], mem: [], renew: [], open: [] }, calls: { renew: 0, open: 0 } };
  });
  // First sight: each session token once, as the store opened (decoded, signature checked).
  for (const r of runs) {
    const t = performance.now();
    for (const token of r.b.tokens) r.stored.authenticate(`Bearer ${token}`, NOW + 1);
    r.run.authenticate_first_per_s = Math.round((r.b.tokens.length * 1000) / (performance.now() - t));
    for (const token of r.b.tokens) r.b.realm.authenticate(`Bearer ${token}`, NOW + 1);
  }
  // Seen before: the same tokens again, answered from the realm key's memory (the
  // store's realm, and the same realm in memory with no store).
  for (let k = 0; k < SLICES; k++) {
    for (const r of runs) {
      const tokens = r.b.tokens;
      r.slices.auth.push(rate((i) => r.stored.authenticate(`Bearer ${tokens[i % tokens.length]}`, NOW + 1), 300));
      r.slices.mem.push(rate((i) => r.b.realm.authenticate(`Bearer ${tokens[i % tokens.length]}`, NOW + 1), 300));
    }
  }
  // Writes. Each pass over the sessions a second later, so that every renewal moves
  // `expires_at` and is written (a renewal that changes nothing commits nothing).
  for (let k = 0; k < SLICES; k++) {
    for (const r of runs) {
      const { tokens, secrets } = r.b;
      const base = r.calls.renew;
      const w = writes((i) => r.stored.renew(tokens[(base + i) % tokens.length], NOW + 2 + Math.floor((base + i) / tokens.length)), 300);
      r.calls.renew += w.n;
      r.slices.renew.push(w);
      const base2 = r.calls.open;
      const o = writes((i) => r.stored.openSession(secrets[(base2 + i) % secrets.length], NOW + 3), 200);
      r.calls.open += o.n;
      r.slices.open.push(o);
    }
  }
  for (const r of runs) {
    const pick = (ws) => ({ per_s: median(ws.map((w) => w.per_s)), median_per_s: median(ws.map((w) => w.median_per_s)), max_ms: Math.max(...ws.map((w) => w.max_ms)) });
    r.run.authenticate_per_s = median(r.slices.auth);
    r.run.authenticate_in_memory_per_s = median(r.slices.mem);
    r.run.renew = pick(r.slices.renew);
    r.run.open_session = pick(r.slices.open);
    r.stored.closeStore();
    rmSync(r.dir, { recursive: true, force: true });
    console.log(JSON.stringify(r.run));
    out.runs.push(r.run);
  }
}
for (const b of built) b.realm.free();
if (opt("--json")) writeFileSync(opt("--json"), JSON.stringify(out, null, 2));
