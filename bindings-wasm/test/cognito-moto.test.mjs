// A real Cognito flow against moto's emulation (`moto[server]`, a Python dev
// requirement installed into the repo's .venv; MOTO_SERVER names another
// moto_server): the test starts `moto_server` on a free 127.0.0.1 port, creates
// pools, an app client, users and groups through Cognito's JSON API, signs in
// with USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, and verifies the AccessToken
// and IdToken through `KeySet.fromUrl` on moto's `/<pool>/.well-known/jwks.json`.
// The server is stopped by its PID. The same flow as
// bindings-python/tests/test_cognito_moto.py.
//
// moto signs every pool with one static key (`kid: "dummy"`), so a token of
// another pool verifies cryptographically: the issuer check is what refuses it.
// Times are injected: `now` is the token's own `iat` plus a second.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import * as server from "../pkg/dist/node.mjs";

const REGION = "us-east-1";
const PASSWORD = "Correct-horse-9";
const VENV_MOTO = fileURLToPath(new URL("../../.venv/bin/moto_server", import.meta.url));
const MOTO = process.env.MOTO_SERVER || VENV_MOTO;
const skip = existsSync(MOTO) ? false : `moto_server is not installed (${MOTO}; make setup-venv installs it)`;

let proc = null;
let base = "";

async function freePort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** One Cognito API call (moto does not check signatures; the scope names service and region). */
async function cognito(action, body) {
  const res = await fetch(`${base}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${action}`,
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/cognito-idp/aws4_request, SignedHeaders=host, Signature=00`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${action}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function makePool(name) {
  const pool = (await cognito("CreateUserPool", { PoolName: name })).UserPool.Id;
  const app = (
    await cognito("CreateUserPoolClient", {
      UserPoolId: pool,
      ClientName: "app",
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    })
  ).UserPoolClient.ClientId;
  for (const g of ["administrators", "managers"]) await cognito("CreateGroup", { UserPoolId: pool, GroupName: g });
  for (const [user, groups] of [["alice", ["administrators", "managers"]], ["bob", []]]) {
    await cognito("AdminCreateUser", { UserPoolId: pool, Username: user });
    await cognito("AdminSetUserPassword", { UserPoolId: pool, Username: user, Password: PASSWORD, Permanent: true });
    for (const g of groups) await cognito("AdminAddUserToGroup", { UserPoolId: pool, Username: user, GroupName: g });
  }
  return { pool, app };
}

async function signIn(app, user) {
  return (await cognito("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: app, AuthParameters: { USERNAME: user, PASSWORD } }))
    .AuthenticationResult;
}

const claimsOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());

function engineFor(pool, app) {
  return new server.Engine({
    version: 1,
    roles: { user: { permissions: ["read_device"] }, admin: { inherits: ["user"] } },
    groups: { administrators: ["admin"], managers: ["user"] },
    tokens: {
      jwt: {
        issuers: [`https://cognito-idp.${REGION}.amazonaws.com/${pool}`],
        client_ids: [app],
        audiences: [app],
        token_use: ["access", "id"],
        algorithms: ["RS256"],
      },
    },
  });
}

let main;
let other;

before(async () => {
  if (skip) return;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  let exited = false;
  proc.on("exit", () => (exited = true));
  // Polled until it answers (no fixed sleep decides anything).
  for (let i = 0; ; i++) {
    if (exited) throw new Error("moto_server exited at start");
    try {
      const res = await fetch(`${base}/moto-api/`);
      await res.arrayBuffer();
      break;
    } catch {
      if (i > 600) throw new Error("moto_server did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  main = await makePool("main");
  other = await makePool("other");
});

after(() => {
  if (proc && proc.exitCode === null) process.kill(proc.pid, "SIGTERM");
});

const jwksUrl = (pool) => `${base}/${pool}/.well-known/jwks.json`;

test("moto: access and ID tokens verify through KeySet.fromUrl", { skip }, async () => {
  const keys = server.KeySet.fromUrl(jwksUrl(main.pool));
  const engine = engineFor(main.pool, main.app);
  const tokens = await signIn(main.app, "alice");
  const access = tokens.AccessToken;
  const now = claimsOf(access).iat + 1;
  const p = await engine.verifyJwt(access, keys, now);
  assert.equal(p.credential, "jwt");
  assert.equal(p.id, claimsOf(access).sub);
  // moto lists a user's groups in no fixed order; roles follow that order.
  assert.deepEqual([...p.groups].sort(), ["administrators", "managers"]);
  assert.deepEqual([...p.roles].sort(), ["admin", "user"]);
  assert.equal(p.claims.token_use, "access");
  assert.ok(engine.authorize(p, "read", { type: "device", id: "d1" }).allowed);
  const id = await engine.verifyJwt(tokens.IdToken, keys, now);
  assert.equal(id.claims.token_use, "id");
  assert.equal(id.claims.aud, main.app);
  // One fetch served both, and the synchronous form uses what the set holds.
  assert.equal(engine.verifyJwtSync(access, keys, now).id, p.id);
  assert.equal(keys.attempts, 1);
  assert.equal(keys.size, 1);
  const bob = await engine.verifyJwt((await signIn(main.app, "bob")).AccessToken, keys, now);
  assert.deepEqual(bob.groups, []);
  assert.deepEqual(bob.roles, []);
});

test("moto: REFRESH_TOKEN_AUTH tokens verify; the refresh token is no JWT here", { skip }, async () => {
  const keys = server.KeySet.fromUrl(jwksUrl(main.pool));
  const engine = engineFor(main.pool, main.app);
  const first = await signIn(main.app, "alice");
  const renewed = (await cognito("InitiateAuth", { AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: main.app, AuthParameters: { REFRESH_TOKEN: first.RefreshToken } }))
    .AuthenticationResult;
  const now = claimsOf(renewed.AccessToken).iat + 1;
  assert.deepEqual([...(await engine.verifyJwt(renewed.AccessToken, keys, now)).groups].sort(), ["administrators", "managers"]);
  assert.equal((await engine.verifyJwt(renewed.IdToken, keys, now)).claims.token_use, "id");
  await assert.rejects(engine.verifyJwt(first.RefreshToken, keys, now), (e) => e.name === "TokenError");
});

test("moto: pools are told apart by issuer; time and client checks", { skip }, async () => {
  const keys = server.KeySet.fromUrl(jwksUrl(main.pool));
  const engine = engineFor(main.pool, main.app);
  // moto's pools share one signing key: only the issuer check refuses the other pool's token.
  const foreign = (await signIn(other.app, "alice")).AccessToken;
  await assert.rejects(engine.verifyJwt(foreign, keys, claimsOf(foreign).iat + 1), (e) => {
    assert.equal(e.code, "wrong_issuer");
    assert.match(e.message, /tokens\.jwt\.issuers/);
    return true;
  });
  const access = (await signIn(main.app, "alice")).AccessToken;
  const c = claimsOf(access);
  await assert.rejects(engine.verifyJwt(access, keys, c.exp), (e) => e.code === "expired");
  const strict = new server.Engine({ version: 1, roles: {}, tokens: { jwt: { issuers: [c.iss], client_ids: ["another-app"] } } });
  await assert.rejects(strict.verifyJwt(access, keys, c.iat + 1), (e) => {
    assert.equal(e.code, "wrong_client");
    assert.match(e.message, /tokens\.jwt\.client_ids/);
    return true;
  });
  // A Realm holding the set authenticates the pool's tokens, fetching on first use.
  const realmKeys = server.KeySet.fromUrl(jwksUrl(main.pool));
  const realm = new server.Realm(
    { version: 1, roles: { admin: { permissions: ["read_device"] } }, groups: { administrators: ["admin"] }, tokens: { jwt: { issuers: [c.iss], client_ids: [main.app] } } },
    { kty: "oct", k: Buffer.from("session-secret-session-secret-32").toString("base64url") },
    { jwks: realmKeys },
  );
  const p = await realm.authenticateAsync(`Bearer ${access}`, c.iat + 1);
  assert.deepEqual(p.roles, ["admin"]);
  assert.equal(realmKeys.attempts, 1);
});
