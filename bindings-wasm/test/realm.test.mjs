// The Realm (SPEC §7) of tessera-policy in Node: every method, its error
// paths, garbage input, and the snapshot round trip (snapshot verbatim).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Realm,
  Engine,
  RealmError,
  TokenError,
  PolicyError,
  ArgumentError,
  TesseraError,
} from "../pkg/dist/node.mjs";
import { SESSION_KEY, NOW } from "./support.mjs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const POLICY = {
  version: 1,
  roles: {
    user: {
      permissions: [
        "read_own_device",
        "read_own_user",
        "update_own_user",
        "create_own_token",
        "read_own_token",
        "update_own_token",
        "delete_own_token",
      ],
    },
    admin: { inherits: ["user"], permissions: ["admin_device", "admin_user", "admin_token"] },
  },
};
const FAST = { argon2: { memoryKib: 8, iterations: 1, parallelism: 1 } };

function throwsCode(f, Class, code) {
  assert.throws(f, (e) => {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e && e.constructor && e.constructor.name}: ${e}`);
    assert.ok(e instanceof TesseraError);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** A realm with ann (admin, first user) and bob (user), and their principals. */
function setup() {
  const realm = new Realm(POLICY, SESSION_KEY, FAST);
  const ann = realm.createUser(null, "ann", "pw-ann", { id: "u-ann" }, NOW);
  const annGrant = realm.login("ann", "pw-ann", NOW);
  const admin = realm.authenticate(`Bearer ${annGrant.token}`, NOW);
  const bob = realm.createUser(admin, "bob", "pw-bob", undefined, NOW);
  const bobP = realm.authenticate(realm.login("bob", "pw-bob", NOW).token, NOW);
  return { realm, ann, admin, bob, bobP, annGrant };
}

test("users: bootstrap role, default role, camelCase shapes", () => {
  const { realm, ann, bob, admin } = setup();
  assert.deepEqual(ann, { id: "u-ann", username: "ann", roles: ["admin"], hasPassword: true, createdAt: NOW });
  assert.deepEqual(bob.roles, ["user"]);
  assert.equal(typeof bob.id, "string");
  assert.deepEqual(realm.getUser(admin, bob.id), bob);
  assert.deepEqual(
    realm.listUsers(admin).map((u) => u.username),
    ["ann", "bob"],
  );
  assert.equal(admin.id, "u-ann");
  assert.equal(admin.credential, "session");
  assert.deepEqual(admin.roles, ["admin"]);
  assert.equal(typeof admin.sessionId, "string");
});

test("users: permissions, not_found, conflict, forbidden for anonymous", () => {
  const { realm, admin, bob, bobP } = setup();
  throwsCode(() => realm.createUser(null, "carl", "pw"), RealmError, "forbidden");
  throwsCode(() => realm.createUser(admin, "bob", "pw"), RealmError, "conflict");
  throwsCode(() => realm.getUser(bobP, "u-ann"), RealmError, "forbidden");
  throwsCode(() => realm.getUser(admin, "nobody"), RealmError, "not_found");
  throwsCode(() => realm.listUsers(null), RealmError, "forbidden");
  assert.deepEqual(
    realm.listUsers(bobP).map((u) => u.id),
    [bob.id],
  );
  // update_own_user never changes one's own roles
  throwsCode(() => realm.setRoles(bobP, bob.id, ["admin"]), RealmError, "forbidden");
  assert.deepEqual(realm.setRoles(admin, bob.id, ["admin"]).roles, ["admin"]);
  assert.throws(() => realm.setRoles(admin, bob.id, ["wizard"]), TesseraError);
  throwsCode(() => realm.setRoles(admin, "nobody", ["user"]), RealmError, "not_found");
});

test("passwords: setPassword, login errors alike, null password", () => {
  const { realm, admin, bob, bobP } = setup();
  throwsCode(() => realm.login("bob", "wrong", NOW), RealmError, "invalid_credentials");
  throwsCode(() => realm.login("nobody", "pw", NOW), RealmError, "invalid_credentials");
  assert.equal(realm.setPassword(bobP, bob.id, "new-pw"), undefined);
  assert.equal(typeof realm.login("bob", "new-pw", NOW).token, "string");
  realm.setPassword(admin, bob.id, null);
  assert.equal(realm.getUser(admin, bob.id).hasPassword, false);
  throwsCode(() => realm.login("bob", "new-pw", NOW), RealmError, "invalid_credentials");
  throwsCode(() => realm.setPassword(bobP, bob.id, undefined), ArgumentError, "invalid_argument");
  const carl = realm.createUser(admin, "carl", null, {}, NOW);
  assert.equal(carl.hasPassword, false);
});

test("deleteUser ends sessions and revokes tokens", () => {
  const { realm, admin, bob, bobP } = setup();
  const { secret, record } = realm.createApiToken(bobP, bob.id, null, { lifespanSeconds: 3600 }, NOW);
  const grant = realm.openSession(secret, NOW);
  assert.equal(realm.deleteUser(admin, bob.id), undefined);
  throwsCode(() => realm.getUser(admin, bob.id), RealmError, "not_found");
  assert.throws(() => realm.authenticate(grant.token, NOW + 1), TokenError);
  assert.throws(() => realm.authenticate(secret, NOW + 1), TokenError);
  assert.equal(realm.listApiTokens(admin, bob.id).find((r) => r.id === record.id).state, "revoked");
});

test("API tokens: create, list, suspend, resume, revoke, replace, openSession", () => {
  const { realm, admin, bob, bobP } = setup();
  const made = realm.createApiToken(bobP, bob.id, ["user"], { lifespanSeconds: 3600 }, NOW);
  assert.ok(made.secret.startsWith("tsr_"), made.secret);
  const r = made.record;
  assert.equal(r.owner, bob.id);
  assert.equal(r.state, "active");
  assert.equal(r.createdAt, NOW);
  assert.equal(r.expiresAt, NOW + 3600);
  assert.deepEqual(realm.listApiTokens(bobP).map((x) => x.id), [r.id]);
  assert.deepEqual(realm.listApiTokens(admin, "u-ann"), []);
  throwsCode(() => realm.createApiToken(bobP, "u-ann", null, undefined, NOW), RealmError, "forbidden");

  const p = realm.authenticate(`Bearer ${made.secret}`, NOW + 1);
  assert.equal(p.credential, "api_token");
  assert.equal(p.apiTokenId, r.id);
  const grant = realm.openSession(made.secret, NOW + 1);
  assert.deepEqual(Object.keys(grant).sort(), ["expiresAt", "renewableUntil", "sessionId", "token"]);

  assert.equal(realm.suspendApiToken(bobP, r.id).state, "suspended");
  assert.throws(() => realm.authenticate(made.secret, NOW + 2), TokenError);
  assert.equal(realm.resumeApiToken(bobP, r.id).state, "active");
  realm.authenticate(made.secret, NOW + 2);

  const next = realm.replaceApiToken(bobP, r.id, NOW + 3);
  assert.notEqual(next.record.id, r.id);
  assert.equal(next.record.owner, bob.id);
  assert.throws(() => realm.authenticate(made.secret, NOW + 4), TokenError);
  realm.authenticate(next.secret, NOW + 4);
  // revoking ends the sessions opened with it
  const s2 = realm.openSession(next.secret, NOW + 4);
  assert.equal(realm.revokeApiToken(bobP, next.record.id).state, "revoked");
  assert.throws(() => realm.authenticate(s2.token, NOW + 5), TokenError);
  assert.throws(() => realm.openSession(next.secret, NOW + 5), TokenError);
  throwsCode(() => realm.suspendApiToken(admin, "nope"), RealmError, "not_found");
  throwsCode(() => realm.revokeApiToken(null, next.record.id), RealmError, "forbidden");
});

test("sessions: renew, close, restart", () => {
  const { realm, annGrant } = setup();
  const renewed = realm.renew(annGrant.token, NOW + 10);
  assert.equal(renewed.sessionId, annGrant.sessionId);
  assert.equal(realm.close(renewed.token, NOW + 11), undefined);
  assert.throws(() => realm.authenticate(renewed.token, NOW + 12), TokenError);
  const g = realm.login("bob", "pw-bob", NOW + 20);
  realm.authenticate(g.token, NOW + 21);
  assert.equal(realm.restart(), undefined);
  assert.throws(() => realm.authenticate(g.token, NOW + 22), TokenError);
  assert.throws(() => realm.renew("garbage", NOW), TokenError);
  assert.throws(() => realm.close("garbage", NOW), TokenError);
  assert.throws(() => realm.authenticate("", NOW), TokenError);
});

test("snapshot: verbatim (snake_case) and round trip, as object and as JSON text", () => {
  const { realm, bob, bobP } = setup();
  const made = realm.createApiToken(bobP, bob.id, null, undefined, NOW);
  const grant = realm.login("bob", "pw-bob", NOW);
  const snap = realm.snapshot();
  assert.deepEqual(Object.keys(snap).sort(), ["api_tokens", "bootstrapped", "epoch", "seq", "sessions", "users", "version"]);
  assert.ok("password_hash" in snap.users[0]);
  assert.ok("created_at" in snap.api_tokens[0]);
  for (const input of [snap, JSON.stringify(snap)]) {
    const again = Realm.restore(POLICY, input, SESSION_KEY, FAST);
    assert.deepEqual(again.snapshot(), snap);
    assert.equal(again.authenticate(grant.token, NOW + 1).id, bob.id);
    assert.equal(again.authenticate(made.secret, NOW + 1).apiTokenId, made.record.id);
    again.login("bob", "pw-bob", NOW + 1);
  }
  throwsCode(() => Realm.restore(POLICY, { version: 1, users: "x" }, SESSION_KEY, FAST), ArgumentError, "invalid_argument");
  throwsCode(() => Realm.restore(POLICY, "{not json", SESSION_KEY, FAST), ArgumentError, "invalid_argument");
  throwsCode(() => Realm.restore(POLICY, null, SESSION_KEY, FAST), ArgumentError, "invalid_argument");
});

test("engine: shares the realm's policy", () => {
  const { realm, admin, bobP } = setup();
  const engine = realm.engine;
  assert.ok(engine instanceof Engine);
  assert.equal(realm.engine, engine);
  assert.equal(engine.authorize(admin, "delete", { type: "device", id: "d1" }).allowed, true);
  assert.equal(engine.prepare(bobP).isAllowed("read", "user", bobP.id, bobP.id), true);
  // a new policy on the engine is the realm's new rule set
  engine.load({ version: 1, roles: { user: {}, admin: {} } });
  assert.deepEqual(realm.listUsers(bobP), []);
  throwsCode(() => realm.getUser(bobP, bobP.id), RealmError, "forbidden");
  realm.free();
  assert.equal(engine.authorize(admin, "read", { type: "device" }).allowed, false);
  throwsCode(() => realm.snapshot(), ArgumentError, "invalid_argument");
});

test("construction errors", () => {
  throwsCode(() => new Realm({ version: 1, roles: 5 }, SESSION_KEY, FAST), PolicyError, "invalid_policy");
  throwsCode(() => new Realm("{", SESSION_KEY, FAST), PolicyError, "invalid_policy");
  throwsCode(() => new Realm(POLICY, { kty: "oct", k: "c2hvcnQ" }, FAST), TokenError, "weak_key");
  throwsCode(() => new Realm(POLICY, SESSION_KEY, { argon2: { memoryKib: 8, bogus: 1 } }), ArgumentError, "invalid_argument");
  throwsCode(() => new Realm(POLICY, SESSION_KEY, { unknown: true }), ArgumentError, "invalid_argument");
  throwsCode(() => new Realm(POLICY, SESSION_KEY, { jwks: 5 }), ArgumentError, "invalid_argument");
  throwsCode(() => new Realm(POLICY, undefined, FAST), ArgumentError, "invalid_argument");
  // a JWKS passes verbatim (its keys are not renamed)
  new Realm(POLICY, SESSION_KEY, { ...FAST, jwks: { keys: [] } });
});

test("garbage input is always a typed error", () => {
  const { realm, admin } = setup();
  const cyclic = {};
  cyclic.self = cyclic;
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error("boom");
      },
      ownKeys() {
        throw new Error("boom");
      },
      getPrototypeOf() {
        throw new Error("boom");
      },
    },
  );
  const garbage = [undefined, 1, "s", [], cyclic, hostile, 10n, Symbol("x"), () => 1, { id: 5 }];
  const calls = [
    (g) => realm.createUser(g, "x", "pw", undefined, NOW),
    (g) => realm.createUser(admin, g, "pw", undefined, NOW),
    (g) => realm.createUser(admin, "x", g === undefined ? 1 : g, undefined, NOW),
    (g) => realm.createUser(admin, "x", "pw", g === undefined ? 1 : g, NOW),
    (g) => realm.createUser(admin, "x", "pw", undefined, g === undefined ? 1.5 : g),
    (g) => realm.getUser(g, "u-ann"),
    (g) => realm.getUser(admin, g),
    (g) => realm.listUsers(g),
    (g) => realm.setRoles(admin, "u-ann", g),
    (g) => realm.setPassword(admin, "u-ann", g),
    (g) => realm.deleteUser(admin, g),
    (g) => realm.login(g, "pw"),
    (g) => realm.createApiToken(admin, "u-ann", g === undefined ? 1 : g),
    (g) => realm.listApiTokens(admin, g === undefined ? 1 : g),
    (g) => realm.suspendApiToken(admin, g),
    (g) => realm.resumeApiToken(admin, g),
    (g) => realm.revokeApiToken(admin, g),
    (g) => realm.replaceApiToken(admin, g),
    (g) => realm.openSession(g),
    (g) => realm.renew(g),
    (g) => realm.close(g),
    (g) => realm.authenticate(g),
    (g) => realm.authenticate("Bearer x", g === undefined ? NaN : g),
    (g) => new Realm(g, SESSION_KEY, FAST),
    (g) => new Realm(POLICY, g, FAST),
    (g) => new Realm(POLICY, SESSION_KEY, g === undefined ? 1 : g),
    (g) => Realm.restore(POLICY, g, SESSION_KEY, FAST),
  ];
  for (const [i, call] of calls.entries()) {
    for (const g of garbage) {
      try {
        call(g);
      } catch (e) {
        assert.ok(e instanceof TesseraError, `call ${i} with ${String(typeof g)}: ${e}`);
        assert.equal(typeof e.code, "string");
      }
    }
  }
  // still alive
  assert.equal(realm.getUser(admin, "u-ann").username, "ann");
});

test("default Argon2 costs work in WebAssembly", () => {
  const realm = new Realm(POLICY, SESSION_KEY);
  realm.createUser(null, "ann", "pw", undefined, NOW);
  const snap = realm.snapshot();
  assert.match(snap.users[0].password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(typeof realm.login("ann", "pw", NOW).token, "string");
  throwsCode(() => realm.login("ann", "nope", NOW), RealmError, "invalid_credentials");
});

// A snapshot taken in Node restores in Python (the repository's .venv, when
// `make build-python` has installed the package there) and the other way round.
const PYTHON = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));
const hasPython = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import tessera; tessera.Realm"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();

test("snapshot: Node → Python → Node", { skip: hasPython ? false : "no tessera in .venv (make build-python)" }, () => {
  const { realm, bob, bobP } = setup();
  const made = realm.createApiToken(bobP, bob.id, null, undefined, NOW);
  const script = `
import json, sys, tessera
args = json.load(sys.stdin)
o = {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}}
r = tessera.Realm.restore(args["policy"], args["snapshot"], args["key"], o)
assert r.snapshot() == args["snapshot"]
assert r.authenticate(args["secret"], now=args["now"])["id"] == args["bob"]
r.login("bob", "pw-bob", now=args["now"])
admin = r.authenticate("Bearer " + r.login("ann", "pw-ann", now=args["now"])["token"], now=args["now"])
r.create_user(admin, "carl", "pw-carl", now=args["now"])
print(json.dumps(r.snapshot()))
`;
  const input = JSON.stringify({ policy: POLICY, snapshot: realm.snapshot(), key: SESSION_KEY, secret: made.secret, bob: bob.id, now: NOW + 1 });
  const out = execFileSync(PYTHON, ["-c", script], { input, encoding: "utf8" });
  const fromPython = JSON.parse(out);
  const back = Realm.restore(POLICY, fromPython, SESSION_KEY, FAST);
  assert.deepEqual(back.snapshot(), fromPython);
  assert.equal(typeof back.login("carl", "pw-carl", NOW + 2).token, "string");
  assert.equal(back.authenticate(made.secret, NOW + 2).id, bob.id);
});
