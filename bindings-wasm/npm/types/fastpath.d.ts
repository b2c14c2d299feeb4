// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// The fast path: a principal prepared once, strings in and booleans out.
import type { Decision, Principal, Resource } from "./shapes.js";

/** One request of `Engine.authorizeBatch`: the arguments of `isAllowed`. */
export type BatchRequest =
  | readonly [action: string, type: string]
  | readonly [action: string, type: string, id: string | null | undefined]
  | readonly [action: string, type: string, id: string | null | undefined, owner: string | null | undefined];

/** A principal resolved once against an engine's policy: the fast path. */
export class PreparedPrincipal {
  private constructor();
  /** Strings in, a boolean out; no objects are converted. */
  isAllowed(action: string, type: string, id?: string | null, owner?: string | null): boolean;
  /** The full decision. */
  authorize(action: string, resource: Resource): Decision;
  /** The principal this was prepared from. */
  readonly principal: Principal;
  /** The effective roles, breadth-first from the principal's own. */
  readonly effectiveRoles: string[];
  free(): void;
  /** `free()`, for `using prepared = engine.prepare(...)`. */
  [Symbol.dispose](): void;
}
