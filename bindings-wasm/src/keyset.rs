//! Key sets (SPEC §6.1.2) on the raw exports: the core's
//! [`tessera::token::KeySet`], which holds the parsed keys and decides
//! *whether* to fetch (cache time, `max-age`, cooldown, unknown `kid`) and
//! applies fetched bytes. The fetching itself is the JS layer's
//! (`npm/src/keyset.mjs`, with `fetch`): nothing here does I/O or decides.
//! Same conventions as the rest of the binding: JSON text in, JSON text out,
//! failures thrown as error JSON; `now` in whole seconds, checked by the core
//! (`checked_now`: milliseconds are refused with a hint).

use crate::{fail, seconds, RawEngine, RawPending};
use std::sync::Arc;
use tessera::token::{self, KeySet, KeySetOptions};
use wasm_bindgen::prelude::*;

/// A JWKS parsed and checked once, given or fetched by the JS layer.
#[wasm_bindgen]
pub struct RawKeySet {
    pub(crate) inner: Arc<KeySet>,
}

/// Fetch options as four numbers (`undefined`: the default), in the order
/// `timeout_seconds, max_bytes, cache_seconds, cooldown_seconds`: the JS
/// layer has checked their types and names (with `options.…` paths); the
/// core checks their ranges. Numbers, not JSON: no options deserialiser in
/// the modules.
fn options(values: &[f64]) -> Result<KeySetOptions, JsValue> {
    let mut o = KeySetOptions::default();
    let whole = |v: f64, what: &str| -> Result<i64, JsValue> {
        if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_991.0 {
            Ok(v as i64)
        } else {
            Err(fail(tessera::Error::argument(format!(
                "options.{what}: expected a whole number"
            ))))
        }
    };
    let get = |i: usize| values.get(i).copied().filter(|v| !v.is_nan());
    if let Some(v) = get(0) {
        o.timeout_seconds = v;
    }
    if let Some(v) = get(1) {
        o.max_bytes = usize::try_from(whole(v, "maxBytes")?.max(0)).unwrap_or(usize::MAX);
    }
    if let Some(v) = get(2) {
        o.cache_seconds = whole(v, "cacheSeconds")?;
    }
    if let Some(v) = get(3) {
        o.cooldown_seconds = whole(v, "cooldownSeconds")?;
    }
    Ok(o)
}

/// `now` for a key-set decision: the clock when absent; milliseconds refused.
fn at(now: Option<f64>) -> Result<i64, JsValue> {
    token::checked_now(seconds(now)?).map_err(fail)
}

fn wrap(set: tessera::Result<KeySet>) -> Result<RawKeySet, JsValue> {
    Ok(RawKeySet {
        inner: Arc::new(set.map_err(fail)?),
    })
}

#[wasm_bindgen]
impl RawKeySet {
    /// A given JWKS (JSON text), never fetched.
    #[wasm_bindgen(constructor)]
    pub fn new(jwks_json: &str) -> Result<RawKeySet, JsValue> {
        wrap(KeySet::from_slice(jwks_json.as_bytes()))
    }

    /// A set fetched from `url` (https, or http to loopback) when first needed.
    pub fn remote(url: &str, options: &[f64]) -> Result<RawKeySet, JsValue> {
        wrap(KeySet::remote(url, self::options(options)?))
    }

    /// A Cognito user pool's keys, bound to its issuer.
    pub fn cognito(region: &str, user_pool_id: &str, options: &[f64]) -> Result<RawKeySet, JsValue> {
        wrap(KeySet::cognito(region, user_pool_id, self::options(options)?))
    }

    /// `{issuer}/.well-known/openid-configuration` (the issuer's URL checked).
    pub fn discovery_url(issuer: &str) -> Result<String, JsValue> {
        KeySet::discovery_url(issuer).map_err(fail)
    }

    /// The set a discovery document names (its `issuer` must be `issuer`).
    pub fn from_discovery(issuer: &str, document: &[u8], options: &[f64]) -> Result<RawKeySet, JsValue> {
        wrap(KeySet::from_discovery(issuer, document, self::options(options)?))
    }

    /// Refuses a redirect to another scheme or host (`jwks_unavailable`).
    pub fn check_redirect(from: &str, to: &str) -> Result<(), JsValue> {
        KeySet::check_redirect(from, to).map_err(fail)
    }

    /// `now` as the core reads it (the clock when absent), or the
    /// milliseconds error: the JS layer decides and records at one `now`.
    pub fn now(now: Option<f64>) -> Result<f64, JsValue> {
        // Whole seconds since the epoch: exact in an f64.
        Ok(at(now)? as f64)
    }

    /// Whether a fetch is due at `now`.
    pub fn needs_fetch(&self, now: f64) -> Result<bool, JsValue> {
        Ok(self.inner.needs_fetch(at(Some(now))?))
    }

    /// Whether `token` names a `kid` the set lacks and a refetch is allowed at `now`.
    pub fn refetch_for(&self, token: &str, now: f64) -> Result<bool, JsValue> {
        Ok(self.inner.refetch_for(token, at(Some(now))?))
    }

    /// Applies a fetched body; throws `jwks_unavailable` (recorded, the last
    /// good set kept) if it is not a usable JWKS.
    pub fn apply(&self, body: &[u8], cache_control: Option<String>, now: f64) -> Result<(), JsValue> {
        self.inner
            .apply(body, cache_control.as_deref(), at(Some(now))?)
            .map_err(fail)
    }

    /// Records a failed fetch with its reason.
    pub fn failed(&self, message: &str, now: f64) -> Result<(), JsValue> {
        self.inner.failed(message, at(Some(now))?);
        Ok(())
    }

    /// Fetches applied or failed so far.
    pub fn attempts(&self) -> f64 {
        self.inner.attempts() as f64
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the set holds no key yet.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Until when the keys held now are used without a fetch (seconds,
    /// exclusive; `undefined` before the first good fetch; a given set:
    /// `Number.MAX_SAFE_INTEGER`).
    pub fn usable_until(&self) -> Option<f64> {
        self.inner
            .usable_until()
            .map(|t| t.min(9_007_199_254_740_991) as f64)
    }

    pub fn url(&self) -> Option<String> {
        self.inner.url().map(str::to_string)
    }

    pub fn issuer(&self) -> Option<String> {
        self.inner.issuer().map(str::to_string)
    }

    /// The fetch options: `[timeout_seconds, max_bytes, cache_seconds, cooldown_seconds]`.
    pub fn options(&self) -> Vec<f64> {
        let o = self.inner.options();
        vec![
            o.timeout_seconds,
            o.max_bytes as f64,
            o.cache_seconds as f64,
            o.cooldown_seconds as f64,
        ]
    }
}

/// Bytes of the buffer a token may be written into for
/// [`RawEngine::verify_jwt_with_input`]: most provider tokens fit (a Cognito
/// ID token is 1–2 KB); a longer one goes through `verify_jwt_with`.
#[cfg(feature = "server")]
const TOKEN_INPUT_LEN: usize = 4096;

/// See [`RawEngine::token_input_ptr`].
#[cfg(feature = "server")]
static TOKEN_INPUT: crate::Buffer<u8, TOKEN_INPUT_LEN> = crate::Buffer::new([0; TOKEN_INPUT_LEN]);

#[wasm_bindgen]
impl RawEngine {
    /// Where JS writes a token (UTF-8, by `TextEncoder.encodeInto`, one
    /// native copy) before [`RawEngine::verify_jwt_with_input`]: a string
    /// argument is copied by wasm-bindgen's glue one UTF-16 unit at a time,
    /// about 1.2 µs for a 700-character token against 0.1 µs. A static of
    /// the class, not a module export: bundlers refuse a named import that a
    /// page module lacks, never a missing property.
    #[cfg(feature = "server")]
    pub fn token_input_ptr() -> *mut u8 {
        TOKEN_INPUT.ptr()
    }

    /// How many bytes [`RawEngine::token_input_ptr`]'s buffer holds.
    #[cfg(feature = "server")]
    pub fn token_input_len() -> usize {
        TOKEN_INPUT_LEN
    }

    /// [`verify_jwt_with`](Self::verify_jwt_with) of the `len` bytes JS
    /// wrote at [`RawEngine::token_input_ptr`].
    #[cfg(feature = "server")]
    pub fn verify_jwt_with_input(
        &self,
        len: usize,
        keys: &RawKeySet,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        // SAFETY: see `crate::Buffer`; no JS writes the buffer while this lives.
        let buf: &[u8; TOKEN_INPUT_LEN] = unsafe { &*TOKEN_INPUT.get() };
        let token = buf
            .get(..len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| {
                fail(tessera::Error::argument(
                    "token: the input buffer holds no UTF-8 text of that length",
                ))
            })?;
        self.verify_jwt_with(token, keys, now)
    }

    /// A provider JWT checked with a key set through the installed
    /// synchronous primitive (`unsupported_runtime` without one). Never
    /// fetches. Answered as `[from, until, principal]` (see `verify_jwt_window`),
    /// `until` no later than the set's keys are used. In the server module
    /// only: the browser module never has a synchronous primitive.
    #[cfg(feature = "server")]
    pub fn verify_jwt_with(
        &self,
        token: &str,
        keys: &RawKeySet,
        now: Option<f64>,
    ) -> Result<String, JsValue> {
        if !token::has_sync_crypto() {
            return Err(fail(token::unsupported_runtime()));
        }
        let now = seconds(now)?;
        // The JS layer keeps each engine's verified tokens (tokens.mjs), so
        // the set is not asked to keep a second copy.
        let principal = self
            .inner
            .verify_jwt_with_unremembered(token, &keys.inner, now)
            .map_err(fail)?;
        let (from, until) = self.window_with(&principal, &keys.inner);
        crate::windowed_json(from, until, &crate::JsPrincipal(&principal))
    }

    /// Every check of `verify_jwt_with` but the signature's (WebCrypto answers it).
    pub fn begin_verify_jwt_with(
        &self,
        token: &str,
        keys: &RawKeySet,
        now: Option<f64>,
    ) -> Result<RawPending, JsValue> {
        let now = seconds(now)?;
        let pending = self
            .inner
            .begin_verify_jwt_with(token, &keys.inner, now)
            .map_err(fail)?;
        let mut window = (0, 0);
        let pending = pending.map(|principal| {
            window = self.window_with(&principal, &keys.inner);
            serde_json::to_string(&crate::JsPrincipal(&principal)).unwrap_or_default()
        });
        Ok(RawPending::new(pending, Some(self.inner.clone()), window))
    }
}

impl RawEngine {
    /// `[from, until)` of a principal's time checks, `until` capped at the
    /// set's cache time: an answer kept by the JS layer never outlives the keys.
    fn window_with(&self, principal: &tessera::Principal, keys: &KeySet) -> (i64, i64) {
        let (from, until) = match &principal.claims {
            Some(serde_json::Value::Object(claims)) => self.inner.jwt_valid_between(claims),
            _ => (0, 0),
        };
        let until = until.min(keys.usable_until().unwrap_or(i64::MIN));
        // Exact in an f64 on the JS side.
        let clamp = |t: i64| t.clamp(-9_007_199_254_740_991, 9_007_199_254_740_991);
        (clamp(from), clamp(until))
    }
}
