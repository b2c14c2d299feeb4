// A robot-arm API in the shape of Eva's (`/api/v1/...`), guarded by tessera, on
// Node's own `http` module. The same API as examples/python-server.
//
// One `Realm` holds the users, API tokens and sessions; the policy's operations
// table (policy.json beside this file) decides every request:
//   1. engine.authorizeOperation(null, "METHOD /path"): a public operation
//      (POST /api/v1/auth) needs no credentials; an unknown one is 404;
//   2. realm.authenticate(Authorization): any failure is 401 {"error": code};
//   3. engine.authorizeOperation(principal, "METHOD /path"): refused is
//      403 {"error": "forbidden", "reason": reason}.
//
// Run it:  node server.mjs --bootstrap admin --store sqlite:realm.db   (see README.md)

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// In this repository: the package as `make build-wasm` builds it. Elsewhere:
// `import { Realm, TesseraError, TokenError, parseAuthorization } from "tessera-policy"`.
import { Realm, TesseraError, TokenError, parseAuthorization } from "../../bindings-wasm/pkg/dist/node.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const KEY_ENV = "TESSERA_SESSION_KEY";
const MAX_BODY = 64 * 1024;

const STATUS_OF_CODE = {
  store_unavailable: 503,
  store_conflict: 503,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  invalid_argument: 400,
  invalid_credentials: 401,
};

/** The HS256 session key: $TESSERA_SESSION_KEY (base64url, 32+ bytes) or a fresh random one. */
export function sessionKeyFromEnv(env = process.env) {
  const value = (env[KEY_ENV] ?? "").trim();
  let raw;
  let generated = false;
  if (value) {
    raw = Buffer.from(value, "base64url");
    if (raw.length < 32) throw new Error(`${KEY_ENV} must hold at least 32 bytes (base64url)`);
  } else {
    raw = randomBytes(32);
    generated = true;
  }
  return { key: { kty: "oct", k: raw.toString("base64url") }, generated };
}

/**
 * The realm, kept in `--store` (SPEC §7.1): `sqlite:PATH` (the default, `sqlite:realm.db`),
 * `postgresql://...` (several servers on one database; `--max-lag` seconds, default 1) or
 * `memory`. Every change is committed before the request is answered; several server
 * processes can share one store; a start is not a restart (sessions survive it). Writes are
 * awaited everywhere below: on PostgreSQL they are promises, elsewhere plain values.
 */
export class Store {
  constructor(realm) {
    this.realm = realm;
  }

  static async open(policy, key, url = "sqlite:realm.db", maxLagSeconds = 1) {
    if (url === "memory") return new Store(new Realm(policy, key));
    const options = /^postgres(ql)?:\/\//.test(url) ? { maxLagSeconds } : undefined;
    return new Store(await Realm.open(policy, key, url, options));
  }

  /** The first user (bootstrap role) and an API token for it, unless the realm has users. */
  async bootstrap(username) {
    if (this.realm.snapshot().bootstrapped) return null;
    let user;
    try {
      user = await this.realm.createUser(null, username, null);
    } catch (e) {
      // Another process bootstrapped first (the call was redone on its state).
      if (e instanceof TesseraError && e.code === "forbidden") return null;
      throw e;
    }
    const made = await this.realm.createApiToken({ id: user.id, roles: user.roles }, user.id, null);
    return { user: snake(user), api_token: made.secret, api_token_id: made.record.id };
  }
}

class HttpError extends Error {
  constructor(status, body) {
    super(body.error);
    this.status = status;
    this.body = body;
  }
}

const badBody = (message) => new HttpError(400, { error: "invalid_argument", message });

// The wire format is the Python example's (snake_case keys): one client for both servers.
const snakeKey = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
function snake(value) {
  if (Array.isArray(value)) return value.map(snake);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeKey(k), snake(v)]));
}

function publicRecord(record) {
  const { hash: _hash, ...rest } = record;
  return snake(rest);
}

function grant(g) {
  return { token: g.token, expires_at: g.expiresAt, renewable_until: g.renewableUntil };
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, { error: "too_large" });
    chunks.push(chunk);
  }
  if (size === 0) return {};
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw badBody("the body must be a JSON object");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw badBody("the body must be a JSON object");
  }
  return body;
}

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The request handler of the API over a Store. */
export function createHandler(store) {
  const { realm } = store;
  const engine = realm.engine;
  const arm = { joints: [0, 0, 0, 0, 0, 0], lockedBy: null };
  const bearer = (req) => parseAuthorization(req.headers.authorization ?? "");

  // [method, pattern, handler(req, principal, params)]
  const routes = [
    // Eva's auth
    ["POST", /^\/api\/v1\/auth$/, async (req) => {
      const body = await readJson(req);
      if (typeof body.token !== "string") throw badBody('expected {"token": <API token>}');
      return [200, grant(await realm.openSession(body.token))];
    }],
    ["POST", /^\/api\/v1\/auth\/renew$/, async (req) => [200, grant(await realm.renew(bearer(req)))]],
    ["DELETE", /^\/api\/v1\/auth$/, async (req) => {
      await realm.close(bearer(req));
      return [204];
    }],
    // the arm
    ["GET", /^\/api\/v1\/data\/snapshot$/, () => [200, { control: { state: "ready", locked_by: arm.lockedBy }, servos: arm.joints }]],
    ["GET", /^\/api\/v1\/data\/servos$/, () => [200, { joints: arm.joints }]],
    ["POST", /^\/api\/v1\/controls\/go_to$/, async (req) => {
      const { joints } = await readJson(req);
      if (!Array.isArray(joints) || joints.length !== 6 || !joints.every((j) => typeof j === "number" && Number.isFinite(j))) {
        throw badBody('expected {"joints": [6 numbers]}');
      }
      arm.joints = joints;
      return [200, { joints: arm.joints }];
    }],
    ["POST", /^\/api\/v1\/controls\/home$/, () => {
      arm.joints = [0, 0, 0, 0, 0, 0];
      return [200, { joints: arm.joints }];
    }],
    ["POST", /^\/api\/v1\/controls\/lock$/, (_req, principal) => {
      arm.lockedBy = principal.id;
      return [200, { locked_by: arm.lockedBy }];
    }],
    ["DELETE", /^\/api\/v1\/controls\/lock$/, () => {
      arm.lockedBy = null;
      return [204];
    }],
    // users and API tokens (the realm authorises each call itself)
    ["GET", /^\/api\/v1\/users$/, (_req, principal) => [200, { users: snake(realm.listUsers(principal)) }]],
    ["POST", /^\/api\/v1\/users$/, async (req, principal) => {
      const { username } = await readJson(req);
      if (typeof username !== "string") throw badBody('expected {"username": ...}');
      return [201, snake(await realm.createUser(principal, username, null))];
    }],
    ["GET", /^\/api\/v1\/tokens$/, (_req, principal) => [200, { tokens: realm.listApiTokens(principal, null).map(publicRecord) }]],
    ["POST", /^\/api\/v1\/tokens$/, async (req, principal) => {
      const body = await readJson(req);
      const options = {};
      if ("lifespan_seconds" in body) options.lifespanSeconds = body.lifespan_seconds;
      if ("limits" in body) options.limits = body.limits;
      const made = await realm.createApiToken(principal, body.owner ?? principal.id, body.roles ?? null, options);
      return [201, { secret: made.secret, record: publicRecord(made.record) }];
    }],
    ["POST", /^\/api\/v1\/tokens\/([^/]+)\/suspend$/, async (_req, principal, [id]) => [200, publicRecord(await realm.suspendApiToken(principal, id))]],
    ["POST", /^\/api\/v1\/tokens\/([^/]+)\/resume$/, async (_req, principal, [id]) => [200, publicRecord(await realm.resumeApiToken(principal, id))]],
    ["POST", /^\/api\/v1\/tokens\/([^/]+)\/replace$/, async (_req, principal, [id]) => {
      const made = await realm.replaceApiToken(principal, id);
      return [201, { secret: made.secret, record: publicRecord(made.record) }];
    }],
    ["DELETE", /^\/api\/v1\/tokens\/([^/]+)$/, async (_req, principal, [id]) => [200, publicRecord(await realm.revokeApiToken(principal, id))]],
  ];

  async function handle(req) {
    const path = new URL(req.url, "http://localhost").pathname;
    const operation = `${req.method} ${path}`;
    let principal = null;
    const anonymous = engine.authorizeOperation(null, operation);
    if (anonymous.reason === "unknown_operation") return [404, { error: "not_found" }];
    if (!anonymous.allowed) {
      const header = req.headers.authorization;
      if (header === undefined) return [401, { error: "unauthenticated" }];
      try {
        principal = realm.authenticate(header);
      } catch (e) {
        // A store out of reach is the server's fault (503 below), not the credential's.
        if (e instanceof TesseraError && !e.code.startsWith("store_")) return [401, { error: e.code }];
        throw e;
      }
      const decision = engine.authorizeOperation(principal, operation);
      if (!decision.allowed) return [403, { error: "forbidden", reason: decision.reason }];
    }
    for (const [method, pattern, handler] of routes) {
      const m = method === req.method && pattern.exec(path);
      if (m) {
        let params;
        try {
          params = m.slice(1).map(decodeURIComponent);
        } catch {
          throw badBody("bad percent-encoding in the path");
        }
        const result = await handler(req, principal, params);
        return result;
      }
    }
    return [404, { error: "not_found" }];
  }

  return async (req, res) => {
    let status;
    let body;
    try {
      [status, body] = await handle(req);
    } catch (e) {
      if (e instanceof HttpError) {
        [status, body] = [e.status, e.body];
      } else if (e instanceof TokenError && e.code !== "invalid_transition") {
        [status, body] = [401, { error: e.code }];
      } else if (e instanceof TesseraError) {
        [status, body] = [STATUS_OF_CODE[e.code] ?? 500, { error: e.code, message: e.message }];
      } else {
        console.error(e);
        [status, body] = [500, { error: "internal" }];
      }
    }
    if (!res.headersSent) send(res, status, body);
  };
}

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8000" },
      policy: { type: "string", default: join(HERE, "policy.json") },
      store: { type: "string", default: "sqlite:realm.db" },
      "max-lag": { type: "string", default: "1" },
      bootstrap: { type: "string" },
    },
  });
  const { key, generated } = sessionKeyFromEnv();
  if (generated) console.error(`note: ${KEY_ENV} not set; sessions are signed with a random key`);
  const store = await Store.open(JSON.parse(readFileSync(values.policy, "utf8")), key, values.store, Number(values["max-lag"]));
  if (values.bootstrap) {
    const made = await store.bootstrap(values.bootstrap);
    if (made === null) console.error("note: the realm already has users; --bootstrap ignored");
    else console.log(JSON.stringify({ bootstrap: made }));
  }
  const server = http.createServer(createHandler(store));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(values.port), values.host, resolve);
  });
  const { address, port } = server.address();
  const host = address.includes(":") ? `[${address}]` : address;
  console.log(JSON.stringify({ listening: `http://${host}:${port}` }));
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return server;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
