// Reads every conformance/vectors/*.json in Node, sorted by name: [{name, doc}].
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// CONFORMANCE_VECTORS=dir runs another directory of vector files (e.g. a copy
// with one expectation corrupted, to see the runner fail).
export const VECTORS = process.env.CONFORMANCE_VECTORS || fileURLToPath(new URL("../vectors/", import.meta.url));

export function vectorNames(dir = VECTORS) {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort();
}

export function loadVectors(dir = VECTORS) {
  return vectorNames(dir).map((name) => ({ name, doc: JSON.parse(readFileSync(join(dir, name), "utf8")) }));
}

/** Prints the failures, the summary line and what was skipped and why; returns the number of failures. */
export function report(runtime, { passed, failures, skipped = new Map() }) {
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(`${runtime}: ${passed} passed, ${failures.length} failed`);
  for (const [why, n] of skipped) console.log(`${runtime}: ${n} skipped: ${why}`);
  return failures.length;
}
