//! The analysis index: the compiled policy's roles, groups and grants read
//! once into plain vectors (labels parsed, names resolved to positions), so
//! the analyses can enumerate them in document order.
//!
//! It is read from the policy the engine already compiled and checked, so
//! nothing here can fail: every label parsed when the policy loaded.

use crate::label::{parse_label, Vocabulary};
use crate::policy::CompiledPolicy;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// One compiled label, as the analyses read it.
#[derive(Debug, Clone)]
pub(crate) struct Fact {
    pub deny: bool,
    /// `None`: every action of the policy (`admin`).
    pub action: Option<usize>,
    /// `None`: every subject of the policy (bare `admin`, `admin_own`).
    pub subject: Option<usize>,
    pub own: bool,
    pub instance: Option<Arc<str>>,
    pub text: Arc<str>,
}

impl Fact {
    /// Parses `text` against `vocab`; `None` when it does not parse.
    pub(crate) fn parse(text: &str, vocab: &Vocabulary) -> Option<Fact> {
        let l = parse_label(text, Some(vocab)).ok()?;
        Some(Fact {
            deny: l.is_deny(),
            action: vocab.action_index(&l.action),
            subject: l.subject.as_deref().and_then(|s| vocab.subject_index(s)),
            own: l.own,
            instance: l.instance.map(Arc::from),
            text: Arc::from(text),
        })
    }

    /// Whether the label can apply to `action` on `subject` at all.
    pub(crate) fn covers(&self, action: usize, subject: usize) -> bool {
        self.action.is_none_or(|a| a == action) && self.subject.is_none_or(|s| s == subject)
    }
}

/// A role: its parents by position and its labels in the order written.
#[derive(Debug, Clone)]
pub(crate) struct RoleFacts {
    pub name: Arc<str>,
    pub parents: Vec<usize>,
    pub facts: Vec<Fact>,
}

/// A policy as the analyses enumerate it.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    pub vocab: Vocabulary,
    pub roles: Vec<RoleFacts>,
    pub role_ids: HashMap<Arc<str>, usize>,
    /// Groups in document order, each with its roles by position.
    pub groups: Vec<(Arc<str>, Vec<usize>)>,
    /// Grants merged per principal id, in order of first appearance.
    pub grants: Vec<(Arc<str>, Vec<Fact>)>,
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

impl Index {
    pub(crate) fn new(policy: &CompiledPolicy) -> Index {
        let vocab = policy.vocabulary().clone();
        let doc = policy.document();
        let facts =
            |v: Option<&Value>| -> Vec<Fact> { strings(v).filter_map(|t| Fact::parse(t, &vocab)).collect() };
        let role_docs = doc.get("roles").and_then(Value::as_object);
        let mut roles: Vec<RoleFacts> = Vec::new();
        let mut role_ids = HashMap::new();
        for (i, (name, _)) in role_docs.into_iter().flatten().enumerate() {
            role_ids.insert(Arc::<str>::from(name.as_str()), i);
        }
        for (name, def) in role_docs.into_iter().flatten() {
            let mut parents = Vec::new();
            for parent in strings(def.get("inherits")) {
                if let Some(&p) = role_ids.get(parent) {
                    if !parents.contains(&p) {
                        parents.push(p);
                    }
                }
            }
            roles.push(RoleFacts {
                name: Arc::from(name.as_str()),
                parents,
                facts: facts(def.get("permissions")),
            });
        }
        let groups = doc
            .get("groups")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(g, list)| {
                let ids = strings(Some(list))
                    .filter_map(|r| role_ids.get(r).copied())
                    .collect();
                (Arc::from(g.as_str()), ids)
            })
            .collect();
        let mut grants: Vec<(Arc<str>, Vec<Fact>)> = Vec::new();
        for entry in doc.get("grants").and_then(Value::as_array).into_iter().flatten() {
            let Some(who) = entry.get("principal").and_then(Value::as_str) else {
                continue;
            };
            let more = facts(entry.get("permissions"));
            match grants.iter_mut().find(|(p, _)| &**p == who) {
                Some((_, list)) => list.extend(more),
                None => grants.push((Arc::from(who), more)),
            }
        }
        Index {
            vocab,
            roles,
            role_ids,
            groups,
            grants,
        }
    }

    pub(crate) fn role(&self, name: &str) -> Option<usize> {
        self.role_ids.get(name).copied()
    }

    /// Roles reachable from `seeds` (themselves included), breadth-first, each
    /// with the path of role names by which it is first reached.
    pub(crate) fn closure_paths(&self, seeds: &[usize]) -> Vec<(usize, Vec<usize>)> {
        let mut seen = vec![false; self.roles.len()];
        let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
        for &s in seeds {
            if !seen[s] {
                seen[s] = true;
                out.push((s, vec![s]));
            }
        }
        let mut next = 0;
        while next < out.len() {
            let (r, path) = out[next].clone();
            next += 1;
            for &p in &self.roles[r].parents {
                if !seen[p] {
                    seen[p] = true;
                    let mut longer = path.clone();
                    longer.push(p);
                    out.push((p, longer));
                }
            }
        }
        out
    }

    /// Grant facts for a principal id, if any.
    pub(crate) fn grant(&self, id: &str) -> Option<&[Fact]> {
        self.grants
            .iter()
            .find(|(p, _)| &**p == id)
            .map(|(_, f)| f.as_slice())
    }

    /// A principal id no grant names, for questions about a role or group
    /// alone (owning something needs an id; a grant must not sneak in).
    pub(crate) fn fresh_id(&self, others: &[&Index]) -> String {
        let mut id = String::from("~analysis");
        while std::iter::once(self)
            .chain(others.iter().copied())
            .any(|ix| ix.grant(&id).is_some())
        {
            id.push('~');
        }
        id
    }
}
