// Conversions between the package's values and the core's JSON text:
//
// - values cross into WebAssembly as JSON text and come back as JSON text
//   (the fast path, in fastpath.mjs, passes strings through memory instead);
// - object keys are camelCase here and snake_case in the core, converted
//   generically in both directions, except inside the policy document, JWKS,
//   JWKs and raw JWT `claims`, which stay exactly as written;
// - an argument of the wrong type or shape is an ArgumentError naming it.
import { argumentError, messageOf } from "./errors.mjs";

// Keys whose values are data written by someone else and never renamed.
const VERBATIM = new Set(["claims", "jwks"]);

export function isPlain(v) {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
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

/** An API object (camelCase keys) as JSON text with the core's snake_case keys. */
export function input(what, value) {
  let converted;
  try {
    converted = renameKeys(value, toSnake);
  } catch (e) {
    throw argumentError(`${what}: ${messageOf(e)}`);
  }
  return json(what, converted);
}

/** A document taken verbatim: JSON text as given, or any other value serialised. */
export function verbatim(what, value) {
  if (typeof value === "string") return value;
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
  if (typeof v !== "string") throw argumentError(`${what}: expected a string, got ${typeOf(v)}`);
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
