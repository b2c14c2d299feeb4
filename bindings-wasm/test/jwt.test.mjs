// Provider JWTs with the host's signature primitive (SPEC §6.1.1): verifyJwt
// (a promise everywhere) and verifyJwtSync (node:crypto) in the server
// module; the browser module in Node, where it verifies through WebCrypto and
// has no synchronous primitive; and the bad inputs of the host seam.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as server from "../pkg/dist/node.mjs";
import * as browser from "../pkg/dist/browser/node.mjs";
import { POLICY, NOW, rsaKeys, signJwt, accessClaims } from "./support.mjs";

const { privateKey, jwks } = rsaKeys();
const good = signJwt(privateKey, accessClaims());

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error && e.name === "TokenError", `expected a TokenError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  });
}

test("server module: verifyJwt is a promise with verifyJwtSync's answer", async () => {
  const engine = new server.Engine(POLICY);
  const p = engine.verifyJwt(good, jwks, NOW);
  assert.ok(p instanceof Promise);
  assert.deepEqual(await p, engine.verifyJwtSync(good, jwks, NOW));
  await rejectsCode(engine.verifyJwt(good, jwks, NOW + 3600), "expired");
  // A bad signature wins over failing claims (SPEC §6.1 order), both ways.
  const other = rsaKeys();
  const forged = signJwt(other.privateKey, accessClaims({ iss: "https://evil.example" }));
  await rejectsCode(engine.verifyJwt(forged, jwks, NOW), "bad_signature");
  assert.throws(() => engine.verifyJwtSync(forged, jwks, NOW), (e) => e.code === "bad_signature");
});

test("browser module (in Node): verifyJwt through WebCrypto, the same answers; verifyJwtSync is unsupported_runtime", async () => {
  const s = new server.Engine(POLICY);
  const b = new browser.Engine(POLICY);
  assert.equal(typeof browser.Realm, "undefined");
  assert.equal(b.issueSession, undefined);
  assert.deepEqual(await b.verifyJwt(good, jwks, NOW), s.verifyJwtSync(good, jwks, NOW));
  // Seen before: answered from the core's cache of verified signatures, claims and time checked again.
  assert.deepEqual(await b.verifyJwt(good, jwks, NOW), s.verifyJwtSync(good, jwks, NOW));
  await rejectsCode(b.verifyJwt(good, jwks, NOW + 3600), "expired");
  const tampered = good.slice(0, -3) + (good.at(-3) === "A" ? "B" : "A") + good.slice(-2);
  await rejectsCode(b.verifyJwt(tampered, jwks, NOW), "bad_signature");
  assert.throws(() => b.verifyJwtSync(good, jwks, NOW), (e) => e instanceof browser.TokenError && e.code === "unsupported_runtime");
});

test("a key the host cannot import is a typed token error, never the host's exception", async () => {
  // A P-256 point that is not on the curve passes the core's shape checks (32-byte
  // coordinates); node:crypto and WebCrypto refuse to import it.
  const key = { kty: "EC", crv: "P-256", x: "A".repeat(43), y: "A".repeat(43), kid: "k1", alg: "ES256" };
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const token = `${b64({ alg: "ES256", kid: "k1" })}.${b64(accessClaims())}.${Buffer.alloc(64, 1).toString("base64url")}`;
  const policy = { ...POLICY, tokens: { jwt: { ...POLICY.tokens.jwt, algorithms: ["ES256"] } } };
  const set = { keys: [key] };
  assert.throws(() => new server.Engine(policy).verifyJwtSync(token, set, NOW), (e) => e instanceof server.TokenError && e.code === "bad_signature");
  await rejectsCode(new server.Engine(policy).verifyJwt(token, set, NOW), "bad_signature");
  await rejectsCode(new browser.Engine(policy).verifyJwt(token, set, NOW), "bad_signature");
  await rejectsCode(browser.verifySignature("ES256", key, new Uint8Array(3), new Uint8Array(64)), "bad_signature");
});

test("a token of 16 KiB + 1 byte is refused before any crypto (too_large)", async () => {
  const big = "a".repeat(16 * 1024 + 1);
  assert.throws(() => new server.Engine(POLICY).verifyJwtSync(big, jwks, NOW), (e) => e.code === "too_large");
  await rejectsCode(new browser.Engine(POLICY).verifyJwt(big, jwks, NOW), "too_large");
});

test("no WebCrypto at all: verifyJwt rejects with unsupported_runtime", () => {
  const entry = fileURLToPath(new URL("../pkg/dist/browser/node.cjs", import.meta.url));
  const support = fileURLToPath(new URL("./support.mjs", import.meta.url));
  const script = `
    const { POLICY, NOW, rsaKeys, signJwt, accessClaims } = await import(${JSON.stringify(support)});
    const { privateKey, jwks } = rsaKeys();
    const token = signJwt(privateKey, accessClaims());
    const t = (await import("node:module")).createRequire(import.meta.url)(${JSON.stringify(entry)});
    Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true });
    let out;
    try { await new t.Engine(POLICY).verifyJwt(token, jwks, NOW); out = "accepted"; }
    catch (e) { out = [e.name, e.code]; }
    console.log(JSON.stringify(out));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
  assert.deepEqual(out, ["TokenError", "unsupported_runtime"]);
});

test("the verified-token cache: answers while the core's answer holds, never past it", async () => {
  for (const [name, t] of [["server", server], ["browser", browser]]) {
    const engine = new t.Engine(POLICY);
    const verify = (token, keys, now) => (name === "server" ? engine.verifyJwtSync(token, keys, now) : engine.verifyJwt(token, keys, now));
    const first = await verify(good, jwks, NOW);
    const again = await verify(good, jwks, NOW);
    assert.deepEqual(again, first, name);
    assert.notEqual(again, first, `${name}: a fresh object each time`);
    again.roles.push("mutated");
    assert.deepEqual(await verify(good, jwks, NOW), first, `${name}: what the caller did to an answer does not stick`);
    // Time is checked on every call: past `exp` the cached principal is not given.
    await assert.rejects(async () => verify(good, jwks, NOW + 3600), (e) => e.code === "expired", name);
    // Another key set (the key rotated out): asked again.
    await assert.rejects(async () => verify(good, { keys: [] }, NOW), (e) => e.code === "unknown_key", name);
    // A policy that no longer trusts the issuer: asked again.
    engine.load({ ...POLICY, tokens: { jwt: { ...POLICY.tokens.jwt, issuers: ["https://other.example"] } } });
    await assert.rejects(async () => verify(good, jwks, NOW), (e) => e.code === "wrong_issuer", name);
  }
});
