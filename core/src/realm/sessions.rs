//! Sessions the realm issues and remembers, and [`Realm::authenticate`]:
//! open, renew, close, restart.

use super::change::Change;
use super::state::{SessionRecord, State};
use super::{conflict, Realm};
use crate::error::{Error, Result};
use crate::request::{Credential, Principal};
use crate::token::{
    now_or_clock, parse_authorization, ApiTokenRecord, ApiTokenState, SessionGrant, SessionOptions,
    API_TOKEN_PREFIX,
};
use compact_str::CompactString;

fn revoked(message: &str) -> Error {
    Error::token("revoked", message)
}

/// The change that forgets sessions whose every token has expired, if any.
fn expired(state: &State, now: i64) -> Vec<Change> {
    if state.sessions.any_expired(now) {
        vec![Change::SessionsExpired { now }]
    } else {
        Vec::new()
    }
}

/// The id part of `tsr_<id>_<secret>`, if the text has that outline.
fn api_token_id(token: &str) -> Option<&str> {
    token
        .strip_prefix(API_TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
}

impl Realm {
    /// Issues a session token and returns it with the changes that record
    /// it (forgetting expired sessions first); the caller commits them.
    pub(super) fn start_session(
        &self,
        state: &State,
        principal: &Principal,
        token: Option<&ApiTokenRecord>,
        now: i64,
    ) -> Result<(SessionGrant, Vec<Change>)> {
        let mut changes = expired(state, now);
        let options = SessionOptions {
            session_id: None,
            api_token_id: token.map(|t| t.id.clone()),
            limits: token.and_then(|t| t.limits.clone()),
            epoch: Some(state.epoch),
        };
        // Session ids are 128 random bits; a collision is retried, not trusted.
        for _ in 0..4 {
            let grant = self
                .engine
                .issue_session_with(principal, &self.key, Some(now), &options)?;
            if state.sessions.contains_key(&grant.session_id) {
                continue;
            }
            changes.push(Change::SessionPut {
                session: SessionRecord {
                    id: CompactString::new(&grant.session_id),
                    user_id: CompactString::new(principal.id.as_deref().unwrap_or_default()),
                    api_token_id: options.api_token_id.as_deref().map(CompactString::new),
                    expires_at: grant.expires_at,
                },
            });
            return Ok((grant, changes));
        }
        Err(conflict("session id collision; try again"))
    }

    /// Verifies an API token against the realm's records (SPEC §6.3).
    fn api_principal(&self, state: &State, secret: &str, now: i64) -> Result<(Principal, ApiTokenRecord)> {
        let records = api_token_id(secret)
            .and_then(|id| state.tokens.get(id))
            .map(std::slice::from_ref)
            .unwrap_or(&[]);
        let mut principal = self.engine.verify_api_token(secret, records, Some(now))?;
        let record = records
            .first()
            .cloned()
            .ok_or_else(|| Error::token("unknown_token", "no such API token"))?;
        if !state.users.contains_key(&record.owner) {
            return Err(Error::token(
                "unknown_token",
                "the token's owner no longer exists",
            ));
        }
        principal.roles = self.token_roles(state, &record)?;
        Ok((principal, record))
    }

    /// Verifies a session token against the key and the realm: the token
    /// checks of SPEC §6.2 (epoch included), then the session must be one
    /// the realm still holds (`revoked` otherwise) and, if it was opened with
    /// an API token, that token must be live (`suspended`, `revoked`,
    /// `expired`). Returns the principal with current roles and limits.
    fn session_principal(&self, state: &State, token: &str, now: i64) -> Result<Principal> {
        self.key.keep_at_least(state.sessions.len());
        let claims =
            self.engine
                .session_claims_with(token, &self.key, now, Some(&Realm::revocations(state)))?;
        let record = state
            .sessions
            .get(&claims.sid)
            .ok_or_else(|| revoked("the session was closed or ended"))?;
        if claims.sub != record.user_id || claims.api != record.api_token_id {
            return Err(revoked("the session does not match the realm's record"));
        }
        let user = state
            .users
            .get(&record.user_id)
            .ok_or_else(|| revoked("the session's user no longer exists"))?;
        // Built from the claims (their ids inline, equal to the record's as
        // checked above): a large realm's user row is cold in cache.
        let mut principal = Principal {
            id: Some(claims.sub.to_string()),
            credential: Some(Credential::Session),
            expires_at: Some(claims.exp),
            session_id: Some(claims.sid.to_string()),
            ..Principal::default()
        };
        let Some(token_id) = &claims.api else {
            principal.roles = user.roles.clone();
            return Ok(principal);
        };
        let t = state
            .tokens
            .get(token_id)
            .ok_or_else(|| revoked("the session's API token no longer exists"))?;
        match t.state {
            ApiTokenState::Revoked => return Err(revoked("the session's API token is revoked")),
            ApiTokenState::Suspended => {
                return Err(Error::token("suspended", "the session's API token is suspended"))
            }
            ApiTokenState::Active => {}
        }
        if let Some(exp) = t.expires_at {
            if now >= exp {
                return Err(Error::token(
                    "expired",
                    format!("the session's API token expired at {exp}"),
                ));
            }
            principal.expires_at = Some(principal.expires_at.map_or(exp, |e| e.min(exp)));
        }
        principal.roles = self.token_roles(state, t)?;
        principal.limits = t.limits.clone();
        principal.api_token_id = Some(token_id.to_string());
        Ok(principal)
    }

    /// Opens a session with an API token's secret (Eva's `POST
    /// /api/v1/auth`). The session carries `api` = the token's id and the
    /// token's `limits`, acts with the token's current roles, and lives only
    /// as long as the token stays active.
    ///
    /// Errors: the API token codes (`malformed`, `unknown_token`,
    /// `suspended`, `revoked`, `expired`).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// use tessera::token::ApiTokenOptions;
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_own_token"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let me = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let limited = ApiTokenOptions { limits: Some(vec!["pull_device".into()]), ..Default::default() };
    /// let t = realm.create_api_token(Some(&me), &ann.id, None, &limited, Some(1)).unwrap();
    /// let session = realm.open_session(&t.secret, Some(2)).unwrap();
    /// let p = realm.authenticate(&session.token, Some(3)).unwrap();
    /// assert_eq!(p.api_token_id, Some(t.record.id));
    /// assert_eq!(p.limits, Some(vec!["pull_device".to_string()]));
    /// ```
    pub fn open_session(&self, api_token_secret: &str, now: Option<i64>) -> Result<SessionGrant> {
        let now = now_or_clock(now);
        let mut state = self.write();
        let (principal, record) = self.api_principal(&state, api_token_secret, now)?;
        let principal = Principal {
            id: principal.id,
            roles: principal.roles,
            ..Principal::default()
        };
        let (grant, changes) = self.start_session(&state, &principal, Some(&record), now)?;
        self.commit(&mut state, changes)?;
        Ok(grant)
    }

    /// Renews a live session (SPEC §6.2): same `session_id`, `expires_at =
    /// min(now + ttl, auth_time + max_lifetime)`; past the ceiling
    /// `session_ended`. The session must pass every check of
    /// [`authenticate`](Realm::authenticate).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// realm.create_user(None, "ann", Some("pw"), &UserOptions::default(), Some(0)).unwrap();
    /// let first = realm.login("ann", "pw", Some(0)).unwrap();
    /// let next = realm.renew(&first.token, Some(1000)).unwrap();
    /// assert_eq!((next.session_id, next.expires_at), (first.session_id, 2800));
    /// ```
    pub fn renew(&self, token: &str, now: Option<i64>) -> Result<SessionGrant> {
        let now = now_or_clock(now);
        let mut state = self.write();
        let principal = self.session_principal(&state, token, now)?;
        let grant =
            self.engine
                .renew_session_with(token, &self.key, Some(now), Some(&Realm::revocations(&state)))?;
        let mut changes = expired(&state, now);
        if let Some(record) = principal.session_id.and_then(|sid| state.sessions.get(&sid)) {
            if grant.expires_at > record.expires_at {
                let mut session = record.clone();
                session.expires_at = grant.expires_at;
                changes.push(Change::SessionPut { session });
            }
        }
        self.commit(&mut state, changes)?;
        Ok(grant)
    }

    /// Ends the session a token belongs to (logout): every token of it is
    /// refused from now on. The token must verify (signature, time, epoch);
    /// closing a session that already ended is `revoked`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// realm.create_user(None, "ann", Some("pw"), &UserOptions::default(), Some(0)).unwrap();
    /// let grant = realm.login("ann", "pw", Some(0)).unwrap();
    /// realm.close(&grant.token, Some(1)).unwrap();
    /// assert_eq!(realm.authenticate(&grant.token, Some(2)).unwrap_err().code, "revoked");
    /// assert_eq!(realm.close(&grant.token, Some(2)).unwrap_err().code, "revoked");
    /// ```
    pub fn close(&self, token: &str, now: Option<i64>) -> Result<()> {
        let now = now_or_clock(now);
        let mut state = self.write();
        let p = self.engine.verify_session_with(
            token,
            &self.key,
            Some(now),
            Some(&Realm::revocations(&state)),
        )?;
        let sid = p.session_id.unwrap_or_default();
        match state.sessions.get(&sid) {
            Some(record) if p.id.as_deref() == Some(record.user_id.as_str()) => {}
            _ => return Err(revoked("the session was closed or ended")),
        }
        let mut changes = vec![Change::SessionEnded { session_id: sid }];
        changes.extend(expired(&state, now));
        self.commit(&mut state, changes)
    }

    /// Ends every session, as a power cycle would: the epoch goes up by one
    /// and the realm forgets every session. Users and API tokens stay.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// realm.create_user(None, "ann", Some("pw"), &UserOptions::default(), Some(0)).unwrap();
    /// let grant = realm.login("ann", "pw", Some(0)).unwrap();
    /// realm.restart().unwrap();
    /// assert_eq!(realm.authenticate(&grant.token, Some(1)).unwrap_err().code, "revoked");
    /// assert_eq!(realm.snapshot()["epoch"], 1);
    /// ```
    ///
    /// Errors: only the journal's, when one is set.
    pub fn restart(&self) -> Result<()> {
        let mut state = self.write();
        let epoch = state.epoch.saturating_add(1);
        self.commit(&mut state, vec![Change::EpochRaised { epoch }])
    }

    /// Turns an `Authorization` header value (SPEC §6.4: `Bearer <token>` or
    /// a bare token) into a principal ready for [`Engine::authorize`]:
    ///
    /// - `tsr_…`: an API token of the realm (`credential: "api_token"`, the
    ///   token's roles less any its owner no longer holds, its `limits`);
    /// - a session token the realm issued and still holds
    ///   (`credential: "session"`, the user's current roles; with the token's
    ///   roles and limits when opened with an API token);
    /// - otherwise, when [`RealmOptions::jwks`] is set, a provider JWT checked
    ///   against the policy's `tokens.jwt` (`credential: "jwt"`), returned as
    ///   [`Engine::verify_jwt`] makes it.
    ///
    /// Errors: the token codes of SPEC §6 (`malformed`, `expired`,
    /// `revoked`, `suspended`, `unknown_token`, `bad_signature`, ...). A JWT
    /// that is not a session token, with no JWKS configured, is
    /// `wrong_token_use`.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// assert_eq!(realm.authenticate("Basic abc", Some(0)).unwrap_err().code, "malformed");
    /// assert_eq!(realm.authenticate("Bearer tsr_x_y", Some(0)).unwrap_err().code, "malformed");
    /// ```
    pub fn authenticate(&self, authorization: &str, now: Option<i64>) -> Result<Principal> {
        let token = parse_authorization(authorization)?;
        let now = now_or_clock(now);
        let state = self.read();
        if token.starts_with(API_TOKEN_PREFIX) {
            return self.api_principal(&state, &token, now).map(|(p, _)| p);
        }
        match self.session_principal(&state, &token, now) {
            Err(e) if e.code == "wrong_token_use" => match &self.jwks {
                Some(jwks) => {
                    drop(state);
                    self.engine.verify_jwt_with(&token, jwks, Some(now))
                }
                None => Err(Error::token(
                    "wrong_token_use",
                    "not a session token, and this realm accepts no provider JWTs (no JWKS)",
                )),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_remembers_a_token_per_session_past_its_default() {
        use crate::{RealmOptions, UserOptions};
        let policy = serde_json::json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_token"]}}});
        let key = serde_json::json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
        let realm = Realm::new(&policy, &key, &RealmOptions::fast_for_tests()).unwrap();
        let opts = UserOptions { id: Some("u".into()) };
        realm.create_user(None, "ann", None, &opts, Some(0)).unwrap();
        let ann = Principal {
            id: Some("u".into()),
            roles: vec!["admin".into()],
            ..Principal::default()
        };
        let token = realm
            .create_api_token(Some(&ann), "u", None, &Default::default(), Some(0))
            .unwrap();
        let n = 4096 + 300; // past the memo's default of 4096
        let grants: Vec<String> = (0..n)
            .map(|_| realm.open_session(&token.secret, Some(0)).unwrap().token)
            .collect();
        for g in &grants {
            realm.authenticate(g, Some(1)).unwrap();
        }
        assert_eq!(realm.key.remembered(), n);
        // Sessions closed: the next miss drops the oldest down to what is held.
        for g in &grants[..200] {
            realm.close(g, Some(2)).unwrap();
        }
        let late = realm.open_session(&token.secret, Some(2)).unwrap().token;
        realm.authenticate(&late, Some(3)).unwrap();
        assert_eq!(realm.key.remembered(), n - 199);
    }

    #[test]
    fn api_token_ids() {
        assert_eq!(api_token_id("tsr_abc_def"), Some("abc"));
        assert_eq!(api_token_id("tsr_abc"), None);
        assert_eq!(api_token_id("abc_def"), None);
    }
}
