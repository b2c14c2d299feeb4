//! Decision profiles for the diff: what each role, group and grant decides on
//! its own, for every action, subject and class of request, as a few bits.
//!
//! A request's decision depends on the rules in play only through two
//! questions: does some allow match, does some deny match. Held by a
//! principal, a role (with everything it inherits) therefore acts as one of
//! three things for each class of request: it forces a deny, it allows unless
//! something else denies, or it is neutral. The principal's decision is the
//! deny-wins combination of those of its roles, groups, grant and own labels;
//! so two policies decide alike on every request exactly when every holder
//! has the same profile in both. The classes of request are what labels can
//! tell apart: owned or not (type-level requests count as owned), and which
//! named instance, if any.

use super::index::{Fact, Index};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const ALLOW_ANY: u8 = 1;
pub(crate) const DENY_ANY: u8 = 2;
pub(crate) const ALLOW_OWN: u8 = 4;
pub(crate) const DENY_OWN: u8 = 8;
pub(crate) const ALLOW_ID: u8 = 1;
pub(crate) const DENY_ID: u8 = 2;

/// The profile of one holder in one class: what it does alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// The action or subject is not in this policy's vocabulary.
    Invalid,
    Deny,
    Allow,
    Neutral,
}

/// One holder's rules, folded into bits over a shared (union) vocabulary.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    /// `actions × subjects` cells of `ALLOW_*`/`DENY_*` bits from labels
    /// without an instance.
    pub base: Vec<u8>,
    /// Bits from labels that name an instance, by (action, subject, id).
    pub ids: BTreeMap<(u32, u32, Arc<str>), u8>,
}

/// A policy's positions mapped into the union vocabulary of a diff.
pub(crate) struct Mapping {
    pub actions: Vec<u32>,
    pub subjects: Vec<u32>,
    pub width: usize,
    pub cells: usize,
}

impl Mapping {
    fn each(&self, fact: &Fact, mut f: impl FnMut(u32, u32)) {
        let actions: &[u32] = match fact.action {
            Some(a) => std::slice::from_ref(&self.actions[a]),
            None => &self.actions,
        };
        let subjects: &[u32] = match fact.subject {
            Some(s) => std::slice::from_ref(&self.subjects[s]),
            None => &self.subjects,
        };
        for &a in actions {
            for &s in subjects {
                f(a, s);
            }
        }
    }
}

impl Summary {
    pub(crate) fn empty(map: &Mapping) -> Summary {
        Summary {
            base: vec![0; map.cells],
            ids: BTreeMap::new(),
        }
    }

    pub(crate) fn of(facts: &[Fact], map: &Mapping) -> Summary {
        let mut s = Summary::empty(map);
        for fact in facts {
            s.add(fact, map);
        }
        s
    }

    fn add(&mut self, fact: &Fact, map: &Mapping) {
        let width = map.width;
        map.each(fact, |a, sub| match &fact.instance {
            Some(id) => {
                let bit = if fact.deny { DENY_ID } else { ALLOW_ID };
                *self.ids.entry((a, sub, id.clone())).or_insert(0) |= bit;
            }
            None => {
                let bit = match (fact.deny, fact.own) {
                    (false, false) => ALLOW_ANY,
                    (true, false) => DENY_ANY,
                    (false, true) => ALLOW_OWN,
                    (true, true) => DENY_OWN,
                };
                self.base[a as usize * width + sub as usize] |= bit;
            }
        });
    }

    pub(crate) fn merge(&mut self, other: &Summary) {
        for (mine, theirs) in self.base.iter_mut().zip(&other.base) {
            *mine |= theirs;
        }
        for (key, bits) in &other.ids {
            *self.ids.entry(key.clone()).or_insert(0) |= bits;
        }
    }

    /// The profile in one class: `owned` (or type-level) or not, and the
    /// named instance, if any.
    pub(crate) fn profile(
        &self,
        width: usize,
        a: u32,
        s: u32,
        owned: bool,
        id: Option<&Arc<str>>,
    ) -> Profile {
        let base = self.base[a as usize * width + s as usize];
        let by_id = id
            .and_then(|id| self.ids.get(&(a, s, id.clone())))
            .copied()
            .unwrap_or(0);
        let (allow_bits, deny_bits) = if owned {
            (ALLOW_ANY | ALLOW_OWN, DENY_ANY | DENY_OWN)
        } else {
            (ALLOW_ANY, DENY_ANY)
        };
        if base & deny_bits != 0 || by_id & DENY_ID != 0 {
            Profile::Deny
        } else if base & allow_bits != 0 || by_id & ALLOW_ID != 0 {
            Profile::Allow
        } else {
            Profile::Neutral
        }
    }
}

/// Every role's summary with everything it inherits, by role position.
pub(crate) fn role_summaries(index: &Index, map: &Mapping) -> Vec<Summary> {
    let n = index.roles.len();
    let mut done: Vec<Option<Summary>> = vec![None; n];
    // Parents first: an explicit stack, since inheritance may run deep.
    for start in 0..n {
        let mut stack = vec![(start, false)];
        while let Some((r, expanded)) = stack.pop() {
            if done[r].is_some() {
                continue;
            }
            if !expanded {
                stack.push((r, true));
                for &p in &index.roles[r].parents {
                    if done[p].is_none() {
                        stack.push((p, false));
                    }
                }
                continue;
            }
            let mut s = Summary::of(&index.roles[r].facts, map);
            for &p in &index.roles[r].parents {
                if let Some(parent) = &done[p] {
                    s.merge(parent);
                }
            }
            done[r] = Some(s);
        }
    }
    done.into_iter()
        .map(|s| s.unwrap_or_else(|| Summary::empty(map)))
        .collect()
}
