//! API tokens of the realm's users: create, list, suspend, resume, revoke
//! and replace (SPEC §6.3).

use super::change::Change;
use super::state::State;
use super::{conflict, forbidden, not_found, Realm};
use crate::error::Result;
use crate::request::{Principal, Resource};
use crate::token::{ApiTokenOptions, ApiTokenRecord, ApiTokenState, NewApiToken};

fn token_resource(record: &ApiTokenRecord) -> Resource {
    Resource::new("token")
        .with_id(record.id.as_str())
        .with_owner(record.owner.as_str())
}

/// Whether `narrow` limits no more than `wide` allows: each of its allow
/// labels is one of `wide`'s, and it keeps every deny label of `wide`.
fn within_limits(wide: &[String], narrow: &[String]) -> bool {
    let is_deny = |l: &&String| l.starts_with('!');
    narrow.iter().filter(|l| !is_deny(l)).all(|l| wide.contains(l))
        && wide.iter().filter(is_deny).all(|l| narrow.contains(l))
}

impl Realm {
    /// The token record `token_id` if `actor` may do `action` on it. For an
    /// unknown id the answer is `not_found` only to an actor allowed `action`
    /// on any token (so the existence of others' tokens does not leak).
    fn token_for(
        &self,
        state: &State,
        actor: Option<&Principal>,
        action: &str,
        token_id: &str,
    ) -> Result<ApiTokenRecord> {
        match state.tokens.get(token_id) {
            Some(record) => {
                self.check(actor, action, &token_resource(record))?;
                Ok(record.clone())
            }
            None => {
                self.check(actor, action, &Resource::new("token").with_id(token_id))?;
                Err(not_found(format!("no API token `{token_id}`")))
            }
        }
    }

    /// Makes an API token for `owner` (a user of the realm) and returns the
    /// secret (show it once) with its record (SPEC §6.3).
    ///
    /// The actor needs `create` on `{type: "token", owner}`:
    /// `create_own_token` for its own tokens, `create_token` for anyone's.
    /// `roles` default to the owner's roles or, when the actor is the owner,
    /// to the roles the actor's credential holds. A token never
    /// exceeds its owner: every role must be one of the owner's effective
    /// roles, and when the actor is the owner, one of the actor's. An actor
    /// with `limits` (a token, or a session opened with one) can only make
    /// tokens limited at least as narrowly: its limits are the default, and
    /// given limits must use only its allow labels and keep all its denies.
    ///
    /// Errors, in order: `forbidden`, `not_found` (no such owner),
    /// `invalid_argument` (undefined or repeated role), `forbidden` (roles or
    /// limits beyond owner or actor), `invalid_argument` (lifespan outside
    /// 1..=10^10 seconds, a limit that is not a label of the policy).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_token", "admin_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let admin = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let t = realm.create_api_token(Some(&admin), &ann.id, None, &Default::default(), Some(5)).unwrap();
    /// let p = realm.authenticate(&t.secret, Some(6)).unwrap();
    /// assert_eq!((p.id, p.roles), (Some(ann.id), vec!["admin".to_string()]));
    /// ```
    pub fn create_api_token(
        &self,
        actor: Option<&Principal>,
        owner: &str,
        roles: Option<&[String]>,
        options: &ApiTokenOptions,
        now: Option<i64>,
    ) -> Result<NewApiToken> {
        self.check(actor, "create", &Resource::new("token").with_owner(owner))?;
        let actor = actor.ok_or_else(|| forbidden("creating a token needs an actor"))?;
        let mut state = self.write();
        let owner_roles = match state.users.get(owner) {
            Some(u) => u.roles.clone(),
            None => return Err(not_found(format!("no user `{owner}`"))),
        };
        let owner_effective = self.effective_roles(&owner_roles)?;
        let is_owner = actor.id.as_deref() == Some(owner);
        let actor_roles = if is_owner {
            Some(self.engine.prepare(actor)?.effective_roles())
        } else {
            None
        };
        let roles: Vec<String> = match roles {
            Some(r) => {
                self.check_roles(r)?;
                r.to_vec()
            }
            // The owner's roles; or, when the owner acts, the roles its
            // credential holds (a narrow token makes narrow tokens).
            None if is_owner => actor
                .roles
                .iter()
                .filter(|r| owner_effective.contains(r))
                .cloned()
                .collect(),
            None => owner_roles.clone(),
        };
        if let Some(role) = roles.iter().find(|r| !owner_effective.contains(r)) {
            return Err(forbidden(format!(
                "a token may not exceed its owner: `{owner}` does not hold role `{role}`"
            )));
        }
        if let Some(actor_roles) = &actor_roles {
            if let Some(role) = roles.iter().find(|r| !actor_roles.contains(r)) {
                return Err(forbidden(format!(
                    "a token may not exceed the credential that makes it: role `{role}`"
                )));
            }
        }
        let mut options = options.clone();
        if let Some(wide) = &actor.limits {
            match &options.limits {
                None => options.limits = Some(wide.clone()),
                Some(narrow) if within_limits(wide, narrow) => {}
                Some(_) => {
                    return Err(forbidden(
                        "a limited credential can only make tokens limited at least as narrowly",
                    ))
                }
            }
        }
        let made = self.engine.create_api_token(owner, &roles, now, &options)?;
        if state.tokens.contains_key(&made.record.id) {
            return Err(conflict("API token id collision; try again"));
        }
        self.commit(
            &mut state,
            vec![Change::TokenPut {
                token: made.record.clone(),
            }],
        )?;
        Ok(made)
    }

    /// The API token records `actor` may `read` (`read_own_token`,
    /// `read_token`), of `owner` only when given, in creation order. Records
    /// carry the SHA-256 of the secret, never the secret.
    /// Errors: `forbidden` without an actor.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_own_token"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let me = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let t = realm.create_api_token(Some(&me), &ann.id, None, &Default::default(), Some(1)).unwrap();
    /// assert_eq!(realm.list_api_tokens(Some(&me), None).unwrap(), vec![t.record]);
    /// ```
    pub fn list_api_tokens(
        &self,
        actor: Option<&Principal>,
        owner: Option<&str>,
    ) -> Result<Vec<ApiTokenRecord>> {
        let Some(actor) = actor else {
            return Err(forbidden("listing API tokens needs an authenticated actor"));
        };
        let prepared = self.engine.prepare(actor)?;
        let state = self.read();
        Ok(state
            .tokens
            .values()
            .filter(|t| owner.is_none_or(|o| t.owner == o))
            .filter(|t| {
                self.engine
                    .is_allowed(&prepared, "read", "token", Some(&t.id), Some(&t.owner))
            })
            .cloned()
            .collect())
    }

    fn transition(
        &self,
        actor: Option<&Principal>,
        token_id: &str,
        action: &str,
        change: fn(&ApiTokenRecord) -> Result<ApiTokenRecord>,
    ) -> Result<ApiTokenRecord> {
        let mut state = self.write();
        let record = self.token_for(&state, actor, action, token_id)?;
        let changed = change(&record)?;
        let mut changes = Vec::new();
        if changed.state == ApiTokenState::Revoked && !state.sessions.of_token(token_id).is_empty() {
            changes.push(Change::SessionsEndedByToken {
                token_id: token_id.to_string(),
            });
        }
        changes.push(Change::TokenPut {
            token: changed.clone(),
        });
        self.commit(&mut state, changes)?;
        Ok(changed)
    }

    /// active → suspended (needs `update` on the token: `update_own_token`,
    /// `update_token`). While suspended the token, and every session opened
    /// with it, is refused with `suspended`.
    /// Errors: `forbidden`, `not_found`, `invalid_transition`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_own_token"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let me = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let t = realm.create_api_token(Some(&me), &ann.id, None, &Default::default(), Some(1)).unwrap();
    /// realm.suspend_api_token(Some(&me), &t.record.id).unwrap();
    /// assert_eq!(realm.authenticate(&t.secret, Some(2)).unwrap_err().code, "suspended");
    /// realm.resume_api_token(Some(&me), &t.record.id).unwrap();
    /// assert!(realm.authenticate(&t.secret, Some(2)).is_ok());
    /// ```
    pub fn suspend_api_token(&self, actor: Option<&Principal>, token_id: &str) -> Result<ApiTokenRecord> {
        self.transition(actor, token_id, "update", ApiTokenRecord::suspend)
    }

    /// suspended → active (needs `update` on the token).
    /// Errors: `forbidden`, `not_found`, `invalid_transition`.
    pub fn resume_api_token(&self, actor: Option<&Principal>, token_id: &str) -> Result<ApiTokenRecord> {
        self.transition(actor, token_id, "update", ApiTokenRecord::resume)
    }

    /// active or suspended → revoked, for good (needs `delete` on the token:
    /// `delete_own_token`, `delete_token`). Every session opened with the
    /// token ends. Errors: `forbidden`, `not_found`, `invalid_transition`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_own_token"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let me = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let t = realm.create_api_token(Some(&me), &ann.id, None, &Default::default(), Some(1)).unwrap();
    /// let session = realm.open_session(&t.secret, Some(2)).unwrap();
    /// realm.revoke_api_token(Some(&me), &t.record.id).unwrap();
    /// assert_eq!(realm.authenticate(&session.token, Some(3)).unwrap_err().code, "revoked");
    /// ```
    pub fn revoke_api_token(&self, actor: Option<&Principal>, token_id: &str) -> Result<ApiTokenRecord> {
        self.transition(actor, token_id, "delete", ApiTokenRecord::revoke)
    }

    /// Makes a new token with the old one's owner, roles, limits and
    /// lifespan (counted from `now`) and revokes the old one, ending its
    /// sessions. Needs what revoking the old token and creating one for its
    /// owner need (`delete` on it, `create` on `{type: "token", owner}`);
    /// a limited actor can only replace tokens within its limits.
    ///
    /// Errors: `forbidden`, `not_found`, `invalid_transition` (already
    /// revoked).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_own_token"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let me = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let old = realm.create_api_token(Some(&me), &ann.id, None, &Default::default(), Some(1)).unwrap();
    /// let new = realm.replace_api_token(Some(&me), &old.record.id, Some(2)).unwrap();
    /// assert_eq!(realm.authenticate(&old.secret, Some(3)).unwrap_err().code, "revoked");
    /// assert!(realm.authenticate(&new.secret, Some(3)).is_ok());
    /// ```
    pub fn replace_api_token(
        &self,
        actor: Option<&Principal>,
        token_id: &str,
        now: Option<i64>,
    ) -> Result<NewApiToken> {
        let mut state = self.write();
        let old = self.token_for(&state, actor, "delete", token_id)?;
        self.check(
            actor,
            "create",
            &Resource::new("token").with_owner(old.owner.as_str()),
        )?;
        if let Some(wide) = actor.and_then(|a| a.limits.as_ref()) {
            if !old
                .limits
                .as_ref()
                .is_some_and(|narrow| within_limits(wide, narrow))
            {
                return Err(forbidden(
                    "a limited credential can only replace tokens limited at least as narrowly",
                ));
            }
        }
        let (new, revoked_old) = self.engine.replace_api_token(&old, now)?;
        if state.tokens.contains_key(&new.record.id) {
            return Err(conflict("API token id collision; try again"));
        }
        let mut changes = Vec::new();
        if !state.sessions.of_token(token_id).is_empty() {
            changes.push(Change::SessionsEndedByToken {
                token_id: token_id.to_string(),
            });
        }
        changes.push(Change::TokenPut { token: revoked_old });
        changes.push(Change::TokenPut {
            token: new.record.clone(),
        });
        self.commit(&mut state, changes)?;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_narrowing() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let wide = s(&["pull_device", "read_device", "!read_device:x"]);
        assert!(within_limits(&wide, &s(&["pull_device", "!read_device:x"])));
        assert!(!within_limits(&wide, &s(&["pull_device"])), "drops a deny");
        assert!(
            !within_limits(&wide, &s(&["admin", "!read_device:x"])),
            "adds an allow"
        );
        assert!(within_limits(&wide, &s(&["!read_device:x"])));
    }
}
