// Browser runner: every conformance/vectors/*.json case through the browser
// module of the npm package (bindings-wasm/pkg/dist/browser/browser.mjs:
// provider JWTs through verifyJwt and WebCrypto) inside headless
// Debian Chromium (playwright-core), with the same dispatcher as Node
// (conformance/js/dispatch.mjs). The page fetches the package and the vectors
// from a static server on 127.0.0.1, runs every case, and returns the results
// (plain JSON) to Node, which compares them with the vectors it read itself.
//
//   node --test conformance/browser/run.test.mjs   (make test-conformance-browser)
//
// Prints "browser: N passed, M failed" and how many server-only vectors
// (sessions, API tokens, Realm: SPEC §6.1.1) it skipped; fails if M > 0 or
// there are no vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { serve } from "../../bindings-wasm/testkit/serve.mjs";
import { launch, open } from "../../bindings-wasm/testkit/chromium.mjs";
import { judge } from "../js/dispatch.mjs";
import { loadVectors, report, VECTORS } from "../js/vectors.mjs";

const dir = (rel) => fileURLToPath(new URL(rel, import.meta.url));

test("every conformance vector, in headless Chromium", { timeout: 300_000 }, async () => {
  const files = loadVectors();
  assert.ok(files.length > 0, "no vector files in conformance/vectors");
  const server = await serve({
    "/": dir("./"),
    "/js/": dir("../js/"),
    "/vectors/": VECTORS,
    "/pkg/": dir("../../bindings-wasm/pkg/"),
  });
  const browser = await launch();
  try {
    const { page, errors } = await open(browser, `${server.url}/`);
    const results = await page.evaluate(async (names) => {
      const tessera = await import("/pkg/dist/browser/browser.mjs");
      const { runFiles } = await import("/js/dispatch.mjs");
      const fetched = await Promise.all(
        names.map(async (name) => {
          const res = await fetch(`/vectors/${name}`);
          if (!res.ok) throw new Error(`/vectors/${name}: HTTP ${res.status}`);
          return { name, doc: await res.json() };
        }),
      );
      return await runFiles(tessera, fetched);
    }, files.map((f) => f.name));
    const failed = report("browser", judge(files, results));
    assert.deepEqual(errors, [], "the page logged errors");
    assert.ok(results.length > 0, "no case ran in the page");
    assert.equal(failed, 0, `${failed} conformance vector(s) failed in the browser`);
  } finally {
    await browser.close();
    await server.close();
  }
});
