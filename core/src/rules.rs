//! The compiled index (SPEC §2, §4): a label becomes a `Rule` whose action
//! and subject are indices into the policy's vocabulary, and every
//! `RuleSet` keeps, per subject, the positions of the rules that can apply
//! to it. [`crate::policy`] and [`crate::roles`] build these; [`crate::decide`]
//! walks them.

use crate::label::{Effect, Label, Vocabulary};
use crate::request::Resource;
use std::sync::Arc;

/// A compiled label.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub deny: bool,
    /// `None`: every action (`admin`).
    pub action: Option<usize>,
    /// `None`: every subject (bare `admin` / `admin_own`).
    pub subject: Option<usize>,
    pub own: bool,
    pub instance: Option<Box<str>>,
    pub text: Arc<str>,
}

impl Rule {
    /// Compiles a label already checked against `vocab`.
    pub(crate) fn compile(label: &Label, text: &str, vocab: &Vocabulary) -> Rule {
        Rule {
            deny: label.is_deny(),
            action: vocab.action_index(&label.action),
            subject: label.subject.as_deref().and_then(|s| vocab.subject_index(s)),
            own: label.own,
            instance: label.instance.as_deref().map(Box::from),
            text: Arc::from(text),
        }
    }

    /// Whether the rule applies to `action` on `resource` (the subject was
    /// already matched by the rule set's index).
    #[inline]
    pub(crate) fn matches(
        &self,
        action: usize,
        principal_id: Option<&str>,
        resource: &ResourceRef<'_>,
    ) -> bool {
        if self.action.is_some_and(|a| a != action) {
            return false;
        }
        if self.own && !(resource.is_type_level() || principal_id.is_some_and(|id| resource.is_owned_by(id)))
        {
            return false;
        }
        match &self.instance {
            Some(instance) => resource.id == Some(&**instance),
            None => true,
        }
    }

    pub(crate) fn effect(&self) -> Effect {
        if self.deny {
            Effect::Deny
        } else {
            Effect::Allow
        }
    }
}

/// Rules in the order written, with a per-subject index of the ones that can
/// apply (the subject's own rules and the subject-less `admin` ones).
#[derive(Debug, Clone)]
pub(crate) struct RuleSet {
    rules: Vec<Rule>,
    by_subject: Vec<Vec<u32>>,
}

impl RuleSet {
    pub(crate) fn new(rules: Vec<Rule>, subjects: usize) -> RuleSet {
        let mut by_subject = vec![Vec::new(); subjects];
        for (i, rule) in rules.iter().enumerate() {
            for (s, list) in by_subject.iter_mut().enumerate() {
                if rule.subject.is_none_or(|rs| rs == s) {
                    list.push(i as u32);
                }
            }
        }
        RuleSet { rules, by_subject }
    }

    /// The rules in the order written (the analyses enumerate them).
    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub(crate) fn into_rules(self) -> Vec<Rule> {
        self.rules
    }

    #[inline]
    pub(crate) fn candidates(&self, subject: usize) -> impl Iterator<Item = &Rule> {
        self.by_subject
            .get(subject)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |&i| &self.rules[i as usize])
    }
}

/// A resource seen through borrowed parts, so string-argument fast paths need
/// not build a [`Resource`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceRef<'a> {
    pub kind: &'a str,
    pub id: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub owners: &'a [String],
}

impl<'a> ResourceRef<'a> {
    pub(crate) fn of(r: &'a Resource) -> Self {
        ResourceRef {
            kind: &r.kind,
            id: r.id.as_deref(),
            owner: r.owner.as_deref(),
            owners: &r.owners,
        }
    }

    /// A resource from string arguments, with at most one owner.
    pub(crate) fn parts(kind: &'a str, id: Option<&'a str>, owner: Option<&'a str>) -> Self {
        ResourceRef {
            kind,
            id,
            owner,
            owners: &[],
        }
    }

    fn is_type_level(&self) -> bool {
        self.id.is_none() && self.owner.is_none() && self.owners.is_empty()
    }

    fn is_owned_by(&self, who: &str) -> bool {
        self.owner == Some(who) || self.owners.iter().any(|o| o == who)
    }
}
