// Provider JWTs (SPEC §6.1) and `Authorization` headers: in the browser and
// the server modules. Every check is the core's; the signature primitive is
// the host's (SPEC §6.1.1):
//
// - `verifyJwtSync`: the core calls the synchronous primitive the entry
//   installed (`node:crypto`, node-crypto.mjs) in the middle of one call;
//   without one it fails with `unsupported_runtime`;
// - `verifyJwt`: a promise in every runtime. With a synchronous primitive it is
//   `verifyJwtSync`'s answer; otherwise the core checks everything but the
//   signature and holds its verdict (`RawPending`), WebCrypto verifies, and the
//   core combines the two (webcrypto.mjs).
//
// Both take a KeySet (keyset.mjs) wherever they take a JWKS: `verifyJwt`
// fetches its keys when the set says so (first use, cache time over, an
// unknown `kid` once per cooldown); `verifyJwtSync` never fetches. With
// WebCrypto the core checks a KeySet token in two steps too
// (`begin_verify_jwt_with`) and the set learns it once its signature verified.
//
// A verified-token cache per engine answers a token seen before without
// entering the module: the core gives, with the principal, the seconds
// `[from, until)` during which its time checks pass (`jwt_valid_between`);
// every other check does not depend on the time, so the same token with the
// same JWKS text under the same policy generation gets the same principal
// while `from <= now < until`. With a KeySet, the entry holds the set and its
// fetch count (a fetch may change its keys), and `until` is no later than the
// set's cache time. Anything else asks the core again.
import * as raw from "./tessera_wasm.js";
import { INTERNAL, errorOf, guardClass, guarded, invoke } from "./errors.mjs";
import { json, output, seconds, string, stringArray, verbatim } from "./convert.mjs";
import { Engine as DecisionEngine } from "./engine.mjs";
import { policyGeneration } from "./fastpath.mjs";
import { settle } from "./webcrypto.mjs";
import { KeySet, rawOf, withFetch, withoutFetch } from "./keyset.mjs";

/** The token in an `Authorization` header value (`Bearer <token>` or a bare token). */
function parseAuthorization(header) {
  const h = string("header", header);
  return output(invoke(() => raw.parse_authorization(h)));
}

/**
 * A token check's principal: the core writes its keys camelCase already
 * (`JsPrincipal` in bindings-wasm/src/lib.rs), so the text is only parsed.
 */
const principalOf = (text) => JSON.parse(text);

/** Verified tokens kept per engine before the cache starts over. */
const TOKENS_KEPT = 4096;

/**
 * The cache's key for a token: its last 32 characters (of the signature).
 * A request's token is a new string each time, and a Map hashes all of a
 * key's characters (a kilobyte for a Cognito token); the entry holds the
 * whole token, compared in full, so two tokens with the same tail only
 * share a slot, never an answer.
 */
const tailOf = (token) => (token.length > 64 ? token.slice(-32) : token);

/** `[from, until, principal JSON]` as the core answers `verify_jwt_window`. */
function windowed(answer) {
  const a = answer.indexOf(",");
  const b = answer.indexOf(",", a + 1);
  return [Number(answer.slice(1, a)), Number(answer.slice(a + 1, b)), answer.slice(b + 1, -1)];
}

const encoder = new TextEncoder();

/**
 * A view of the server module's token buffer (`RawEngine.token_input_ptr`), made again
 * after the memory grows (the old view is then detached and has no bytes).
 */
let tokenInput = new Uint8Array(0);

/**
 * Writes `t` (well-formed: `string()` checked it) into the token buffer;
 * its UTF-8 length, or -1 when it does not fit.
 */
function putToken(t) {
  if (tokenInput.byteLength === 0) {
    tokenInput = new Uint8Array(raw.wasm_memory().buffer, raw.RawEngine.token_input_ptr(), raw.RawEngine.token_input_len());
  }
  if (t.length > tokenInput.byteLength) return -1;
  const r = encoder.encodeInto(t, tokenInput);
  return r.read === t.length ? r.written : -1;
}

/** A loaded, compiled policy and every decision and provider-JWT check made with it. */
export class Engine extends DecisionEngine {
  /**
   * token → `{ jwks, generation, from, until, text, attempts }` (see the top of
   * this file). `jwks`: the JWKS text, or the KeySet (then `attempts`, its
   * fetches so far: a fetch may change its keys, and `until` is no later than
   * its keys' cache time).
   */
  #verified = new Map();

  /** The principal JSON of a token verified before whose answer still holds, else undefined. */
  #seen(token, jwks, now) {
    const v = this.#verified.get(tailOf(token));
    if (v === undefined || v.token !== token || v.jwks !== jwks || v.generation !== policyGeneration()) return undefined;
    const t = now ?? Math.floor(Date.now() / 1000);
    if (!(t >= v.from && t < v.until)) return undefined;
    if (v.attempts !== undefined && v.attempts !== rawOf(jwks).attempts()) return undefined;
    return v.text;
  }

  #remember(token, jwks, from, until, text) {
    if (this.#verified.size >= TOKENS_KEPT) this.#verified = new Map();
    const attempts = jwks instanceof KeySet ? rawOf(jwks).attempts() : undefined;
    this.#verified.set(tailOf(token), { token, jwks, generation: policyGeneration(), from, until, text, attempts });
  }

  /** With a KeySet, through the synchronous primitive: the core's answer, remembered. */
  #verifyWithNow(e, t, keys, n) {
    // The browser module has no synchronous primitive, and no such export.
    if (!raw.has_sync_crypto()) throw errorOf(JSON.parse(raw.unsupported_runtime()));
    // The token crosses through the module's token buffer when it fits.
    const len = putToken(t);
    const answer = len < 0 ? invoke(() => e.verify_jwt_with(t, rawOf(keys), n)) : invoke(() => e.verify_jwt_with_input(len, rawOf(keys), n));
    const [from, until, text] = windowed(answer);
    this.#remember(t, keys, from, until, text);
    return text;
  }

  /** With a KeySet, in any runtime (WebCrypto where `node:crypto` is missing). */
  async #verifyWith(e, t, keys, n) {
    const seen = this.#seen(t, keys, n);
    if (seen !== undefined) return seen;
    if (raw.has_sync_crypto()) return this.#verifyWithNow(e, t, keys, n);
    const pending = invoke(() => e.begin_verify_jwt_with(t, rawOf(keys), n));
    const [from, until] = pending.window();
    const text = await settle(pending);
    this.#remember(t, keys, from, until, text);
    return text;
  }

  /** The core's answer through the synchronous primitive, remembered. */
  #verifyNow(e, t, k, n) {
    const [from, until, text] = windowed(invoke(() => e.verify_jwt_window(t, k, n)));
    this.#remember(t, k, from, until, text);
    return text;
  }

  /**
   * Verifies a provider JWT against a JWKS (object or JSON text) or a KeySet;
   * returns its principal. Synchronous: needs `node:crypto` (`unsupported_runtime`
   * elsewhere). Never fetches: a KeySet is used as it holds its keys now.
   */
  verifyJwtSync(token, jwks, now) {
    const t = string("token", token);
    if (jwks instanceof KeySet) {
      const n = seconds(now);
      const e = this[INTERNAL]();
      const seen = raw.has_sync_crypto() ? this.#seen(t, jwks, n) : undefined;
      if (seen !== undefined) return principalOf(seen);
      // Never fetches: a set that needs a fetch says to use verifyJwt or refresh().
      return principalOf(withoutFetch(jwks, t, n, () => this.#verifyWithNow(e, t, jwks, n), "await engine.verifyJwt(token, keySet)"));
    }
    const k = verbatim("jwks", jwks);
    const n = seconds(now);
    const e = this[INTERNAL]();
    // Without a synchronous primitive the answer is unsupported_runtime, cached or not.
    const seen = raw.has_sync_crypto() ? this.#seen(t, k, n) : undefined;
    return principalOf(seen ?? this.#verifyNow(e, t, k, n));
  }

  /**
   * `verifyJwtSync`'s answer as a promise, in every runtime (WebCrypto where
   * `node:crypto` is missing). With a KeySet it fetches when the set says so
   * (first use, cache time over, an unknown `kid` once per cooldown).
   */
  async verifyJwt(token, jwks, now) {
    const t = string("token", token);
    if (jwks instanceof KeySet) {
      const n = seconds(now);
      const e = this[INTERNAL]();
      const seen = this.#seen(t, jwks, n);
      if (seen !== undefined) return principalOf(seen);
      return principalOf(await withFetch(jwks, t, n, () => this.#verifyWith(e, t, jwks, n)));
    }
    const k = verbatim("jwks", jwks);
    const n = seconds(now);
    const e = this[INTERNAL]();
    const seen = this.#seen(t, k, n);
    if (seen !== undefined) return principalOf(seen);
    if (raw.has_sync_crypto()) return principalOf(this.#verifyNow(e, t, k, n));
    const pending = invoke(() => e.begin_verify_jwt(t, k, n));
    // Read before `settle` frees the pending check.
    const [from, until] = pending.window();
    const text = await settle(pending);
    this.#remember(t, k, from, until, text);
    return principalOf(text);
  }
}

guardClass(Engine);
// Bundlers may rename one of the `Engine` classes; users see this name.
Object.defineProperty(Engine, "name", { value: "Engine" });

/** Algorithms as JSON text (all of SPEC §6.1 when absent). */
function algorithmsOf(algorithms) {
  return algorithms === undefined || algorithms === null ? JSON.stringify(ALL_ALGORITHMS) : json("algorithms", stringArray("algorithms", algorithms));
}

const ALL_ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

function bytes(what, v) {
  if (v instanceof Uint8Array) return v;
  throw errorOf({ kind: "argument", code: "invalid_argument", message: `${what}: expected a Uint8Array` });
}

/** The verified JWS as the package shows it: `{header, payload: Uint8Array, algorithm}`. */
function jwsOf(text) {
  const v = JSON.parse(text);
  return { header: v.header, payload: Uint8Array.from(v.payload), algorithm: v.algorithm };
}

/**
 * The signature layer of `verifyJwt` for any compact JWS (header, algorithm
 * allow-list, `crit`, key selection and checks, signature), payload not read
 * as claims. Synchronous: needs `node:crypto`.
 */
function verifyJwsSync(token, jwks, algorithms) {
  const t = string("token", token);
  const k = verbatim("jwks", jwks);
  const a = algorithmsOf(algorithms);
  return jwsOf(invoke(() => raw.verify_jws(t, k, a)));
}

/** `verifyJwsSync` as a promise, in every runtime. */
async function verifyJws(token, jwks, algorithms) {
  const t = string("token", token);
  const k = verbatim("jwks", jwks);
  const a = algorithmsOf(algorithms);
  if (raw.has_sync_crypto()) return jwsOf(invoke(() => raw.verify_jws(t, k, a)));
  return jwsOf(await settle(invoke(() => raw.begin_verify_jws(t, k, a))));
}

/**
 * One signature with one JWK, through the key checks every token takes.
 * Throws a `TokenError` (`bad_signature`, `weak_key`, ...) unless it verifies.
 */
function verifySignatureSync(algorithm, jwk, message, signature) {
  const a = string("algorithm", algorithm);
  const k = verbatim("jwk", jwk);
  const m = bytes("message", message);
  const s = bytes("signature", signature);
  invoke(() => raw.verify_signature(a, k, m, s));
}

/** `verifySignatureSync` as a promise, in every runtime. */
async function verifySignature(algorithm, jwk, message, signature) {
  const a = string("algorithm", algorithm);
  const k = verbatim("jwk", jwk);
  const m = bytes("message", message);
  const s = bytes("signature", signature);
  if (raw.has_sync_crypto()) return void invoke(() => raw.verify_signature(a, k, m, s));
  await settle(invoke(() => raw.begin_verify_signature(a, k, m, s)));
}

const parseAuthorizationGuarded = guarded(parseAuthorization);
const verifyJwsSyncGuarded = guarded(verifyJwsSync);
const verifyJwsGuarded = guarded(verifyJws);
const verifySignatureSyncGuarded = guarded(verifySignatureSync);
const verifySignatureGuarded = guarded(verifySignature);
export {
  parseAuthorizationGuarded as parseAuthorization,
  verifyJwsSyncGuarded as verifyJwsSync,
  verifyJwsGuarded as verifyJws,
  verifySignatureSyncGuarded as verifySignatureSync,
  verifySignatureGuarded as verifySignature,
};
