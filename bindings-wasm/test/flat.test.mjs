// The server module passes principals, resources and operation contexts of
// the common shape without JSON (npm/src/flat.mjs, src/flat.rs). That is a
// transport only: every answer (decision, or error code, message and path)
// must be the one the JSON path gives, which the decisions-only module
// (tessera-policy/core, no flat calls) always takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as server from "../pkg/dist/node.mjs";
import * as core from "../pkg/dist/core/node.mjs";

const POLICY = {
  version: 1,
  roles: {
    user: { permissions: ["read_own_device", "update_own_device"] },
    admin: { inherits: ["user"], permissions: ["admin_device", "!delete_token"] },
    "rôle-é": { permissions: ["read_device:dev-1"] },
  },
  groups: { staff: ["user"], administrators: ["admin"] },
  operations: {
    "GET /devices/{id}": { permission: "read_device" },
    "DELETE /devices/{id}": { permission: "delete_device" },
    "GET /admin": { access: { groups_all: ["administrators"] } },
    "GET /scoped": { access: { scopes_any: ["devices:read"] } },
    "GET /jwt-only": { credential: "jwt" },
    "GET /open": { access: "public" },
    "POST /rpc": { permission: "update_device" },
  },
};

const many = Array.from({ length: 200 }, (_, i) => `r${i}`);
const long = "x".repeat(1500);
const throwing = {
  id: "t",
  get roles() {
    throw new Error("no roles for you");
  },
};

const PRINCIPALS = [
  { id: "alice", roles: ["user"] },
  { id: "alice", roles: ["user"], groups: [], permissions: [], scopes: [] },
  { id: "carol", roles: ["admin"], groups: ["administrators"], scopes: ["devices:read"], credential: "jwt", expiresAt: 1_900_000_000 },
  { id: "dave", groups: ["staff"], credential: "session", sessionId: "s-1", apiTokenId: "t-1", expiresAt: 1 },
  { id: "erin", roles: ["user"], limits: ["read_device"] },
  { id: "erin", roles: ["user"], limits: [] },
  { id: "erin", roles: ["user"], limits: null },
  { id: null, roles: ["user"] },
  { roles: ["rôle-é"] },
  { id: "dév-ü", roles: ["rôle-é", "admin"] },
  { id: "mallory", permissions: ["admin_device"], credential: "api_token" },
  {},
  Object.assign(Object.create(null), { id: "np", roles: ["user"] }),
  // Not of the flat shape: the JSON path, the same answers.
  { id: "alice", roles: ["user"], claims: { sub: "alice", nested: [1, { x: null }] } },
  { id: "alice", roles: ["user"], unknownKey: 1 },
  { id: "alice", roles: "user" },
  { id: "alice", roles: null },
  { id: "alice", roles: ["user", 3] },
  { id: "alice", roles: ["user", undefined] },
  { id: "alice", roles: ["\ud800"] },
  { id: 7, roles: ["user"] },
  { id: "alice", credential: "password" },
  { id: "alice", credential: 1 },
  { id: "alice", expiresAt: 1.5 },
  { id: "alice", expiresAt: 2 ** 60 },
  { id: "alice", expires_at: 5 },
  { id: "alice", roles: many },
  { id: long, roles: ["user"] },
  { id: "alice", permissions: ["not a label"] },
  ["alice", ["admin"]],
  "alice",
  null,
  throwing,
];

const RESOURCES = [
  { type: "device" },
  { type: "device", id: "d1", owner: "alice" },
  { type: "device", id: "d2", owner: "bob" },
  { type: "device", id: "dev-1" },
  { type: "device", id: "dév-ü", owner: "dév-ü" },
  { type: "device", owners: ["alice", "bob"] },
  { type: "device", id: null, owner: null },
  { type: "token", id: "t1" },
  { type: "nothing" },
  { type: "device", owners: null },
  { type: "device", kind: "x" },
  { id: "d1" },
  { type: 3 },
  ["device"],
];

const CONTEXTS = [undefined, null, {}, { owner: "alice" }, { id: "d9", owner: "bob" }, { owners: ["alice"] }, { owner: 5 }, { extra: 1 }, "alice"];

function show(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function outcome(f) {
  try {
    return { ok: f() };
  } catch (e) {
    return { name: e?.name, code: e?.code, message: e?.message, path: e?.path };
  }
}

test("the server module has the flat calls, the decisions-only module not", async () => {
  // So the comparisons below compare two paths, not one path with itself.
  assert.equal(typeof (await import("../pkg/dist/tessera_wasm.js")).RawEngine.flat_words_ptr, "function");
  assert.equal(typeof (await import("../pkg/dist/core/tessera_core.js")).RawEngine.flat_words_ptr, "undefined");
});

test("authorize: the flat path and the JSON path answer alike", () => {
  const s = new server.Engine(POLICY);
  const c = new core.Engine(POLICY);
  let n = 0;
  for (const p of PRINCIPALS) {
    for (const r of RESOURCES) {
      for (const a of ["read", "update", "delete", "admin", "fly", "\ud800"]) {
        assert.deepEqual(outcome(() => s.authorize(p, a, r)), outcome(() => c.authorize(p, a, r)), `${show(p)} ${a} ${show(r)}`);
        n++;
      }
    }
  }
  assert.equal(n, PRINCIPALS.length * RESOURCES.length * 6);
});

test("authorizeOperation: the flat path and the JSON path answer alike", () => {
  const s = new server.Engine(POLICY);
  const c = new core.Engine(POLICY);
  const ops = ["GET /devices/d1", "GET /devices/dev-1", "GET /devices/d%C3%A9v", "DELETE /devices/d2", "GET /admin", "GET /scoped", "GET /jwt-only", "GET /open", "POST /rpc", "GET /nowhere", "GET /devices/a%2Fb", "GET /devices/%zz", 7];
  for (const p of [...PRINCIPALS, undefined]) {
    for (const op of ops) {
      for (const ctx of CONTEXTS) {
        assert.deepEqual(
          outcome(() => s.authorizeOperation(p, op, ctx)),
          outcome(() => c.authorizeOperation(p, op, ctx)),
          `${show(p)} ${op} ${show(ctx)}`,
        );
      }
    }
  }
});

test("the flat path after the module's memory grows", () => {
  const s = new server.Engine(POLICY);
  const before = s.authorize({ id: "alice", roles: ["user"] }, "read", { type: "device", owner: "alice" });
  const roles = {};
  for (let i = 0; i < 20_000; i++) roles[`role-${i}`] = { permissions: [`read_device:dev-${i}`] };
  new server.Engine({ version: 1, roles });
  assert.deepEqual(s.authorize({ id: "alice", roles: ["user"] }, "read", { type: "device", owner: "alice" }), before);
  assert.equal(before.allowed, true);
});

test("a decision too large for the buffers comes back as JSON, alike", () => {
  const s = new server.Engine(POLICY);
  const c = new core.Engine(POLICY);
  // The request fits the scratch buffer (SCRATCH_LEN in src/lib.rs, 1024
  // bytes: 1 + 1010 + 6 of them); its decision's message ("unknown action
  // `…`") does not, so the call answers JSON text.
  const SCRATCH_LEN = 1024;
  const action = "x".repeat(1010);
  const got = s.authorize({ id: "a" }, action, { type: "device" });
  assert.ok(1 + action.length + "device".length <= SCRATCH_LEN && got.message.length > SCRATCH_LEN);
  assert.deepEqual(got, c.authorize({ id: "a" }, action, { type: "device" }));
  assert.equal(got.reason, "invalid_request");
  // And the next call, in the buffers again, is unaffected.
  assert.deepEqual(s.authorize({ id: "alice", roles: ["user"] }, "read", { type: "device", owner: "alice" }), c.authorize({ id: "alice", roles: ["user"] }, "read", { type: "device", owner: "alice" }));
});

test("the guards' method for verified principals answers as the JSON path without their claims", () => {
  const s = new server.Engine(POLICY);
  const c = new core.Engine(POLICY);
  const verified = s[Symbol.for("tessera-policy.authorizeVerified")];
  assert.equal(typeof verified, "function");
  const ops = ["GET /devices/d1", "GET /admin", "GET /scoped", "GET /jwt-only", "GET /nowhere", "GET /devices/%zz"];
  let n = 0;
  for (const p of PRINCIPALS) {
    if (p === null || typeof p !== "object" || Array.isArray(p) || Object.getPrototypeOf(p) !== Object.prototype) continue;
    let plain;
    try {
      plain = { ...p };
    } catch {
      continue; // a getter that throws
    }
    // Raw claims the JSON path could not even convert: skipped, never read.
    const withClaims = { ...plain, claims: { sub: "x", nested: { bad: Number.NaN } } };
    for (const op of ops) {
      for (const ctx of CONTEXTS) {
        assert.deepEqual(outcome(() => verified.call(s, withClaims, op, ctx)), outcome(() => c.authorizeOperation(plain, op, ctx)), `${show(plain)} ${op} ${show(ctx)}`);
        n++;
      }
    }
  }
  assert.ok(n > 500, `${n} cases`);
});
