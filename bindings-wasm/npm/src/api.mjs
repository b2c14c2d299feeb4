// The public API of `tessera-policy`: a thin layer over the raw wasm-bindgen
// exports of the `tessera-wasm` crate. It converts, and decides nothing:
//
// - values cross into WebAssembly as JSON text and come back as JSON text,
//   except on the fast path (`isAllowed`, `authorizeBatch`), where strings are
//   written straight into WebAssembly memory and only lengths cross;
// - object keys are camelCase here and snake_case in the core, converted
//   generically in both directions, except inside the policy document, JWKS,
//   JWKs and raw JWT `claims`, which stay exactly as written;
// - every failure is thrown as a `TesseraError` (a subclass per kind).
//
// The entry modules (node.cjs / node.mjs / browser.mjs) instantiate the
// WebAssembly module before anything here is called.
//
// Lines between `// #if tokens` and `// #endif` are the token and realm API:
// scripts/assemble.mjs drops them from the decisions-only build
// (`tessera-policy/core`, over `tessera_core.wasm`).
import * as raw from "./tessera_wasm.js";

// ---------------------------------------------------------------- errors

/** Every error this package throws. `code` is stable (see SPEC). */
export class TesseraError extends Error {
  constructor(info) {
    const i = info && typeof info === "object" ? info : {};
    super(typeof i.message === "string" ? i.message : String(i.code ?? "error"));
    this.name = new.target.name;
    this.kind = typeof i.kind === "string" ? i.kind : "internal";
    this.code = typeof i.code === "string" ? i.code : "internal";
    if (typeof i.path === "string") this.path = i.path;
    if (typeof i.offset === "number") this.offset = i.offset;
    this.problems = Array.isArray(i.problems) ? i.problems : [];
  }
}
/** A permission label did not parse. */
export class LabelError extends TesseraError {}
/** A policy document did not load; see `problems`. */
export class PolicyError extends TesseraError {}
/** A credential was refused. */
export class TokenError extends TesseraError {}
/** An argument had the wrong type or shape (`invalid_argument`). */
export class ArgumentError extends TesseraError {}
/** A realm operation was refused. */
export class RealmError extends TesseraError {}
/** The engine itself failed (a bug); the module refuses further calls. */
export class InternalError extends TesseraError {}

const KINDS = {
  label: LabelError,
  policy: PolicyError,
  token: TokenError,
  argument: ArgumentError,
  realm: RealmError,
  internal: InternalError,
};

function errorOf(info) {
  const Class = KINDS[info && info.kind] || TesseraError;
  return new Class(info);
}

function argumentError(message) {
  return new ArgumentError({ kind: "argument", code: "invalid_argument", message });
}

// Set when the module trapped; from then on every call fails closed.
let broken = null;

/** Runs a raw call; whatever it throws leaves as a TesseraError. */
function invoke(f) {
  if (broken) throw broken;
  try {
    return f();
  } catch (e) {
    throw caught(e);
  }
}

function caught(e) {
  if (e instanceof TesseraError) return e;
  if (typeof e === "string") {
    // The core's error, serialised by the binding.
    let info;
    try {
      info = JSON.parse(e);
    } catch {
      info = { kind: "internal", code: "internal", message: e };
    }
    return errorOf(info);
  }
  if (e instanceof WebAssembly.RuntimeError) {
    let detail = "";
    try {
      detail = raw.take_panic();
    } catch {
      // The module may be past answering.
    }
    broken = new InternalError({
      kind: "internal",
      code: "internal",
      message: `tessera: the WebAssembly module trapped${detail ? ` (${detail})` : ""} (${e.message}); reload it`,
    });
    return broken;
  }
  return new InternalError({ kind: "internal", code: "internal", message: messageOf(e) });
}

// ----------------------------------------------------------- conversions

// Keys whose values are data written by someone else and never renamed.
const VERBATIM = new Set(["claims", "jwks"]);

function isPlain(v) {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A message from anything thrown, even by hostile objects. */
function messageOf(e) {
  try {
    return String(e && typeof e === "object" && "message" in e ? e.message : e);
  } catch {
    return "unprintable error";
  }
}

/**
 * `value` with every object key renamed (except inside VERBATIM keys). Copy on
 * write: a value with nothing to rename is returned as is, which is the usual
 * case (principals are mostly `{id, roles}`, decisions are one-word keys).
 */
function renameKeys(value, rename) {
  if (Array.isArray(value)) {
    let out = value;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const w = renameKeys(v, rename);
      if (w !== v) {
        if (out === value) out = value.slice();
        out[i] = w;
      }
    }
    return out;
  }
  if (!isPlain(value)) return value;
  const keys = Object.keys(value);
  let out = null;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const v = value[key];
    const k = rename(key);
    const w = VERBATIM.has(key) ? v : renameKeys(v, rename);
    if (out === null && (k !== key || w !== v)) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = value[keys[j]];
    }
    if (out !== null) out[k] = w;
  }
  return out === null ? value : out;
}

// Key conversions, remembered (API objects use a handful of keys).
const snakeKeys = new Map();
const camelKeys = new Map();
function remembered(cache, key, convert) {
  let k = cache.get(key);
  if (k === undefined) {
    k = convert(key);
    if (cache.size < 1024) cache.set(key, k);
  }
  return k;
}
const toSnake = (key) => remembered(snakeKeys, key, (k) => k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()));
const toCamel = (key) => remembered(camelKeys, key, (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()));

/** JSON text of a value, or an ArgumentError naming `what`. */
function json(what, value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw argumentError(`${what}: cannot be converted to JSON (${messageOf(e)})`);
  }
  if (typeof text !== "string") throw argumentError(`${what}: expected a JSON value, got ${typeOf(value)}`);
  return text;
}

/** An API object (camelCase keys) as JSON text with the core's snake_case keys. */
function input(what, value) {
  let converted;
  try {
    converted = renameKeys(value, toSnake);
  } catch (e) {
    throw argumentError(`${what}: ${messageOf(e)}`);
  }
  return json(what, converted);
}

/** A document taken verbatim: JSON text as given, or any other value serialised. */
function verbatim(what, value) {
  if (typeof value === "string") return value;
  if (value === undefined) throw argumentError(`${what}: expected an object or JSON text, got undefined`);
  return json(what, value);
}

/** The core's JSON answer, with camelCase keys. */
function output(text) {
  return renameKeys(JSON.parse(text), toCamel);
}

function typeOf(v) {
  try {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
  } catch {
    return typeof v;
  }
}

function string(what, v) {
  if (typeof v !== "string") throw argumentError(`${what}: expected a string, got ${typeOf(v)}`);
  return v;
}

function optionalObject(what, v) {
  if (v === undefined || v === null) return "null";
  if (!isPlain(v)) throw argumentError(`${what}: expected an object, got ${typeOf(v)}`);
  return input(what, v);
}

/** `now`: undefined (read the clock) or whole seconds since the epoch. */
function seconds(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw argumentError(`now: expected whole seconds since the epoch (a safe integer), got ${typeOf(v)} ${String(v)}`);
  }
  return v;
}

function stringArray(what, v) {
  if (!Array.isArray(v)) throw argumentError(`${what}: expected an array of strings, got ${typeOf(v)}`);
  v.forEach((s, i) => string(`${what}[${i}]`, s));
  return v;
}

// ------------------------------------------------------------ the engine

const INTERNAL = Symbol("tessera.internal");
const CACHED = Symbol("tessera.cached");

// ------------------------------------------------ the fast path's scratch buffer

// A view of the module's memory and the buffer the Rust side reads the action
// and type of a cache miss from (see `RawPrepared::answers`). The view is made
// again after the memory grows (the old one is detached and reads as empty).
let memory = new Uint8Array(0);
let scratch = 0;
let scratchEnd = 0;
const ABSENT = 0xffffffff;
const encoder = new TextEncoder();

// The core's generation counter (`tessera::engine::generations`), read in
// place: it moves whenever any engine is created or its policy replaced,
// which is when the prepared principals' caches of answers go stale.
let generations = new Uint32Array(2);

function attachScratch() {
  const buffer = raw.wasm_memory().buffer;
  memory = new Uint8Array(buffer);
  scratch = raw.scratch_ptr();
  scratchEnd = scratch + raw.scratch_len();
  generations = new Uint32Array(buffer, raw.generations_ptr(), 2);
}

/** Writes `s` as UTF-8 at byte `at` of the scratch buffer; the end, or -1 if it does not fit. */
function put(s, at) {
  const start = scratch + at;
  if (start + s.length > scratchEnd) return -1;
  const n = writeUtf8(s, start, scratchEnd);
  return n < 0 ? -1 : at + n;
}

/** Writes `s` as UTF-8 at address `start` of the module's memory, before `end`; the bytes written, or -1. */
function writeUtf8(s, start, end) {
  const n = s.length;
  // UTF-8 takes at least one byte per UTF-16 unit: what cannot fit is refused
  // before a byte is written (past `end` lies the module's own data).
  if (start + n > end) return -1;
  const m = memory;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c > 0x7f) {
      const r = encoder.encodeInto(s.slice(k), m.subarray(start + k, end));
      return r.read === n - k ? k + r.written : -1;
    }
    m[start + k] = c;
  }
  return n;
}

function batchError(i, k, v) {
  const what = ["action", "type", "id", "owner"][k];
  return argumentError(`requests[${i}][${k}] (${what}): expected a string, got ${typeOf(v)}`);
}

function overflow() {
  return new InternalError({ kind: "internal", code: "internal", message: "tessera: batch buffer overflow" });
}

/** Parses a permission label with the default actions and subjects. */
function parseLabel(text) {
  const t = string("text", text);
  return output(invoke(() => raw.parse_label(t)));
}

// #if tokens
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

// #endif
/** A loaded, compiled policy and every decision and token check made with it. */
export class Engine {
  #raw;

  /** @param policy a policy document: a JS object or JSON text. */
  constructor(policy, handle) {
    if (policy === INTERNAL) {
      // The engine a realm owns (`realm.engine`), shared.
      this.#raw = handle;
      return;
    }
    let text;
    try {
      text = verbatim("policy", policy);
    } catch (e) {
      throw e instanceof TesseraError ? e : argumentError(`policy: ${messageOf(e)}`);
    }
    this.#raw = invoke(() => new raw.RawEngine(text));
  }

  #live() {
    if (!this.#raw) throw argumentError("this Engine was freed");
    return this.#raw;
  }

  /** Replaces the policy atomically; on error the old one stays in force. */
  load(policy) {
    const text = verbatim("policy", policy);
    const e = this.#live();
    invoke(() => e.load(text));
  }

  /** Parses a label against this policy's actions and subjects. */
  parseLabel(text) {
    const t = string("text", text);
    const e = this.#live();
    return output(invoke(() => e.parse_label(t)));
  }

  authorize(principal, action, resource) {
    const p = input("principal", principal);
    const a = string("action", action);
    const r = input("resource", resource);
    const e = this.#live();
    return output(invoke(() => e.authorize(p, a, r)));
  }

  explain(principal, action, resource) {
    const p = input("principal", principal);
    const a = string("action", action);
    const r = input("resource", resource);
    const e = this.#live();
    return output(invoke(() => e.explain(p, a, r)));
  }

  capabilities(principal, resource) {
    const p = input("principal", principal);
    const r = input("resource", resource);
    const e = this.#live();
    return output(invoke(() => e.capabilities(p, r)));
  }

  /** `principal` may be null (an anonymous caller). */
  authorizeOperation(principal, operation, context) {
    const p = principal === null || principal === undefined ? "null" : input("principal", principal);
    const o = string("operation", operation);
    const c = optionalObject("context", context);
    const e = this.#live();
    return output(invoke(() => e.authorize_operation(p, o, c)));
  }

  /** Resolves a principal once; its checks then convert no objects. */
  prepare(principal) {
    const p = input("principal", principal);
    const e = this.#live();
    return new PreparedPrincipal(
      INTERNAL,
      invoke(() => e.prepare(p)),
    );
  }

  /**
   * Many fast checks in one call: `requests` is an array of
   * `[action, type, id?, owner?]` (the arguments of `isAllowed`); the answer
   * has one boolean per request. No objects are converted: the strings are
   * written straight into WebAssembly memory, each repeated action and type once.
   */
  authorizeBatch(prepared, requests) {
    if (!(prepared instanceof PreparedPrincipal)) {
      throw argumentError(`prepared: expected a PreparedPrincipal from engine.prepare(), got ${typeOf(prepared)}`);
    }
    if (!Array.isArray(requests)) throw argumentError(`requests: expected an array, got ${typeOf(requests)}`);
    const n = requests.length;
    // First pass: check every request, copy its strings out (so that what is
    // measured is what gets written) and bound their UTF-8 size.
    const flat = new Array(n * 4);
    let cap = 0;
    for (let i = 0; i < n; i++) {
      const r = requests[i];
      if (!Array.isArray(r) || r.length < 2 || r.length > 4) {
        throw argumentError(`requests[${i}]: expected [action, type, id?, owner?], got ${typeOf(r)}`);
      }
      const a = r[0];
      const t = r[1];
      const id = r[2];
      const o = r[3];
      if (typeof a !== "string") throw batchError(i, 0, a);
      if (typeof t !== "string") throw batchError(i, 1, t);
      cap += a.length + t.length;
      if (typeof id === "string") cap += id.length;
      else if (id !== undefined && id !== null) throw batchError(i, 2, id);
      if (typeof o === "string") cap += o.length;
      else if (o !== undefined && o !== null) throw batchError(i, 3, o);
      flat[i * 4] = a;
      flat[i * 4 + 1] = t;
      flat[i * 4 + 2] = id;
      flat[i * 4 + 3] = o;
    }
    const e = this.#live();
    const p = prepared[INTERNAL]();
    if (broken) throw broken;
    // Answer what the prepared principal's cache can; the rest (strings too
    // long for the scratch buffer) go to the core in one call. A principal
    // prepared by another engine is decided by this one, so its cache does
    // not apply.
    const out = new Array(n);
    const ask = [];
    try {
      const here = e.prepared_here(p);
      for (let i = 0; i < n; i++) {
        if (!here) {
          ask.push(i);
          continue;
        }
        const r = prepared[CACHED](flat[i * 4], flat[i * 4 + 1], flat[i * 4 + 2] ?? undefined, flat[i * 4 + 3] ?? undefined);
        if (r >= 0) out[i] = r === 1;
        else ask.push(i);
      }
    } catch (err) {
      throw caught(err);
    }
    if (ask.length === 0) return out;
    cap *= 3;
    // Second pass: write the strings into the module's batch buffer (each
    // action and type once while it repeats) and note where each one is.
    let start;
    try {
      start = raw.batch_buffer(cap);
    } catch (err) {
      throw caught(err);
    }
    if (memory.byteLength === 0) attachScratch(); // the memory may have grown
    const spans = new Uint32Array(ask.length * 8);
    const end = start + cap;
    let at = start;
    let lastA;
    let lastT;
    for (let k = 0, j = 0; k < ask.length; k++, j += 8) {
      const i = ask[k];
      const a = flat[i * 4];
      if (a !== lastA) {
        const w = writeUtf8(a, at, end);
        if (w < 0) throw overflow();
        lastA = a;
        spans[j] = at - start;
        spans[j + 1] = w;
        at += w;
      } else {
        spans[j] = spans[j - 8];
        spans[j + 1] = spans[j - 7];
      }
      const t = flat[i * 4 + 1];
      if (t !== lastT) {
        const w = writeUtf8(t, at, end);
        if (w < 0) throw overflow();
        lastT = t;
        spans[j + 2] = at - start;
        spans[j + 3] = w;
        at += w;
      } else {
        spans[j + 2] = spans[j - 6];
        spans[j + 3] = spans[j - 5];
      }
      const id = flat[i * 4 + 2];
      if (typeof id === "string") {
        const w = writeUtf8(id, at, end);
        if (w < 0) throw overflow();
        spans[j + 4] = at - start;
        spans[j + 5] = w;
        at += w;
      } else spans[j + 5] = ABSENT;
      const o = flat[i * 4 + 3];
      if (typeof o === "string") {
        const w = writeUtf8(o, at, end);
        if (w < 0) throw overflow();
        spans[j + 6] = at - start;
        spans[j + 7] = w;
        at += w;
      } else spans[j + 7] = ABSENT;
    }
    const used = at - start;
    const bytes = invoke(() => e.authorize_batch(p, used, spans));
    if (bytes.length !== ask.length) {
      throw new InternalError({ kind: "internal", code: "internal", message: "tessera: batch answer mismatch" });
    }
    for (let k = 0; k < ask.length; k++) out[ask[k]] = bytes[k] === 1;
    return out;
  }

// #if tokens
  // ------------------------------------------------------------ tokens

  /** Verifies a provider JWT against a JWKS (object or JSON text); returns its principal. */
  verifyJwt(token, jwks, now) {
    const t = string("token", token);
    const k = verbatim("jwks", jwks);
    const n = seconds(now);
    const e = this.#live();
    return output(invoke(() => e.verify_jwt(t, k, n)));
  }

  /** Issues a session token for `principal`, signed with `key` (a JWK: object or JSON text). */
  issueSession(principal, key, now, options) {
    const p = input("principal", principal);
    const k = verbatim("key", key);
    const n = seconds(now);
    const o = optionalObject("options", options);
    const e = this.#live();
    return output(invoke(() => e.issue_session(p, k, n, o)));
  }

  /** A fresh token for the same session, or `session_ended` past its ceiling. */
  renewSession(token, key, now, revocations) {
    const t = string("token", token);
    const k = verbatim("key", key);
    const n = seconds(now);
    const r = optionalObject("revocations", revocations);
    const e = this.#live();
    return output(invoke(() => e.renew_session(t, k, n, r)));
  }

  /** Verifies a session token; returns its principal (`credential: "session"`). */
  verifySession(token, key, now, revocations) {
    const t = string("token", token);
    const k = verbatim("key", key);
    const n = seconds(now);
    const r = optionalObject("revocations", revocations);
    const e = this.#live();
    return output(invoke(() => e.verify_session(t, k, n, r)));
  }

  /** A new API token: `{secret, record}`; show the secret once, store the record. */
  createApiToken(owner, roles, now, options) {
    const w = string("owner", owner);
    const r = json("roles", stringArray("roles", roles));
    const n = seconds(now);
    const o = optionalObject("options", options);
    const e = this.#live();
    return output(invoke(() => e.create_api_token(w, r, n, o)));
  }

  /** Verifies an API token secret against stored records; returns its principal. */
  verifyApiToken(secret, records, now) {
    const s = string("secret", secret);
    if (!Array.isArray(records)) throw argumentError(`records: expected an array of records, got ${typeOf(records)}`);
    const r = input("records", records);
    const n = seconds(now);
    const e = this.#live();
    return output(invoke(() => e.verify_api_token(s, r, n)));
  }

  /** Makes a new token with the same owner, roles, limits and lifespan: `[created, oldRevoked]`. */
  replaceApiToken(record, now) {
    const r = input("record", record);
    const n = seconds(now);
    const e = this.#live();
    return output(invoke(() => e.replace_api_token(r, n)));
  }

// #endif
  /** Releases the WebAssembly memory now instead of at garbage collection. */
  free() {
    const e = this.#raw;
    this.#raw = null;
    if (e) e.free();
  }
}

/** Answers kept per prepared principal before the cache starts over. */
const ANSWERS_KEPT = 4096;

/** A principal resolved once against an engine's policy: the fast path. */
export class PreparedPrincipal {
  #raw;
  /** The principal's id (what it owns), from the core; undefined if none. */
  #me;
  /**
   * action → type → the core's answers (`RawPrepared::answers`): a number
   * whose bit 0 answers for a type-level resource, bit 1 for one the
   * principal owns, bit 2 for any other; or, when rules name ids, an object
   * `{ bits, byId }` whose map gives the bits for those ids.
   */
  #answers = new Map();
  #kept = 0;
  /** The generations counter when `#answers` was started. */
  #lo = -1;
  #hi = -1;

  constructor(token, handle) {
    if (token !== INTERNAL) throw argumentError("PreparedPrincipal: use engine.prepare(principal)");
    this.#raw = handle;
    this.#me = handle.principal_id();
  }

  [INTERNAL]() {
    if (!this.#raw) throw argumentError("this PreparedPrincipal was freed");
    return this.#raw;
  }

  /**
   * The hot check: may this principal do `action` on a resource of `type`
   * (optionally with `id` and `owner`)? Strings in, a boolean out.
   */
  isAllowed(action, type, id, owner) {
    if (broken) throw broken;
    if (typeof action !== "string") throw argumentError(`action: expected a string, got ${typeOf(action)}`);
    if (typeof type !== "string") throw argumentError(`type: expected a string, got ${typeOf(type)}`);
    if (id === null) id = undefined;
    else if (id !== undefined && typeof id !== "string") throw argumentError(`id: expected a string, got ${typeOf(id)}`);
    if (owner === null) owner = undefined;
    else if (owner !== undefined && typeof owner !== "string") {
      throw argumentError(`owner: expected a string, got ${typeOf(owner)}`);
    }
    const p = this.#raw;
    if (!p) throw argumentError("this PreparedPrincipal was freed");
    try {
      const r = this.#cached(p, action, type, id, owner);
      // Strings too long for the scratch buffer go the ordinary way.
      return r >= 0 ? r === 1 : p.is_allowed(action, type, id, owner);
    } catch (e) {
      throw caught(e);
    }
  }

  /**
   * The answer from the core's answers for this action and type (1 or 0),
   * or -1 when the strings do not fit the scratch buffer (the core is then
   * asked directly). Arguments are already checked; absent is undefined.
   */
  #cached(p, action, type, id, owner) {
    if (memory.byteLength === 0) attachScratch();
    // Checks are answered from the core's answers for this action and type,
    // kept until any policy changes; no call into the module.
    if (generations[0] !== this.#lo || generations[1] !== this.#hi) {
      this.#answers = new Map();
      this.#kept = 0;
      this.#lo = generations[0];
      this.#hi = generations[1];
    }
    let byType = this.#answers.get(action);
    let entry = byType === undefined ? undefined : byType.get(type);
    if (entry === undefined) {
      const a = put(action, 0);
      const t = a < 0 ? -1 : put(type, a);
      if (t < 0) return -1;
      const packed = p.answers(a, t - a);
      if (packed === undefined) {
        throw new InternalError({ kind: "internal", code: "internal", message: "tessera: scratch buffer mismatch" });
      }
      const [bits, ...named] = JSON.parse(packed);
      entry = named.length === 0 ? bits : { bits, byId: new Map(named) };
      if (this.#kept >= ANSWERS_KEPT) {
        this.#answers = new Map();
        this.#kept = 0;
        byType = undefined;
      }
      if (byType === undefined) this.#answers.set(action, (byType = new Map()));
      byType.set(type, entry);
      this.#kept += 1 + named.length;
    }
    // The core's answers depend on the resource only through these facts
    // (see `Answers::pick`).
    if (id === undefined && owner === undefined) return typeof entry === "number" ? entry & 1 : entry.bits & 1;
    let bits = entry;
    if (typeof entry !== "number") {
      bits = id === undefined ? undefined : entry.byId.get(id);
      if (bits === undefined) bits = entry.bits;
    }
    if (owner !== undefined && owner === this.#me) return (bits >> 1) & 1;
    return (bits >> 2) & 1;
  }

  /** `#cached` for `engine.authorizeBatch`, which checked the arguments. */
  [CACHED](action, type, id, owner) {
    return this.#cached(this[INTERNAL](), action, type, id, owner);
  }

  /** The full decision for `action` on `resource`. */
  authorize(action, resource) {
    const a = string("action", action);
    const r = input("resource", resource);
    const p = this[INTERNAL]();
    return output(invoke(() => p.authorize(a, r)));
  }

  /** The principal this was prepared from. */
  get principal() {
    const p = this[INTERNAL]();
    return output(invoke(() => p.principal()));
  }

  /** The effective roles, breadth-first from the principal's own. */
  get effectiveRoles() {
    const p = this[INTERNAL]();
    return output(invoke(() => p.effective_roles()));
  }

  free() {
    const p = this.#raw;
    this.#raw = null;
    if (p) p.free();
  }
}

// #if tokens
// ------------------------------------------------------------ the realm

/** `actor`: a principal object, or null for an anonymous caller. */
function actorOf(v) {
  if (v === null) return "null";
  if (!isPlain(v)) throw argumentError(`actor: expected a principal object or null, got ${typeOf(v)}`);
  return input("actor", v);
}

/** An optional string: undefined and null are absent. */
function optionalString(what, v) {
  return v === undefined || v === null ? undefined : string(what, v);
}

/** Users, password hashes, API token records and live sessions (SPEC §7). */
export class Realm {
  #raw;
  #engine = null;

  /**
   * @param policy a policy document (object or JSON text)
   * @param key the JWK sessions are signed with (object or JSON text)
   * @param options `{argon2?: {memoryKib?, iterations?, parallelism?}, jwks?}`
   */
  constructor(policy, key, options) {
    if (policy === INTERNAL) {
      this.#raw = key;
      return;
    }
    try {
      this.#raw = Realm.#make(policy, key, options, undefined);
    } catch (e) {
      throw e instanceof TesseraError ? e : argumentError(`Realm: ${messageOf(e)}`);
    }
  }

  static #make(policy, key, options, snapshot) {
    const p = verbatim("policy", policy);
    const k = verbatim("key", key);
    const o = optionalObject("options", options);
    const s = snapshot === undefined ? undefined : verbatim("snapshot", snapshot);
    return invoke(() => new raw.RawRealm(p, k, o, s));
  }

  /** The realm a `snapshot()` describes (object or JSON text, as `snapshot()` gave it). */
  static restore(policy, snapshot, key, options) {
    if (snapshot === undefined || snapshot === null) {
      throw argumentError(`snapshot: expected a snapshot object or JSON text, got ${typeOf(snapshot)}`);
    }
    return new Realm(INTERNAL, Realm.#make(policy, key, options, snapshot));
  }

  #live() {
    if (!this.#raw) throw argumentError("this Realm was freed");
    return this.#raw;
  }

  /** Everything the realm holds, verbatim (snake_case): keep it as secret as a password database. */
  snapshot() {
    const r = this.#live();
    return JSON.parse(invoke(() => r.snapshot()));
  }

  /** The realm's engine, shared: `load` on it changes the realm's rules. */
  get engine() {
    if (this.#engine === null) {
      const r = this.#live();
      this.#engine = new Engine(INTERNAL, invoke(() => r.engine()));
    }
    return this.#engine;
  }

  createUser(actor, username, password, options, now) {
    const a = actorOf(actor);
    const u = string("username", username);
    const p = optionalString("password", password);
    const o = optionalObject("options", options);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.create_user(a, u, p, o, n)));
  }

  getUser(actor, userId) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    const r = this.#live();
    return output(invoke(() => r.get_user(a, u)));
  }

  listUsers(actor) {
    const a = actorOf(actor);
    const r = this.#live();
    return output(invoke(() => r.list_users(a)));
  }

  setRoles(actor, userId, roles) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    const l = json("roles", stringArray("roles", roles));
    const r = this.#live();
    return output(invoke(() => r.set_roles(a, u, l)));
  }

  /** `password` a string, or null to remove it (the user can then not log in). */
  setPassword(actor, userId, password) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    if (password === undefined) throw argumentError("password: expected a string or null, got undefined");
    const p = password === null ? undefined : string("password", password);
    const r = this.#live();
    invoke(() => r.set_password(a, u, p));
  }

  deleteUser(actor, userId) {
    const a = actorOf(actor);
    const u = string("userId", userId);
    const r = this.#live();
    invoke(() => r.delete_user(a, u));
  }

  login(username, password, now) {
    const u = string("username", username);
    const p = string("password", password);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.login(u, p, n)));
  }

  /** `roles` null or undefined: the owner's roles. */
  createApiToken(actor, owner, roles, options, now) {
    const a = actorOf(actor);
    const w = string("owner", owner);
    const l = roles === undefined || roles === null ? "null" : json("roles", stringArray("roles", roles));
    const o = optionalObject("options", options);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.create_api_token(a, w, l, o, n)));
  }

  listApiTokens(actor, owner) {
    const a = actorOf(actor);
    const w = optionalString("owner", owner);
    const r = this.#live();
    return output(invoke(() => r.list_api_tokens(a, w)));
  }

  suspendApiToken(actor, tokenId) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const r = this.#live();
    return output(invoke(() => r.suspend_api_token(a, t)));
  }

  resumeApiToken(actor, tokenId) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const r = this.#live();
    return output(invoke(() => r.resume_api_token(a, t)));
  }

  revokeApiToken(actor, tokenId) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const r = this.#live();
    return output(invoke(() => r.revoke_api_token(a, t)));
  }

  replaceApiToken(actor, tokenId, now) {
    const a = actorOf(actor);
    const t = string("tokenId", tokenId);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.replace_api_token(a, t, n)));
  }

  openSession(apiTokenSecret, now) {
    const s = string("apiTokenSecret", apiTokenSecret);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.open_session(s, n)));
  }

  renew(token, now) {
    const t = string("token", token);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.renew(t, n)));
  }

  close(token, now) {
    const t = string("token", token);
    const n = seconds(now);
    const r = this.#live();
    invoke(() => r.close(t, n));
  }

  /** Ends every session, as after a power cycle. */
  restart() {
    const r = this.#live();
    invoke(() => r.restart());
  }

  /** The principal of an `Authorization` header value (or a bare token). */
  authenticate(header, now) {
    const h = string("header", header);
    const n = seconds(now);
    const r = this.#live();
    return output(invoke(() => r.authenticate(h, n)));
  }

  /** Releases the WebAssembly memory now (`realm.engine` stays usable). */
  free() {
    const r = this.#raw;
    this.#raw = null;
    if (r) r.free();
  }
}

// #endif
// Whatever JS throws while reading arguments (a hostile Proxy, a throwing
// getter or toJSON, a revoked object) leaves as an ArgumentError. `isAllowed`
// guards itself, to stay a single call on the hot path.
function guard(name, f) {
  return function (...args) {
    try {
      return f.apply(this, args);
    } catch (e) {
      throw e instanceof TesseraError ? e : argumentError(`${name}: ${messageOf(e)}`);
    }
  };
}

const CLASSES = [Engine, PreparedPrincipal];
// #if tokens
CLASSES.push(Realm);
// #endif
for (const Class of CLASSES) {
  const proto = Class.prototype;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === "constructor" || key === "isAllowed") continue;
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (typeof d.value === "function") d.value = guard(key, d.value);
    if (d.get) d.get = guard(key, d.get);
    Object.defineProperty(proto, key, d);
  }
}

// #if tokens
Realm.restore = guard("restore", Realm.restore);
// #endif

const guarded = (f) => guard(f.name, f);
const parseLabelGuarded = guarded(parseLabel);
export { parseLabelGuarded as parseLabel };
// #if tokens
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
// #endif

if (typeof Symbol.dispose === "symbol") {
  Engine.prototype[Symbol.dispose] = Engine.prototype.free;
  PreparedPrincipal.prototype[Symbol.dispose] = PreparedPrincipal.prototype.free;
// #if tokens
  Realm.prototype[Symbol.dispose] = Realm.prototype.free;
// #endif
}
