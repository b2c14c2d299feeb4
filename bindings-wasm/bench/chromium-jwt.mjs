// Chromium provider-JWT verification: tessera-policy's browser module
// (`verifyJwt`: every check in the core, the signature by WebCrypto) vs jose
// `jwtVerify` with `createLocalJWKSet` (WebCrypto too), RS256 and ES256, every
// token new, in the same headless Chromium page (Debian's, via playwright-core).
//
//   node bench/chromium-jwt.mjs                 print the figures
//   node bench/chromium-jwt.mjs --write FILE    also rewrite the section
//                                               "## Chromium JWT verification vs jose" of FILE
//
// The page mints its own tokens with WebCrypto (a fresh key per algorithm).
// Every round verifies POOL distinct tokens one after the other (awaiting
// each: the latency a request handler sees) with a fresh tessera Engine, so
// neither its verified-token cache nor the core's signature cache answers.
// Both verifiers must accept every token and refuse a forged one first.
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { serve } from "../testkit/serve.mjs";
import { launch, open } from "../testkit/chromium.mjs";
import { writeSection } from "./report.mjs";

const write = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : null;
const load = loadavg()[0].toFixed(1);
const POOL = 1000;
const ROUNDS = 7;
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const server = await serve({
  "/": here("../../conformance/browser/"),
  "/pkg/": here("../pkg/"),
  "/jose/": here("../node_modules/jose/dist/webapi/"),
});
const browser = await launch();
let results;
let version;
try {
  const { page, errors } = await open(browser, server.url + "/");
  version = browser.browser()?.version() ?? "";
  results = await page.evaluate(
    async ({ POOL, ROUNDS }) => {
      const { Engine } = await import("/pkg/dist/browser/browser.mjs");
      const { createLocalJWKSet, jwtVerify } = await import("/jose/index.js");
      const ISS = "https://issuer.example";
      const AUD = "client-1";
      const NOW = Math.floor(Date.now() / 1000);
      const enc = new TextEncoder();
      const b64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      const b64json = (v) => b64(enc.encode(JSON.stringify(v)));
      const out = [];
      for (const alg of ["RS256", "ES256"]) {
        const params =
          alg === "RS256"
            ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
            : { name: "ECDSA", namedCurve: "P-256" };
        const signParams = alg === "RS256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
        const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
        const { kty, n, e, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
        const jwk = alg === "RS256" ? { kty, n, e, kid: "k1", alg, use: "sig" } : { kty, crv, x, y, kid: "k1", alg, use: "sig" };
        const jwksText = JSON.stringify({ keys: [jwk] });
        const header = b64json({ alg, kid: "k1", typ: "JWT" });
        const tokens = [];
        for (let i = 0; i < POOL; i++) {
          const claims = { sub: `user-${i}`, iss: ISS, aud: AUD, iat: NOW - 10, exp: NOW + 3600, jti: `t${i}`, scope: "read write" };
          const input = `${header}.${b64json(claims)}`;
          const sig = new Uint8Array(await crypto.subtle.sign(signParams, pair.privateKey, enc.encode(input)));
          tokens.push(`${input}.${b64(sig)}`);
        }
        const policy = {
          version: 1,
          roles: {},
          tokens: { jwt: { issuers: [ISS], audiences: [AUD], client_ids: null, token_use: null, algorithms: [alg] } },
        };
        const joseKeys = createLocalJWKSet(JSON.parse(jwksText));
        // They must agree before anything is timed, and both refuse a forgery.
        const check = new Engine(policy);
        for (const t of tokens.slice(0, 16)) {
          const p = await check.verifyJwt(t, jwksText);
          const { payload } = await jwtVerify(t, joseKeys, { issuer: ISS, audience: AUD });
          if (p.id !== payload.sub) throw new Error(`${alg}: the verifiers disagree`);
        }
        const t0 = tokens[0];
        const forged = t0.slice(0, -4) + (t0.at(-4) === "A" ? "B" : "A") + t0.slice(-3);
        let refused = 0;
        await new Engine(policy).verifyJwt(forged, jwksText).catch((e) => e.code === "bad_signature" && refused++);
        await jwtVerify(forged, joseKeys, { issuer: ISS, audience: AUD }).catch(() => refused++);
        if (refused !== 2) throw new Error(`${alg}: a forged token was accepted`);

        const runs = { tessera: [], jose: [] };
        for (let r = 0; r < ROUNDS; r++) {
          // Alternate who goes first, so neither always runs on a warmer page.
          const order = r % 2 ? ["jose", "tessera"] : ["tessera", "jose"];
          for (const who of order) {
            const engine = new Engine(policy);
            const start = performance.now();
            if (who === "tessera") for (const t of tokens) await engine.verifyJwt(t, jwksText);
            else for (const t of tokens) await jwtVerify(t, joseKeys, { issuer: ISS, audience: AUD });
            runs[who].push(((performance.now() - start) * 1000) / POOL);
          }
        }
        out.push({ alg, runs });
      }
      return out;
    },
    { POOL, ROUNDS },
  );
  if (errors.length) throw new Error(errors.join("\n"));
} finally {
  await browser.close();
  await server.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lines = ["| algorithm | tessera `verifyJwt` µs/token (median of rounds) | jose `jwtVerify` µs/token | tessera ÷ jose |", "| --- | ---: | ---: | ---: |"];
for (const { alg, runs } of results) {
  const t = median(runs.tessera);
  const j = median(runs.jose);
  lines.push(`| ${alg} | ${t.toFixed(1)} | ${j.toFixed(1)} | ${(t / j).toFixed(2)} |`);
}
const table = lines.join("\n");
console.log(table);

if (write) {
  const jose = JSON.parse(readFileSync(here("../node_modules/jose/package.json"), "utf8")).version;
  const section = [
    "Command: `make bench-chromium-jwt` (`node bench/chromium-jwt.mjs --write BENCHMARKS.md` in",
    `\`bindings-wasm/\`), Debian Chromium ${version} (headless, playwright-core), jose ${jose},`,
    `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${load} at the start (shared cores: read the ratio).`,
    "In one page: tessera-policy's browser module (`dist/browser/browser.mjs`, every check in the",
    "core, the signature by WebCrypto through the held verdict of SPEC §6.1.1) against jose",
    "`jwtVerify` with `createLocalJWKSet`. The same access-token shape as the Node table, RSA-2048",
    `or P-256 keys made by WebCrypto in the page; every round verifies ${POOL} distinct tokens one`,
    `after the other (each awaited) with a fresh Engine, so no cache answers; ${ROUNDS} rounds, alternating`,
    "which verifier goes first. The JWKS is passed to tessera as JSON text.",
    "",
    table,
    "",
  ].join("\n");
  writeSection(write, "## Chromium JWT verification vs jose", section);
}
