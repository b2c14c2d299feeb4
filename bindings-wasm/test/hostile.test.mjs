// Hostile input (issue 17): conversions fail closed. Principals and resources
// are converted field by field (never through a bare JSON.stringify), so NaN,
// numbers, symbols, functions, bigints and throwing getters are ArgumentErrors
// naming the field; lone surrogates are refused everywhere; arrays are never
// read as objects; times past 2^53 - 1 are refused, not rounded; the answers
// cache follows its own engine only. Messages are for people: a path, no Rust
// type names, no positions inside the package's own JSON.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as api from "../pkg/dist/node.mjs";
import { SESSION_KEY } from "./support.mjs";

const { Engine, ArgumentError } = api;

const POLICY = {
  version: 1,
  roles: {
    user: { permissions: ["read_own_device", "delete_own_device"] },
    admin: { inherits: ["user"], permissions: ["admin_device"] },
  },
  tokens: { session: { ttl_seconds: 600, max_lifetime_seconds: 7200 } },
};
const RUST = /struct |enum |tessera::|Vec<|Option<|at line \d+ column|\(at \)/;

function refused(f, path) {
  let err;
  try {
    f();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ArgumentError, `expected ArgumentError, got ${err}`);
  assert.equal(err.code, "invalid_argument");
  assert.ok(err.message.startsWith(`${path}: `), err.message);
  assert.doesNotMatch(err.message, RUST);
  return err;
}

const alice = { id: "alice", roles: ["user"] };

test("values JSON would drop or change are refused with the field's path", () => {
  const engine = new Engine(POLICY);
  // The issue's case: NaN id and owner made a type-level request, allowed.
  refused(() => engine.authorize(alice, "delete", { type: "device", id: NaN, owner: NaN }), "resource.id");
  refused(() => engine.authorize(alice, "delete", { type: "device", id: "d", owner: Infinity }), "resource.owner");
  refused(() => engine.authorize(alice, "delete", { type: "device", id: Symbol("x") }), "resource.id");
  refused(() => engine.authorize(alice, "delete", { type: "device", id: () => "d" }), "resource.id");
  refused(() => engine.authorize(alice, "delete", { type: "device", id: 1n }), "resource.id");
  refused(() => engine.authorize(alice, "delete", { type: "device", owners: ["a", undefined] }), "resource.owners[1]");
  const hostile = { type: "device" };
  Object.defineProperty(hostile, "owner", { enumerable: true, get: () => { throw new Error("boom"); } });
  refused(() => engine.authorize(alice, "delete", hostile), "resource.owner");
  refused(() => engine.authorize({ id: "alice", roles: ["user", 3] }, "read", { type: "device" }), "principal.roles[1]");
  refused(() => engine.authorize({ id: "alice", expiresAt: 2 ** 60 }, "read", { type: "device" }), "principal.expiresAt");
  refused(() => engine.authorize(alice, "delete", { type: "device", id: 7 }), "resource.id");
  refused(() => engine.authorize(alice, "delete", new Map([["type", "device"]])), "resource");
});

test("arrays are never principals, resources or snapshots", () => {
  const engine = new Engine(POLICY);
  const e = refused(() => engine.authorize(["mallory", ["admin"]], "delete", { type: "device", id: "d2", owner: "bob" }), "principal");
  assert.equal(e.message, "principal: expected an object, found an array");
  assert.equal(e.path, "principal");
  refused(() => engine.authorize(alice, "delete", ["device", "d2", "bob"]), "resource");
  refused(() => engine.prepare(["mallory", ["admin"]]), "principal");
  refused(() => api.Realm.restore(POLICY, [1, false, 0, [], [], []], SESSION_KEY), "snapshot");
});

test("a lone surrogate gets one answer everywhere: refused", () => {
  const engine = new Engine(POLICY);
  const other = new Engine(POLICY);
  const p = engine.prepare({ id: "\uFFFD", roles: ["user"] });
  refused(() => engine.authorize({ id: "\uFFFD", roles: ["user"] }, "delete", { type: "device", id: "d", owner: "\uD800" }), "resource.owner");
  refused(() => p.isAllowed("delete", "device", "d", "\uD800"), "owner");
  refused(() => other.authorizeBatch(p, [["delete", "device", "d", "\uD800"]]), "requests[0][3]");
  refused(() => engine.authorize({ id: "\uDC00" }, "read", { type: "device" }), "principal.id");
  // Text policies, as in Python: the raw character and its JSON escape.
  refused(() => new Engine('{"version": 1, "roles": {"\uD800": {}}}'), "policy");
  refused(() => new Engine('{"version": 1, "roles": {"\\ud800": {}}}'), "policy");
  refused(() => new Engine({ version: 1, roles: { "\uD800": {} } }), "policy");
});

test("times past 2^53 - 1 are refused, not rounded", () => {
  const engine = new Engine(POLICY);
  refused(() => engine.issueSession(alice, SESSION_KEY, Number.MAX_SAFE_INTEGER), "now");
  refused(() => engine.issueSession(alice, SESSION_KEY, 2 ** 53), "now");
  const ok = engine.issueSession(alice, SESSION_KEY, 1_700_000_000);
  assert.equal(ok.expiresAt, 1_700_000_600);
});

test("the answers cache follows its own engine, not every engine of the process", () => {
  const engine = new Engine({ version: 1, roles: { r: { permissions: ["read_device"] } } });
  const p = engine.prepare({ id: "u", roles: ["r"] });
  assert.equal(p.isAllowed("read", "device"), true);
  // Other engines coming and going leave this principal's answers standing...
  for (let i = 0; i < 3; i++) new Engine(POLICY).load(POLICY);
  assert.equal(p.isAllowed("read", "device"), true);
  // ...and its own engine's load replaces them.
  engine.load({ version: 1, roles: { r: { permissions: ["update_device"] } } });
  assert.equal(p.isAllowed("read", "device"), false);
  assert.equal(p.isAllowed("update", "device"), true);
});

test("key-material errors name the key and member (jwks.keys[i].kid, key.d)", async () => {
  const { readFileSync } = await import("node:fs");
  const vectors = JSON.parse(readFileSync(new URL("../../conformance/vectors/jwt_structure.json", import.meta.url), "utf8"));
  const jwtEngine = new Engine(vectors.policy);
  const byName = Object.fromEntries(vectors.cases.map((c) => [c.name, c]));
  const { token } = byName["JWKS with a duplicate kid"];
  const rsa = byName["JWKS with a duplicate kid"].keys.keys[0];
  refused(() => jwtEngine.verifyJwtSync(token, { keys: [rsa, { ...rsa }] }, 1_700_000_000), "jwks.keys[1].kid");
  refused(() => jwtEngine.verifyJwtSync(token, { keys: [rsa, { kty: "oct", k: "AAAA" }] }, 1_700_000_000), "jwks.keys[1].kty");
  refused(() => jwtEngine.verifyJwtSync(token, { keys: [rsa, "rsa-2"] }, 1_700_000_000), "jwks.keys[1]");
  refused(() => jwtEngine.verifyJwtSync(token, { keys: [{ ...rsa, use: 1 }] }, 1_700_000_000), "jwks.keys[0].use");
  refused(() => jwtEngine.verifyJwtSync(token, { keys: {} }, 1_700_000_000), "jwks.keys");
  const engine = new Engine(POLICY);
  const okp = { kty: "OKP", crv: "Ed25519" };
  refused(() => engine.issueSession(alice, { ...okp, d: "AAAA" }, 1_700_000_000), "key.d");
  refused(() => engine.issueSession(alice, { ...okp, d: "not base64!" }, 1_700_000_000), "key.d");
  refused(() => engine.issueSession(alice, { crv: "Ed25519", d: "AAAA" }, 1_700_000_000), "key.kty");
  refused(() => engine.issueSession(alice, { ...okp, x: "hFd-5-W5Kt9XtPC_BDej_Z_Mk50qsycuNTJkH7OIKOE" }, 1_700_000_000), "key.d");
  const err = refused(() => engine.issueSession(alice, okp, 1_700_000_000), "key");
  assert.equal(err.path, "key");
});

test("null id and owner are absent, as in Python (SPEC §3 id?, owner?)", () => {
  const engine = new Engine(POLICY);
  const p = engine.prepare({ id: null, roles: ["user"] });
  // A null principal id owns nothing, not even what a null owner "owns".
  assert.equal(engine.authorize({ id: null, roles: ["user"] }, "delete", { type: "device", id: "d", owner: null }).allowed, false);
  assert.equal(p.isAllowed("delete", "device", "d", null), false);
  assert.equal(engine.authorize(alice, "read", { type: "device", id: null, owner: "alice" }).allowed, true);
  assert.equal(engine.prepare(alice).isAllowed("read", "device", null, "alice"), true);
  // A type-level request either way.
  assert.equal(engine.authorize(alice, "read", { type: "device", id: null, owner: null }).allowed, true);
  refused(() => engine.authorize(alice, "read", { type: "device", id: 0 }), "resource.id");
});
