//! What a realm remembers, and its snapshot: the JSON document that
//! [`Realm::snapshot`](super::Realm::snapshot) writes and
//! [`Realm::restore`](super::Realm::restore) reads back, field for field.

use super::password::check_phc;
pub(crate) use super::records::{SessionRecord, UserRecord};
use super::tables::{Sessions, Tokens, Users};
use crate::error::{Error, Result};
use crate::token::{ApiTokenRecord, ApiTokenState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

/// The snapshot format version this crate writes and reads.
pub const SNAPSHOT_VERSION: u64 = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u64,
    #[serde(default)]
    seq: u64,
    bootstrapped: bool,
    epoch: u64,
    users: Vec<UserRecord>,
    api_tokens: Vec<ApiTokenRecord>,
    sessions: Vec<SessionRecord>,
}

/// [`Document`] borrowed from the state, written without copying its rows.
#[derive(Serialize)]
struct DocumentView<'a> {
    version: u64,
    seq: u64,
    bootstrapped: bool,
    epoch: u64,
    users: Vec<&'a UserRecord>,
    api_tokens: Vec<&'a ApiTokenRecord>,
    sessions: Vec<&'a SessionRecord>,
}

/// Version 1 snapshots (no `seq`) are still read, as of `seq` 0.
const OLDEST_VERSION: u64 = 1;

/// How many change records a realm keeps in memory for
/// [`Realm::changes`](super::Realm::changes); a store keeps them all.
pub(crate) const CHANGE_LOG_LIMIT: usize = 65_536;

/// The mutable state behind the realm's lock.
#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    /// Whether a user was ever created (the bootstrap role is given once).
    pub bootstrapped: bool,
    /// The restart counter: sessions issued before the last restart carry a
    /// lower epoch and are refused.
    pub epoch: u64,
    /// The seq of the last change record folded in.
    pub seq: u64,
    pub users: Users,
    pub tokens: Tokens,
    pub sessions: Sessions,
    /// The latest change records' text, oldest first (at most
    /// [`CHANGE_LOG_LIMIT`]); the last one has `seq`.
    pub log: VecDeque<String>,
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

fn is_hash(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A user record's own checks (those that need no other record).
pub(crate) fn check_user(user: &UserRecord) -> std::result::Result<(), String> {
    if !valid_id(&user.id) {
        return Err(format!("id `{}` is not a valid id", user.id));
    }
    if let Some(why) = username_problem(&user.username) {
        return Err(format!("username: {why}"));
    }
    if let Some(phc) = &user.password_hash {
        check_phc(phc).map_err(|why| format!("password_hash: {why}"))?;
    }
    Ok(())
}

/// A token record's own checks.
pub(crate) fn check_token(token: &ApiTokenRecord) -> std::result::Result<(), String> {
    if token.id.is_empty() || !token.id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("id `{}` is not base62", token.id));
    }
    if !is_hash(&token.hash) {
        return Err("hash is not 64 lowercase hex digits".into());
    }
    Ok(())
}

/// A session record's checks against the state: its user exists, and its
/// API token, if any, is a live token of that user.
pub(crate) fn check_session(state: &State, session: &SessionRecord) -> std::result::Result<(), String> {
    if session.id.is_empty() {
        return Err("id is empty".into());
    }
    if !state.users.contains_key(&session.user_id) {
        return Err(format!("user_id `{}` is not a user", session.user_id));
    }
    if let Some(t) = &session.api_token_id {
        match state.tokens.get(t) {
            Some(r) if r.state != ApiTokenState::Revoked && r.owner == session.user_id => {}
            _ => return Err(format!("api_token_id `{t}` is not a live token of its user")),
        }
    }
    Ok(())
}

impl State {
    pub(crate) fn user_by_name(&self, username: &str) -> Option<&UserRecord> {
        self.users.by_name(username)
    }

    /// Whether an id is taken: by a user, or as the owner of a token record
    /// (revoked tokens of a deleted user keep their owner's id).
    pub(crate) fn id_in_use(&self, id: &str) -> bool {
        self.users.contains_key(id) || self.tokens.has_owner(id)
    }

    /// Keeps the text of newly folded records for `changes`.
    pub(crate) fn remember(&mut self, texts: Vec<String>) {
        self.log.extend(texts);
        while self.log.len() > CHANGE_LOG_LIMIT {
            self.log.pop_front();
        }
    }

    /// The seq of the oldest record still in memory (`seq + 1` if none).
    pub(crate) fn first_logged(&self) -> u64 {
        self.seq + 1 - self.log.len() as u64
    }

    pub(crate) fn to_json(&self) -> Value {
        // Plain structs with string keys: serializing cannot fail.
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }

    /// The snapshot as JSON text, the same document as [`State::to_json`]
    /// written straight from the rows (no value tree: a realm of 100k
    /// sessions is a 33 MB document).
    pub(crate) fn to_text(&self) -> String {
        serde_json::to_string(&self.view()).unwrap_or_default()
    }

    fn view(&self) -> DocumentView<'_> {
        DocumentView {
            version: SNAPSHOT_VERSION,
            seq: self.seq,
            bootstrapped: self.bootstrapped,
            epoch: self.epoch,
            users: self.users.values().collect(),
            api_tokens: self.tokens.values().collect(),
            sessions: self.sessions.values().collect(),
        }
    }

    /// Users, API tokens and live sessions held.
    pub(crate) fn rows(&self) -> usize {
        self.users.len() + self.tokens.len() + self.sessions.len()
    }

    /// Reads and checks a snapshot: every invariant the realm keeps must hold
    /// (unique ids and usernames, valid hashes, live tokens and sessions
    /// belong to existing users), else `invalid_argument`. Linear in its size.
    pub(crate) fn from_json(value: &Value) -> Result<State> {
        let doc: Document = crate::argument::from_value(value, "snapshot")?;
        if !(OLDEST_VERSION..=SNAPSHOT_VERSION).contains(&doc.version) {
            return Err(bad(format!(
                "version {} is not supported (expected {OLDEST_VERSION} to {SNAPSHOT_VERSION})",
                doc.version
            )));
        }
        if doc.version == 1 && value.get("seq").is_some() {
            return Err(bad("a version 1 snapshot has no `seq`".into()));
        }
        let mut state = State {
            bootstrapped: doc.bootstrapped,
            epoch: doc.epoch,
            seq: doc.seq,
            ..State::default()
        };
        if !doc.users.is_empty() && !doc.bootstrapped {
            return Err(bad("users exist but `bootstrapped` is false".into()));
        }
        for (i, user) in doc.users.into_iter().enumerate() {
            check_user(&user).map_err(|why| bad(format!("users[{i}].{why}")))?;
            if state.user_by_name(&user.username).is_some() {
                return Err(bad(format!("users[{i}].username `{}` is taken", user.username)));
            }
            if state.users.contains_key(&user.id) {
                return Err(bad(format!("users[{i}].id `{}` appears twice", user.id)));
            }
            state.users.put(user);
        }
        for (i, token) in doc.api_tokens.into_iter().enumerate() {
            check_token(&token).map_err(|why| bad(format!("api_tokens[{i}].{why}")))?;
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
            state.tokens.put(token);
        }
        for (i, session) in doc.sessions.into_iter().enumerate() {
            check_session(&state, &session).map_err(|why| bad(format!("sessions[{i}].{why}")))?;
            if state.sessions.contains_key(&session.id) {
                return Err(bad(format!("sessions[{i}].id `{}` appears twice", session.id)));
            }
            state.sessions.put(session);
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
    }

    #[test]
    fn empty_snapshot_round_trips() {
        let s = State::default().to_json();
        assert_eq!(
            s,
            json!({"version": 2, "seq": 0, "bootstrapped": false, "epoch": 0, "users": [], "api_tokens": [], "sessions": []})
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
        assert_eq!(with("version", json!(3)), "invalid_argument");
        assert_eq!(with("seq", json!(4)), "invalid_argument"); // v1 has no seq
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
