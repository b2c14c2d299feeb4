//! The analysis differential (SPEC §9): random policies, each checked against
//! brute force over every request of a bounded universe — every principal
//! shape (id, roles, groups, own labels, limits) × action × subject ×
//! ownership × named instance:
//!
//! - `who_can` agrees with `authorize` on every request (and each holder's
//!   answer alone agrees with a principal that holds only it);
//! - `diff(a, b)` (a random mutation `b` of `a`) reports no decision change
//!   exactly when brute force finds no request that the two decide apart;
//! - every suggestion for a denied request allows it once applied (applied
//!   here, from its JSON, not by the core's own `Edit::apply`).
//!
//! Policies come from a seeded generator of its own (no dependency), so a
//! failure is reproduced by its seed and policy number.

use serde_json::{json, Value};
use tessera::analysis::{Condition, HolderKind, WhoCan};
use tessera::{Engine, Principal, Resource};

/// splitmix64: small, seedable, good enough to spread cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn some<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let mut out: Vec<T> = Vec::new();
        let mut pool: Vec<T> = items.to_vec();
        for _ in 0..self.below(max.min(items.len()) + 1) {
            let i = self.below(pool.len());
            out.push(pool.remove(i));
        }
        out
    }
}

const ACTIONS: &[&str] = &["read", "update", "delete", "push"];
const SUBJECTS: &[&str] = &["device", "stream", "user_group"];
const INSTANCES: &[&str] = &["i1", "i2"];
const IDS: &[&str] = &["u1", "u2"];
/// A principal id that no grant ever names, so that roles can own things.
const LONER: &str = "u3";

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn label(rng: &mut Rng, actions: &[String], subjects: &[String], deny_percent: u64) -> String {
    let a = rng.pick(actions).clone();
    let s = rng.pick(subjects).clone();
    let i = rng.pick(INSTANCES);
    let text = match rng.below(9) {
        0 | 1 => format!("{a}_{s}"),
        2 => format!("{a}_own_{s}"),
        3 => format!("{a}_{s}:{i}"),
        4 => format!("admin_{s}"),
        5 => format!("admin_own_{s}"),
        6 => format!("admin_{s}:{i}"),
        7 => "admin".to_string(),
        _ => "admin_own".to_string(),
    };
    if rng.chance(deny_percent) {
        format!("!{text}")
    } else {
        text
    }
}

fn labels(rng: &mut Rng, actions: &[String], subjects: &[String], max: usize) -> Vec<String> {
    (0..rng.below(max + 1))
        .map(|_| label(rng, actions, subjects, 25))
        .collect()
}

/// A random policy: up to 3 roles (inheriting only later ones: no cycles),
/// up to 2 groups, grants for `u1`/`u2`, a few operations.
pub fn policy(rng: &mut Rng) -> Value {
    let actions: Vec<String> = pick_names(rng, ACTIONS, 2);
    let subjects: Vec<String> = pick_names(rng, SUBJECTS, 2);
    let names: Vec<String> = (0..rng.below(4)).map(|i| format!("r{i}")).collect();
    let mut roles = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        let mut role = serde_json::Map::new();
        let parents = rng.some(&names[i + 1..], 2);
        if !parents.is_empty() {
            role.insert("inherits".into(), json!(parents));
        }
        role.insert("permissions".into(), json!(labels(rng, &actions, &subjects, 3)));
        roles.insert(name.clone(), Value::Object(role));
    }
    let mut doc = json!({"version": 1, "actions": actions, "subjects": subjects, "roles": roles});
    let groups: serde_json::Map<String, Value> = (0..rng.below(3))
        .map(|g| (format!("g{g}"), json!(rng.some(&names, 2))))
        .collect();
    if !groups.is_empty() {
        doc["groups"] = Value::Object(groups);
    }
    let grants: Vec<Value> = (0..rng.below(3))
        .map(|_| json!({"principal": rng.pick(IDS), "permissions": labels(rng, &actions, &subjects, 2)}))
        .collect();
    if !grants.is_empty() {
        doc["grants"] = json!(grants);
    }
    if rng.chance(50) {
        let mut ops = serde_json::Map::new();
        for i in 0..rng.below(3) {
            let mut entry = json!({"permission": format!("{}_{}", rng.pick(&actions), rng.pick(&subjects))});
            if !names.is_empty() && rng.chance(40) {
                entry["access"] = json!({"roles_any": [rng.pick(&names)]});
            }
            ops.insert(format!("Svc.Op{i}"), entry);
        }
        doc["operations"] = Value::Object(ops);
    }
    doc
}

fn pick_names(rng: &mut Rng, pool: &[&str], max: usize) -> Vec<String> {
    let pool: Vec<String> = pool.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    while out.is_empty() {
        out = rng.some(&pool, max);
    }
    out
}

/// A small change to a policy (or none at all): the other side of a diff.
pub fn mutate(rng: &mut Rng, doc: &Value) -> Value {
    let mut b = doc.clone();
    let mut vocabulary = false;
    let actions = strings(&doc["actions"]);
    let subjects = strings(&doc["subjects"]);
    let roles: Vec<String> = doc["roles"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for _ in 0..rng.below(3) {
        match rng.below(9) {
            0 | 1 if !roles.is_empty() => {
                let r = rng.pick(&roles).clone();
                let l = label(rng, &actions, &subjects, 30);
                b["roles"][&r]["permissions"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(l));
            }
            2 if !roles.is_empty() => {
                let r = rng.pick(&roles).clone();
                let list = b["roles"][&r]["permissions"].as_array_mut().unwrap();
                if !list.is_empty() {
                    let i = rng.below(list.len());
                    list.remove(i);
                }
            }
            3 if roles.len() >= 2 => {
                // Inherit one more later role (still no cycle), or one fewer.
                let i = rng.below(roles.len() - 1);
                let parent = roles[i + 1 + rng.below(roles.len() - i - 1)].clone();
                let role = b["roles"][&roles[i]].as_object_mut().unwrap();
                let inherits = role.entry("inherits").or_insert(json!([]));
                let list = inherits.as_array_mut().unwrap();
                match list.iter().position(|p| p == &json!(parent)) {
                    Some(at) => {
                        list.remove(at);
                    }
                    None => list.push(json!(parent)),
                }
            }
            4 => {
                let g = b.as_object_mut().unwrap().entry("groups").or_insert(json!({}));
                let r = if roles.is_empty() {
                    Vec::new()
                } else {
                    vec![rng.pick(&roles).clone()]
                };
                g[format!("g{}", rng.below(2))] = json!(r);
            }
            5 => {
                let grant =
                    json!({"principal": rng.pick(IDS), "permissions": [label(rng, &actions, &subjects, 30)]});
                match b.get_mut("grants") {
                    Some(Value::Array(list)) => list.push(grant),
                    _ => b["grants"] = json!([grant]),
                }
            }
            6 if rng.chance(30) => vocabulary = true,
            7 => {
                if let Some(Value::Object(ops)) = b.get_mut("operations") {
                    ops.insert("Svc.New".into(), json!({"access": "public"}));
                }
            }
            _ => {}
        }
    }
    if vocabulary {
        // Last, so that no label added above names what goes: one action or
        // subject more or fewer.
        let (key, pool) = if rng.chance(50) {
            ("actions", ACTIONS)
        } else {
            ("subjects", SUBJECTS)
        };
        let mut list = strings(&b[key]);
        let extra = pool.iter().find(|x| !list.iter().any(|y| y == *x));
        if list.len() > 1 && rng.chance(50) {
            // Only a name no label uses can go; keep it loadable.
            let last = list.pop().unwrap();
            let text = serde_json::to_string(&b).unwrap();
            if text.contains(&format!("{last}_")) || text.contains(&format!("_{last}")) {
                list.push(last);
            }
        } else if let Some(x) = extra {
            list.push(x.to_string());
        }
        b[key] = json!(list);
    }
    b
}

/// Every principal shape of the universe for the given role and group names.
fn principals(roles: &[String], groups: &[String], limit: &str) -> Vec<Principal> {
    let mut out = Vec::new();
    let ids = [None, Some("u1"), Some("u2"), Some(LONER)];
    for mask in 0..(1usize << roles.len()) {
        let held: Vec<String> = (0..roles.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| roles[i].clone())
            .collect();
        let mut group_sets = vec![Vec::new()];
        group_sets.extend(groups.iter().map(|g| vec![g.clone()]));
        for group_set in &group_sets {
            for id in ids {
                for own in [Vec::new(), vec!["admin".to_string()]] {
                    for limits in [None, Some(vec![limit.to_string()])] {
                        out.push(Principal {
                            id: id.map(str::to_string),
                            roles: held.clone(),
                            groups: group_set.clone(),
                            permissions: own.clone(),
                            limits: limits.clone(),
                            ..Principal::default()
                        });
                    }
                }
            }
        }
    }
    out
}

/// Every resource of the universe for one type: type-level, an owner only,
/// and each id (one no label names, and each named instance) with no owner
/// or each principal id as owner.
fn resources(kind: &str) -> Vec<Resource> {
    let mut out = vec![Resource::new(kind)];
    for owner in ["u1", "u2", LONER] {
        out.push(Resource::new(kind).with_owner(owner));
    }
    for id in ["x", "i1", "i2"] {
        out.push(Resource::new(kind).with_id(id));
        for owner in ["u1", "u2", LONER] {
            out.push(Resource::new(kind).with_id(id).with_owner(owner));
        }
    }
    out
}

/// What `who_can` says about one principal, read the way its docs say.
fn who_can_says(w: &WhoCan, p: &Principal) -> bool {
    let owned = w.resource.is_type_level() || p.id.as_deref().is_some_and(|me| w.resource.is_owned_by(me));
    let holds = |c: Condition| c != Condition::Own || owned;
    let applies = |kind: HolderKind, name: &str| match kind {
        HolderKind::Role => p.roles.iter().any(|r| r == name),
        HolderKind::Group => p.groups.iter().any(|g| g == name),
        HolderKind::Grant => p.id.as_deref() == Some(name),
    };
    let by_label = |labels: &[String], deny: bool| {
        w.labels.iter().any(|m| {
            holds(m.condition)
                && labels.iter().any(|l| {
                    if deny {
                        l.strip_prefix('!') == Some(&m.label)
                    } else {
                        *l == m.label
                    }
                })
        })
    };
    let allow = w
        .allowed_by
        .iter()
        .any(|a| applies(a.holder.kind, &a.holder.name) && holds(a.condition))
        || by_label(&p.permissions, false);
    let deny = w
        .denied_by
        .iter()
        .any(|a| applies(a.holder.kind, &a.holder.name) && holds(a.condition))
        || by_label(&p.permissions, true);
    let limited = p
        .limits
        .as_ref()
        .is_some_and(|l| !by_label(l, false) || by_label(l, true));
    allow && !deny && !limited
}

/// What one policy (or pair) contributed to the totals.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub requests: u64,
    pub diffs_empty: u64,
    pub diffs_nonempty: u64,
    pub suggestions: u64,
}

fn names(doc: &Value, key: &str) -> Vec<String> {
    doc[key]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn union(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    let mut out = a;
    for x in b {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Checks one random policy (number `n` of the run seeded `seed`).
pub fn check_one(seed: u64, n: u64) -> Result<Counts, String> {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(n));
    let doc_a = policy(&mut rng);
    let doc_b = mutate(&mut rng, &doc_a);
    let fail = |what: String| format!("seed {seed} policy {n}: {what}\npolicy a: {doc_a}\npolicy b: {doc_b}");
    let a = Engine::new(&doc_a).map_err(|e| fail(format!("policy a did not load: {e}")))?;
    let b = Engine::new(&doc_b).map_err(|e| fail(format!("policy b did not load: {e}")))?;
    let actions = union(strings(&doc_a["actions"]), strings(&doc_b["actions"]));
    let subjects = union(strings(&doc_a["subjects"]), strings(&doc_b["subjects"]));
    let roles = union(names(&doc_a, "roles"), names(&doc_b, "roles"));
    let groups = union(names(&doc_a, "groups"), names(&doc_b, "groups"));
    // The limit label must parse on both sides.
    let both = |key: &str| -> Vec<String> {
        let other = strings(&doc_b[key]);
        strings(&doc_a[key])
            .into_iter()
            .filter(|x| other.contains(x))
            .collect()
    };
    let (common_actions, common_subjects) = (both("actions"), both("subjects"));
    let limit = if common_actions.is_empty() || common_subjects.is_empty() {
        "admin".to_string()
    } else {
        label(&mut rng, &common_actions, &common_subjects, 20)
    };
    let universe = principals(&roles, &groups, &limit);
    let prepared_a: Vec<_> = universe.iter().map(|p| a.prepare(p).unwrap()).collect();
    let prepared_b: Vec<_> = universe.iter().map(|p| b.prepare(p).unwrap()).collect();
    let mut counts = Counts::default();
    let mut differs = None;
    let mut denied: Vec<(usize, String, Resource)> = Vec::new();
    let in_a = |action: &str, kind: &str| {
        a.policy().vocabulary().action_index(action).is_some()
            && a.policy().vocabulary().subject_index(kind).is_some()
    };
    for action in &actions {
        for kind in &subjects {
            let known = in_a(action, kind);
            for resource in resources(kind) {
                let w = match known {
                    true => Some(
                        a.who_can(action, &resource)
                            .map_err(|e| fail(format!("who_can: {e}")))?,
                    ),
                    false => {
                        if a.who_can(action, &resource).map(|_| ()).map_err(|e| e.code)
                            != Err("invalid_request".into())
                        {
                            return Err(fail(format!("who_can({action}, {kind}) outside the vocabulary")));
                        }
                        None
                    }
                };
                for (i, p) in universe.iter().enumerate() {
                    counts.requests += 1;
                    let (id, owner) = (resource.id.as_deref(), resource.owner.as_deref());
                    let da = a.is_allowed(&prepared_a[i], action, kind, id, owner);
                    let db = b.is_allowed(&prepared_b[i], action, kind, id, owner);
                    if da != db && differs.is_none() {
                        differs = Some(format!("{p:?} {action} {resource:?}: a {da}, b {db}"));
                    }
                    if let Some(w) = &w {
                        if who_can_says(w, p) != da {
                            return Err(fail(format!(
                                "who_can says {} but authorize says {da} for {p:?} {action} {resource:?}\n{}",
                                !da,
                                serde_json::to_string(w).unwrap()
                            )));
                        }
                        if !da && denied.len() < 64 {
                            denied.push((i, action.clone(), resource.clone()));
                        }
                    }
                }
                if let Some(w) = &w {
                    check_holders(&a, w, action, &resource).map_err(fail)?;
                }
            }
        }
    }
    let d = tessera::analysis::diff(&doc_a, &doc_b).map_err(|e| fail(format!("diff: {e}")))?;
    let reported = !(d.changes.is_empty() && d.vocabulary.is_empty());
    if reported != differs.is_some() {
        return Err(fail(format!(
            "diff reports {} but brute force found {}\n{}",
            if reported { "a change" } else { "no change" },
            differs.as_deref().unwrap_or("no differing request"),
            serde_json::to_string(&d).unwrap()
        )));
    }
    if reported {
        counts.diffs_nonempty += 1;
    } else {
        counts.diffs_empty += 1;
    }
    // A few denied requests: every suggestion, applied, allows.
    for _ in 0..denied.len().min(3) {
        let (i, action, resource) = denied.swap_remove(rng.below(denied.len()));
        let p = &universe[i];
        let s = a
            .suggest(p, &action, &resource)
            .map_err(|e| fail(format!("suggest: {e}")))?;
        let d = a.authorize(p, &action, &resource).unwrap();
        if s.decision != d {
            return Err(fail(format!(
                "suggest's decision {:?} is not authorize's {d:?}",
                s.decision
            )));
        }
        for suggestion in &s.suggestions {
            counts.suggestions += 1;
            let edits = serde_json::to_value(&suggestion.edits).unwrap();
            let (doc, principal) = apply(&doc_a, p, &edits);
            let engine =
                Engine::new(&doc).map_err(|e| fail(format!("suggestion {edits} breaks the policy: {e}")))?;
            let after = engine.authorize(&principal, &action, &resource).unwrap();
            if !after.allowed || after != suggestion.decision {
                return Err(fail(format!(
                    "suggestion {edits} for {p:?} {action} {resource:?} gives {after:?}, said {:?}",
                    suggestion.decision
                )));
            }
        }
    }
    Ok(counts)
}

/// Each holder's answer alone agrees with a principal holding only it.
fn check_holders(engine: &Engine, w: &WhoCan, action: &str, resource: &Resource) -> Result<(), String> {
    for h in &w.holders {
        let mut p = Principal {
            id: Some(LONER.into()),
            ..Principal::default()
        };
        match h.holder.kind {
            HolderKind::Role => p.roles.push(h.holder.name.clone()),
            HolderKind::Group => p.groups.push(h.holder.name.clone()),
            HolderKind::Grant => p.id = Some(h.holder.name.clone()),
        }
        let me = p.id.clone().unwrap();
        let owned = resource.clone().with_owner(me.clone());
        let mut other = resource.clone();
        if other.is_type_level() {
            other = other.with_id("x");
        }
        other.owner = Some(format!("{me}-other"));
        let says = [
            (
                engine.authorize(&p, action, &owned).unwrap().allowed,
                h.when_owner,
                "owned",
            ),
            (
                engine.authorize(&p, action, &other).unwrap().allowed,
                h.otherwise,
                "not owned",
            ),
        ];
        for (got, said, what) in says {
            // `otherwise` is about this resource as given; a type-level one is
            // answered as owned, so only compare it for a resource with parts.
            if what == "not owned" && resource.is_type_level() {
                continue;
            }
            if got != said {
                return Err(format!(
                    "holder {:?} {what}: who_can says {said}, authorize {got}",
                    h.holder
                ));
            }
        }
    }
    Ok(())
}

/// Applies suggestion edits (their JSON form) to a copy of the policy and
/// the principal.
fn apply(doc: &Value, p: &Principal, edits: &Value) -> (Value, Principal) {
    let mut doc = doc.clone();
    let mut p = p.clone();
    for e in edits.as_array().unwrap() {
        let s = |k: &str| e[k].as_str().unwrap().to_string();
        match e["change"].as_str().unwrap() {
            "add_label" => {
                let role = doc["roles"][s("role")].as_object_mut().unwrap();
                role.entry("permissions")
                    .or_insert(json!([]))
                    .as_array_mut()
                    .unwrap()
                    .push(json!(s("label")));
            }
            "remove_label" => {
                if let Some(list) = doc["roles"][s("role")]["permissions"].as_array_mut() {
                    list.retain(|l| l.as_str() != Some(&s("label")));
                }
            }
            "add_grant" => {
                let grant = json!({"principal": s("principal"), "permissions": [s("label")]});
                match doc.get_mut("grants") {
                    Some(Value::Array(list)) => list.push(grant),
                    _ => doc["grants"] = json!([grant]),
                }
            }
            "remove_grant" => {
                for g in doc["grants"].as_array_mut().unwrap() {
                    if g["principal"] == json!(s("principal")) {
                        g["permissions"]
                            .as_array_mut()
                            .unwrap()
                            .retain(|l| l.as_str() != Some(&s("label")));
                    }
                }
            }
            "add_role" => p.roles.push(s("role")),
            "remove_permission" => p.permissions.retain(|l| *l != s("label")),
            "add_limit" => p.limits.get_or_insert_with(Vec::new).push(s("label")),
            other => panic!("unknown edit {other}"),
        }
    }
    (doc, p)
}
