// The fast path answers most checks from a per-principal cache of the core's
// answers (`Engine::answers`). These tests hold it to the uncached decision
// (`engine.authorize`, objects in, the core decides every time) over a seeded
// random stream of checks, policy replacements, instance grants, limits and
// principals with and without an id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../pkg/dist/node.mjs";

const POLICIES = [
  {
    version: 1,
    roles: {
      user: { permissions: ["read_own_device", "update_own_device", "admin_own_stream"] },
      manager: { inherits: ["user"], permissions: ["read_device", "!delete_own_device"] },
      admin: { inherits: ["user"], permissions: ["admin_device", "admin_token", "!delete_token"] },
      pinned: { permissions: ["update_device:d1", "!read_stream:s1"] },
    },
    grants: [{ principal: "gus", permissions: ["delete_device:d2", "read_token"] }],
  },
  {
    version: 1,
    roles: {
      user: { permissions: ["read_device"] },
      manager: { permissions: ["admin_own_device", "read_stream:s1"] },
      admin: { permissions: ["admin"] },
      pinned: { permissions: ["read_own_token"] },
    },
  },
];

const PRINCIPALS = [
  { id: "alice", roles: ["user"] },
  { roles: ["user"] },
  { id: "dave", roles: ["manager"] },
  { id: "carol", roles: ["admin"] },
  { id: "pat", roles: ["pinned", "user"] },
  { id: "gus", roles: ["user"] },
  { id: "ivy", permissions: ["read_own_stream", "execute_device"] },
  { id: "tok", roles: ["admin"], limits: ["read_device", "update_own_device"] },
  { id: "lim", roles: ["admin"], limits: ["admin_device:d2"] },
  { id: "", roles: ["user"] },
];
const ACTIONS = ["read", "update", "delete", "execute", "fly"];
const TYPES = ["device", "stream", "token", "planet"];
const IDS = [undefined, "d1", "d2", "s1"];

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("isAllowed and authorizeBatch agree with authorize across policy replacements", () => {
  const rnd = random(20261122);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const engine = new Engine(POLICIES[0]);
  const other = new Engine(POLICIES[1]);
  const prepared = PRINCIPALS.map((p) => engine.prepare(p));
  let checks = 0;
  let allowed = 0;
  for (let round = 0; round < 40; round++) {
    // Replace the policy now and then, and sometimes fail to (nothing changes).
    if (round % 7 === 6) engine.load(pick(POLICIES));
    if (round % 11 === 10) assert.throws(() => engine.load({ version: 1, roles: { x: { inherits: ["y"] } } }));
    const batch = [];
    const who = Math.floor(rnd() * PRINCIPALS.length);
    for (let k = 0; k < 60; k++) {
      const principal = PRINCIPALS[who];
      const action = pick(ACTIONS);
      const type = pick(TYPES);
      const id = pick(IDS);
      const owner = pick([undefined, "mallory", principal.id, ""]);
      const resource = { type, ...(id === undefined ? {} : { id }), ...(owner === undefined ? {} : { owner }) };
      const expected = engine.authorize(principal, action, resource).allowed;
      const got = prepared[who].isAllowed(action, type, id, owner);
      assert.equal(got, expected, `${JSON.stringify(principal)} ${action} ${JSON.stringify(resource)}`);
      batch.push([[action, type, id, owner], expected]);
      checks++;
      if (expected) allowed++;
    }
    const answers = engine.authorizeBatch(prepared[who], batch.map(([r]) => r));
    assert.deepEqual(answers, batch.map(([, e]) => e));
    // A principal prepared by this engine, checked by another: the other
    // engine's policy decides, not this principal's cache.
    const elsewhere = other.authorizeBatch(prepared[who], batch.map(([r]) => r));
    const principal = PRINCIPALS[who];
    const expectedElsewhere = batch.map(([[a, t, id, o]]) => {
      const resource = { type: t, ...(id === undefined ? {} : { id }), ...(o === undefined ? {} : { owner: o }) };
      return other.authorize(principal, a, resource).allowed;
    });
    assert.deepEqual(elsewhere, expectedElsewhere);
  }
  // Neither answer dominates, so the comparison can fail either way.
  assert.ok(allowed > checks / 10 && allowed < (checks * 9) / 10, `${allowed} of ${checks} allowed`);
});

test("a cached answer does not outlive the policy it came from", () => {
  const engine = new Engine({ version: 1, roles: { user: { permissions: ["update_own_device"] } } });
  const alice = engine.prepare({ id: "alice", roles: ["user"] });
  assert.equal(alice.isAllowed("update", "device", "d1", "alice"), true);
  assert.equal(alice.isAllowed("update", "device", "d1", "bob"), false);
  engine.load({ version: 1, roles: { user: { permissions: ["update_device"] } } });
  assert.equal(alice.isAllowed("update", "device", "d1", "bob"), true);
  // Another engine's replacement moves the shared counter too; answers stay right.
  new Engine({ version: 1, roles: {} }).load({ version: 1, roles: {} });
  assert.equal(alice.isAllowed("update", "device", "d1", "bob"), true);
  engine.load({ version: 1, roles: { user: { permissions: ["update_device:d7"] } } });
  assert.equal(alice.isAllowed("update", "device", "d1", "bob"), false);
  assert.equal(alice.isAllowed("update", "device", "d7", "bob"), true);
});

test("many distinct actions and types keep answering correctly past the cache's size", () => {
  const engine = new Engine({ version: 1, roles: { user: { permissions: ["read_device"] } } });
  const p = engine.prepare({ id: "u", roles: ["user"] });
  for (let i = 0; i < 5000; i++) assert.equal(p.isAllowed(`a${i}`, "device"), false);
  assert.equal(p.isAllowed("read", "device", "d1"), true);
  assert.equal(p.isAllowed("read", "stream", "d1"), false);
});
