// The engine: a loaded, compiled policy and the decisions made with it
// (labels, authorize/explain/capabilities, operations, the fast path).
// Tokens add their methods in a subclass (tokens.mjs), so the decisions-only
// entry carries none of them.
import * as raw from "./tessera_wasm.js";
import { INTERNAL, TesseraError, argumentError, guardClass, guarded, invoke, messageOf } from "./errors.mjs";
import { input, optionalObject, output, string, verbatim } from "./convert.mjs";
import { PreparedPrincipal, authorizeBatch } from "./fastpath.mjs";
import * as flat from "./flat.mjs";

/**
 * The key of the method the package's guards decide with (see
 * `[AUTHORIZE_VERIFIED]` below): registered, so http-guard.mjs, which
 * imports nothing from the package, names the same one.
 */
const AUTHORIZE_VERIFIED = Symbol.for("tessera-policy.authorizeVerified");

/** Parses a permission label with the default actions and subjects. */
function parseLabel(text) {
  const t = string("text", text);
  return output(invoke(() => raw.parse_label(t)));
}

/** The canonical text of a parsed label (the core's formatting, SPEC §1). */
function formatLabel(label) {
  const l = input("label", label);
  return invoke(() => raw.format_label(l));
}

let reasonTable;

/**
 * The core's decision reasons (SPEC §4–5), in its order: the table itself,
 * exported by the core, not a copy kept here (Python: `tessera.REASONS`).
 * A function rather than a constant because the WebAssembly module is
 * instantiated after this module is evaluated.
 */
function reasons() {
  reasonTable ??= Object.freeze(JSON.parse(invoke(() => raw.reasons())));
  return reasonTable;
}

/** A loaded, compiled policy and every decision made with it. */
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

  /** The raw handle, for the token methods (tokens.mjs); throws once freed. */
  [INTERNAL]() {
    return this.#live();
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
    if (flat.hasFlat) {
      // The common shape without JSON (flat.mjs); the same values reach the core.
      flat.begin();
      const expiresAt = flat.principal(principal);
      if (expiresAt !== flat.FLAT_NO && typeof action === "string" && flat.request(action, resource)) {
        const e = this.#live();
        const [used, words] = flat.sizes();
        return flat.decision(invoke(() => e.authorize_flat(used, words, expiresAt)), output);
      }
    }
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
    if (flat.hasFlat) {
      const d = this.#flatOperation(principal, operation, context, false);
      if (d !== flat.FLAT_NO) return d;
    }
    const p = principal === null || principal === undefined ? "null" : input("principal", principal);
    const o = string("operation", operation);
    const c = optionalObject("context", context);
    const e = this.#live();
    return output(invoke(() => e.authorize_operation(p, o, c)));
  }

  /**
   * For the package's own guards (http-guard.mjs), not public API:
   * `authorizeOperation` of a principal from the package's own verifiers (a
   * realm or a key set), asked without its raw `claims`, which no decision
   * reads (SPEC §4–5), and without copying the principal to drop them.
   */
  [AUTHORIZE_VERIFIED](principal, operation, context) {
    if (flat.hasFlat) {
      const d = this.#flatOperation(principal, operation, context, true);
      if (d !== flat.FLAT_NO) return d;
    }
    if (principal !== null && typeof principal === "object" && Object.getPrototypeOf(principal) === Object.prototype && principal.claims !== undefined) {
      const { claims: _claims, ...rest } = principal;
      return this.authorizeOperation(rest, operation, context);
    }
    return this.authorizeOperation(principal, operation, context);
  }

  /** The flat path of `authorizeOperation` (flat.mjs), or FLAT_NO when the values do not qualify. */
  #flatOperation(principal, operation, context, skipClaims) {
    flat.begin();
    const anonymous = principal === null || principal === undefined;
    const expiresAt = anonymous ? undefined : flat.principal(principal, skipClaims);
    if (expiresAt === flat.FLAT_NO || typeof operation !== "string" || !flat.operation(operation, context)) return flat.FLAT_NO;
    const e = this.#live();
    const [used, words] = flat.sizes();
    return flat.decision(invoke(() => e.authorize_operation_flat(used, words, expiresAt, anonymous)), output);
  }

  /** Resolves a principal once; its checks then convert no objects. */
  prepare(principal) {
    const p = input("principal", principal);
    const e = this.#live();
    return new PreparedPrincipal(INTERNAL, invoke(() => e.prepare(p)));
  }

  /**
   * Many fast checks in one call: `requests` is an array of
   * `[action, type, id?, owner?]` (the arguments of `isAllowed`); the answer
   * has one boolean per request. No objects are converted: the strings are
   * written straight into WebAssembly memory, each repeated action and type once.
   */
  authorizeBatch(prepared, requests) {
    return authorizeBatch(() => this.#live(), prepared, requests);
  }

  /** Releases the WebAssembly memory now instead of at garbage collection. */
  free() {
    const e = this.#raw;
    this.#raw = null;
    if (e) e.free();
  }
}

guardClass(Engine);
// Bundlers may rename one of the two `Engine` classes; users see this name.
Object.defineProperty(Engine, "name", { value: "Engine" });

const parseLabelGuarded = guarded(parseLabel);
const formatLabelGuarded = guarded(formatLabel);
const reasonsGuarded = guarded(reasons);
/**
 * A policy document as it came (a JSON import, where \`version\` is a number and
 * \`access\` a string), returned unchanged for the type checker; the engine
 * checks it when it loads.
 */
export function definePolicy(policy) {
  return policy;
}

export { parseLabelGuarded as parseLabel, formatLabelGuarded as formatLabel, reasonsGuarded as reasons };
