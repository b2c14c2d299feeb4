// Shared fixtures for the package's tests (not a test file itself).
import { generateKeyPairSync, createSign, createHmac } from "node:crypto";

export const POLICY = {
  version: 1,
  roles: {
    user: { permissions: ["read_own_device", "update_own_device", "pull_own_stream"] },
    admin: { inherits: ["user"], permissions: ["admin_device", "admin_user", "!delete_token"] },
    owner: { inherits: ["admin"], permissions: ["admin"] },
    manager: { inherits: ["user"], permissions: ["read_device", "read_user"] },
  },
  groups: { administrators: ["admin"], managers: ["manager"] },
  grants: [{ principal: "u-7", permissions: ["update_device:dev-42"] }],
  operations: {
    "Auth.InitiateAuth": { access: "public" },
    "Projects.ListProjects": { access: "authenticated" },
    "Projects.CreateProject": { access: { groups_all: ["managers"] } },
    "DELETE /api/v1/devices/{id}": { permission: "delete_device" },
    "GET /tok/api/v1/devices": { credential: "api_token", permission: "read_device" },
  },
  tokens: {
    jwt: {
      issuers: ["https://issuer.example"],
      client_ids: ["client-1"],
      audiences: [],
      token_use: ["access"],
      algorithms: ["RS256"],
      claims: { id: "sub", groups: "cognito:groups", scopes: "scope" },
    },
  },
};

/** An HS256 session key (32 bytes), as a JWK. */
export const SESSION_KEY = { kty: "oct", k: Buffer.from("session-secret-session-secret-32").toString("base64url") };

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** An RSA key pair and its public JWKS. */
export function rsaKeys(kid = "k1") {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  return { privateKey, jwks: { keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] } };
}

/** A signed RS256 JWT. */
export function signJwt(privateKey, claims, header = { alg: "RS256", typ: "JWT", kid: "k1" }) {
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url");
  return `${input}.${sig}`;
}

/** A signed HS256 JWT (for tests of algorithm confusion). */
export function signHs256(secret, claims, header = { alg: "HS256", typ: "JWT" }) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

export const NOW = 1_700_000_000;

export function accessClaims(extra = {}) {
  return {
    sub: "u-1",
    iss: "https://issuer.example",
    client_id: "client-1",
    token_use: "access",
    "cognito:groups": ["administrators"],
    scope: "devices/read devices/write",
    iat: NOW - 10,
    exp: NOW + 3600,
    ...extra,
  };
}
