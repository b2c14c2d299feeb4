//! A change that would allow a denied request (SPEC §9): the [`Edit`]s of
//! one [`Suggestion`] and the decision they lead to. `explain` lists them for
//! a denied request; the search that finds them is `analysis/suggest.rs`.

use crate::decision::Decision;
use crate::request::Principal;
use serde::Serialize;
use serde_json::{json, Value};

/// One change to a policy document or to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Edit {
    /// Append `label` to `roles[role].permissions`.
    AddLabel {
        /// The role to change.
        role: String,
        /// The label to add.
        label: String,
    },
    /// Remove every `label` from `roles[role].permissions`.
    RemoveLabel {
        /// The role to change.
        role: String,
        /// The label to remove.
        label: String,
    },
    /// Append a grant `{principal, permissions: [label]}`.
    AddGrant {
        /// The principal id the grant is for.
        principal: String,
        /// The label it grants.
        label: String,
    },
    /// Remove every `label` from the grants of `principal`.
    RemoveGrant {
        /// The principal id whose grants change.
        principal: String,
        /// The label to remove.
        label: String,
    },
    /// Give the principal `role`.
    AddRole {
        /// The role to give.
        role: String,
    },
    /// Remove every `label` from the principal's own `permissions`.
    RemovePermission {
        /// The label to remove.
        label: String,
    },
    /// Append `label` to the principal's `limits` (a credential minted for it).
    AddLimit {
        /// The label to allow.
        label: String,
    },
}

impl Edit {
    /// Applies the edit to a policy document and a principal.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::analysis::Edit;
    /// let mut doc = json!({"version": 1, "roles": {"user": {}}});
    /// let mut p = tessera::Principal::default();
    /// Edit::AddLabel { role: "user".into(), label: "read_device".into() }.apply(&mut doc, &mut p);
    /// assert_eq!(doc["roles"]["user"]["permissions"], json!(["read_device"]));
    /// ```
    pub fn apply(&self, doc: &mut Value, principal: &mut Principal) {
        let drop = |list: Option<&mut Value>, label: &str| {
            if let Some(Value::Array(items)) = list {
                items.retain(|v| v.as_str() != Some(label));
            }
        };
        match self {
            Edit::AddLabel { role, label } => {
                let role = doc
                    .get_mut("roles")
                    .and_then(|r| r.get_mut(role.as_str()))
                    .and_then(Value::as_object_mut);
                if let Some(role) = role {
                    match role.get_mut("permissions") {
                        Some(Value::Array(items)) => items.push(json!(label)),
                        _ => {
                            role.insert("permissions".into(), json!([label]));
                        }
                    }
                }
            }
            Edit::RemoveLabel { role, label } => {
                let role = doc.get_mut("roles").and_then(|r| r.get_mut(role.as_str()));
                drop(role.and_then(|r| r.get_mut("permissions")), label);
            }
            Edit::AddGrant {
                principal: who,
                label,
            } => {
                let grant = json!({"principal": who, "permissions": [label]});
                if let Some(doc) = doc.as_object_mut() {
                    match doc.get_mut("grants") {
                        Some(Value::Array(items)) => items.push(grant),
                        _ => {
                            doc.insert("grants".into(), json!([grant]));
                        }
                    }
                }
            }
            Edit::RemoveGrant {
                principal: who,
                label,
            } => {
                if let Some(Value::Array(items)) = doc.get_mut("grants") {
                    for g in items.iter_mut().filter(|g| g["principal"].as_str() == Some(who)) {
                        drop(g.get_mut("permissions"), label);
                    }
                }
            }
            Edit::AddRole { role } => principal.roles.push(role.clone()),
            Edit::RemovePermission { label } => principal.permissions.retain(|l| l != label),
            Edit::AddLimit { label } => principal.limits.get_or_insert_with(Vec::new).push(label.clone()),
        }
    }

    /// Whether the edit changes the policy document (else only the principal).
    pub(crate) fn touches_policy(&self) -> bool {
        !matches!(
            self,
            Edit::AddRole { .. } | Edit::RemovePermission { .. } | Edit::AddLimit { .. }
        )
    }
}

/// A set of edits that, applied together, allow the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The edits, to apply together.
    pub edits: Vec<Edit>,
    /// The decision once they are applied (always allowed).
    pub decision: Decision,
}
