// Type declarations of `tessera-policy`, written by hand and checked by
// `tsc --noEmit` over a typed usage file in the package's tests.
//
// Key sets (SPEC §6.1.2): the browser and the server modules. A KeySet is a
// JWKS parsed and checked once, given or fetched (with `fetch`) from a URL;
// `verifyJwt` takes one wherever it takes a JWKS, and a `Realm` holds one.
import type { Seconds } from "./shapes.js";
import type { Jwks } from "./tokens.js";

/**
 * What `KeySet` calls to fetch: `globalThis.fetch` or one of the same shape
 * (written without the DOM library's names, so Node-only projects need none).
 */
export type KeySetFetch = (url: string, init: KeySetFetchInit) => Promise<KeySetFetchResponse>;

/** The request options a KeySet passes: no redirect followed by the fetch itself, an abort signal (the timeout). */
export interface KeySetFetchInit {
  redirect: "manual";
  /** An `AbortSignal`. */
  signal: any;
  headers: Record<string, string>;
}

/** What a KeySet reads of the answer (a `Response` has it). */
export interface KeySetFetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly type: string;
  readonly headers: { get(name: string): string | null };
  /** A `ReadableStream` of bytes (read with a limit), or null. */
  readonly body: unknown;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Fetch and cache options of a remote KeySet; `null` or absent is the default. */
export interface KeySetOptions {
  /** The whole request, connection to last byte (default 5). */
  timeoutSeconds?: number | null;
  /** Largest body accepted, counted as it streams in (default 524288). */
  maxBytes?: number | null;
  /** Longest a fetched set is used (default 600, or the response's `max-age` if shorter). */
  cacheSeconds?: number | null;
  /** Least time between two fetches; an unknown `kid` refetches at most this often (default 30). */
  cooldownSeconds?: number | null;
  /** The fetch function (default `globalThis.fetch`), called with `redirect: "manual"` and an abort signal. */
  fetch?: KeySetFetch | null;
}

/** The options a KeySet uses (defaults filled in). */
export interface KeySetSettings {
  timeoutSeconds: number;
  maxBytes: number;
  cacheSeconds: number;
  cooldownSeconds: number;
}

/**
 * A JWKS parsed and checked once (SPEC §6.1.2). Errors: `ArgumentError`
 * (`invalid_argument`, with `path`) for a bad JWKS, URL, region, pool id or
 * option; at verification `TokenError` `jwks_unavailable` (with the reason)
 * when no good keys can be had.
 */
export class KeySet {
  /** A given JWKS (object or JSON text), never fetched. */
  constructor(jwks: Jwks | string);
  /** Fetched from `url` (https, or http to a loopback address) when first needed. */
  static fromUrl(url: string, options?: KeySetOptions | null): KeySet;
  /** A Cognito user pool's keys; tokens of another issuer are refused (`wrong_issuer`). */
  static cognito(region: string, userPoolId: string, options?: KeySetOptions | null): KeySet;
  /** An OpenID provider's keys through its discovery document (read now; its `issuer` must equal `issuer`). */
  static oidc(issuer: string, options?: KeySetOptions | null): Promise<KeySet>;
  /** Fetches now if a fetch is due at `now` (shared with waiting verifications); never rejects for a failed fetch. */
  refresh(now?: Seconds | null): Promise<void>;
  /** Whether a fetch is due at `now`. */
  needsFetch(now?: Seconds | null): boolean;
  /** The URL fetched, or null for a given JWKS. */
  readonly url: string | null;
  /** The one issuer the set vouches for (Cognito, OIDC), or null. */
  readonly issuer: string | null;
  /** Keys held now (0 before the first good fetch). */
  readonly size: number;
  /** Fetches made so far, good or failed. */
  readonly attempts: number;
  /** The options in effect. */
  readonly options: KeySetSettings;
}
