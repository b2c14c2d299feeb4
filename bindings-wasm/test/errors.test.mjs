// Every error path: garbage of every type into every function must either
// succeed or throw a TesseraError — never a TypeError, never a RuntimeError
// (a WebAssembly trap), never an InternalError — and the module must still
// answer correctly afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as api from "../pkg/dist/node.mjs";
import { POLICY, SESSION_KEY, NOW, rsaKeys, signJwt, accessClaims } from "./support.mjs";

const { Engine, TesseraError, InternalError } = api;

// A deterministic PRNG (mulberry32), so a failure can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function circular() {
  const o = { a: 1 };
  o.self = o;
  return o;
}

function deep(n) {
  let o = {};
  for (let i = 0; i < n; i++) o = { roles: [o] };
  return o;
}

function deepArray(n) {
  let o = [];
  for (let i = 0; i < n; i++) o = [o];
  return o;
}

const throwingGetter = Object.defineProperty({}, "id", {
  enumerable: true,
  get() {
    throw new Error("getter says no");
  },
});
const throwingToJSON = { toJSON() {
  throw new Error("toJSON says no");
} };
const hostileProxy = new Proxy(
  {},
  {
    ownKeys() {
      throw new Error("proxy says no");
    },
    get() {
      throw new Error("proxy says no");
    },
    getPrototypeOf() {
      throw new Error("proxy says no");
    },
  },
);

const revoked = (() => {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
})();

/** Garbage of every JS type, and JSON-shaped garbage the core must refuse. */
const GARBAGE = [
  undefined,
  null,
  true,
  false,
  0,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 63),
  Number.MAX_VALUE,
  0n,
  12345678901234567890n,
  "",
  " ",
  "x",
  "\u0000",
  "\ud800",
  "🙂",
  "Bearer",
  "tsr_",
  "tsr_a_b",
  "a.b.c",
  "..",
  "{",
  "[]",
  "null",
  '{"version":1}',
  '{"version":1,"roles":{"a":{"inherits":["a"]}}}',
  "x".repeat(100_000),
  "é".repeat(30_000),
  "read_own_device:x",
  "!".repeat(300),
  Symbol("s"),
  () => 1,
  class {},
  [],
  [1, "a", null],
  [[[[[]]]]],
  {},
  { a: 1 },
  { type: 1 },
  { type: "device", id: 5 },
  { type: "device", owners: "alice" },
  { type: "device", owners: [1] },
  { roles: "admin" },
  { roles: [1] },
  { roles: [null] },
  { permissions: ["read_"] },
  { permissions: ["x".repeat(10_000)] },
  { limits: ["!admin_own:x"] },
  { limits: "x" },
  { credential: "password" },
  { expiresAt: "soon" },
  { expiresAt: 1.5 },
  { expiresAt: 2 ** 70 },
  { claims: circular() },
  { claims: 12 },
  { id: "\u0000", roles: ["user"] },
  { keys: [] },
  { keys: [{}] },
  { keys: [{ kty: "RSA", n: "", e: "" }] },
  { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", alg: "RS256" }] },
  { keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA" }] },
  { keys: [{ kty: "EC", crv: "P-384", x: "A".repeat(64), y: "A".repeat(64) }] },
  { keys: [{ kty: "OKP", crv: "Ed25519", x: "AA" }] },
  { keys: [{ kty: "oct", k: "" }] },
  { keys: [{ kty: "oct", k: "!!!" }] },
  { kty: "oct", k: "" },
  { kty: "oct", k: "A".repeat(10_000) },
  { kty: "OKP", crv: "Ed25519", d: "AA" },
  { kty: "OKP", crv: "Ed25519", x: "A".repeat(43) },
  { kty: "RSA" },
  { sessionId: 5 },
  { sessionId: "" },
  { epoch: -1 },
  { epoch: 2 ** 64 },
  { lifespanSeconds: -5 },
  { lifespanSeconds: 0 },
  { lifespanSeconds: 2 ** 62 },
  { id: "x", owner: "y", roles: [], limits: null, state: "zombie", createdAt: 0, expiresAt: null, hash: "00" },
  { id: "x", owner: "y", roles: [], limits: null, state: "active", createdAt: 0, expiresAt: null, hash: "zz" },
  [{ id: "x", owner: "y", roles: [], limits: null, state: "active", createdAt: 0, expiresAt: null, hash: "0".repeat(64) }],
  { version: 1, roles: { a: { inherits: ["a"] } } },
  { version: 2 },
  { version: 1, roles: [], groups: 5, grants: {}, operations: [], tokens: 3 },
  { version: 1, operations: { "GET /{id}/{id}": { permission: "read_device" }, "": {} } },
  { version: 1, tokens: { jwt: { leeway_seconds: -1, algorithms: ["none"] }, session: { ttl_seconds: 0 } } },
  deep(200),
  deep(5_000),
  deepArray(100_000),
  circular(),
  throwingGetter,
  throwingToJSON,
  hostileProxy,
  revoked,
  Object.create(null),
  new Date(0),
  new Map([["a", 1]]),
  new Uint8Array(4),
  new Error("e"),
  Promise.resolve(1),
  new (class Custom {
    constructor() {
      this.type = "device";
    }
  })(),
];

const { privateKey, jwks } = rsaKeys();
const goodJwt = signJwt(privateKey, accessClaims());
const engine = new Engine(POLICY);
const alice = { id: "alice", roles: ["user"] };
const grant = engine.issueSession(alice, SESSION_KEY, NOW, { sessionId: "s-1" });
const made = engine.createApiToken("alice", ["user"], NOW);
const prepared = engine.prepare(alice);

/** Every entry point, with good arguments; each position gets garbage in turn. */
const CALLS = [
  ["new Engine", (a) => new Engine(a), [POLICY]],
  ["load", (a) => new Engine(POLICY).load(a), [POLICY]],
  ["parseLabel", (a) => api.parseLabel(a), ["read_device"]],
  ["engine.parseLabel", (a) => engine.parseLabel(a), ["read_device"]],
  ["authorize", (p, a, r) => engine.authorize(p, a, r), [alice, "read", { type: "device" }]],
  ["explain", (p, a, r) => engine.explain(p, a, r), [alice, "read", { type: "device" }]],
  ["capabilities", (p, r) => engine.capabilities(p, r), [alice, { type: "device" }]],
  ["authorizeOperation", (p, o, c) => engine.authorizeOperation(p, o, c), [alice, "DELETE /api/v1/devices/d1", { owner: "alice" }]],
  ["prepare", (p) => engine.prepare(p), [alice]],
  ["isAllowed", (a, t, i, o) => prepared.isAllowed(a, t, i, o), ["read", "device", "d1", "alice"]],
  ["prepared.authorize", (a, r) => prepared.authorize(a, r), ["read", { type: "device" }]],
  ["authorizeBatch", (p, r) => engine.authorizeBatch(p, r), [prepared, [["read", "device", "d1", "alice"]]]],
  ["authorizeBatch item", (a, t, i, o) => engine.authorizeBatch(prepared, [[a, t, i, o]]), ["read", "device", "d1", "alice"]],
  ["parseAuthorization", (h) => api.parseAuthorization(h), ["Bearer x"]],
  ["verifyJwtSync", (t, k, n) => engine.verifyJwtSync(t, k, n), [goodJwt, jwks, NOW]],
  ["issueSession", (p, k, n, o) => engine.issueSession(p, k, n, o), [alice, SESSION_KEY, NOW, { sessionId: "s" }]],
  ["renewSession", (t, k, n, r) => engine.renewSession(t, k, n, r), [grant.token, SESSION_KEY, NOW + 1, { sessions: [] }]],
  ["verifySession", (t, k, n, r) => engine.verifySession(t, k, n, r), [grant.token, SESSION_KEY, NOW + 1, { sessions: [] }]],
  ["createApiToken", (w, r, n, o) => engine.createApiToken(w, r, n, o), ["alice", ["user"], NOW, { lifespanSeconds: 60 }]],
  ["verifyApiToken", (s, r, n) => engine.verifyApiToken(s, r, n), [made.secret, [made.record], NOW + 1]],
  ["replaceApiToken", (r, n) => engine.replaceApiToken(r, n), [made.record, NOW + 1]],
  ["suspendApiToken", (r) => api.suspendApiToken(r), [made.record]],
  ["resumeApiToken", (r) => api.resumeApiToken(api.suspendApiToken(made.record)) && api.resumeApiToken(r), [api.suspendApiToken(made.record)]],
  ["revokeApiToken", (r) => api.revokeApiToken(r), [made.record]],
];

function sane() {
  // The module still decides correctly (a trap would have broken it).
  assert.equal(engine.authorize(alice, "read", { type: "device", id: "d", owner: "alice" }).allowed, true);
  assert.equal(prepared.isAllowed("read", "device", "d", "alice"), true);
  assert.equal(prepared.isAllowed("read", "device", "d", "bob"), false);
}

function expectTessera(label, f) {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TesseraError, `${label}: threw ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    assert.ok(!(e instanceof InternalError), `${label}: internal error: ${e.message}`);
    assert.equal(typeof e.code, "string", label);
    assert.equal(typeof e.kind, "string", label);
    assert.equal(typeof e.message, "string", label);
    assert.ok(Array.isArray(e.problems), label);
    return e;
  }
  return null;
}

test("the good arguments of every call succeed", () => {
  for (const [name, f, good] of CALLS) {
    assert.equal(expectTessera(name, () => f(...good)), null, `${name} with good arguments`);
  }
});

test("garbage in every argument position throws only TesseraError", () => {
  let thrown = 0;
  let calls = 0;
  for (const [name, f, good] of CALLS) {
    for (let pos = 0; pos < good.length; pos++) {
      for (const g of GARBAGE) {
        const args = good.slice();
        args[pos] = g;
        calls++;
        if (expectTessera(`${name} arg ${pos} = ${describe(g)}`, () => f(...args))) thrown++;
      }
    }
    sane();
  }
  assert.ok(thrown > calls / 2, `${thrown} of ${calls} calls threw`);
});

test("missing and extra arguments", () => {
  for (const [name, f, good] of CALLS) {
    expectTessera(`${name}()`, () => f());
    expectTessera(`${name}(...good, extra)`, () => f(...good, "extra", {}, 1));
  }
  sane();
});

/** Random JSON values, and random mutations of valid inputs. */
function randomValue(r, depth = 0) {
  const pick = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** (r() * 64));
    case 3:
      return randomString(r);
    case 4:
      return WORDS[Math.floor(r() * WORDS.length)];
    case 5:
      return r() * 1e6;
    case 6:
    case 7: {
      const o = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[r() < 0.7 ? WORDS[Math.floor(r() * WORDS.length)] : randomString(r)] = randomValue(r, depth + 1);
      return o;
    }
    default:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  }
}

const WORDS = [
  "id", "type", "owner", "owners", "roles", "groups", "permissions", "scopes", "limits", "credential",
  "expiresAt", "sessionId", "apiTokenId", "claims", "version", "actions", "subjects", "inherits", "grants",
  "operations", "tokens", "jwt", "session", "access", "public", "authenticated", "permission", "keys", "kty",
  "kid", "alg", "n", "e", "x", "y", "crv", "k", "d", "use", "RS256", "ES256", "EdDSA", "HS256", "none", "oct",
  "RSA", "EC", "OKP", "P-256", "P-384", "Ed25519", "read_device", "!admin", "admin_own", "user", "admin", "device",
  "state", "active", "hash", "createdAt", "lifespanSeconds", "epoch", "sessions", "subjects", "apiTokens",
];

function randomString(r) {
  const n = Math.floor(r() * 24);
  let s = "";
  for (let i = 0; i < n; i++) {
    const c = r();
    s += c < 0.6 ? String.fromCharCode(97 + Math.floor(r() * 26)) : c < 0.8 ? "_!:.-{}/ "[Math.floor(r() * 10)] ?? "_" : String.fromCharCode(Math.floor(r() * 0x3000));
  }
  return s;
}

function randomToken(r) {
  const parts = goodJwt.split(".");
  const which = Math.floor(r() * 4);
  if (which === 0) return parts.map((p) => (r() < 0.5 ? p : Buffer.from(JSON.stringify(randomValue(r))).toString("base64url"))).join(".");
  if (which === 1) {
    const i = Math.floor(r() * goodJwt.length);
    return goodJwt.slice(0, i) + randomString(r).slice(0, 2) + goodJwt.slice(i + 1);
  }
  if (which === 2) return [0, 1, 2].map(() => Buffer.from(randomString(r)).toString("base64url")).join(".");
  return randomString(r);
}

test("seeded random garbage never escapes as anything but TesseraError", () => {
  const r = rng(20240601);
  for (let i = 0; i < 3000; i++) {
    const [name, f, good] = CALLS[i % CALLS.length];
    const args = good.slice();
    const pos = Math.floor(r() * good.length);
    args[pos] = r() < 0.2 && typeof good[pos] === "string" && good[pos].includes(".") ? randomToken(r) : randomValue(r);
    expectTessera(`#${i} ${name} arg ${pos}`, () => f(...args));
  }
  sane();
});

test("random labels parse or fail with a label error and an offset", () => {
  const r = rng(7);
  for (let i = 0; i < 3000; i++) {
    const text = r() < 0.5 ? randomString(r) : WORDS[Math.floor(r() * WORDS.length)] + randomString(r).slice(0, 4);
    const e = expectTessera(`parseLabel(${JSON.stringify(text)})`, () => api.parseLabel(text));
    if (e && e.kind === "label") assert.equal(typeof e.offset, "number", text);
  }
});

test("random policies load or fail with a policy error listing problems", () => {
  const r = rng(99);
  for (let i = 0; i < 800; i++) {
    const doc = { version: 1 };
    for (const k of ["roles", "groups", "grants", "operations", "tokens", "actions", "subjects"]) {
      if (r() < 0.4) doc[k] = randomValue(r, 1);
    }
    const e = expectTessera(`policy ${i}`, () => new Engine(doc).free());
    if (e) assert.ok(["policy", "argument"].includes(e.kind), `${e.kind}: ${e.message}`);
  }
  sane();
});

test("random tokens are refused with token errors", () => {
  const r = rng(1234);
  for (let i = 0; i < 1500; i++) {
    const t = randomToken(r);
    const e = expectTessera(`verifyJwt(${JSON.stringify(t).slice(0, 60)})`, () => engine.verifyJwtSync(t, jwks, NOW));
    if (t !== goodJwt) assert.ok(e, `accepted a mangled token: ${t}`);
    expectTessera("verifySession", () => engine.verifySession(t, SESSION_KEY, NOW));
    expectTessera("verifyApiToken", () => engine.verifyApiToken(t, [made.record], NOW));
  }
  sane();
});

function describe(v) {
  try {
    if (v === hostileProxy || v === revoked) return "a hostile proxy";
    if (typeof v === "symbol" || typeof v === "function" || typeof v === "bigint") return String(v);
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 60) + "…" : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

test("a batch whose requests change as they are read is decided on what was checked", () => {
  let reads = 0;
  const shifty = ["read", "device"];
  Object.defineProperty(shifty, 2, {
    enumerable: true,
    get() {
      reads++;
      return reads > 1 ? "x".repeat(100_000) : "d1";
    },
  });
  const p = engine.prepare(alice);
  expectTessera("shifty batch", () => engine.authorizeBatch(p, [shifty]));
  assert.equal(reads, 1, "each request is read once");
  sane();
});
