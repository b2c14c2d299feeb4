// Errors of `tessera-policy`: the classes every failure is thrown as, and the
// wrapper that turns whatever a raw call throws into one of them.
//
// The core throws a JS string holding the JSON of a `tessera::Error`; a trap of
// the WebAssembly module becomes an `InternalError` and leaves the module
// refusing every later call (it fails closed).
import * as raw from "./tessera_wasm.js";

/** Every error this package throws. `code` is stable (see SPEC). */
export class TesseraError extends Error {
  constructor(info) {
    const i = info && typeof info === "object" ? info : {};
    super(typeof i.message === "string" ? i.message : String(i.code ?? "error"));
    // By a literal, not `new.target.name`: minifiers (webpack, Vite) rename classes.
    this.name = NAMES.get(new.target) ?? new.target.name;
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

const NAMES = new Map([
  [TesseraError, "TesseraError"],
  [LabelError, "LabelError"],
  [PolicyError, "PolicyError"],
  [TokenError, "TokenError"],
  [ArgumentError, "ArgumentError"],
  [RealmError, "RealmError"],
  [InternalError, "InternalError"],
]);

const KINDS = {
  label: LabelError,
  policy: PolicyError,
  token: TokenError,
  argument: ArgumentError,
  realm: RealmError,
  internal: InternalError,
};

/** The error of the class its `kind` names, from the core's error JSON. */
export function errorOf(info) {
  const Class = KINDS[info && info.kind] || TesseraError;
  return new Class(info);
}

export function argumentError(message) {
  return new ArgumentError({ kind: "argument", code: "invalid_argument", message });
}

export function internalError(message) {
  return new InternalError({ kind: "internal", code: "internal", message });
}

/** The first argument of the package's internal constructors (not for users). */
export const INTERNAL = Symbol("tessera.internal");

/** Set when the module trapped; from then on every call fails closed. */
export let broken = null;

/**
 * Called by an entry whose WebAssembly module did not load (a missing or
 * corrupt .wasm, a Content-Security-Policy without 'wasm-unsafe-eval'): the
 * import still succeeds, `ready` rejects with this error and every call throws
 * it (code `wasm_load_failed`), so the app can report it instead of losing its
 * whole module graph.
 */
export function unloaded(e) {
  broken = new InternalError({
    kind: "internal",
    code: "wasm_load_failed",
    message:
      `tessera: the WebAssembly module did not load (${messageOf(e)}); ` +
      `a page's Content-Security-Policy needs 'wasm-unsafe-eval' in script-src`,
  });
  return broken;
}

/** `ready` of an entry: resolved, or rejected with `failure` (handled here, so no unhandled rejection). */
export function readiness(failure) {
  const ready = failure ? Promise.reject(failure) : Promise.resolve();
  ready.catch(() => {});
  return ready;
}

/** Runs a raw call; whatever it throws leaves as a TesseraError. */
export function invoke(f) {
  if (broken) throw broken;
  try {
    return f();
  } catch (e) {
    throw caught(e);
  }
}

/** What a raw call threw, as a TesseraError. */
export function caught(e) {
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
    broken = internalError(`tessera: the WebAssembly module trapped${detail ? ` (${detail})` : ""} (${e.message}); reload it`);
    return broken;
  }
  return internalError(messageOf(e));
}

/** A message from anything thrown, even by hostile objects. */
export function messageOf(e) {
  try {
    return String(e && typeof e === "object" && "message" in e ? e.message : e);
  } catch {
    return "unprintable error";
  }
}

// Whatever JS throws while reading arguments (a hostile Proxy, a throwing
// getter or toJSON, a revoked object) leaves as an ArgumentError. `isAllowed`
// guards itself, to stay a single call on the hot path.
export function guard(name, f) {
  const convert = (e) => (e instanceof TesseraError ? e : argumentError(`${name}: ${messageOf(e)}`));
  return function (...args) {
    try {
      const r = f.apply(this, args);
      // An async method (verifyJwt) rejects instead of throwing.
      return r instanceof Promise ? r.catch((e) => Promise.reject(convert(e))) : r;
    } catch (e) {
      throw convert(e);
    }
  };
}

/** `f` guarded under its own name. */
export const guarded = (f) => guard(f.name, f);

/**
 * Guards every method and getter a class defines itself (not `isAllowed`, not
 * symbol-keyed ones), and makes `free` its `Symbol.dispose`.
 */
export function guardClass(Class) {
  const proto = Class.prototype;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === "constructor" || key === "isAllowed") continue;
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (typeof d.value === "function") d.value = guard(key, d.value);
    if (d.get) d.get = guard(key, d.get);
    Object.defineProperty(proto, key, d);
  }
  if (typeof Symbol.dispose === "symbol" && Object.hasOwn(proto, "free")) proto[Symbol.dispose] = proto.free;
}
