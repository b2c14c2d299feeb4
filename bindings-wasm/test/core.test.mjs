// The decisions-only entry `tessera-policy/core` (tessera_core.wasm): the
// same decision API as the full package, no tokens and no Realm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as core from "../pkg/dist/core/node.mjs";
import * as full from "../pkg/dist/node.mjs";
import { POLICY } from "./support.mjs";

const require = createRequire(import.meta.url);
const alice = { id: "alice", roles: ["user"] };
const mine = { type: "device", id: "d1", owner: "alice" };

test("core: exports the decision API and nothing of tokens or the Realm", () => {
  assert.deepEqual(Object.keys(core).sort(), [
    "ArgumentError",
    "Engine",
    "InternalError",
    "LabelError",
    "PolicyError",
    "PreparedPrincipal",
    "RealmError",
    "TesseraError",
    "TokenError",
    "definePolicy",
    "formatLabel",
    "parseLabel",
    "ready",
    "reasons",
  ]);
  assert.deepEqual([...core.reasons()], [...full.reasons()]);
  for (const m of ["verifyJwt", "issueSession", "renewSession", "verifySession", "createApiToken", "verifyApiToken", "replaceApiToken"]) {
    assert.equal(core.Engine.prototype[m], undefined, m);
  }
  assert.equal(typeof full.Engine.prototype.verifyJwt, "function");
  assert.equal(typeof full.Realm, "function");
});

test("core: decides exactly as the full module", () => {
  const c = new core.Engine(POLICY);
  const f = new full.Engine(POLICY);
  for (const [p, a, r] of [
    [alice, "read", mine],
    [alice, "delete", mine],
    [{ id: "x", roles: ["admin"] }, "delete", { type: "token", id: "t" }],
    [{ id: "u-7" }, "update", { type: "device", id: "dev-42" }],
    [alice, "fly", mine],
  ]) {
    assert.deepEqual(c.authorize(p, a, r), f.authorize(p, a, r));
    assert.deepEqual(c.explain(p, a, r), f.explain(p, a, r));
  }
  assert.deepEqual(c.capabilities(alice, mine), f.capabilities(alice, mine));
  assert.deepEqual(c.authorizeOperation(null, "Auth.InitiateAuth"), f.authorizeOperation(null, "Auth.InitiateAuth"));
  const me = c.prepare(alice);
  assert.equal(me.isAllowed("read", "device", "d1", "alice"), true);
  assert.equal(me.isAllowed("read", "device", "d2", "bob"), false);
  assert.deepEqual(c.authorizeBatch(me, [["read", "device", "d1", "alice"], ["update", "device", "d2", "bob"]]), [true, false]);
  assert.deepEqual(core.parseLabel("read_own_device"), full.parseLabel("read_own_device"));
});

test("core: errors are typed; a policy's tokens section is accepted", () => {
  assert.throws(() => new core.Engine({ version: 1, roles: 5 }), (e) => e instanceof core.PolicyError && e.code === "invalid_policy");
  assert.throws(() => core.parseLabel("read_"), (e) => e instanceof core.LabelError && e.code === "syntax");
  assert.throws(() => new core.Engine(POLICY).authorize(alice, 5, mine), (e) => e instanceof core.ArgumentError);
  // classes are the core module's own (one instance per module)
  assert.notEqual(core.TesseraError, full.TesseraError);
  new core.Engine({ version: 1, roles: {}, tokens: POLICY.tokens });
});

test("core: CommonJS require gives the same instance as import", () => {
  const cjs = require("../pkg/dist/core/node.cjs");
  assert.equal(cjs.Engine, core.Engine);
  assert.equal(cjs.TesseraError, core.TesseraError);
});
