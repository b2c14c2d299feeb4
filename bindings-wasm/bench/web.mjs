// Per-request overhead of the framework integrations: the same route with no
// guard, with tessera-policy/express (Express 5) or tessera-policy/fastify
// (Fastify 5) deciding a provider JWT (RS256, through a KeySet, verified once
// before: the engine's verified-token cache) against the operations table with an owners hook,
// and with casbin's express-authz on the same rule, in one run.
//
//   node bench/web.mjs                 print the figures
//   node bench/web.mjs --write FILE    also rewrite the section
//                                      "## Framework integration overhead (Node)" of FILE
//
// Requests are injected in-process (light-my-request, what Fastify's inject()
// uses), so no socket noise; rounds of each configuration are interleaved and
// the median round is kept. Every configuration must answer 200 (and a
// stranger 403) before it is timed.
import { cpus, loadavg } from "node:os";
import express from "express";
import Fastify from "fastify";
import inject from "light-my-request";
import { authz } from "casbin-express-authz";
import { createRequire } from "node:module";
import { Engine, KeySet } from "../pkg/dist/node.mjs";
import { tessera as tesseraExpress } from "../pkg/dist/express.mjs";
import tesseraFastify from "../pkg/dist/fastify.mjs";
import { rsaKeys, signJwt } from "../test/support.mjs";
import { writeSection } from "./report.mjs";

const write = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : null;
const load = loadavg()[0].toFixed(1);

const POLICY = {
  version: 1,
  roles: { user: { permissions: ["read_own_device"] } },
  groups: { staff: ["user"] },
  operations: { "GET /api/v1/devices/{id}": { permission: "read_device" } },
  tokens: { jwt: { issuers: ["https://issuer.test"], client_ids: ["client-1"], token_use: ["access"], algorithms: ["RS256"] } },
};
const OWNERS = { "d-1": "alice", "d-2": "bob" };
const { privateKey, jwks } = rsaKeys("k1");
const now = Math.floor(Date.now() / 1000);
const token = signJwt(privateKey, {
  sub: "alice", iss: "https://issuer.test", client_id: "client-1", token_use: "access",
  iat: now - 5, exp: now + 24 * 3600, "cognito:groups": ["staff"],
});
const engine = new Engine(POLICY);
// Parsed once (SPEC §6.1.2), as KeySet.cognito holds after its fetch.
const keys = new KeySet(jwks);
const headers = { authorization: `Bearer ${token}` };

// casbin: the same rule (a user reads devices) as RBAC with keyMatch2; its
// middleware reads the user name from res.locals (set here from a header, with
// no token check: casbin does not verify tokens).
const MODEL = `
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && r.act == p.act
`;
// The middleware checks `instanceof Enforcer` against its own copy of casbin.
const { newEnforcer, newModelFromString, StringAdapter } = createRequire(createRequire(import.meta.url).resolve("casbin-express-authz"))("casbin");
const enforcer = await newEnforcer(newModelFromString(MODEL), new StringAdapter("p, user, /api/v1/devices/:id, GET\ng, alice, user"));

const handler = (req, res) => res.json({ id: req.params.id });
function expressApp(kind) {
  const app = express();
  if (kind === "tessera") {
    const guard = tesseraExpress({ engine, keys, owners: (req) => OWNERS[req.params.id] ?? null });
    app.use(guard.prefilter);
    app.get("/api/v1/devices/:id", guard, handler);
  } else if (kind === "casbin") {
    app.use((req, res, next) => {
      res.locals.username = req.headers["x-user"];
      next();
    });
    app.use(authz({ newEnforcer: Promise.resolve(enforcer) }));
    app.get("/api/v1/devices/:id", handler);
  } else {
    app.get("/api/v1/devices/:id", handler);
  }
  return (opts) => inject(app, opts);
}
async function fastifyApp(kind) {
  const app = Fastify();
  if (kind === "tessera") {
    await app.register(tesseraFastify, { engine, keys, owners: (request) => OWNERS[request.params.id] ?? null });
  }
  app.get("/api/v1/devices/:id", async (request) => ({ id: request.params.id }));
  await app.ready();
  return (opts) => app.inject(opts);
}

const configs = [
  ["Express 5", "none", expressApp("none")],
  ["Express 5", "tessera", expressApp("tessera")],
  ["Express 5", "casbin-express-authz", expressApp("casbin")],
  ["Fastify 5", "none", await fastifyApp("none")],
  ["Fastify 5", "tessera", await fastifyApp("tessera")],
];
const request = (kind) => ({ method: "GET", url: "/api/v1/devices/d-1", headers: kind === "casbin-express-authz" ? { "x-user": "alice" } : headers });

for (const [fw, kind, call] of configs) {
  const ok = await call(request(kind));
  if (ok.statusCode !== 200) throw new Error(`${fw} ${kind}: expected 200, got ${ok.statusCode} ${ok.body}`);
  if (kind !== "none") {
    const other = { ...request(kind), url: "/api/v1/devices/d-2" };
    if (kind === "casbin-express-authz") other.headers = { "x-user": "mallory" };
    const no = await call(other);
    if (no.statusCode !== 403) throw new Error(`${fw} ${kind}: expected 403, got ${no.statusCode}`);
  }
}

const ROUNDS = 15;
const PER_ROUND = 2000;
const samples = configs.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let c = 0; c < configs.length; c++) {
    const [, kind, call] = configs[c];
    const opts = request(kind);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i++) await call(opts);
    samples[c].push(Number(process.hrtime.bigint() - t0) / PER_ROUND / 1000);
  }
}
// Where tessera's share goes: its engine calls, timed alone in the same run.
// Warmed up (the JIT), then the median of five timed batches.
function alone(f, n = 20_000) {
  for (let i = 0; i < n; i++) f();
  const batches = [];
  for (let b = 0; b < 5; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    batches.push(Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  return batches.sort((a, b) => a - b)[2];
}
const principal = engine.verifyJwtSync(token, keys);
const { claims: _claims, ...unclaimed } = principal;
const parts = {
  "engine.verifyJwtSync (KeySet, token seen before)": alone(() => engine.verifyJwtSync(token, keys)),
  "engine.authorizeOperation (the principal, owner)": alone(() => engine.authorizeOperation(principal, "GET /api/v1/devices/d-1", { owner: "alice" })),
  "engine.authorizeOperation (the principal without its raw claims)": alone(() =>
    engine.authorizeOperation(unclaimed, "GET /api/v1/devices/d-1", { owner: "alice" })),
  "the guard's call (the principal, its raw claims skipped, not copied)": alone(() =>
    engine[Symbol.for("tessera-policy.authorizeVerified")](principal, "GET /api/v1/devices/d-1", { owner: "alice" })),
  "engine.authorizeOperation (anonymous lookup)": alone(() => engine.authorizeOperation(null, "GET /api/v1/devices/d-1")),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = configs.map(([fw, kind], c) => ({ fw, kind, us: median(samples[c]) }));
const base = Object.fromEntries(rows.filter((r) => r.kind === "none").map((r) => [r.fw, r.us]));
const LIMIT = { "Express 5": 10, "Fastify 5": 10 };
const lines = rows.map((r) => {
  const over = r.us - base[r.fw];
  const verdict = r.kind === "tessera" ? (over <= LIMIT[r.fw] ? ` (≤ ${LIMIT[r.fw]} µs: met)` : ` (≤ ${LIMIT[r.fw]} µs: NOT met)`) : "";
  return `| ${r.fw} | ${r.kind} | ${r.us.toFixed(1)} | ${r.kind === "none" ? "—" : `${over >= 0 ? "+" : ""}${over.toFixed(1)}${verdict}`} |`;
});
const table = [
  "| framework | guard | µs per request (median of rounds) | overhead vs no guard |",
  "| --- | --- | ---: | --- |",
  ...lines,
].join("\n");
const section = `Command: \`make bench-web\` (\`node bench/web.mjs --write BENCHMARKS.md\` in \`bindings-wasm/\`),
Node ${process.version}, ${cpus().length} CPUs, load average ${load} at the start, ${ROUNDS} interleaved
rounds of ${PER_ROUND} in-process requests (light-my-request) per configuration, median round.

One route, \`GET /api/v1/devices/:id\`; \`tessera\` authenticates a provider JWT
(RS256, \`keys\`: a \`KeySet\`; the token was verified before, so it is answered
from the engine's verified-token cache while claims and time are checked on every call), calls
an owners hook and decides \`read_device\` on the operations table.
\`casbin-express-authz\` decides the same rule (RBAC, keyMatch2) for a user name
set by a one-line middleware, **with no token verification** (casbin has none):
it is the cost of the decision alone, not of authentication.

${table}

The engine calls inside tessera's share, timed alone in the same run: ${Object.entries(parts).map(([n, us]) => `${n} ${us.toFixed(1)} µs`).join("; ")}.
`;
console.log(section);
if (write) writeSection(write, "## Framework integration overhead (Node)", section);
