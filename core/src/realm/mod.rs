//! [`Realm`] (SPEC §7): users, API tokens, password hashes and sessions for a
//! host that issues its own credentials.
//!
//! A realm is the one stateful object of the crate. It owns an [`Engine`]
//! (the policy it authorises with) and a session key, and keeps its state
//! behind a lock, so it is `Send + Sync`. Every method that reads the clock
//! takes `now` (whole seconds); given `now`, answers depend on nothing else
//! (fresh ids, secrets and salts are random, and are the only thing that is).
//!
//! The rules, the error codes and every choice made where SPEC is silent are
//! in `docs/realm.md`. In short:
//!
//! - the first user ever created gets the policy's bootstrap role (default
//!   `admin`) and needs no actor; every later one gets the default role
//!   (`user`) and needs an actor the policy allows `create_user`: there is no
//!   anonymous self-signup;
//! - every management call names an `actor` (the [`Principal`] that
//!   [`Realm::authenticate`] returned) and is authorised by the policy on a
//!   `user` or `token` resource; a refusal is `forbidden`;
//! - sessions live in the realm: it remembers each one it issued until its
//!   last token expires, so closing, deleting a user, revoking an API token
//!   and [`Realm::restart`] end sessions at once;
//! - [`Realm::authenticate`] returns the user's *current* roles.
//!
//! ```
//! use serde_json::json;
//! use tessera::{Realm, RealmOptions, UserOptions};
//!
//! let policy = json!({"version": 1, "roles": {
//!     "user":  {"permissions": ["read_own_device", "read_own_user"]},
//!     "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_user"]}}});
//! let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
//! let options = RealmOptions::fast_for_tests();
//! let realm = Realm::new(&policy, &key, &options).unwrap();
//!
//! let ann = realm.create_user(None, "ann", Some("pw-ann"), &UserOptions::default(), Some(0)).unwrap();
//! assert_eq!(ann.roles, ["admin"]); // the first user: bootstrap role
//!
//! let grant = realm.login("ann", "pw-ann", Some(10)).unwrap();
//! let admin = realm.authenticate(&format!("Bearer {}", grant.token), Some(20)).unwrap();
//! let bob = realm.create_user(Some(&admin), "bob", Some("pw-bob"), &UserOptions::default(), Some(30)).unwrap();
//! assert_eq!(bob.roles, ["user"]);
//!
//! assert_eq!(realm.login("bob", "wrong", Some(40)).unwrap_err().code, "invalid_credentials");
//! assert_eq!(realm.login("nobody", "pw", Some(40)).unwrap_err().code, "invalid_credentials");
//! ```

mod password;
mod state;

pub use password::{Argon2Options, MAX_ITERATIONS, MAX_MEMORY_KIB, MAX_PASSWORD_BYTES};
pub use state::SNAPSHOT_VERSION;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::request::{Credential, Principal, Resource};
use crate::token::KeySet;
use crate::token::{
    now_or_clock, parse_authorization, ApiTokenOptions, ApiTokenRecord, ApiTokenState, NewApiToken,
    Revocations, SessionGrant, SessionOptions, API_TOKEN_PREFIX,
};
use password::Hasher;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use state::{username_problem, valid_id, SessionRecord, State, UserRecord};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How a realm is set up: Argon2id costs, and the JWKS of an identity
/// provider whose JWTs [`Realm::authenticate`] accepts.
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
    /// [`Realm::authenticate`], checked against the policy's `tokens.jwt`;
    /// when absent they are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
}

impl RealmOptions {
    /// Reads the options from JSON; a wrong shape is `invalid_argument`.
    pub fn from_json(value: &Value) -> Result<RealmOptions> {
        RealmOptions::deserialize(value).map_err(|e| Error::argument(format!("realm options: {e}")))
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

/// Options of [`Realm::create_user`].
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
        UserOptions::deserialize(value).map_err(|e| Error::argument(format!("user options: {e}")))
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

/// Users, API tokens, password hashes and sessions (SPEC §7). See the
/// [module documentation](self) for the rules and an example.
pub struct Realm {
    engine: Engine,
    key: Value,
    jwks: Option<Arc<KeySet>>,
    hasher: Hasher,
    state: RwLock<State>,
}

impl std::fmt::Debug for Realm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.read();
        f.debug_struct("Realm")
            .field("users", &s.users.len())
            .field("api_tokens", &s.tokens.len())
            .field("sessions", &s.sessions.len())
            .field("epoch", &s.epoch)
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

fn forbidden(message: impl Into<String>) -> Error {
    Error::realm("forbidden", message)
}

fn not_found(message: impl Into<String>) -> Error {
    Error::realm("not_found", message)
}

fn conflict(message: impl Into<String>) -> Error {
    Error::realm("conflict", message)
}

fn invalid_credentials() -> Error {
    Error::realm("invalid_credentials", "unknown username or wrong password")
}

fn revoked(message: &str) -> Error {
    Error::token("revoked", message)
}

fn user_resource(id: &str) -> Resource {
    Resource::new("user").with_id(id).with_owner(id)
}

fn token_resource(record: &ApiTokenRecord) -> Resource {
    Resource::new("token")
        .with_id(record.id.as_str())
        .with_owner(record.owner.as_str())
}

/// 16 random bytes in fixed-width base62 (22 characters).
fn random_id() -> Result<String> {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::realm("random_unavailable", format!("no source of randomness: {e}")))?;
    let mut n = u128::from_be_bytes(bytes);
    let mut out = [b'0'; 22];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    Ok(out.iter().map(|&b| char::from(b)).collect())
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

/// Whether `narrow` limits no more than `wide` allows: each of its allow
/// labels is one of `wide`'s, and it keeps every deny label of `wide`.
fn within_limits(wide: &[String], narrow: &[String]) -> bool {
    let is_deny = |l: &&String| l.starts_with('!');
    narrow.iter().filter(|l| !is_deny(l)).all(|l| wide.contains(l))
        && wide.iter().filter(is_deny).all(|l| narrow.contains(l))
}

/// The id part of `tsr_<id>_<secret>`, if the text has that outline.
fn api_token_id(token: &str) -> Option<&str> {
    token
        .strip_prefix(API_TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
}

impl Realm {
    /// Makes an empty realm for `policy`, signing sessions with `key` (a JWK:
    /// `{"kty":"oct","k"}` for HS256 with at least 32 bytes, or an Ed25519
    /// `{"kty":"OKP","crv":"Ed25519","d",...}` for EdDSA).
    ///
    /// Errors: `invalid_policy`; the key's `weak_key`, `unsupported_alg` or
    /// `invalid_argument` (a public-only key cannot sign); `invalid_argument`
    /// for Argon2 parameters argon2 refuses or a JWKS of the wrong shape.
    ///
    /// ```
    /// use serde_json::json;
    /// let policy = json!({"version": 1, "roles": {"user": {}, "admin": {}}});
    /// let weak = json!({"kty": "oct", "k": "c2hvcnQ"});
    /// let err = tessera::Realm::new(&policy, &weak, &Default::default()).unwrap_err();
    /// assert_eq!(err.code, "weak_key");
    /// ```
    pub fn new(policy: &Value, key: &Value, options: &RealmOptions) -> Result<Realm> {
        Realm::build(policy, key, options, State::default())
    }

    /// Makes a realm from a [`snapshot`](Realm::snapshot): the same users,
    /// tokens, live sessions, epoch and bootstrap flag.
    /// `restore(...).snapshot()` equals the snapshot it was given.
    ///
    /// Errors: those of [`Realm::new`], and `invalid_argument` for a snapshot
    /// of the wrong shape or one that breaks the realm's invariants (duplicate
    /// ids or usernames, a hash that is not Argon2id, a live token or session
    /// of a user who does not exist).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::{Realm, RealmOptions, UserOptions};
    /// let policy = json!({"version": 1, "roles": {"user": {}, "admin": {}}});
    /// let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
    /// let o = RealmOptions::fast_for_tests();
    /// let realm = Realm::new(&policy, &key, &o).unwrap();
    /// realm.create_user(None, "ann", Some("pw"), &UserOptions::default(), Some(0)).unwrap();
    /// let snap = realm.snapshot();
    /// let again = Realm::restore(&policy, &snap, &key, &o).unwrap();
    /// assert_eq!(again.snapshot(), snap);
    /// assert!(again.login("ann", "pw", Some(5)).is_ok());
    /// ```
    pub fn restore(policy: &Value, snapshot: &Value, key: &Value, options: &RealmOptions) -> Result<Realm> {
        let state = State::from_json(snapshot)?;
        Realm::build(policy, key, options, state)
    }

    fn build(policy: &Value, key: &Value, options: &RealmOptions, state: State) -> Result<Realm> {
        let engine = Engine::new(policy)?;
        // Checks the key now (strength, type, a private half to sign with)
        // rather than at the first login.
        let probe = Principal {
            id: Some("probe".into()),
            ..Principal::default()
        };
        let probe_options = SessionOptions {
            session_id: Some("probe".into()),
            ..SessionOptions::default()
        };
        engine.issue_session(&probe, key, Some(0), &probe_options)?;
        let jwks = options.jwks.as_ref().map(KeySet::new).transpose()?.map(Arc::new);
        Ok(Realm {
            engine,
            key: key.clone(),
            jwks,
            hasher: Hasher::new(&options.argon2)?,
            state: RwLock::new(state),
        })
    }

    /// Everything the realm holds, as JSON (format in `docs/realm.md`):
    /// `{version, bootstrapped, epoch, users, api_tokens, sessions}`. Users
    /// carry their password hashes: keep snapshots as secret as a password
    /// database. The session key and the policy are not included.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// assert_eq!(realm.snapshot()["users"], json!([]));
    /// ```
    pub fn snapshot(&self) -> Value {
        self.read().to_json()
    }

    /// The policy engine the realm authorises with. Replacing its policy
    /// ([`Engine::load`]) changes the realm's rules at once.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// assert_eq!(realm.engine().policy().role_names(), ["user", "admin"]);
    /// ```
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    // A panic while the lock is held cannot leave a change half made: each
    // call checks everything first and then applies its change with
    // operations that do not panic. So a poisoned lock is safe to take over.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Requires that the policy allow `actor` to do `action` on `resource`.
    fn check(&self, actor: Option<&Principal>, action: &str, resource: &Resource) -> Result<()> {
        let what = match &resource.id {
            Some(id) => format!("{action} on {} `{id}`", resource.kind),
            None => format!("{action} on {}", resource.kind),
        };
        let Some(actor) = actor else {
            return Err(forbidden(format!("{what} needs an authenticated actor")));
        };
        let decision = self.engine.authorize(actor, action, resource)?;
        if decision.allowed {
            Ok(())
        } else {
            Err(forbidden(format!(
                "the policy does not allow {what} ({})",
                decision.reason.as_str()
            )))
        }
    }

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

    /// The effective roles (closed under `inherits`) of a role list.
    fn effective_roles(&self, roles: &[String]) -> Result<Vec<String>> {
        let p = Principal {
            roles: roles.to_vec(),
            ..Principal::default()
        };
        Ok(self.engine.prepare(&p)?.effective_roles())
    }

    /// The roles an API token acts with now: its own, less any its owner no
    /// longer holds (a token never exceeds its owner).
    fn token_roles(&self, state: &State, record: &ApiTokenRecord) -> Result<Vec<String>> {
        let Some(owner) = state.users.get(&record.owner) else {
            return Ok(Vec::new());
        };
        let allowed = self.effective_roles(&owner.roles)?;
        Ok(record
            .roles
            .iter()
            .filter(|r| allowed.contains(r))
            .cloned()
            .collect())
    }

    fn revocations(state: &State) -> Revocations {
        Revocations {
            epoch: state.epoch,
            ..Revocations::default()
        }
    }

    // ----- users -------------------------------------------------------

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
        state.users.insert(id, record);
        state.bootstrapped = true;
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
        let policy = self.engine.policy();
        for (i, role) in roles.iter().enumerate() {
            if !policy.has_role(role) {
                return Err(Error::argument(format!(
                    "role `{role}` is not defined by the policy"
                )));
            }
            if roles[..i].contains(role) {
                return Err(Error::argument(format!("role `{role}` is named twice")));
            }
        }
        let user = state
            .users
            .get_mut(user_id)
            .ok_or_else(|| not_found(format!("no user `{user_id}`")))?;
        user.roles = roles.to_vec();
        Ok(User::from(&*user))
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
        let user = state
            .users
            .get_mut(user_id)
            .ok_or_else(|| not_found(format!("no user `{user_id}`")))?;
        user.password_hash = hash;
        state.end_sessions_of_user(user_id, keep.as_deref());
        Ok(())
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
        if state.users.shift_remove(user_id).is_none() {
            return Err(not_found(format!("no user `{user_id}`")));
        }
        for record in state.tokens.values_mut() {
            if record.owner == user_id && record.state != ApiTokenState::Revoked {
                record.state = ApiTokenState::Revoked;
            }
        }
        state.end_sessions_of_user(user_id, None);
        Ok(())
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
        let user = match state.users.get_mut(&user_id) {
            Some(u) if u.password_hash == hash => u,
            _ => return Err(invalid_credentials()),
        };
        if upgraded.is_some() {
            user.password_hash = upgraded;
        }
        let principal = Principal {
            id: Some(user.id.clone()),
            roles: user.roles.clone(),
            ..Principal::default()
        };
        self.start_session(&mut state, &principal, None, now)
    }

    // ----- API tokens --------------------------------------------------

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
                let policy = self.engine.policy();
                for (i, role) in r.iter().enumerate() {
                    if !policy.has_role(role) {
                        return Err(Error::argument(format!(
                            "role `{role}` is not defined by the policy"
                        )));
                    }
                    if r[..i].contains(role) {
                        return Err(Error::argument(format!("role `{role}` is named twice")));
                    }
                }
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
        state.tokens.insert(made.record.id.clone(), made.record.clone());
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
        if changed.state == ApiTokenState::Revoked {
            state.end_sessions_of_token(token_id);
        }
        state.tokens.insert(token_id.to_string(), changed.clone());
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
        state.end_sessions_of_token(token_id);
        state.tokens.insert(token_id.to_string(), revoked_old);
        state.tokens.insert(new.record.id.clone(), new.record.clone());
        Ok(new)
    }

    // ----- sessions ----------------------------------------------------

    fn start_session(
        &self,
        state: &mut State,
        principal: &Principal,
        token: Option<&ApiTokenRecord>,
        now: i64,
    ) -> Result<SessionGrant> {
        state.prune(now);
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
                .issue_session(principal, &self.key, Some(now), &options)?;
            if state.sessions.contains_key(&grant.session_id) {
                continue;
            }
            state.sessions.insert(
                grant.session_id.clone(),
                SessionRecord {
                    id: grant.session_id.clone(),
                    user_id: principal.id.clone().unwrap_or_default(),
                    api_token_id: options.api_token_id.clone(),
                    expires_at: grant.expires_at,
                },
            );
            return Ok(grant);
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
        let p = self
            .engine
            .verify_session(token, &self.key, Some(now), Some(&Realm::revocations(state)))?;
        let record = p
            .session_id
            .as_ref()
            .and_then(|sid| state.sessions.get(sid))
            .ok_or_else(|| revoked("the session was closed or ended"))?;
        if p.id.as_deref() != Some(record.user_id.as_str()) || p.api_token_id != record.api_token_id {
            return Err(revoked("the session does not match the realm's record"));
        }
        let user = state
            .users
            .get(&record.user_id)
            .ok_or_else(|| revoked("the session's user no longer exists"))?;
        let mut principal = Principal {
            id: Some(user.id.clone()),
            roles: user.roles.clone(),
            credential: Some(Credential::Session),
            expires_at: p.expires_at,
            session_id: p.session_id.clone(),
            ..Principal::default()
        };
        if let Some(token_id) = &record.api_token_id {
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
            principal.api_token_id = Some(token_id.clone());
        }
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
        self.start_session(&mut state, &principal, Some(&record), now)
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
                .renew_session(token, &self.key, Some(now), Some(&Realm::revocations(&state)))?;
        state.prune(now);
        if let Some(sid) = principal.session_id {
            if let Some(record) = state.sessions.get_mut(&sid) {
                record.expires_at = record.expires_at.max(grant.expires_at);
            }
        }
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
        let p = self
            .engine
            .verify_session(token, &self.key, Some(now), Some(&Realm::revocations(&state)))?;
        let sid = p.session_id.unwrap_or_default();
        match state.sessions.get(&sid) {
            Some(record) if p.id.as_deref() == Some(record.user_id.as_str()) => {}
            _ => return Err(revoked("the session was closed or ended")),
        }
        state.sessions.shift_remove(&sid);
        state.prune(now);
        Ok(())
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
    /// realm.restart();
    /// assert_eq!(realm.authenticate(&grant.token, Some(1)).unwrap_err().code, "revoked");
    /// assert_eq!(realm.snapshot()["epoch"], 1);
    /// ```
    pub fn restart(&self) {
        let mut state = self.write();
        state.epoch = state.epoch.saturating_add(1);
        state.sessions.clear();
    }

    /// The realm with `keys` as its provider key set (SPEC §6.1.2), in place
    /// of `options.jwks`: a [`KeySet`] fetched by the host rotates without
    /// rebuilding the realm. The host fetches when [`KeySet::needs_fetch`]
    /// says so, before [`authenticate`](Self::authenticate).
    pub fn with_key_set(mut self, keys: Arc<KeySet>) -> Realm {
        self.jwks = Some(keys);
        self
    }

    /// The provider key set, if any.
    pub fn key_set(&self) -> Option<&Arc<KeySet>> {
        self.jwks.as_ref()
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
    fn random_ids_are_fixed_width_base62() {
        let a = random_id().unwrap();
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, random_id().unwrap());
    }

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

    #[test]
    fn api_token_ids() {
        assert_eq!(api_token_id("tsr_abc_def"), Some("abc"));
        assert_eq!(api_token_id("tsr_abc"), None);
        assert_eq!(api_token_id("abc_def"), None);
    }

    #[test]
    fn realm_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Realm>();
    }
}
