// KeySet (SPEC §6.1.2) against a real HTTP server on 127.0.0.1 (node:http,
// port 0), started and stopped by each test. The server can rotate keys, hold
// its answer, return garbage or 10 MB, redirect, or go down; it counts
// requests, and every assertion is about those counts and about answers at
// injected `now` values — never about elapsed time (the one timeout test uses
// a server that never answers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as server from "../pkg/dist/node.mjs";
import * as browser from "../pkg/dist/browser/node.mjs";
import { SESSION_KEY, rsaKeys, signJwt } from "./support.mjs";
import { serve } from "../testkit/serve.mjs";
import { launch, open } from "../testkit/chromium.mjs";

const NOW = 1_700_000_000;
const ISS = "https://idp.example.com/";
const POLICY = {
  version: 1,
  roles: { admin: { permissions: ["admin_device"] } },
  groups: { administrators: ["admin"] },
  tokens: { jwt: { issuers: [ISS], token_use: null, client_ids: null, audiences: ["api"], algorithms: ["RS256"] } },
};

const k1 = rsaKeys("k1");
const k2 = rsaKeys("k2");
const k3 = rsaKeys("k3");
const KEYS = { k1, k2, k3 };
const jwk = (kid) => KEYS[kid].jwks.keys[0];
const jwksOf = (...kids) => JSON.stringify({ keys: kids.map(jwk) });

function token(kid, claims = {}) {
  const body = { iss: ISS, sub: "user-1", aud: "api", iat: NOW, exp: NOW + 3600, "cognito:groups": ["administrators"], ...claims };
  return signJwt(KEYS[kid].privateKey, body, { alg: "RS256", typ: "JWT", kid });
}

/**
 * A JWKS server: `respond(req, res)` is the test's (default: the JWKS of
 * `kids`), `requests` counts every request, `waitFor(n)` resolves once n have
 * arrived, `down()` closes it (connections refused from then on).
 */
async function jwksServer(respond) {
  const state = { requests: 0, kids: ["k1"], waiters: [] };
  state.respond =
    respond ??
    ((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(jwksOf(...state.kids));
    });
  const sockets = new Set();
  const srv = createServer((req, res) => {
    state.requests++;
    for (const w of state.waiters.filter((w) => state.requests >= w.n)) w.resolve();
    state.respond(req, res);
  });
  srv.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = srv.address().port;
  state.port = port;
  state.origin = `http://127.0.0.1:${port}`;
  state.url = `${state.origin}/jwks.json`;
  state.waitFor = (n) => (state.requests >= n ? Promise.resolve() : new Promise((resolve) => state.waiters.push({ n, resolve })));
  state.down = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      srv.close(() => resolve());
    });
  return state;
}

async function withServer(respond, f) {
  const s = await jwksServer(respond);
  try {
    await f(s);
  } finally {
    await s.down();
  }
}

async function rejectsWith(promise, name, code, message) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, name, `expected a ${name}, got ${e.name}: ${e.message}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function throwsWith(f, name, code, extra = {}) {
  assert.throws(f, (e) => {
    assert.equal(e.name, name, `expected a ${name}, got ${e.name}: ${e.message}`);
    assert.equal(e.code, code, e.message);
    if (extra.path !== undefined) assert.equal(e.path, extra.path, e.message);
    if (extra.message) assert.match(e.message, extra.message);
    return true;
  });
}

const engine = new server.Engine(POLICY);

test("first use fetches, then the cache answers until its time ends", async () => {
  await withServer(undefined, async (s) => {
    const keys = server.KeySet.fromUrl(s.url);
    assert.equal(keys.url, s.url);
    assert.equal(keys.size, 0);
    assert.equal(keys.needsFetch(NOW), true);
    const p = await engine.verifyJwt(token("k1"), keys, NOW);
    assert.equal(p.id, "user-1");
    assert.deepEqual(p.roles, ["admin"]);
    assert.equal(s.requests, 1);
    assert.equal(keys.size, 1);
    // Other tokens, later times within the cache time: no fetch.
    await engine.verifyJwt(token("k1", { sub: "user-2" }), keys, NOW + 100);
    assert.equal(engine.verifyJwtSync(token("k1", { sub: "user-3" }), keys, NOW + 599).id, "user-3");
    assert.equal(s.requests, 1);
    // The cache time (600) is over: the next verification fetches.
    await engine.verifyJwt(token("k1"), keys, NOW + 600);
    assert.equal(s.requests, 2);
    assert.equal(keys.attempts, 2);
  });
});

test("rotation: an unknown kid refetches at most once per cooldown", async () => {
  await withServer(undefined, async (s) => {
    const keys = server.KeySet.fromUrl(s.url, { cooldownSeconds: 30 });
    await engine.verifyJwt(token("k1"), keys, NOW);
    assert.equal(s.requests, 1);
    // The provider rotates: k2 is added. A k2 token within the cooldown of the
    // first fetch is unknown_key without asking.
    s.kids = ["k1", "k2"];
    await rejectsWith(engine.verifyJwt(token("k2"), keys, NOW + 10), "TokenError", "unknown_key");
    assert.equal(s.requests, 1);
    // Past the cooldown: one refetch, and k2 verifies.
    assert.equal((await engine.verifyJwt(token("k2"), keys, NOW + 30)).id, "user-1");
    assert.equal(s.requests, 2);
    // k3 is not published: one refetch, then unknown_key for the whole cooldown.
    await rejectsWith(engine.verifyJwt(token("k3"), keys, NOW + 60), "TokenError", "unknown_key");
    assert.equal(s.requests, 3);
    for (const t of [NOW + 60, NOW + 70, NOW + 89]) {
      await rejectsWith(engine.verifyJwt(token("k3"), keys, t), "TokenError", "unknown_key");
    }
    assert.equal(s.requests, 3);
    // k1 is retired: its tokens fail once the new set is in.
    s.kids = ["k2", "k3"];
    assert.equal((await engine.verifyJwt(token("k3"), keys, NOW + 90)).id, "user-1");
    assert.equal(s.requests, 4);
    await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW + 95), "TokenError", "unknown_key");
    assert.equal(s.requests, 4);
    // A token whose kid the set holds never causes a fetch; verifyJwtSync never fetches.
    throwsWith(() => engine.verifyJwtSync(token("k1"), keys, NOW + 200), "TokenError", "unknown_key", {
      message: /never fetches: use await engine\.verifyJwt/,
    });
    assert.equal(s.requests, 4);
  });
});

test("max-age shortens the cache time, never below the cooldown", async () => {
  let header = "public, max-age=60";
  await withServer(undefined, async (s) => {
    s.respond = (req, res) => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": header });
      res.end(jwksOf("k1"));
    };
    const keys = server.KeySet.fromUrl(s.url);
    await keys.refresh(NOW);
    assert.equal(s.requests, 1);
    assert.equal(keys.needsFetch(NOW + 59), false);
    assert.equal(keys.needsFetch(NOW + 60), true);
    header = "no-store";
    await keys.refresh(NOW + 60);
    assert.equal(s.requests, 2);
    // no-store counts as 0, floored at the cooldown (30).
    assert.equal(keys.needsFetch(NOW + 89), false);
    assert.equal(keys.needsFetch(NOW + 90), true);
    // refresh() when nothing is due asks nothing.
    await keys.refresh(NOW + 61);
    assert.equal(s.requests, 2);
  });
});

test("concurrent verifications share one fetch", async () => {
  await withServer(undefined, async (s) => {
    let release;
    const held = new Promise((resolve) => (release = resolve));
    s.respond = (req, res) => {
      held.then(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(jwksOf(...s.kids));
      });
    };
    const keys = server.KeySet.fromUrl(s.url);
    const tokens = Array.from({ length: 20 }, (_, i) => token("k1", { sub: `user-${i}` }));
    const all = Promise.all(tokens.map((t) => engine.verifyJwt(t, keys, NOW)));
    const refreshes = Promise.all([keys.refresh(NOW), keys.refresh(NOW)]);
    await s.waitFor(1);
    release();
    const principals = await all;
    await refreshes;
    assert.deepEqual(principals.map((p) => p.id), tokens.map((_, i) => `user-${i}`));
    assert.equal(s.requests, 1);
    // The same for a rotation: many tokens of a new kid, one refetch.
    s.kids = ["k1", "k2"];
    let release2;
    const held2 = new Promise((resolve) => (release2 = resolve));
    s.respond = (req, res) => {
      held2.then(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(jwksOf(...s.kids));
      });
    };
    const rotated = Promise.all(tokens.map((_, i) => engine.verifyJwt(token("k2", { sub: `r-${i}` }), keys, NOW + 60)));
    await s.waitFor(2);
    release2();
    assert.equal((await rotated).length, 20);
    assert.equal(s.requests, 2);
  });
});

test("the last good set is used while the server is down, until its cache time ends", async () => {
  const s = await jwksServer();
  const keys = server.KeySet.fromUrl(s.url);
  await engine.verifyJwt(token("k1"), keys, NOW);
  await s.down();
  // An unknown kid asks the (down) server once; the known keys still answer.
  await rejectsWith(engine.verifyJwt(token("k2"), keys, NOW + 100), "TokenError", "unknown_key");
  assert.equal(keys.attempts, 2);
  assert.equal((await engine.verifyJwt(token("k1", { sub: "during" }), keys, NOW + 599)).id, "during");
  // Cache time over and the server still down: jwks_unavailable with the reason.
  await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW + 600), "TokenError", "jwks_unavailable", /the last fetch failed: cannot fetch.*ECONNREFUSED/);
  // Within the cooldown of that failure nothing is asked again.
  await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW + 610), "TokenError", "jwks_unavailable");
  assert.equal(keys.attempts, 3);
});

const BAD_ANSWERS = [
  ["not JSON", (res) => res.end("<html>oops</html>"), /not JSON/],
  ["JSON, not a JWKS", (res) => res.end('{"hello": "world"}'), /not a usable JWKS/],
  ["no key for signatures", (res) => res.end(JSON.stringify({ keys: [{ ...jwk("k1"), use: "enc" }] })), /no key for signatures/],
  ["HTTP 500", (res) => (res.writeHead(500), res.end("down")), /HTTP 500/],
  ["HTTP 404", (res) => (res.writeHead(404), res.end()), /HTTP 404/],
  ["10 MB with a Content-Length", (res) => (res.writeHead(200, { "content-length": 10 * 1024 * 1024 }), res.end(Buffer.alloc(10 * 1024 * 1024, 32))), /10485760 bytes, over the limit of 524288/],
  [
    "10 MB streamed, no Content-Length",
    (res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 32);
      let sent = 0;
      const more = () => {
        while (sent < 160) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      res.on("error", () => {});
      more();
    },
    /over the limit of 524288 bytes/,
  ],
];

for (const [name, answer, reason] of BAD_ANSWERS) {
  test(`a bad answer is jwks_unavailable with its reason: ${name}`, async () => {
    await withServer((req, res) => answer(res), async (s) => {
      const keys = server.KeySet.fromUrl(s.url);
      await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW), "TokenError", "jwks_unavailable", reason);
      assert.equal(s.requests, 1);
      assert.equal(keys.size, 0);
    });
  });
}

test("a bad answer after a good one keeps the good keys", async () => {
  await withServer(undefined, async (s) => {
    const keys = server.KeySet.fromUrl(s.url);
    await keys.refresh(NOW);
    s.respond = (req, res) => res.end("garbage");
    await keys.refresh(NOW + 600);
    assert.equal(s.requests, 2);
    // The cache time is over, so the old keys are not used any more.
    await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW + 601), "TokenError", "jwks_unavailable", /not JSON/);
    // An unknown kid while a garbage answer comes back: the keys held stay.
    const fresh = server.KeySet.fromUrl(s.url);
    s.respond = (req, res) => (res.writeHead(200), res.end(jwksOf("k1")));
    await fresh.refresh(NOW);
    s.respond = (req, res) => res.end("garbage");
    await rejectsWith(engine.verifyJwt(token("k2"), fresh, NOW + 40), "TokenError", "unknown_key");
    assert.equal((await engine.verifyJwt(token("k1"), fresh, NOW + 41)).id, "user-1");
  });
});

test("a server that never answers times out (the whole request)", async () => {
  // Headers never sent.
  await withServer(() => {}, async (s) => {
    const keys = server.KeySet.fromUrl(s.url, { timeoutSeconds: 0.2 });
    await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW), "TokenError", "jwks_unavailable", /no complete answer within 0\.2 seconds/);
  });
  // Headers sent, the body never finished.
  await withServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"keys": [');
  }, async (s) => {
    const keys = server.KeySet.fromUrl(s.url, { timeoutSeconds: 0.2 });
    await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW), "TokenError", "jwks_unavailable", /no complete answer within 0\.2 seconds/);
  });
});

test("redirects are followed to the same scheme and host only", async () => {
  await withServer(undefined, async (s) => {
    s.respond = (req, res) => {
      if (req.url === "/moved") return void (res.writeHead(302, { location: "/jwks.json" }), res.end());
      if (req.url === "/elsewhere") return void (res.writeHead(301, { location: `http://localhost:${s.port}/jwks.json` }), res.end());
      if (req.url === "/https") return void (res.writeHead(307, { location: `https://127.0.0.1:${s.port}/jwks.json` }), res.end());
      if (req.url === "/loop") return void (res.writeHead(302, { location: "/loop" }), res.end());
      if (req.url === "/nowhere") return void (res.writeHead(302), res.end());
      res.writeHead(200);
      res.end(jwksOf("k1"));
    };
    const same = server.KeySet.fromUrl(`${s.origin}/moved`);
    assert.equal((await engine.verifyJwt(token("k1"), same, NOW)).id, "user-1");
    assert.equal(s.requests, 2);
    for (const [path, reason] of [
      ["/elsewhere", /another host or scheme/],
      ["/https", /another host or scheme/],
      ["/loop", /more than 5 redirects/],
      ["/nowhere", /without a Location/],
    ]) {
      const keys = server.KeySet.fromUrl(`${s.origin}${path}`);
      await rejectsWith(engine.verifyJwt(token("k1"), keys, NOW), "TokenError", "jwks_unavailable", reason);
    }
  });
});

test("URLs, regions, pools and options: typed errors with a path", () => {
  const bad = [
    [() => server.KeySet.fromUrl("http://example.com/jwks"), "url", /https only/],
    [() => server.KeySet.fromUrl("https://user:pw@example.com/jwks"), "url", /credentials/],
    [() => server.KeySet.fromUrl("ftp://example.com/jwks"), "url", /only https/],
    [() => server.KeySet.fromUrl("example.com/jwks"), "url", /absolute URL/],
    [() => server.KeySet.fromUrl("http://127.0.0.1.evil.com/"), "url", /https only/],
    [() => server.KeySet.fromUrl(42), "url", /url/],
    [() => server.KeySet.cognito("US East", "us-east-1_Abc"), "region", /AWS region/],
    [() => server.KeySet.cognito("us-east-1", "eu-west-1_Abc"), "userPoolId", /user pool id/],
    [() => server.KeySet.cognito("us-east-1", "us-east-1_"), "userPoolId", /user pool id/],
    [() => server.KeySet.fromUrl("https://a.example/j", { timeoutSeconds: 0 }), "options.timeoutSeconds", /positive/],
    [() => server.KeySet.fromUrl("https://a.example/j", { timeoutSeconds: "5" }), "options.timeoutSeconds", /positive/],
    [() => server.KeySet.fromUrl("https://a.example/j", { maxBytes: 0 }), "options.maxBytes", /positive whole/],
    [() => server.KeySet.fromUrl("https://a.example/j", { maxBytes: 1.5 }), "options.maxBytes", /positive whole/],
    [() => server.KeySet.fromUrl("https://a.example/j", { cacheSeconds: -1 }), "options.cacheSeconds", /0 or more/],
    [() => server.KeySet.fromUrl("https://a.example/j", { cooldownSeconds: NaN }), "options.cooldownSeconds", /0 or more/],
    [() => server.KeySet.fromUrl("https://a.example/j", { fetch: "curl" }), "options.fetch", /fetch function/],
    [() => server.KeySet.fromUrl("https://a.example/j", { timeout: 5 }), "options.timeout", /unknown option/],
    [() => server.KeySet.fromUrl("https://a.example/j", []), "options", /object or null/],
    [() => server.KeySet.fromUrl("https://a.example/j", { cacheSeconds: 2 ** 53 - 1 }), "options", /cache_seconds/],
    [() => server.KeySet.cognito("us-east-1", "us-east-1_Abc", { cooldownSeconds: 2 ** 53 - 1 }), "options", /cooldown_seconds/],
  ];
  for (const [f, path, message] of bad) throwsWith(f, "ArgumentError", "invalid_argument", { path, message });
  throwsWith(() => new server.KeySet({ keys: "no" }), "ArgumentError", "invalid_argument");
  throwsWith(() => new server.KeySet("{not json"), "ArgumentError", "invalid_argument");
  throwsWith(() => new server.KeySet(undefined), "ArgumentError", "invalid_argument");
  // Loopback http, https anywhere; null options are the defaults.
  for (const url of ["http://localhost:1/j", "http://127.0.0.1/j", "http://[::1]:8/j", "https://idp.example/j"]) {
    assert.equal(server.KeySet.fromUrl(url, null).url, url);
  }
  const all = server.KeySet.fromUrl("https://a.example/j", { timeoutSeconds: null, maxBytes: undefined, cacheSeconds: 60, cooldownSeconds: 5, fetch: null });
  assert.deepEqual(all.options, { timeoutSeconds: 5, maxBytes: 524288, cacheSeconds: 60, cooldownSeconds: 5 });
  const pool = server.KeySet.cognito("eu-west-1", "eu-west-1_AbC123");
  assert.equal(pool.url, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json");
  assert.equal(pool.issuer, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123");
  assert.equal(new server.KeySet(JSON.parse(jwksOf("k1"))).url, null);
});

test("host mistakes: milliseconds, a Bearer header, a given set", async () => {
  const given = new server.KeySet(jwksOf("k1", "k2"));
  assert.equal(given.size, 2);
  assert.equal(given.needsFetch(NOW), false);
  assert.equal(engine.verifyJwtSync(token("k2"), given, NOW).id, "user-1");
  await rejectsWith(engine.verifyJwt(token("k1"), given, NOW * 1000), "ArgumentError", "invalid_argument", /milliseconds/);
  throwsWith(() => engine.verifyJwtSync(token("k1"), given, NOW * 1000), "ArgumentError", "invalid_argument", { message: /milliseconds/ });
  throwsWith(() => given.needsFetch(NOW * 1000), "ArgumentError", "invalid_argument", { message: /milliseconds/ });
  throwsWith(() => engine.verifyJwtSync(`Bearer ${token("k1")}`, given, NOW), "TokenError", "malformed", { message: /parse_authorization|parseAuthorization/ });
  // A given set never fetches: an unknown kid is just unknown.
  await rejectsWith(engine.verifyJwt(token("k3"), given, NOW), "TokenError", "unknown_key");
  await given.refresh(NOW);
});

test("verifyJwtSync never fetches; refresh() fetches ahead", async () => {
  await withServer(undefined, async (s) => {
    const keys = server.KeySet.fromUrl(s.url);
    throwsWith(() => engine.verifyJwtSync(token("k1"), keys, NOW), "TokenError", "jwks_unavailable", {
      message: /not been fetched yet; a fetch is due, and this call never fetches: use await engine\.verifyJwt\(token, keySet\), or await keySet\.refresh\(\) first/,
    });
    assert.equal(s.requests, 0);
    await keys.refresh(NOW);
    assert.equal(s.requests, 1);
    assert.equal(engine.verifyJwtSync(token("k1"), keys, NOW).id, "user-1");
  });
});

test("an injected fetch function does the requests", async () => {
  const seen = [];
  const fetch = async (url, init) => {
    seen.push([url, init.redirect, init.signal instanceof AbortSignal]);
    return new Response(jwksOf("k1"), { status: 200, headers: { "cache-control": "max-age=120" } });
  };
  const keys = server.KeySet.cognito("us-east-1", "us-east-1_Pool1", { fetch });
  const cognito = new server.Engine({ ...POLICY, tokens: { jwt: { ...POLICY.tokens.jwt, issuers: [keys.issuer, ISS] } } });
  const t = token("k1", { iss: keys.issuer });
  assert.equal((await cognito.verifyJwt(t, keys, NOW)).id, "user-1");
  assert.deepEqual(seen, [[keys.url, "manual", true]]);
  assert.equal(keys.needsFetch(NOW + 119), false);
  assert.equal(keys.needsFetch(NOW + 120), true);
  // The set vouches for its pool only, even when the policy trusts another issuer.
  await rejectsWith(cognito.verifyJwt(token("k1"), keys, NOW), "TokenError", "wrong_issuer", /this key set is for issuer/);
  // A fetch function that throws is a failed fetch, not an exception of its own.
  const broken = server.KeySet.fromUrl("https://idp.example/jwks", { fetch: () => { throw new Error("no network"); } });
  await rejectsWith(engine.verifyJwt(token("k1"), broken, NOW), "TokenError", "jwks_unavailable", /no network/);
});

test("OIDC discovery: the document's issuer must be the one asked for", async () => {
  await withServer(undefined, async (s) => {
    const issuer = s.origin;
    let named = issuer;
    s.respond = (req, res) => {
      if (req.url === "/.well-known/openid-configuration") {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ issuer: named, jwks_uri: `${issuer}/keys` }));
      }
      res.writeHead(200);
      res.end(jwksOf("k1"));
    };
    const oidc = new server.Engine({ ...POLICY, tokens: { jwt: { ...POLICY.tokens.jwt, issuers: [issuer, ISS] } } });
    const keys = await server.KeySet.oidc(issuer, { cacheSeconds: 300 });
    assert.equal(keys.url, `${issuer}/keys`);
    assert.equal(keys.issuer, issuer);
    assert.equal(s.requests, 1);
    assert.equal((await oidc.verifyJwt(token("k1", { iss: issuer }), keys, NOW)).id, "user-1");
    assert.equal(s.requests, 2);
    await rejectsWith(oidc.verifyJwt(token("k1"), keys, NOW), "TokenError", "wrong_issuer");
    named = "https://evil.example";
    await rejectsWith(server.KeySet.oidc(issuer), "TokenError", "jwks_unavailable", /names issuer `https:\/\/evil\.example`/);
    await rejectsWith(server.KeySet.oidc("http://example.com"), "ArgumentError", "invalid_argument", /https only/);
  });
  const s = await jwksServer((req, res) => (res.writeHead(503), res.end()));
  await rejectsWith(server.KeySet.oidc(s.origin), "TokenError", "jwks_unavailable", /cannot read .*openid-configuration: HTTP 503/);
  await s.down();
  await rejectsWith(server.KeySet.oidc(s.origin), "TokenError", "jwks_unavailable", /ECONNREFUSED/);
});

test("a Realm holds a KeySet: authenticate never fetches, authenticateAsync may", async () => {
  await withServer(undefined, async (s) => {
    const keys = server.KeySet.fromUrl(s.url);
    const realm = new server.Realm(POLICY, SESSION_KEY, { jwks: keys });
    throwsWith(() => realm.authenticate(`Bearer ${token("k1")}`, NOW), "TokenError", "jwks_unavailable", {
      message: /use await realm\.authenticateAsync\(header\)/,
    });
    assert.equal(s.requests, 0);
    const p = await realm.authenticateAsync(`Bearer ${token("k1")}`, NOW);
    assert.equal(p.id, "user-1");
    assert.equal(p.credential, "jwt");
    assert.equal(s.requests, 1);
    assert.equal(realm.authenticate(token("k1", { sub: "sync" }), NOW + 1).id, "sync");
    // Rotation without rebuilding the realm.
    s.kids = ["k2"];
    assert.equal((await realm.authenticateAsync(`Bearer ${token("k2")}`, NOW + 30)).id, "user-1");
    assert.equal(s.requests, 2);
    // Sessions still work, and need no keys.
    realm.createUser(null, "alice", "correct horse battery", { id: "u-alice" }, NOW);
    const session = realm.login("alice", "correct horse battery", NOW);
    assert.equal((await realm.authenticateAsync(`Bearer ${session.token}`, NOW + 31)).credential, "session");
    // A realm restored from its snapshot takes a KeySet the same way.
    const again = server.Realm.restore(POLICY, realm.snapshot(), SESSION_KEY, { jwks: keys });
    assert.equal(again.authenticate(token("k2"), NOW + 40).id, "user-1");
    await rejectsWith(again.authenticateAsync("Bearer not-a-jwt", NOW + 40), "TokenError", "malformed");
  });
});

test("the Guard takes a KeySet as keys", async () => {
  const { Guard } = await import("../pkg/dist/http-guard.mjs");
  await withServer(undefined, async (s) => {
    const keys = server.KeySet.fromUrl(s.url);
    const guard = new Guard({ engine: new server.Engine({ ...POLICY, operations: { "GET /x": { access: "authenticated" } } }), keys, now: () => NOW });
    const p = await guard.authenticate([`Bearer ${token("k1")}`], "GET /x");
    assert.equal(p.id, "user-1");
    assert.equal(s.requests, 1);
  });
});

test("the Guard answers without a promise when no fetch is due, and hands over to one when it is", async () => {
  const { Guard, Outcome } = await import("../pkg/dist/http-guard.mjs");
  await withServer(undefined, async (s) => {
    const e = new server.Engine({ ...POLICY, operations: { "GET /x": { access: "authenticated" } } });
    let clock = NOW;
    const keys = server.KeySet.fromUrl(s.url, { cooldownSeconds: 30 });
    const realm = new server.Realm(POLICY, SESSION_KEY, { jwks: server.KeySet.fromUrl(s.url, { cooldownSeconds: 30 }) });
    for (const guard of [new Guard({ engine: e, keys, now: () => clock }), new Guard({ engine: e, realm, now: () => clock })]) {
      const before = s.requests;
      clock = NOW;
      const check = (t) => guard.checkNow("GET", "/x", undefined, [`Bearer ${t}`]);
      // First use: a fetch is due, so the answer is a promise, which fetches.
      const first = check(token("k1"));
      assert.ok(first instanceof Promise);
      assert.equal((await first).status, 200);
      assert.equal(s.requests, before + 1);
      // Keys held: a token seen before and a new one are answered at once.
      for (const t of [token("k1"), token("k1", { sub: "u-9" })]) {
        const now = check(t);
        assert.ok(now instanceof Outcome, "no promise when nothing needs waiting");
        assert.equal(now.status, 200);
      }
      // A bad token is refused at once too, with its code.
      const bad = check("not-a-jwt");
      assert.ok(bad instanceof Outcome);
      assert.deepEqual([bad.status, bad.code], [401, "malformed"]);
      // The provider rotates: an unknown kid past the cooldown is a promise that refetches.
      s.kids = ["k1", "k2"];
      clock = NOW + 30;
      const rotated = check(token("k2"));
      assert.ok(rotated instanceof Promise);
      assert.equal((await rotated).status, 200);
      assert.equal(s.requests, before + 2);
      // Within the new cooldown an unpublished kid is refused, after one look, with no fetch.
      clock = NOW + 40;
      const unknown = await check(token("k3"));
      assert.deepEqual([unknown.status, unknown.code], [401, "unknown_key"]);
      assert.equal(s.requests, before + 2);
      s.kids = ["k1"];
    }
    // A session needs no keys: answered at once.
    realm.createUser(null, "alice", "correct horse battery", { id: "u-alice" }, NOW);
    const session = realm.login("alice", "correct horse battery", NOW);
    const guard = new Guard({ engine: e, realm, now: () => NOW + 50 });
    const out = guard.checkNow("GET", "/x", undefined, [`Bearer ${session.token}`]);
    assert.ok(out instanceof Outcome);
    assert.equal(out.principal.credential, "session");
    // An owners hook that answers with a promise makes the answer one.
    const hooked = guard.checkNow("GET", "/x", undefined, [`Bearer ${session.token}`], async () => "u-alice");
    assert.ok(hooked instanceof Promise);
    assert.equal((await hooked).status, 200);
  });
});

test("the Guard asks the engine without a verified principal's raw claims, with the same answers", async () => {
  const { Guard } = await import("../pkg/dist/http-guard.mjs");
  const engine = new server.Engine({
    ...POLICY,
    roles: { ...POLICY.roles, reader: { permissions: ["read_own_device"] } },
    groups: { administrators: ["admin"], readers: ["reader"] },
    operations: {
      "GET /devices/{id}": { permission: "read_device" },
      "GET /admin": { access: { groups_all: ["administrators"] } },
      "GET /scoped": { access: { scopes_any: ["devices:read"] } },
      "GET /jwt-only": { credential: "jwt" },
      "GET /sessions-only": { credential: "session" },
    },
  });
  const guard = new Guard({ engine, keys: new server.KeySet(JSON.parse(jwksOf("k1"))), now: () => NOW });
  const principals = [
    await guard.authenticate([`Bearer ${token("k1")}`]),
    await guard.authenticate([`Bearer ${token("k1", { sub: "u-2", "cognito:groups": ["readers"], scope: "devices:read" })}`]),
  ];
  let asked = 0;
  for (const p of principals) {
    assert.ok(p.claims, "the principal keeps its claims");
    for (const op of ["GET /devices/d1", "GET /admin", "GET /scoped", "GET /jwt-only", "GET /sessions-only"]) {
      for (const owners of [undefined, { owner: p.id }, { owner: "someone-else" }]) {
        const plain = guard.decide(p, op, owners);
        const verified = guard.decide(p, op, owners, true);
        assert.deepEqual(verified, plain, `${p.id} ${op} ${JSON.stringify(owners)}`);
        assert.equal(engine.authorizeOperation(p, op, owners).allowed, plain.status === 200);
        if (verified.status === 200) assert.deepEqual(verified.principal, p, "the request gets the whole principal");
        asked++;
      }
    }
  }
  assert.equal(asked, 30);
  // A principal from anyone else's authenticator is asked as given (its claims read).
  const custom = new Guard({ engine, authenticate: () => ({ id: "x", roles: ["admin"], claims: { bad: Number.NaN } }) });
  const outcome = await custom.check("GET", "/devices/d1", undefined, ["Bearer t"]);
  assert.equal(outcome.status, 403);
});

test("the browser module: KeySet through WebCrypto", async () => {
  await withServer(undefined, async (s) => {
    const e = new browser.Engine(POLICY);
    const keys = browser.KeySet.fromUrl(s.url);
    assert.equal((await e.verifyJwt(token("k1"), keys, NOW)).id, "user-1");
    assert.equal((await e.verifyJwt(token("k1"), keys, NOW + 1)).id, "user-1");
    assert.equal(s.requests, 1);
    s.kids = ["k1", "k2"];
    assert.equal((await e.verifyJwt(token("k2"), keys, NOW + 30)).id, "user-1");
    assert.equal(s.requests, 2);
    const forged = token("k1").slice(0, -4) + "AAAA";
    await rejectsWith(e.verifyJwt(forged, keys, NOW + 30), "TokenError", "bad_signature");
    await rejectsWith(e.verifyJwt(token("k1", { exp: NOW }), keys, NOW + 30), "TokenError", "expired");
    throwsWith(() => e.verifyJwtSync(token("k1"), keys, NOW), "TokenError", "unsupported_runtime");
  });
});

test("in Chromium: the browser follows a redirect, and it must end on the same scheme and host", { timeout: 120_000 }, async () => {
  await withServer(undefined, async (s) => {
    // A page on another port fetches the JWKS: CORS on every answer, redirects included.
    const cors = { "access-control-allow-origin": "*" };
    s.respond = (req, res) => {
      if (req.url === "/moved") return void (res.writeHead(302, { ...cors, location: "/jwks.json" }), res.end());
      if (req.url === "/elsewhere") return void (res.writeHead(302, { ...cors, location: `http://localhost:${s.port}/jwks.json` }), res.end());
      if (req.url !== "/jwks.json") return void (res.writeHead(404, cors), res.end());
      res.writeHead(200, { ...cors, "content-type": "application/json" });
      res.end(jwksOf("k1"));
    };
    const http = await serve({
      "/": fileURLToPath(new URL("../../conformance/browser/", import.meta.url)),
      "/pkg/": fileURLToPath(new URL("../pkg/", import.meta.url)),
    });
    const chromium = await launch();
    try {
      const { page, errors } = await open(chromium, `${http.url}/`);
      const out = await page.evaluate(
        async ({ origin, policy, tok, now }) => {
          const t = await import("/pkg/dist/browser/browser.mjs");
          const e = new t.Engine(policy);
          const answer = (p) => p.then((v) => `ok ${v.id}`, (err) => `${err.name} ${err.code} ${err.message}`);
          return {
            same: await answer(e.verifyJwt(tok, t.KeySet.fromUrl(`${origin}/moved`), now)),
            away: await answer(e.verifyJwt(tok, t.KeySet.fromUrl(`${origin}/elsewhere`), now)),
          };
        },
        { origin: s.origin, policy: POLICY, tok: token("k1"), now: NOW },
      );
      assert.equal(out.same, "ok user-1");
      assert.match(out.away, /^TokenError jwks_unavailable .*another host or scheme/);
      assert.deepEqual(errors, []);
    } finally {
      await chromium.close();
      await http.close();
    }
  });
});

test("every JWT vector answers the same through a KeySet (fresh and remembered) as through its JWKS", async () => {
  const dir = fileURLToPath(new URL("../../conformance/vectors/", import.meta.url));
  const outcome = (f) => {
    try {
      return { ok: f() };
    } catch (e) {
      return { code: e.code };
    }
  };
  const outcomeAsync = async (f) => {
    try {
      return { ok: await f() };
    } catch (e) {
      return { code: e.code };
    }
  };
  let n = 0;
  for (const file of readdirSync(dir).filter((f) => /^(jwt_|weak_keys)/.test(f))) {
    const doc = JSON.parse(readFileSync(`${dir}${file}`, "utf8"));
    for (const c of doc.cases.filter((c) => c.op === "verify_jwt")) {
      let engines;
      try {
        engines = [new server.Engine(c.policy ?? doc.policy), new browser.Engine(c.policy ?? doc.policy)];
      } catch {
        continue;
      }
      const [se, be] = engines;
      const plain = outcome(() => se.verifyJwtSync(c.token, c.keys, c.now));
      const made = outcome(() => new server.KeySet(c.keys));
      const madeB = outcome(() => new browser.KeySet(c.keys));
      if (made.code) {
        assert.equal(made.code, plain.code, `${file} ${c.name}: the KeySet refused what the JWKS path answered`);
        assert.equal(madeB.code, made.code);
        n++;
        continue;
      }
      for (let round = 0; round < 2; round++) {
        assert.deepEqual(outcome(() => se.verifyJwtSync(c.token, made.ok, c.now)), plain, `${file} ${c.name} (server, round ${round})`);
        assert.deepEqual(await outcomeAsync(() => be.verifyJwt(c.token, madeB.ok, c.now)), plain, `${file} ${c.name} (browser, round ${round})`);
      }
      n++;
    }
  }
  assert.ok(n > 100, `only ${n} vectors`);
});

test("verifyJwtSync with a KeySet: short, long and non-ASCII tokens, and after the module's memory grows", () => {
  // A token up to 4096 UTF-8 bytes crosses through the module's token
  // buffer, a longer one as a string argument: the answers must not differ.
  const e = new server.Engine(POLICY);
  const set = new server.KeySet(JSON.parse(jwksOf("k1")));
  const jwks = jwksOf("k1");
  const outcome = (f) => {
    try {
      return { ok: f() };
    } catch (err) {
      return { code: err.code, message: err.message };
    }
  };
  for (const pad of [0, 2000, 2900, 3100, 6000, 12_000, 17_000]) {
    const t = token("k1", { pad: "x".repeat(pad) });
    const got = outcome(() => e.verifyJwtSync(t, set, NOW + 1));
    assert.deepEqual(got, outcome(() => new server.Engine(POLICY).verifyJwtSync(t, jwks, NOW + 1)), `pad ${pad}`);
    if (t.length <= 16 * 1024) assert.equal(got.ok?.id, "user-1", `pad ${pad}`);
    else assert.equal(got.code, "too_large", `pad ${pad}`);
  }
  // Non-ASCII where a token has none: the same refusal either way.
  for (const t of [`${token("k1")}é`, `é${token("k1")}`, `${token("k1", { pad: "y".repeat(5000) })}é`]) {
    const got = outcome(() => e.verifyJwtSync(t, set, NOW + 1));
    assert.ok(got.code, "refused");
    assert.deepEqual(got, outcome(() => new server.Engine(POLICY).verifyJwtSync(t, jwks, NOW + 1)));
  }
  // Grow the module's memory (a large policy), then verify again: the
  // buffer's view is made anew.
  const before = e.verifyJwtSync(token("k1", { jti: "before" }), set, NOW + 1);
  const roles = {};
  for (let i = 0; i < 20_000; i++) roles[`role-${i}`] = { permissions: [`read_device:dev-${i}`] };
  const big = new server.Engine({ version: 1, roles });
  assert.equal(e.verifyJwtSync(token("k1", { jti: "after" }), set, NOW + 1).id, before.id);
  big.free?.();
});
