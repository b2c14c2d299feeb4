//! `tessera._native`: the compiled half of the Python package `tessera`
//! (PyPI `tessera-policy`).
//!
//! This crate only converts: Python arguments → the core's inputs (through
//! `serde_json::Value` and the core's own readers), the core's results →
//! Python objects, and core errors → the exception classes of
//! `tessera._errors`. The package `tessera` (python/tessera/) adds the
//! policy-source rule (dict, JSON text or path), `Explanation` and the
//! documented, typed surface. Pure-Rust work that takes time (policy
//! compilation, token cryptography, batches, every `Realm` call) runs with
//! the GIL released.

mod analysis;
mod convert;
mod decision;
mod errors;
mod keyset;
mod realm;

use convert::{now, opt_string, string, to_py, to_python};
use decision::Decision;
use errors::{argument_error, guard, OrRaise};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tessera::token::{ApiTokenOptions, ApiTokenRecord, Revocations, SessionOptions};
use tessera::{Label, OperationContext, Principal, Resource};

fn principal(obj: &Bound<'_, PyAny>) -> PyResult<Principal> {
    Principal::from_json(&convert::value(obj, "principal")?).or_raise()
}

/// `None` → no principal (an anonymous caller), else a principal dict.
pub(crate) fn opt_principal(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<Principal>> {
    if obj.is_none() {
        return Ok(None);
    }
    let v = convert::value(obj, what)?;
    tessera::argument::from_value(&v, what).map(Some).or_raise()
}

/// A session key: a JWK (dict or JSON text), or a raw HS256 secret as
/// `bytes`/`bytearray` (SPEC §6.2).
pub(crate) fn session_key(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    if let Ok(b) = obj.cast::<pyo3::types::PyBytes>() {
        return Ok(tessera::token::secret_jwk(b.as_bytes()));
    }
    if let Ok(b) = obj.cast::<pyo3::types::PyByteArray>() {
        return Ok(tessera::token::secret_jwk(&b.to_vec()));
    }
    convert::json_or_text(obj, "key")
}

fn resource(obj: &Bound<'_, PyAny>) -> PyResult<Resource> {
    resource_named(obj, "resource")
}

/// A resource dict: the fast reading when it is a plain, well-formed dict,
/// else the strict one (which also produces the error for a bad one).
fn resource_named(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Resource> {
    if let Some(r) = convert::fast_resource(obj) {
        return Ok(r);
    }
    tessera::argument::from_value(&convert::value(obj, what)?, what).or_raise()
}

/// Reads `T` from a JSON value with the core's serde shape; a wrong shape is
/// an `ArgumentError` naming `what`.
pub(crate) fn typed<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let v = convert::value(obj, what)?;
    tessera::argument::from_value(&v, what).or_raise()
}

/// `None` or absent → `T::default()`.
pub(crate) fn typed_or_default<T: DeserializeOwned + Default>(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<T> {
    match obj {
        None => Ok(T::default()),
        Some(o) if o.is_none() => Ok(T::default()),
        Some(o) => typed(o, what),
    }
}

pub(crate) fn opt_typed<T: DeserializeOwned>(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<T>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => typed(o, what).map(Some),
    }
}

pub(crate) fn string_list(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    typed(obj, what)
}

/// A loaded, compiled policy (SPEC §2) and every operation on it.
///
/// Use `tessera.Engine`, which also reads a policy from a path. Safe to share
/// across threads; `load` replaces the policy atomically.
#[pyclass(module = "tessera._native", name = "Engine", frozen, subclass)]
pub struct Engine {
    /// Its own engine, or the one a realm shares (`Realm.engine`).
    inner: Arc<tessera::Engine>,
}

#[pymethods]
impl Engine {
    /// Loads and compiles `policy`: a dict (a JSON object) or JSON text. (A
    /// native `Realm` gives that realm's engine: `tessera.Realm.engine`.)
    #[new]
    fn new(py: Python<'_>, policy: &Bound<'_, PyAny>) -> PyResult<Engine> {
        guard(|| {
            if let Ok(realm) = policy.cast::<realm::Realm>() {
                return Ok(Engine {
                    inner: realm.get().inner.shared_engine(),
                });
            }
            let document = convert::policy(policy)?;
            let engine = py.detach(|| tessera::Engine::new(&document)).or_raise()?;
            Ok(Engine {
                inner: Arc::new(engine),
            })
        })
    }

    /// Replaces the policy atomically; on error the old policy stays in force.
    fn load(&self, py: Python<'_>, policy: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            let document = convert::policy(policy)?;
            py.detach(|| self.inner.load(&document)).or_raise()
        })
    }

    /// Parses a permission label against this policy's actions and subjects.
    fn parse_label<'py>(&self, py: Python<'py>, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let text = string(text, "text")?;
            to_python(py, &self.inner.parse_label(&text).or_raise()?)
        })
    }

    /// Decides whether `principal` may do `action` on `resource` (SPEC §4).
    fn authorize(
        &self,
        principal: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        resource: &Bound<'_, PyAny>,
    ) -> PyResult<Decision> {
        guard(|| {
            let p = self::principal(principal)?;
            let action = string(action, "action")?;
            let r = self::resource(resource)?;
            Ok(Decision::of(self.inner.authorize(&p, &action, &r).or_raise()?))
        })
    }

    /// The decision plus effective roles, unknown roles and every matching
    /// rule, as the SPEC's JSON shape (`tessera.Engine.explain` wraps it).
    fn _explain<'py>(
        &self,
        py: Python<'py>,
        principal: &Bound<'py, PyAny>,
        action: &Bound<'py, PyAny>,
        resource: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let p = self::principal(principal)?;
            let action = string(action, "action")?;
            let r = self::resource(resource)?;
            to_python(py, &self.inner.explain(&p, &action, &r).or_raise()?)
        })
    }

    /// The actions `principal` may take on `resource`, in the policy's order.
    fn capabilities(
        &self,
        principal: &Bound<'_, PyAny>,
        resource: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<String>> {
        guard(|| {
            let p = self::principal(principal)?;
            let r = self::resource(resource)?;
            self.inner.capabilities(&p, &r).or_raise()
        })
    }

    /// Decides a call of an operation from the policy's `operations` table
    /// (SPEC §5). `principal` None is an anonymous caller.
    #[pyo3(signature = (principal, operation, context=None))]
    fn authorize_operation(
        &self,
        principal: &Bound<'_, PyAny>,
        operation: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        guard(|| {
            let p = if principal.is_none() {
                None
            } else {
                Some(self::principal(principal)?)
            };
            let operation = string(operation, "operation")?;
            let ctx: OperationContext = typed_or_default(context, "context")?;
            Ok(Decision::of(
                self.inner
                    .authorize_operation(p.as_ref(), &operation, &ctx)
                    .or_raise()?,
            ))
        })
    }

    /// Resolves `principal` once (labels parsed, roles expanded) for many
    /// fast decisions.
    fn prepare(&self, principal: &Bound<'_, PyAny>) -> PyResult<PreparedPrincipal> {
        guard(|| {
            let p = self::principal(principal)?;
            let prepared = self.inner.prepare(&p).or_raise()?;
            Ok(PreparedPrincipal {
                engine: self.inner.clone(),
                prepared,
            })
        })
    }

    /// One boolean per `(action, resource)` request, decided with the GIL
    /// released. `prepared` may also be a principal dict (prepared once here).
    fn authorize_batch(
        &self,
        py: Python<'_>,
        prepared: &Bound<'_, PyAny>,
        requests: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<bool>> {
        guard(|| {
            let owned;
            let prepared: &tessera::PreparedPrincipal = match prepared.cast::<PreparedPrincipal>() {
                Ok(p) => &p.get().prepared,
                Err(_) => {
                    owned = self.inner.prepare(&self::principal(prepared)?).or_raise()?;
                    &owned
                }
            };
            let mut batch: Vec<(String, Resource)> = Vec::new();
            let iter = requests
                .try_iter()
                .map_err(|_| argument_error("requests: expected an iterable of (action, resource) pairs"))?;
            for (i, item) in iter.enumerate() {
                let item = item.map_err(|e| argument_error(format!("requests[{i}]: {e}")))?;
                let pair = item
                    .cast::<PyTuple>()
                    .map(|t| t.as_any().clone())
                    .or_else(|_| item.cast::<PyList>().map(|l| l.as_any().clone()))
                    .map_err(|_| {
                        argument_error(format!("requests[{i}]: expected an (action, resource) pair"))
                    })?;
                if pair.len().ok() != Some(2) {
                    return Err(argument_error(format!(
                        "requests[{i}]: expected an (action, resource) pair"
                    )));
                }
                let action = pair.get_item(0)?;
                let res = pair.get_item(1)?;
                let action = match action.cast_exact::<pyo3::types::PyString>() {
                    Ok(_) => string(&action, "action")?.into_owned(),
                    Err(_) => string(&action, &format!("requests[{i}][0]"))?.into_owned(),
                };
                let res = match convert::fast_resource(&res) {
                    Some(r) => r,
                    None => resource_named(&res, &format!("requests[{i}][1]"))?,
                };
                batch.push((action, res));
            }
            let engine = &self.inner;
            // One policy answers the whole batch, even across a concurrent `load`.
            Ok(py.detach(|| {
                engine.is_allowed_batch(prepared, batch.iter().map(|(action, r)| (action.as_str(), r)))
            }))
        })
    }

    /// The policy document in force, as it was loaded (a fresh dict each call).
    fn policy_document<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_py(py, self.inner.policy().document()))
    }

    // ------------------------------------------------------------- tokens

    /// How many verified signatures the engine remembers (at most 4096).
    fn token_cache_len(&self) -> usize {
        self.inner.token_cache_len()
    }

    /// Forgets every verified signature; the next verification of each token
    /// redoes the cryptography. Never needed for correctness.
    fn clear_token_cache(&self) {
        self.inner.clear_token_cache()
    }

    /// Verifies a provider JWT against `jwks` (a `KeySet`, a dict, or JSON
    /// text as `str`/`bytes`) and the policy's `tokens.jwt` (SPEC §6.1) and
    /// returns its principal. GIL released for the cryptography.
    ///
    /// With a remote `KeySet` and `fetch=True` (the default), a fetch the
    /// set says is due runs first (its `_refresh`, with the GIL released
    /// while waiting on the network), and an unknown `kid` refetches once
    /// per cooldown. `fetch=False` never fetches.
    #[pyo3(signature = (token, jwks, now=None, *, fetch=true))]
    fn verify_jwt<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
        jwks: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        fetch: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let token = string(token, "token")?;
            let now = self::now(now)?;
            if let Ok(set) = jwks.cast::<keyset::KeySet>() {
                let keys = &set.get().inner;
                let engine = &self.inner;
                // A token the set remembers costs about a microsecond: not
                // worth releasing and retaking the GIL for.
                let verify = || {
                    if keys.remembers(&token) {
                        engine.verify_jwt_with(&token, keys, now)
                    } else {
                        py.detach(|| engine.verify_jwt_with(&token, keys, now))
                    }
                };
                // A `now` that is really milliseconds fails below without a fetch.
                let at = tessera::token::checked_now(now).ok();
                if let (true, Some(at)) = (fetch, at) {
                    if keys.needs_fetch(at) {
                        jwks.call_method1("_refresh", (at, py.None()))?;
                    }
                }
                let p = match verify() {
                    Err(e)
                        if fetch
                            && e.code == "unknown_key"
                            && at.is_some_and(|t| keys.refetch_for(&token, t)) =>
                    {
                        jwks.call_method1("_refresh", (at, token.as_ref()))?;
                        verify()
                    }
                    other => other,
                }
                .or_raise()?;
                return convert::principal_to_py(py, &p);
            }
            let jwks = match keyset::json_bytes(jwks, "jwks")? {
                Some(text) => serde_json::from_slice(&text)
                    .map_err(|e| errors::argument_error(format!("jwks: not valid JSON: {e}")))?,
                None => convert::value(jwks, "jwks")?,
            };
            let p = py
                .detach(|| self.inner.verify_jwt(&token, &jwks, now))
                .or_raise()?;
            convert::principal_to_py(py, &p)
        })
    }

    /// Issues a session token for `principal`, signed with `key` (SPEC §6.2).
    #[pyo3(signature = (principal, key, now=None, options=None))]
    fn issue_session<'py>(
        &self,
        py: Python<'py>,
        principal: &Bound<'py, PyAny>,
        key: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let p = self::principal(principal)?;
            let key = session_key(key)?;
            let now = self::now(now)?;
            let options: SessionOptions = typed_or_default(options, "options")?;
            let grant = py
                .detach(|| self.inner.issue_session(&p, &key, now, &options))
                .or_raise()?;
            to_python(py, &grant)
        })
    }

    /// Renews a live session token (SPEC §6.2).
    #[pyo3(signature = (token, key, now=None, revocations=None))]
    fn renew_session<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
        key: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        revocations: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let token = string(token, "token")?;
            let key = session_key(key)?;
            let now = self::now(now)?;
            let revocations: Option<Revocations> = opt_typed(revocations, "revocations")?;
            let grant = py
                .detach(|| self.inner.renew_session(&token, &key, now, revocations.as_ref()))
                .or_raise()?;
            to_python(py, &grant)
        })
    }

    /// Verifies a session token and returns its principal (SPEC §6.2).
    #[pyo3(signature = (token, key, now=None, revocations=None))]
    fn verify_session<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
        key: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        revocations: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let token = string(token, "token")?;
            let key = session_key(key)?;
            let now = self::now(now)?;
            let revocations: Option<Revocations> = opt_typed(revocations, "revocations")?;
            let p = py
                .detach(|| self.inner.verify_session(&token, &key, now, revocations.as_ref()))
                .or_raise()?;
            convert::principal_to_py(py, &p)
        })
    }

    /// Makes an API token (SPEC §6.3): `{secret, record}`; show the secret
    /// once, store only the record.
    #[pyo3(signature = (owner, roles, now=None, options=None))]
    fn create_api_token<'py>(
        &self,
        py: Python<'py>,
        owner: &Bound<'py, PyAny>,
        roles: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let owner = string(owner, "owner")?;
            let roles = string_list(roles, "roles")?;
            let now = self::now(now)?;
            let options: ApiTokenOptions = typed_or_default(options, "options")?;
            let created = py
                .detach(|| self.inner.create_api_token(&owner, &roles, now, &options))
                .or_raise()?;
            to_python(py, &created)
        })
    }

    /// Finds the record of an API token secret and returns its principal
    /// (SPEC §6.3).
    #[pyo3(signature = (secret, records, now=None))]
    fn verify_api_token<'py>(
        &self,
        py: Python<'py>,
        secret: &Bound<'py, PyAny>,
        records: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let secret = string(secret, "secret")?;
            let records: Vec<ApiTokenRecord> = typed(records, "records")?;
            let now = self::now(now)?;
            let p = py
                .detach(|| self.inner.verify_api_token(&secret, &records, now))
                .or_raise()?;
            convert::principal_to_py(py, &p)
        })
    }

    /// A new token with the old one's owner, roles, limits and lifespan, and
    /// the old record revoked: `(new_token, revoked_record)`.
    #[pyo3(signature = (record, now=None))]
    fn replace_api_token<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        guard(|| {
            let record: ApiTokenRecord = typed(record, "record")?;
            let now = self::now(now)?;
            let (created, revoked) = py
                .detach(|| self.inner.replace_api_token(&record, now))
                .or_raise()?;
            PyTuple::new(py, [to_python(py, &created)?, to_python(py, &revoked)?])
        })
    }
}

/// A principal resolved once against an engine's policy: the fast path.
///
/// Made by `Engine.prepare`. Immutable and safe to share across threads. If
/// the engine's policy is replaced later, decisions follow the new policy
/// (the principal is resolved again for each call until re-prepared).
#[pyclass(module = "tessera", frozen)]
pub struct PreparedPrincipal {
    engine: Arc<tessera::Engine>,
    prepared: tessera::PreparedPrincipal,
}

#[pymethods]
impl PreparedPrincipal {
    /// The hot check: strings in, a bool out; no dict is converted and no
    /// `Decision` is built. `type` is the resource type; `id` and `owner`
    /// describe one instance (both None: a type-level request).
    #[pyo3(signature = (action, r#type, id=None, owner=None))]
    fn is_allowed(
        &self,
        action: &Bound<'_, PyAny>,
        r#type: &Bound<'_, PyAny>,
        id: Option<&Bound<'_, PyAny>>,
        owner: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        guard(|| {
            let action = string(action, "action")?;
            let kind = string(r#type, "type")?;
            let id = opt_string(id, "id")?;
            let owner = opt_string(owner, "owner")?;
            Ok(self
                .engine
                .is_allowed(&self.prepared, &action, &kind, id.as_deref(), owner.as_deref()))
        })
    }

    /// The full decision for `action` on `resource` (a dict).
    fn authorize(&self, action: &Bound<'_, PyAny>, resource: &Bound<'_, PyAny>) -> PyResult<Decision> {
        guard(|| {
            let action = string(action, "action")?;
            let r = self::resource(resource)?;
            Ok(Decision::of(self.engine.authorize_prepared(
                &self.prepared,
                &action,
                &r,
            )))
        })
    }

    /// The principal this was prepared from (a new dict each time).
    #[getter]
    fn principal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_python(py, self.prepared.principal()))
    }

    /// The effective roles, breadth-first from the principal's own.
    #[getter]
    fn effective_roles(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.prepared.effective_roles()))
    }

    fn __repr__(&self) -> String {
        let p = self.prepared.principal();
        format!(
            "PreparedPrincipal(id={}, effective_roles={:?})",
            p.id.as_deref()
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|| "None".into()),
            self.prepared.effective_roles()
        )
    }
}

/// Parses a permission label with the default actions and subjects (SPEC §1).
#[pyfunction]
fn parse_label<'py>(py: Python<'py>, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let text = string(text, "text")?;
        to_python(py, &tessera::parse_label(&text, None).or_raise()?)
    })
}

/// The canonical text of a parsed label (a dict as `parse_label` returns).
#[pyfunction]
fn format_label(label: &Bound<'_, PyAny>) -> PyResult<String> {
    guard(|| {
        let label: Label = typed(label, "label")?;
        Ok(label.format())
    })
}

/// The token of an `Authorization` header value (SPEC §6.4).
#[pyfunction]
fn parse_authorization(header: &Bound<'_, PyAny>) -> PyResult<String> {
    guard(|| {
        let header = string(header, "header")?;
        tessera::token::parse_authorization(&header).or_raise()
    })
}

fn transition<'py>(
    py: Python<'py>,
    record: &Bound<'py, PyAny>,
    f: fn(&ApiTokenRecord) -> tessera::Result<ApiTokenRecord>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let record: ApiTokenRecord = typed(record, "record")?;
        to_python(py, &f(&record).or_raise()?)
    })
}

/// active → suspended, as a new record.
#[pyfunction]
fn suspend_api_token<'py>(py: Python<'py>, record: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    transition(py, record, ApiTokenRecord::suspend)
}

/// suspended → active, as a new record.
#[pyfunction]
fn resume_api_token<'py>(py: Python<'py>, record: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    transition(py, record, ApiTokenRecord::resume)
}

/// active or suspended → revoked (final), as a new record.
#[pyfunction]
fn revoke_api_token<'py>(py: Python<'py>, record: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    transition(py, record, ApiTokenRecord::revoke)
}

/// Which cryptography backend verifies signatures (`aws-lc-rs` natively).
#[pyfunction]
fn crypto_backend() -> &'static str {
    tessera::token::crypto_backend()
}

/// Test hook: panics inside the guard, to check that a Rust panic becomes
/// `tessera.InternalError` rather than `PanicException`.
#[pyfunction]
fn _panic_for_test() -> PyResult<()> {
    guard(|| -> PyResult<()> { panic!("deliberate panic for the test suite") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The core's table of decision reasons (SPEC §4–5), in its order.
    let reasons: Vec<&str> = tessera::Reason::ALL.iter().map(|r| r.as_str()).collect();
    m.add("REASONS", PyTuple::new(m.py(), reasons)?)?;
    m.add_class::<Engine>()?;
    m.add_class::<PreparedPrincipal>()?;
    m.add_class::<Decision>()?;
    m.add_class::<realm::Realm>()?;
    m.add_class::<keyset::KeySet>()?;
    m.add_function(wrap_pyfunction!(parse_label, m)?)?;
    m.add_function(wrap_pyfunction!(format_label, m)?)?;
    m.add_function(wrap_pyfunction!(parse_authorization, m)?)?;
    m.add_function(wrap_pyfunction!(suspend_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(resume_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(revoke_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(crypto_backend, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    analysis::register(m)?;
    Ok(())
}
