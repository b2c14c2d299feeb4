// Server-side credentials (SPEC §6.2, §6.3): sessions and API tokens, in the
// server module only (Node: signatures and HMACs by node:crypto, SPEC §6.1.1).
// `Engine` here is the provider-JWT engine (tokens.mjs) with these methods
// added; the realm (realm.mjs) builds on it.
import * as raw from "./tessera_wasm.js";
import { INTERNAL, argumentError, guardClass, guarded, invoke } from "./errors.mjs";
import { input, json, optionalObject, output, seconds, string, stringArray, typeOf, verbatim } from "./convert.mjs";
import { Engine as JwtEngine } from "./tokens.mjs";

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
export class Engine extends JwtEngine {
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
// Bundlers may rename one of the `Engine` classes; users see this name.
Object.defineProperty(Engine, "name", { value: "Engine" });

const suspendApiTokenGuarded = guarded(suspendApiToken);
const resumeApiTokenGuarded = guarded(resumeApiToken);
const revokeApiTokenGuarded = guarded(revokeApiToken);
export {
  suspendApiTokenGuarded as suspendApiToken,
  resumeApiTokenGuarded as resumeApiToken,
  revokeApiTokenGuarded as revokeApiToken,
};
