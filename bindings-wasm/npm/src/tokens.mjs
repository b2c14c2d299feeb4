// Tokens (SPEC §6): provider JWTs, sessions and API tokens. `Engine` here is
// the decisions engine (engine.mjs) with the token methods added; the realm
// (realm.mjs) builds on it.
import * as raw from "./tessera_wasm.js";
import { INTERNAL, argumentError, guardClass, guarded, invoke } from "./errors.mjs";
import { input, json, optionalObject, output, seconds, string, stringArray, typeOf, verbatim } from "./convert.mjs";
import { Engine as DecisionEngine } from "./engine.mjs";

/**
 * A session key: a JWK (object or JSON text), or a raw HS256 secret as a
 * `Uint8Array` (a `Buffer` is one), given to the core as its `oct` JWK. The
 * secret's length is the core's to check (`weak_key` under 32 bytes).
 */
export function sessionKey(key) {
  if (!(key instanceof Uint8Array)) return verbatim("key", key);
  let binary = "";
  for (const byte of key) binary += String.fromCharCode(byte);
  const k = btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return JSON.stringify({ kty: "oct", k });
}

/** The token in an `Authorization` header value (`Bearer <token>` or a bare token). */
function parseAuthorization(header) {
  const h = string("header", header);
  return output(invoke(() => raw.parse_authorization(h)));
}

/** An API token record moved from active to suspended (a new object). */
function suspendApiToken(record) {
  const r = input("record", record);
  return output(invoke(() => raw.suspend_api_token(r)));
}

/** An API token record moved from suspended to active (a new object). */
function resumeApiToken(record) {
  const r = input("record", record);
  return output(invoke(() => raw.resume_api_token(r)));
}

/** An API token record revoked, for good (a new object). */
function revokeApiToken(record) {
  const r = input("record", record);
  return output(invoke(() => raw.revoke_api_token(r)));
}

/** A loaded, compiled policy and every decision and token check made with it. */
export class Engine extends DecisionEngine {
  /** Verifies a provider JWT against a JWKS (object or JSON text); returns its principal. */
  verifyJwt(token, jwks, now) {
    const t = string("token", token);
    const k = verbatim("jwks", jwks);
    const n = seconds(now);
    const e = this[INTERNAL]();
    return output(invoke(() => e.verify_jwt(t, k, n)));
  }

  /** Issues a session token for `principal`, signed with `key` (a JWK, object or JSON text, or a raw secret as a `Uint8Array`). */
  issueSession(principal, key, now, options) {
    const p = input("principal", principal);
    const k = sessionKey(key);
    const n = seconds(now);
    const o = optionalObject("options", options);
    const e = this[INTERNAL]();
    return output(invoke(() => e.issue_session(p, k, n, o)));
  }

  /** A fresh token for the same session, or `session_ended` past its ceiling. */
  renewSession(token, key, now, revocations) {
    const t = string("token", token);
    const k = sessionKey(key);
    const n = seconds(now);
    const r = optionalObject("revocations", revocations);
    const e = this[INTERNAL]();
    return output(invoke(() => e.renew_session(t, k, n, r)));
  }

  /** Verifies a session token; returns its principal (`credential: "session"`). */
  verifySession(token, key, now, revocations) {
    const t = string("token", token);
    const k = sessionKey(key);
    const n = seconds(now);
    const r = optionalObject("revocations", revocations);
    const e = this[INTERNAL]();
    return output(invoke(() => e.verify_session(t, k, n, r)));
  }

  /** A new API token: `{secret, record}`; show the secret once, store the record. */
  createApiToken(owner, roles, now, options) {
    const w = string("owner", owner);
    const r = json("roles", stringArray("roles", roles));
    const n = seconds(now);
    const o = optionalObject("options", options);
    const e = this[INTERNAL]();
    return output(invoke(() => e.create_api_token(w, r, n, o)));
  }

  /** Verifies an API token secret against stored records; returns its principal. */
  verifyApiToken(secret, records, now) {
    const s = string("secret", secret);
    if (!Array.isArray(records)) throw argumentError(`records: expected an array of records, got ${typeOf(records)}`);
    const r = input("records", records);
    const n = seconds(now);
    const e = this[INTERNAL]();
    return output(invoke(() => e.verify_api_token(s, r, n)));
  }

  /** Makes a new token with the same owner, roles, limits and lifespan: `[created, oldRevoked]`. */
  replaceApiToken(record, now) {
    const r = input("record", record);
    const n = seconds(now);
    const e = this[INTERNAL]();
    return output(invoke(() => e.replace_api_token(r, n)));
  }
}

guardClass(Engine);
// Bundlers may rename one of the two `Engine` classes; users see this name.
Object.defineProperty(Engine, "name", { value: "Engine" });

const parseAuthorizationGuarded = guarded(parseAuthorization);
const suspendApiTokenGuarded = guarded(suspendApiToken);
const resumeApiTokenGuarded = guarded(resumeApiToken);
const revokeApiTokenGuarded = guarded(revokeApiToken);
export {
  parseAuthorizationGuarded as parseAuthorization,
  suspendApiTokenGuarded as suspendApiToken,
  resumeApiTokenGuarded as resumeApiToken,
  revokeApiTokenGuarded as revokeApiToken,
};
