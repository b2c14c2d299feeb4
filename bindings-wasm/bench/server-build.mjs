// The server module's hot calls, µs per call, for comparing two builds of it
// (BENCHMARKS.md, "Server module: speed over size"): the same script against
// each build's pkg/ directory, runs interleaved.
//
//   node bench/server-build.mjs pkg                 this checkout's build
//   node bench/server-build.mjs /elsewhere/pkg      another build (a copy of pkg/ whose
//                                                   dist/tessera_wasm_bg.wasm was replaced)
import { createSign, generateKeyPairSync } from "node:crypto";

const pkg = process.argv[2];
const { Engine, KeySet, Realm } = await import(new URL(`${pkg}/dist/node.mjs`, `file://${process.cwd()}/`).href);
const ISS = "https://issuer.example";
const NOW = Math.floor(Date.now() / 1000);
const POLICY = {
  version: 1,
  roles: { user: { permissions: ["read_own_device", "update_own_device"] }, admin: { inherits: ["user"], permissions: ["admin_device", "admin_user", "admin_token"] } },
  groups: { administrators: ["admin"] },
  operations: { "GET /api/v1/devices/{id}": { permission: "read_device" }, "POST /api/v1/auth": { access: "public" } },
  realm: { bootstrap_role: "admin", default_role: "user" },
  tokens: { jwt: { issuers: [ISS], audiences: ["api"], client_ids: null, token_use: null, algorithms: ["RS256"] } },
};
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" }] };
const toks = [];
for (let i = 0; i < 8192; i++) {
  const input = `${b64({ alg: "RS256", kid: "k1", typ: "JWT" })}.${b64({ iss: ISS, aud: "api", sub: `u${i}`, iat: NOW - 5, exp: NOW + 3600 })}`;
  toks.push(`${input}.${createSign("sha256").update(input).sign(privateKey).toString("base64url")}`);
}
const engine = new Engine(POLICY);
const keys = new KeySet(jwks);
const KEY = { kty: "oct", k: Buffer.from("session-secret-session-secret-32").toString("base64url") };
const realm = new Realm(POLICY, KEY);
const admin = realm.createUser(null, "root", null, {}, NOW);
const api = realm.createApiToken({ id: admin.id, roles: admin.roles }, admin.id, null, {}, NOW).secret;
const sessions = [];
for (let i = 0; i < 1000; i++) sessions.push(realm.openSession(api, NOW).token);
function us(f, n) {
  for (let i = 0; i < Math.min(n, 2000); i++) f(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(i);
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}
const principal = { id: "alice", roles: ["user"] };
const out = {
  "verifyJwtSync RS256 fresh (KeySet)": us((i) => engine.verifyJwtSync(toks[i % 8192], keys), 8192),
  "verifyJwtSync seen before": us(() => engine.verifyJwtSync(toks[0], keys), 20000),
  "authorize cold (principal object)": us(() => engine.authorize(principal, "read", { type: "device", id: "d1", owner: "alice" }), 50000),
  "authorizeOperation anonymous": us(() => engine.authorizeOperation(null, "GET /api/v1/devices/d1"), 50000),
  "authorizeOperation principal+owner": us(() => engine.authorizeOperation(principal, "GET /api/v1/devices/d1", { owner: "alice" }), 50000),
  "realm.authenticate session": us((i) => realm.authenticate(`Bearer ${sessions[i % 1000]}`, NOW + 1), 20000),
  "realm.renew": us((i) => realm.renew(sessions[i % 1000], NOW + 2), 2000),
};
console.log(JSON.stringify(out));
