//! Role resolution (SPEC §3): a principal's own labels, its grants, and its
//! effective roles — its `roles` plus those its `groups` map to, closed under
//! `inherits`, breadth-first.

use crate::error::{Error, Result};
use crate::policy::CompiledPolicy;
use crate::request::Principal;
use crate::rules::{Rule, RuleSet};
use crate::schema::index_path;
use std::collections::{HashSet, VecDeque};

/// Everything about a principal that a decision needs, resolved against one
/// policy. Built once per request, or once per [`crate::PreparedPrincipal`].
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The principal's own `permissions`.
    pub own: RuleSet,
    /// Index of the policy's grants for the principal's id.
    pub grant: Option<usize>,
    /// Effective roles by index, breadth-first from the principal's roles.
    pub roles: Vec<usize>,
    /// Role names the principal holds that the policy does not define.
    pub unknown_roles: Vec<String>,
    /// The principal's `limits`, when present.
    pub limits: Option<RuleSet>,
}

impl Resolved {
    /// Resolves `principal`; a label the policy cannot parse is an error whose
    /// `path` names it (`permissions[1]`, `limits[0]`).
    pub(crate) fn new(policy: &CompiledPolicy, principal: &Principal) -> Result<Resolved> {
        let subjects = policy.vocab.subjects().len();
        let own = RuleSet::new(
            compile_labels(policy, &principal.permissions, "permissions")?,
            subjects,
        );
        let limits = match &principal.limits {
            Some(labels) => Some(RuleSet::new(compile_labels(policy, labels, "limits")?, subjects)),
            None => None,
        };
        let grant = principal
            .id
            .as_deref()
            .and_then(|id| policy.grant_index.get(id).copied());

        let mut unknown_roles: Vec<String> = Vec::new();
        let mut unknown_seen: HashSet<&str> = HashSet::new();
        let mut seen = vec![false; policy.roles.len()];
        let mut queue = VecDeque::new();
        let mut seed = |r: usize, queue: &mut VecDeque<usize>| {
            if !seen[r] {
                seen[r] = true;
                queue.push_back(r);
            }
        };
        for name in &principal.roles {
            match policy.role_id(name) {
                Some(r) => seed(r, &mut queue),
                None if unknown_seen.insert(name) => unknown_roles.push(name.clone()),
                None => {}
            }
        }
        for group in &principal.groups {
            for &r in policy.group_roles.get(group).map(Vec::as_slice).unwrap_or(&[]) {
                seed(r, &mut queue);
            }
        }
        let mut roles = Vec::with_capacity(queue.len());
        while let Some(r) = queue.pop_front() {
            roles.push(r);
            for &parent in &policy.roles[r].inherits {
                seed(parent, &mut queue);
            }
        }
        Ok(Resolved {
            own,
            grant,
            roles,
            unknown_roles,
            limits,
        })
    }

    /// Effective role names in breadth-first order.
    pub(crate) fn effective_role_names(&self, policy: &CompiledPolicy) -> Vec<String> {
        self.roles
            .iter()
            .map(|&r| policy.roles[r].name.to_string())
            .collect()
    }

    /// Whether any effective role is one of `names`.
    pub(crate) fn has_any_role(&self, policy: &CompiledPolicy, names: &[String]) -> bool {
        self.roles
            .iter()
            .any(|&r| names.iter().any(|n| **n == *policy.roles[r].name))
    }
}

fn compile_labels(policy: &CompiledPolicy, labels: &[String], field: &str) -> Result<Vec<Rule>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, text)| {
            policy.compile_label(text).map_err(|e| Error {
                message: format!("{field}[{i}]: {}", e.message),
                ..e.with_path(index_path(field, i))
            })
        })
        .collect()
}
