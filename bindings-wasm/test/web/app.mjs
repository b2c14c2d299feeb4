// The Express and Fastify test app: `node app.mjs FRAMEWORK MODE JWKS_PATH UNKNOWN`
// (FRAMEWORK express|fastify, MODE realm|keys, UNKNOWN not_found|pass). Prints
// one JSON line {port, tokens} once it listens on 127.0.0.1 (a port the OS
// picks); test/web.test.mjs starts it, asks it over HTTP and stops it by PID.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Engine, Realm } from "../../pkg/dist/node.mjs";

const [framework, mode, jwksPath, unknown] = process.argv.slice(2);

export const POLICY = {
  version: 1,
  actions: ["read", "create", "update", "delete", "execute"],
  subjects: ["device", "user", "token"],
  roles: {
    user: { permissions: ["read_own_device", "update_own_device", "read_own_user", "admin_own_token"] },
    admin: { inherits: ["user"], permissions: ["admin_device", "admin_user", "admin_token"] },
  },
  groups: { operators: ["admin"], staff: ["user"] },
  operations: {
    "GET /health": { access: "public" },
    "GET /api/v1/devices": { access: "authenticated" },
    "GET /api/v1/devices/{id}": { permission: "read_device" },
    "DELETE /api/v1/devices/{id}": { permission: "delete_device" },
    "GET /api/v1/jwt": { credential: "jwt" },
  },
  tokens: {
    jwt: { issuers: ["https://issuer.test"], client_ids: ["client-1"], token_use: ["access"], algorithms: ["RS256"] },
    session: { ttl_seconds: 1800, max_lifetime_seconds: 7200 },
  },
  realm: { bootstrap_role: "admin", default_role: "user" },
};
const SESSION_KEY = { kty: "oct", k: Buffer.from("tessera-web-tests-session-key-32-bytes").toString("base64url") };

const jwks = JSON.parse(readFileSync(jwksPath, "utf8"));
const realm = new Realm(POLICY, SESSION_KEY, { jwks });
const alice = realm.createUser(null, "alice");
const admin = { id: alice.id, roles: alice.roles };
const bob = realm.createUser(admin, "bob");
const api = realm.createApiToken(admin, bob.id);
const tokens = {
  admin_session: realm.openSession(realm.createApiToken(admin, alice.id).secret).token,
  user_session: realm.openSession(api.secret).token,
  user_api: api.secret,
};
const devices = { "d-alice": alice.id, "d-bob": bob.id, "d-carol": "sub-carol" };
const options = mode === "keys" ? { engine: new Engine(POLICY), keys: jwks, unknown } : { realm, unknown };
// Node refuses a request head over 16 KiB itself (431); raised so that the
// guard answers an oversize Authorization header.
const serverOptions = { maxHeaderSize: 64 * 1024 };

function announce(port) {
  process.stdout.write(JSON.stringify({ port, tokens }) + "\n");
}

if (framework === "express") {
  const { default: express } = await import("express");
  const { tessera } = await import("../../pkg/dist/express.mjs");
  const guard = tessera({ ...options, owners: (req) => devices[req.params?.id] ?? null });
  const app = express();
  app.use(guard.prefilter);
  app.get("/health", guard, (req, res) => res.json({ ok: true }));
  app.get("/api/v1/devices", guard, (req, res) => res.json({ devices: Object.keys(devices), by: req.principal.id }));
  app.get("/api/v1/devices/:id", guard, (req, res) => res.json({ id: req.params.id, by: req.principal.id }));
  app.delete("/api/v1/devices/:id", guard, (req, res) => res.json({ deleted: req.params.id, by: req.principal.id }));
  app.get("/api/v1/jwt", guard, (req, res) => res.json({ by: req.principal.id, credential: req.principal.credential }));
  app.get("/unlisted", guard, (req, res) => res.json({ unlisted: true, principal: req.principal ?? null }));
  const server = createServer(serverOptions, app);
  server.listen(0, "127.0.0.1", () => announce(server.address().port));
} else {
  const { default: Fastify } = await import("fastify");
  const { default: tessera } = await import("../../pkg/dist/fastify.mjs");
  let server;
  const app = Fastify({
    logger: { level: "error" },
    serverFactory: (handler) => (server = createServer(serverOptions, handler)),
  });
  await app.register(tessera, { ...options, owners: (request) => devices[request.params?.id] ?? null });
  app.get("/health", async () => ({ ok: true }));
  app.get("/api/v1/devices", async (request) => ({ devices: Object.keys(devices), by: request.principal.id }));
  app.get("/api/v1/devices/:id", async (request) => ({ id: request.params.id, by: request.principal.id }));
  app.delete("/api/v1/devices/:id", async (request) => ({ deleted: request.params.id, by: request.principal.id }));
  app.get("/api/v1/jwt", async (request) => ({ by: request.principal.id, credential: request.principal.credential }));
  app.get("/unlisted", async (request) => ({ unlisted: true, principal: request.principal }));
  await app.listen({ port: 0, host: "127.0.0.1" });
  announce(server.address().port);
}
