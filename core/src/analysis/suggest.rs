//! What would allow a denied request (SPEC §9): the smallest changes — one
//! label added to one role or grant, one role given to the principal, one
//! deny removed, one label added to the credential's limits — each applied
//! to a copy of the policy (or of the principal) and decided again, so that
//! nothing suggested is wrong. Only when no single change is enough does it
//! offer one combined change (every matching deny removed, plus a label
//! where nothing allows yet).

use super::who_can::nameable;
use crate::decide::{self, Explanation};
use crate::decision::{Decision, Reason, Source};
use crate::error::Result;
use crate::label::Effect;
use crate::policy::CompiledPolicy;
use crate::request::{Principal, Resource};
use crate::roles::Resolved;
pub use crate::suggestion::{Edit, Suggestion};
use serde::Serialize;
use serde_json::Value;

/// The answer of [`crate::Engine::suggest`].
///
/// ```
/// use serde_json::json;
/// use tessera::analysis::Edit;
/// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {
///     "user": {"permissions": ["read_own_device"]},
///     "auditor": {"permissions": ["read_device"]}}})).unwrap();
/// let alice = tessera::Principal { id: Some("alice".into()), roles: vec!["user".into()], ..Default::default() };
/// let s = engine.suggest(&alice, "read", &tessera::Resource::new("device").with_id("d1").with_owner("bob")).unwrap();
/// assert_eq!(s.suggestions[0].edits, [Edit::AddLabel { role: "user".into(), label: "read_device:d1".into() }]);
/// assert_eq!(s.suggestions[1].edits, [Edit::AddGrant { principal: "alice".into(), label: "read_device:d1".into() }]);
/// assert_eq!(s.suggestions[2].edits, [Edit::AddRole { role: "auditor".into() }]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestions {
    /// The decision as things are.
    pub decision: Decision,
    /// Nothing when the request is allowed or invalid; otherwise every
    /// single change that allows it (narrowest label first within each
    /// target), or else one combined change.
    pub suggestions: Vec<Suggestion>,
}

struct Search<'a> {
    policy: &'a CompiledPolicy,
    principal: &'a Principal,
    action: &'a str,
    resource: &'a Resource,
}

impl Search<'_> {
    /// Applies `edits` and decides again; the decision if it is now allowed.
    fn verify(&self, edits: &[Edit]) -> Option<Decision> {
        let mut principal = self.principal.clone();
        let policy;
        let policy = if edits.iter().any(Edit::touches_policy) {
            let mut doc = self.policy.document().clone();
            for e in edits {
                e.apply(&mut doc, &mut principal);
            }
            policy = CompiledPolicy::compile(&doc).ok()?;
            &policy
        } else {
            for e in edits {
                e.apply(&mut Value::Null, &mut principal);
            }
            self.policy
        };
        let resolved = Resolved::new(policy, &principal).ok()?;
        let d = decide::decide(policy, &resolved, &principal, self.action, self.resource);
        d.allowed.then_some(d)
    }

    /// The labels that would allow the request, narrowest first.
    fn labels(&self) -> Vec<String> {
        let (a, kind) = (self.action, &self.resource.kind);
        let mut out = Vec::new();
        if let Some(id) = self.resource.id.as_deref().filter(|id| nameable(id)) {
            out.push(format!("{a}_{kind}:{id}"));
        }
        let owned = self.resource.is_type_level()
            || self
                .principal
                .id
                .as_deref()
                .is_some_and(|me| self.resource.is_owned_by(me));
        if owned {
            out.push(format!("{a}_own_{kind}"));
        }
        out.push(format!("{a}_{kind}"));
        out
    }

    /// The first (narrowest) label that works when added by `edit`.
    fn narrowest(&self, base: &[Edit], edit: impl Fn(String) -> Edit) -> Option<Suggestion> {
        self.labels().into_iter().find_map(|label| {
            let mut edits = base.to_vec();
            edits.push(edit(label));
            self.verify(&edits).map(|decision| Suggestion { edits, decision })
        })
    }
}

pub(crate) fn suggest(
    policy: &CompiledPolicy,
    principal: &Principal,
    action: &str,
    resource: &Resource,
) -> Result<Suggestions> {
    let resolved = Resolved::new(policy, principal)?;
    let explanation = decide::explain(policy, &resolved, principal, action, resource);
    Ok(Suggestions {
        suggestions: suggestions(policy, principal, action, resource, &explanation),
        decision: explanation.decision,
    })
}

/// What would allow the request `explanation` explains: nothing when it is
/// allowed or invalid (see [`Suggestions::suggestions`]).
pub(crate) fn suggestions(
    policy: &CompiledPolicy,
    principal: &Principal,
    action: &str,
    resource: &Resource,
    explanation: &Explanation,
) -> Vec<Suggestion> {
    let mut suggestions = Vec::new();
    let decision = &explanation.decision;
    if decision.allowed || decision.reason == Reason::InvalidRequest {
        return suggestions;
    }
    let search = Search {
        policy,
        principal,
        action,
        resource,
    };
    let single = |edits: Vec<Edit>| {
        search
            .verify(&edits)
            .map(|decision| Suggestion { edits, decision })
    };
    // Remove one deny.
    let mut removals = Vec::new();
    for m in explanation.matched.iter().filter(|m| m.effect == Effect::Deny) {
        let label = m.rule.to_string();
        let edit = match &m.source {
            Source::Principal => Edit::RemovePermission { label },
            Source::Grant => Edit::RemoveGrant {
                principal: principal.id.clone().unwrap_or_default(),
                label,
            },
            Source::Role(role) => Edit::RemoveLabel {
                role: role.to_string(),
                label,
            },
        };
        if !removals.contains(&edit) {
            removals.push(edit);
        }
    }
    suggestions.extend(removals.iter().filter_map(|e| single(vec![e.clone()])));
    // Add one label to one role the principal has, or to its grants.
    for role in &explanation.effective_roles {
        suggestions.extend(search.narrowest(&[], |label| Edit::AddLabel {
            role: role.clone(),
            label,
        }));
    }
    if let Some(me) = &principal.id {
        suggestions.extend(search.narrowest(&[], |label| Edit::AddGrant {
            principal: me.clone(),
            label,
        }));
    }
    // Give one role, fewest labels (with what it inherits) first.
    let mut roles: Vec<(usize, String)> = Vec::new();
    for (r, role) in policy.roles.iter().enumerate() {
        if explanation.effective_roles.iter().any(|e| **e == *role.name) {
            continue;
        }
        roles.push((closure_weight(policy, r), role.name.to_string()));
    }
    roles.sort();
    for (_, role) in roles {
        suggestions.extend(single(vec![Edit::AddRole { role }]));
    }
    // Widen the credential.
    if principal.limits.is_some() {
        suggestions.extend(search.narrowest(&[], |label| Edit::AddLimit { label }));
    }
    if suggestions.is_empty() {
        // No single change will do: every matching deny goes, then a label
        // where nothing allows, then the limits.
        let mut edits = removals;
        if search.verify(&edits).is_none() {
            let target = explanation.effective_roles.first().cloned();
            let base = edits.clone();
            let widened = match (&target, &principal.id) {
                (Some(role), _) => search.narrowest(&base, |label| Edit::AddLabel {
                    role: role.clone(),
                    label,
                }),
                (None, Some(me)) => search.narrowest(&base, |label| Edit::AddGrant {
                    principal: me.clone(),
                    label,
                }),
                (None, None) => None,
            };
            match widened {
                Some(s) => edits = s.edits,
                None if principal.limits.is_some() => {
                    let more = search.labels().into_iter().next().unwrap_or_default();
                    let with_allow = match (&target, &principal.id) {
                        (Some(role), _) => Some(Edit::AddLabel {
                            role: role.clone(),
                            label: more,
                        }),
                        (None, Some(me)) => Some(Edit::AddGrant {
                            principal: me.clone(),
                            label: more,
                        }),
                        (None, None) => None,
                    };
                    edits.extend(with_allow);
                    let base = edits.clone();
                    if let Some(s) = search.narrowest(&base, |label| Edit::AddLimit { label }) {
                        edits = s.edits;
                    }
                }
                None => {}
            }
        }
        if let Some(decision) = search.verify(&edits) {
            suggestions.push(Suggestion { edits, decision });
        }
    }
    suggestions
}

/// How many labels role `r` holds with everything it inherits (each role
/// once). Walked on the compiled roles directly, not through the analysis
/// index, so `explain` (which every module has) does not pull the index in.
fn closure_weight(policy: &CompiledPolicy, r: usize) -> usize {
    let mut seen = vec![false; policy.roles.len()];
    let mut stack = vec![r];
    seen[r] = true;
    let mut weight = 0;
    while let Some(x) = stack.pop() {
        weight += policy.roles[x].rules.rules().len();
        for &p in &policy.roles[x].inherits {
            if !std::mem::replace(&mut seen[p], true) {
                stack.push(p);
            }
        }
    }
    weight
}
