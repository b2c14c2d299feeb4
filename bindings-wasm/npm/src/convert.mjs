// Conversions between the package's values and the core's JSON text:
//
// - values cross into WebAssembly as JSON text and come back as JSON text
//   (the fast path, in fastpath.mjs, passes strings through memory instead);
// - object keys are camelCase here and snake_case in the core, converted
//   generically in both directions, except inside the policy document, JWKS,
//   JWKs and raw JWT `claims`, which stay exactly as written;
// - an argument of the wrong type or shape is an ArgumentError naming it, with
//   the path of the faulty field: inputs are converted field by field (never
//   through a bare `JSON.stringify`, which drops NaN, functions and symbols
//   and turns a lone surrogate into U+FFFD on the way into WebAssembly).
import { argumentError, messageOf } from "./errors.mjs";

// Keys whose values are data written by someone else and never renamed.
const VERBATIM = new Set(["claims", "jwks"]);

export function isPlain(v) {
  if (v === null || typeof v !== "object") return false;
  let proto;
  try {
    proto = Object.getPrototypeOf(v); // a Proxy may throw
  } catch {
    return false;
  }
  return proto === Object.prototype || proto === null;
}

// A lone surrogate cannot cross into WebAssembly (TextEncoder would make it
// U+FFFD, possibly someone's id): every string is checked first.
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const wellFormed =
  typeof "".isWellFormed === "function" ? (s) => s.isWellFormed() : (s) => !LONE.test(s);

export function loneSurrogate(path) {
  return argumentError(`${path}: the string is not valid Unicode (lone surrogate)`);
}

/** What a value is, for a message (never throws, even for hostile values). */
function describe(v) {
  switch (typeof v) {
    case "number":
      return `the number ${String(v)}`;
    case "bigint":
      return "a bigint";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    case "undefined":
      return "undefined";
    default:
      return typeOf(v);
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
function keyPath(path, key) {
  return PLAIN_KEY.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** `holder[key]`, or an ArgumentError at `path` if reading it throws (a getter, a Proxy). */
function read(holder, key, path) {
  try {
    return holder[key];
  } catch (e) {
    throw argumentError(`${path}: could not be read (${messageOf(e)})`);
  }
}

/** How deep an input may nest (the core's limit too). */
const MAX_DEPTH = 128;

/**
 * `v` as a plain JSON tree with snake_case keys (none renamed at or under a
 * VERBATIM key), refusing at its path anything JSON would change silently:
 * NaN and infinities, integers past 2^53 - 1 (already rounded), undefined
 * in an array, symbols, functions, bigints, objects that are not plain,
 * lone surrogates, fields whose getter throws.
 */
function tree(path, v, verbatimKeys, depth) {
  switch (typeof v) {
    case "string":
      if (!wellFormed(v)) throw loneSurrogate(path);
      return v;
    case "number":
      if (!Number.isFinite(v)) throw argumentError(`${path}: expected a finite number, got ${describe(v)}`);
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
        throw argumentError(`${path}: ${String(v)} is beyond 2^53 - 1, where numbers are rounded; refused`);
      }
      return v;
    case "boolean":
      return v;
    case "object":
      break;
    default:
      throw argumentError(`${path}: expected a JSON value, got ${describe(v)}`);
  }
  if (v === null) return null;
  if (depth >= MAX_DEPTH) throw argumentError(`${path}: nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(v)) {
    const n = read(v, "length", path);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      out[i] = tree(p, read(v, i, p), verbatimKeys, depth + 1);
    }
    return out;
  }
  if (!isPlain(v)) throw argumentError(`${path}: expected a plain object, got ${describe(v)}`);
  let keys;
  try {
    keys = Object.keys(v);
  } catch (e) {
    throw argumentError(`${path}: could not be read (${messageOf(e)})`);
  }
  const out = {};
  for (const key of keys) {
    if (!wellFormed(key)) throw loneSurrogate(`${path} (a key)`);
    const p = keyPath(path, key);
    const value = read(v, key, p);
    if (value === undefined) continue; // absent, as in JSON
    const k = verbatimKeys ? key : toSnake(key);
    out[k] = tree(p, value, verbatimKeys || VERBATIM.has(key), depth + 1);
  }
  return out;
}

/** Thrown by `quickTree` at anything `tree` would refuse: `tree` then says what and where. */
const REFUSED = Symbol("refused");

/**
 * `tree` without paths, for the usual input that is fine: building a path
 * string for every field costs more than the rest of the conversion. At
 * anything doubtful it throws REFUSED and the caller runs `tree`, whose
 * checks are the same, for the error and its path.
 */
function quickTree(v, verbatimKeys, depth) {
  switch (typeof v) {
    case "string":
      if (!wellFormed(v)) throw REFUSED;
      return v;
    case "number":
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) throw REFUSED;
      return v;
    case "boolean":
      return v;
    case "object":
      break;
    default:
      throw REFUSED;
  }
  if (v === null) return null;
  if (depth >= MAX_DEPTH) throw REFUSED;
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = quickTree(v[i], verbatimKeys, depth + 1);
    return out;
  }
  if (!isPlain(v)) throw REFUSED;
  const out = {};
  for (const key of Object.keys(v)) {
    if (!wellFormed(key)) throw REFUSED;
    const value = v[key];
    if (value === undefined) continue;
    out[verbatimKeys ? key : toSnake(key)] = quickTree(value, verbatimKeys || VERBATIM.has(key), depth + 1);
  }
  return out;
}

/** `tree(what, value)`: the quick pass, and the checking one only when it refuses (or a getter throws). */
function converted(what, value) {
  try {
    return quickTree(value, false, 0);
  } catch {
    // Whatever the quick pass met (a refusal, a throwing getter or Proxy),
    // the full pass meets too and names it; what it returns is checked.
    return tree(what, value, false, 0);
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
export function json(what, value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw argumentError(`${what}: cannot be converted to JSON (${messageOf(e)})`);
  }
  if (typeof text !== "string") throw argumentError(`${what}: expected a JSON value, got ${typeOf(value)}`);
  return text;
}

/**
 * An API object (camelCase keys: a principal, a resource, options, records)
 * as JSON text with the core's snake_case keys, converted field by field;
 * the core then checks the shape (an object, not an array; each field's
 * type) and names the path of what is wrong.
 */
export function input(what, value) {
  return JSON.stringify(converted(what, value));
}

/** A document taken verbatim: JSON text as given, or any other value serialised. */
export function verbatim(what, value) {
  if (typeof value === "string") {
    if (!wellFormed(value)) throw loneSurrogate(what);
    return value;
  }
  if (value === undefined) throw argumentError(`${what}: expected an object or JSON text, got undefined`);
  return json(what, value);
}

/** The core's JSON answer, with camelCase keys. */
export function output(text) {
  return renameKeys(JSON.parse(text), toCamel);
}

export function typeOf(v) {
  try {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
  } catch {
    return typeof v;
  }
}

export function string(what, v) {
  if (typeof v !== "string") throw argumentError(`${what}: expected a string, got ${describe(v)}`);
  if (!wellFormed(v)) throw loneSurrogate(what);
  return v;
}

/** An optional string: undefined and null are absent. */
export function optionalString(what, v) {
  return v === undefined || v === null ? undefined : string(what, v);
}

export function optionalObject(what, v) {
  if (v === undefined || v === null) return "null";
  if (!isPlain(v)) throw argumentError(`${what}: expected an object, got ${typeOf(v)}`);
  return input(what, v);
}

/** `now`: undefined (read the clock) or whole seconds since the epoch. */
export function seconds(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw argumentError(`now: expected whole seconds since the epoch (a safe integer), got ${typeOf(v)} ${String(v)}`);
  }
  return v;
}

export function stringArray(what, v) {
  if (!Array.isArray(v)) throw argumentError(`${what}: expected an array of strings, got ${typeOf(v)}`);
  v.forEach((s, i) => string(`${what}[${i}]`, s));
  return v;
}
