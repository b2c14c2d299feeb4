// Node decisions: tessera-policy (WebAssembly) vs @casl/ability vs casbin, on
// one policy written three ways, in the same run (mitata).
//
//   node bench/bench.mjs                 print the figures
//   node bench/bench.mjs --write FILE    also rewrite the section
//                                        "## Node decisions vs CASL and casbin" of FILE
//                                        (sizes are written by hand from pkg/size.json)
//
// Before timing anything, the three engines must agree on every check of the
// cross product below; the benchmark refuses to run otherwise.
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { bench, group, run, do_not_optimize } from "mitata";
import { AbilityBuilder, createMongoAbility, subject } from "@casl/ability";
import { newEnforcer, newModelFromString, StringAdapter } from "casbin";
import { Engine } from "../pkg/dist/node.mjs";
import { writeSection } from "./report.mjs";

const load = loadavg()[0].toFixed(1);
const write = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : null;

// ------------------------------------------------------------ the policy

// tessera: roles with inheritance, `own_` labels and a deny.
const POLICY = {
  version: 1,
  roles: {
    user: { permissions: ["read_own_device", "update_own_device", "pull_own_stream"] },
    manager: { inherits: ["user"], permissions: ["read_device", "read_user"] },
    admin: { inherits: ["user"], permissions: ["admin_device", "admin_user", "!delete_token"] },
  },
};
const ROLES = { user: [], manager: ["user"], admin: ["user"] };
const USERS = {
  alice: { id: "alice", roles: ["user"] },
  bob: { id: "bob", roles: ["user"] },
  dave: { id: "dave", roles: ["manager"] },
  carol: { id: "carol", roles: ["admin"] },
};
const ACTIONS = ["read", "create", "update", "delete", "push", "pull", "execute"];

// CASL: the same rules per role; `own_` is a condition on `owner`; admin_X is
// `manage` on X; the deny is `cannot`. Roles are expanded by inheritance.
function caslAbility(user) {
  const { can, cannot, build } = new AbilityBuilder(createMongoAbility);
  const roles = expand(user.roles);
  if (roles.has("user")) {
    can(["read", "update"], "device", { owner: user.id });
    can("pull", "stream", { owner: user.id });
  }
  if (roles.has("manager")) {
    can("read", "device");
    can("read", "user");
  }
  if (roles.has("admin")) {
    can("manage", "device");
    can("manage", "user");
    cannot("delete", "token");
  }
  return build();
}

function expand(roles) {
  const out = new Set();
  const queue = [...roles];
  while (queue.length) {
    const r = queue.shift();
    if (out.has(r)) continue;
    out.add(r);
    queue.push(...(ROLES[r] ?? []));
  }
  return out;
}

// casbin: RBAC (g) plus an ownership column; "*" is every action; deny wins.
const CASBIN_MODEL = `
[request_definition]
r = sub, typ, owner, act

[policy_definition]
p = sub, typ, act, scope, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && r.typ == p.typ && (p.act == "*" || r.act == p.act) && (p.scope == "any" || r.owner == r.sub)
`;
const CASBIN_POLICY = `
p, role:user, device, read, own, allow
p, role:user, device, update, own, allow
p, role:user, stream, pull, own, allow
p, role:manager, device, read, any, allow
p, role:manager, user, read, any, allow
p, role:admin, device, *, any, allow
p, role:admin, user, *, any, allow
p, role:admin, token, delete, any, deny
g, role:manager, role:user
g, role:admin, role:user
g, alice, role:user
g, bob, role:user
g, dave, role:manager
g, carol, role:admin
`;

// ------------------------------------------------------------ set-up

const engine = new Engine(POLICY);
const prepared = Object.fromEntries(Object.entries(USERS).map(([k, u]) => [k, engine.prepare(u)]));
const abilities = Object.fromEntries(Object.entries(USERS).map(([k, u]) => [k, caslAbility(u)]));
const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(CASBIN_POLICY));

const DEVICES = Array.from({ length: 100 }, (_, i) => ({ id: `d${i}`, owner: ["alice", "bob", "dave", "carol"][i % 4] }));
const resource = (type, id, owner) => ({ type, ...(id ? { id } : {}), ...(owner ? { owner } : {}) });
// CASL checks plain objects tagged once with their type (its `subject()` helper).
const caslSubject = (type, id, owner) => subject(type, { id, owner });

const decide = {
  tessera: (u, a, t, id, owner) => prepared[u].isAllowed(a, t, id, owner),
  casl: (u, a, t, id, owner) => abilities[u].can(a, caslSubject(t, id, owner)),
  casbin: (u, a, t, id, owner) => enforcer.enforceSync(u, t, owner ?? "", a),
};

// Equivalence: the three agree on users × actions × (device, stream, user, token) × owners.
let compared = 0;
for (const u of Object.keys(USERS)) {
  for (const a of ACTIONS) {
    for (const t of ["device", "stream", "user", "token"]) {
      for (const owner of ["alice", "bob", "nobody"]) {
        const answers = Object.values(decide).map((f) => f(u, a, t, "x1", owner));
        if (new Set(answers).size !== 1) {
          console.error(`the engines disagree on ${u} ${a} ${t} owner=${owner}: ${answers}`);
          process.exit(1);
        }
        compared++;
      }
    }
  }
}
console.log(`equivalence: tessera, CASL and casbin agree on ${compared} checks`);

// A mix of checks: allows, denials, the explicit deny, ownership both ways.
const MIX = [
  ["alice", "read", "device", "d1", "alice"],
  ["alice", "read", "device", "d2", "bob"],
  ["alice", "update", "device", "d1", "alice"],
  ["bob", "pull", "stream", "s1", "bob"],
  ["dave", "read", "device", "d9", "carol"],
  ["dave", "delete", "device", "d9", "carol"],
  ["carol", "delete", "device", "d2", "bob"],
  ["carol", "delete", "token", "t1", "carol"],
];
const MIX_OBJECTS = MIX.map(([u, a, t, id, owner]) => ({ u, a, r: resource(t, id, owner), s: caslSubject(t, id, owner) }));
const LIST_ALICE = DEVICES.map((d) => ["update", "device", d.id, d.owner]);
const LIST_CASL = DEVICES.map((d) => caslSubject("device", d.id, d.owner));

// Per-instance grants: an installer may update devices d1..d5 only. The answer
// depends on the id: tessera's cached answers hold one entry per named id.
const PINNED_IDS = ["d1", "d2", "d3", "d4", "d5"];
const pinnedEngine = new Engine({
  version: 1,
  roles: { installer: { permissions: PINNED_IDS.map((d) => `update_device:${d}`) } },
});
const pinned = pinnedEngine.prepare({ id: "ian", roles: ["installer"] });
const pinnedAbility = (() => {
  const { can, build } = new AbilityBuilder(createMongoAbility);
  can("update", "device", { id: { $in: PINNED_IDS } });
  return build();
})();
DEVICES.forEach((d, i) => {
  const answers = [pinned.isAllowed("update", "device", d.id, d.owner), pinnedAbility.can("update", LIST_CASL[i])];
  if (answers[0] !== answers[1] || answers[0] !== PINNED_IDS.includes(d.id)) {
    console.error(`the engines disagree on installer update ${d.id}: ${answers}`);
    process.exit(1);
  }
});

// ------------------------------------------------------------ benchmarks

const PER = { mix: MIX.length, list: DEVICES.length, pinned: DEVICES.length, cold: MIX.length };

group("mix: 8 checks, 4 principals prepared once", () => {
  bench("tessera prepared.isAllowed", () => {
    for (const [u, a, t, id, owner] of MIX) do_not_optimize(prepared[u].isAllowed(a, t, id, owner));
  });
  bench("casl ability.can", () => {
    for (const m of MIX_OBJECTS) do_not_optimize(abilities[m.u].can(m.a, m.s));
  });
  bench("casbin enforceSync", () => {
    for (const [u, a, t, , owner] of MIX) do_not_optimize(enforcer.enforceSync(u, t, owner, a));
  });
});

group("list: may alice update each of 100 devices?", () => {
  bench("tessera isAllowed ×100", () => {
    const p = prepared.alice;
    for (const d of DEVICES) do_not_optimize(p.isAllowed("update", "device", d.id, d.owner));
  });
  bench("tessera authorizeBatch(100)", () => {
    do_not_optimize(engine.authorizeBatch(prepared.alice, LIST_ALICE));
  });
  bench("casl can ×100", () => {
    const ab = abilities.alice;
    for (const s of LIST_CASL) do_not_optimize(ab.can("update", s));
  });
  bench("casbin enforceSync ×100", () => {
    for (const d of DEVICES) do_not_optimize(enforcer.enforceSync("alice", "device", d.owner, "update"));
  });
});

group("pinned: per-instance grants, 100 devices (answers differ by id)", () => {
  bench("tessera isAllowed ×100", () => {
    for (const d of DEVICES) do_not_optimize(pinned.isAllowed("update", "device", d.id, d.owner));
  });
  bench("casl can ×100", () => {
    for (const s of LIST_CASL) do_not_optimize(pinnedAbility.can("update", s));
  });
});

group("cold: 8 requests, principal from scratch each time", () => {
  bench("tessera authorize(principal, action, resource)", () => {
    for (const m of MIX_OBJECTS) do_not_optimize(engine.authorize(USERS[m.u], m.a, m.r).allowed);
  });
  bench("casl build ability + can", () => {
    for (const m of MIX_OBJECTS) do_not_optimize(caslAbility(USERS[m.u]).can(m.a, m.s));
  });
  bench("casbin enforceSync", () => {
    for (const [u, a, t, , owner] of MIX) do_not_optimize(enforcer.enforceSync(u, t, owner, a));
  });
});

const result = await run({ colors: false });

// ------------------------------------------------------------ report

const rows = result.benchmarks.map((b) => {
  const name = b.alias;
  const g = result.layout[b.group]?.name ?? "";
  const per = PER[g.split(":")[0]];
  return { group: g, name, ns: b.runs[0].stats.avg / per, p50: b.runs[0].stats.p50 / per };
});
const caslOf = (g) => rows.find((r) => r.group === g && r.name.startsWith("casl")).ns;
const lines = [];
let currentGroup = null;
for (const r of rows) {
  if (r.group !== currentGroup) {
    currentGroup = r.group;
    lines.push("", `**${r.group}**`, "", "| engine / call | ns per check (mean) | ns per check (p50) | × CASL |", "| --- | ---: | ---: | ---: |");
  }
  lines.push(`| ${r.name} | ${r.ns.toFixed(0)} | ${r.p50.toFixed(0)} | ${(r.ns / caslOf(r.group)).toFixed(2)} |`);
}
const table = lines.join("\n");
console.log(table);

if (write) {
  const versions = {
    node: process.version,
    casl: JSON.parse(readFileSync(new URL("../node_modules/@casl/ability/package.json", import.meta.url))).version,
    casbin: JSON.parse(readFileSync(new URL("../node_modules/casbin/package.json", import.meta.url))).version,
    mitata: JSON.parse(readFileSync(new URL("../node_modules/mitata/package.json", import.meta.url))).version,
  };
  const nodeSection = [
    "Command: `make bench-wasm` (`node bench/bench.mjs --write BENCHMARKS.md` in `bindings-wasm/`,",
    `mitata ${versions.mitata}), ${versions.node}, @casl/ability ${versions.casl}, casbin ${versions.casbin},`,
    `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${load} at the start (the cores are shared`,
    "with other work: read the ratios). Figures are per check (a benchmark's time divided by",
    "the checks it makes). The same policy is written for each engine (roles with inheritance,",
    "ownership, an explicit deny), and the run refuses to start unless the three give the same",
    `answer on all ${compared} checks of users × actions × types × owners.`,
    "",
    "- **mix**: principals are prepared once (`engine.prepare`, a CASL ability per user, casbin's",
    "  role graph); tessera's `isAllowed(action, type, id, owner)` takes strings; CASL checks",
    "  pre-tagged plain objects.",
    "- **list**: one principal, 100 devices; `authorizeBatch` answers all in one call.",
    "- **pinned**: per-instance grants (`update_device:d1` …), so the answer depends on the id.",
    "- **cold**: a principal object per request (as from a token): tessera converts it and",
    "  resolves its roles per call; CASL builds an ability per request; casbin is stateless.",
    "",
    "How tessera's fast check works: for an action and a type, the core gives a prepared",
    "principal's answers for every resource at once (`Engine::answers`): for a type-level",
    "resource, one the principal owns, anyone else's, and the same two for each id that a rule",
    "names, since nothing else about a resource can change the answer. The package keeps them",
    "per prepared principal and picks one in JS, until the core's generation counter (read in",
    "place from WebAssembly memory) shows that some policy was replaced; the module is entered",
    "once per principal, action and type. (The core's own `Engine::is_allowed` is 36 ns",
    "natively, `cargo bench -p tessera --bench decide`.) In the cold path a principal and a",
    "resource of the common shape (strings and lists of strings) cross without JSON: their",
    "strings are written into the module's scratch buffer and their lengths into a word",
    "buffer (npm/src/flat.mjs); any other shape goes through JSON (2.28× CASL before this).",
    table,
    "",
  ].join("\n");
  writeSection(write, "## Node decisions vs CASL and casbin", nodeSection);
}
