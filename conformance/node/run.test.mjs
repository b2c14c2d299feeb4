// Node runner: every conformance/vectors/*.json case through the built npm
// package (bindings-wasm/pkg, Node ESM entry), with the shared dispatcher.
//
//   node --test conformance/node/run.test.mjs      (make test-conformance-node)
//
// Prints "node: N passed, M failed"; fails if M > 0 or there are no vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tessera from "../../bindings-wasm/pkg/dist/node.mjs";
import { judge, runFiles } from "../js/dispatch.mjs";
import { loadVectors, report } from "../js/vectors.mjs";

test("every conformance vector, in Node", async () => {
  const files = loadVectors();
  assert.ok(files.length > 0, "no vector files in conformance/vectors");
  // Token vectors run through verifyJwtSync and verifyJwt (node:crypto), which must agree.
  const verdict = judge(files, await runFiles(tessera, files, { sync: true }));
  const failed = report("node", verdict);
  assert.equal(verdict.skipped.size, 0, "nothing is skipped in Node");
  assert.ok(verdict.passed > 0, "no case ran");
  assert.equal(failed, 0, `${failed} conformance vector(s) failed in Node`);
});
