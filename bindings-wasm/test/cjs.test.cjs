// CommonJS: require() gives the same API, synchronously ready, and the very
// same classes as the ESM entry (one module instance in Node).
const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const pkg = path.join(__dirname, "..", "pkg", "dist");

test("require() works and is ready at once", () => {
  const { Engine, TesseraError, LabelError, parseLabel } = require(path.join(pkg, "node.cjs"));
  const engine = new Engine({ version: 1, roles: { user: { permissions: ["read_own_device"] } } });
  const p = engine.prepare({ id: "alice", roles: ["user"] });
  assert.equal(p.isAllowed("read", "device", "d1", "alice"), true);
  assert.equal(engine.authorize({ id: "alice", roles: ["user"] }, "read", { type: "device", owner: "bob", id: "x" }).reason, "no_match");
  assert.throws(() => parseLabel("read_"), (e) => e instanceof LabelError && e instanceof TesseraError && e.offset === 5);
});

test("ESM import and require share one instance", async () => {
  const esm = await import(path.join(pkg, "node.mjs"));
  const cjs = require(path.join(pkg, "node.cjs"));
  assert.equal(esm.Engine, cjs.Engine);
  assert.equal(esm.TesseraError, cjs.TesseraError);
  try {
    cjs.parseLabel("!");
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof esm.TesseraError);
  }
  assert.deepEqual(Object.keys(esm).sort(), Object.keys(cjs).sort());
});
