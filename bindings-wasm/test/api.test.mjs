// The API of tessera-policy in Node (ESM), against the built package in ../pkg.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Engine,
  PreparedPrincipal,
  TesseraError,
  LabelError,
  PolicyError,
  TokenError,
  ArgumentError,
  InternalError,
  parseLabel,
  formatLabel,
  reasons,
  parseAuthorization,
  suspendApiToken,
  resumeApiToken,
  revokeApiToken,
} from "../pkg/dist/node.mjs";
import * as api from "../pkg/dist/node.mjs";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { POLICY, SESSION_KEY, NOW, rsaKeys, signJwt, signHs256, accessClaims } from "./support.mjs";

const engine = new Engine(POLICY);
const alice = { id: "alice", roles: ["user"] };
const mine = { type: "device", id: "d1", owner: "alice" };
const theirs = { type: "device", id: "d2", owner: "bob" };

function throwsCode(f, Class, code) {
  assert.throws(f, (e) => {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e && e.constructor && e.constructor.name}: ${e}`);
    assert.ok(e instanceof TesseraError);
    assert.ok(e instanceof Error);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test("a policy loads from an object or from JSON text", () => {
  const fromText = new Engine(JSON.stringify(POLICY));
  assert.deepEqual(fromText.authorize(alice, "read", mine), engine.authorize(alice, "read", mine));
});

test("authorize: the decision shape of SPEC §4", () => {
  assert.deepEqual(engine.authorize(alice, "read", mine), {
    allowed: true,
    reason: "allowed",
    rule: "read_own_device",
    source: "role:user",
  });
  assert.deepEqual(engine.authorize(alice, "read", theirs), {
    allowed: false,
    reason: "no_match",
    rule: null,
    source: null,
  });
  const admin = { id: "carol", groups: ["administrators"] };
  assert.deepEqual(engine.authorize(admin, "delete", { type: "token" }), {
    allowed: false,
    reason: "denied",
    rule: "!delete_token",
    source: "role:admin",
  });
  assert.equal(engine.authorize({ id: "u-7" }, "update", { type: "device", id: "dev-42" }).source, "grant");
  assert.equal(engine.authorize({ permissions: ["read_stream"] }, "read", { type: "stream" }).source, "principal");
});

test("an unknown action or type is an invalid_request decision, not an error", () => {
  const d = engine.authorize(alice, "fly", mine);
  assert.equal(d.allowed, false);
  assert.equal(d.reason, "invalid_request");
  assert.equal(typeof d.message, "string");
  assert.equal(engine.authorize(alice, "read", { type: "spaceship" }).reason, "invalid_request");
});

test("limits narrow an allowed request to `limited`", () => {
  const p = { id: "alice", roles: ["user"], limits: ["pull_stream"] };
  const d = engine.authorize(p, "read", mine);
  assert.equal(d.allowed, false);
  assert.equal(d.reason, "limited");
});

test("explain: camelCase keys for effective and unknown roles", () => {
  const x = engine.explain({ id: "alice", roles: ["admin", "ghost"] }, "read", mine);
  assert.equal(x.allowed, true);
  assert.deepEqual(x.effectiveRoles, ["admin", "user"]);
  assert.deepEqual(x.unknownRoles, ["ghost"]);
  assert.ok(x.matched.length >= 2);
  for (const m of x.matched) assert.deepEqual(Object.keys(m).sort(), ["effect", "rule", "source"]);
  assert.ok(!("effective_roles" in x));
  assert.deepEqual(x.suggestions, []);
});

test("explain: a denied request says what would allow it (SPEC §9), in every module", async () => {
  const x = engine.explain(alice, "read", theirs);
  assert.equal(x.allowed, false);
  assert.ok(x.suggestions.length > 0);
  assert.deepEqual(x.suggestions, engine.suggest(alice, "read", theirs).suggestions);
  for (const { decision } of x.suggestions) assert.equal(decision.allowed, true);
  const core = await import("../pkg/dist/core/node.mjs");
  assert.deepEqual(new core.Engine(POLICY).explain(alice, "read", theirs), x);
});

test("capabilities: allowed actions in the policy's order", () => {
  assert.deepEqual(engine.capabilities(alice, mine), ["read", "update"]);
  assert.deepEqual(engine.capabilities(alice, theirs), []);
  assert.deepEqual(engine.capabilities({ roles: ["owner"] }, theirs), [
    "read",
    "create",
    "update",
    "delete",
    "push",
    "pull",
    "execute",
  ]);
});

test("authorizeOperation: public, authenticated, groups, permission, credential", () => {
  assert.equal(engine.authorizeOperation(null, "Auth.InitiateAuth").reason, "public");
  assert.equal(engine.authorizeOperation(null, "Projects.ListProjects").reason, "unauthenticated");
  assert.equal(engine.authorizeOperation(alice, "Projects.ListProjects").allowed, true);
  assert.equal(engine.authorizeOperation(alice, "Projects.CreateProject").reason, "missing_group");
  assert.equal(engine.authorizeOperation({ groups: ["managers"] }, "Projects.CreateProject").allowed, true);
  assert.equal(engine.authorizeOperation(alice, "Nope.Nothing").reason, "unknown_operation");
  const admin = { id: "carol", roles: ["admin"] };
  assert.equal(engine.authorizeOperation(admin, "DELETE /api/v1/devices/d9", {}).allowed, true);
  assert.equal(engine.authorizeOperation(alice, "DELETE /api/v1/devices/d1", { owner: "alice" }).allowed, false);
  assert.equal(engine.authorizeOperation(admin, "GET /tok/api/v1/devices", null).reason, "wrong_credential");
  assert.equal(
    engine.authorizeOperation({ ...admin, credential: "api_token" }, "GET /tok/api/v1/devices").allowed,
    true,
  );
  assert.equal(engine.authorizeOperation(undefined, "Auth.InitiateAuth").allowed, true);
});

test("parseLabel: free function and method, with the policy's vocabulary", () => {
  assert.deepEqual(parseLabel("!read_own_device"), {
    effect: "deny",
    action: "read",
    own: true,
    subject: "device",
    instance: null,
  });
  assert.deepEqual(parseLabel("admin"), { effect: "allow", action: "admin", own: false, subject: null, instance: null });
  assert.equal(engine.parseLabel("update_device:dev-42").instance, "dev-42");
  const custom = new Engine({ version: 1, actions: ["fly"], subjects: ["drone"], roles: {} });
  assert.equal(custom.parseLabel("fly_drone").subject, "drone");
  throwsCode(() => custom.parseLabel("read_device"), LabelError, "unknown_action");
  throwsCode(() => parseLabel("fly_drone"), LabelError, "unknown_action");
});

test("reasons: the core's table, as the types name it, and every reason a vector expects", () => {
  const table = reasons();
  assert.ok(Object.isFrozen(table));
  assert.equal(reasons(), table);
  // The hand-written union in types/shapes.d.ts must not drift from the core.
  const shapes = readFileSync(fileURLToPath(new URL("../npm/types/shapes.d.ts", import.meta.url)), "utf8");
  const union = shapes.match(/export type Reason =([^;]*);/)[1];
  assert.deepEqual([...union.matchAll(/"(\w+)"/g)].map((m) => m[1]), [...table]);
  const vectors = new URL("../../conformance/vectors/", import.meta.url);
  const seen = new Set();
  for (const name of readdirSync(vectors)) {
    JSON.stringify(JSON.parse(readFileSync(new URL(name, vectors), "utf8")), (key, value) => {
      if (key === "reason" && typeof value === "string") seen.add(value);
      return value;
    });
  }
  for (const reason of seen) assert.ok(table.includes(reason), `${reason} is not in reasons()`);
  assert.equal(engine.authorize(alice, "read", theirs).reason, "no_match");
});

test("formatLabel: the core's canonical text, which parses back to the same label", () => {
  for (const text of ["!read_own_device", "admin", "admin_own", "!admin", "update_device:dev-42", "read_own_device", "fly_drone"]) {
    const label = text === "fly_drone" ? new Engine({ version: 1, actions: ["fly"], subjects: ["drone"], roles: {} }).parseLabel(text) : parseLabel(text);
    assert.equal(formatLabel(label), text);
  }
  // A label written by hand, `instance` left out (absent is null).
  assert.equal(formatLabel({ effect: "allow", action: "read", own: false, subject: "device" }), "read_device");
  throwsCode(() => formatLabel({ effect: "maybe", action: "read", own: false, subject: null, instance: null }), ArgumentError, "invalid_argument");
  throwsCode(() => formatLabel("read_device"), ArgumentError, "invalid_argument");
});

test("label errors carry code and byte offset", () => {
  assert.throws(
    () => parseLabel("read_"),
    (e) => e instanceof LabelError && e.kind === "label" && e.code === "syntax" && e.offset === 5,
  );
  throwsCode(() => parseLabel("read_own_device:x"), LabelError, "own_with_instance");
  throwsCode(() => parseLabel("read_gizmo"), LabelError, "unknown_subject");
  throwsCode(() => parseLabel("read_" + "device".repeat(60)), LabelError, "too_long");
  const e = (() => {
    try {
      parseLabel("read_");
    } catch (err) {
      return err;
    }
  })();
  assert.equal(e.name, "LabelError");
  assert.ok(e.stack.includes("LabelError"));
  assert.deepEqual(e.problems, []);
});

test("policy errors list every problem with its path", () => {
  assert.throws(
    () =>
      new Engine({
        version: 1,
        roles: { a: { inherits: ["ghost"], permissions: ["read_", "fly_device"] } },
        groups: { g: ["nobody"] },
      }),
    (e) => {
      assert.ok(e instanceof PolicyError);
      assert.equal(e.kind, "policy");
      assert.equal(e.code, "invalid_policy");
      assert.ok(e.problems.length >= 3, JSON.stringify(e.problems));
      for (const p of e.problems) {
        assert.equal(typeof p.code, "string");
        assert.equal(typeof p.message, "string");
        assert.equal(typeof p.path, "string");
      }
      assert.ok(e.problems.some((p) => p.path === "roles.a.inherits[0]" && p.code === "unknown_role"));
      return true;
    },
  );
  throwsCode(() => new Engine("{not json"), PolicyError, "invalid_policy");
  throwsCode(() => new Engine("[]"), PolicyError, "invalid_policy");
});

test("load replaces the policy atomically; a failed load changes nothing", () => {
  const e = new Engine(POLICY);
  const p = e.prepare(alice);
  assert.equal(e.authorize(alice, "read", mine).allowed, true);
  throwsCode(() => e.load({ version: 1, roles: { a: { inherits: ["ghost"] } } }), PolicyError, "invalid_policy");
  throwsCode(() => e.load("{"), PolicyError, "invalid_policy");
  assert.equal(e.authorize(alice, "read", mine).allowed, true);
  e.load(JSON.stringify({ version: 1, roles: { user: { permissions: ["read_device"] } } }));
  assert.equal(e.authorize(alice, "read", theirs).allowed, true);
  assert.equal(e.authorize(alice, "update", mine).allowed, false);
  // A principal prepared before the load is decided under the new policy.
  assert.equal(p.isAllowed("read", "device", "d2", "bob"), true);
  assert.equal(p.isAllowed("update", "device", "d1", "alice"), false);
});

test("prepare + isAllowed: the fast path agrees with authorize", () => {
  const principals = [
    alice,
    { id: "bob", roles: ["user"] },
    { id: "carol", groups: ["administrators"] },
    { id: "dave", groups: ["managers"] },
    { id: "u-7" },
    { id: "alice", roles: ["user"], limits: ["read_device"] },
    { roles: ["owner"] },
    {},
  ];
  const actions = ["read", "create", "update", "delete", "push", "pull", "execute", "fly"];
  const resources = [
    { type: "device" },
    { type: "device", id: "d1" },
    { type: "device", id: "d1", owner: "alice" },
    { type: "device", id: "dev-42", owner: "bob" },
    { type: "stream", id: "s1", owner: "bob" },
    { type: "token", id: "t1" },
    { type: "user", owner: "alice" },
    { type: "nothing" },
  ];
  for (const principal of principals) {
    const p = engine.prepare(principal);
    assert.ok(p instanceof PreparedPrincipal);
    for (const action of actions) {
      for (const r of resources) {
        const slow = engine.authorize(principal, action, r);
        assert.equal(p.isAllowed(action, r.type, r.id, r.owner), slow.allowed, `${JSON.stringify(principal)} ${action} ${JSON.stringify(r)}`);
        assert.deepEqual(p.authorize(action, r), slow);
      }
    }
  }
});

test("isAllowed: null and undefined id/owner are the same; non-ASCII and long strings work", () => {
  const p = engine.prepare(alice);
  assert.equal(p.isAllowed("read", "device", null, null), p.isAllowed("read", "device"));
  assert.equal(p.isAllowed("read", "device", undefined, "alice"), true);
  const who = { id: "zoë-🙂", roles: ["user"] };
  const q = engine.prepare(who);
  assert.equal(q.isAllowed("read", "device", "dév-1", "zoë-🙂"), true);
  assert.equal(q.isAllowed("read", "device", "dév-1", "zoe-🙂"), false);
  const long = "x".repeat(5000);
  const r = engine.prepare({ id: long, roles: ["user"] });
  assert.equal(r.isAllowed("read", "device", long, long), true);
  assert.equal(r.isAllowed("read", "device", long, long + "y"), false);
  assert.equal(r.isAllowed("read", "device", "é".repeat(400), long), true);
});

test("isAllowed keeps working when the module's memory grows", () => {
  const p = engine.prepare(alice);
  assert.equal(p.isAllowed("read", "device", "d1", "alice"), true);
  // Allocate enough inside the module to force a memory.grow.
  const many = [];
  for (let i = 0; i < 40; i++) many.push(engine.prepare({ id: "x".repeat(100_000) + i, roles: ["user"] }));
  assert.equal(p.isAllowed("read", "device", "d1", "alice"), true);
  assert.equal(p.isAllowed("read", "device", "d1", "bob"), false);
  for (const m of many) m.free();
});

test("prepared: principal and effectiveRoles", () => {
  const p = engine.prepare({ id: "carol", groups: ["administrators"], expiresAt: 99 });
  assert.deepEqual(p.effectiveRoles, ["admin", "user"]);
  assert.equal(p.principal.id, "carol");
  assert.equal(p.principal.expiresAt, 99);
});

test("authorizeBatch: one boolean per [action, type, id?, owner?]", () => {
  const p = engine.prepare(alice);
  const requests = [
    ["read", "device", "d1", "alice"],
    ["read", "device", "d2", "bob"],
    ["update", "device", "d1", "alice"],
    ["delete", "device", "d1", "alice"],
    ["read", "device"],
    ["read", "device", null, "alice"],
    ["read", "device", "d1", undefined],
    ["fly", "device", "d1", "alice"],
    ["read", "spaceship"],
    ["read", "device", "dé-🙂", "alice"],
    ["read", "device", "", ""],
  ];
  const expected = requests.map(([a, t, i, o]) => p.isAllowed(a, t, i, o));
  assert.deepEqual(engine.authorizeBatch(p, requests), expected);
  assert.deepEqual(expected, [true, false, true, false, true, true, false, false, false, true, false]);
  assert.deepEqual(engine.authorizeBatch(p, []), []);
  const many = Array.from({ length: 1000 }, (_, i) => ["read", "device", `d${i}`, i % 3 ? "alice" : "bob"]);
  assert.deepEqual(engine.authorizeBatch(p, many), many.map((r, i) => i % 3 !== 0));
  // Another engine's prepared principal is decided under this engine's policy.
  const other = new Engine({ version: 1, roles: { user: { permissions: ["read_device"] } } });
  assert.deepEqual(other.authorizeBatch(p, [["read", "device", "d2", "bob"]]), [true]);
  throwsCode(() => engine.authorizeBatch(alice, requests), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, "read"), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, [["read"]]), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, [["read", "device", "a", "b", "c"]]), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, [["read", 1]]), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, [["read", null]]), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, [["read", "device", 5]]), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeBatch(p, [{ action: "read", type: "device" }]), ArgumentError, "invalid_argument");
});

test("PreparedPrincipal cannot be constructed directly", () => {
  throwsCode(() => new PreparedPrincipal(), ArgumentError, "invalid_argument");
});

test("free: later calls are ArgumentErrors, freeing twice is harmless", () => {
  const e = new Engine(POLICY);
  const p = e.prepare(alice);
  p.free();
  p.free();
  throwsCode(() => p.isAllowed("read", "device"), ArgumentError, "invalid_argument");
  throwsCode(() => p.authorize("read", mine), ArgumentError, "invalid_argument");
  throwsCode(() => e.authorizeBatch(p, []), ArgumentError, "invalid_argument");
  e.free();
  throwsCode(() => e.authorize(alice, "read", mine), ArgumentError, "invalid_argument");
  if (typeof Symbol.dispose === "symbol") {
    const f = new Engine(POLICY);
    f[Symbol.dispose]();
    throwsCode(() => f.capabilities(alice, mine), ArgumentError, "invalid_argument");
  }
});

test("wrongly shaped inputs are ArgumentErrors naming the input", () => {
  assert.throws(
    () => engine.authorize({ roles: "admin" }, "read", mine),
    (e) => e instanceof ArgumentError && e.kind === "argument" && e.message.startsWith("principal"),
  );
  assert.throws(
    () => engine.authorize(alice, "read", { type: "device", colour: "red" }),
    (e) => e instanceof ArgumentError && e.message.startsWith("resource"),
  );
  throwsCode(() => engine.authorize(alice, 5, mine), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorize({ credential: "password" }, "read", mine), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeOperation(alice, "Auth.InitiateAuth", { colour: 1 }), ArgumentError, "invalid_argument");
  throwsCode(() => engine.authorizeOperation(alice, "Auth.InitiateAuth", [1]), ArgumentError, "invalid_argument");
  // A principal holding a label the policy cannot parse is an error with its path.
  assert.throws(
    () => engine.authorize({ permissions: ["read_device", "read_"] }, "read", mine),
    (e) => e instanceof TesseraError && e.path === "permissions[1]",
  );
});

// ------------------------------------------------------------------ tokens

test("parseAuthorization", () => {
  assert.equal(parseAuthorization("Bearer abc.def.ghi"), "abc.def.ghi");
  assert.equal(parseAuthorization("bearer   tok"), "tok");
  assert.equal(parseAuthorization("tsr_abc_def"), "tsr_abc_def");
  throwsCode(() => parseAuthorization("Basic dXNlcjpwYXNz"), TokenError, "malformed");
  throwsCode(() => parseAuthorization(""), TokenError, "malformed");
  throwsCode(() => parseAuthorization(undefined), ArgumentError, "invalid_argument");
});

test("verifyJwt: a principal with camelCase keys and claims verbatim", () => {
  const { privateKey, jwks } = rsaKeys();
  const token = signJwt(privateKey, accessClaims());
  const p = engine.verifyJwtSync(token, jwks, NOW);
  assert.equal(p.id, "u-1");
  assert.equal(p.credential, "jwt");
  assert.deepEqual(p.groups, ["administrators"]);
  assert.deepEqual(p.roles, ["admin"]);
  assert.deepEqual(p.scopes, ["devices/read", "devices/write"]);
  assert.equal(p.expiresAt, NOW + 3600);
  // Raw claims keep their own names: no camelCase conversion inside.
  assert.equal(p.claims.client_id, "client-1");
  assert.equal(p.claims.token_use, "access");
  assert.deepEqual(p.claims["cognito:groups"], ["administrators"]);
  assert.ok(!("clientId" in p.claims));
  // The JWKS may be JSON text, and the principal goes straight into authorize.
  assert.deepEqual(engine.verifyJwtSync(token, JSON.stringify(jwks), NOW), p);
  assert.equal(engine.authorize(p, "delete", { type: "device", id: "x" }).allowed, true);
  // A principal with claims goes back in with its claims untouched.
  assert.equal(engine.prepare(p).principal.claims.client_id, "client-1");
});

test("verifyJwt: failures are TokenErrors with SPEC codes", () => {
  const { privateKey, jwks } = rsaKeys();
  throwsCode(() => engine.verifyJwtSync(signJwt(privateKey, accessClaims()), jwks, NOW + 3600), TokenError, "expired");
  throwsCode(
    () => engine.verifyJwtSync(signJwt(privateKey, accessClaims({ iss: "https://evil.example" })), jwks, NOW),
    TokenError,
    "wrong_issuer",
  );
  throwsCode(
    () => engine.verifyJwtSync(signJwt(privateKey, accessClaims({ client_id: "other" })), jwks, NOW),
    TokenError,
    "wrong_client",
  );
  const other = rsaKeys();
  throwsCode(() => engine.verifyJwtSync(signJwt(other.privateKey, accessClaims()), jwks, NOW), TokenError, "bad_signature");
  throwsCode(() => engine.verifyJwtSync("a.b.c", jwks, NOW), TokenError, "malformed");
  throwsCode(() => engine.verifyJwtSync("x".repeat(20000), jwks, NOW), TokenError, "too_large");
  throwsCode(
    () => engine.verifyJwtSync(signHs256("secret", accessClaims()), jwks, NOW),
    TokenError,
    "unsupported_alg",
  );
  throwsCode(
    () => engine.verifyJwtSync(signJwt(privateKey, accessClaims(), { alg: "RS256", kid: "nope" }), jwks, NOW),
    TokenError,
    "unknown_key",
  );
  throwsCode(() => engine.verifyJwtSync(signJwt(privateKey, accessClaims()), { nokeys: 1 }, NOW), ArgumentError, "invalid_argument");
});

test("sessions: issue, verify, renew, revoke, end", () => {
  const grant = engine.issueSession(alice, SESSION_KEY, 1000, { sessionId: "s-1" });
  assert.deepEqual(Object.keys(grant).sort(), ["expiresAt", "renewableUntil", "sessionId", "token"]);
  assert.equal(grant.sessionId, "s-1");
  assert.equal(grant.expiresAt, 1000 + 1800);
  assert.equal(grant.renewableUntil, 1000 + 172800);
  // Same inputs, same token, byte for byte.
  assert.equal(engine.issueSession(alice, JSON.stringify(SESSION_KEY), 1000, { sessionId: "s-1" }).token, grant.token);
  const p = engine.verifySession(grant.token, SESSION_KEY, 1001);
  assert.equal(p.id, "alice");
  assert.equal(p.credential, "session");
  assert.equal(p.sessionId, "s-1");
  assert.equal(p.expiresAt, 2800);
  const next = engine.renewSession(grant.token, SESSION_KEY, 2000);
  assert.equal(next.sessionId, "s-1");
  assert.equal(next.expiresAt, 3800);
  throwsCode(() => engine.verifySession(grant.token, SESSION_KEY, 2800), TokenError, "expired");
  throwsCode(() => engine.verifySession(grant.token, SESSION_KEY, 1001, { sessions: ["s-1"] }), TokenError, "revoked");
  throwsCode(() => engine.verifySession(grant.token, SESSION_KEY, 1001, { subjects: ["alice"] }), TokenError, "revoked");
  throwsCode(() => engine.verifySession(grant.token, SESSION_KEY, 1001, { epoch: 1 }), TokenError, "revoked");
  throwsCode(() => engine.renewSession(grant.token, SESSION_KEY, 1000 + 172800), TokenError, "session_ended");
  throwsCode(() => engine.issueSession(alice, { kty: "oct", k: "c2hvcnQ" }, 1000), TokenError, "weak_key");
  throwsCode(() => engine.verifySession(grant.token, SESSION_KEY, 1001, { colour: [] }), ArgumentError, "invalid_argument");
  // A session token is never a provider JWT.
  throwsCode(() => engine.verifyJwtSync(grant.token, { keys: [SESSION_KEY] }, 1001), TokenError, "wrong_token_use");
  // A random session id when none is given; the clock when no `now` is given.
  const fresh = engine.issueSession(alice, SESSION_KEY);
  assert.match(fresh.sessionId, /^[0-9A-Za-z]{22}$/);
  assert.ok(Math.abs(fresh.expiresAt - 1800 - Date.now() / 1000) < 120);
  assert.equal(engine.verifySession(fresh.token, SESSION_KEY).id, "alice");
});

test("sessions from an API token carry its id and limits", () => {
  const grant = engine.issueSession(alice, SESSION_KEY, 1000, { apiTokenId: "tok-1", limits: ["read_device"] });
  const p = engine.verifySession(grant.token, SESSION_KEY, 1001);
  assert.equal(p.apiTokenId, "tok-1");
  assert.deepEqual(p.limits, ["read_device"]);
  throwsCode(() => engine.verifySession(grant.token, SESSION_KEY, 1001, { apiTokens: ["tok-1"] }), TokenError, "revoked");
});

test("API tokens: create, verify, suspend, resume, revoke, replace", () => {
  const made = engine.createApiToken("alice", ["user"], 1000, { lifespanSeconds: 3600, limits: ["read_device"] });
  assert.match(made.secret, /^tsr_[0-9A-Za-z]+_[0-9A-Za-z]+$/);
  const r = made.record;
  assert.deepEqual(Object.keys(r).sort(), ["createdAt", "expiresAt", "hash", "id", "limits", "owner", "roles", "state"]);
  assert.equal(r.state, "active");
  assert.equal(r.createdAt, 1000);
  assert.equal(r.expiresAt, 4600);
  const p = engine.verifyApiToken(made.secret, [r], 1001);
  assert.equal(p.id, "alice");
  assert.equal(p.credential, "api_token");
  assert.equal(p.apiTokenId, r.id);
  assert.deepEqual(p.limits, ["read_device"]);
  throwsCode(() => engine.verifyApiToken(made.secret, [r], 4600), TokenError, "expired");
  throwsCode(() => engine.verifyApiToken(made.secret, [], 1001), TokenError, "unknown_token");
  throwsCode(() => engine.verifyApiToken("garbage", [r], 1001), TokenError, "malformed");
  const s = suspendApiToken(r);
  assert.equal(s.state, "suspended");
  assert.equal(r.state, "active", "the input record is not changed");
  throwsCode(() => engine.verifyApiToken(made.secret, [s], 1001), TokenError, "suspended");
  throwsCode(() => suspendApiToken(s), TokenError, "invalid_transition");
  assert.equal(resumeApiToken(s).state, "active");
  const gone = revokeApiToken(s);
  assert.equal(gone.state, "revoked");
  throwsCode(() => engine.verifyApiToken(made.secret, [gone], 1001), TokenError, "revoked");
  throwsCode(() => revokeApiToken(gone), TokenError, "invalid_transition");
  const [created, revoked] = engine.replaceApiToken(r, 2000);
  assert.equal(revoked.state, "revoked");
  assert.notEqual(created.record.id, r.id);
  assert.equal(created.record.expiresAt, 2000 + 3600);
  assert.deepEqual(created.record.limits, ["read_device"]);
  assert.equal(engine.verifyApiToken(created.secret, [revoked, created.record], 2001).apiTokenId, created.record.id);
  const forever = engine.createApiToken("bob", [], 5);
  assert.equal(forever.record.expiresAt, null);
  assert.equal(forever.record.limits, null);
  throwsCode(() => engine.createApiToken("", [], 5), ArgumentError, "invalid_argument");
  throwsCode(() => engine.createApiToken("bob", "user", 5), ArgumentError, "invalid_argument");
  throwsCode(() => engine.createApiToken("bob", [], 5, { lifespan: 3 }), ArgumentError, "invalid_argument");
});

test("now must be a whole number of seconds", () => {
  for (const bad of [1.5, NaN, Infinity, -Infinity, 2 ** 60, "1000", 1000n, {}, true]) {
    throwsCode(() => engine.issueSession(alice, SESSION_KEY, bad), ArgumentError, "invalid_argument");
  }
  assert.equal(engine.issueSession(alice, SESSION_KEY, null, { sessionId: "s" }).sessionId, "s");
  assert.equal(engine.issueSession(alice, SESSION_KEY, 0, { sessionId: "s" }).expiresAt, 1800);
  assert.equal(engine.issueSession(alice, SESSION_KEY, -100, { sessionId: "s" }).expiresAt, 1700);
});

test("the error classes", () => {
  assert.ok(new TesseraError({ kind: "token", code: "expired", message: "m" }) instanceof Error);
  const e = new TokenError({ kind: "token", code: "expired", message: "gone" });
  assert.equal(e.name, "TokenError");
  assert.equal(e.message, "gone");
  assert.equal(e.code, "expired");
  assert.ok(!("path" in e) && !("offset" in e));
  assert.ok(new InternalError({}) instanceof TesseraError);
});

test("index.d.ts and core.d.ts declare exactly the runtime exports, and every method", async () => {
  // Read by the TypeScript checker itself: the declarations are split by
  // concept (npm/types/) and composed by re-exports.
  const ts = (await import("typescript")).default;
  const core = await import("../pkg/dist/core/node.mjs");
  for (const [entry, runtime] of [["index.d.ts", api], ["core.d.ts", core]]) {
    const file = fileURLToPath(new URL(`../npm/${entry}`, import.meta.url));
    const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] });
    const checker = program.getTypeChecker();
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)));
    const target = (e) => (e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e);
    const values = exports.filter((e) => target(e).flags & ts.SymbolFlags.Value);
    assert.deepEqual(values.map((e) => e.name).sort(), Object.keys(runtime).sort(), entry);
    for (const Class of [runtime.Engine, runtime.PreparedPrincipal, runtime.Realm, runtime.KeySet].filter(Boolean)) {
      const symbol = target(values.find((e) => e.name === Class.name));
      const instance = checker.getDeclaredTypeOfSymbol(symbol);
      const declared = new Set(checker.getPropertiesOfType(instance).map((p) => p.name));
      for (let proto = Class.prototype; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) {
          if (name !== "constructor") assert.ok(declared.has(name), `${entry}: ${Class.name}.${name} is not declared`);
        }
      }
      for (const name of declared) assert.ok(name in Class.prototype, `${entry}: ${Class.name}.${name} is declared but absent`);
    }
  }
});
