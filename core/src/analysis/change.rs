//! [`Change`]: one difference [`super::diff`] reports, and the input from
//! which [`super::operations_diff`] derives the operations that changed.

use super::{Holder, Scope};
use crate::decision::Decision;
use serde::Serialize;

/// One (holder, action, subject, scope) whose decision differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The role, group or grant (serialised as `kind`, `name`).
    #[serde(flatten)]
    pub holder: Holder,
    /// The action of the request.
    pub action: String,
    /// The resource type of the request.
    pub subject: String,
    /// The class of request (see [`Scope`]).
    pub scope: Scope,
    /// The named instance, for `instance` and `own_instance`.
    pub instance: Option<String>,
    /// What a principal holding only this (in policy A) is answered.
    pub a: Decision,
    /// The same in policy B.
    pub b: Decision,
}
