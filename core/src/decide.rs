//! Decisions (SPEC §4): which rules are in play, which match, and what wins.
//!
//! Decisions walk the compiled index of [`crate::rules`]: they compare
//! integers and walk short lists; they parse nothing and allocate nothing
//! unless the request is invalid.

use crate::answers::Answers;
use crate::decision::{Decision, Reason, Source};
use crate::label::Effect;
use crate::policy::CompiledPolicy;
use crate::request::{Principal, Resource};
use crate::roles::Resolved;
use crate::rules::{ResourceRef, Rule, RuleSet};
use crate::suggestion::Suggestion;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The decision a rule made, with the rule and where it came from.
fn decision_from(allowed: bool, reason: Reason, hit: Hit<'_>) -> Decision {
    Decision {
        allowed,
        reason,
        rule: Some(hit.rule.text.clone()),
        source: Some(hit.source.to_source()),
        message: None,
    }
}

/// One rule that matched a request, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    /// The label, as written.
    pub rule: Arc<str>,
    /// Where it came from.
    pub source: Source,
    /// Whether it allows or denies.
    pub effect: Effect,
}

/// A decision with everything that led to it.
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {
///     "user": {"permissions": ["read_own_device"]},
///     "admin": {"inherits": ["user"], "permissions": ["admin_device"]}}})).unwrap();
/// let p = tessera::Principal { id: Some("u1".into()), roles: vec!["admin".into(), "ghost".into()], ..Default::default() };
/// let r = tessera::Resource::new("device").with_id("d1").with_owner("u1");
/// let x = engine.explain(&p, "read", &r).unwrap();
/// assert_eq!(x.effective_roles, vec!["admin", "user"]);
/// assert_eq!(x.unknown_roles, vec!["ghost"]);
/// assert_eq!(x.matched.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision itself (its fields are flattened into the JSON).
    #[serde(flatten)]
    pub decision: Decision,
    /// The roles in play, breadth-first from the principal's roles and groups.
    pub effective_roles: Vec<String>,
    /// Role names the principal holds that the policy does not define.
    pub unknown_roles: Vec<String>,
    /// Every rule that matched, in SPEC order.
    pub matched: Vec<MatchedRule>,
    /// For a denied request, what would allow it (SPEC §9): the smallest
    /// changes, each checked by deciding again. Empty when the request is
    /// allowed or invalid.
    pub suggestions: Vec<Suggestion>,
}

#[derive(Clone, Copy)]
pub(crate) enum SourceRef<'a> {
    Principal,
    Grant,
    Role(&'a Arc<str>),
}

impl SourceRef<'_> {
    fn to_source(self) -> Source {
        match self {
            SourceRef::Principal => Source::Principal,
            SourceRef::Grant => Source::Grant,
            SourceRef::Role(name) => Source::Role(name.clone()),
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Hit<'a> {
    rule: &'a Rule,
    source: SourceRef<'a>,
}

/// Visits the rules in play for `subject`, in SPEC order (principal, grants,
/// roles breadth-first), until `visit` returns true.
fn scan<'a>(
    policy: &'a CompiledPolicy,
    resolved: &'a Resolved,
    subject: usize,
    mut visit: impl FnMut(Hit<'a>) -> bool,
) {
    for rule in resolved.own.candidates(subject) {
        if visit(Hit {
            rule,
            source: SourceRef::Principal,
        }) {
            return;
        }
    }
    if let Some(g) = resolved.grant {
        for rule in policy.grants[g].candidates(subject) {
            if visit(Hit {
                rule,
                source: SourceRef::Grant,
            }) {
                return;
            }
        }
    }
    for &r in &resolved.roles {
        let role = &policy.roles[r];
        for rule in role.rules.candidates(subject) {
            if visit(Hit {
                rule,
                source: SourceRef::Role(&role.name),
            }) {
                return;
            }
        }
    }
}

/// Resolves the request's action and subject, or says why it is invalid.
fn request_indices(policy: &CompiledPolicy, action: &str, kind: &str) -> Result<(usize, usize), Decision> {
    let Some(a) = policy.vocab.action_index(action) else {
        return Err(Decision::invalid(format!("unknown action `{action}`")));
    };
    let Some(s) = policy.vocab.subject_index(kind) else {
        return Err(Decision::invalid(format!("unknown resource type `{kind}`")));
    };
    Ok((a, s))
}

/// Whether the principal's `limits` admit the request: some allow label must
/// match and no deny label may.
fn within_limits(
    limits: &RuleSet,
    action: usize,
    subject: usize,
    id: Option<&str>,
    res: &ResourceRef<'_>,
) -> bool {
    let mut allowed = false;
    for rule in limits.candidates(subject) {
        if rule.matches(action, id, res) {
            if rule.deny {
                return false;
            }
            allowed = true;
        }
    }
    allowed
}

pub(crate) fn decide(
    policy: &CompiledPolicy,
    resolved: &Resolved,
    principal: &Principal,
    action: &str,
    resource: &Resource,
) -> Decision {
    decide_ref(policy, resolved, principal, action, &ResourceRef::of(resource))
}

pub(crate) fn decide_ref(
    policy: &CompiledPolicy,
    resolved: &Resolved,
    principal: &Principal,
    action: &str,
    res: &ResourceRef<'_>,
) -> Decision {
    verdict(policy, resolved, principal, action, res).into_decision()
}

/// A decision that still borrows its rule from the policy: the hot path reads
/// `allowed` from it without touching any reference count.
pub(crate) enum Verdict<'a> {
    Invalid(Decision),
    Rule {
        allowed: bool,
        reason: Reason,
        hit: Hit<'a>,
    },
    NoMatch,
}

impl Verdict<'_> {
    pub(crate) fn allowed(&self) -> bool {
        matches!(self, Verdict::Rule { allowed: true, .. })
    }

    pub(crate) fn into_decision(self) -> Decision {
        match self {
            Verdict::Invalid(d) => d,
            Verdict::Rule { allowed, reason, hit } => decision_from(allowed, reason, hit),
            Verdict::NoMatch => Decision::of(false, Reason::NoMatch),
        }
    }
}

pub(crate) fn verdict<'a>(
    policy: &'a CompiledPolicy,
    resolved: &'a Resolved,
    principal: &Principal,
    action: &str,
    res: &ResourceRef<'_>,
) -> Verdict<'a> {
    let (a, s) = match request_indices(policy, action, res.kind) {
        Ok(ids) => ids,
        Err(invalid) => return Verdict::Invalid(invalid),
    };
    let id = principal.id.as_deref();
    let mut first_allow = None;
    let mut first_deny = None;
    scan(policy, resolved, s, |hit| {
        if !hit.rule.matches(a, id, res) {
            return false;
        }
        if hit.rule.deny {
            first_deny = Some(hit);
            return true;
        }
        first_allow.get_or_insert(hit);
        false
    });
    if let Some(hit) = first_deny {
        return Verdict::Rule {
            allowed: false,
            reason: Reason::Denied,
            hit,
        };
    }
    match first_allow {
        Some(hit) => match &resolved.limits {
            Some(limits) if !within_limits(limits, a, s, id, res) => Verdict::Rule {
                allowed: false,
                reason: Reason::Limited,
                hit,
            },
            _ => Verdict::Rule {
                allowed: true,
                reason: Reason::Allowed,
                hit,
            },
        },
        None => Verdict::NoMatch,
    }
}

/// What the rules that match one resource shape hold: any allow, any deny.
#[derive(Clone, Copy, Default)]
struct Seen {
    allow: bool,
    deny: bool,
}

impl Seen {
    fn add(&mut self, rule: &Rule) {
        if rule.deny {
            self.deny = true;
        } else {
            self.allow = true;
        }
    }
    fn or(self, other: Seen) -> Seen {
        Seen {
            allow: self.allow || other.allow,
            deny: self.deny || other.deny,
        }
    }
    /// `verdict` allows exactly when an allow matches and no deny does.
    fn allows(self) -> bool {
        self.allow && !self.deny
    }
}

/// The three shapes a resource can have for a rule without `:instance`:
/// type-level, owned by the principal, anyone else's.
const TYPE_LEVEL: usize = 0;
const OWNED: usize = 1;
const OTHER: usize = 2;

/// Rules of one set (the rules in play, or the limits) sorted by which
/// resources they match: per shape for rules without an instance, per named
/// id (in first-seen order) for the others.
#[derive(Default)]
struct Tally {
    shapes: [Seen; 3],
    /// Per named id: (owned, anyone else's).
    ids: Vec<(Seen, Seen)>,
}

struct Named<'a> {
    order: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
}

impl<'a> Named<'a> {
    fn slot(&mut self, id: &'a str) -> usize {
        *self.index.entry(id).or_insert_with(|| {
            self.order.push(id);
            self.order.len() - 1
        })
    }
}

impl Tally {
    /// Adds `rule` if it is for action `a` (`Rule::matches`, read per shape).
    fn add<'a>(&mut self, rule: &'a Rule, a: usize, named: &mut Named<'a>) {
        if rule.action.is_some_and(|x| x != a) {
            return;
        }
        match rule.instance.as_deref() {
            None => {
                self.shapes[TYPE_LEVEL].add(rule);
                self.shapes[OWNED].add(rule);
                if !rule.own {
                    self.shapes[OTHER].add(rule);
                }
            }
            Some(id) => {
                let i = named.slot(id);
                if self.ids.len() <= i {
                    self.ids.resize(i + 1, (Seen::default(), Seen::default()));
                }
                self.ids[i].0.add(rule);
                if !rule.own {
                    self.ids[i].1.add(rule);
                }
            }
        }
    }

    fn id(&self, i: usize) -> (Seen, Seen) {
        self.ids.get(i).copied().unwrap_or_default()
    }
}

/// The answers of `verdict` for `action` on `kind`, for every resource, in
/// one pass over the rules: `matches` reads a resource only through its
/// shape (type-level, owned, other) and its id, and `verdict` allows when
/// some allow matches and no deny does (and, with limits, the same holds of
/// the limits). So each answer is an "or" of what the rules of that shape,
/// and those naming that id, hold. Ids no rule names all answer alike, as
/// does the empty id, which no label can name.
pub(crate) fn answers(
    policy: &CompiledPolicy,
    resolved: &Resolved,
    principal: &Principal,
    action: &str,
    kind: &str,
) -> Answers {
    let Ok((a, s)) = request_indices(policy, action, kind) else {
        // An unknown action or type is refused whatever the resource.
        return Answers::refused();
    };
    let mut named = Named {
        order: Vec::new(),
        index: HashMap::new(),
    };
    let mut rules = Tally::default();
    scan(policy, resolved, s, |hit| {
        rules.add(hit.rule, a, &mut named);
        false
    });
    let mut limits = Tally::default();
    if let Some(set) = &resolved.limits {
        for rule in set.candidates(s) {
            limits.add(rule, a, &mut named);
        }
    }
    let limited = resolved.limits.is_some();
    let allowed = |r: Seen, l: Seen| r.allows() && (!limited || l.allows());
    // Without an id of its own the principal owns nothing.
    let me = principal.id.is_some();
    let by_id = named
        .order
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let ((r_owned, r_other), (l_owned, l_other)) = (rules.id(i), limits.id(i));
            let owned = me && allowed(rules.shapes[OWNED].or(r_owned), limits.shapes[OWNED].or(l_owned));
            let other = allowed(rules.shapes[OTHER].or(r_other), limits.shapes[OTHER].or(l_other));
            (id.to_string(), owned, other)
        })
        .collect();
    Answers {
        type_level: allowed(rules.shapes[TYPE_LEVEL], limits.shapes[TYPE_LEVEL]),
        owned: me && allowed(rules.shapes[OWNED], limits.shapes[OWNED]),
        other: allowed(rules.shapes[OTHER], limits.shapes[OTHER]),
        by_id,
    }
}

pub(crate) fn explain(
    policy: &CompiledPolicy,
    resolved: &Resolved,
    principal: &Principal,
    action: &str,
    resource: &Resource,
) -> Explanation {
    let decision = decide(policy, resolved, principal, action, resource);
    let mut matched = Vec::new();
    let res = ResourceRef::of(resource);
    if let Ok((a, s)) = request_indices(policy, action, &resource.kind) {
        let id = principal.id.as_deref();
        scan(policy, resolved, s, |hit| {
            if hit.rule.matches(a, id, &res) {
                matched.push(MatchedRule {
                    rule: hit.rule.text.clone(),
                    source: hit.source.to_source(),
                    effect: hit.rule.effect(),
                });
            }
            false
        });
    }
    Explanation {
        decision,
        effective_roles: resolved.effective_role_names(policy),
        unknown_roles: resolved.unknown_roles.clone(),
        matched,
        // Filled by `Engine::explain` (the search decides edited policies
        // again, so it lives with the analysis, above this module).
        suggestions: Vec::new(),
    }
}

/// The allowed actions in one pass over the rules (not one decision per
/// action): whether a rule matches the resource depends on the action only
/// through the rule's own action, so matching rules are tallied per action
/// (and for `admin`, every action) and each action is read off its tally.
pub(crate) fn capabilities(
    policy: &CompiledPolicy,
    resolved: &Resolved,
    principal: &Principal,
    resource: &Resource,
) -> Vec<String> {
    let actions = policy.vocab.actions();
    let Some(s) = policy.vocab.subject_index(&resource.kind) else {
        // An unknown type is an invalid request for every action.
        return Vec::new();
    };
    let id = principal.id.as_deref();
    let res = ResourceRef::of(resource);
    let tally = |rules: &mut dyn Iterator<Item = &Rule>| {
        let mut per = vec![Seen::default(); actions.len()];
        let mut every = Seen::default();
        for rule in rules {
            // Asked with the rule's own action, `matches` checks only the resource.
            if rule.matches(rule.action.unwrap_or(0), id, &res) {
                match rule.action {
                    Some(a) => per[a].add(rule),
                    None => every.add(rule),
                }
            }
        }
        (per, every)
    };
    let mut in_play = Vec::new();
    scan(policy, resolved, s, |hit| {
        in_play.push(hit.rule);
        false
    });
    let (per, every) = tally(&mut in_play.into_iter());
    let limits = resolved.limits.as_ref().map(|set| tally(&mut set.candidates(s)));
    actions
        .iter()
        .enumerate()
        .filter(|&(a, _)| {
            per[a].or(every).allows()
                && limits
                    .as_ref()
                    .is_none_or(|(lper, levery)| lper[a].or(*levery).allows())
        })
        .map(|(_, name)| name.clone())
        .collect()
}
