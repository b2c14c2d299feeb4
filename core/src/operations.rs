//! Operations (SPEC §5): one table that tells the browser which buttons to hide
//! and the server which calls to refuse. The table is compiled by
//! [`crate::operation_table`] with the rest of the policy; this module
//! decides one call against it.

use crate::decide::decide_ref;
use crate::decision::{Decision, Reason};
use crate::error::Result;
use crate::operation_table::Access;
use crate::policy::CompiledPolicy;
use crate::request::Principal;
use crate::roles::Resolved;
use crate::rules::ResourceRef;
use serde::{Deserialize, Serialize};

/// What the caller knows about the resource an operation acts on.
///
/// `id` is used when the route has no `{id}` parameter (RPC operations).
///
/// ```
/// let ctx: tessera::OperationContext = serde_json::from_value(
///     serde_json::json!({"owner": "u-1"})).unwrap();
/// assert_eq!(ctx.owner.as_deref(), Some("u-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationContext {
    /// The resource's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resource's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// All owners, for a resource with several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
}

fn refuse(reason: Reason) -> Decision {
    Decision::of(false, reason)
}

/// SPEC §5: find the entry, then check access, credential and permission in
/// that order; the first failing check gives the reason.
pub(crate) fn authorize_operation(
    policy: &CompiledPolicy,
    principal: Option<&Principal>,
    operation: &str,
    context: &OperationContext,
) -> Result<Decision> {
    let Some((entry, route_id)) = policy.operations.find(operation)? else {
        return Ok(refuse(Reason::UnknownOperation));
    };
    let Some(principal) = principal else {
        let open = entry.access == Access::Public && entry.credential.is_none() && entry.permission.is_none();
        return Ok(if open {
            Decision::of(true, Reason::Public)
        } else {
            refuse(Reason::Unauthenticated)
        });
    };
    let resolved = Resolved::new(policy, principal)?;
    if let Access::Require {
        groups_all,
        roles_any,
        scopes_any,
    } = &entry.access
    {
        if !groups_all.iter().all(|g| principal.groups.contains(g)) {
            return Ok(refuse(Reason::MissingGroup));
        }
        if !roles_any.is_empty() && !resolved.has_any_role(policy, roles_any) {
            return Ok(refuse(Reason::MissingRole));
        }
        if !scopes_any.is_empty() && !scopes_any.iter().any(|s| principal.scopes.contains(s)) {
            return Ok(refuse(Reason::MissingScope));
        }
    }
    if let Some(required) = entry.credential {
        if principal.credential != Some(required) {
            return Ok(refuse(Reason::WrongCredential));
        }
    }
    if let Some(perm) = &entry.permission {
        let resource = ResourceRef {
            kind: &perm.subject,
            id: route_id.as_deref().or(context.id.as_deref()),
            owner: context.owner.as_deref(),
            owners: &context.owners,
        };
        let mut decision = decide_ref(policy, &resolved, principal, &perm.action, &resource);
        // A public operation stays `public` when the caller also holds the
        // permission; the rule that allowed it is kept.
        if decision.allowed && entry.access == Access::Public {
            decision.reason = Reason::Public;
        }
        return Ok(decision);
    }
    Ok(Decision::of(
        true,
        if entry.access == Access::Public {
            Reason::Public
        } else {
            Reason::Allowed
        },
    ))
}
