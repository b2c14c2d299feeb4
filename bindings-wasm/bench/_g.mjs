import { Engine, KeySet } from "../pkg/dist/node.mjs";
import { Guard } from "../pkg/dist/express.mjs";
import { rsaKeys, signJwt } from "../test/support.mjs";
const POLICY = { version: 1, roles: { user: { permissions: ["read_own_device"] } }, groups: { staff: ["user"] },
  operations: { "GET /api/v1/devices/{id}": { permission: "read_device" } },
  tokens: { jwt: { issuers: ["https://issuer.test"], client_ids: ["client-1"], token_use: ["access"], algorithms: ["RS256"] } } };
const { privateKey, jwks } = rsaKeys("k1");
const now = Math.floor(Date.now() / 1000);
const token = signJwt(privateKey, { sub: "alice", iss: "https://issuer.test", client_id: "client-1", token_use: "access", iat: now - 5, exp: now + 86400, "cognito:groups": ["staff"] });
const engine = new Engine(POLICY);
const keys = new KeySet(jwks);
const guard = new Guard({ engine, keys });
const OWNERS = { "d-1": "alice" };
const h = `Bearer ${token}`;
const fresh = () => [(" " + h).slice(1)]; // a new string each time, as a request's header is
function t(name, f, n = 50000) {
  for (let i = 0; i < n; i++) f();
  const b = [];
  for (let k = 0; k < 5; k++) { const t0 = process.hrtime.bigint(); for (let i = 0; i < n; i++) f(); b.push(Number(process.hrtime.bigint() - t0) / n / 1000); }
  console.log(name.padEnd(40), b.sort((a, b) => a - b)[2].toFixed(2));
}
const first = guard.checkNow("GET", "/api/v1/devices/d-1", undefined, [h], () => "alice");
console.log(first.status);
t("checkNow same header string", () => guard.checkNow("GET", "/api/v1/devices/d-1", undefined, [h], () => OWNERS["d-1"]));
t("checkNow fresh header string", () => guard.checkNow("GET", "/api/v1/devices/d-1", undefined, fresh(), () => OWNERS["d-1"]));
t("fresh() alone", () => fresh());
t("operation", () => guard.operation("GET", "/api/v1/devices/d-1"));
t("anonymous", () => guard.anonymous("GET /api/v1/devices/d-1"));
t("verifyJwtSync same", () => engine.verifyJwtSync(token, keys));
const tk = () => (" " + token).slice(1);
t("verifyJwtSync fresh string", () => engine.verifyJwtSync(tk(), keys));
t("authenticateNow fresh", () => guard.authenticateNow(fresh(), "GET /api/v1/devices/d-1"));
const p = engine.verifyJwtSync(token, keys);
t("decide", () => guard.decide(p, "GET /api/v1/devices/d-1", "alice", true));
const junk = new Float64Array(1 << 19); // 4 MiB
let acc = 0;
const thrash = () => { for (let i = 0; i < junk.length; i += 8) acc += junk[i]; };
function t2(name, f, n = 3000) {
  const b = [];
  for (let k = 0; k < 5; k++) { let s = 0n; for (let i = 0; i < n; i++) { thrash(); const t0 = process.hrtime.bigint(); f(); s += process.hrtime.bigint() - t0; } b.push(Number(s) / n / 1000); }
  console.log(name.padEnd(40), b.sort((a, b) => a - b)[2].toFixed(2));
}
t2("cold: checkNow", () => guard.checkNow("GET", "/api/v1/devices/d-1", undefined, fresh(), () => OWNERS["d-1"]));
t2("cold: verifyJwtSync", () => engine.verifyJwtSync(tk(), keys));
t2("cold: anonymous", () => guard.anonymous("GET /api/v1/devices/d-1"));
t2("cold: decide", () => guard.decide(p, "GET /api/v1/devices/d-1", "alice", true));
t2("cold: nothing", () => 0);
