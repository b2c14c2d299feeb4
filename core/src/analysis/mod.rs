//! Analysis for audits, notebooks and CI (SPEC §9): exact answers computed
//! from the compiled policy by enumeration, with no solver and no sampling.
//!
//! - [`crate::Engine::who_can`]: every role, group and grant that would
//!   allow a request, with conditions, role paths and overriding denies.
//! - [`crate::Engine::permissions`]: the effective table of a principal or
//!   a role, action × subject × scope.
//! - [`diff`] / [`crate::Engine::diff`]: every (holder, action, subject,
//!   scope) whose decision differs between two policies, the vocabulary
//!   change, and the operations whose access changed.
//! - [`crate::Engine::suggest`]: for a denied request, the smallest changes
//!   that allow it, each verified by deciding again.
//! - [`crate::Engine::role_graph`]: roles, inheritance, groups and denies,
//!   for drawing.
//!
//! ```
//! use serde_json::json;
//! let engine = tessera::Engine::new(&json!({"version": 1, "roles": {
//!     "user": {"permissions": ["read_own_device"]},
//!     "admin": {"inherits": ["user"], "permissions": ["admin_device", "!delete_device"]}}})).unwrap();
//! let who = engine.who_can("delete", &tessera::Resource::new("device").with_id("d1")).unwrap();
//! assert!(who.holders.iter().all(|h| !h.otherwise)); // the deny wins for admin
//! assert_eq!(who.denied_by[0].rule.as_ref(), "!delete_device");
//! ```

mod change;
mod diff;
mod graph;
pub(crate) mod index;
mod operations_diff;
mod permissions;
mod suggest;
mod summary;
mod who_can;

pub use change::Change;

pub use diff::{diff, diff_policies, Diff, VocabularyChange};
pub(crate) use graph::role_graph;
pub use graph::{GroupNode, RoleGraph, RoleNode};
pub use operations_diff::OperationChange;
pub(crate) use permissions::permissions;
pub use permissions::{Cell, Permissions, Subject};
pub(crate) use suggest::{suggest, suggestions};
pub use suggest::{Edit, Suggestion, Suggestions};
pub(crate) use who_can::who_can;
pub use who_can::{Access, HolderAnswer, LabelMatch, WhoCan};

use serde::Serialize;

/// When a matching label applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// To any resource of the type.
    Any,
    /// To resources the principal owns, and to type-level requests.
    Own,
    /// To this resource, because the label names its id.
    Instance,
}

/// The class of request a table cell or a diff row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A resource that the principal does not own and no label names.
    All,
    /// A resource the principal owns that no label names, or a type-level
    /// request (listing, creating), which decides the same way.
    Own,
    /// The named instance, not owned by the principal.
    Instance,
    /// The named instance, owned by the principal.
    OwnInstance,
}

/// What holds a rule in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    /// A role of the policy, with everything it inherits.
    Role,
    /// A group of the policy: the roles it maps to.
    Group,
    /// The policy's `grants` for one principal id.
    Grant,
}

/// A role, a group, or a principal id with grants. Serialised as
/// `{"kind": "role", "name": "admin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Holder {
    /// Role, group or grant.
    pub kind: HolderKind,
    /// The role's or group's name, or the grant's principal id.
    pub name: String,
}

impl Holder {
    /// The role `name`.
    pub fn role(name: &str) -> Holder {
        Holder {
            kind: HolderKind::Role,
            name: name.to_string(),
        }
    }
    /// The group `name`.
    pub fn group(name: &str) -> Holder {
        Holder {
            kind: HolderKind::Group,
            name: name.to_string(),
        }
    }
    /// The grants of the principal id `principal`.
    pub fn grant(principal: &str) -> Holder {
        Holder {
            kind: HolderKind::Grant,
            name: principal.to_string(),
        }
    }
}
