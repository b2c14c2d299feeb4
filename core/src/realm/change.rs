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

/// One change, without its `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
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

/// The record's text: `{"seq":n,` then the change's fields, `kind` first.
pub(crate) fn record_text(seq: u64, change: &Change) -> String {
    // A derived Serialize of plain strings and numbers cannot fail.
    let body = serde_json::to_string(change).unwrap_or_else(|_| "{}".into());
    format!("{{\"seq\":{seq},{}", &body[1..])
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
    let mut rest = obj.clone();
    rest.remove("seq");
    let change = Change::deserialize(Value::Object(rest)).map_err(|e| invalid(seq, e))?;
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
                undo.push(Undo::Session(session.id.clone(), prev));
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
