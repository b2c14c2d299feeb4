//! `tessera._native.Realm`: the stateful users / API tokens / sessions object
//! of SPEC §7. Every call converts, releases the GIL (Argon2 hashing and the
//! realm's lock can take milliseconds), calls the core, converts back.

use crate::convert::{self, now, opt_string, principal_to_py, string, to_python};
use crate::errors::{argument_error, guard, OrRaise};
use crate::{opt_principal, opt_typed, string_list, typed_or_default};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};
use serde_json::Value;
use std::sync::Arc;
use tessera::token::ApiTokenOptions;
use tessera::{RealmOptions, UserOptions};

/// Users, API tokens, password hashes and sessions for a host that issues its
/// own credentials (SPEC §7). Use `tessera.Realm`.
#[pyclass(module = "tessera._native", name = "Realm", frozen, subclass)]
pub struct Realm {
    pub inner: Arc<tessera::Realm>,
    /// The `tessera.KeySet` given as `options["jwks"]`, whose `_refresh`
    /// fetches for `authenticate`.
    key_set: Option<Py<PyAny>>,
}

#[pymethods]
impl Realm {
    /// An empty realm for `policy` (dict or JSON text), signing sessions with
    /// `key` (a JWK: HS256 `oct` of 32+ bytes, or Ed25519 `OKP` with `d`);
    /// with `snapshot`, the realm that snapshot describes (`Realm.restore`).
    #[new]
    #[pyo3(signature = (policy, key, options=None, *, snapshot=None, restore=false))]
    fn new(
        py: Python<'_>,
        policy: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyAny>>,
        snapshot: Option<&Bound<'_, PyAny>>,
        restore: bool,
    ) -> PyResult<Realm> {
        guard(|| {
            let policy = convert::policy(policy)?;
            let key = crate::session_key(key)?;
            // `options["jwks"]` may be a `KeySet`: the realm holds that set
            // (rotations need no rebuild) and the rest are plain options.
            let mut key_set = None;
            let mut rest = options.cloned();
            if let Some(o) = options.and_then(|o| o.cast::<pyo3::types::PyDict>().ok()) {
                if let Some(j) = o.get_item("jwks")? {
                    if j.cast::<crate::keyset::KeySet>().is_ok() {
                        let copy = o.copy()?;
                        copy.del_item("jwks")?;
                        rest = Some(copy.into_any());
                        key_set = Some(j.unbind());
                    }
                }
            }
            let options: RealmOptions = typed_or_default(rest.as_ref(), "options")?;
            // `restore` says a snapshot was asked for, so `None` reaches the core
            // as JSON null (and is refused) instead of meaning "a new realm".
            let snapshot = match (restore, snapshot) {
                (true, Some(s)) => Some(convert::json_or_text(s, "snapshot")?),
                (true, None) => Some(Value::Null),
                (false, _) => None,
            };
            let realm = py
                .detach(|| match &snapshot {
                    None => tessera::Realm::new(&policy, &key, &options),
                    Some(snap) => tessera::Realm::restore(&policy, snap, &key, &options),
                })
                .or_raise()?;
            let realm = match &key_set {
                Some(set) => {
                    let inner = Arc::clone(&set.bind(py).cast::<crate::keyset::KeySet>()?.get().inner);
                    realm.with_key_set(inner)
                }
                None => realm,
            };
            Ok(Realm {
                inner: Arc::new(realm),
                key_set,
            })
        })
    }

    /// Everything the realm holds (password hashes included: keep it secret).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let snap = py.detach(|| self.inner.snapshot());
            convert::to_py(py, &snap)
        })
    }

    /// `snapshot()` as JSON text, written by the core without Python objects
    /// in between (what a store checkpoints); the GIL is released meanwhile.
    fn snapshot_text(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| Ok(py.detach(|| self.inner.snapshot_text())))
    }

    /// How many users, API tokens and live sessions the realm holds.
    fn rows(&self, py: Python<'_>) -> PyResult<usize> {
        guard(|| Ok(py.detach(|| self.inner.rows())))
    }

    /// Creates a user; the first one gets the bootstrap role and needs no actor.
    #[pyo3(signature = (actor, username, password=None, options=None, now=None))]
    fn create_user<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        username: &Bound<'py, PyAny>,
        password: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let username = string(username, "username")?;
            let password = opt_string(password, "password")?;
            let options: UserOptions = typed_or_default(options, "options")?;
            let now = self::now(now)?;
            let user = py
                .detach(|| {
                    self.inner
                        .create_user(actor.as_ref(), &username, password.as_deref(), &options, now)
                })
                .or_raise()?;
            to_python(py, &user)
        })
    }

    /// One user, if `actor` may read it.
    fn get_user<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        user_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let user_id = string(user_id, "user_id")?;
            let user = py
                .detach(|| self.inner.get_user(actor.as_ref(), &user_id))
                .or_raise()?;
            to_python(py, &user)
        })
    }

    /// The users `actor` may read.
    fn list_users<'py>(&self, py: Python<'py>, actor: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let users = py.detach(|| self.inner.list_users(actor.as_ref())).or_raise()?;
            to_python(py, &users)
        })
    }

    /// Replaces a user's roles (needs `update` on the user without ownership).
    fn set_roles<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        user_id: &Bound<'py, PyAny>,
        roles: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let user_id = string(user_id, "user_id")?;
            let roles = string_list(roles, "roles")?;
            let user = py
                .detach(|| self.inner.set_roles(actor.as_ref(), &user_id, &roles))
                .or_raise()?;
            to_python(py, &user)
        })
    }

    /// Sets (or with None removes) a user's password.
    #[pyo3(signature = (actor, user_id, password))]
    fn set_password(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        user_id: &Bound<'_, PyAny>,
        password: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let user_id = string(user_id, "user_id")?;
            let password = opt_string(password, "password")?;
            py.detach(|| {
                self.inner
                    .set_password(actor.as_ref(), &user_id, password.as_deref())
            })
            .or_raise()
        })
    }

    /// Deletes a user, ending its sessions and revoking its API tokens.
    fn delete_user(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        user_id: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let user_id = string(user_id, "user_id")?;
            py.detach(|| self.inner.delete_user(actor.as_ref(), &user_id))
                .or_raise()
        })
    }

    /// A session for a username and password (`invalid_credentials` otherwise).
    #[pyo3(signature = (username, password, now=None))]
    fn login<'py>(
        &self,
        py: Python<'py>,
        username: &Bound<'py, PyAny>,
        password: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let username = string(username, "username")?;
            let password = string(password, "password")?;
            let now = self::now(now)?;
            let grant = py
                .detach(|| self.inner.login(&username, &password, now))
                .or_raise()?;
            to_python(py, &grant)
        })
    }

    /// Makes an API token for `owner` (roles default to the owner's).
    #[pyo3(signature = (actor, owner, roles=None, options=None, now=None))]
    fn create_api_token<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        owner: &Bound<'py, PyAny>,
        roles: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let owner = string(owner, "owner")?;
            let roles: Option<Vec<String>> = opt_typed(roles, "roles")?;
            let options: ApiTokenOptions = typed_or_default(options, "options")?;
            let now = self::now(now)?;
            let made = py
                .detach(|| {
                    self.inner
                        .create_api_token(actor.as_ref(), &owner, roles.as_deref(), &options, now)
                })
                .or_raise()?;
            to_python(py, &made)
        })
    }

    /// The API token records `actor` may read (of `owner`, or all).
    #[pyo3(signature = (actor, owner=None))]
    fn list_api_tokens<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let owner = opt_string(owner, "owner")?;
            let records = py
                .detach(|| self.inner.list_api_tokens(actor.as_ref(), owner.as_deref()))
                .or_raise()?;
            to_python(py, &records)
        })
    }

    /// active → suspended; returns the new record.
    fn suspend_api_token<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        token_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.transition(py, actor, token_id, tessera::Realm::suspend_api_token)
    }

    /// suspended → active; returns the new record.
    fn resume_api_token<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        token_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.transition(py, actor, token_id, tessera::Realm::resume_api_token)
    }

    /// → revoked (final), ending the sessions opened with it.
    fn revoke_api_token<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        token_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.transition(py, actor, token_id, tessera::Realm::revoke_api_token)
    }

    /// A new token like the old one; the old one is revoked.
    #[pyo3(signature = (actor, token_id, now=None))]
    fn replace_api_token<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        token_id: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let token_id = string(token_id, "token_id")?;
            let now = self::now(now)?;
            let made = py
                .detach(|| self.inner.replace_api_token(actor.as_ref(), &token_id, now))
                .or_raise()?;
            to_python(py, &made)
        })
    }

    /// A session opened with an API token secret (it keeps the token's limits).
    #[pyo3(signature = (api_token_secret, now=None))]
    fn open_session<'py>(
        &self,
        py: Python<'py>,
        api_token_secret: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let secret = string(api_token_secret, "api_token_secret")?;
            let now = self::now(now)?;
            let grant = py.detach(|| self.inner.open_session(&secret, now)).or_raise()?;
            to_python(py, &grant)
        })
    }

    /// Renews a live session token.
    #[pyo3(signature = (token, now=None))]
    fn renew<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let token = string(token, "token")?;
            let now = self::now(now)?;
            let grant = py.detach(|| self.inner.renew(&token, now)).or_raise()?;
            to_python(py, &grant)
        })
    }

    /// Ends the session of a token.
    #[pyo3(signature = (token, now=None))]
    fn close(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let token = string(token, "token")?;
            let now = self::now(now)?;
            py.detach(|| self.inner.close(&token, now)).or_raise()
        })
    }

    /// The `seq` of the last change record the realm holds (0 for none).
    fn seq(&self, py: Python<'_>) -> PyResult<u64> {
        guard(|| Ok(py.detach(|| self.inner.seq())))
    }

    /// The change records after `after_seq`, in order, each as JSON text
    /// (the same bytes in every binding).
    #[pyo3(signature = (after_seq=None))]
    fn changes(&self, py: Python<'_>, after_seq: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
        guard(|| {
            let after = seq_arg(after_seq)?;
            py.detach(|| self.inner.changes(after)).or_raise()
        })
    }

    /// Applies change records made elsewhere (each a dict or JSON text);
    /// returns the new `seq`. Whole or not at all.
    fn apply(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<u64> {
        guard(|| {
            let list = records
                .try_iter()
                .map_err(|_| argument_error("records: expected a list of change records"))?;
            let mut values = Vec::new();
            for (i, item) in list.enumerate() {
                values.push(convert::json_or_text(&item?, &format!("records[{i}]"))?);
            }
            py.detach(|| self.inner.apply(&values)).or_raise()
        })
    }

    /// Sets (or, with None, removes) the journal: a callable given each
    /// call's records (a list of JSON texts) that returns once they are
    /// durable, or raises (a `TesseraError` keeps its `code`; anything else
    /// becomes `store_unavailable`). The call then fails and the realm is
    /// unchanged. It runs under the realm's lock: it must not call the realm.
    fn set_journal(&self, journal: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            if journal.is_none() {
                self.inner.set_journal(None);
                return Ok(());
            }
            if !journal.is_callable() {
                return Err(argument_error("journal: expected a callable or None"));
            }
            self.inner
                .set_journal(Some(Arc::new(PyJournal(journal.clone().unbind()))));
            Ok(())
        })
    }

    /// Ends every session (raises the epoch).
    fn restart(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| py.detach(|| self.inner.restart()).or_raise())
    }

    /// The principal of an `Authorization` header: a session token, an API
    /// token, or (with a JWKS in the options) a provider JWT.
    #[pyo3(signature = (authorization, now=None))]
    fn authenticate<'py>(
        &self,
        py: Python<'py>,
        authorization: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let authorization = string(authorization, "authorization")?;
            let now = self::now(now)?;
            let run = || py.detach(|| self.inner.authenticate(&authorization, now));
            let (Some(set), Some(keys), Ok(at)) = (
                &self.key_set,
                self.inner.key_set(),
                tessera::token::checked_now(now),
            ) else {
                return principal_to_py(py, &run().or_raise()?);
            };
            let set = set.bind(py);
            if keys.needs_fetch(at) {
                set.call_method1("_refresh", (at, py.None()))?;
            }
            let p = match run() {
                Err(e) if e.code == "unknown_key" => {
                    match tessera::token::parse_authorization(&authorization) {
                        Ok(token) if keys.refetch_for(&token, at) => {
                            set.call_method1("_refresh", (at, token.as_str()))?;
                            run()
                        }
                        _ => Err(e),
                    }
                }
                other => other,
            }
            .or_raise()?;
            principal_to_py(py, &p)
        })
    }
}

type Transition =
    fn(&tessera::Realm, Option<&tessera::Principal>, &str) -> tessera::Result<tessera::token::ApiTokenRecord>;

impl Realm {
    fn transition<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        token_id: &Bound<'py, PyAny>,
        f: Transition,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let actor = opt_principal(actor, "actor")?;
            let token_id = string(token_id, "token_id")?;
            let record = py
                .detach(|| f(&self.inner, actor.as_ref(), &token_id))
                .or_raise()?;
            to_python(py, &record)
        })
    }
}

/// `after_seq`: a non-negative int, None meaning 0.
fn seq_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    match obj {
        None => Ok(0),
        Some(o) if o.is_none() => Ok(0),
        Some(o) if o.is_instance_of::<PyBool>() || !o.is_instance_of::<PyInt>() => {
            Err(argument_error("after_seq: expected a non-negative int"))
        }
        Some(o) => o
            .extract::<u64>()
            .map_err(|_| argument_error("after_seq: expected a non-negative int")),
    }
}

/// A Python callable as the realm's journal.
struct PyJournal(Py<PyAny>);

impl tessera::realm::Journal for PyJournal {
    fn commit(&self, records: &[String]) -> tessera::Result<()> {
        Python::attach(|py| {
            let result = self.0.bind(py).call1((records.to_vec(),));
            match result {
                Ok(_) => Ok(()),
                Err(e) => {
                    let value = e.value(py);
                    let code = value
                        .getattr("code")
                        .ok()
                        .and_then(|c| c.extract::<String>().ok())
                        .filter(|c| !c.is_empty());
                    Err(match code {
                        Some(code) => tessera::Error::realm(&code, value.to_string()),
                        None => tessera::Error::realm(
                            "store_unavailable",
                            format!(
                                "the store failed: {}: {value}",
                                value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                            ),
                        ),
                    })
                }
            }
        })
    }
}
