// tessera-policy/express and tessera-policy/fastify over real HTTP: the test
// app (test/web/app.mjs) runs in its own process on 127.0.0.1, is asked with
// node:http (raw paths and repeated headers go out as written) and is stopped
// by PID. Both frameworks answer the same cases the same way.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { rsaKeys, signJwt } from "./support.mjs";

const APP = new URL("./web/app.mjs", import.meta.url).pathname;
const { privateKey, jwks } = rsaKeys("k1");
const dir = mkdtempSync(join(tmpdir(), "tessera-web-"));
const JWKS = join(dir, "jwks.json");
writeFileSync(JWKS, JSON.stringify(jwks));

function mint({ sub = "sub-carol", groups, expIn = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, iss: "https://issuer.test", client_id: "client-1", token_use: "access", iat: now - 5, exp: now + expIn };
  if (groups) claims["cognito:groups"] = groups;
  return signJwt(privateKey, claims);
}

async function start(framework, mode, unknown = "not_found") {
  const child = spawn(process.execPath, [APP, framework, mode, JWKS, unknown], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`${framework} app exited ${code}: ${stderr}`)));
  });
  const { port, tokens } = JSON.parse(line);
  return {
    port,
    tokens,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve(stderr));
        process.kill(child.pid, "SIGTERM");
      }),
  };
}

function ask(app, method, path, authorization) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: app.port, method, path }, (res) => {
      let raw = "";
      res.on("data", (d) => (raw += d));
      res.on("end", () => {
        const json = (res.headers["content-type"] ?? "").startsWith("application/json") && raw ? JSON.parse(raw) : raw;
        resolve({ status: res.statusCode, headers: res.headers, body: json });
      });
    });
    req.on("error", reject);
    if (authorization !== undefined) req.setHeader("Authorization", authorization);
    req.end();
  });
}

const bearer = (t) => `Bearer ${t}`;

for (const framework of ["express", "fastify"]) {
  describe(`${framework}: realm (sessions, API tokens, provider JWTs)`, () => {
    let app;
    before(async () => (app = await start(framework, "realm")));
    after(async () => {
      const stderr = await app.stop();
      // The server kept serving through every bad request and logged no error.
      assert.doesNotMatch(stderr, /error|Error|ERR/);
    });

    test("public operation needs no credential", async () => {
      const r = await ask(app, "GET", "/health");
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { ok: true });
    });

    test("no credential: 401 with the Bearer challenge", async () => {
      const r = await ask(app, "GET", "/api/v1/devices");
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { error: "unauthenticated" });
      assert.equal(r.headers["www-authenticate"], 'Bearer realm="tessera"');
    });

    for (const [value, code] of [
      ["Bearer two words", "malformed"],
      ["Basic dXNlcjpwYXNz", "malformed"],
      ["Bearer " + "a".repeat(16 * 1024 + 1), "too_large"],
    ]) {
      test(`refused header (${code}): 401 invalid_token`, async () => {
        const r = await ask(app, "GET", "/api/v1/devices", value);
        assert.equal(r.status, 401);
        assert.equal(r.body.error, code);
        assert.match(r.headers["www-authenticate"], /error="invalid_token"/);
        assert.match(r.headers["www-authenticate"], new RegExp(`error_description="${code}"`));
      });
    }

    test("a repeated Authorization header is malformed", async () => {
      const t = bearer(app.tokens.user_session);
      const r = await ask(app, "GET", "/api/v1/devices", [t, t]);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { error: "malformed" });
    });

    for (const path of ["/api/v1/devices/..", "/api/v1/../v1/devices", "/api/v1/devices/a%2Fb", "/api/v1/devices/%2e%2e", "/api/v1/devices/%zz"]) {
      test(`refused path ${path}: 400 invalid_path`, async () => {
        const r = await ask(app, "GET", path, bearer(app.tokens.admin_session));
        assert.equal(r.status, 400);
        if (framework === "fastify" && path.endsWith("%zz")) {
          // Fastify refuses a broken escape itself, before any hook runs.
          assert.equal(r.body.code, "FST_ERR_BAD_URL");
        } else {
          assert.deepEqual(r.body, { error: "invalid_path" });
        }
      });
    }

    test("owners hook and permissions", async () => {
      const user = bearer(app.tokens.user_session);
      let r = await ask(app, "GET", "/api/v1/devices/d-bob", user);
      assert.equal(r.status, 200);
      assert.equal(r.body.id, "d-bob");
      r = await ask(app, "GET", "/api/v1/devices/d-alice", user);
      assert.equal(r.status, 403);
      assert.deepEqual(r.body, { error: "forbidden", reason: "no_match" });
      r = await ask(app, "DELETE", "/api/v1/devices/d-bob", user);
      assert.deepEqual([r.status, r.body], [403, { error: "forbidden", reason: "no_match" }]);
      r = await ask(app, "DELETE", "/api/v1/devices/d-bob", bearer(app.tokens.admin_session));
      assert.equal(r.status, 200);
      assert.equal(r.body.deleted, "d-bob");
    });

    test("HEAD is decided as GET; escapes are decoded once", async () => {
      const user = bearer(app.tokens.user_session);
      let r = await ask(app, "HEAD", "/api/v1/devices/d-bob", user);
      assert.equal(r.status, 200);
      assert.equal(r.body, "");
      r = await ask(app, "HEAD", "/api/v1/devices/d-alice", user);
      assert.equal(r.status, 403);
      r = await ask(app, "GET", "/api/v1/devices/d%2Dbob", user);
      assert.equal(r.status, 200);
      assert.equal(r.body.id, "d-bob");
    });

    test("API token, bare and Bearer", async () => {
      for (const value of [app.tokens.user_api, bearer(app.tokens.user_api), `bearer   ${app.tokens.user_api}`]) {
        const r = await ask(app, "GET", "/api/v1/devices", value);
        assert.equal(r.status, 200, value);
      }
    });

    test("provider JWT through the realm", async () => {
      let r = await ask(app, "GET", "/api/v1/jwt", bearer(mint({ groups: ["staff"] })));
      assert.deepEqual([r.status, r.body], [200, { by: "sub-carol", credential: "jwt" }]);
      r = await ask(app, "GET", "/api/v1/jwt", bearer(app.tokens.user_session));
      assert.deepEqual([r.status, r.body], [403, { error: "forbidden", reason: "wrong_credential" }]);
      r = await ask(app, "GET", "/api/v1/jwt", bearer(mint({ expIn: -60 })));
      assert.deepEqual([r.status, r.body], [401, { error: "expired" }]);
    });

    test("an operation not in the table is 404", async () => {
      const r = await ask(app, "GET", "/unlisted", bearer(app.tokens.admin_session));
      assert.deepEqual([r.status, r.body], [404, { error: "not_found" }]);
    });
  });

  describe(`${framework}: keys (provider JWTs only)`, () => {
    let app;
    before(async () => (app = await start(framework, "keys")));
    after(async () => assert.doesNotMatch(await app.stop(), /error|Error|ERR/));

    test("JWT groups map to roles; owners decide", async () => {
      let r = await ask(app, "DELETE", "/api/v1/devices/d-bob", bearer(mint({ groups: ["operators"] })));
      assert.deepEqual([r.status, r.body], [200, { deleted: "d-bob", by: "sub-carol" }]);
      r = await ask(app, "GET", "/api/v1/devices/d-carol", bearer(mint({ groups: ["staff"] })));
      assert.equal(r.status, 200);
      r = await ask(app, "GET", "/api/v1/devices/d-bob", bearer(mint({ groups: ["staff"] })));
      assert.deepEqual([r.status, r.body], [403, { error: "forbidden", reason: "no_match" }]);
      r = await ask(app, "GET", "/api/v1/devices", bearer(app.tokens.user_session));
      assert.equal(r.status, 401);
      assert.match(r.headers["www-authenticate"], /error="invalid_token"/);
    });
  });

  test(`${framework}: unknown: "pass" lets what the table does not list through`, async () => {
    const app = await start(framework, "realm", "pass");
    try {
      let r = await ask(app, "GET", "/unlisted");
      assert.deepEqual([r.status, r.body], [200, { unlisted: true, principal: null }]);
      r = await ask(app, "GET", "/api/v1/devices");
      assert.equal(r.status, 401);
    } finally {
      assert.doesNotMatch(await app.stop(), /error|Error|ERR/);
    }
  });
}
