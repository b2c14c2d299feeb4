//! The analysis index: the compiled policy's roles, groups and grants read
//! once into plain vectors (labels parsed, names resolved to positions), so
//! the analyses can enumerate them in document order.
//!
//! It is read from the policy the engine already compiled and checked, so
//! nothing here can fail: every label parsed when the policy loaded.

use crate::label::{parse_label, Vocabulary};
use crate::policy::CompiledPolicy;
use crate::rules::{Rule, RuleSet};
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

    /// A rule of the compiled index, as the analyses read it.
    fn of(rule: &Rule) -> Fact {
        Fact {
            deny: rule.deny,
            action: rule.action,
            subject: rule.subject,
            own: rule.own,
            instance: rule.instance.as_deref().map(Arc::from),
            text: rule.text.clone(),
        }
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
    grant_ids: HashMap<Arc<str>, usize>,
}

impl Index {
    /// Reads the compiled index (labels already parsed; groups in document
    /// order, which only the document keeps).
    pub(crate) fn new(policy: &CompiledPolicy) -> Index {
        let facts = |rules: &RuleSet| -> Vec<Fact> { rules.rules().iter().map(Fact::of).collect() };
        let roles: Vec<RoleFacts> = policy
            .roles
            .iter()
            .map(|r| RoleFacts {
                name: r.name.clone(),
                parents: r.inherits.clone(),
                facts: facts(&r.rules),
            })
            .collect();
        let role_ids = roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        let groups = policy
            .document()
            .get("groups")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(g, _)| {
                let ids = policy.group_roles.get(g).cloned().unwrap_or_default();
                (Arc::from(g.as_str()), ids)
            })
            .collect();
        // Grant slots are numbered in order of first appearance.
        let mut names: Vec<Option<Arc<str>>> = vec![None; policy.grants.len()];
        for (who, &slot) in &policy.grant_index {
            names[slot] = Some(Arc::from(who.as_str()));
        }
        let grants: Vec<(Arc<str>, Vec<Fact>)> = names
            .into_iter()
            .zip(&policy.grants)
            .filter_map(|(who, rules)| Some((who?, facts(rules))))
            .collect();
        let grant_ids = grants
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.clone(), i))
            .collect();
        Index {
            vocab: policy.vocabulary().clone(),
            roles,
            role_ids,
            groups,
            grants,
            grant_ids,
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
        self.grant_ids.get(id).map(|&i| self.grants[i].1.as_slice())
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
