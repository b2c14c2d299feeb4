import { generateKeyPairSync, sign, createPublicKey, verify } from "node:crypto";
import { Engine, KeySet } from "../pkg/dist/node.mjs";
const ISS = "https://issuer.example", AUD = "client-1", NOW = Math.floor(Date.now() / 1000), POOL = 8192;
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
const header = b64({ alg: "RS256", kid: "k1", typ: "JWT" });
const tokens = [];
for (let i = 0; i < POOL; i++) {
  const input = `${header}.${b64({ sub: `user-${i}`, iss: ISS, aud: AUD, iat: NOW - 10, exp: NOW + 3600, jti: `t${i}`, scope: "read write" })}`;
  tokens.push(`${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`);
}
const engine = new Engine({ version: 1, roles: {}, tokens: { jwt: { issuers: [ISS], audiences: [AUD], client_ids: null, token_use: null, algorithms: ["RS256"] } } });
const keySet = new KeySet({ keys: [jwk] });
const key = createPublicKey({ key: jwk, format: "jwk" });
const bare = (t) => { const i = t.lastIndexOf("."); return verify("sha256", Buffer.from(t.slice(0, i)), key, Buffer.from(t.slice(i + 1), "base64url")); };
let i = 0;
const mode = process.argv[2] ?? "t";
const N = +(process.argv[3] ?? 100000);
for (let r = 0; r < 3; r++) {
  const t0 = process.hrtime.bigint();
  if (mode === "t") for (let k = 0; k < N; k++) engine.verifyJwtSync(tokens[(i = (i + 1) % POOL)], keySet);
  else for (let k = 0; k < N; k++) bare(tokens[(i = (i + 1) % POOL)]);
  console.log(mode, (Number(process.hrtime.bigint() - t0) / N / 1000).toFixed(2));
}
const p = engine.verifyJwtSync(tokens[5], keySet);
const text = JSON.stringify(p);
console.log(text.length, text);
let t0 = process.hrtime.bigint();
for (let k = 0; k < 200000; k++) JSON.parse(text);
console.log("parse", (Number(process.hrtime.bigint() - t0) / 200000 / 1000).toFixed(2));
const texts = tokens.slice(0, 4096).map((t) => JSON.stringify(engine.verifyJwtSync(t, keySet)));
t0 = process.hrtime.bigint();
for (let k = 0; k < 200000; k++) JSON.parse(texts[k & 4095]);
console.log("parse varied", (Number(process.hrtime.bigint() - t0) / 200000 / 1000).toFixed(2));
