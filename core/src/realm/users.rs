//! User management and login: [`Realm::create_user`], `get_user`,
//! `list_users`, `set_roles`, `set_password`, `delete_user` and `login`.

use super::change::Change;
use super::options::{User, UserOptions};
use super::password::MAX_PASSWORD_BYTES;
use super::state::{username_problem, valid_id, State, UserRecord};
use super::{conflict, forbidden, not_found, Realm};
use crate::error::{Error, Result};
use crate::request::{Principal, Resource};
use crate::token::{now_or_clock, random_id, ApiTokenState, SessionGrant};

fn invalid_credentials() -> Error {
    Error::realm("invalid_credentials", "unknown username or wrong password")
}

fn user_resource(id: &str) -> Resource {
    Resource::new("user").with_id(id).with_owner(id)
}

fn check_password(password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::argument("a password must not be empty"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::argument(format!(
            "a password is at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

impl Realm {
    /// Creates a user. The first user the realm ever creates gets the
    /// policy's bootstrap role (`realm.bootstrap_role`, default `admin`) and
    /// needs no actor; every later one gets the default role
    /// (`realm.default_role`, default `user`) and needs an actor allowed
    /// `create` on `{type: "user"}` (e.g. `create_user`, `admin_user`).
    /// `password` `None` makes a user who cannot log in (API tokens only).
    ///
    /// Errors, in order: `forbidden`; `invalid_argument` (username empty,
    /// over 256 bytes, with control characters or surrounding white space;
    /// password empty or over 1024 bytes; an explicit id outside
    /// `[A-Za-z0-9-_.@~]{1,128}`); `conflict` (the username, ignoring ASCII
    /// case, or the id is taken).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let id = UserOptions { id: Some("u-ann".into()) };
    /// let ann = realm.create_user(None, "ann", None, &id, Some(7)).unwrap();
    /// assert_eq!((ann.id.as_str(), ann.created_at, ann.has_password), ("u-ann", 7, false));
    /// let again = realm.create_user(None, "bob", None, &UserOptions::default(), Some(8)).unwrap_err();
    /// assert_eq!(again.code, "forbidden"); // no self-signup after the first user
    /// ```
    pub fn create_user(
        &self,
        actor: Option<&Principal>,
        username: &str,
        password: Option<&str>,
        options: &UserOptions,
        now: Option<i64>,
    ) -> Result<User> {
        let create = Resource::new("user");
        let checked = if self.read().bootstrapped {
            self.check(actor, "create", &create)?;
            true
        } else {
            false
        };
        if let Some(why) = username_problem(username) {
            return Err(Error::argument(why));
        }
        if let Some(pw) = password {
            check_password(pw)?;
        }
        if let Some(id) = &options.id {
            if !valid_id(id) {
                return Err(Error::argument(format!(
                    "user id `{id}` must be 1 to 128 characters of A-Z a-z 0-9 - _ . @ ~"
                )));
            }
        }
        self.check_user_free(&self.read(), username, options.id.as_deref())?;
        // Hash outside the lock: it is the slow part.
        let password_hash = password.map(|pw| self.hasher.hash(pw)).transpose()?;
        let now = now_or_clock(now);
        let mut state = self.write();
        if state.bootstrapped && !checked {
            // Someone else became the first user meanwhile.
            self.check(actor, "create", &create)?;
        }
        self.check_user_free(&state, username, options.id.as_deref())?;
        let id = match &options.id {
            Some(id) => id.clone(),
            None => loop {
                let id = random_id()?;
                if !state.id_in_use(&id) {
                    break id;
                }
            },
        };
        let policy = self.engine.policy();
        let settings = policy.realm_settings();
        let role = if state.bootstrapped {
            &settings.default_role
        } else {
            &settings.bootstrap_role
        };
        let record = UserRecord {
            id: id.clone(),
            username: username.to_string(),
            roles: vec![role.clone()],
            password_hash,
            created_at: now,
        };
        let user = User::from(&record);
        self.commit(&mut state, vec![Change::UserPut { user: record }])?;
        Ok(user)
    }

    fn check_user_free(&self, state: &State, username: &str, id: Option<&str>) -> Result<()> {
        if state.user_by_name(username).is_some() {
            return Err(conflict(format!("username `{username}` is taken")));
        }
        if let Some(id) = id {
            if state.id_in_use(id) {
                return Err(conflict(format!("user id `{id}` is taken")));
            }
        }
        Ok(())
    }

    /// One user, if `actor` may `read` it (`read_user`, or `read_own_user`
    /// for oneself). Errors: `forbidden`, then `not_found`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let admin = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// assert_eq!(realm.get_user(Some(&admin), &ann.id).unwrap(), ann);
    /// assert_eq!(realm.get_user(Some(&admin), "ghost").unwrap_err().code, "not_found");
    /// assert_eq!(realm.get_user(None, &ann.id).unwrap_err().code, "forbidden");
    /// ```
    pub fn get_user(&self, actor: Option<&Principal>, user_id: &str) -> Result<User> {
        self.check(actor, "read", &user_resource(user_id))?;
        let state = self.read();
        state
            .users
            .get(user_id)
            .map(User::from)
            .ok_or_else(|| not_found(format!("no user `{user_id}`")))
    }

    /// The users `actor` may `read`, in creation order (an actor who may read
    /// none gets an empty list). Errors: `forbidden` without an actor.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["read_own_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let me = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// assert_eq!(realm.list_users(Some(&me)).unwrap(), vec![ann]);
    /// ```
    pub fn list_users(&self, actor: Option<&Principal>) -> Result<Vec<User>> {
        let Some(actor) = actor else {
            return Err(forbidden("listing users needs an authenticated actor"));
        };
        let prepared = self.engine.prepare(actor)?;
        let state = self.read();
        Ok(state
            .users
            .values()
            .filter(|u| {
                self.engine
                    .is_allowed(&prepared, "read", "user", Some(&u.id), Some(&u.id))
            })
            .map(User::from)
            .collect())
    }

    /// Replaces a user's roles. The actor needs `update` on the user *as
    /// someone else's*: `update_user` (or `update_user:<id>`, `admin_user`);
    /// `update_own_user` never lets anyone change their own roles. The user's
    /// sessions and tokens carry the new roles from the next
    /// [`authenticate`](Realm::authenticate) on.
    ///
    /// Errors, in order: `forbidden`, `not_found`, `invalid_argument` (a role
    /// the policy does not define, or one named twice).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", None, &UserOptions::default(), Some(0)).unwrap();
    /// let admin = tessera::Principal { id: Some(ann.id.clone()), roles: ann.roles.clone(), ..Default::default() };
    /// let roles = vec!["admin".to_string(), "user".to_string()];
    /// assert_eq!(realm.set_roles(Some(&admin), &ann.id, &roles).unwrap().roles, roles);
    /// let bad = realm.set_roles(Some(&admin), &ann.id, &["root".to_string()]).unwrap_err();
    /// assert_eq!(bad.code, "invalid_argument");
    /// ```
    pub fn set_roles(&self, actor: Option<&Principal>, user_id: &str, roles: &[String]) -> Result<User> {
        self.check(actor, "update", &Resource::new("user").with_id(user_id))?;
        let mut state = self.write();
        if !state.users.contains_key(user_id) {
            return Err(not_found(format!("no user `{user_id}`")));
        }
        self.check_roles(roles)?;
        let mut user = state
            .users
            .get(user_id)
            .cloned()
            .ok_or_else(|| not_found(format!("no user `{user_id}`")))?;
        user.roles = roles.to_vec();
        let shown = User::from(&user);
        self.commit(&mut state, vec![Change::UserPut { user }])?;
        Ok(shown)
    }

    /// Sets (or, with `None`, removes) a user's password. The actor needs
    /// `update` on the user: `update_own_user` for oneself, `update_user`
    /// for others. Every other session of the user ends (the actor's own
    /// session, when it is the user's, goes on); API tokens are untouched.
    ///
    /// Errors, in order: `forbidden`, `not_found`, `invalid_argument`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["update_own_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", Some("old"), &UserOptions::default(), Some(0)).unwrap();
    /// let me = realm.authenticate(&realm.login("ann", "old", Some(1)).unwrap().token, Some(2)).unwrap();
    /// realm.set_password(Some(&me), &ann.id, Some("new")).unwrap();
    /// assert!(realm.login("ann", "new", Some(3)).is_ok());
    /// assert_eq!(realm.login("ann", "old", Some(3)).unwrap_err().code, "invalid_credentials");
    /// ```
    pub fn set_password(
        &self,
        actor: Option<&Principal>,
        user_id: &str,
        password: Option<&str>,
    ) -> Result<()> {
        self.check(actor, "update", &user_resource(user_id))?;
        if !self.read().users.contains_key(user_id) {
            return Err(not_found(format!("no user `{user_id}`")));
        }
        if let Some(pw) = password {
            check_password(pw)?;
        }
        let hash = password.map(|pw| self.hasher.hash(pw)).transpose()?;
        let keep = actor
            .filter(|a| a.id.as_deref() == Some(user_id))
            .and_then(|a| a.session_id.clone());
        let mut state = self.write();
        let mut user = state
            .users
            .get(user_id)
            .cloned()
            .ok_or_else(|| not_found(format!("no user `{user_id}`")))?;
        user.password_hash = hash;
        let mut changes = vec![Change::UserPut { user }];
        let others = state.sessions.of_user(user_id);
        if others.iter().any(|sid| keep.as_deref() != Some(sid.as_str())) {
            changes.push(Change::SessionsEndedByUser {
                user_id: user_id.to_string(),
                keep,
            });
        }
        self.commit(&mut state, changes)
    }

    /// Deletes a user (the actor needs `delete` on it: `delete_user`, or
    /// `delete_own_user` for oneself): every session of the user ends and
    /// every API token it owns is revoked (the records stay, revoked).
    ///
    /// Errors, in order: `forbidden`, `not_found`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_user"]}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// let ann = realm.create_user(None, "ann", Some("pw"), &UserOptions::default(), Some(0)).unwrap();
    /// let grant = realm.login("ann", "pw", Some(1)).unwrap();
    /// let me = realm.authenticate(&grant.token, Some(2)).unwrap();
    /// realm.delete_user(Some(&me), &ann.id).unwrap();
    /// assert_eq!(realm.authenticate(&grant.token, Some(3)).unwrap_err().code, "revoked");
    /// ```
    pub fn delete_user(&self, actor: Option<&Principal>, user_id: &str) -> Result<()> {
        self.check(actor, "delete", &user_resource(user_id))?;
        let mut state = self.write();
        if !state.users.contains_key(user_id) {
            return Err(not_found(format!("no user `{user_id}`")));
        }
        // Sessions end first, then tokens are revoked, then the user goes:
        // each record leaves a state that `restore` would accept.
        let mut changes = Vec::new();
        if !state.sessions.of_user(user_id).is_empty() {
            changes.push(Change::SessionsEndedByUser {
                user_id: user_id.to_string(),
                keep: None,
            });
        }
        for record in state.tokens.of_owner(user_id) {
            if record.state != ApiTokenState::Revoked {
                let mut token = record.clone();
                token.state = ApiTokenState::Revoked;
                changes.push(Change::TokenPut { token });
            }
        }
        changes.push(Change::UserDeleted {
            user_id: user_id.to_string(),
        });
        self.commit(&mut state, changes)
    }

    /// Checks a username and password and opens a session for the user
    /// (SPEC §6.2): `{token, session_id, expires_at, renewable_until}`.
    ///
    /// An unknown username, a wrong password and a user without a password
    /// all fail with `invalid_credentials` after the same Argon2id work.
    /// Usernames match ignoring ASCII case. A successful login replaces a
    /// hash made under other Argon2 parameters with one made under the
    /// realm's (the password is known only then).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let realm = Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &RealmOptions::fast_for_tests()).unwrap();
    /// realm.create_user(None, "Ann", Some("pw"), &UserOptions::default(), Some(0)).unwrap();
    /// let grant = realm.login("ann", "pw", Some(100)).unwrap();
    /// assert_eq!((grant.expires_at, grant.renewable_until), (1900, 172_900));
    /// ```
    pub fn login(&self, username: &str, password: &str, now: Option<i64>) -> Result<SessionGrant> {
        let found = {
            let state = self.read();
            state
                .user_by_name(username)
                .map(|u| (u.id.clone(), u.password_hash.clone()))
        };
        let stored = found.as_ref().and_then(|(_, h)| h.as_deref());
        let too_long = password.len() > MAX_PASSWORD_BYTES;
        let ok = self.hasher.verify(password, if too_long { None } else { stored });
        let Some((user_id, hash)) = found.filter(|_| ok) else {
            return Err(invalid_credentials());
        };
        // A hash made under other Argon2 parameters is replaced by one made
        // under the realm's own, now that the password is known; outside the
        // lock, like every Argon2 run. If hashing fails the old hash stays.
        let upgraded = hash
            .as_deref()
            .filter(|phc| self.hasher.needs_rehash(phc))
            .and_then(|_| self.hasher.hash(password).ok());
        let now = now_or_clock(now);
        let mut state = self.write();
        // The user may have been deleted, or its password changed, meanwhile.
        let mut user = match state.users.get(&user_id) {
            Some(u) if u.password_hash == hash => u.clone(),
            _ => return Err(invalid_credentials()),
        };
        let principal = Principal {
            id: Some(user.id.clone()),
            roles: user.roles.clone(),
            ..Principal::default()
        };
        let mut changes = Vec::new();
        if upgraded.is_some() {
            user.password_hash = upgraded;
            changes.push(Change::UserPut { user });
        }
        let (grant, opened) = self.start_session(&state, &principal, None, now)?;
        changes.extend(opened);
        self.commit(&mut state, changes)?;
        Ok(grant)
    }
}
