// Principals, resources and operation contexts of the common shape, passed to
// the server module without JSON (bindings-wasm/src/flat.rs has the order of
// the words). A value qualifies when it is a plain object whose keys are the
// type's own and whose values are strings, lists of strings (and for a
// principal a known `credential` and a safe-integer `expiresAt`); `null` and
// `undefined` stand for absent where JSON would read them so. Anything else
// (claims, another key, a lone surrogate, a getter that throws, too many
// strings for the buffers) returns FLAT_NO, and the caller converts it to
// JSON as before: its errors, with their paths, are JSON's.
import * as raw from "./tessera_wasm.js";
import { isPlain, wellFormed } from "./convert.mjs";
import { putScratch } from "./fastpath.mjs";

/** The answer of every writer here when a value does not qualify. */
export const FLAT_NO = Symbol("tessera.flat.no");

const ABSENT = 0xffffffff;
const CREDENTIALS = { jwt: 1, session: 2, api_token: 3 };
const PRINCIPAL_KEYS = new Set(["id", "roles", "groups", "permissions", "scopes", "limits", "credential", "expiresAt", "sessionId", "apiTokenId"]);
// A verified principal's keys: its raw `claims` are skipped, not converted.
const VERIFIED_KEYS = new Set([...PRINCIPAL_KEYS, "claims"]);
const RESOURCE_KEYS = new Set(["type", "id", "owner", "owners"]);
const CONTEXT_KEYS = new Set(["id", "owner", "owners"]);

// Views of the scratch buffer and the words, made again after the memory
// grows (the old views are then detached and have no bytes).
let bytes = new Uint8Array(0);
let words = new Uint32Array(0);
let used = 0;
let count = 0;

/** Whether the loaded module has the flat calls (the server module does). */
export const hasFlat = typeof raw.RawEngine.flat_words_ptr === "function";

function attach() {
  if (bytes.byteLength === 0) {
    const buffer = raw.wasm_memory().buffer;
    bytes = new Uint8Array(buffer, raw.scratch_ptr(), raw.scratch_len());
    words = new Uint32Array(buffer, raw.RawEngine.flat_words_ptr(), raw.RawEngine.flat_words_len());
  }
}

/** Starts a request: the buffers emptied (and attached when the memory moved). */
export function begin() {
  attach();
  used = 0;
  count = 0;
}

let reasonNames = null;
const decoder = new TextDecoder();

/**
 * The decision a flat call left in the buffers (`answer` in src/flat.rs),
 * or, when it answered text (a decision too large for them), that JSON.
 */
export function decision(text, fromJson) {
  if (text !== undefined) return fromJson(text);
  attach(); // the call may have grown the memory
  reasonNames ??= JSON.parse(raw.reasons());
  at = 0;
  const out = { allowed: words[0] === 1, reason: reasonNames[words[1]], rule: answered(words[2]), source: answered(words[3]) };
  const message = answered(words[4]);
  if (message !== null) out.message = message;
  return out;
}

// The next string of a decision in the scratch buffer (a module-level
// reader, not a closure per call).
let at = 0;
function answered(n) {
  if (n === ABSENT) return null;
  const s = ascii(at, n) ?? decoder.decode(bytes.subarray(at, at + n));
  at += n;
  return s;
}

// Short ASCII strings (labels, `role:NAME`) without a TextDecoder call; null otherwise.
function ascii(at, n) {
  if (n > 64) return null;
  let s = "";
  for (let i = at; i < at + n; i++) {
    const c = bytes[i];
    if (c > 0x7f) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Bytes and words written since `begin`. */
export function sizes() {
  return [used, count];
}

function word(n) {
  if (count >= words.length) return false;
  words[count++] = n;
  return true;
}

function put(s) {
  if (typeof s !== "string" || !wellFormed(s) || count >= words.length) return false;
  const end = putScratch(s, used);
  if (end < 0) return false;
  words[count++] = end - used;
  used = end;
  return true;
}

/** An optional string: null and undefined are absent. */
function optional(v) {
  return v === undefined || v === null ? word(ABSENT) : put(v);
}

/** A list of strings; undefined is empty, or absent when `orAbsent` (null too). */
function list(v, orAbsent) {
  if (v === undefined || (orAbsent && v === null)) return word(orAbsent ? ABSENT : 0);
  if (!Array.isArray(v) || !word(v.length)) return false;
  for (let i = 0; i < v.length; i++) if (!put(v[i])) return false;
  return true;
}

function onlyKeys(v, allowed) {
  if (!isPlain(v)) return false;
  for (const k of Object.keys(v)) if (!allowed.has(k)) return false;
  return true;
}

/**
 * Writes a principal; its `expiresAt` (a number, or undefined), or FLAT_NO.
 * Reading a getter that throws is FLAT_NO too: the JSON path reports it.
 * `skipClaims`: a principal from the package's own verifiers, whose raw
 * `claims` no decision reads (the engine's `[AUTHORIZE_VERIFIED]`).
 */
export function principal(p, skipClaims = false) {
  try {
    if (!onlyKeys(p, skipClaims ? VERIFIED_KEYS : PRINCIPAL_KEYS)) return FLAT_NO;
    const c = p.credential;
    let credential = 0;
    if (c !== undefined && c !== null) {
      if (typeof c !== "string" || !Object.hasOwn(CREDENTIALS, c)) return FLAT_NO;
      credential = CREDENTIALS[c];
    }
    const e = p.expiresAt;
    if (e !== undefined && e !== null && !Number.isSafeInteger(e)) return FLAT_NO;
    const ok =
      optional(p.id) &&
      list(p.roles, false) &&
      list(p.groups, false) &&
      list(p.permissions, false) &&
      list(p.scopes, false) &&
      list(p.limits, true) &&
      word(credential) &&
      optional(p.sessionId) &&
      optional(p.apiTokenId);
    return ok ? (e ?? undefined) : FLAT_NO;
  } catch {
    return FLAT_NO;
  }
}

/** Writes an action and a resource; false if they do not qualify. */
export function request(action, r) {
  try {
    return onlyKeys(r, RESOURCE_KEYS) && put(action) && put(r.type) && optional(r.id) && optional(r.owner) && list(r.owners, false);
  } catch {
    return false;
  }
}

/** Writes an operation and its context (null or undefined: none); false if they do not qualify. */
export function operation(op, context) {
  try {
    if (!put(op)) return false;
    if (context === undefined || context === null) return word(ABSENT) && word(ABSENT) && word(0);
    return onlyKeys(context, CONTEXT_KEYS) && optional(context.id) && optional(context.owner) && list(context.owners, false);
  } catch {
    return false;
  }
}
