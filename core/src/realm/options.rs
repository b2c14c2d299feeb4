//! How a realm and its users are set up ([`RealmOptions`], [`UserOptions`])
//! and how a user is shown ([`User`]).

use super::password::Argon2Options;
use super::state::UserRecord;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a realm is set up: Argon2id costs, and the JWKS of an identity
/// provider whose JWTs [`Realm::authenticate`](super::Realm::authenticate) accepts.
///
/// ```
/// let o = tessera::RealmOptions::from_json(&serde_json::json!({
///     "argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}})).unwrap();
/// assert!(o.jwks.is_none());
/// assert_eq!(tessera::RealmOptions::from_json(&serde_json::json!({"x": 1})).unwrap_err().code, "invalid_argument");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealmOptions {
    /// Password hashing costs (default: OWASP's m=19456 KiB, t=2, p=1).
    pub argon2: Argon2Options,
    /// A JWKS (`{"keys": [...]}`). When given, provider JWTs are accepted by
    /// [`Realm::authenticate`](super::Realm::authenticate), checked against the policy's `tokens.jwt`;
    /// when absent they are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
}

impl RealmOptions {
    /// Reads the options from JSON; a wrong shape is `invalid_argument`.
    pub fn from_json(value: &Value) -> Result<RealmOptions> {
        crate::argument::from_value(value, "options")
    }

    /// The cheapest Argon2 parameters (m=8 KiB, t=1, p=1): for tests and
    /// examples only, never for real passwords.
    ///
    /// ```
    /// assert_eq!(tessera::RealmOptions::fast_for_tests().argon2.memory_kib, 8);
    /// ```
    pub fn fast_for_tests() -> RealmOptions {
        RealmOptions {
            argon2: Argon2Options {
                memory_kib: 8,
                iterations: 1,
                parallelism: 1,
            },
            jwks: None,
        }
    }
}

/// Options of [`Realm::create_user`](super::Realm::create_user).
///
/// ```
/// let o = tessera::UserOptions::from_json(&serde_json::json!({"id": "u-ann"})).unwrap();
/// assert_eq!(o.id.as_deref(), Some("u-ann"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserOptions {
    /// The new user's id: 1–128 characters of `A-Z a-z 0-9 - _ . @ ~`.
    /// Drawn at random (22 base62 characters) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl UserOptions {
    /// Reads the options from JSON; a wrong shape is `invalid_argument`.
    pub fn from_json(value: &Value) -> Result<UserOptions> {
        crate::argument::from_value(value, "options")
    }
}

/// A user as the realm shows it: never the password hash.
///
/// ```
/// let u: tessera::User = serde_json::from_value(serde_json::json!({
///     "id": "u1", "username": "ann", "roles": ["admin"], "has_password": true, "created_at": 0})).unwrap();
/// assert!(u.has_password);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id: its principal's `id`, its sessions' `sub`.
    pub id: String,
    /// The unique name the user logs in with.
    pub username: String,
    /// The roles given to the user (not closed under `inherits`).
    pub roles: Vec<String>,
    /// Whether the user can log in with a password.
    pub has_password: bool,
    /// When the user was created (seconds since the epoch).
    pub created_at: i64,
}

impl From<&UserRecord> for User {
    fn from(u: &UserRecord) -> User {
        User {
            id: u.id.clone(),
            username: u.username.clone(),
            roles: u.roles.clone(),
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
        }
    }
}
