// Node provider-JWT verification: tessera-policy (server module: the core's
// checks in WebAssembly, node:crypto's signature primitive) vs aws-jwt-verify
// verifySync vs jose jwtVerify vs bare node:crypto.verify, RS256 and ES256,
// every token new and a token seen before, in the same run (mitata).
//
//   node bench/jwt.mjs                 print the figures
//   node bench/jwt.mjs --write FILE    also rewrite the section
//                                      "## Node JWT verification vs aws-jwt-verify and jose" of FILE
//
// Every token is checked by all four before anything is timed. "Every token
// new" cycles through 8192 distinct tokens: more than the 4096 signatures the
// engine remembers (first in, first out), so none is answered from its cache.
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { createServer } from "node:http";
import { bench, group, run, do_not_optimize } from "mitata";
import { createLocalJWKSet, jwtVerify } from "jose";
import { JwtVerifier } from "aws-jwt-verify";
import { Engine, KeySet } from "../pkg/dist/node.mjs";
import { writeSection } from "./report.mjs";

const load = loadavg()[0].toFixed(1);
const write = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : null;
const ISS = "https://issuer.example";
const AUD = "client-1";
const NOW = Math.floor(Date.now() / 1000);
const POOL = 8192;
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");

function setup(alg) {
  const { privateKey, publicKey } =
    alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg, use: "sig" };
  const jwks = { keys: [jwk] };
  const header = b64({ alg, kid: "k1", typ: "JWT" });
  const tokens = [];
  for (let i = 0; i < POOL; i++) {
    const claims = { sub: `user-${i}`, iss: ISS, aud: AUD, iat: NOW - 10, exp: NOW + 3600, jti: `t${i}`, scope: "read write" };
    const input = `${header}.${b64(claims)}`;
    const sig = alg === "RS256" ? sign("sha256", Buffer.from(input), privateKey) : sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
    tokens.push(`${input}.${sig.toString("base64url")}`);
  }
  const engine = new Engine({
    version: 1,
    roles: {},
    tokens: { jwt: { issuers: [ISS], audiences: [AUD], client_ids: null, token_use: null, algorithms: [alg] } },
  });
  const aws = JwtVerifier.create({ issuer: ISS, audience: AUD, jwksUri: `${ISS}/.well-known/jwks.json` });
  aws.cacheJwks(jwks);
  const joseKeys = createLocalJWKSet(jwks);
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const bare = (t) => {
    const i = t.lastIndexOf(".");
    const s = Buffer.from(t.slice(i + 1), "base64url");
    return alg === "RS256" ? verify("sha256", Buffer.from(t.slice(0, i)), key, s) : verify("sha256", Buffer.from(t.slice(0, i)), { key, dsaEncoding: "ieee-p1363" }, s);
  };
  // The same JWKS as a KeySet (SPEC §6.1.2): parsed once.
  const keySet = new KeySet(jwks);
  return { alg, jwks, keySet, tokens, engine, aws, joseKeys, bare };
}

const suites = [setup("RS256"), setup("ES256")];

// A fetched set: each suite's JWKS served by a local node:http server, fetched
// by KeySet.fromUrl before timing; the requests are counted so the report can
// say how many fetches the timed runs caused.
const served = { requests: 0 };
const jwksServer = createServer((req, res) => {
  served.requests++;
  const s = suites.find((x) => req.url === `/${x.alg}/jwks.json`);
  res.writeHead(s ? 200 : 404, { "content-type": "application/json", "cache-control": "max-age=3600" });
  res.end(s ? JSON.stringify(s.jwks) : "{}");
});
await new Promise((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
for (const s of suites) {
  s.fetched = KeySet.fromUrl(`http://127.0.0.1:${jwksServer.address().port}/${s.alg}/jwks.json`);
  await s.fetched.refresh();
}
const fetchesBefore = served.requests;

// They must agree before anything is timed.
for (const s of suites) {
  for (const t of s.tokens.slice(0, 64)) {
    const p = s.engine.verifyJwtSync(t, s.jwks);
    const a = s.aws.verifySync(t);
    const { payload } = await jwtVerify(t, s.joseKeys, { issuer: ISS, audience: AUD });
    if (p.id !== a.sub || p.id !== payload.sub || !s.bare(t)) throw new Error(`${s.alg}: the verifiers disagree on ${t}`);
    if ((await s.engine.verifyJwt(t, s.jwks)).id !== p.id) throw new Error("verifyJwt disagrees with verifyJwtSync");
    if (s.engine.verifyJwtSync(t, s.keySet).id !== p.id || (await s.engine.verifyJwt(t, s.keySet)).id !== p.id) {
      throw new Error("a KeySet disagrees with its JWKS");
    }
    if ((await s.engine.verifyJwt(t, s.fetched)).id !== p.id) throw new Error("a fetched KeySet disagrees with its JWKS");
  }
  const forged = s.tokens[0].slice(0, -4) + (s.tokens[0].at(-4) === "A" ? "B" : "A") + s.tokens[0].slice(-3);
  let refused = 0;
  try { s.engine.verifyJwtSync(forged, s.jwks); } catch (e) { if (e.code === "bad_signature") refused++; }
  try { s.engine.verifyJwtSync(forged, s.keySet); } catch (e) { if (e.code === "bad_signature") refused++; }
  try { s.aws.verifySync(forged); } catch { refused++; }
  if (refused !== 3) throw new Error(`${s.alg}: a forged token was accepted`);
}

for (const s of suites) {
  let i = 0;
  const next = () => s.tokens[(i = (i + 1) % POOL)];
  const one = s.tokens[0];
  group(`${s.alg}: every token new`, () => {
    bench("tessera verifyJwtSync", () => do_not_optimize(s.engine.verifyJwtSync(next(), s.jwks)));
    bench("tessera verifyJwt (promise)", async () => do_not_optimize(await s.engine.verifyJwt(next(), s.jwks)));
    bench("tessera verifyJwtSync (KeySet)", () => do_not_optimize(s.engine.verifyJwtSync(next(), s.keySet)));
    bench("tessera verifyJwt (KeySet, promise)", async () => do_not_optimize(await s.engine.verifyJwt(next(), s.keySet)));
    bench("tessera verifyJwt (KeySet.fromUrl, fetched)", async () => do_not_optimize(await s.engine.verifyJwt(next(), s.fetched)));
    bench("aws-jwt-verify verifySync", () => do_not_optimize(s.aws.verifySync(next())));
    bench("jose jwtVerify", async () => do_not_optimize(await jwtVerify(next(), s.joseKeys, { issuer: ISS, audience: AUD })));
    bench("node:crypto.verify alone (floor)", () => do_not_optimize(s.bare(next())));
  });
  group(`${s.alg}: a token seen before`, () => {
    bench("tessera verifyJwtSync", () => do_not_optimize(s.engine.verifyJwtSync(one, s.jwks)));
    bench("tessera verifyJwtSync (KeySet)", () => do_not_optimize(s.engine.verifyJwtSync(one, s.keySet)));
    bench("tessera verifyJwt (KeySet, promise)", async () => do_not_optimize(await s.engine.verifyJwt(one, s.keySet)));
    bench("tessera verifyJwt (KeySet.fromUrl, fetched)", async () => do_not_optimize(await s.engine.verifyJwt(one, s.fetched)));
    bench("aws-jwt-verify verifySync", () => do_not_optimize(s.aws.verifySync(one)));
    bench("jose jwtVerify", async () => do_not_optimize(await jwtVerify(one, s.joseKeys, { issuer: ISS, audience: AUD })));
  });
}

const result = await run({ format: "quiet" });
const timedFetches = served.requests - fetchesBefore;
jwksServer.close();
const rows = result.benchmarks.map((b) => ({
  group: result.layout[b.group]?.name ?? "",
  name: b.alias,
  us: b.runs[0].stats.avg / 1000,
  p50: b.runs[0].stats.p50 / 1000,
}));
const floorOf = (g) => rows.find((r) => r.group === g && r.name.startsWith("node:crypto"))?.us;
const lines = [];
let current = null;
for (const r of rows) {
  if (r.group !== current) {
    current = r.group;
    lines.push("", `**${r.group}**`, "", "| call | µs per token (mean) | µs (p50) | × node:crypto.verify |", "| --- | ---: | ---: | ---: |");
  }
  const floor = floorOf(r.group.replace("a token seen before", "every token new"));
  lines.push(`| ${r.name} | ${r.us.toFixed(1)} | ${r.p50.toFixed(1)} | ${floor ? (r.us / floor).toFixed(2) : "—"} |`);
}
const table = lines.join("\n");
console.log(table);

if (write) {
  const v = (p) => JSON.parse(readFileSync(new URL(`../node_modules/${p}/package.json`, import.meta.url))).version;
  const section = [
    "Command: `make bench-wasm` (`node bench/jwt.mjs --write BENCHMARKS.md` in `bindings-wasm/`,",
    `mitata ${v("mitata")}), ${process.version}, aws-jwt-verify ${v("aws-jwt-verify")}, jose ${v("jose")},`,
    `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${load} at the start (shared cores: read the ratios).`,
    "One access token shape (iss, aud, sub, iat, exp, jti, scope), an RSA-2048 or P-256 key in a",
    "one-key JWKS. tessera: the server module, every check in the core (WebAssembly), the",
    "signature by node:crypto through the host seam (SPEC §6.1.1), KeyObjects kept by RFC 7638",
    "thumbprint; \"seen before\" is answered from the engine's cache of verified signatures",
    "(claims and time still checked). \"(KeySet)\": the same JWKS as `new KeySet(jwks)`, parsed",
    "once; a token seen before is answered from the engine's verified-token cache, which a KeySet's",
    "cache time and fetches bound. \"(KeySet.fromUrl, fetched)\": the JWKS served by a local `node:http`",
    `server (\`max-age=3600\`), fetched once before timing; the timed runs caused ${timedFetches} more fetches.`,
    "aws-jwt-verify: `JwtVerifier` with `cacheJwks`. jose:",
    "`jwtVerify` with `createLocalJWKSet`. The floor: split, base64url-decode, `crypto.verify`.",
    table,
    "",
  ].join("\n");
  writeSection(write, "## Node JWT verification vs aws-jwt-verify and jose", section);
}
