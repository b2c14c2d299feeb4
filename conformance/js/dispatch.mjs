// The JavaScript side of the conformance suite, shared by the Node runner
// (conformance/node/run.test.mjs) and the browser runner
// (conformance/browser/run.test.mjs, which loads this very file in Chromium).
//
// It depends on nothing but the package module it is given, so the same code
// runs in both places:
//
//   import * as tessera from ".../bindings-wasm/pkg/dist/node.mjs";   // or dist/browser.mjs
//   const results = runFiles(tessera, [{ name: "systems.json", doc }, ...]);
//   // → [{ id: "systems.json::case name", result }]   (plain JSON: it crosses from the page to Node)
//   compareResult(expect, result)  → null when they agree, else a description
//
// A case's `result` is `{ok: value}`, `{error: {code, offset?, path?, problems?}}`
// or `{fault: text}` (a vector this runner cannot run: unknown op or call,
// missing input, a realm step that did not match); a fault never passes.
//
// The rules are those of conformance/README.md ("How a runner treats each op",
// "Comparing", "JavaScript") and docs/realm.md ("Conformance steps"); the Rust
// runner (conformance/src/lib.rs, realm.rs) is the reference behaviour.

// ------------------------------------------------------------ key conversion

// Objects whose contents are passed exactly as written, in and out: a JWT's
// raw claims, a policy, JWKS/JWK, a realm snapshot (conformance/README.md).
const CHANGE_CALLS = new Set(["seq", "changes", "changes_text", "apply"]);
const VERBATIM = new Set(["claims", "policy", "keys", "key", "jwks", "snapshot"]);

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function convertKeys(value, rename) {
  if (Array.isArray(value)) return value.map((v) => convertKeys(v, rename));
  if (!isPlainObject(value)) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[rename(k)] = VERBATIM.has(k) ? v : convertKeys(v, rename);
  }
  return out;
}

const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snake = (k) => k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());

/** snake_case → camelCase keys, recursively (values never change). */
export const toCamel = (v) => convertKeys(v, camel);
/** camelCase → snake_case keys, recursively (values never change). */
export const toSnake = (v) => convertKeys(v, snake);

// ------------------------------------------------------------------ outcomes

class Fault extends Error {}

/** The error a call threw, as the vectors write it. */
export function errorJson(e) {
  if (e instanceof Fault) throw e;
  if (e === null || typeof e !== "object" || typeof e.code !== "string") {
    // not a TesseraError: never equal to an expected error
    return { code: null, thrown: String(e && e.stack ? e.stack : e) };
  }
  const out = { code: e.code };
  if (e.offset !== undefined && e.offset !== null) out.offset = e.offset;
  if (e.path !== undefined && e.path !== null) out.path = e.path;
  if (Array.isArray(e.problems) && e.problems.length > 0) {
    out.problems = e.problems.map((p) => ({ code: p.code, path: p.path }));
  }
  return out;
}

/** The snapshot, after checking that its text and row count agree with it (a fault if not). */
function checkedSnapshot(r) {
  const snap = r.snapshot();
  const rows = snap.users.length + snap.api_tokens.length + snap.sessions.length;
  if (JSON.stringify(JSON.parse(r.snapshotText())) !== JSON.stringify(snap) || r.rows() !== rows) {
    throw new Fault(`snapshotText or rows (${r.rows()}) disagree with the snapshot`);
  }
  return snap;
}

/** `{ok}` or `{error}` of a call; faults go through. */
function attempt(fn, convert = toSnake) {
  let value;
  try {
    value = fn();
  } catch (e) {
    return { error: errorJson(e) };
  }
  return { ok: value === undefined ? null : convert(value) };
}

/** `attempt` for a call that returns a promise. */
async function attemptAsync(fn, convert = toSnake) {
  let value;
  try {
    value = await fn();
  } catch (e) {
    return { error: errorJson(e) };
  }
  return { ok: value === undefined ? null : convert(value) };
}

function field(obj, key) {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new Fault(`case has no \`${key}\``);
  return obj[key];
}

function text(obj, key) {
  const v = field(obj, key);
  if (typeof v !== "string") throw new Fault(`\`${key}\` must be a string`);
  return v;
}

function caseNow(c) {
  if (c.now === undefined || c.now === null) return null;
  if (!Number.isInteger(c.now)) throw new Fault("`now` must be an integer");
  return c.now;
}

// ------------------------------------------------------------------- runner

/** Ops of the server module only (SPEC §6.1.1): skipped where the module has no Realm. */
export const SERVER_OPS = ["issue_session", "renew_session", "verify_session", "verify_api_token", "realm"];
export const SERVER_ONLY = "server module only (SPEC §6.1.1: sessions, API tokens and the Realm need node:crypto)";
/** The analysis ops (SPEC §9): for audits and CI, compiled into the server module only. */
export const ANALYSIS_OPS = ["diff", "who_can", "permissions", "suggest"];
export const ANALYSIS_ONLY = "server module only (SPEC §9: the analysis calls are not in the browser module)";

export class Runner {
  constructor(tessera, { sync = false } = {}) {
    this.t = tessera;
    /** Whether `verifyJwtSync` is expected to work (node:crypto). */
    this.sync = sync;
    /** Whether this module has the server-side API. */
    this.server = typeof tessera.Realm === "function";
    /** Whether this module has the analysis calls. */
    this.analysis = typeof tessera.diff === "function";
    this.cachedKey = undefined;
    this.cached = null;
    this.prepared = new Map();
  }

  engine(policy) {
    const k = JSON.stringify(policy);
    if (k !== this.cachedKey) {
      this.cachedKey = k;
      // Principals prepared for the fast-path check, kept while the policy
      // stays, so that their cached answers serve many cases.
      this.prepared = new Map();
      try {
        this.cached = { engine: new this.t.Engine(policy) };
      } catch (e) {
        this.cached = { error: errorJson(e) };
      }
    }
    return this.cached;
  }

  /** One case → `{ok}` / `{error}` / `{fault}` / `{skipped}` (a promise). */
  async run(c, policy) {
    const crashed = (e) =>
      e instanceof Fault ? { fault: e.message } : { fault: `runner crashed: ${e && e.stack ? e.stack : e}` };
    try {
      if (!this.server && SERVER_OPS.includes(c.op)) return { skipped: SERVER_ONLY };
      if (!this.analysis && ANALYSIS_OPS.includes(c.op)) return { skipped: ANALYSIS_ONLY };
      return await this.dispatch(c, policy);
    } catch (e) {
      return crashed(e);
    }
  }

  /** `r` (a JWKS answer), checked against the same JWKS as a KeySet, where the module has one. */
  async viaKeySet(engine, token, keys, now, r) {
    const KeySet = this.t.KeySet;
    if (typeof KeySet !== "function") return r;
    let set;
    try {
      set = new KeySet(keys);
    } catch (e) {
      // A JWKS the set refuses is refused by the JWKS path first, with the same code.
      const made = { error: errorJson(e) };
      if (!r.error || r.error.code !== made.error.code) throw new Fault(`new KeySet(keys) gave ${show(made)}, the JWKS ${show(r)}`);
      return r;
    }
    for (const round of ["fresh", "remembered"]) {
      const got = await attemptAsync(() => engine.verifyJwt(token, set, now));
      if (JSON.stringify(got) !== JSON.stringify(r)) throw new Fault(`through a KeySet (${round}) ${show(got)}, the JWKS ${show(r)}`);
      if (this.sync) {
        const gotSync = attempt(() => engine.verifyJwtSync(token, set, now));
        if (JSON.stringify(gotSync) !== JSON.stringify(r)) throw new Fault(`verifyJwtSync through a KeySet (${round}) ${show(gotSync)}, the JWKS ${show(r)}`);
      }
    }
    return r;
  }

  dispatch(c, policy) {
    const t = this.t;
    const op = text(c, "op");
    if (op === "load_policy") {
      const p = field(c, "policy");
      return attempt(() => {
        new t.Engine(p);
        return { ok: true };
      });
    }
    if (op === "parse_authorization") {
      const header = text(c, "header");
      return attempt(() => t.parseAuthorization(header));
    }
    if (op === "realm") return this.realm(c, policy);
    if (op === "parse_label") {
      const label = text(c, "label");
      let parse;
      if (policy === null || policy === undefined) {
        parse = () => t.parseLabel(label);
      } else {
        const built = this.engine(policy);
        if (built.error) return { error: built.error };
        parse = () => built.engine.parseLabel(label);
      }
      const r = attempt(parse);
      if (r.ok !== undefined) {
        const formatted = t.formatLabel(r.ok);
        if (formatted !== label) throw new Fault(`format gave ${JSON.stringify(formatted)} for ${JSON.stringify(label)}`);
      }
      return r;
    }
    if (op === "diff") {
      // SPEC §9: both policies are inputs (passed as written); no engine of the case's.
      const a = field(c, "policy_a");
      const b = field(c, "policy_b");
      return attempt(() => t.diff(a, b));
    }
    const built = this.engine(policy);
    if (built.error) return { error: built.error };
    const engine = built.engine;
    switch (op) {
      case "who_can": {
        const action = text(c, "action");
        const resource = toCamel(field(c, "resource"));
        return attempt(() => engine.whoCan(action, resource));
      }
      case "permissions": {
        if (("role" in c) === ("principal" in c)) throw new Fault("`permissions` takes a `role` or a `principal`");
        const of = "role" in c ? c.role : toCamel(c.principal);
        return attempt(() => engine.permissions(of));
      }
      case "suggest": {
        const principal = toCamel(field(c, "principal"));
        const action = text(c, "action");
        const resource = toCamel(field(c, "resource"));
        return attempt(() => engine.suggest(principal, action, resource));
      }
      case "authorize":
      case "explain": {
        const principal = toCamel(field(c, "principal"));
        const action = text(c, "action");
        const resource = toCamel(field(c, "resource"));
        const outcome = attempt(() => engine[op](principal, action, resource));
        if (op === "authorize" && "ok" in outcome) {
          const key = JSON.stringify(principal);
          let prepared = this.prepared.get(key);
          if (prepared === undefined) this.prepared.set(key, (prepared = engine.prepare(principal)));
          fastPathAgrees(engine, prepared, action, resource, outcome.ok.allowed);
        }
        return outcome;
      }
      case "capabilities": {
        const principal = toCamel(field(c, "principal"));
        const resource = toCamel(field(c, "resource"));
        return attempt(() => engine.capabilities(principal, resource));
      }
      case "authorize_operation": {
        const principal = toCamel(field(c, "principal"));
        const operation = text(c, "operation");
        if ("context" in c) {
          const context = toCamel(c.context);
          return attempt(() => engine.authorizeOperation(principal, operation, context));
        }
        return attempt(() => engine.authorizeOperation(principal, operation));
      }
      case "verify_jwt": {
        const token = text(c, "token");
        const keys = field(c, "keys");
        const now = caseNow(c);
        // `verifyJwt` is a promise everywhere; where node:crypto exists
        // `verifyJwtSync` must give the same answer (SPEC §6.1.1). The same
        // JWKS as a KeySet (SPEC §6.1.2) must answer alike, fresh and remembered.
        const later = attemptAsync(() => engine.verifyJwt(token, keys, now)).then((r) => this.viaKeySet(engine, token, keys, now, r));
        if (!this.sync) return later;
        const now_ = attempt(() => engine.verifyJwtSync(token, keys, now));
        return later.then((r) => {
          if (JSON.stringify(r) !== JSON.stringify(now_)) {
            throw new Fault(`verifyJwt gave ${show(r)}, verifyJwtSync ${show(now_)}`);
          }
          return now_;
        });
      }
      case "issue_session": {
        const principal = toCamel(field(c, "principal"));
        const key = field(c, "key");
        const now = caseNow(c);
        const options = c.options === undefined ? null : toCamel(c.options);
        return attempt(() => engine.issueSession(principal, key, now, options));
      }
      case "renew_session":
      case "verify_session": {
        const token = text(c, "token");
        const key = field(c, "key");
        const now = caseNow(c);
        const revocations = c.revocations === undefined ? null : toCamel(c.revocations);
        const call = op === "renew_session" ? "renewSession" : "verifySession";
        return attempt(() => engine[call](token, key, now, revocations));
      }
      case "verify_api_token": {
        const secret = text(c, "secret");
        const records = toCamel(field(c, "records"));
        const now = caseNow(c);
        return attempt(() => engine.verifyApiToken(secret, records, now));
      }
      default:
        // The branches above are the ops a vector may name (SPEC §8).
        throw new Fault(`unknown op \`${op}\``);
    }
  }

  // ------------------------------------------------------------ realm steps

  realm(c, policy) {
    const t = this.t;
    const key = field(c, "key");
    if (typeof t.Realm !== "function") {
      throw new Fault("the package exports no `Realm` (the realm binding has not landed)");
    }
    const options = c.options === undefined || c.options === null ? null : toCamel(c.options);
    const build = () =>
      "snapshot" in c ? t.Realm.restore(policy, c.snapshot, key, options) : new t.Realm(policy, key, options);
    let realm;
    try {
      realm = build();
    } catch (e) {
      return { error: errorJson(e) };
    }
    const steps = c.steps;
    if (!Array.isArray(steps)) throw new Fault("case has no `steps` array");
    // SPEC §7.1 change records reach the npm package with its store modules;
    // until then such cases are counted as skipped, with the reason.
    if (typeof realm.changes !== "function" && steps.some((s) => CHANGE_CALLS.has(s && s.call))) {
      return { skipped: "the npm Realm has no change records yet (seq, changes, apply: SPEC §7.1)" };
    }
    const saved = new Map();
    const box = { realm };
    steps.forEach((step, i) => {
      const at = (msg) => new Fault(`step ${i} (${JSON.stringify(step.call)}): ${msg}`);
      if (typeof step.call !== "string") throw at("no `call`");
      let args = {};
      if (step.args !== undefined) {
        args = wrap(at, () => resolve(saved, step.args));
        if (!isPlainObject(args)) throw at("`args` must be an object");
      }
      let now = null;
      if (step.now !== undefined && step.now !== null) {
        if (!Number.isInteger(step.now)) throw at("`now` must be an integer");
        now = step.now;
      }
      const got = wrap(at, () => realmCall(t, box, { policy, key, options }, step.call, args, now));
      if ("expect" in step) {
        const expect = wrap(at, () => resolve(saved, step.expect));
        const diff = compareResult(expect, got);
        if (diff !== null) throw at(diff);
      } else if (got.error) {
        throw at(`expected success, got error ${JSON.stringify(got.error)}`);
      }
      if ("save" in step) {
        if (typeof step.save !== "string" || !/^[A-Za-z0-9_]+$/.test(step.save)) {
          throw at("`save` must be a name of [A-Za-z0-9_]");
        }
        if (got.error) throw at(`cannot save an error (${JSON.stringify(got.error)})`);
        saved.set(step.save, got.ok);
      }
    });
    return { ok: { steps: steps.length } };
  }
}

function wrap(at, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Fault) throw at(e.message);
    throw e;
  }
}

function arg(args, name) {
  if (!Object.prototype.hasOwnProperty.call(args, name)) throw new Fault(`missing argument \`${name}\``);
  return args[name];
}

function argText(args, name) {
  const v = arg(args, name);
  if (typeof v !== "string") throw new Fault(`argument \`${name}\` must be a string`);
  return v;
}

function optText(args, name) {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new Fault(`argument \`${name}\` must be a string or null`);
  return v;
}

function strings(v, name) {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new Fault(`argument \`${name}\` must be an array of strings`);
  }
  return v;
}

/** An optional object argument (actor, options): converted, passed as it is otherwise. */
const optObject = (args, name) => (args[name] === undefined || args[name] === null ? null : toCamel(args[name]));

/** One realm call (docs/realm.md, "Calls"), arguments in call order. */
function realmCall(t, box, c, name, args, now) {
  const r = box.realm;
  const actor = () => optObject(args, "actor");
  switch (name) {
    case "create_user": {
      const a = actor();
      const username = argText(args, "username");
      const password = optText(args, "password");
      const options = optObject(args, "options");
      return attempt(() => r.createUser(a, username, password, options, now));
    }
    case "get_user": {
      const a = actor();
      const id = argText(args, "user_id");
      return attempt(() => r.getUser(a, id));
    }
    case "list_users": {
      const a = actor();
      return attempt(() => r.listUsers(a));
    }
    case "set_roles": {
      const a = actor();
      const roles = strings(arg(args, "roles"), "roles");
      const id = argText(args, "user_id");
      return attempt(() => r.setRoles(a, id, roles));
    }
    case "set_password": {
      const a = actor();
      const id = argText(args, "user_id");
      const password = optText(args, "password");
      return attempt(() => r.setPassword(a, id, password));
    }
    case "delete_user": {
      const a = actor();
      const id = argText(args, "user_id");
      return attempt(() => r.deleteUser(a, id));
    }
    case "login": {
      const username = argText(args, "username");
      const password = argText(args, "password");
      return attempt(() => r.login(username, password, now));
    }
    case "create_api_token": {
      const a = actor();
      const owner = argText(args, "owner");
      const roles = args.roles === undefined || args.roles === null ? null : strings(args.roles, "roles");
      const options = optObject(args, "options");
      return attempt(() => r.createApiToken(a, owner, roles, options, now));
    }
    case "list_api_tokens": {
      const a = actor();
      const owner = optText(args, "owner");
      return attempt(() => r.listApiTokens(a, owner));
    }
    case "suspend_api_token":
    case "resume_api_token":
    case "revoke_api_token": {
      const a = actor();
      const id = argText(args, "token_id");
      const method = camel(name);
      return attempt(() => r[method](a, id));
    }
    case "replace_api_token": {
      const a = actor();
      const id = argText(args, "token_id");
      return attempt(() => r.replaceApiToken(a, id, now));
    }
    case "open_session": {
      const secret = argText(args, "secret");
      return attempt(() => r.openSession(secret, now));
    }
    case "renew": {
      const token = argText(args, "token");
      return attempt(() => r.renew(token, now));
    }
    case "close": {
      const token = argText(args, "token");
      return attempt(() => r.close(token, now));
    }
    case "restart":
      return attempt(() => r.restart());
    case "seq":
      return attempt(() => r.seq());
    case "changes":
    case "changes_text": {
      const after = args.after_seq ?? 0;
      if (!Number.isInteger(after) || after < 0) throw new Fault("`after_seq` must be a non-negative integer");
      const parse = name === "changes" ? (v) => v.map((t) => JSON.parse(t)) : (v) => v;
      // records are the same bytes in every binding: never converted
      return attempt(() => r.changes(after), parse);
    }
    case "apply": {
      const records = arg(args, "records");
      if (!Array.isArray(records)) throw new Fault("`records` must be an array");
      return attempt(() => r.apply(records));
    }
    case "authenticate": {
      const header = argText(args, "header");
      return attempt(() => r.authenticate(header, now));
    }
    case "snapshot":
      // the snapshot document is the same in every binding: never converted
      return attempt(() => checkedSnapshot(r), (v) => v);
    case "restore": {
      const snapshot = arg(args, "snapshot");
      return attempt(() => {
        box.realm = t.Realm.restore(c.policy, snapshot, c.key, c.options);
        return null;
      });
    }
    default:
      throw new Fault(`unknown call \`${name}\``);
  }
}

// --------------------------------------------------------------- references

function lookup(saved, reference) {
  const parts = reference.split(".");
  const name = parts.shift();
  if (!saved.has(name)) throw new Fault(`unknown reference \`\${${reference}}\``);
  let cur = saved.get(name);
  for (const part of parts) {
    let next;
    if (/^[0-9]+$/.test(part)) {
      next = Array.isArray(cur) ? cur[Number(part)] : undefined;
    } else {
      next = isPlainObject(cur) && Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
    }
    if (next === undefined) throw new Fault(`\`\${${reference}}\`: no \`${part}\``);
    cur = next;
  }
  return cur;
}

/** Replaces every `${name.path}` in the strings of `v` (docs/realm.md, "References"). */
export function resolve(saved, v) {
  if (typeof v === "string") return resolveString(saved, v);
  if (Array.isArray(v)) return v.map((x) => resolve(saved, x));
  if (isPlainObject(v)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = resolve(saved, x);
    return out;
  }
  return v;
}

function resolveString(saved, s) {
  if (s.startsWith("${") && s.endsWith("}")) {
    const inner = s.slice(2, -1);
    if (!inner.includes("}") && !inner.includes("${")) return lookup(saved, inner);
  }
  let out = "";
  let rest = s;
  for (;;) {
    const start = rest.indexOf("${");
    if (start < 0) break;
    out += rest.slice(0, start);
    const after = rest.slice(start + 2);
    const end = after.indexOf("}");
    if (end < 0) throw new Fault(`unclosed reference in \`${s}\``);
    const ref = after.slice(0, end);
    const value = lookup(saved, ref);
    if (typeof value === "string") out += value;
    else if (Number.isInteger(value)) out += String(value);
    else throw new Fault(`\`\${${ref}}\` is ${JSON.stringify(value)}, not a string`);
    rest = after.slice(end + 1);
  }
  return out + rest;
}

/**
 * Every `authorize` case also checks the fast path: with a principal prepared
 * once per policy (so its cached answers serve every case that names it),
 * `isAllowed` twice (the second answer surely from the cache) and
 * `authorizeBatch` must give the decision's `allowed`. Resources with an
 * `owners` list are not expressible there and are skipped.
 */
function fastPathAgrees(engine, prepared, action, resource, allowed) {
  if (resource === null || typeof resource !== "object" || Array.isArray(resource.owners)) return;
  const { type, id, owner } = resource;
  const answers = [
    prepared.isAllowed(action, type, id, owner),
    prepared.isAllowed(action, type, id, owner),
    ...engine.authorizeBatch(prepared, [[action, type, id, owner]]),
  ];
  if (answers.some((a) => a !== allowed)) {
    throw new Fault(`fast path disagrees with authorize (${allowed}): isAllowed, cached, batch = ${answers}`);
  }
}

// ---------------------------------------------------------------- comparing

/**
 * JSON equality, except that the expected string "*" matches any non-empty
 * string, and an expected "prefix*" any longer string beginning with prefix.
 */
export function same(expect, actual) {
  if (typeof expect === "string" && expect.endsWith("*")) {
    const prefix = expect.slice(0, -1);
    return typeof actual === "string" && actual.length > prefix.length && actual.startsWith(prefix);
  }
  if (Array.isArray(expect)) {
    return Array.isArray(actual) && expect.length === actual.length && expect.every((e, i) => same(e, actual[i]));
  }
  if (isPlainObject(expect)) {
    if (!isPlainObject(actual)) return false;
    const ek = Object.keys(expect);
    const ak = Object.keys(actual);
    return (
      ek.length === ak.length &&
      ek.every((k) => Object.prototype.hasOwnProperty.call(actual, k) && same(expect[k], actual[k]))
    );
  }
  return expect === actual; // numbers, strings, booleans, null: true is not 1
}

function problemsMatch(expected, actual) {
  const left = [...actual];
  for (const want of expected) {
    const i = left.findIndex((got) => got.code === want.code && (!("path" in want) || got.path === want.path));
    if (i < 0) return false;
    left.splice(i, 1);
  }
  return left.length === 0;
}

const show = (v) => JSON.stringify(v);

/** null when `result` ({ok} / {error} / {fault}) meets `expect`, else why not. */
export function compareResult(expect, result) {
  if (result.fault !== undefined) return `fault: ${result.fault}`;
  if (isPlainObject(expect) && "error" in expect) {
    if (!("error" in result)) return `expected error ${show(expect.error)}, got ${show(result.ok)}`;
    const err = result.error;
    if (err.code !== expect.error) return `expected error ${show(expect.error)}, got error ${show(err)}`;
    for (const k of ["offset", "path"]) {
      if (k in expect && err[k] !== expect[k]) return `expected ${k} ${show(expect[k])}, got error ${show(err)}`;
    }
    if ("problems" in expect) {
      const want = Array.isArray(expect.problems) ? expect.problems : [];
      if (!problemsMatch(want, err.problems ?? [])) {
        return `expected problems ${show(expect.problems)}, got ${show(err.problems ?? [])}`;
      }
    }
    return null;
  }
  if ("error" in result) return `expected ${show(expect)}, got error ${show(result.error)}`;
  return same(expect, result.ok) ? null : `expected ${show(expect)}, got ${show(result.ok)}`;
}

// ------------------------------------------------------------------- files

/**
 * Runs every case of every file: `files` is `[{name, doc}]`, sorted by name.
 * Returns `[{id, file, name, result}]`, plain JSON. A file without a
 * `cases` array, or a case without `expect`, gives a fault entry.
 */
export async function runFiles(tessera, files, options = {}) {
  const runner = new Runner(tessera, options);
  const out = [];
  for (const { name, doc } of files) {
    if (!isPlainObject(doc) || !Array.isArray(doc.cases)) {
      out.push({ id: `${name}::<file>`, file: name, name: "<file>", result: { fault: "no `cases` array" } });
      continue;
    }
    const filePolicy = doc.policy === undefined ? null : doc.policy;
    for (const c of doc.cases) {
      const caseName = isPlainObject(c) && typeof c.name === "string" ? c.name : "<unnamed>";
      const id = `${name}::${caseName}`;
      if (!isPlainObject(c) || !("expect" in c)) {
        out.push({ id, file: name, name: caseName, result: { fault: "no `expect`" } });
        continue;
      }
      const policy = "policy" in c ? c.policy : filePolicy;
      out.push({ id, file: name, name: caseName, result: await runner.run(c, policy) });
    }
  }
  return out;
}

/** Compares the results of `runFiles` with the expectations in `files` (looked up by id, not
 * taken from the results, so that a page cannot vouch for itself). */
export function judge(files, results) {
  const expected = new Map();
  for (const { name, doc } of files) {
    for (const c of doc.cases ?? []) expected.set(`${name}::${c.name}`, c);
  }
  const failures = [];
  let passed = 0;
  const skipped = new Map();
  const seen = new Set();
  for (const r of results) {
    seen.add(r.id);
    const c = expected.get(r.id);
    if (c !== undefined && r.result && typeof r.result.skipped === "string") {
      skipped.set(r.result.skipped, (skipped.get(r.result.skipped) ?? 0) + 1);
      continue;
    }
    const diff = c === undefined ? `no such case (${show(r.result)})` : compareResult(c.expect, r.result);
    if (diff === null) passed += 1;
    else failures.push(`${r.id}: ${diff}`);
  }
  for (const id of expected.keys()) if (!seen.has(id)) failures.push(`${id}: no result (skipped)`);
  return { passed, failures, skipped };
}
