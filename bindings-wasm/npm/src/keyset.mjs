// Key sets (SPEC §6.1.2): a JWKS parsed and checked once, given or fetched
// from a URL, in the browser and the server modules. The core's KeySet
// (bindings-wasm/src/keyset.rs) holds the keys and decides *whether* to fetch
// (cache time, `max-age`, cooldown, an unknown `kid`) and applies what was
// fetched; this module only does the fetching, with `fetch`:
//
// - one fetch at a time per set: verifications that need keys while a fetch
//   is under way wait for it and use its result, instead of each asking;
// - a whole-request deadline (`timeoutSeconds`, an AbortController), a body
//   limit read as the body streams in (`maxBytes`), https only (http to
//   loopback allowed, checked by the core), and redirects followed by hand
//   (`redirect: "manual"`) only to the same scheme and host; where the
//   runtime hides the target (browsers: an "opaqueredirect"), the runtime
//   follows and the final URL must have the same scheme and host;
// - a failure is recorded in the set with its reason (`jwks_unavailable` at
//   verification) and the last good keys stay in use until their cache time ends.
//
// `engine.verifyJwt(token, keySet)` fetches when the set says so;
// `engine.verifyJwtSync` never does (tokens.mjs).
import * as raw from "./tessera_wasm.js";
import { ArgumentError, TesseraError, TokenError, errorOf, guardClass, invoke, messageOf } from "./errors.mjs";
import { isPlain, string, typeOf, verbatim } from "./convert.mjs";

/** The core's options in the order the raw calls take them (NaN: the default). `fetch` is this module's own. */
const OPTIONS = ["timeoutSeconds", "maxBytes", "cacheSeconds", "cooldownSeconds"];
const OPTION_LIST = "timeoutSeconds, maxBytes, cacheSeconds, cooldownSeconds, fetch";
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

function invalid(path, message) {
  return new ArgumentError({ kind: "argument", code: "invalid_argument", message: `${path}: ${message}`, path });
}

/** A raw call whose ArgumentError (a URL, a region, a pool id) is given `path`. */
function at(path, f) {
  try {
    return invoke(f);
  } catch (e) {
    if (e instanceof ArgumentError && e.path === undefined) {
      // The core's range checks of the options (a cache time past the year 9999) name them.
      const p = e.message.startsWith("key set options") ? "options" : path;
      throw invalid(p, e.message.startsWith(`${p}: `) ? e.message.slice(p.length + 2) : e.message);
    }
    throw e;
  }
}

/** `options` as `{ values, fetch }`: the core's four options (NaN: default), and the fetch function (or null: globalThis.fetch). */
function optionsOf(options) {
  const out = new Float64Array(OPTIONS.length).fill(NaN);
  if (options === undefined || options === null) return { values: out, fetch: null };
  if (!isPlain(options)) throw invalid("options", `expected an object or null, got ${typeOf(options)}`);
  let fetch = null;
  for (const key of Object.keys(options)) {
    const path = `options.${key}`;
    const v = options[key];
    if (key === "fetch") {
      if (v === undefined || v === null) continue;
      if (typeof v !== "function") throw invalid(path, `expected a fetch function or null, got ${typeOf(v)}`);
      fetch = v;
      continue;
    }
    if (!OPTIONS.includes(key)) throw invalid(path, `unknown option; the options are ${OPTION_LIST}`);
    if (v === undefined || v === null) continue;
    if (key === "timeoutSeconds") {
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw invalid(path, `expected a positive number of seconds, got ${typeOf(v)} ${String(v)}`);
    } else if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || (key === "maxBytes" && v === 0)) {
      const what = key === "maxBytes" ? "a positive whole number of bytes" : "whole seconds, 0 or more";
      throw invalid(path, `expected ${what}, got ${typeOf(v)} ${String(v)}`);
    }
    out[OPTIONS.indexOf(key)] = v;
  }
  return { values: out, fetch };
}

/** The options a raw set uses, by name. */
function settingsOf(r) {
  const [timeoutSeconds, maxBytes, cacheSeconds, cooldownSeconds] = invoke(() => r.options());
  return { timeoutSeconds, maxBytes, cacheSeconds, cooldownSeconds };
}

/** A failed fetch, with the reason the set records. */
class Fault extends Error {}

/** The reason a fetch failed, for a person to act on. */
function describe(e, timedOut, seconds) {
  if (timedOut) return `no complete answer within ${seconds} seconds`;
  if (e instanceof Fault || e instanceof TesseraError) return e.message;
  const cause = e && typeof e === "object" && e.cause ? e.cause : null;
  const detail = cause ? ` (${cause.code ?? messageOf(cause)})` : "";
  return `cannot fetch: ${messageOf(e)}${detail}`;
}

/** The body, read as it streams in, refused past `max` bytes. */
async function body(res, max) {
  const length = res.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length) && Number(length) > max) {
    throw new Fault(`the response is ${length} bytes, over the limit of ${max}`);
  }
  if (!res.body || typeof res.body.getReader !== "function") {
    // A fetch function of the host's without streams.
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > max) throw new Fault(`the response is over the limit of ${max} bytes`);
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      reader.cancel().catch(() => {});
      throw new Fault(`the response is over the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function discard(res) {
  try {
    if (res.body && typeof res.body.cancel === "function") res.body.cancel().catch(() => {});
  } catch {
    // Nothing to release.
  }
}

/**
 * GET `url` under `options` (`settingsOf`): `{ body, cacheControl }`, or a
 * rejection whose message is the reason.
 */
async function get(url, options, fetchFn) {
  const seconds = options.timeoutSeconds;
  const f = fetchFn ?? globalThis.fetch;
  if (typeof f !== "function") throw new Fault("this runtime has no fetch; pass options.fetch");
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, seconds * 1000);
  try {
    let here = url;
    for (let hop = 0; ; hop++) {
      let res = await f(here, { redirect: "manual", signal: controller.signal, headers: { accept: "application/json" } });
      if (res.type === "opaqueredirect") {
        // A browser hides a manual redirect's target, so let it follow
        // (its own limit, CORS on every hop) and check where it ended.
        res = await f(here, { redirect: "follow", signal: controller.signal, headers: { accept: "application/json" } });
        if (res.redirected || (res.url && res.url !== here)) invoke(() => raw.RawKeySet.check_redirect(here, res.url));
      }
      if (REDIRECTS.has(res.status)) {
        discard(res);
        if (hop >= MAX_REDIRECTS) throw new Fault(`more than ${MAX_REDIRECTS} redirects from ${url}`);
        const location = res.headers.get("location");
        if (!location) throw new Fault(`HTTP ${res.status} from ${here} without a Location`);
        let next;
        try {
          next = new URL(location, here).href;
        } catch {
          throw new Fault(`HTTP ${res.status} from ${here} to an unreadable Location`);
        }
        invoke(() => raw.RawKeySet.check_redirect(here, next));
        here = next;
        continue;
      }
      if (res.status !== 200) {
        discard(res);
        throw new Fault(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""} from ${here}`);
      }
      const bytes = await body(res, options.maxBytes);
      return { body: bytes, cacheControl: res.headers.get("cache-control") };
    }
  } catch (e) {
    throw new Fault(describe(e, timedOut, seconds));
  } finally {
    clearTimeout(timer);
  }
}

/** `now` as the core reads it: the clock when absent; milliseconds refused with a hint. */
function nowOf(now) {
  if (now !== undefined && now !== null && (typeof now !== "number" || !Number.isSafeInteger(now))) {
    throw invalid("now", `expected whole seconds since the epoch (a safe integer), got ${typeOf(now)} ${String(now)}`);
  }
  return invoke(() => raw.RawKeySet.now(now ?? undefined));
}

let rawOf;
let refreshOf;
/** Marks the internal constructor call of the static constructors. */
const MADE = Symbol("tessera.keyset");

/**
 * A JWKS parsed and checked once (SPEC §6.1.2); pass it wherever `verifyJwt`
 * takes a JWKS, and to a `Realm` as `options.jwks`, so rotated keys need no rebuild.
 */
export class KeySet {
  #raw;
  #fetch = null;
  /** The fetch under way, shared by every verification that needs it. */
  #inflight = null;

  static {
    rawOf = (k) => k.#raw;
    refreshOf = (k, now, token) => k.#refresh(now, token);
  }

  /** A given JWKS (object or JSON text), never fetched. */
  constructor(jwks, made) {
    if (Array.isArray(made) && made[0] === MADE) {
      this.#raw = made[1];
      this.#fetch = made[2];
      return;
    }
    const k = verbatim("jwks", jwks);
    this.#raw = invoke(() => new raw.RawKeySet(k));
  }

  /** A set fetched from `url` (https, or http to a loopback address) when first needed. */
  static fromUrl(url, options) {
    const u = at("url", () => string("url", url));
    const o = optionsOf(options);
    return new KeySet(undefined, [MADE, at("url", () => raw.RawKeySet.remote(u, o.values)), o.fetch]);
  }

  /**
   * A Cognito user pool's keys, from
   * `https://cognito-idp.{region}.amazonaws.com/{userPoolId}/.well-known/jwks.json`;
   * tokens of any other issuer are refused (`wrong_issuer`).
   */
  static cognito(region, userPoolId, options) {
    const r = at("region", () => string("region", region));
    const p = at("userPoolId", () => string("userPoolId", userPoolId));
    const o = optionsOf(options);
    let made;
    try {
      made = invoke(() => raw.RawKeySet.cognito(r, p, o.values));
    } catch (e) {
      if (!(e instanceof ArgumentError) || e.path !== undefined) throw e;
      throw invalid(/AWS region/.test(e.message) ? "region" : /user pool/.test(e.message) ? "userPoolId" : "options", e.message);
    }
    return new KeySet(undefined, [MADE, made, o.fetch]);
  }

  /**
   * An OpenID provider's keys: reads `{issuer}/.well-known/openid-configuration`
   * now (its `issuer` must equal `issuer`), then fetches its `jwks_uri` when
   * first needed. Rejects with `TokenError` `jwks_unavailable` if the document
   * cannot be read or names another issuer.
   */
  static async oidc(issuer, options) {
    const i = at("issuer", () => string("issuer", issuer));
    const o = optionsOf(options);
    const url = at("issuer", () => raw.RawKeySet.discovery_url(i));
    // The options checked by the core before anything is fetched.
    const probe = at("options", () => raw.RawKeySet.remote(url, o.values));
    const opts = settingsOf(probe);
    probe.free();
    let document;
    try {
      document = (await get(url, opts, o.fetch)).body;
    } catch (e) {
      throw new TokenError({ kind: "token", code: "jwks_unavailable", message: `cannot read ${url}: ${messageOf(e)}` });
    }
    return new KeySet(undefined, [MADE, at("jwks_uri", () => raw.RawKeySet.from_discovery(i, document, o.values)), o.fetch]);
  }

  /**
   * Fetches now if the set says a fetch is due at `now` (never for a given
   * JWKS); one fetch is shared with the verifications waiting for it. Never
   * rejects for a failed fetch: verification reports it (`jwks_unavailable`,
   * with the reason) once no good keys are left.
   */
  async refresh(now) {
    await this.#refresh(nowOf(now), null);
  }

  /** Whether a fetch is due at `now` (seconds; the clock when absent). */
  needsFetch(now) {
    const n = nowOf(now);
    return invoke(() => this.#raw.needs_fetch(n));
  }

  /** The URL fetched (null for a given JWKS). */
  get url() {
    return invoke(() => this.#raw.url()) ?? null;
  }

  /** The one issuer the set vouches for (Cognito, OIDC), or null. */
  get issuer() {
    return invoke(() => this.#raw.issuer()) ?? null;
  }

  /** Keys held now (0 before the first good fetch). */
  get size() {
    return invoke(() => this.#raw.len());
  }

  /** Fetches made so far, good or failed. */
  get attempts() {
    return invoke(() => this.#raw.attempts());
  }

  /** The fetch options in effect (`{timeoutSeconds, maxBytes, cacheSeconds, cooldownSeconds}`). */
  get options() {
    return settingsOf(this.#raw);
  }

  /** One fetch for everyone: `token` null asks whether one is due; else whether `token`'s kid needs one. */
  #refresh(now, token) {
    const r = this.#raw;
    const due = invoke(() => (token === null ? r.needs_fetch(now) : r.refetch_for(token, now)));
    if (!due) return Promise.resolve();
    if (this.#inflight) return this.#inflight;
    const url = invoke(() => r.url());
    if (!url) return Promise.resolve();
    const opts = settingsOf(r);
    this.#inflight = (async () => {
      let got;
      try {
        got = await get(url, opts, this.#fetch);
      } catch (e) {
        invoke(() => r.failed(messageOf(e), now));
        return;
      }
      try {
        invoke(() => r.apply(got.body, got.cacheControl ?? undefined, now));
      } catch (e) {
        // Recorded by the core with its reason; a trap is not.
        if (!(e instanceof TokenError)) throw e;
      }
    })().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }
}

guardClass(KeySet);
for (const name of ["fromUrl", "cognito", "oidc"]) {
  const f = KeySet[name];
  const convert = (e) => (e instanceof TesseraError ? e : invalid(name, messageOf(e)));
  KeySet[name] = function (...args) {
    try {
      const r = f.apply(KeySet, args);
      return r instanceof Promise ? r.catch((e) => Promise.reject(convert(e))) : r;
    } catch (e) {
      throw convert(e);
    }
  };
}

/**
 * A verification with a key set that may fetch: a fetch the set says is due
 * first, then `once()`; an unknown `kid` refetches once per cooldown and tries again.
 */
export async function withFetch(keys, token, now, once) {
  const n = nowOf(now);
  await refreshOf(keys, n, null);
  try {
    return await once();
  } catch (e) {
    if (!(e instanceof TokenError && e.code === "unknown_key")) throw e;
    const r = rawOf(keys);
    if (!invoke(() => r.refetch_for(token, n))) throw e;
    await refreshOf(keys, n, token);
    return await once();
  }
}

/**
 * A verification with a key set that never fetches (`verifyJwtSync`,
 * `realm.authenticate`): a set that needs a fetch it cannot do says so.
 */
export function withoutFetch(keys, token, now, once, asyncName) {
  try {
    return once();
  } catch (e) {
    if (!(e instanceof TokenError) || (e.code !== "jwks_unavailable" && e.code !== "unknown_key")) throw e;
    let due = false;
    try {
      const n = nowOf(now);
      const r = rawOf(keys);
      due = e.code === "jwks_unavailable" ? r.needs_fetch(n) : token !== null && r.refetch_for(token, n);
    } catch {
      throw e;
    }
    if (!due) throw e;
    const what = e.code === "jwks_unavailable" ? "a fetch is due" : "the set may have rotated (a refetch is due)";
    throw errorOf({
      kind: "token",
      code: e.code,
      message: `${e.message}; ${what}, and this call never fetches: use ${asyncName}, or await keySet.refresh() first`,
    });
  }
}

export { rawOf };
