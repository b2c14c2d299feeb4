//! What a realm remembers, and its snapshot: the JSON document that
//! [`Realm::snapshot`](super::Realm::snapshot) writes and
//! [`Realm::restore`](super::Realm::restore) reads back, field for field.

use super::password::check_phc;
use crate::error::{Error, Result};
use crate::token::{ApiTokenRecord, ApiTokenState};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The snapshot format version this crate writes and reads.
pub const SNAPSHOT_VERSION: u64 = 1;

/// A user as the realm stores it (the snapshot's `users[i]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserRecord {
    pub id: String,
    pub username: String,
    pub roles: Vec<String>,
    /// Argon2id PHC string; `null` for a user who cannot log in.
    pub password_hash: Option<String>,
    pub created_at: i64,
}

/// A live session the realm issued (the snapshot's `sessions[i]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionRecord {
    /// The session id (`sid` claim).
    pub id: String,
    pub user_id: String,
    /// The API token the session was opened with, if any.
    pub api_token_id: Option<String>,
    /// The latest `exp` of any token of this session; after it the session
    /// can neither be used nor renewed, and its record is dropped.
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u64,
    bootstrapped: bool,
    epoch: u64,
    users: Vec<UserRecord>,
    api_tokens: Vec<ApiTokenRecord>,
    sessions: Vec<SessionRecord>,
}

/// The mutable state behind the realm's lock.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct State {
    /// Whether a user was ever created (the bootstrap role is given once).
    pub bootstrapped: bool,
    /// The restart counter: sessions issued before the last restart carry a
    /// lower epoch and are refused.
    pub epoch: u64,
    pub users: IndexMap<String, UserRecord>,
    pub tokens: IndexMap<String, ApiTokenRecord>,
    pub sessions: IndexMap<String, SessionRecord>,
}

fn bad(message: String) -> Error {
    Error::argument(format!("realm snapshot: {message}"))
}

/// Whether `id` can name a user: 1–128 characters of `A-Z a-z 0-9 - _ . @ ~`,
/// so that it also works as a label instance (`update_user:<id>`).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@' | b'~'))
}

/// Why `name` cannot be a username, if it cannot.
pub(crate) fn username_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a username must not be empty")
    } else if name.len() > 256 {
        Some("a username is at most 256 bytes")
    } else if name.chars().any(char::is_control) {
        Some("a username has no control characters")
    } else if name.trim() != name {
        Some("a username neither starts nor ends with white space")
    } else {
        None
    }
}

/// Usernames are unique and looked up ignoring ASCII case.
pub(crate) fn same_username(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn is_hash(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl State {
    pub(crate) fn user_by_name(&self, username: &str) -> Option<&UserRecord> {
        self.users.values().find(|u| same_username(&u.username, username))
    }

    /// Whether an id is taken: by a user, or as the owner of a token record
    /// (revoked tokens of a deleted user keep their owner's id).
    pub(crate) fn id_in_use(&self, id: &str) -> bool {
        self.users.contains_key(id) || self.tokens.values().any(|t| t.owner == id)
    }

    /// Drops the records of sessions whose every token has expired.
    pub(crate) fn prune(&mut self, now: i64) {
        self.sessions.retain(|_, s| now < s.expires_at);
    }

    /// Ends every session of `user_id` (except `keep`).
    pub(crate) fn end_sessions_of_user(&mut self, user_id: &str, keep: Option<&str>) {
        self.sessions
            .retain(|sid, s| s.user_id != user_id || keep == Some(sid.as_str()));
    }

    /// Ends every session opened with API token `token_id`.
    pub(crate) fn end_sessions_of_token(&mut self, token_id: &str) {
        self.sessions
            .retain(|_, s| s.api_token_id.as_deref() != Some(token_id));
    }

    pub(crate) fn to_json(&self) -> Value {
        let doc = Document {
            version: SNAPSHOT_VERSION,
            bootstrapped: self.bootstrapped,
            epoch: self.epoch,
            users: self.users.values().cloned().collect(),
            api_tokens: self.tokens.values().cloned().collect(),
            sessions: self.sessions.values().cloned().collect(),
        };
        // Plain structs with string keys: serializing cannot fail.
        serde_json::to_value(doc).unwrap_or(Value::Null)
    }

    /// Reads and checks a snapshot: every invariant the realm keeps must hold
    /// (unique ids and usernames, valid hashes, live tokens and sessions
    /// belong to existing users), else `invalid_argument`.
    pub(crate) fn from_json(value: &Value) -> Result<State> {
        let doc = Document::deserialize(value).map_err(|e| bad(e.to_string()))?;
        if doc.version != SNAPSHOT_VERSION {
            return Err(bad(format!(
                "version {} is not supported (expected {SNAPSHOT_VERSION})",
                doc.version
            )));
        }
        let mut state = State {
            bootstrapped: doc.bootstrapped,
            epoch: doc.epoch,
            ..State::default()
        };
        if !doc.users.is_empty() && !doc.bootstrapped {
            return Err(bad("users exist but `bootstrapped` is false".into()));
        }
        for (i, user) in doc.users.into_iter().enumerate() {
            if !valid_id(&user.id) {
                return Err(bad(format!("users[{i}].id `{}` is not a valid id", user.id)));
            }
            if let Some(why) = username_problem(&user.username) {
                return Err(bad(format!("users[{i}].username: {why}")));
            }
            if state.user_by_name(&user.username).is_some() {
                return Err(bad(format!("users[{i}].username `{}` is taken", user.username)));
            }
            if let Some(phc) = &user.password_hash {
                check_phc(phc).map_err(|why| bad(format!("users[{i}].password_hash: {why}")))?;
            }
            if state.users.contains_key(&user.id) {
                return Err(bad(format!("users[{i}].id `{}` appears twice", user.id)));
            }
            state.users.insert(user.id.clone(), user);
        }
        for (i, token) in doc.api_tokens.into_iter().enumerate() {
            if token.id.is_empty() || !token.id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad(format!("api_tokens[{i}].id `{}` is not base62", token.id)));
            }
            if !is_hash(&token.hash) {
                return Err(bad(format!(
                    "api_tokens[{i}].hash is not 64 lowercase hex digits"
                )));
            }
            if token.state != ApiTokenState::Revoked && !state.users.contains_key(&token.owner) {
                return Err(bad(format!(
                    "api_tokens[{i}] is {} but its owner `{}` is not a user",
                    token.state.as_str(),
                    token.owner
                )));
            }
            if state.tokens.contains_key(&token.id) {
                return Err(bad(format!("api_tokens[{i}].id `{}` appears twice", token.id)));
            }
            state.tokens.insert(token.id.clone(), token);
        }
        for (i, session) in doc.sessions.into_iter().enumerate() {
            if session.id.is_empty() {
                return Err(bad(format!("sessions[{i}].id is empty")));
            }
            if !state.users.contains_key(&session.user_id) {
                return Err(bad(format!(
                    "sessions[{i}].user_id `{}` is not a user",
                    session.user_id
                )));
            }
            if let Some(t) = &session.api_token_id {
                match state.tokens.get(t) {
                    Some(r) if r.state != ApiTokenState::Revoked && r.owner == session.user_id => {}
                    _ => {
                        return Err(bad(format!(
                            "sessions[{i}].api_token_id `{t}` is not a live token of its user"
                        )))
                    }
                }
            }
            if state.sessions.contains_key(&session.id) {
                return Err(bad(format!("sessions[{i}].id `{}` appears twice", session.id)));
            }
            state.sessions.insert(session.id.clone(), session);
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_usernames() {
        assert!(valid_id("u-1.a@b~c_d"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id(&"a".repeat(129)));
        assert!(username_problem("Ann Lee").is_none());
        assert!(username_problem(" ann").is_some());
        assert!(username_problem("ann\n").is_some());
        assert!(username_problem("").is_some());
        assert!(same_username("Ann", "aNN"));
        assert!(!same_username("Änn", "änn"));
    }

    #[test]
    fn empty_snapshot_round_trips() {
        let s = State::default().to_json();
        assert_eq!(
            s,
            json!({"version": 1, "bootstrapped": false, "epoch": 0, "users": [], "api_tokens": [], "sessions": []})
        );
        assert_eq!(State::from_json(&s).unwrap().to_json(), s);
    }

    #[test]
    fn snapshot_invariants_are_checked() {
        let base = json!({"version": 1, "bootstrapped": true, "epoch": 0, "users": [], "api_tokens": [], "sessions": []});
        let with = |key: &str, v: Value| {
            let mut d = base.clone();
            d[key] = v;
            State::from_json(&d).unwrap_err().code
        };
        assert_eq!(with("version", json!(2)), "invalid_argument");
        assert_eq!(with("extra", json!(1)), "invalid_argument");
        let user =
            json!({"id": "u1", "username": "ann", "roles": [], "password_hash": null, "created_at": 0});
        assert_eq!(with("users", json!([user, user])), "invalid_argument");
        let mut bad_hash = user.clone();
        bad_hash["password_hash"] = json!("x");
        assert_eq!(with("users", json!([bad_hash])), "invalid_argument");
        assert_eq!(
            with(
                "sessions",
                json!([{"id": "s", "user_id": "ghost", "api_token_id": null, "expires_at": 5}])
            ),
            "invalid_argument"
        );
        let mut d = base.clone();
        d["bootstrapped"] = json!(false);
        d["users"] = json!([user]);
        assert!(State::from_json(&d).is_err());
    }
}
