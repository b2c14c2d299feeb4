//! `tessera._native.KeySet`: the core's [`tessera::token::KeySet`] (SPEC
//! §6.1.2). The core decides whether to fetch and applies fetched bytes;
//! `tessera.KeySet` (python/tessera/_keyset.py) does the fetching with
//! urllib, and `Engine.verify_jwt` calls its `_refresh` when the core says a
//! fetch is due.

use crate::convert;
use crate::errors::{guard, OrRaise};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::sync::Arc;
use tessera::token::{KeySet as CoreKeySet, KeySetOptions};

/// A JWKS parsed and checked once; fetched from a URL when made by
/// `tessera.KeySet.from_url` / `cognito` / `oidc`. Use `tessera.KeySet`.
#[pyclass(module = "tessera._native", name = "KeySet", frozen, subclass)]
pub struct KeySet {
    pub(crate) inner: Arc<CoreKeySet>,
}

/// JSON text given as `str`, `bytes` or `bytearray`, else `None`.
pub(crate) fn json_bytes(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<Vec<u8>>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Some(b.to_vec()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(convert::string(s.as_any(), what)?.as_bytes().to_vec()));
    }
    Ok(None)
}

fn options(obj: Option<&Bound<'_, PyAny>>) -> PyResult<KeySetOptions> {
    // Accept ints where floats are expected: `timeout_seconds=5`.
    crate::typed_or_default(obj, "options")
}

fn body(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    json_bytes(obj, "body")?.ok_or_else(|| crate::errors::argument_error("body: expected bytes"))
}

impl KeySet {
    fn wrap(inner: CoreKeySet) -> KeySet {
        KeySet {
            inner: Arc::new(inner),
        }
    }
}

#[pymethods]
impl KeySet {
    /// A given JWKS: a dict, or JSON text (`str` or `bytes`). The keyword
    /// forms are `tessera.KeySet`'s constructors: `_remote=url`,
    /// `_cognito=(region, user_pool_id)`, `_discovery=(issuer, document)`,
    /// each with `options`.
    #[new]
    #[pyo3(signature = (jwks=None, *, _remote=None, _cognito=None, _discovery=None, options=None))]
    fn new(
        py: Python<'_>,
        jwks: Option<&Bound<'_, PyAny>>,
        _remote: Option<&Bound<'_, PyAny>>,
        _cognito: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        _discovery: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        options: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<KeySet> {
        guard(|| {
            let set = if let Some(url) = _remote {
                let url = convert::string(url, "url")?;
                CoreKeySet::remote(&url, self::options(options)?)
            } else if let Some((region, pool)) = &_cognito {
                let region = convert::string(region, "region")?;
                let pool = convert::string(pool, "user_pool_id")?;
                CoreKeySet::cognito(&region, &pool, self::options(options)?)
            } else if let Some((issuer, document)) = &_discovery {
                let issuer = convert::string(issuer, "issuer")?;
                let doc = body(document)?;
                CoreKeySet::from_discovery(&issuer, &doc, self::options(options)?)
            } else {
                let jwks = jwks.ok_or_else(|| crate::errors::argument_error("jwks: a JWKS is required"))?;
                match json_bytes(jwks, "jwks")? {
                    Some(text) => py.detach(|| CoreKeySet::from_slice(&text)),
                    None => {
                        let v = convert::value(jwks, "jwks")?;
                        py.detach(|| CoreKeySet::new(&v))
                    }
                }
            }
            .or_raise()?;
            Ok(KeySet::wrap(set))
        })
    }

    /// `{issuer}/.well-known/openid-configuration`.
    #[staticmethod]
    fn _discovery_url(issuer: &Bound<'_, PyAny>) -> PyResult<String> {
        guard(|| CoreKeySet::discovery_url(&convert::string(issuer, "issuer")?).or_raise())
    }

    /// Refuses a redirect to another scheme or host (`TokenError`
    /// `jwks_unavailable`).
    #[staticmethod]
    fn _check_redirect(origin: &str, to: &str) -> PyResult<()> {
        guard(|| CoreKeySet::check_redirect(origin, to).or_raise())
    }

    /// Whether a fetch is due at `now` (seconds).
    fn _needs_fetch(&self, now: i64) -> bool {
        self.inner.needs_fetch(now)
    }

    /// Whether `token` names a kid this set lacks and a refetch is allowed.
    fn _refetch_for(&self, token: &str, now: i64) -> bool {
        self.inner.refetch_for(token, now)
    }

    /// Applies a fetched body; raises `TokenError` `jwks_unavailable` (and
    /// keeps the last good set) if it is not a usable JWKS.
    #[pyo3(signature = (body, cache_control, now))]
    fn _apply(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        cache_control: Option<&str>,
        now: i64,
    ) -> PyResult<()> {
        guard(|| {
            let bytes = self::body(body)?;
            let inner = &self.inner;
            py.detach(|| inner.apply(&bytes, cache_control, now)).or_raise()
        })
    }

    /// Records a failed fetch.
    fn _failed(&self, message: &str, now: i64) {
        self.inner.failed(message, now)
    }

    /// Fetches applied or failed so far.
    #[getter]
    fn attempts(&self) -> u64 {
        self.inner.attempts()
    }

    /// The URL fetched (`None` for a given JWKS).
    #[getter]
    fn url(&self) -> Option<String> {
        self.inner.url().map(str::to_string)
    }

    /// The one issuer this set vouches for (Cognito, OIDC), or `None`.
    #[getter]
    fn issuer(&self) -> Option<String> {
        self.inner.issuer().map(str::to_string)
    }

    /// The fetch options as a dict.
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, self.inner.options())
    }

    /// Keys held now.
    fn __len__(&self) -> usize {
        self.inner.len()
    }
}
