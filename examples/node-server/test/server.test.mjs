// End-to-end tests: the example server runs as a child process on 127.0.0.1 (a
// free port it picks itself) and is driven over real HTTP with fetch.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const SERVER = join(dirname(fileURLToPath(import.meta.url)), "..", "server.mjs");
const START_TIMEOUT = 30_000;
const HTTP_TIMEOUT = 10_000;

const randomKey = () => randomBytes(32).toString("base64url");

class Server {
  static async start(args, key = null) {
    const env = { ...process.env };
    delete env.TESSERA_SESSION_KEY;
    if (key !== null) env.TESSERA_SESSION_KEY = key;
    const s = new Server();
    const store = args.includes("--store") ? [] : ["--store", "memory"];
    s.proc = spawn(process.execPath, [SERVER, "--port", "0", ...store, ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
    s.exited = new Promise((resolve) => s.proc.once("exit", resolve));
    s.bootstrap = null;
    const lines = createInterface({ input: s.proc.stdout });
    let timer;
    try {
      await Promise.race([
        new Promise((resolve, reject) => {
          lines.on("line", (line) => {
            const msg = JSON.parse(line);
            if (msg.bootstrap) s.bootstrap = msg.bootstrap;
            if (msg.listening) {
              s.url = msg.listening;
              resolve();
            }
          });
          s.exited.then((code) => reject(new Error(`the server exited (${code})`)));
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("the server did not start in time")), START_TIMEOUT);
        }),
      ]);
    } catch (e) {
      await s.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return s;
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const killer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
  }

  async call(method, path, { token, body, header } = {}) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (header !== undefined) headers.authorization = header;
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(HTTP_TIMEOUT),
    });
    const text = await res.text();
    return [res.status, text ? JSON.parse(text) : null];
  }

  async session(secret) {
    const [status, body] = await this.call("POST", "/api/v1/auth", { body: { token: secret } });
    assert.equal(status, 200, JSON.stringify(body));
    return body.token;
  }
}

const b64 = (text) => Buffer.from(text).toString("base64url");
const FORGED = [
  b64('{"alg":"HS256","typ":"tessera-session+jwt"}'),
  b64('{"sub":"x","roles":["admin"],"sid":"s","iat":1,"exp":9999999999,"auth_time":1,"epoch":0}'),
  "A".repeat(43),
].join(".");
const UNKNOWN_API_TOKEN = `tsr_${"A".repeat(22)}_${"B".repeat(43)}`;

describe("the example server", () => {
  let server;
  let adminSecret;
  let n = 0;

  // A fresh user (role `user`) with an API token made for it by the admin.
  async function makeBob() {
    const admin = await server.session(adminSecret);
    const [s1, user] = await server.call("POST", "/api/v1/users", { token: admin, body: { username: `bob-${++n}` } });
    assert.equal(s1, 201, JSON.stringify(user));
    assert.deepEqual(user.roles, ["user"]);
    const [s2, made] = await server.call("POST", "/api/v1/tokens", { token: admin, body: { owner: user.id } });
    assert.equal(s2, 201, JSON.stringify(made));
    assert.equal("hash" in made.record, false);
    return { user, secret: made.secret, tokenId: made.record.id, admin };
  }

  before(async () => {
    server = await Server.start(["--bootstrap", "admin"], randomKey());
    assert.deepEqual(server.bootstrap.user.roles, ["admin"]);
    adminSecret = server.bootstrap.api_token;
  });
  after(async () => {
    await server?.stop();
  });

  test("no credentials is 401", async () => {
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot"), [401, { error: "unauthenticated" }]);
    assert.deepEqual(await server.call("POST", "/api/v1/auth/renew"), [401, { error: "unauthenticated" }]);
    assert.deepEqual(await server.call("DELETE", "/api/v1/auth"), [401, { error: "unauthenticated" }]);
  });

  for (const [header, code] of [
    ["Bearer garbage", "malformed"],
    ["Basic dXNlcjpwYXNz", "malformed"],
    ["Bearer ", "malformed"],
    [`Bearer ${UNKNOWN_API_TOKEN}`, "unknown_token"],
    [`Bearer ${FORGED}`, "bad_signature"],
  ]) {
    test(`garbage credentials are 401: ${header.slice(0, 20)}`, async () => {
      assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { header }), [401, { error: code }]);
    });
  }

  test("auth with a wrong API token is 401, a bad body 400", async () => {
    assert.equal((await server.call("POST", "/api/v1/auth", { body: { token: "nope" } }))[0], 401);
    assert.deepEqual(await server.call("POST", "/api/v1/auth", { body: { token: UNKNOWN_API_TOKEN } }), [
      401,
      { error: "unknown_token" },
    ]);
    assert.equal((await server.call("POST", "/api/v1/auth", { body: {} }))[0], 400);
    assert.equal((await server.call("POST", "/api/v1/auth", { body: ["x"] }))[0], 400);
  });

  test("an unknown route is 404", async () => {
    assert.deepEqual(await server.call("GET", "/api/v1/nothing"), [404, { error: "not_found" }]);
    assert.deepEqual(await server.call("GET", "/api/v1/nothing", { token: adminSecret }), [404, { error: "not_found" }]);
  });

  test("an API token opens a session", async () => {
    const [status, body] = await server.call("POST", "/api/v1/auth", { body: { token: adminSecret } });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ["expires_at", "renewable_until", "token"]);
    const [s2, snap] = await server.call("GET", "/api/v1/data/snapshot", { token: body.token });
    assert.equal(s2, 200);
    assert.equal(snap.servos.length, 6);
    assert.equal((await server.call("GET", "/api/v1/data/snapshot", { token: adminSecret }))[0], 200);
    assert.equal((await server.call("GET", "/api/v1/data/snapshot", { header: body.token }))[0], 200); // bare
  });

  test("renew", async () => {
    const token = await server.session(adminSecret);
    const [status, renewed] = await server.call("POST", "/api/v1/auth/renew", { token });
    assert.equal(status, 200);
    assert.equal((await server.call("GET", "/api/v1/data/servos", { token: renewed.token }))[0], 200);
    assert.deepEqual(await server.call("POST", "/api/v1/auth/renew", { token: adminSecret }), [
      403,
      { error: "forbidden", reason: "wrong_credential" },
    ]);
  });

  test("close ends the session", async () => {
    const token = await server.session(adminSecret);
    const [, renewed] = await server.call("POST", "/api/v1/auth/renew", { token });
    assert.deepEqual(await server.call("DELETE", "/api/v1/auth", { token }), [204, null]);
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token }), [401, { error: "revoked" }]);
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token: renewed.token }), [
      401,
      { error: "revoked" },
    ]);
    assert.deepEqual(await server.call("POST", "/api/v1/auth/renew", { token }), [401, { error: "revoked" }]);
    assert.deepEqual(await server.call("DELETE", "/api/v1/auth", { token }), [401, { error: "revoked" }]);
    const other = await server.session(adminSecret);
    assert.equal((await server.call("GET", "/api/v1/data/snapshot", { token: other }))[0], 200);
  });

  test("a user on admin routes is 403 with the reason", async () => {
    const bob = await makeBob();
    const token = await server.session(bob.secret);
    assert.deepEqual(await server.call("GET", "/api/v1/users", { token }), [
      403,
      { error: "forbidden", reason: "missing_role" },
    ]);
    assert.deepEqual(await server.call("POST", "/api/v1/users", { token, body: { username: "eve" } }), [
      403,
      { error: "forbidden", reason: "missing_role" },
    ]);
    assert.deepEqual(await server.call("POST", "/api/v1/controls/lock", { token }), [
      403,
      { error: "forbidden", reason: "no_match" },
    ]);
  });

  test("a user on allowed routes is 200", async () => {
    const bob = await makeBob();
    const token = await server.session(bob.secret);
    assert.equal((await server.call("GET", "/api/v1/data/snapshot", { token }))[0], 200);
    const joints = [0.1, -0.2, 0.3, 0, 1, 0.5];
    assert.deepEqual(await server.call("POST", "/api/v1/controls/go_to", { token, body: { joints } }), [200, { joints }]);
    assert.deepEqual(await server.call("GET", "/api/v1/data/servos", { token }), [200, { joints }]);
    assert.equal((await server.call("POST", "/api/v1/controls/go_to", { token, body: { joints: [1] } }))[0], 400);
    assert.deepEqual(await server.call("POST", "/api/v1/controls/home", { token }), [200, { joints: [0, 0, 0, 0, 0, 0] }]);
    const [s1, listed] = await server.call("GET", "/api/v1/tokens", { token });
    assert.equal(s1, 200);
    assert.deepEqual(listed.tokens.map((t) => t.id), [bob.tokenId]);
    assert.equal((await server.call("POST", "/api/v1/tokens", { token, body: {} }))[0], 201);
    const adminId = (await server.call("GET", "/api/v1/users", { token: bob.admin }))[1].users[0].id;
    const [s2, refused] = await server.call("POST", "/api/v1/tokens", { token, body: { owner: adminId } });
    assert.equal(s2, 403);
    assert.equal(refused.error, "forbidden");
  });

  test("admin routes are 200 for the admin", async () => {
    const bob = await makeBob();
    const [status, body] = await server.call("GET", "/api/v1/users", { token: bob.admin });
    assert.equal(status, 200);
    assert.ok(body.users.some((u) => u.id === bob.user.id));
    assert.ok(body.users.every((u) => "has_password" in u && "created_at" in u));
    assert.equal((await server.call("POST", "/api/v1/controls/lock", { token: bob.admin }))[0], 200);
    assert.deepEqual(await server.call("DELETE", "/api/v1/controls/lock", { token: bob.admin }), [204, null]);
    const [s2] = await server.call("POST", "/api/v1/users", { token: bob.admin, body: { username: bob.user.username } });
    assert.equal(s2, 409);
  });

  test("suspending and revoking the API token ends its sessions", async () => {
    const bob = await makeBob();
    const token = await server.session(bob.secret);
    const tid = bob.tokenId;
    let [status, record] = await server.call("POST", `/api/v1/tokens/${tid}/suspend`, { token: bob.admin });
    assert.equal(status, 200);
    assert.equal(record.state, "suspended");
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token }), [401, { error: "suspended" }]);
    assert.deepEqual(await server.call("POST", "/api/v1/auth", { body: { token: bob.secret } }), [
      401,
      { error: "suspended" },
    ]);
    const [s409, again] = await server.call("POST", `/api/v1/tokens/${tid}/suspend`, { token: bob.admin });
    assert.equal(s409, 409);
    assert.equal(again.error, "invalid_transition");

    [status, record] = await server.call("POST", `/api/v1/tokens/${tid}/resume`, { token: bob.admin });
    assert.equal(status, 200);
    assert.equal(record.state, "active");
    assert.equal((await server.call("GET", "/api/v1/data/snapshot", { token }))[0], 200);

    [status, record] = await server.call("DELETE", `/api/v1/tokens/${tid}`, { token: bob.admin });
    assert.equal(status, 200);
    assert.equal(record.state, "revoked");
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token }), [401, { error: "revoked" }]);
    assert.deepEqual(await server.call("POST", "/api/v1/auth/renew", { token }), [401, { error: "revoked" }]);
    assert.deepEqual(await server.call("POST", "/api/v1/auth", { body: { token: bob.secret } }), [
      401,
      { error: "revoked" },
    ]);
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token: bob.secret }), [
      401,
      { error: "revoked" },
    ]);
  });

  test("replacing the API token: a new secret works, the old one and its sessions end", async () => {
    const bob = await makeBob();
    const token = await server.session(bob.secret);
    const [status, made] = await server.call("POST", `/api/v1/tokens/${bob.tokenId}/replace`, { token: bob.admin });
    assert.equal(status, 201);
    assert.match(made.secret, /^tsr_/);
    assert.notEqual(made.record.id, bob.tokenId);
    assert.equal(made.record.state, "active");
    assert.equal("hash" in made.record, false);
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token }), [401, { error: "revoked" }]);
    assert.deepEqual(await server.call("POST", "/api/v1/auth", { body: { token: bob.secret } }), [401, { error: "revoked" }]);
    const fresh = await server.session(made.secret);
    assert.equal((await server.call("GET", "/api/v1/data/snapshot", { token: fresh }))[0], 200);
    const [s409, again] = await server.call("POST", `/api/v1/tokens/${bob.tokenId}/replace`, { token: bob.admin });
    assert.equal(s409, 409);
    assert.equal(again.error, "invalid_transition");
  });

  test("a user revokes its own token", async () => {
    const bob = await makeBob();
    const token = await server.session(bob.secret);
    assert.equal((await server.call("DELETE", `/api/v1/tokens/${bob.tokenId}`, { token }))[0], 200);
    assert.deepEqual(await server.call("GET", "/api/v1/data/snapshot", { token }), [401, { error: "revoked" }]);
  });
});

describe("the SQLite store", () => {
  let dir;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tessera-node-server-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("a start is not a restart: users, tokens and sessions survive it", async () => {
    const db = `sqlite:${join(dir, "a.db")}`;
    const key = randomKey();
    const first = await Server.start(["--bootstrap", "root", "--store", db], key);
    let secret;
    let token;
    try {
      secret = first.bootstrap.api_token;
      token = await first.session(secret);
    } finally {
      await first.stop();
    }
    const second = await Server.start(["--bootstrap", "root", "--store", db], key);
    try {
      assert.equal(second.bootstrap, null);
      assert.equal((await second.call("GET", "/api/v1/data/snapshot", { token }))[0], 200);
      assert.equal((await second.call("GET", "/api/v1/users", { token }))[1].users[0].username, "root");
    } finally {
      await second.stop();
    }
  });

  test("two and three servers on one file: a user, token or revocation made through one is honoured by the others on the next request", async () => {
    const db = `sqlite:${join(dir, "b.db")}`;
    const key = randomKey();
    const a = await Server.start(["--bootstrap", "root", "--store", db], key);
    const b = await Server.start(["--bootstrap", "root", "--store", db], key);
    const c = await Server.start(["--store", db], key);
    try {
      assert.equal(b.bootstrap, null);
      const admin = await a.session(a.bootstrap.api_token);
      // A user made through a, listed through b and c.
      let [status] = await a.call("POST", "/api/v1/users", { token: admin, body: { username: "bob" } });
      assert.equal(status, 201);
      for (const s of [b, c]) {
        const users = (await s.call("GET", "/api/v1/users", { token: admin }))[1].users.map((u) => u.username);
        assert.deepEqual(users.sort(), ["bob", "root"]);
      }
      // Unique usernames across processes.
      assert.equal((await c.call("POST", "/api/v1/users", { token: admin, body: { username: "BOB" } }))[0], 409);
      // A token made through b opens a session through c; revoked through a, refused by b and c.
      const [st, made] = await b.call("POST", "/api/v1/tokens", { token: admin, body: {} });
      assert.equal(st, 201);
      const session = await c.session(made.secret);
      assert.equal((await b.call("GET", "/api/v1/data/snapshot", { token: session }))[0], 200);
      [status] = await a.call("DELETE", `/api/v1/tokens/${made.record.id}`, { token: admin });
      assert.equal(status, 200);
      assert.deepEqual(await b.call("POST", "/api/v1/auth", { body: { token: made.secret } }), [401, { error: "revoked" }]);
      assert.deepEqual(await c.call("POST", "/api/v1/auth", { body: { token: made.secret } }), [401, { error: "revoked" }]);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  test("kill -9 mid-burst of writes, 20 times: every acknowledged user survives, the store always opens", async () => {
    const db = `sqlite:${join(dir, "crash.db")}`;
    const key = randomKey();
    const first = await Server.start(["--bootstrap", "root", "--store", db], key);
    const secret = first.bootstrap.api_token;
    await first.stop();
    const acked = [];
    let n = 0;
    for (let round = 0; round < 20; round++) {
      const s = await Server.start(["--store", db], key);
      const admin = await s.session(secret);
      // Four writers in flight; the server is killed after a number of acknowledgements
      // that differs each round, while the others are still being handled.
      const stopAt = acked.length + 3 + (round % 7);
      const writer = async () => {
        while (acked.length < stopAt) {
          const name = `crash${++n}`;
          let status;
          try {
            [status] = await s.call("POST", "/api/v1/users", { token: admin, body: { username: name } });
          } catch {
            return; // the connection died with the server
          }
          if (status === 201) acked.push(name);
        }
        s.proc.kill("SIGKILL");
      };
      await Promise.all([writer(), writer(), writer(), writer()]);
      await s.exited;
    }
    const last = await Server.start(["--store", db], key);
    try {
      const admin = await last.session(secret);
      const [status, body] = await last.call("GET", "/api/v1/users", { token: admin });
      assert.equal(status, 200);
      const names = new Set(body.users.map((u) => u.username));
      for (const name of acked) assert.ok(names.has(name), `acknowledged ${name} survived`);
      // Nothing half-done: every user there is a whole one that was asked for.
      for (const u of body.users) assert.ok(u.username === "root" || /^crash[0-9]+$/.test(u.username));
      assert.ok(acked.length >= 60);
    } finally {
      await last.stop();
    }
  });
});

describe("the PostgreSQL store", () => {
  let pg = null;
  let skip = false;
  before(async () => {
    const { PgServer, pgBinDir } = await import("../../../bindings-wasm/test/pg-server.mjs");
    if (pgBinDir() === null) {
      skip = "PostgreSQL is not installed (make setup-postgres)";
      console.log(`# skipping the example server on PostgreSQL: ${skip}`);
      return;
    }
    pg = new PgServer();
  });
  after(async () => {
    if (pg) await pg.stop();
  });

  test("two servers on one database: a user, token or revocation made through one is honoured by the other within the bound", async (t) => {
    if (skip) return t.skip(skip);
    const key = randomKey();
    const a = await Server.start(["--bootstrap", "root", "--store", pg.url], key);
    const b = await Server.start(["--bootstrap", "root", "--store", pg.url], key);
    // Waits for a condition (the bound is 1 s by default), never asserts a duration.
    const until = async (what, f) => {
      const end = Date.now() + 30_000;
      while (!(await f())) {
        if (Date.now() > end) assert.fail(`waited 30 s for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      assert.equal(b.bootstrap, null);
      const admin = await a.session(a.bootstrap.api_token);
      assert.equal((await a.call("POST", "/api/v1/users", { token: admin, body: { username: "bob" } }))[0], 201);
      await until("b lists bob", async () => {
        const [status, body] = await b.call("GET", "/api/v1/users", { token: admin });
        return status === 200 && body.users.some((u) => u.username === "bob");
      });
      assert.equal((await b.call("POST", "/api/v1/users", { token: admin, body: { username: "BOB" } }))[0], 409);
      const [st, made] = await b.call("POST", "/api/v1/tokens", { token: admin, body: {} });
      assert.equal(st, 201);
      let session;
      await until("a opens a session with b's token", async () => {
        const [status, body] = await a.call("POST", "/api/v1/auth", { body: { token: made.secret } });
        session = body.token;
        return status === 200;
      });
      assert.equal((await b.call("DELETE", `/api/v1/tokens/${made.record.id}`, { token: admin }))[0], 200);
      await until("a refuses the revoked token and its session", async () => {
        const [status, body] = await a.call("POST", "/api/v1/auth", { body: { token: made.secret } });
        const [sessionStatus] = await a.call("GET", "/api/v1/data/snapshot", { token: session });
        return status === 401 && body.error === "revoked" && sessionStatus === 401;
      });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
