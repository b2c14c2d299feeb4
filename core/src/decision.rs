//! The answer to a request (SPEC §4): [`Decision`], its [`Reason`] and the
//! [`Source`] of the deciding rule. Stable names; the bindings read the
//! reason table from here ([`Reason::ALL`]) instead of copying it.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Why a decision came out the way it did. Stable strings (snake_case) are
/// part of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A matching allow rule and no matching deny.
    Allowed,
    /// A matching deny rule (denies always win).
    Denied,
    /// No rule matched: denied by default.
    NoMatch,
    /// An allow rule matched, but the principal's `limits` do not admit the request.
    Limited,
    /// An unknown action or resource type; `message` says which.
    InvalidRequest,
    /// A `public` operation (SPEC §5).
    Public,
    /// The operation needs a principal and none was given.
    Unauthenticated,
    /// The principal lacks one of the operation's `groups_all`.
    MissingGroup,
    /// The principal holds none of the operation's `roles_any`.
    MissingRole,
    /// The principal holds none of the operation's `scopes_any`.
    MissingScope,
    /// The principal proved itself with another credential than the operation requires.
    WrongCredential,
    /// The operation is not in the policy's `operations` table.
    UnknownOperation,
}

impl Reason {
    /// Every reason, in SPEC order: the table the bindings export (Python
    /// `tessera.REASONS`, JS `reasons()`) instead of copying it.
    ///
    /// ```
    /// assert_eq!(tessera::Reason::ALL.len(), 12);
    /// assert!(tessera::Reason::ALL.iter().all(|r| r.as_str().parse() == Ok(*r)));
    /// ```
    pub const ALL: [Reason; 12] = [
        Reason::Allowed,
        Reason::Denied,
        Reason::NoMatch,
        Reason::Limited,
        Reason::InvalidRequest,
        Reason::Public,
        Reason::Unauthenticated,
        Reason::MissingGroup,
        Reason::MissingRole,
        Reason::MissingScope,
        Reason::WrongCredential,
        Reason::UnknownOperation,
    ];

    /// The stable string of this reason.
    ///
    /// ```
    /// assert_eq!(tessera::Reason::NoMatch.as_str(), "no_match");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Allowed => "allowed",
            Reason::Denied => "denied",
            Reason::NoMatch => "no_match",
            Reason::Limited => "limited",
            Reason::InvalidRequest => "invalid_request",
            Reason::Public => "public",
            Reason::Unauthenticated => "unauthenticated",
            Reason::MissingGroup => "missing_group",
            Reason::MissingRole => "missing_role",
            Reason::MissingScope => "missing_scope",
            Reason::WrongCredential => "wrong_credential",
            Reason::UnknownOperation => "unknown_operation",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Reason`] or [`Source`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name `{}`", self.0)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Reason {
    type Err = UnknownName;

    /// The reason whose stable string is `text` (`"no_match"` → `NoMatch`).
    fn from_str(text: &str) -> Result<Reason, UnknownName> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| UnknownName(text.to_string()))
    }
}

/// Where a rule came from: the principal's own labels, a per-principal grant
/// in the policy, or a role. Serialised as `principal`, `grant`, `role:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// The principal's own `permissions`.
    Principal,
    /// A per-principal grant of the policy (`grants`).
    Grant,
    /// A role, by name (the principal's, a group's, or inherited).
    Role(Arc<str>),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Principal => f.write_str("principal"),
            Source::Grant => f.write_str("grant"),
            Source::Role(name) => write!(f, "role:{name}"),
        }
    }
}

impl FromStr for Source {
    type Err = UnknownName;

    /// `principal`, `grant` or `role:NAME` (a non-empty name), as serialised.
    ///
    /// ```
    /// use tessera::Source;
    /// assert_eq!("role:admin".parse(), Ok(Source::Role("admin".into())));
    /// assert!("role:".parse::<Source>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Source, UnknownName> {
        match text {
            "principal" => Ok(Source::Principal),
            "grant" => Ok(Source::Grant),
            _ => text
                .strip_prefix("role:")
                .filter(|name| !name.is_empty())
                .map(|name| Source::Role(Arc::from(name)))
                .ok_or_else(|| UnknownName(text.to_string())),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The answer to "may this principal do this?".
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1,
///     "roles": {"admin": {"permissions": ["admin_device", "!delete_device"]}}})).unwrap();
/// let p = tessera::Principal { roles: vec!["admin".into()], ..Default::default() };
/// let d = engine.authorize(&p, "delete", &tessera::Resource::new("device")).unwrap();
/// assert_eq!(serde_json::to_value(&d).unwrap(),
///     json!({"allowed": false, "reason": "denied", "rule": "!delete_device", "source": "role:admin"}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// The label that decided (first matching deny, else first matching allow).
    pub rule: Option<Arc<str>>,
    /// Where the deciding rule came from.
    pub source: Option<Source>,
    /// Why the request is invalid (only with `invalid_request`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Decision {
    pub(crate) fn of(allowed: bool, reason: Reason) -> Decision {
        Decision {
            allowed,
            reason,
            rule: None,
            source: None,
            message: None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Decision {
        Decision {
            message: Some(message.into()),
            ..Decision::of(false, Reason::InvalidRequest)
        }
    }
}
