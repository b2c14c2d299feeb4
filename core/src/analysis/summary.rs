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
use std::collections::HashMap;
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

/// Instance ids as small numbers, shared by both sides of a diff, so that
/// the per-instance bits are sorted integers (cheap to merge and compare).
#[derive(Debug, Default)]
pub(crate) struct Ids {
    numbers: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Ids {
    fn number(&mut self, id: &Arc<str>) -> u32 {
        if let Some(&n) = self.numbers.get(id) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(id.clone());
        self.numbers.insert(id.clone(), n);
        n
    }

    pub(crate) fn name(&self, n: u32) -> &Arc<str> {
        &self.names[n as usize]
    }
}

/// (action, subject, instance number) in one sortable word.
pub(crate) fn key(a: u32, s: u32, id: u32) -> u64 {
    ((a as u64) << 48) | ((s as u64) << 32) | id as u64
}

/// One holder's rules, folded into bits over a shared (union) vocabulary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// `actions × subjects` cells of `ALLOW_*`/`DENY_*` bits from labels
    /// without an instance.
    pub base: Vec<u8>,
    /// Bits from labels that name an instance, sorted by [`key`], one entry
    /// per key.
    pub ids: Vec<(u64, u8)>,
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

/// Sorted entries with equal keys folded into one (bits or-ed).
fn fold(mut entries: Vec<(u64, u8)>) -> Vec<(u64, u8)> {
    entries.sort_unstable_by_key(|e| e.0);
    let mut out: Vec<(u64, u8)> = Vec::with_capacity(entries.len());
    for (k, bits) in entries {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 |= bits,
            _ => out.push((k, bits)),
        }
    }
    out
}

impl Summary {
    pub(crate) fn empty(map: &Mapping) -> Summary {
        Summary {
            base: vec![0; map.cells],
            ids: Vec::new(),
        }
    }

    pub(crate) fn of(facts: &[Fact], map: &Mapping, ids: &mut Ids) -> Summary {
        let mut s = Summary::empty(map);
        let mut named = Vec::new();
        let width = map.width;
        for fact in facts {
            let number = fact.instance.as_ref().map(|i| ids.number(i));
            map.each(fact, |a, sub| match number {
                Some(n) => named.push((key(a, sub, n), if fact.deny { DENY_ID } else { ALLOW_ID })),
                None => {
                    let bit = match (fact.deny, fact.own) {
                        (false, false) => ALLOW_ANY,
                        (true, false) => DENY_ANY,
                        (false, true) => ALLOW_OWN,
                        (true, true) => DENY_OWN,
                    };
                    s.base[a as usize * width + sub as usize] |= bit;
                }
            });
        }
        s.ids = fold(named);
        s
    }

    pub(crate) fn merge(&mut self, other: &Summary) {
        for (mine, theirs) in self.base.iter_mut().zip(&other.base) {
            *mine |= theirs;
        }
        if other.ids.is_empty() {
            return;
        }
        // Both sorted: one linear merge.
        let mine = std::mem::take(&mut self.ids);
        let mut out = Vec::with_capacity(mine.len() + other.ids.len());
        let (mut i, mut j) = (0, 0);
        while i < mine.len() && j < other.ids.len() {
            let (a, b) = (mine[i], other.ids[j]);
            if a.0 < b.0 {
                out.push(a);
                i += 1;
            } else if b.0 < a.0 {
                out.push(b);
                j += 1;
            } else {
                out.push((a.0, a.1 | b.1));
                i += 1;
                j += 1;
            }
        }
        out.extend_from_slice(&mine[i..]);
        out.extend_from_slice(&other.ids[j..]);
        self.ids = out;
    }

    /// The instance numbers named for one action and subject.
    pub(crate) fn named(&self, a: u32, s: u32) -> impl Iterator<Item = u32> + '_ {
        let from = self.ids.partition_point(|e| e.0 < key(a, s, 0));
        let to = self.ids.partition_point(|e| e.0 <= key(a, s, u32::MAX));
        self.ids[from..to].iter().map(|e| e.0 as u32)
    }

    /// The profile in one class: `owned` (or type-level) or not, and the
    /// named instance, if any.
    pub(crate) fn profile(&self, width: usize, a: u32, s: u32, owned: bool, id: Option<u32>) -> Profile {
        let base = self.base[a as usize * width + s as usize];
        let by_id = id
            .and_then(|n| {
                let k = key(a, s, n);
                self.ids
                    .binary_search_by_key(&k, |e| e.0)
                    .ok()
                    .map(|at| self.ids[at].1)
            })
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
pub(crate) fn role_summaries(index: &Index, map: &Mapping, ids: &mut Ids) -> Vec<Summary> {
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
            let mut s = Summary::of(&index.roles[r].facts, map, ids);
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
