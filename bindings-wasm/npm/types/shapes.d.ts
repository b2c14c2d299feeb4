// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// The values decisions take and give (SPEC §1–§5). Object keys are camelCase
// here (snake_case in Rust and Python), except inside the policy document,
// which is passed through exactly as written.

/** How a principal proved who it is. */
export type Credential = "jwt" | "session" | "api_token";

/** Who is asking (SPEC §3). Token verification returns one, ready to authorize. */
export interface Principal {
  id?: string;
  roles?: string[];
  groups?: string[];
  /** Labels held by the principal itself (source `principal`). */
  permissions?: string[];
  scopes?: string[];
  /** When present, every allowed request must also match one of these labels. */
  limits?: string[];
  credential?: Credential;
  /** Seconds since the epoch at which the credential stops being valid. */
  expiresAt?: number;
  /** The session this principal came from (session credentials only). */
  sessionId?: string;
  /** The API token this principal came from, directly or through a session. */
  apiTokenId?: string;
  /** The verified claims of a provider JWT, untouched (keys as in the token). */
  claims?: Record<string, unknown>;
}

/** What is acted on. Without `id` and owners it is type-level (listing, creating). */
export interface Resource {
  type: string;
  id?: string;
  owner?: string;
  owners?: string[];
}

/** What the caller knows about the resource an operation acts on (SPEC §5). */
export interface OperationContext {
  /** Used when the route has no `{id}` parameter (RPC operations). */
  id?: string;
  owner?: string;
  owners?: string[];
}

/** A policy document (SPEC §2), passed through verbatim (snake_case keys). */
export interface PolicyDocument {
  version: 1;
  actions?: string[];
  subjects?: string[];
  roles?: Record<string, { permissions?: string[]; inherits?: string[] }>;
  groups?: Record<string, string[]>;
  grants?: Array<{ principal: string; permissions: string[] }>;
  operations?: Record<string, OperationEntry>;
  tokens?: {
    /** Provider JWTs (SPEC §6.1; docs/tokens.md has a recipe per provider). */
    jwt?: {
      issuers?: string[];
      /** `null`: not checked (generic mode, or Cognito mode without access tokens). */
      client_ids?: string[] | null;
      /** `null`: not checked (generic mode, or Cognito mode without ID tokens). */
      audiences?: string[] | null;
      /** Cognito mode: the accepted kinds (default `["access"]`); `null`: generic mode. */
      token_use?: Array<"access" | "id"> | null;
      /** Accepted header `typ` values (RFC 9068: `["at+jwt"]`); `null` (default): not checked. */
      typ?: string[] | null;
      /** Generic mode with `client_ids` and `audiences` both `null` accepts every audience only with this. */
      any_audience?: boolean;
      algorithms?: string[];
      leeway_seconds?: number;
      max_age_seconds?: number | null;
      /** Claim names; a name starting with `/` is a JSON Pointer (`/realm_access/roles`). */
      claims?: { id?: string; groups?: string; scopes?: string };
    };
    session?: { ttl_seconds?: number; max_lifetime_seconds?: number };
  };
  /** The realm's roles for new users (SPEC §7; defaults `admin` for the first, `user` after). */
  realm?: { bootstrap_role?: string; default_role?: string };
}

/** One entry of `policy.operations`. */
export interface OperationEntry {
  access?:
    | "public"
    | "authenticated"
    | { groups_all?: string[]; roles_any?: string[]; scopes_any?: string[] };
  credential?: Credential;
  permission?: string;
}

/** Seconds since the Unix epoch; when omitted the clock is read. */
export type Seconds = number;

// ----------------------------------------------------------------- results

export type Reason =
  | "allowed"
  | "denied"
  | "no_match"
  | "limited"
  | "invalid_request"
  | "public"
  | "unauthenticated"
  | "missing_group"
  | "missing_role"
  | "missing_scope"
  | "wrong_credential"
  | "unknown_operation";

/** `principal`, `grant`, or `role:NAME`. */
export type Source = "principal" | "grant" | `role:${string}`;

/** The answer to "may this principal do this?" (SPEC §4). */
export interface Decision {
  allowed: boolean;
  reason: Reason;
  /** The label that decided: the first matching deny, else the first matching allow. */
  rule: string | null;
  source: Source | null;
  /** Why the request is invalid (only with `invalid_request`). */
  message?: string;
}

/** One rule that matched a request. */
export interface MatchedRule {
  rule: string;
  source: Source;
  effect: "allow" | "deny";
}

/** A decision with everything that led to it. */
export interface Explanation extends Decision {
  effectiveRoles: string[];
  unknownRoles: string[];
  matched: MatchedRule[];
  /** For a denied request, what would allow it (SPEC §9); empty when allowed or invalid. */
  suggestions: Suggestion[];
}

/** One change to the policy document (or, for `add_role`, `remove_permission`, `add_limit`, to the principal). */
export type Edit =
  | { change: "add_label"; role: string; label: string }
  | { change: "remove_label"; role: string; label: string }
  | { change: "add_grant"; principal: string; label: string }
  | { change: "remove_grant"; principal: string; label: string }
  | { change: "add_role"; role: string }
  | { change: "remove_permission"; label: string }
  | { change: "add_limit"; label: string };

/** A set of edits that, applied together, allow the request, and the decision they lead to. */
export interface Suggestion {
  edits: Edit[];
  decision: Decision;
}

/** A parsed permission label (SPEC §1). */
export interface Label {
  effect: "allow" | "deny";
  /** An action of the policy, or `admin` for every action. */
  action: string;
  own: boolean;
  /** `null` only for bare `admin` / `admin_own`. */
  subject: string | null;
  instance: string | null;
}
