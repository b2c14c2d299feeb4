// What the Express and Fastify integrations share (tessera-policy/express,
// tessera-policy/fastify): reading `Authorization`, authenticating it, and
// asking the core's operations table about `METHOD /raw/path`. No policy logic
// lives here: which operation a request is (HEAD as GET, percent-decoding, the
// trailing slash, refused paths) and whether it is allowed are the core's
// answers (docs/decisions.md, Paths). It imports nothing from the package: the
// engine, realm and key set are the caller's, so no second WebAssembly instance
// is made.

/** The engine's method for a principal from its own verifiers (engine.mjs). */
const AUTHORIZE_VERIFIED = Symbol.for("tessera-policy.authorizeVerified");

/** The largest `Authorization` header read (SPEC §6.1: a JWT is at most 16 KiB). */
export const MAX_AUTHORIZATION_BYTES = 16 * 1024;

/** The answer for one request: `status` 200 (go on, with `principal`), 400, 401, 403 or 404. */
export class Outcome {
  constructor(status, { principal = null, code = null, reason = null, operation = "" } = {}) {
    this.status = status;
    this.principal = principal;
    this.code = code;
    this.reason = reason;
    this.operation = operation;
  }

  get allowed() {
    return this.status === 200;
  }

  /** `{error: code}` and, for a 403, `reason` (the decision's reason). */
  get body() {
    const out = { error: this.code ?? "error" };
    if (this.reason !== null) out.reason = this.reason;
    return out;
  }

  /** RFC 6750 §3: a 401 names the scheme; a refused token also says `error="invalid_token"` and the code. */
  get headers() {
    if (this.status !== 401) return {};
    if (this.code === "unauthenticated") return { "WWW-Authenticate": 'Bearer realm="tessera"' };
    return { "WWW-Authenticate": `Bearer realm="tessera", error="invalid_token", error_description="${this.code}"` };
  }
}

const NONE = Object.freeze([]);

/**
 * Every `Authorization` value of a Node request (`http.IncomingMessage`, or
 * what Express and Fastify wrap): read from `rawHeaders`, which keeps a
 * repeated header that `headers` folds to its first value, without building
 * `headersDistinct` for every header of the request.
 */
export function authorizationOf(req) {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) {
    const distinct = req.headersDistinct?.authorization;
    if (distinct !== undefined) return distinct;
    return req.headers?.authorization === undefined ? NONE : [req.headers.authorization];
  }
  let values = NONE;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 13 && name.toLowerCase() === "authorization") values = values === NONE ? [raw[i + 1]] : [...values, raw[i + 1]];
  }
  return values;
}

/** The operation context an owners hook's answer stands for. */
export function contextOf(value) {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return { owner: value };
  if (Array.isArray(value)) {
    if (value.every((o) => typeof o === "string")) return { owners: value };
  } else if (typeof value === "object") {
    return value;
  }
  const e = new TypeError(`owners hook: expected null, a string, an array of strings or an operation context, got ${typeof value}`);
  e.code = "invalid_argument";
  throw e;
}

function invalid(message) {
  const e = new TypeError(message);
  e.code = "invalid_argument";
  return e;
}

/**
 * The framework-neutral check.
 * - `engine`: the Engine whose operations table decides (default `realm.engine`);
 * - `realm`: authenticates sessions, API tokens and, if it holds a key set, provider JWTs;
 * - `keys`: a KeySet or JWKS for provider JWTs when there is no realm (`engine.verifyJwt`);
 * - `authenticate(header)`: any other authenticator (may return a promise; throws a TokenError);
 * - `unknown`: "not_found" (default: 404) or "pass" (through, unauthenticated);
 * - `now()`: a clock in whole seconds, for tests.
 */
export class Guard {
  constructor(options = {}) {
    const { engine, realm, keys, authenticate, unknown = "not_found", now } = options;
    const given = [["realm", realm], ["keys", keys], ["authenticate", authenticate]].filter(([, v]) => v != null);
    if (given.length > 1) {
      throw invalid(`give one of realm, keys or authenticate, not ${given.map(([n]) => n).join(" and ")} (a realm that should accept provider JWTs holds its own key set)`);
    }
    const e = engine ?? realm?.engine;
    if (!e) throw invalid("an engine (or a realm, whose engine is used) is required");
    if (unknown !== "not_found" && unknown !== "pass") throw invalid(`unknown: expected "not_found" or "pass", got ${JSON.stringify(unknown)}`);
    this.engine = e;
    this.realm = realm ?? null;
    this.keys = keys ?? null;
    this.authenticator = authenticate ?? null;
    this.unknown = unknown;
    this.now = now ?? null;
  }

  /** The operation key a request is asked as (the path still percent-encoded, without its query). */
  operation(method, rawUrl) {
    const q = rawUrl.search(/[?#]/);
    return `${method} ${q < 0 ? rawUrl : rawUrl.slice(0, q)}`;
  }

  /** A refused path (400), an unknown operation (404 or pass) or a public one (200); null when a credential is needed. */
  anonymous(operation) {
    let decision;
    try {
      decision = this.engine.authorizeOperation(null, operation);
    } catch (e) {
      if (e && e.kind === "argument") return new Outcome(400, { code: e.code, operation });
      throw e;
    }
    if (decision.reason === "unknown_operation") {
      return this.unknown === "pass" ? new Outcome(200, { operation }) : new Outcome(404, { code: "not_found", operation });
    }
    return decision.allowed ? new Outcome(200, { operation }) : null;
  }

  /**
   * The principal of the request's `Authorization` values (an array: Node
   * keeps only the first of repeated ones in `req.headers`), or the 401 to answer.
   */
  async authenticate(values, operation = "") {
    return this.authenticateNow(values, operation);
  }

  /**
   * `authenticate`, synchronous where nothing needs waiting: the principal or
   * the 401, or a promise of one when the key set must fetch (first use, cache
   * time over, an unknown `kid`), the runtime has no synchronous primitive, or
   * the authenticator answers with a promise. The synchronous attempt never
   * fetches; on the codes that mean "a fetch may help" it hands over to the
   * calls that may, which check again from the start.
   */
  authenticateNow(values, operation = "") {
    if (!values || values.length === 0) return new Outcome(401, { code: "unauthenticated", operation });
    if (values.length > 1 || values[0].includes(",")) return new Outcome(401, { code: "malformed", operation });
    const header = values[0];
    if (header.length > MAX_AUTHORIZATION_BYTES) return new Outcome(401, { code: "too_large", operation });
    const now = this.now ? this.now() : undefined;
    let found;
    try {
      if (this.realm) found = this.realm.authenticate(header, now);
      else if (this.authenticator) found = this.authenticator(header);
      else if (this.keys) found = this.engine.verifyJwtSync(bearer(header), this.keys, now);
      else return new Outcome(401, { code: "unauthenticated", operation });
    } catch (e) {
      const mayWait = this.keys !== null || (this.realm !== null && typeof this.realm.authenticateAsync === "function");
      if (!(mayWait && e && e.kind === "token" && MAY_WAIT.has(e.code))) return refused(e, operation);
      found = this.realm ? this.realm.authenticateAsync(header, now) : this.engine.verifyJwt(bearer(header), this.keys, now);
    }
    return isThenable(found) ? Promise.resolve(found).catch((e) => refused(e, operation)) : found;
  }

  /**
   * Authorizes `principal` for `operation` with the owners hook's answer.
   * `verified`: the principal came from this package's own verifiers (the
   * realm or the key set), so its raw `claims` are the core's own JSON, and
   * the engine is asked without them: no decision reads a token's raw claims
   * (SPEC §4–5 decide on roles, groups, permissions, scopes, limits and the
   * credential), and converting them is most of the call's cost. The
   * request still gets the whole principal.
   */
  decide(principal, operation, owners, verified = false) {
    let decision;
    try {
      // An engine-like object without the package's method is asked as given.
      const e = this.engine;
      decision =
        verified && typeof e[AUTHORIZE_VERIFIED] === "function"
          ? e[AUTHORIZE_VERIFIED](principal, operation, contextOf(owners))
          : e.authorizeOperation(principal, operation, contextOf(owners));
    } catch (e) {
      // A principal the policy cannot read (a bad label in it) is refused, never let through.
      if (e && typeof e.code === "string") return new Outcome(403, { code: "forbidden", reason: e.code, operation });
      throw e;
    }
    if (decision.allowed) return new Outcome(200, { principal, operation });
    return new Outcome(403, { code: "forbidden", reason: decision.reason, operation });
  }

  /**
   * The whole check of one request; `known` is a prefilter's `{operation, early}`
   * (or undefined); `owners()` is called only once a principal is known.
   */
  async check(method, rawUrl, known, authorization, owners) {
    return this.checkNow(method, rawUrl, known, authorization, owners);
  }

  /**
   * `check`, synchronous where nothing needs waiting (see `authenticateNow`;
   * also an owners hook that answers with a promise): an Outcome, or a
   * promise of one. The integrations call this, so that a request whose token
   * was verified before costs no promise.
   */
  checkNow(method, rawUrl, known, authorization, owners) {
    const operation = known ? known.operation : this.operation(method, rawUrl);
    const early = known ? known.early : this.anonymous(operation);
    if (early) return early;
    const found = this.authenticateNow(authorization, operation);
    if (isThenable(found)) return found.then((p) => this.#decided(p, operation, owners));
    return this.#decided(found, operation, owners);
  }

  #decided(found, operation, owners) {
    if (found instanceof Outcome) return found;
    const verified = this.authenticator === null;
    const answer = owners ? owners() : undefined;
    if (isThenable(answer)) return Promise.resolve(answer).then((o) => this.decide(found, operation, o, verified));
    return this.decide(found, operation, answer, verified);
  }
}

// The token errors a fetch (or an asynchronous primitive) may change: the
// synchronous attempt hands these over to the calls that may fetch.
const MAY_WAIT = new Set(["jwks_unavailable", "unknown_key", "unsupported_runtime"]);

function refused(e, operation) {
  if (e && (e.kind === "token" || e.kind === "argument")) {
    return new Outcome(401, { code: e.kind === "token" ? e.code : "malformed", operation });
  }
  throw e;
}

function isThenable(v) {
  return v !== null && typeof v === "object" && typeof v.then === "function";
}

// `Bearer <token>` or a bare token, as the core's parseAuthorization reads it;
// kept here so that the key-set path needs no import of the package. The
// header is not run through a regular expression (a kilobyte per request): a
// space is looked for, any other character outside a token's alphabet is
// refused by the core, with the same code, `malformed`.
function bearer(header) {
  let token = header;
  if (header.length > 7 && header.charCodeAt(6) === 32 && header.slice(0, 6).toLowerCase() === "bearer") {
    let i = 7;
    while (header.charCodeAt(i) === 32) i++;
    token = header.slice(i);
  }
  if (token.length > 0 && token.indexOf(" ") < 0) return token;
  const e = new TypeError("Authorization: expected `Bearer <token>` or a bare token");
  e.kind = "token";
  e.code = "malformed";
  throw e;
}
