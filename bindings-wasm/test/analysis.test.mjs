// Analysis (SPEC §9) through the npm package: the same calls as Rust and
// Python, camelCase keys. In the full module only: the decisions-only one
// (`tessera-policy/core`) leaves it out to keep its size.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as full from "../pkg/dist/node.mjs";
import { POLICY } from "./support.mjs";

test("the decisions-only module has no analysis", async () => {
  const core = await import("../pkg/dist/core/node.mjs");
  assert.equal(core.diff, undefined);
  assert.equal(new core.Engine({ version: 1 }).whoCan, undefined);
});

for (const [name, t] of [["full", full]]) {
  test(`${name}: whoCan lists holders, conditions, paths and overriding denies`, () => {
    const engine = new t.Engine(POLICY);
    const w = engine.whoCan("delete", { type: "token", id: "t1" });
    const owner = w.allowedBy.find((a) => a.name === "owner" && a.rule === "admin");
    assert.deepEqual(owner.via, ["owner"]);
    assert.deepEqual(owner.overriddenBy.map((d) => d.rule), ["!delete_token"]);
    assert.deepEqual(w.holders, [{ kind: "role", name: "owner", whenOwner: false, otherwise: false }]);
    const grant = engine.whoCan("update", { type: "device", id: "dev-42" }).allowedBy[0];
    assert.deepEqual([grant.kind, grant.name, grant.condition], ["grant", "u-7", "instance"]);
    assert.throws(() => engine.whoCan("fly", { type: "device" }), (e) => e instanceof t.ArgumentError && e.code === "invalid_request");
  });

  test(`${name}: whoCan agrees with authorize for each holder alone`, () => {
    const engine = new t.Engine(POLICY);
    const device = { type: "device", id: "d1", owner: "u-2" };
    for (const h of engine.whoCan("read", device).holders) {
      const p = h.kind === "role" ? { id: "u-9", roles: [h.name] } : h.kind === "group" ? { id: "u-9", groups: [h.name] } : { id: h.name };
      assert.equal(engine.authorize(p, "read", device).allowed, h.otherwise, JSON.stringify(h));
      assert.equal(engine.authorize(p, "read", { ...device, owner: p.id }).allowed, h.whenOwner, JSON.stringify(h));
    }
  });

  test(`${name}: permissions of a role and of a principal`, () => {
    const engine = new t.Engine(POLICY);
    const table = engine.permissions("admin");
    assert.deepEqual(table.effectiveRoles, ["admin", "user"]);
    const cell = (tb, action, subject, scope) => tb.cells.find((c) => c.action === action && c.subject === subject && c.scope === scope);
    assert.equal(cell(table, "delete", "token", "all").reason, "denied");
    assert.equal(cell(table, "read", "device", "all").rule, "admin_device");
    const limited = engine.permissions({ id: "u-1", roles: ["manager"], limits: ["read_own_device"] });
    assert.equal(cell(limited, "read", "device", "all").reason, "limited");
    assert.deepEqual(engine.permissions("ghost").unknownRoles, ["ghost"]);
  });

  test(`${name}: diff, the engine's and the free one, with load errors on either side`, () => {
    const b = structuredClone(POLICY);
    b.roles.user.permissions.push("read_device");
    const d = t.diff(POLICY, b);
    assert.equal(d.empty, false);
    assert.deepEqual(d.vocabulary, { actionsAdded: [], actionsRemoved: [], subjectsAdded: [], subjectsRemoved: [] });
    const first = d.changes[0];
    assert.deepEqual([first.kind, first.name, first.action, first.subject, first.scope], ["role", "user", "read", "device", "all"]);
    assert.deepEqual([first.a.reason, first.b.allowed], ["no_match", true]);
    assert.deepEqual(new t.Engine(POLICY).diff(JSON.stringify(b)), d);
    assert.equal(t.diff(POLICY, structuredClone(POLICY)).empty, true);
    const bad = { version: 1, roles: { a: { inherits: ["ghost"] } } };
    for (const [x, y, side] of [[bad, POLICY, "policy_a"], [POLICY, bad, "policy_b"], [POLICY, "{", "policy_b"]]) {
      assert.throws(() => t.diff(x, y), (e) => e instanceof t.PolicyError && e.path === side && e.problems.length > 0);
    }
  });

  test(`${name}: suggest, each suggestion verified here`, () => {
    const engine = new t.Engine(POLICY);
    const alice = { id: "alice", roles: ["user"] };
    const device = { type: "device", id: "d1", owner: "bob" };
    const s = engine.suggest(alice, "read", device);
    assert.equal(s.decision.allowed, false);
    assert.deepEqual(s.suggestions[0].edits, [{ change: "add_label", role: "user", label: "read_device:d1" }]);
    for (const { edits, decision } of s.suggestions) {
      const doc = structuredClone(POLICY);
      const who = structuredClone(alice);
      for (const e of edits) {
        if (e.change === "add_label") doc.roles[e.role].permissions.push(e.label);
        else if (e.change === "add_grant") doc.grants.push({ principal: e.principal, permissions: [e.label] });
        else if (e.change === "add_role") who.roles.push(e.role);
        else assert.fail(`unexpected edit ${JSON.stringify(e)}`);
      }
      assert.deepEqual(new t.Engine(doc).authorize(who, "read", device), decision);
      assert.equal(decision.allowed, true);
    }
    assert.deepEqual(engine.suggest({ roles: ["manager"] }, "read", device).suggestions, []);
  });

  test(`${name}: roleGraph`, () => {
    const g = new t.Engine(POLICY).roleGraph();
    assert.deepEqual(g.roles.find((r) => r.name === "admin"), {
      name: "admin", inherits: ["user"], allows: ["admin_device", "admin_user"], denies: ["!delete_token"],
    });
    assert.deepEqual(g.groups[0], { name: "administrators", roles: ["admin"] });
  });
}
