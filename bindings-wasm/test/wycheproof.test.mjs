// Every Wycheproof JWS/JWK/ECDSA/EdDSA/RSA/HMAC vector in ../shared/wycheproof
// through the package (testkit/wycheproof.mjs): node:crypto in Node, both the
// synchronous and the promise forms; WebCrypto in headless Chromium, through
// the browser module. Every invalid vector must be rejected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as server from "../pkg/dist/node.mjs";
import { runWycheproof, WYCHEPROOF_FILES } from "../testkit/wycheproof.mjs";
import { serve } from "../testkit/serve.mjs";
import { launch, open } from "../testkit/chromium.mjs";

const dir = fileURLToPath(new URL("../../../shared/wycheproof/", import.meta.url));
const docs = Object.fromEntries(WYCHEPROOF_FILES.map((f) => [f, JSON.parse(readFileSync(dir + f, "utf8"))]));

function check(runtime, tallies) {
  assert.equal(tallies.length, WYCHEPROOF_FILES.length);
  for (const t of tallies) {
    console.log(`${runtime} ${t.file}: ${t.validAccepted} valid accepted, ${t.invalidRejected} invalid rejected, ${t.acceptable} acceptable, ${t.excepted} documented exceptions`);
    assert.deepEqual(t.failures, [], `${runtime} ${t.file}`);
    assert.ok(t.validAccepted + t.invalidRejected > 0, `${runtime} ${t.file}: no vector ran`);
  }
}

test("Wycheproof through node:crypto (verifyJwsSync, verifySignatureSync)", async () => {
  check("node:crypto sync", await runWycheproof(server, docs, { sync: true }));
});

test("Wycheproof through node:crypto (verifyJws, verifySignature: promises)", async () => {
  check("node:crypto async", await runWycheproof(server, docs, { sync: false }));
});

test("Wycheproof through WebCrypto in headless Chromium (the browser module)", { timeout: 300_000 }, async () => {
  assert.ok(existsSync(dir), dir);
  const http = await serve({
    "/": fileURLToPath(new URL("../../conformance/browser/", import.meta.url)),
    "/pkg/": fileURLToPath(new URL("../pkg/", import.meta.url)),
    "/testkit/": fileURLToPath(new URL("../testkit/", import.meta.url)),
    "/wycheproof/": dir,
  });
  const browser = await launch();
  try {
    const { page, errors } = await open(browser, `${http.url}/`);
    const tallies = await page.evaluate(async (files) => {
      const t = await import("/pkg/dist/browser/browser.mjs");
      const { runWycheproof } = await import("/testkit/wycheproof.mjs");
      const docs = {};
      for (const f of files) docs[f] = await (await fetch(`/wycheproof/${f}`)).json();
      return runWycheproof(t, docs, { sync: false });
    }, WYCHEPROOF_FILES);
    check("WebCrypto (Chromium)", tallies);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await http.close();
  }
});
