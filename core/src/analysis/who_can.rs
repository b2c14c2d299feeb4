//! `who_can(action, resource)` (SPEC §9): every role, group and grant that
//! would allow a request, each with its condition, the role path it is
//! reached by, and the denies that would override it; plus every label that
//! allows it when a principal holds it itself (its `permissions`, or the
//! `limits` of its credential).

use super::index::{Fact, Index};
use super::{Condition, Holder};
use crate::error::{Error, Result};
use crate::policy::CompiledPolicy;
use crate::request::Resource;
use serde::Serialize;
use std::sync::Arc;

/// One label that matches the request, where it sits, and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// Who holds it: a role, a group or a grant (a principal id).
    #[serde(flatten)]
    pub holder: Holder,
    /// The label as written.
    pub rule: Arc<str>,
    /// Where the label is written: `role:NAME` or `grant`.
    pub source: String,
    /// The roles from the holder to the role that holds the label, both
    /// included (`["admin", "user"]`: admin inherits user); empty for grants.
    pub via: Vec<String>,
    /// When it applies: always (`any`), to what the principal owns (`own`),
    /// or because it names this resource (`instance`).
    pub condition: Condition,
    /// For an allow: the denies the same holder also reaches that match this
    /// request (each with its own condition). Empty for denies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<Vec<Access>>,
}

/// What a holder alone gets: allowed when the principal owns the resource (or
/// the request is type-level), and when it does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderAnswer {
    /// The role, group or grant.
    #[serde(flatten)]
    pub holder: Holder,
    /// Allowed when the principal owns the resource (or it is type-level).
    pub when_owner: bool,
    /// Allowed when it does not.
    pub otherwise: bool,
}

/// A label a principal may hold itself (in `permissions`, or in a
/// credential's `limits`) that matches the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelMatch {
    /// The label.
    pub label: String,
    /// When it applies.
    pub condition: Condition,
}

/// The answer of [`who_can`].
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {
///     "user": {"permissions": ["read_own_device"]},
///     "admin": {"inherits": ["user"], "permissions": ["admin_device", "!delete_device"]}}})).unwrap();
/// let w = engine.who_can("read", &tessera::Resource::new("device").with_id("d1").with_owner("alice")).unwrap();
/// let answers: Vec<_> = w.holders.iter().map(|h| (h.holder.name.as_str(), h.when_owner, h.otherwise)).collect();
/// assert_eq!(answers, [("user", true, false), ("admin", true, true)]);
/// assert_eq!(w.allowed_by[1].via, ["admin"]);        // admin_device, written on admin
/// assert_eq!(w.allowed_by[2].via, ["admin", "user"]); // read_own_device, through user
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoCan {
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: Resource,
    /// Every allow that matches, by holder: grants, then roles, then groups,
    /// each in document order.
    pub allowed_by: Vec<Access>,
    /// Every deny that matches, in the same order.
    pub denied_by: Vec<Access>,
    /// Each holder with at least one matching allow, and what it gets alone.
    pub holders: Vec<HolderAnswer>,
    /// The labels that match when a principal holds them itself.
    pub labels: Vec<LabelMatch>,
}

/// The condition under which `fact` matches `action` on `resource`, or
/// `None` when it cannot.
pub(crate) fn condition(
    fact: &Fact,
    action: usize,
    subject: usize,
    resource: &Resource,
) -> Option<Condition> {
    if !fact.covers(action, subject) {
        return None;
    }
    match &fact.instance {
        Some(i) if resource.id.as_deref() == Some(&**i) => Some(Condition::Instance),
        Some(_) => None,
        None if fact.own => Some(Condition::Own),
        None => Some(Condition::Any),
    }
}

/// The action and subject of a request by position, or `invalid_request`.
pub(crate) fn request_indices(index: &Index, action: &str, kind: &str) -> Result<(usize, usize)> {
    let a = index
        .vocab
        .action_index(action)
        .ok_or_else(|| invalid(format!("unknown action `{action}`")))?;
    let s = index
        .vocab
        .subject_index(kind)
        .ok_or_else(|| invalid(format!("unknown resource type `{kind}`")))?;
    Ok((a, s))
}

fn invalid(message: String) -> Error {
    Error {
        code: "invalid_request".into(),
        ..Error::argument(message)
    }
}

/// Whether an instance id can be named by a label (`:instance` grammar).
pub(crate) fn nameable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= crate::label::MAX_INSTANCE_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '~'))
}

struct Collect<'a> {
    index: &'a Index,
    action: usize,
    subject: usize,
    resource: &'a Resource,
}

impl Collect<'_> {
    /// The matching allows and denies of `facts`, written at `source`.
    fn scan(
        &self,
        holder: &Holder,
        facts: &[Fact],
        source: &str,
        via: &[String],
        out: &mut (Vec<Access>, Vec<Access>),
    ) {
        for fact in facts {
            if let Some(condition) = condition(fact, self.action, self.subject, self.resource) {
                let access = Access {
                    holder: holder.clone(),
                    rule: fact.text.clone(),
                    source: source.to_string(),
                    via: via.to_vec(),
                    condition,
                    overridden_by: None,
                };
                if fact.deny {
                    out.1.push(access);
                } else {
                    out.0.push(access);
                }
            }
        }
    }

    fn roles(&self, holder: &Holder, seeds: &[usize], out: &mut (Vec<Access>, Vec<Access>)) {
        for (r, path) in self.index.closure_paths(seeds) {
            let role = &self.index.roles[r];
            let via: Vec<String> = path
                .iter()
                .map(|&p| self.index.roles[p].name.to_string())
                .collect();
            self.scan(holder, &role.facts, &format!("role:{}", role.name), &via, out);
        }
    }
}

/// Whether a holder whose matching allows and denies are these is allowed,
/// when the principal owns the resource (`owner`) or not.
fn alone(allows: &[Access], denies: &[Access], owner: bool) -> bool {
    let holds = |a: &Access| owner || a.condition != Condition::Own;
    allows.iter().any(holds) && !denies.iter().any(holds)
}

pub(crate) fn who_can(policy: &CompiledPolicy, action: &str, resource: &Resource) -> Result<WhoCan> {
    let index = Index::new(policy);
    let (a, s) = request_indices(&index, action, &resource.kind)?;
    let c = Collect {
        index: &index,
        action: a,
        subject: s,
        resource,
    };
    let type_level = resource.is_type_level();
    let mut result = WhoCan {
        action: action.to_string(),
        resource: resource.clone(),
        allowed_by: Vec::new(),
        denied_by: Vec::new(),
        holders: Vec::new(),
        labels: labels(action, &resource.kind, resource.id.as_deref()),
    };
    let mut per_holder = |holder: Holder, found: (Vec<Access>, Vec<Access>)| {
        let (mut allows, denies) = found;
        if !allows.is_empty() {
            result.holders.push(HolderAnswer {
                holder: holder.clone(),
                when_owner: alone(&allows, &denies, true),
                // A type-level request is one the caller "owns" (SPEC §4).
                otherwise: alone(&allows, &denies, type_level),
            });
        }
        for allow in &mut allows {
            allow.overridden_by = Some(denies.clone());
        }
        result.allowed_by.extend(allows);
        result.denied_by.extend(denies);
    };
    for (who, facts) in &index.grants {
        let holder = Holder::grant(who);
        let mut found = Default::default();
        c.scan(&holder, facts, "grant", &[], &mut found);
        per_holder(holder, found);
    }
    for (r, role) in index.roles.iter().enumerate() {
        let holder = Holder::role(&role.name);
        let mut found = Default::default();
        c.roles(&holder, &[r], &mut found);
        per_holder(holder, found);
    }
    for (group, roles) in &index.groups {
        let holder = Holder::group(group);
        let mut found = Default::default();
        c.roles(&holder, roles, &mut found);
        per_holder(holder, found);
    }
    Ok(result)
}

/// Every label that matches `action` on a resource of type `kind` with this
/// `id`, narrowest first within each condition.
fn labels(action: &str, kind: &str, id: Option<&str>) -> Vec<LabelMatch> {
    let mut out = Vec::new();
    let mut add = |label: String, condition| out.push(LabelMatch { label, condition });
    if let Some(id) = id.filter(|id| nameable(id)) {
        add(format!("{action}_{kind}:{id}"), Condition::Instance);
        add(format!("admin_{kind}:{id}"), Condition::Instance);
    }
    add(format!("{action}_own_{kind}"), Condition::Own);
    add(format!("admin_own_{kind}"), Condition::Own);
    add("admin_own".to_string(), Condition::Own);
    add(format!("{action}_{kind}"), Condition::Any);
    add(format!("admin_{kind}"), Condition::Any);
    add("admin".to_string(), Condition::Any);
    out
}
