// Analysis (SPEC §9): exact answers from the compiled policy, for audits and
// admin pages. The shapes are every binding's, with camelCase keys.
import type { Decision, PolicyDocument, Principal, Resource, Suggestion } from "./shapes.js";

/** When a matching label applies: always, to what the principal owns (and type-level requests), or because it names this resource. */
export type Condition = "any" | "own" | "instance";
/** A class of request: anyone's resource, one's own (or type-level), a named instance not owned / owned. */
export type Scope = "all" | "own" | "instance" | "own_instance";
export type HolderKind = "role" | "group" | "grant";

export interface Access {
  kind: HolderKind;
  /** The role's or group's name, or the grant's principal id. */
  name: string;
  rule: string;
  /** `role:NAME` or `grant`. */
  source: string;
  /** The roles from the holder to the one that holds the label (empty for grants). */
  via: string[];
  condition: Condition;
  /** For an allow: the matching denies the same holder reaches. */
  overriddenBy?: Omit<Access, "overriddenBy">[];
}

export interface HolderAnswer {
  kind: HolderKind;
  name: string;
  /** Allowed alone when the principal owns the resource (or it is type-level). */
  whenOwner: boolean;
  /** Allowed alone otherwise. */
  otherwise: boolean;
}

export interface WhoCan {
  action: string;
  resource: Resource;
  allowedBy: Access[];
  deniedBy: Access[];
  holders: HolderAnswer[];
  /** The labels that match when a principal holds them itself (its permissions, or its credential's limits). */
  labels: { label: string; condition: Condition }[];
}

export interface PermissionCell {
  action: string;
  subject: string;
  scope: Scope;
  instance: string | null;
  allowed: boolean;
  reason: Decision["reason"];
  rule: string | null;
  source: string | null;
}

export interface Permissions {
  /** The principal tabulated (for a role: one holding only it). */
  principal: Principal;
  effectiveRoles: string[];
  unknownRoles: string[];
  cells: PermissionCell[];
}

export interface DiffChange {
  kind: HolderKind;
  name: string;
  action: string;
  subject: string;
  scope: Scope;
  instance: string | null;
  /** What a principal holding only this is answered under policy A. */
  a: Decision;
  b: Decision;
}

export interface OperationChange {
  operation: string;
  change: "added" | "removed" | "changed" | "access";
  /** The entry under A, normalised (null: absent). */
  a: Record<string, unknown> | null;
  b: Record<string, unknown> | null;
  holders: { kind: HolderKind; name: string }[];
}

export interface Diff {
  /** True when the two policies answer every request alike. */
  empty: boolean;
  vocabulary: { actionsAdded: string[]; actionsRemoved: string[]; subjectsAdded: string[]; subjectsRemoved: string[] };
  changes: DiffChange[];
  operations: OperationChange[];
}

export interface Suggestions {
  decision: Decision;
  /** Each a set of edits verified to allow the request; empty when it is allowed or invalid. */
  suggestions: Suggestion[];
}

export interface RoleGraph {
  roles: { name: string; inherits: string[]; allows: string[]; denies: string[] }[];
  groups: { name: string; roles: string[] }[];
}

/** What differs between two policies. Throws `PolicyError` (path `policy_a` / `policy_b`) when one does not load. */
export function diff(policyA: PolicyDocument | string, policyB: PolicyDocument | string): Diff;

declare module "./engine.js" {
  interface Engine {
    /** Every role, group and grant that would allow `action` on `resource`. Throws `ArgumentError` (`invalid_request`) for an unknown action or type. */
    whoCan(action: string, resource: Resource): WhoCan;
    /** The effective table of a role (by name) or a principal. */
    permissions(of: string | Principal): Permissions;
    /** The smallest changes that would allow a denied request, each verified by deciding again. */
    suggest(principal: Principal, action: string, resource: Resource): Suggestions;
    /** This engine's policy (A) against `other` (B). */
    diff(other: PolicyDocument | string): Diff;
    /** Roles, inheritance, groups and denies. */
    roleGraph(): RoleGraph;
  }
}
