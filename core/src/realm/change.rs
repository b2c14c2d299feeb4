//! Change records (SPEC §7.1): every change a realm makes, as one JSON
//! object `{"seq": n, "kind": ..., ...}`. The realm's state is the fold of
//! its records: a call computes its records against the state, folds them in
//! (each checked as `restore` checks a snapshot, with an undo log so that a
//! batch is applied whole or not at all), and only then, when a journal is
//! set, hands their text to the host's store. The text is written here and
//! nowhere else, so every binding emits the same bytes.

use super::state::{check_session, check_token, check_user, SessionRecord, State, UserRecord};
use super::tables::Prev;
use crate::error::{Error, Result};
use crate::token::{ApiTokenRecord, ApiTokenState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change, without its `seq`. (De)serialized by hand below: serde's
/// derive for a tagged enum costs the WebAssembly module tens of KiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A user made or changed (roles, password hash). Sets `bootstrapped`.
    UserPut { user: UserRecord },
    /// A user removed; its sessions have ended and its tokens are revoked
    /// by the records before this one.
    UserDeleted { user_id: String },
    /// An API token record made or changed (its state).
    TokenPut { token: ApiTokenRecord },
    /// A session opened, or its `expires_at` moved by a renewal.
    SessionPut { session: SessionRecord },
    /// A session closed.
    SessionEnded { session_id: String },
    /// Every session of a user ended, except `keep`.
    SessionsEndedByUser { user_id: String, keep: Option<String> },
    /// Every session opened with an API token ended.
    SessionsEndedByToken { token_id: String },
    /// Every session with `expires_at <= now` forgotten.
    SessionsExpired { now: i64 },
    /// `restart()`: the epoch is now `epoch` and every session ended.
    EpochRaised { epoch: u64 },
}

/// What to put back if a batch fails part-way.
pub(crate) enum Undo {
    User(String, Prev<UserRecord>),
    Token(String, Prev<ApiTokenRecord>),
    Session(String, Prev<SessionRecord>),
    Sessions(Box<super::tables::Sessions>),
}

fn invalid(seq: u64, message: impl std::fmt::Display) -> Error {
    Error::realm("invalid_change", format!("change record {seq}: {message}"))
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    // Records of strings, numbers and lists: serializing cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl Change {
    fn kind(&self) -> &'static str {
        match self {
            Change::UserPut { .. } => "user_put",
            Change::UserDeleted { .. } => "user_deleted",
            Change::TokenPut { .. } => "token_put",
            Change::SessionPut { .. } => "session_put",
            Change::SessionEnded { .. } => "session_ended",
            Change::SessionsEndedByUser { .. } => "sessions_ended_by_user",
            Change::SessionsEndedByToken { .. } => "sessions_ended_by_token",
            Change::SessionsExpired { .. } => "sessions_expired",
            Change::EpochRaised { .. } => "epoch_raised",
        }
    }

    /// The fields after `kind`, as `"name":value` pairs.
    fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Change::UserPut { user } => vec![("user", json(user))],
            Change::UserDeleted { user_id } => vec![("user_id", json(user_id))],
            Change::TokenPut { token } => vec![("token", json(token))],
            Change::SessionPut { session } => vec![("session", json(session))],
            Change::SessionEnded { session_id } => vec![("session_id", json(session_id))],
            Change::SessionsEndedByUser { user_id, keep } => {
                vec![("user_id", json(user_id)), ("keep", json(keep))]
            }
            Change::SessionsEndedByToken { token_id } => vec![("token_id", json(token_id))],
            Change::SessionsExpired { now } => vec![("now", now.to_string())],
            Change::EpochRaised { epoch } => vec![("epoch", epoch.to_string())],
        }
    }
}

/// The record's text: `{"seq":n,"kind":"...",` then the change's fields.
pub(crate) fn record_text(seq: u64, change: &Change) -> String {
    let mut out = format!("{{\"seq\":{seq},\"kind\":\"{}\"", change.kind());
    for (name, value) in change.fields() {
        out.push_str(&format!(",\"{name}\":{value}"));
    }
    out.push('}');
    out
}

/// The field names each kind has, besides `seq` and `kind`.
fn field_names(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "user_put" => &["user"],
        "user_deleted" => &["user_id"],
        "token_put" => &["token"],
        "session_put" => &["session"],
        "session_ended" => &["session_id"],
        "sessions_ended_by_user" => &["user_id", "keep"],
        "sessions_ended_by_token" => &["token_id"],
        "sessions_expired" => &["now"],
        "epoch_raised" => &["epoch"],
        _ => return None,
    })
}

/// Reads one record: an object with an integer `seq` ≥ 1 and a known `kind`
/// with exactly that kind's fields; else `invalid_change`.
pub(crate) fn parse_record(value: &Value) -> Result<(u64, Change)> {
    let Some(obj) = value.as_object() else {
        return Err(Error::realm("invalid_change", "a change record is a JSON object"));
    };
    let seq = obj
        .get("seq")
        .and_then(Value::as_u64)
        .filter(|s| *s >= 1)
        .ok_or_else(|| Error::realm("invalid_change", "a change record needs `seq`, an integer ≥ 1"))?;
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(seq, "`kind` must be a string"))?;
    let names = field_names(kind).ok_or_else(|| invalid(seq, format!("unknown kind `{kind}`")))?;
    if let Some(extra) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "seq" | "kind") && !names.contains(&k.as_str()))
    {
        return Err(invalid(seq, format!("`{kind}` has no field `{extra}`")));
    }
    fn field<T: for<'de> Deserialize<'de>>(
        obj: &serde_json::Map<String, Value>,
        seq: u64,
        name: &str,
    ) -> Result<T> {
        let v = obj
            .get(name)
            .ok_or_else(|| invalid(seq, format!("missing field `{name}`")))?;
        T::deserialize(v).map_err(|e| invalid(seq, format!("`{name}`: {e}")))
    }
    let change = match kind {
        "user_put" => Change::UserPut {
            user: field(obj, seq, "user")?,
        },
        "user_deleted" => Change::UserDeleted {
            user_id: field(obj, seq, "user_id")?,
        },
        "token_put" => Change::TokenPut {
            token: field(obj, seq, "token")?,
        },
        "session_put" => Change::SessionPut {
            session: field(obj, seq, "session")?,
        },
        "session_ended" => Change::SessionEnded {
            session_id: field(obj, seq, "session_id")?,
        },
        "sessions_ended_by_user" => Change::SessionsEndedByUser {
            user_id: field(obj, seq, "user_id")?,
            keep: field(obj, seq, "keep")?,
        },
        "sessions_ended_by_token" => Change::SessionsEndedByToken {
            token_id: field(obj, seq, "token_id")?,
        },
        "sessions_expired" => Change::SessionsExpired {
            now: field(obj, seq, "now")?,
        },
        _ => Change::EpochRaised {
            epoch: field(obj, seq, "epoch")?,
        },
    };
    Ok((seq, change))
}

impl State {
    /// Folds one change in, after checking it against the state; on error
    /// nothing of this change is applied (earlier ones are in `undo`).
    pub(crate) fn fold(&mut self, seq: u64, change: &Change, undo: &mut Vec<Undo>) -> Result<()> {
        match change {
            Change::UserPut { user } => {
                check_user(user).map_err(|e| invalid(seq, e))?;
                if let Some(other) = self.users.by_name(&user.username) {
                    if other.id != user.id {
                        return Err(invalid(seq, format!("username `{}` is taken", user.username)));
                    }
                }
                let prev = self.users.put(user.clone());
                undo.push(Undo::User(user.id.clone(), prev));
                self.bootstrapped = true;
            }
            Change::UserDeleted { user_id } => {
                if !self.users.contains_key(user_id) {
                    return Err(invalid(seq, format!("no user `{user_id}`")));
                }
                if self
                    .tokens
                    .of_owner(user_id)
                    .any(|t| t.state != ApiTokenState::Revoked)
                {
                    return Err(invalid(
                        seq,
                        format!("user `{user_id}` still has live API tokens"),
                    ));
                }
                if !self.sessions.of_user(user_id).is_empty() {
                    return Err(invalid(seq, format!("user `{user_id}` still has sessions")));
                }
                let prev = self.users.remove(user_id);
                undo.push(Undo::User(user_id.clone(), prev));
            }
            Change::TokenPut { token } => {
                check_token(token).map_err(|e| invalid(seq, e))?;
                if token.state != ApiTokenState::Revoked && !self.users.contains_key(&token.owner) {
                    return Err(invalid(
                        seq,
                        format!(
                            "token is {} but its owner `{}` is not a user",
                            token.state.as_str(),
                            token.owner
                        ),
                    ));
                }
                if let Some(old) = self.tokens.get(&token.id) {
                    if old.owner != token.owner {
                        return Err(invalid(seq, "a token's owner never changes"));
                    }
                    if old.state == ApiTokenState::Revoked && token.state != ApiTokenState::Revoked {
                        return Err(invalid(seq, "a revoked token never becomes live again"));
                    }
                }
                if token.state == ApiTokenState::Revoked && !self.sessions.of_token(&token.id).is_empty() {
                    return Err(invalid(seq, "a token with sessions is revoked before they end"));
                }
                let prev = self.tokens.put(token.clone());
                undo.push(Undo::Token(token.id.clone(), prev));
            }
            Change::SessionPut { session } => {
                check_session(self, session).map_err(|e| invalid(seq, e))?;
                let prev = self.sessions.put(session.clone());
                undo.push(Undo::Session(session.id.to_string(), prev));
            }
            Change::SessionEnded { session_id } => {
                let prev = self
                    .sessions
                    .remove(session_id)
                    .ok_or_else(|| invalid(seq, format!("no session `{session_id}`")))?;
                undo.push(Undo::Session(session_id.clone(), Some(prev)));
            }
            Change::SessionsEndedByUser { user_id, keep } => {
                for sid in self.sessions.of_user(user_id) {
                    if keep.as_deref() != Some(sid.as_str()) {
                        let prev = self.sessions.remove(&sid);
                        undo.push(Undo::Session(sid, prev));
                    }
                }
            }
            Change::SessionsEndedByToken { token_id } => {
                for sid in self.sessions.of_token(token_id) {
                    let prev = self.sessions.remove(&sid);
                    undo.push(Undo::Session(sid, prev));
                }
            }
            Change::SessionsExpired { now } => {
                for sid in self.sessions.expired(*now) {
                    let prev = self.sessions.remove(&sid);
                    undo.push(Undo::Session(sid, prev));
                }
            }
            Change::EpochRaised { epoch } => {
                if *epoch != self.epoch.saturating_add(1) {
                    return Err(invalid(
                        seq,
                        format!("epoch {epoch} does not follow {}", self.epoch),
                    ));
                }
                self.epoch = *epoch;
                let old = std::mem::take(&mut self.sessions);
                undo.push(Undo::Sessions(Box::new(old)));
            }
        }
        Ok(())
    }

    /// Puts back what `undo` recorded, newest first, and the scalars.
    pub(crate) fn unfold(&mut self, undo: Vec<Undo>, scalars: (bool, u64, u64)) {
        for u in undo.into_iter().rev() {
            match u {
                Undo::User(id, prev) => self.users.reset(&id, prev),
                Undo::Token(id, prev) => self.tokens.reset(&id, prev),
                Undo::Session(id, prev) => self.sessions.reset(&id, prev),
                Undo::Sessions(old) => self.sessions = *old,
            }
        }
        (self.bootstrapped, self.epoch, self.seq) = scalars;
    }

    /// Folds a batch whole or not at all; returns the records' text.
    pub(crate) fn fold_all(&mut self, changes: &[(u64, Change)]) -> Result<Vec<String>> {
        self.fold_all_undoable(changes).map(|(texts, _)| texts)
    }

    /// [`fold_all`](State::fold_all), also returning the undo log, for a
    /// caller that may still have to take the batch back.
    pub(crate) fn fold_all_undoable(
        &mut self,
        changes: &[(u64, Change)],
    ) -> Result<(Vec<String>, Vec<Undo>)> {
        let scalars = (self.bootstrapped, self.epoch, self.seq);
        let mut undo = Vec::new();
        let mut texts = Vec::with_capacity(changes.len());
        for (seq, change) in changes {
            if *seq != self.seq + 1 {
                let e = Error::realm(
                    "seq_gap",
                    format!("change record {seq} does not follow {}", self.seq),
                );
                self.unfold(undo, scalars);
                return Err(e);
            }
            if let Err(e) = self.fold(*seq, change, &mut undo) {
                self.unfold(undo, scalars);
                return Err(e);
            }
            self.seq = *seq;
            texts.push(record_text(*seq, change));
        }
        Ok((texts, undo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_have_seq_then_kind() {
        let c = Change::SessionsEndedByUser {
            user_id: "u1".into(),
            keep: None,
        };
        let text = record_text(7, &c);
        assert_eq!(
            text,
            r#"{"seq":7,"kind":"sessions_ended_by_user","user_id":"u1","keep":null}"#
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parse_record(&v).unwrap(), (7, c));
    }

    #[test]
    fn bad_records_are_invalid_change() {
        for bad in [
            json!([]),
            json!({"kind": "epoch_raised", "epoch": 1}),
            json!({"seq": 0, "kind": "epoch_raised", "epoch": 1}),
            json!({"seq": 1, "kind": "dance"}),
            json!({"seq": 1, "kind": "epoch_raised", "epoch": 1, "x": 1}),
            json!({"seq": 1, "kind": "epoch_raised"}),
        ] {
            assert_eq!(parse_record(&bad).unwrap_err().code, "invalid_change", "{bad}");
        }
    }
}
