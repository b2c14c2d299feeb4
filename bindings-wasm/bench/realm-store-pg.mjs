// The PostgreSQL-backed realm from Node (SPEC §7.1, issue 15): writes per second, and how
// long a revocation committed through one Node process takes to be refused by another.
// Not a test: it starts its own PostgreSQL (test/pg-server.mjs: initdb, unix socket,
// fsync=off, as in the tests).
//   node bench/realm-store-pg.mjs [--writes 2000] [--revocations 200] [--json out.json] [--write ../BENCHMARKS.md]
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { writeFileSync } from "node:fs";
import { writeSubsection } from "./report.mjs";
import { fileURLToPath } from "node:url";
import { Realm } from "../pkg/dist/node.mjs";
import { ADMIN, FAST, PG_KEY, PG_POLICY, PgServer } from "../test/pg-server.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const WRITES = Number(opt("--writes", "2000"));
const REVOCATIONS = Number(opt("--revocations", "200"));
const WORKER = fileURLToPath(new URL("../test/pg-worker.mjs", import.meta.url));
const NOW = 1_700_000_000;
const wall = () => performance.timeOrigin + performance.now();

function child(url, name, mode, extra = [], env = {}) {
  const proc = spawn(process.execPath, [WORKER, url, name, mode, ...extra], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    proc,
    next: async () => (await lines.next()).value,
    call: async (op, a = [], minSeq) => {
      proc.stdin.write(`${JSON.stringify({ op, args: a, minSeq })}\n`);
      return JSON.parse((await lines.next()).value);
    },
  };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const server = new PgServer();
// Interrupted: the server goes too (it was started here).
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.stop().then(() => process.exit(130)));
const out = { node: process.version, writes: WRITES, revocations: REVOCATIONS };
try {
  // Writes per second, one process: each its own transaction under the realm's advisory lock.
  const a = await Realm.open(PG_POLICY, PG_KEY, server.url, { ...FAST, realm: "bench" });
  await a.createUser(null, "root", null, { id: "u-root" }, NOW);
  let t = performance.now();
  for (let i = 0; i < WRITES; i++) await a.createApiToken(ADMIN, "u-root", null, {}, NOW);
  out.writes_per_s_one_process = Math.round((WRITES * 1000) / (performance.now() - t));
  console.error(`one process: ${out.writes_per_s_one_process} writes/s`);
  // Two processes writing at once to the same realm (serialized by the lock).
  const kids = [0, 1].map((k) => child(server.url, "bench", "burst", [String(100_000 * (k + 1)), String(WRITES / 2)], { WAIT_GO: "1" }));
  for (const k of kids) await k.next(); // ready
  t = performance.now();
  for (const k of kids) k.proc.stdin.end("go\n");
  await Promise.all(kids.map((k) => new Promise((ok) => k.proc.on("exit", ok))));
  out.writes_per_s_two_processes = Math.round((WRITES * 1000) / (performance.now() - t));
  console.error(`two processes: ${out.writes_per_s_two_processes} writes/s`);

  // Revocation propagation: A revokes, B (another process, default maxLagSeconds 1, so
  // through the NOTIFY doorbell) authenticates on every turn of its event loop.
  const b = child(server.url, "bench", "serve");
  await b.next(); // ready
  const fromCall = [];
  const fromAck = [];
  for (let i = 0; i < REVOCATIONS; i++) {
    const tok = await a.createApiToken(ADMIN, "u-root", null, {}, NOW);
    await b.call("sync", [], a.writtenSeq);
    b.proc.stdin.write(`${JSON.stringify({ op: "watch", args: [tok.secret] })}\n`);
    if ((await b.next()) !== "watching") throw new Error("the watcher did not start");
    const t0 = wall();
    await a.revokeApiToken(ADMIN, tok.record.id);
    const t1 = wall();
    const seen = JSON.parse(await b.next()).ok;
    fromCall.push(seen - t0);
    fromAck.push(seen - t1);
  }
  b.proc.stdin.end(`${JSON.stringify({ op: "exit" })}\n`);
  await new Promise((ok) => b.proc.on("exit", ok));
  await a.closeStore();
  const ms = (v) => Math.round(v * 100) / 100;
  for (const [key, xs] of [["from_call", fromCall], ["from_ack", fromAck]]) {
    out[`propagation_${key}_ms`] = { p50: ms(quantile(xs, 0.5)), p99: ms(quantile(xs, 0.99)), max: ms(Math.max(...xs)) };
  }
} finally {
  await server.stop();
}
console.log(JSON.stringify(out, null, 2));
if (opt("--json")) writeFileSync(opt("--json"), JSON.stringify(out, null, 2));
if (opt("--write")) {
  const p = out.propagation_from_call_ms;
  const q = out.propagation_from_ack_ms;
  writeSubsection(
    opt("--write"),
    "## Realm stores (SPEC §7.1, Node)",
    "### PostgreSQL",
    `Command: \`cd bindings-wasm && node bench/realm-store-pg.mjs --write ../BENCHMARKS.md\` (not a test). A
PostgreSQL the benchmark starts itself (\`initdb\`, unix socket, **\`fsync=off\`**, as in the tests), Node
${process.version}, \`pg\` 8; load average ${(await import("node:os")).loadavg()[0].toFixed(1)} on 2 shared cores at the end of the run.

| figure | value |
| --- | ---: |
| writes per second, one process (\`await createApiToken\`, each its own transaction under the realm's advisory lock) | ${out.writes_per_s_one_process} |
| writes per second, two processes writing at once to one realm (\`createUser\`) | ${out.writes_per_s_two_processes} |
| revocation propagation between two Node processes, revoke called in A → first refusal in B, p50 | ${p.p50} ms |
| p99 | ${p.p99} ms |
| max | ${p.max} ms |
| revoke acknowledged in A → first refusal in B, p50 / p99 / max | ${q.p50} / ${q.p99} / ${q.max} ms |

${REVOCATIONS} revocations; B runs with the default \`maxLagSeconds\` (1), so a revocation reaches it through the
NOTIFY doorbell (the poll every 0.5 s is the safety net), and B calls \`authenticate\` on every turn of its event loop.
`,
  );
}
