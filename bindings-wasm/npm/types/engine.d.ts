// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// The engine: a loaded, compiled policy and the decisions made with it.
import type { Decision, Explanation, Label, Reason, OperationContext, PolicyDocument, Principal, Resource } from "./shapes.js";
import type { BatchRequest, PreparedPrincipal } from "./fastpath.js";
import "./dispose.js";

/** Parses a label with the default actions and subjects. Throws `LabelError`. */
export function parseLabel(text: string): Label;

/** The canonical text of a parsed label (the core's formatting); parsing it gives the label back. */
export function formatLabel(label: Label): string;

/**
 * The core's decision reasons, in its order (the table the core exports; Python's
 * `tessera.REASONS`). `reasons().includes(decision.reason)` always holds.
 */
export function reasons(): readonly Reason[];

/**
 * A policy as JSON gives it: `import policy from "./policy.json"` types
 * `version` as `number` and `access` as `string`. `definePolicy` accepts it.
 */
export type PolicyJson = { version: number; [member: string]: unknown };

/**
 * Returns `policy` unchanged, typed as a `PolicyDocument`, so that a policy
 * imported from JSON type-checks: `new Engine(definePolicy(policyJson))`.
 * Nothing is checked here; the engine checks the document when it loads it.
 */
export function definePolicy(policy: PolicyJson | PolicyDocument): PolicyDocument;

/** A loaded, compiled policy and every decision made with it. */
export class Engine {
  /** Loads a policy (object or JSON text). Throws `PolicyError` with every problem. */
  constructor(policy: PolicyDocument | string);

  /** Replaces the policy atomically; on error the old one stays in force. */
  load(policy: PolicyDocument | string): void;
  /** Parses a label against this policy's actions and subjects. */
  parseLabel(text: string): Label;

  authorize(principal: Principal, action: string, resource: Resource): Decision;
  explain(principal: Principal, action: string, resource: Resource): Explanation;
  /** The allowed actions on `resource`, in the policy's order. */
  capabilities(principal: Principal, resource: Resource): string[];
  /** `principal` null: an anonymous caller. */
  authorizeOperation(principal: Principal | null, operation: string, context?: OperationContext | null): Decision;

  /** Resolves a principal once for many fast checks. */
  prepare(principal: Principal): PreparedPrincipal;
  /** One boolean per `[action, type, id?, owner?]` request, in one call (the fast path, batched). */
  authorizeBatch(prepared: PreparedPrincipal, requests: readonly BatchRequest[]): boolean[];

  /** Releases the WebAssembly memory now rather than at garbage collection. */
  free(): void;
  /** `free()`, for `using engine = new Engine(...)`. */
  [Symbol.dispose](): void;
}
