//! The two inputs of every decision: who asks (a [`Principal`]) and on what
//! (a [`Resource`]). Both are plain data with the JSON shapes of SPEC §3.

use crate::error::Result;
use serde::{Deserialize, Serialize};

/// How the principal proved who it is; operations may require one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// A provider JWT (`verify_jwt`).
    Jwt,
    /// A session of this engine (`verify_session`).
    Session,
    /// A long-lived API token (`verify_api_token`).
    ApiToken,
}

impl Credential {
    /// The stable string (`jwt`, `session`, `api_token`).
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Jwt => "jwt",
            Credential::Session => "session",
            Credential::ApiToken => "api_token",
        }
    }
}

/// Who is asking.
///
/// Token verification returns one of these (with `credential`, `expires_at` and,
/// for provider JWTs, the raw `claims`), ready to pass to `authorize`.
///
/// ```
/// let p: tessera::Principal = serde_json::from_value(serde_json::json!({
///     "id": "u-1", "roles": ["user"], "groups": ["managers"]
/// })).unwrap();
/// assert_eq!(p.roles, vec!["user"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// Who the principal is (its `sub`); owns what has it as owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The roles the principal holds.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The groups the principal is in; `policy.groups` maps them to roles.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Labels held by the principal itself (source `principal`).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// OAuth scopes, for operations with `scopes_any`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When present, every allowed request must also match one of these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Vec<String>>,
    /// How the principal proved who it is, for operations with `credential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// Seconds since the epoch at which the credential stops being valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The session this principal came from (session credentials only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The API token this principal came from, directly or through a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token_id: Option<String>,
    /// The verified claims of a provider JWT, untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
}

impl Principal {
    /// Reads a principal from JSON, turning shape errors into `invalid_argument`.
    ///
    /// ```
    /// let err = tessera::Principal::from_json(&serde_json::json!({"roles": "admin"})).unwrap_err();
    /// assert_eq!(err.code, "invalid_argument");
    /// ```
    pub fn from_json(value: &serde_json::Value) -> Result<Principal> {
        crate::argument::from_value(value, "principal")
    }
}

/// What is acted on: a subject type and optionally one instance and its owners.
///
/// A resource with neither `id` nor owners is *type-level* (listing, creating).
///
/// ```
/// let r = tessera::Resource::new("device").with_id("dev-1").with_owner("u-1");
/// assert!(r.is_owned_by("u-1"));
/// assert!(!r.is_type_level());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The resource type, one of the policy's subjects (JSON `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource's id, for labels that name an instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resource's owner, for `own_` labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// All owners, for a resource with several (`own_` matches any of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
}

impl Resource {
    /// A type-level resource of this type (no id, no owner).
    pub fn new(kind: impl Into<String>) -> Self {
        Resource {
            kind: kind.into(),
            ..Resource::default()
        }
    }
    /// The same resource with `id` set.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    /// The same resource with `owner` set.
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Reads a resource from JSON, turning shape errors into `invalid_argument`.
    pub fn from_json(value: &serde_json::Value) -> Result<Resource> {
        crate::argument::from_value(value, "resource")
    }

    /// True when the resource names neither an instance nor an owner.
    pub fn is_type_level(&self) -> bool {
        self.id.is_none() && self.owner.is_none() && self.owners.is_empty()
    }

    /// True when `who` is `owner` or one of `owners`.
    pub fn is_owned_by(&self, who: &str) -> bool {
        self.owner.as_deref() == Some(who) || self.owners.iter().any(|o| o == who)
    }
}
