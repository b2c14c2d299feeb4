// The fast path: `PreparedPrincipal.isAllowed` and `Engine.authorizeBatch`.
// No objects are converted: strings are written straight into WebAssembly
// memory and only lengths cross. `isAllowed` asks the core once per action and
// type for its packed answers (`RawPrepared::answers`, the contract next to
// `Answers::pick` in the core) and answers from them after that, until its
// engine's policy changes.
import * as raw from "./tessera_wasm.js";
import { INTERNAL, argumentError, broken, caught, guardClass, internalError, invoke } from "./errors.mjs";
import { input, loneSurrogate, output, string, typeOf, wellFormed } from "./convert.mjs";

const CACHED = Symbol("tessera.cached");

// ------------------------------------------------ the scratch buffer

// A view of the module's memory and the buffer the Rust side reads the action
// and type of a cache miss from (see `RawPrepared::answers`). The view is made
// again after the memory grows (the old one is detached and reads as empty).
let memory = new Uint8Array(0);
let scratch = 0;
let scratchEnd = 0;
const ABSENT = 0xffffffff;
const encoder = new TextEncoder();

// The module's memory as 32-bit words, to read an engine's generation
// (`Engine::generation`, a u64) in place: it moves when that engine's policy
// is replaced, which is when its prepared principals' answers go stale.
// Other engines loading leave it alone.
let words = new Uint32Array(0);
/** Where the process-wide counter (`tessera::engine::generations`) is, as a word index. */
let everyEngine = 0;

function attachScratch() {
  const buffer = raw.wasm_memory().buffer;
  memory = new Uint8Array(buffer);
  words = new Uint32Array(buffer);
  scratch = raw.scratch_ptr();
  scratchEnd = scratch + raw.scratch_len();
  everyEngine = raw.generations_ptr() >>> 2;
}

/**
 * The core's generation counter as one number, read in place: it moves
 * whenever any policy is loaded, so caches of the core's answers (here and
 * the verified-token cache, tokens.mjs) compare it before answering.
 */
export function policyGeneration() {
  if (memory.byteLength === 0) attachScratch();
  return words[everyEngine] + words[everyEngine + 1] * 4294967296;
}

/**
 * `put` for the other writers of the scratch buffer (flat.mjs): the view is
 * attached first when the memory has moved.
 */
export function putScratch(s, at) {
  if (memory.byteLength === 0) attachScratch();
  return put(s, at);
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
  return internalError("tessera: batch buffer overflow");
}

// ------------------------------------------------ prepared principals

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
  /** Where the engine's generation is (a word index), and its value when `#answers` was started. */
  #gen;
  #lo = -1;
  #hi = -1;

  constructor(token, handle) {
    if (token !== INTERNAL) throw argumentError("PreparedPrincipal: use engine.prepare(principal)");
    this.#raw = handle;
    this.#me = handle.principal_id();
    this.#gen = handle.generation_ptr() >>> 2;
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
    // A lone surrogate would reach the core as U+FFFD: refused, as everywhere.
    if (!wellFormed(action)) throw loneSurrogate("action");
    if (!wellFormed(type)) throw loneSurrogate("type");
    if (id !== undefined && !wellFormed(id)) throw loneSurrogate("id");
    if (owner !== undefined && !wellFormed(owner)) throw loneSurrogate("owner");
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
    // kept until this principal's engine loads a policy; no call into the module.
    const g = this.#gen;
    if (words[g] !== this.#lo || words[g + 1] !== this.#hi) {
      this.#answers = new Map();
      this.#kept = 0;
      this.#lo = words[g];
      this.#hi = words[g + 1];
    }
    let byType = this.#answers.get(action);
    let entry = byType === undefined ? undefined : byType.get(type);
    if (entry === undefined) {
      const a = put(action, 0);
      const t = a < 0 ? -1 : put(type, a);
      if (t < 0) return -1;
      const packed = p.answers(a, t - a);
      if (packed === undefined) {
        throw internalError("tessera: scratch buffer mismatch");
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

guardClass(PreparedPrincipal);

// ------------------------------------------------ batches

/**
 * `engine.authorizeBatch(prepared, requests)`; `live()` gives the engine's
 * raw handle (or throws if it was freed), asked for after the arguments are
 * checked.
 */
export function authorizeBatch(live, prepared, requests) {
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
    if (!wellFormed(a)) throw loneSurrogate(`requests[${i}][0]`);
    if (!wellFormed(t)) throw loneSurrogate(`requests[${i}][1]`);
    cap += a.length + t.length;
    if (typeof id === "string") {
      if (!wellFormed(id)) throw loneSurrogate(`requests[${i}][2]`);
      cap += id.length;
    } else if (id !== undefined && id !== null) throw batchError(i, 2, id);
    if (typeof o === "string") {
      if (!wellFormed(o)) throw loneSurrogate(`requests[${i}][3]`);
      cap += o.length;
    } else if (o !== undefined && o !== null) throw batchError(i, 3, o);
    flat[i * 4] = a;
    flat[i * 4 + 1] = t;
    flat[i * 4 + 2] = id;
    flat[i * 4 + 3] = o;
  }
  const e = live();
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
    throw internalError("tessera: batch answer mismatch");
  }
  for (let k = 0; k < ask.length; k++) out[ask[k]] = bytes[k] === 1;
  return out;
}
