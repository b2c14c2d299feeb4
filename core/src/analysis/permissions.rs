//! `permissions(principal_or_role)` (SPEC §9): the effective permission table,
//! action × subject × scope, after inheritance, denies and credential limits,
//! with the rule and source that decide each cell.

use super::index::{Fact, Index};
use super::Scope;
use crate::decide;
use crate::decision::{Decision, Reason, Source};
use crate::error::Result;
use crate::policy::CompiledPolicy;
use crate::request::{Principal, Resource};
use crate::roles::Resolved;
use serde::Serialize;
use std::sync::Arc;

/// Whose permissions to tabulate.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A principal as it would call `authorize` (its id, roles, groups, own
    /// labels and limits all count).
    Principal(Box<Principal>),
    /// A principal that holds only this role, with an id that no grant names.
    Role(String),
}

/// One cell of the table: one action on one subject in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The action.
    pub action: String,
    /// The resource type.
    pub subject: String,
    /// The class of request (see [`Scope`]).
    pub scope: Scope,
    /// The resource id, for `instance` and `own_instance`.
    pub instance: Option<String>,
    /// Whether it is allowed.
    pub allowed: bool,
    /// Why, as `authorize` says.
    pub reason: Reason,
    /// The label that decides, if any.
    pub rule: Option<Arc<str>>,
    /// Where that label is written.
    pub source: Option<Source>,
}

/// The answer of [`permissions`].
///
/// ```
/// use serde_json::json;
/// use tessera::analysis::{Scope, Subject};
/// let engine = tessera::Engine::new(&json!({"version": 1, "actions": ["read"], "subjects": ["device"],
///     "roles": {"user": {"permissions": ["read_own_device", "!read_device:d9"]}}})).unwrap();
/// let t = engine.permissions(&Subject::Role("user".into())).unwrap();
/// let cells: Vec<_> = t.cells.iter().map(|c| (c.scope, c.instance.as_deref(), c.allowed)).collect();
/// assert_eq!(cells, [
///     (Scope::All, None, false),
///     (Scope::Own, None, true),
///     (Scope::Instance, Some("d9"), false),
///     (Scope::OwnInstance, Some("d9"), false),
/// ]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Permissions {
    /// The principal the table is for (for a role: the one holding it alone).
    pub principal: Principal,
    /// Its effective roles, breadth-first.
    pub effective_roles: Vec<String>,
    /// Role names it holds that the policy does not define.
    pub unknown_roles: Vec<String>,
    /// Every cell, by action then subject (the policy's orders), then scope.
    pub cells: Vec<Cell>,
}

impl Permissions {
    /// Only the cells that are allowed.
    pub fn allowed(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(|c| c.allowed)
    }
}

pub(crate) fn permissions(policy: &CompiledPolicy, subject: &Subject) -> Result<Permissions> {
    let index = Index::new(policy);
    let principal = match subject {
        Subject::Principal(p) => (**p).clone(),
        Subject::Role(role) => Principal {
            id: Some(index.fresh_id(&[])),
            roles: vec![role.clone()],
            ..Principal::default()
        },
    };
    let resolved = Resolved::new(policy, &principal)?;
    let vocab = policy.vocabulary();
    // The labels in play, to find the instances they name.
    let mut facts: Vec<&Fact> = Vec::new();
    let own: Vec<Fact> = principal
        .permissions
        .iter()
        .filter_map(|t| Fact::parse(t, vocab))
        .collect();
    let limits: Vec<Fact> = principal
        .limits
        .iter()
        .flatten()
        .filter_map(|t| Fact::parse(t, vocab))
        .collect();
    facts.extend(&own);
    facts.extend(&limits);
    if let Some(grant) = principal.id.as_deref().and_then(|id| index.grant(id)) {
        facts.extend(grant);
    }
    let effective = resolved.effective_role_names(policy);
    for name in &effective {
        if let Some(r) = index.role(name) {
            facts.extend(&index.roles[r].facts);
        }
    }
    let me = principal.id.as_deref();
    let mut cells = Vec::new();
    for (a, action) in vocab.actions().iter().enumerate() {
        for (s, kind) in vocab.subjects().iter().enumerate() {
            let mut named: Vec<&str> = Vec::new();
            for f in &facts {
                if let Some(i) = f.instance.as_deref() {
                    if f.covers(a, s) && !named.contains(&i) {
                        named.push(i);
                    }
                }
            }
            named.sort_unstable();
            let decide =
                |resource: Resource| decide::decide(policy, &resolved, &principal, action, &resource);
            let mut cell = |scope, instance: Option<&str>, d: Decision| {
                cells.push(Cell {
                    action: action.clone(),
                    subject: kind.clone(),
                    scope,
                    instance: instance.map(str::to_string),
                    allowed: d.allowed,
                    reason: d.reason,
                    rule: d.rule,
                    source: d.source,
                });
            };
            // An id no label names ("" is never one), owned by someone else.
            cell(Scope::All, None, decide(Resource::new(kind).with_id("")));
            // Type-level requests decide as owned ones do (SPEC §4), and a
            // principal without an id owns nothing else.
            cell(Scope::Own, None, decide(Resource::new(kind)));
            for id in named {
                cell(Scope::Instance, Some(id), decide(Resource::new(kind).with_id(id)));
                if let Some(me) = me {
                    let owned = Resource::new(kind).with_id(id).with_owner(me);
                    cell(Scope::OwnInstance, Some(id), decide(owned));
                }
            }
        }
    }
    Ok(Permissions {
        principal,
        effective_roles: effective,
        unknown_roles: resolved.unknown_roles.clone(),
        cells,
    })
}
