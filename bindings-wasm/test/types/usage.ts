// A typed tour of the whole API, checked by `tsc --noEmit` (make test-wasm).
// Lines marked @ts-expect-error must stay errors: they prove the types are precise.
import {
  Engine,
  PreparedPrincipal,
  TesseraError,
  LabelError,
  PolicyError,
  TokenError,
  ArgumentError,
  RealmError,
  Realm,
  PostgresRealm,
  PostgresStore,
  type PostgresRealmOptions,
  type PostgresUrl,
  KeySet,
  type KeySetOptions,
  type KeySetSettings,
  type User,
  type RealmSnapshot,
  InternalError,
  parseLabel,
  formatLabel,
  reasons,
  parseAuthorization,
  suspendApiToken,
  resumeApiToken,
  revokeApiToken,
  diff,
  type WhoCan,
  type Permissions,
  type Diff,
  type Suggestions,
  type RoleGraph,
  type Decision,
  type Explanation,
  type Edit,
  type Label,
  type Principal,
  type Resource,
  type PolicyDocument,
  type SessionGrant,
  type NewApiToken,
  type ApiTokenRecord,
  type VerifiedPrincipal,
  type Reason,
  type Source,
  type Jwks,
  type Problem,
  type ErrorKind,
} from "tessera-policy";

const policy: PolicyDocument = {
  version: 1,
  roles: { user: { permissions: ["read_own_device"] }, admin: { inherits: ["user"], permissions: ["admin_device"] } },
  groups: { administrators: ["admin"] },
  grants: [{ principal: "u-7", permissions: ["update_device:dev-42"] }],
  operations: {
    "Auth.InitiateAuth": { access: "public" },
    "Projects.CreateProject": { access: { groups_all: ["managers"] } },
    "DELETE /api/v1/devices/{id}": { permission: "delete_device" },
  },
  tokens: { jwt: { issuers: ["https://issuer.example"], algorithms: ["RS256"], leeway_seconds: 5 }, session: { ttl_seconds: 60 } },
};
const engine = new Engine(policy);
const fromText = new Engine(JSON.stringify(policy));
fromText.load(policy);
engine.load("{}");

const alice: Principal = { id: "alice", roles: ["user"], expiresAt: 10, sessionId: "s", credential: "session" };
const device: Resource = { type: "device", id: "d1", owner: "alice", owners: ["bob"] };

const d: Decision = engine.authorize(alice, "read", device);
const allowed: boolean = d.allowed;
const reason: Reason = d.reason;
const rule: string | null = d.rule;
const source: Source | null = d.source;
const message: string | undefined = d.message;
const x: Explanation = engine.explain(alice, "read", device);
const roles: string[] = x.effectiveRoles.concat(x.unknownRoles);
const effect: "allow" | "deny" | undefined = x.matched[0]?.effect;
const firstEdit: Edit | undefined = x.suggestions[0]?.edits[0];
if (firstEdit?.change === "add_label") firstEdit.role satisfies string;
const caps: string[] = engine.capabilities(alice, device);
const op: Decision = engine.authorizeOperation(null, "Auth.InitiateAuth");
engine.authorizeOperation(alice, "DELETE /api/v1/devices/d1", { owner: "alice" });
engine.authorizeOperation(alice, "X", null);

const label: Label = parseLabel("!read_own_device");
const subject: string | null = label.subject;
engine.parseLabel("admin").own satisfies boolean;
formatLabel(label) satisfies string;
const reasonTable: readonly Reason[] = reasons();
reasonTable.includes("denied") satisfies boolean;

const me: PreparedPrincipal = engine.prepare(alice);
const fast: boolean = me.isAllowed("read", "device", "d1", "alice") && me.isAllowed("create", "device") && me.isAllowed("read", "device", null, null);
const full: Decision = me.authorize("read", device);
const mine: Principal = me.principal;
const effective: string[] = me.effectiveRoles;
const batch: boolean[] = engine.authorizeBatch(me, [["read", "device", "d1", "alice"], ["update", "device"], ["read", "device", null, "bob"]]);
me.free();

const jwks: Jwks = { keys: [{ kty: "RSA", kid: "k1", n: "...", e: "AQAB", alg: "RS256", use: "sig" }] };
const jwtPrincipal: VerifiedPrincipal = engine.verifyJwtSync("a.b.c", jwks, 1_700_000_000);
const claim: unknown = jwtPrincipal.claims?.["cognito:groups"];
const later: Promise<VerifiedPrincipal> = engine.verifyJwt("a.b.c", JSON.stringify(jwks));
void later;

// Key sets (SPEC §6.1.2): every option, each also null (the default).
const given = new KeySet(jwks);
const givenText = new KeySet(JSON.stringify(jwks));
const options: KeySetOptions = { timeoutSeconds: 2.5, maxBytes: 65536, cacheSeconds: 300, cooldownSeconds: 10, fetch: globalThis.fetch };
const defaults: KeySetOptions = { timeoutSeconds: null, maxBytes: null, cacheSeconds: null, cooldownSeconds: null, fetch: null };
const fromUrl: KeySet = KeySet.fromUrl("https://idp.example/.well-known/jwks.json", options);
const pool: KeySet = KeySet.cognito("us-east-1", "us-east-1_AbCdEf123", defaults);
void KeySet.fromUrl("http://127.0.0.1:8080/jwks", null);
void KeySet.cognito("eu-west-1", "eu-west-1_Pool");
const discovered: Promise<KeySet> = KeySet.oidc("https://login.example.com", {
  fetch: (url: string, init: RequestInit) => fetch(url, init),
});
void discovered;
const refreshed: Promise<void> = pool.refresh(1_700_000_000);
void refreshed;
void pool.refresh(null);
void pool.refresh();
const due: boolean = pool.needsFetch(null) || fromUrl.needsFetch(1_700_000_000) || given.needsFetch();
const where: string | null = pool.url;
const vouches: string | null = pool.issuer;
const held: number = given.size + givenText.attempts;
const settings: KeySetSettings = pool.options;
const seconds: number = settings.timeoutSeconds + settings.maxBytes + settings.cacheSeconds + settings.cooldownSeconds;
void [due, where, vouches, held, seconds];
const viaSet: Promise<VerifiedPrincipal> = engine.verifyJwt("a.b.c", pool, 1_700_000_000);
const viaSetNow: Promise<VerifiedPrincipal> = engine.verifyJwt("a.b.c", pool, null);
const viaSetSync: VerifiedPrincipal = engine.verifyJwtSync("a.b.c", given);
void [viaSet, viaSetNow, viaSetSync];
// @ts-expect-error: a KeySet has no public constructor from a URL
void new KeySet("https://idp.example/jwks", options);
// @ts-expect-error: options are numbers
void KeySet.fromUrl("https://idp.example/jwks", { timeoutSeconds: "5" });
// @ts-expect-error: url is read-only
pool.url = "https://other.example";
const key = { kty: "oct", k: "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI" };
const grant: SessionGrant = engine.issueSession(alice, key, 1000, { sessionId: "s-1", apiTokenId: "t", limits: ["read_device"], epoch: 2 });
const renewed: SessionGrant = engine.renewSession(grant.token, key, 2000, { sessions: [], subjects: [], apiTokens: [], epoch: 1 });
const viaSession: VerifiedPrincipal = engine.verifySession(renewed.token, JSON.stringify(key));
const until: number = grant.renewableUntil + grant.expiresAt;
const made: NewApiToken = engine.createApiToken("alice", ["user"], undefined, { lifespanSeconds: 3600, limits: ["read_device"] });
const record: ApiTokenRecord = made.record;
const createdAt: number = record.createdAt;
const expiresAt: number | null = record.expiresAt;
const viaApi: VerifiedPrincipal = engine.verifyApiToken(made.secret, [record], 5);
const [created, revoked]: [NewApiToken, ApiTokenRecord] = engine.replaceApiToken(record);
const states: ApiTokenRecord["state"][] = [suspendApiToken(record).state, resumeApiToken(record).state, revokeApiToken(revoked).state];
const bearer: string = parseAuthorization("Bearer abc");

try {
  engine.verifySession("t", key);
} catch (e) {
  if (e instanceof TokenError) {
    const code: "expired" | "revoked" | string = e.code;
    const kind: "token" = e.kind;
    void code, kind;
  } else if (e instanceof LabelError) {
    const offset: number | undefined = e.offset;
    void offset;
  } else if (e instanceof PolicyError) {
    const problems: Problem[] = e.problems;
    const path: string | undefined = problems[0]?.path;
    void path;
  } else if (e instanceof TesseraError) {
    const kind: ErrorKind = e.kind;
    const isError: Error = e;
    void kind, isError;
  }
}
const errorClasses = [ArgumentError, RealmError, InternalError].map((C) => C.name);

// @ts-expect-error: resources need a type
engine.authorize(alice, "read", { id: "d1" });
// @ts-expect-error: roles are a list
engine.authorize({ roles: "admin" }, "read", device);
// @ts-expect-error: keys are camelCase
engine.authorize({ expires_at: 5 }, "read", device);
// @ts-expect-error: isAllowed takes strings
me.isAllowed("read", { type: "device" });
// @ts-expect-error: batch requests are strings, not resources
engine.authorizeBatch(me, [["read", device]]);
// @ts-expect-error: now is a number
engine.verifySession("t", key, "soon");
// @ts-expect-error: decisions are read, not invented
const bogus: Reason = "maybe";
// @ts-expect-error: PreparedPrincipal comes from engine.prepare
new PreparedPrincipal();
// @ts-expect-error: the policy version is 1
new Engine({ version: 2 });
// @ts-expect-error: capabilities are strings
const wrongCaps: number[] = engine.capabilities(alice, device);

void [allowed, reason, rule, source, message, roles, effect, caps, op, subject, fast, full, mine, effective, batch];
void [claim, viaSession, until, createdAt, expiresAt, viaApi, created, states, bearer, errorClasses, bogus, wrongCaps];

// ------------------------------------------------------------------ realm
const realmPolicy = { version: 1 as const, roles: { user: {}, admin: {} } };
const realmKey = { kty: "oct", k: "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI" };
const realm = new Realm(realmPolicy, realmKey, { argon2: { memoryKib: 8, iterations: 1, parallelism: 1 } });
const realmWithKeys = new Realm(realmPolicy, realmKey, { jwks: KeySet.cognito("us-east-1", "us-east-1_AbCdEf123") });
const realmNoKeys = new Realm(realmPolicy, realmKey, { jwks: null });
const asyncPrincipal: Promise<VerifiedPrincipal> = realmWithKeys.authenticateAsync("Bearer a.b.c", 1_700_000_000);
void [realmNoKeys, asyncPrincipal, realmWithKeys.authenticateAsync("a.b.c", null), realmWithKeys.authenticate("a.b.c")];
const first: User = realm.createUser(null, "ann", "pw", { id: "u-ann" }, 0);
const realmGrant = realm.login("ann", "pw");
const actor = realm.authenticate(`Bearer ${realmGrant.token}`, 1);
const users: User[] = realm.listUsers(actor);
realm.setRoles(actor, first.id, ["admin"]);
realm.setPassword(actor, first.id, null);
const madeToken = realm.createApiToken(actor, first.id, null, { lifespanSeconds: 60 });
const records = realm.listApiTokens(actor);
realm.suspendApiToken(actor, madeToken.record.id);
realm.resumeApiToken(actor, madeToken.record.id);
const replaced = realm.replaceApiToken(actor, madeToken.record.id);
realm.revokeApiToken(actor, replaced.record.id);
realm.renew(realm.openSession(madeToken.secret).token);
realm.close(realmGrant.token);
realm.restart();
realm.deleteUser(actor, first.id);
const snap: RealmSnapshot = realm.snapshot();
const restored: Realm = Realm.restore(realmPolicy, JSON.stringify(snap), realmKey);
const shared: Engine = restored.engine;
restored.getUser(null, "u-ann");
void [users, records, shared];
// @ts-expect-error actor is required (null for anonymous)
realm.listUsers();
// @ts-expect-error setPassword needs a string or null
realm.setPassword(actor, "u", undefined);

// Every value docs/tokens.md tells users to write for `tokens.jwt` (SPEC §6.1).
const generic: PolicyDocument = {
  version: 1,
  tokens: {
    jwt: {
      issuers: ["https://tenant.auth0.com/"],
      token_use: null,
      client_ids: null,
      audiences: ["https://api.example.com"],
      typ: ["at+jwt"],
      any_audience: false,
      max_age_seconds: null,
      claims: { groups: "/realm_access/roles", scopes: "scp" },
    },
  },
};
const anyAudience: PolicyDocument = {
  version: 1,
  tokens: { jwt: { issuers: ["https://idp"], token_use: null, client_ids: null, audiences: null, any_audience: true, typ: null } },
};
const cognitoIds: PolicyDocument = {
  version: 1,
  tokens: { jwt: { issuers: ["https://idp"], token_use: ["access", "id"], client_ids: ["app"], audiences: ["app"] } },
};
void [new Engine(generic), new Engine(anyAudience), new Engine(cognitoIds)];
// @ts-expect-error token_use is "access" or "id"
const badUse: PolicyDocument = { version: 1, tokens: { jwt: { token_use: ["refresh"] } } };
void badUse;
// Raw session secrets (SPEC §6.2): a Uint8Array (a Buffer is one).
const rawSecret = new Uint8Array(32);
const rawGrant: SessionGrant = engine.issueSession(alice, rawSecret, 1_700_000_000);
engine.verifySession(rawGrant.token, rawSecret, 1_700_000_000);
engine.renewSession(rawGrant.token, rawSecret);
void new Realm(policy, rawSecret);
// Analysis (SPEC §9).
const auditor = new Engine({ version: 1, roles: { user: { permissions: ["read_own_device"] } } });
const who: WhoCan = auditor.whoCan("read", { type: "device", id: "d1" });
const ownerOnly: boolean = who.holders[0].whenOwner && who.allowedBy[0].condition === "own";
const table: Permissions = auditor.permissions("user");
const cellScope: "all" | "own" | "instance" | "own_instance" = table.cells[0].scope;
const changed: Diff = diff({ version: 1 }, JSON.stringify({ version: 1 }));
const same: boolean = auditor.diff({ version: 1 }).empty || changed.vocabulary.actionsAdded.length > 0;
const fixes: Suggestions = auditor.suggest({ id: "u" }, "read", { type: "device" });
const firstFix = fixes.suggestions[0]?.edits[0];
if (firstFix?.change === "add_label") void firstFix.role;
const graph: RoleGraph = auditor.roleGraph();
void [ownerOnly, cellScope, same, graph.roles[0].denies];
// @ts-expect-error permissions takes a role name or a principal
auditor.permissions(3);
// Change records (SPEC §7.1).
const seqNow: number = realm.seq();
const changeTexts: string[] = realm.changes(0);
const appliedTo: number = realm.apply([...changeTexts, { seq: seqNow + 1, kind: "epoch_raised", epoch: 1 }]);
void appliedTo;
// The PostgreSQL store (SPEC §7.1): Realm.open on a postgresql:// URL is a promise, writes are too.
async function postgresTour(): Promise<void> {
  const options: PostgresRealmOptions = { argon2: { memoryKib: 8 }, realm: "default", maxLagSeconds: 1, store: { poolSize: 4, lockTimeoutMs: 500 } };
  const pg: PostgresRealm = await Realm.open(realmPolicy, realmKey, "postgresql://app@db/app", options);
  const made: User = await pg.createUser(null, "root", "pw", { id: "u-root" });
  const grant: SessionGrant = await pg.login(made.username, "pw");
  const who: VerifiedPrincipal = pg.authenticate(`Bearer ${grant.token}`, null, pg.writtenSeq);
  const whoAsync: VerifiedPrincipal = await pg.authenticateAsync(`Bearer ${grant.token}`, null, pg.writtenSeq);
  void whoAsync;
  const tok: NewApiToken = await pg.createApiToken(who, made.id, null, { lifespanSeconds: 60 });
  const gone: ApiTokenRecord = await pg.revokeApiToken(who, tok.record.id);
  const reached: number = await pg.sync(pg.writtenSeq);
  const listed: User[] = pg.listUsers(who);
  await pg.restart();
  await pg.closeStore();
  const store: PostgresStore = await PostgresStore.connect("postgresql://app@db/app", { realm: "other" });
  const again: PostgresRealm = await Realm.open(realmPolicy, realmKey, store);
  const fromEnv: string = "postgresql://app@db/app";
  const typed: PostgresRealm = await Realm.open(realmPolicy, realmKey, fromEnv as PostgresUrl, { realm: "env" });
  void typed;
  const nothing: void = await again.setPassword(who, made.id, null);
  void [gone, reached, listed, nothing, store.listening];
  // @ts-expect-error a write is a promise, not a user
  const notYet: User = pg.createUser(null, "x");
  void notYet;
  // @ts-expect-error maxLagSeconds is a number of seconds
  void Realm.open(realmPolicy, realmKey, "postgresql://app@db/app", { maxLagSeconds: "1s" });
}
void postgresTour;
