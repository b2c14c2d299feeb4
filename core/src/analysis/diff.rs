//! `diff(policy_a, policy_b)` (SPEC §9): every (role or group or grant,
//! action, subject, scope) whose decision differs between two policies, with
//! both decisions and the rules responsible; the vocabulary change; and the
//! operations whose access changed. See [`super::summary`] for why comparing
//! profiles is exact.

use super::change::Change;
use super::index::Index;
use super::operations_diff::{self, OperationChange};
use super::summary::{role_summaries, Ids, Mapping, Profile, Summary};
use super::{Holder, HolderKind, Scope};
use crate::decide;
use crate::error::{Error, Result};
use crate::policy::CompiledPolicy;
use crate::request::{Principal, Resource};
use crate::roles::Resolved;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Actions and subjects one policy has and the other has not. A request
/// naming one of them is `invalid_request` on the side that lacks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VocabularyChange {
    /// Actions B has and A has not.
    pub actions_added: Vec<String>,
    /// Actions A has and B has not.
    pub actions_removed: Vec<String>,
    /// Subjects B has and A has not.
    pub subjects_added: Vec<String>,
    /// Subjects A has and B has not.
    pub subjects_removed: Vec<String>,
}

impl VocabularyChange {
    /// True when both policies have the same actions and subjects.
    pub fn is_empty(&self) -> bool {
        self.actions_added.is_empty()
            && self.actions_removed.is_empty()
            && self.subjects_added.is_empty()
            && self.subjects_removed.is_empty()
    }
}

/// The answer of [`diff`].
///
/// ```
/// use serde_json::json;
/// let a = json!({"version": 1, "roles": {"user": {"permissions": ["read_own_device"]}}});
/// let b = json!({"version": 1, "roles": {"user": {"permissions": ["read_device"]}}});
/// let d = tessera::analysis::diff(&a, &b).unwrap();
/// assert!(!d.empty);
/// let c = &d.changes[0];
/// assert_eq!((c.holder.name.as_str(), c.action.as_str(), c.subject.as_str()), ("user", "read", "device"));
/// assert_eq!((c.a.allowed, c.b.allowed), (false, true)); // scope "all": other people's devices
/// assert!(tessera::analysis::diff(&a, &a).unwrap().empty);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// True when nothing below differs: the two policies answer every
    /// request (decisions and operations) alike.
    pub empty: bool,
    /// Actions and subjects added or removed.
    pub vocabulary: VocabularyChange,
    /// Every differing (holder, action, subject, scope): roles, then
    /// groups, then grants; each in A's order then B's new ones.
    pub changes: Vec<Change>,
    /// Operations whose access changed, by key.
    pub operations: Vec<OperationChange>,
}

/// Compiles both documents and compares them; a document that does not load
/// is an `invalid_policy` error with its problems and `path` `policy_a` or
/// `policy_b`.
pub fn diff(a: &Value, b: &Value) -> Result<Diff> {
    let side = |doc: &Value, name: &str| {
        CompiledPolicy::compile(doc).map_err(|e| Error {
            message: format!("{name}: {}", e.message),
            ..e.with_path(name)
        })
    };
    let a = side(a, "policy_a")?;
    let b = side(b, "policy_b")?;
    Ok(diff_policies(&a, &b))
}

/// Appends to `into` the names of `more` it does not hold yet.
fn union(into: &mut Vec<String>, more: &[String]) {
    for m in more {
        if !into.contains(m) {
            into.push(m.clone());
        }
    }
}

fn missing(from: &[String], other: &[String]) -> Vec<String> {
    from.iter().filter(|x| !other.contains(x)).cloned().collect()
}

struct Side {
    index: Index,
    map: Mapping,
    roles: Vec<Summary>,
    groups: HashMap<Arc<str>, Summary>,
    grants: HashMap<Arc<str>, Summary>,
    known_actions: Vec<bool>,
    known_subjects: Vec<bool>,
    empty: Summary,
}

impl Side {
    fn new(policy: &CompiledPolicy, actions: &[String], subjects: &[String], ids: &mut Ids) -> Side {
        let index = Index::new(policy);
        let v = &index.vocab;
        let pos = |list: &[String], x: &String| list.iter().position(|y| y == x).unwrap() as u32;
        let map = Mapping {
            actions: v.actions().iter().map(|x| pos(actions, x)).collect(),
            subjects: v.subjects().iter().map(|x| pos(subjects, x)).collect(),
            width: subjects.len(),
            cells: actions.len() * subjects.len(),
        };
        let roles = role_summaries(&index, &map, ids);
        let groups = index
            .groups
            .iter()
            .map(|(g, members)| {
                let mut s = Summary::empty(&map);
                for &r in members {
                    s.merge(&roles[r]);
                }
                (g.clone(), s)
            })
            .collect();
        let grants = index
            .grants
            .iter()
            .map(|(p, facts)| (p.clone(), Summary::of(facts, &map, ids)))
            .collect();
        let known_actions = actions.iter().map(|x| v.action_index(x).is_some()).collect();
        let known_subjects = subjects.iter().map(|x| v.subject_index(x).is_some()).collect();
        let empty = Summary::empty(&map);
        Side {
            index,
            map,
            roles,
            groups,
            grants,
            known_actions,
            known_subjects,
            empty,
        }
    }

    fn summary(&self, holder: &Holder) -> &Summary {
        let name = holder.name.as_str();
        let found = match holder.kind {
            HolderKind::Role => self.index.role(name).map(|r| &self.roles[r]),
            HolderKind::Group => self.groups.get(name),
            HolderKind::Grant => self.grants.get(name),
        };
        found.unwrap_or(&self.empty)
    }

    fn profile(&self, summary: &Summary, a: u32, s: u32, owned: bool, id: Option<u32>) -> Profile {
        if !self.known_actions[a as usize] || !self.known_subjects[s as usize] {
            return Profile::Invalid;
        }
        summary.profile(self.map.width, a, s, owned, id)
    }
}

/// The principal a holder stands for: a role or group alone (with an id no
/// grant names, so that it can own things), or a grant's principal id.
fn stand_in(holder: &Holder, fresh: &str) -> Principal {
    match holder.kind {
        HolderKind::Role => Principal {
            id: Some(fresh.to_string()),
            roles: vec![holder.name.clone()],
            ..Principal::default()
        },
        HolderKind::Group => Principal {
            id: Some(fresh.to_string()),
            groups: vec![holder.name.clone()],
            ..Principal::default()
        },
        HolderKind::Grant => Principal {
            id: Some(holder.name.clone()),
            ..Principal::default()
        },
    }
}

/// The resource of one class of request, as `permissions` uses them.
fn class_resource(kind: &str, scope: Scope, id: Option<&str>, me: &str) -> Resource {
    match scope {
        Scope::All => Resource::new(kind).with_id(""),
        Scope::Own => Resource::new(kind),
        Scope::Instance => Resource::new(kind).with_id(id.unwrap_or_default()),
        Scope::OwnInstance => Resource::new(kind).with_id(id.unwrap_or_default()).with_owner(me),
    }
}

/// [`diff`] of two policies already compiled (an engine's, say): what a CI
/// job or a benchmark that holds both pays for the comparison alone.
///
/// ```
/// use serde_json::json;
/// let a = tessera::CompiledPolicy::compile(&json!({"version": 1, "roles": {"r": {"permissions": ["read_device"]}}})).unwrap();
/// assert!(tessera::analysis::diff_policies(&a, &a).empty);
/// ```
pub fn diff_policies(a: &CompiledPolicy, b: &CompiledPolicy) -> Diff {
    let (va, vb) = (a.vocabulary(), b.vocabulary());
    let vocabulary = VocabularyChange {
        actions_added: missing(vb.actions(), va.actions()),
        actions_removed: missing(va.actions(), vb.actions()),
        subjects_added: missing(vb.subjects(), va.subjects()),
        subjects_removed: missing(va.subjects(), vb.subjects()),
    };
    let mut actions = va.actions().to_vec();
    union(&mut actions, vb.actions());
    let mut subjects = va.subjects().to_vec();
    union(&mut subjects, vb.subjects());
    let mut ids = Ids::default();
    let sa = Side::new(a, &actions, &subjects, &mut ids);
    let sb = Side::new(b, &actions, &subjects, &mut ids);
    let same_vocabulary = vocabulary.is_empty();

    let mut holders: Vec<Holder> = Vec::new();
    let mut seen: BTreeSet<(HolderKind, Arc<str>)> = BTreeSet::new();
    let mut add = |kind: HolderKind, name: &Arc<str>| {
        if seen.insert((kind, name.clone())) {
            holders.push(Holder {
                kind,
                name: name.to_string(),
            });
        }
    };
    for side in [&sa, &sb] {
        side.index
            .roles
            .iter()
            .for_each(|r| add(HolderKind::Role, &r.name));
    }
    for side in [&sa, &sb] {
        side.index
            .groups
            .iter()
            .for_each(|(g, _)| add(HolderKind::Group, g));
    }
    for side in [&sa, &sb] {
        side.index
            .grants
            .iter()
            .for_each(|(p, _)| add(HolderKind::Grant, p));
    }

    let fresh = sa.index.fresh_id(&[&sb.index]);
    let mut changes = Vec::new();
    for holder in &holders {
        let (ha, hb) = (sa.summary(holder), sb.summary(holder));
        // Same bits, same vocabulary: the same profile in every class.
        if same_vocabulary && ha == hb {
            continue;
        }
        // Resolved once per holder and side, only if something differs.
        let mut resolved: Option<(Principal, Resolved, Resolved)> = None;
        for (ai, action) in actions.iter().enumerate() {
            for (si, kind) in subjects.iter().enumerate() {
                let (ai, si) = (ai as u32, si as u32);
                let mut named: Vec<u32> = ha.named(ai, si).chain(hb.named(ai, si)).collect();
                named.sort_unstable_by(|x, y| ids.name(*x).cmp(ids.name(*y)));
                named.dedup();
                let mut classes: Vec<(Scope, Option<u32>)> = vec![(Scope::All, None), (Scope::Own, None)];
                for &n in &named {
                    classes.push((Scope::Instance, Some(n)));
                    classes.push((Scope::OwnInstance, Some(n)));
                }
                for (scope, id) in classes {
                    let owned = matches!(scope, Scope::Own | Scope::OwnInstance);
                    let pa = sa.profile(ha, ai, si, owned, id);
                    let pb = sb.profile(hb, ai, si, owned, id);
                    let differs = match (pa, pb) {
                        (Profile::Invalid, Profile::Invalid) => false,
                        // Outside one vocabulary only an allow is a decision
                        // of the holder's own that changed; the rest is the
                        // vocabulary change, reported as such.
                        (Profile::Invalid, p) | (p, Profile::Invalid) => p == Profile::Allow,
                        (x, y) => x != y,
                    };
                    if !differs {
                        continue;
                    }
                    let (principal, ra, rb) = resolved.get_or_insert_with(|| {
                        let p = stand_in(holder, &fresh);
                        let ra = Resolved::new(a, &p).expect("a stand-in holds no labels");
                        let rb = Resolved::new(b, &p).expect("a stand-in holds no labels");
                        (p, ra, rb)
                    });
                    let me = principal.id.clone().unwrap_or_default();
                    let id = id.map(|n| ids.name(n));
                    let resource = class_resource(kind, scope, id.map(|i| &**i), &me);
                    changes.push(Change {
                        holder: holder.clone(),
                        action: action.clone(),
                        subject: kind.clone(),
                        scope,
                        instance: id.map(|i| i.to_string()),
                        a: decide::decide(a, ra, principal, action, &resource),
                        b: decide::decide(b, rb, principal, action, &resource),
                    });
                }
            }
        }
    }
    let operations = operations_diff::diff(&sa.index, a, &sb.index, b, &changes);
    Diff {
        empty: vocabulary.is_empty() && changes.is_empty() && operations.is_empty(),
        vocabulary,
        changes,
        operations,
    }
}
