// Analysis for audits and admin pages (SPEC §9): `whoCan`, `permissions`,
// `suggest`, `diff` and `roleGraph` on every Engine, and the free `diff` of
// two policies. Exact answers computed by the core; the shapes are those of
// every binding, with camelCase keys. Importing this module adds the methods
// to the decisions Engine (engine.mjs), which the token Engine extends.
import * as raw from "./tessera_wasm.js";
import { INTERNAL, guard, guarded, invoke } from "./errors.mjs";
import { input, json, output, string, verbatim } from "./convert.mjs";
import { Engine } from "./engine.mjs";

/** What differs between two policies (objects or JSON text). */
function diff(policyA, policyB) {
  const a = verbatim("policyA", policyA);
  const b = verbatim("policyB", policyB);
  return output(invoke(() => raw.diff(a, b)));
}

const methods = {
  /** Every role, group and grant that would allow `action` on `resource`. */
  whoCan(action, resource) {
    const a = string("action", action);
    const r = input("resource", resource);
    const e = this[INTERNAL]();
    return output(invoke(() => e.who_can(a, r)));
  },

  /** The effective table of a role (its name) or of a principal (an object). */
  permissions(of) {
    const o = typeof of === "string" ? json("of", of) : input("principal", of);
    const e = this[INTERNAL]();
    return output(invoke(() => e.permissions(o)));
  },

  /** The smallest changes that would allow a denied request, each verified. */
  suggest(principal, action, resource) {
    const p = input("principal", principal);
    const a = string("action", action);
    const r = input("resource", resource);
    const e = this[INTERNAL]();
    return output(invoke(() => e.suggest(p, a, r)));
  },

  /** This engine's policy (A) against `other` (B: an object or JSON text). */
  diff(other) {
    const b = verbatim("policyB", other);
    const e = this[INTERNAL]();
    return output(invoke(() => e.diff(b)));
  },

  /** Roles, inheritance, groups and denies, to draw. */
  roleGraph() {
    const e = this[INTERNAL]();
    return output(invoke(() => e.role_graph()));
  },
};

for (const [name, f] of Object.entries(methods)) {
  Object.defineProperty(Engine.prototype, name, { value: guard(name, f), writable: true, configurable: true });
}

const diffGuarded = guarded(diff);
export { diffGuarded as diff };
