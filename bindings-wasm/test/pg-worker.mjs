// A Node process on a PostgreSQL realm, for store-postgres.test.mjs and bench/realm-store-pg.mjs
// (not a test). `node pg-worker.mjs URL REALM MODE [ARGS...]`:
// - serve: one JSON line per command on stdin, `{"op", "args", "minSeq"?}`; prints one JSON line
//   per answer, `{"ok": result, "seq", "writtenSeq"}` or `{"error": code, "message"}`. `op` is a
//   realm call (writes awaited), or "sync" / "authenticate" (with minSeq) / "watch" / "exit".
// - burst FROM COUNT: creates users u-FROM... and prints "ack I" after each is committed.
// Prints "ready" once the realm is open.
import { Realm } from "../pkg/dist/node.mjs";
import { createInterface } from "node:readline";
import { ADMIN, FAST, PG_KEY, PG_POLICY } from "./pg-server.mjs";

const [url, name, mode, ...rest] = process.argv.slice(2);
const realm = await Realm.open(PG_POLICY, PG_KEY, url, { ...FAST, realm: name, maxLagSeconds: Number(process.env.MAX_LAG ?? 1) });
const say = (v) => process.stdout.write(`${typeof v === "string" ? v : JSON.stringify(v)}\n`);
say("ready");

// Says "watching", then authenticates `header` on every turn of the event loop until it is
// refused; answers the wall-clock time (ms) of the first refusal (for the benchmark).
async function watch(header) {
  say("watching");
  for (;;) {
    try {
      realm.authenticate(header);
    } catch (e) {
      if (e.code !== "store_unavailable") return performance.timeOrigin + performance.now();
    }
    await new Promise((r) => setImmediate(r));
  }
}

if (mode === "burst") {
  // With WAIT_GO set, the burst starts on a line on stdin (so that several start at once).
  if (process.env.WAIT_GO) for await (const _ of createInterface({ input: process.stdin })) break;
  const from = Number(rest[0]);
  for (let i = from; i < from + Number(rest[1]); i++) {
    await realm.createUser(ADMIN, `user${i}`, null, { id: `u-${i}` }, 1);
    say(`ack ${i}`);
  }
  await realm.closeStore();
} else {
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const { op, args = [], minSeq } = JSON.parse(line);
    if (op === "exit") break;
    try {
      let ok;
      if (op === "sync") ok = await realm.sync(minSeq);
      else if (op === "watch") ok = await watch(args[0]);
      else if (op === "authenticate") ok = realm.authenticate(args[0], args[1], minSeq);
      else ok = await realm[op](...args);
      say({ ok: ok ?? null, seq: realm.seq(), writtenSeq: realm.writtenSeq });
    } catch (e) {
      say({ error: e.code ?? String(e), message: e.message });
    }
  }
  await realm.closeStore();
}
