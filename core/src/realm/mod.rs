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

mod api_tokens;
mod change;
mod journal;
mod options;
mod password;
mod records;
mod sessions;
mod state;
mod tables;
mod users;

pub use journal::Journal;
pub use options::{RealmOptions, User, UserOptions};
pub use password::{Argon2Options, MAX_ITERATIONS, MAX_MEMORY_KIB, MAX_PASSWORD_BYTES};
pub use state::SNAPSHOT_VERSION;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::request::{Principal, Resource};
use crate::token::{ApiTokenRecord, KeySet, Revocations, SessionKey, SessionOptions};
use password::Hasher;
use serde_json::Value;
use state::State;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Users, API tokens, password hashes and sessions (SPEC §7). See the
/// [module documentation](self) for the rules and an example.
pub struct Realm {
    engine: Arc<Engine>,
    key: SessionKey,
    jwks: Option<Arc<KeySet>>,
    hasher: Hasher,
    state: RwLock<State>,
    journal: RwLock<Option<Arc<dyn Journal>>>,
}

impl std::fmt::Debug for Realm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.read();
        f.debug_struct("Realm")
            .field("users", &s.users.len())
            .field("api_tokens", &s.tokens.len())
            .field("sessions", &s.sessions.len())
            .field("epoch", &s.epoch)
            .field("seq", &s.seq)
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
        // rather than at the first login; parsed once, it remembers the
        // session tokens it verifies.
        let key = SessionKey::held(key)?;
        let probe = Principal {
            id: Some("probe".into()),
            ..Principal::default()
        };
        let probe_options = SessionOptions {
            session_id: Some("probe".into()),
            ..SessionOptions::default()
        };
        engine.issue_session_with(&probe, &key, Some(0), &probe_options)?;
        let jwks = options.jwks.as_ref().map(KeySet::new).transpose()?.map(Arc::new);
        Ok(Realm {
            engine: Arc::new(engine),
            key,
            jwks,
            hasher: Hasher::new(&options.argon2)?,
            state: RwLock::new(state),
            journal: RwLock::new(None),
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

    /// [`snapshot`](Self::snapshot) as JSON text, written straight from
    /// the realm's rows: what a store keeps as a checkpoint, without the
    /// value tree (or, in a binding, the host's objects) in between.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// assert_eq!(realm.snapshot_text(), realm.snapshot().to_string());
    /// ```
    pub fn snapshot_text(&self) -> String {
        self.read().to_text()
    }

    /// How many rows the realm holds (users, API tokens and live sessions):
    /// what a snapshot's size grows with. A store takes its checkpoints
    /// every this many records (at least 10,000), so their cost per record
    /// stays constant.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// realm.create_user(None, "ann", None, &Default::default(), Some(0)).unwrap();
    /// assert_eq!(realm.rows(), 1);
    /// ```
    pub fn rows(&self) -> usize {
        self.read().rows()
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

    /// The realm with `keys` as its provider key set (SPEC §6.1.2), in place
    /// of `options.jwks`: a [`KeySet`] fetched by the host rotates without
    /// rebuilding the realm. The host fetches when [`KeySet::needs_fetch`]
    /// says so, before [`authenticate`](Self::authenticate).
    pub fn with_key_set(mut self, keys: Arc<KeySet>) -> Realm {
        self.set_key_set(keys);
        self
    }

    /// [`with_key_set`](Self::with_key_set) in place (a binding that holds
    /// the realm behind a handle).
    pub fn set_key_set(&mut self, keys: Arc<KeySet>) {
        self.jwks = Some(keys);
    }

    /// The provider key set, if any.
    pub fn key_set(&self) -> Option<&Arc<KeySet>> {
        self.jwks.as_ref()
    }

    /// The same engine as [`engine`](Realm::engine), as a shared handle, for
    /// a host that keeps it beside (or after) the realm.
    ///
    /// ```
    /// use serde_json::json;
    /// let realm = tessera::Realm::new(&json!({"version": 1, "roles": {"user": {}, "admin": {}}}),
    ///     &json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}),
    ///     &tessera::RealmOptions::fast_for_tests()).unwrap();
    /// let engine = realm.shared_engine();
    /// assert!(std::ptr::eq(&*engine, realm.engine()));
    /// ```
    pub fn shared_engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine)
    }

    // A panic while the lock is held cannot leave a change half made: each
    // call checks everything first and then applies its change with
    // operations that do not panic. So a poisoned lock is safe to take over.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Requires that the policy allow `actor` to do `action` on `resource`.
    pub(super) fn check(&self, actor: Option<&Principal>, action: &str, resource: &Resource) -> Result<()> {
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

    /// The effective roles (closed under `inherits`) of a role list.
    pub(super) fn effective_roles(&self, roles: &[String]) -> Result<Vec<String>> {
        let p = Principal {
            roles: roles.to_vec(),
            ..Principal::default()
        };
        Ok(self.engine.prepare(&p)?.effective_roles())
    }

    /// The roles an API token acts with now: its own, less any its owner no
    /// longer holds (a token never exceeds its owner).
    pub(super) fn token_roles(&self, state: &State, record: &ApiTokenRecord) -> Result<Vec<String>> {
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

    /// Checks a role list against the policy: every role defined, none
    /// named twice; else `invalid_argument`.
    pub(super) fn check_roles(&self, roles: &[String]) -> Result<()> {
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
        Ok(())
    }

    pub(super) fn revocations(state: &State) -> Revocations {
        Revocations {
            epoch: state.epoch,
            ..Revocations::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Realm>();
    }
}
