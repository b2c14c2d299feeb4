//! Key sets (SPEC §6.1.2): a JWKS parsed and checked once, and the cache
//! rules of a JWKS fetched from a URL — without any I/O.
//!
//! The core decides *whether* to fetch ([`KeySet::needs_fetch`],
//! [`KeySet::refetch_for`]) and applies what the host fetched
//! ([`KeySet::apply`], [`KeySet::failed`]); the host (Python's urllib,
//! JavaScript's `fetch`) does the request with [`KeySet::options`]'s timeout
//! and size limit, and shares one fetch between concurrent verifications by
//! comparing [`KeySet::attempts`] before and after taking its own lock.
//!
//! Rules:
//! - a fetched set is used until `cache_seconds` (default 600) or the
//!   response's `max-age`, whichever is shorter, but never less than
//!   `cooldown_seconds` (default 30), so that a `max-age=0` server is not
//!   asked on every call;
//! - a `kid` the set does not hold asks for one refetch, at most once per
//!   cooldown (counted from the last attempt, good or bad);
//! - a failed fetch (`jwks_unavailable`) keeps the last good set in use until
//!   it expires;
//! - every token verified through a set is remembered by the set (its
//!   decoded header and claims and the key it verified with, in a
//!   `memo::TokenMemo`), so the next verification of the same token skips
//!   decoding and cryptography while its claims are checked again; the memory
//!   goes with the set when keys change.

use super::jose::{self, Alg, VerifyKey};
use super::memo::TokenMemo;
use super::prepared::{self, Prepared};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

/// How a remote key set is fetched and cached (SPEC §6.1.2 defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySetOptions {
    /// Whole request, connection to last byte. Default 5.
    pub timeout_seconds: f64,
    /// Largest response body accepted. Default 524288 (512 KiB).
    pub max_bytes: usize,
    /// Longest a fetched set is used before it is fetched again. Default 600.
    pub cache_seconds: i64,
    /// Least time between two fetches. Default 30.
    pub cooldown_seconds: i64,
}

impl Default for KeySetOptions {
    fn default() -> Self {
        KeySetOptions {
            timeout_seconds: 5.0,
            max_bytes: 524_288,
            cache_seconds: 600,
            cooldown_seconds: 30,
        }
    }
}

impl KeySetOptions {
    fn check(&self) -> Result<()> {
        if !(self.timeout_seconds.is_finite() && self.timeout_seconds > 0.0) {
            return Err(Error::argument(
                "key set options: `timeout_seconds` must be a positive number",
            ));
        }
        if self.max_bytes == 0 {
            return Err(Error::argument("key set options: `max_bytes` must be positive"));
        }
        if !(0..=super::config::MAX_SECONDS).contains(&self.cache_seconds)
            || !(0..=super::config::MAX_SECONDS).contains(&self.cooldown_seconds)
        {
            return Err(Error::argument(
                "key set options: `cache_seconds` and `cooldown_seconds` are whole seconds, 0 or more",
            ));
        }
        Ok(())
    }
}

/// A JWKS parsed and checked once, either given (never fetched) or fetched
/// by the host from a URL under the cache rules of SPEC §6.1.2.
///
/// ```
/// use serde_json::json;
/// use tessera::token::KeySet;
/// let set = KeySet::new(&json!({"keys": [{"kty": "oct", "kid": "a",
///     "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]})).unwrap();
/// assert!(!set.needs_fetch(1_700_000_000));
/// let remote = KeySet::cognito("us-east-1", "us-east-1_Example", Default::default()).unwrap();
/// assert_eq!(remote.url(), Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json"));
/// assert!(remote.needs_fetch(1_700_000_000));
/// ```
pub struct KeySet {
    url: Option<String>,
    issuer: Option<String>,
    options: KeySetOptions,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Keys>>,
    /// When `current` stops being used (`i64::MAX` for a given set).
    expires_at: i64,
    last_attempt: Option<i64>,
    last_error: Option<String>,
    attempts: u64,
}

/// One parsed JWKS and what was learnt from it.
pub(crate) struct Keys {
    keys: Vec<Map<String, Value>>,
    /// Keys that passed `jose::verify_key`, by position in `keys` and
    /// algorithm: checked once per set, not once per token.
    checked: Mutex<HashMap<(usize, Alg), VerifyKey>>,
    /// Keys parsed by the native backend, by thumbprint and algorithm.
    prepared: Mutex<HashMap<([u8; 32], Alg), ParsedKey>>,
    tokens: TokenMemo<Verified>,
}

/// A key as the native backend parsed it (`None`: it cannot keep it parsed).
type ParsedKey = Option<Arc<Prepared>>;

/// A token whose signature verified with this set: its decoded parts.
pub(crate) struct Verified {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub alg: Alg,
    /// The key it verified with (a host that is asked for signatures, as
    /// WebCrypto is, is told a remembered token needs no asking).
    pub key: VerifyKey,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("KeySet")
            .field("url", &self.url)
            .field("issuer", &self.issuer)
            .field("keys", &state.current.as_ref().map(|k| k.keys.len()))
            .field("attempts", &state.attempts)
            .finish()
    }
}

impl Keys {
    fn parse(jwks: &Value) -> Result<Keys> {
        let keys = jose::jwks_keys(jwks)?.into_iter().cloned().collect();
        Ok(Keys {
            keys,
            checked: Mutex::new(HashMap::new()),
            prepared: Mutex::new(HashMap::new()),
            tokens: TokenMemo::default(),
        })
    }

    pub(crate) fn maps(&self) -> Vec<&Map<String, Value>> {
        self.keys.iter().collect()
    }

    /// The key a token with this `kid` and `alg` verifies with (RFC 7517
    /// selection, `jose::select_key`), checked as `jose::verify_key` checks
    /// it; a key that passed is kept, a key that failed is checked again
    /// next time (and fails again: the set's keys do not change).
    pub(crate) fn checked_key(&self, kid: Option<&str>, alg: Alg) -> Result<VerifyKey> {
        let maps = self.maps();
        let jwk = jose::select_key(&maps, kid, alg)?;
        let at = maps
            .iter()
            .position(|m| std::ptr::eq(*m, jwk))
            .unwrap_or(usize::MAX);
        let lock = || self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = lock().get(&(at, alg)) {
            return Ok(key.clone());
        }
        let key = jose::verify_key(alg, jwk).map_err(jose::KeyFault::into_jwks_error)?;
        lock().insert((at, alg), key.clone());
        Ok(key)
    }

    fn has_kid(&self, kid: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
    }

    /// Whether `signature` verifies with `key` (checked by `jose`): with
    /// the key parsed once per set where the backend allows it, else through
    /// the signature seam. Signatures are not memoised here: the set
    /// remembers whole tokens.
    pub(crate) fn verify(&self, key: &VerifyKey, message: &[u8], signature: &[u8]) -> Result<bool> {
        if !key.fits(signature) {
            return Ok(false);
        }
        let id = (*key.fingerprint(), key.alg);
        let cached = self
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        let parsed = match cached {
            Some(p) => p,
            None => {
                let p = prepared::prepare(key).map(Arc::new);
                self.prepared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, p.clone());
                p
            }
        };
        match parsed {
            Some(p) => Ok(prepared::verify(&p, message, signature)),
            None => jose::verify_signature(key, message, signature),
        }
    }

    pub(crate) fn remembered(&self, token: &str) -> Option<Arc<Verified>> {
        self.tokens.get(token)
    }

    /// Remembers a token whose signature verified with `key`, with its
    /// decoded header and claims (`Engine::finish_verify_jwt`).
    pub(crate) fn remember(
        &self,
        token: &str,
        header: Map<String, Value>,
        claims: Map<String, Value>,
        key: VerifyKey,
    ) {
        let verified = Verified {
            header,
            claims,
            alg: key.alg,
            key,
        };
        self.tokens.put(token, verified);
    }
}

/// JSON text as bytes, read through the same `&str` reader as every other
/// input (one serde_json reader in the WebAssembly modules, not two: about
/// 10 KiB gzipped); JSON text is UTF-8 (RFC 8259 §8.1).
fn json_value(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 ({e})"))?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::token("jwks_unavailable", message)
}

/// What [`KeySet::check_url`] accepts: `https://`, or `http://` to a
/// loopback host (`localhost`, `127.0.0.0/8`, `[::1]`). No user info.
fn url_host(url: &str) -> Result<(&str, &str)> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| Error::argument(format!("`{url}` is not an absolute URL")))?;
    let scheme_lower = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(Error::argument(format!(
            "`{url}`: credentials in a key set URL are refused"
        )));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() || url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(Error::argument(format!(
            "`{url}` has no host, or has white space"
        )));
    }
    match scheme_lower.as_str() {
        "https" => Ok(("https", host)),
        "http" if is_loopback(host) => Ok(("http", host)),
        "http" => Err(Error::argument(format!(
            "`{url}`: key sets are fetched over https only (plain http is allowed to loopback addresses alone)"
        ))),
        _ => Err(Error::argument(format!("`{url}`: only https URLs are fetched"))),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host == "::1" {
        return true;
    }
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

/// `max-age` of a `Cache-Control` value (`no-store`/`no-cache` count as 0).
fn max_age(cache_control: &str) -> Option<i64> {
    let mut age = None;
    for directive in cache_control.split(',') {
        let d = directive.trim().to_ascii_lowercase();
        if d == "no-store" || d == "no-cache" {
            return Some(0);
        }
        if let Some(v) = d.strip_prefix("max-age=") {
            age = v.trim_matches('"').parse::<i64>().ok().map(|a| a.max(0));
        }
    }
    age
}

impl KeySet {
    /// A given JWKS (`{"keys": [...]}`), checked now; never fetched.
    ///
    /// Errors: `invalid_argument` for a JWKS of the wrong shape (see
    /// [`crate::Engine::verify_jwt`]).
    pub fn new(jwks: &Value) -> Result<KeySet> {
        let keys = Keys::parse(jwks)?;
        Ok(KeySet {
            url: None,
            issuer: None,
            options: KeySetOptions::default(),
            state: RwLock::new(State {
                current: Some(Arc::new(keys)),
                expires_at: i64::MAX,
                ..State::default()
            }),
        })
    }

    /// A JWKS given as JSON text (bytes), as hosts receive it.
    pub fn from_slice(jwks: &[u8]) -> Result<KeySet> {
        let value: Value =
            json_value(jwks).map_err(|e| Error::argument(format!("the JWKS is not JSON: {e}")))?;
        KeySet::new(&value)
    }

    /// A set the host fetches from `url` (https, or http to loopback).
    /// Nothing is fetched yet: [`needs_fetch`](Self::needs_fetch) is true.
    pub fn remote(url: &str, options: KeySetOptions) -> Result<KeySet> {
        KeySet::check_url(url)?;
        options.check()?;
        Ok(KeySet {
            url: Some(url.to_string()),
            issuer: None,
            options,
            state: RwLock::new(State::default()),
        })
    }

    /// A Cognito user pool's keys: the JWKS URL and expected issuer
    /// `https://cognito-idp.{region}.amazonaws.com/{user_pool_id}`.
    pub fn cognito(region: &str, user_pool_id: &str, options: KeySetOptions) -> Result<KeySet> {
        let region_ok = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            return Err(Error::argument(format!(
                "`{region}` is not an AWS region (like us-east-1)"
            )));
        }
        let pool_ok = user_pool_id.split_once('_').is_some_and(|(r, id)| {
            r == region && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !pool_ok {
            return Err(Error::argument(format!(
                "`{user_pool_id}` is not a user pool id of {region} (like {region}_AbCdEfGhI)"
            )));
        }
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}");
        KeySet::remote(&format!("{issuer}/.well-known/jwks.json"), options).map(|s| s.with_issuer(issuer))
    }

    /// Where an issuer's OpenID discovery document is:
    /// `{issuer}/.well-known/openid-configuration` (the issuer's trailing
    /// `/` dropped first, as OpenID Connect Discovery §4 says).
    pub fn discovery_url(issuer: &str) -> Result<String> {
        KeySet::check_url(issuer)?;
        Ok(format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ))
    }

    /// The set named by a discovery document fetched from
    /// [`discovery_url`](Self::discovery_url): its `issuer` must equal
    /// `issuer` exactly, and its `jwks_uri` becomes the set's URL.
    ///
    /// Errors: `jwks_unavailable` for a document that is not JSON, lacks
    /// `jwks_uri` or names another issuer; `invalid_argument` for a
    /// `jwks_uri` that is not https (or loopback).
    pub fn from_discovery(issuer: &str, document: &[u8], options: KeySetOptions) -> Result<KeySet> {
        let doc: Value = json_value(document)
            .map_err(|e| unavailable(format!("the discovery document of `{issuer}` is not JSON: {e}")))?;
        let named = doc.get("issuer").and_then(Value::as_str);
        if named != Some(issuer) {
            return Err(unavailable(format!(
                "the discovery document of `{issuer}` names issuer {}; they must be equal (OpenID Connect Discovery §4.3)",
                named.map_or("none".to_string(), |n| format!("`{n}`"))
            )));
        }
        let uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| unavailable(format!("the discovery document of `{issuer}` has no `jwks_uri`")))?;
        KeySet::remote(uri, options).map(|s| s.with_issuer(issuer.to_string()))
    }

    fn with_issuer(mut self, issuer: String) -> KeySet {
        self.issuer = Some(issuer);
        self
    }

    /// Refuses a URL that may not be fetched: not https and not loopback
    /// http, no host, credentials in it (`invalid_argument`).
    pub fn check_url(url: &str) -> Result<()> {
        url_host(url).map(|_| ())
    }

    /// Refuses a redirect from `from` to `to` that changes scheme or host,
    /// or leads to a URL [`check_url`](Self::check_url) refuses
    /// (`jwks_unavailable`).
    pub fn check_redirect(from: &str, to: &str) -> Result<()> {
        let (a_scheme, a_host) = url_host(from)?;
        let (b_scheme, b_host) =
            url_host(to).map_err(|e| unavailable(format!("redirect refused: {}", e.message)))?;
        if a_scheme != b_scheme || !a_host.eq_ignore_ascii_case(b_host) {
            return Err(unavailable(format!(
                "redirect from `{from}` to another host or scheme (`{to}`) refused"
            )));
        }
        Ok(())
    }

    /// The URL fetched, for a remote set.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The one issuer this set vouches for (Cognito, OIDC), if any: a token
    /// of another `iss` is `wrong_issuer` even when its signature verifies.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Fetch options (defaults for a given set).
    pub fn options(&self) -> &KeySetOptions {
        &self.options
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // Every write replaces whole fields; a poisoned lock holds a
        // consistent state.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Fetches applied or failed so far. A host that waited for another
    /// thread's fetch sees this change and does not fetch again.
    pub fn attempts(&self) -> u64 {
        self.read().attempts
    }

    /// How many keys the set holds now (0 before the first good fetch).
    pub fn len(&self) -> usize {
        self.read().current.as_ref().map_or(0, |k| k.keys.len())
    }

    /// Whether the set holds no key yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn cooled(&self, state: &State, now: i64) -> bool {
        state
            .last_attempt
            .is_none_or(|t| now >= t.saturating_add(self.options.cooldown_seconds))
    }

    /// Whether the host should fetch before verifying at `now`: a remote set
    /// with no keys yet or past its cache time, and no attempt within the
    /// cooldown.
    pub fn needs_fetch(&self, now: i64) -> bool {
        if self.url.is_none() {
            return false;
        }
        let state = self.read();
        (state.current.is_none() || now >= state.expires_at) && self.cooled(&state, now)
    }

    /// Whether `token`'s `kid` is one the set lacks and a refetch is allowed
    /// now (remote set, cooldown passed). Tokens that cannot be read, or name
    /// a key the set holds, never cause a fetch.
    pub fn refetch_for(&self, token: &str, now: i64) -> bool {
        if self.url.is_none() {
            return false;
        }
        let Ok(compact) = jose::parse_compact(token) else {
            return false;
        };
        let Some(kid) = compact.header.get("kid").and_then(Value::as_str) else {
            return false;
        };
        let state = self.read();
        let known = state.current.as_ref().is_some_and(|k| k.has_kid(kid));
        !known && self.cooled(&state, now)
    }

    /// Applies a fetched body (with the response's `Cache-Control`, if any).
    /// A body over `max_bytes`, not JSON, not a JWKS, or without a key for
    /// signatures is recorded as a failure: `jwks_unavailable`, the last good
    /// set kept.
    pub fn apply(&self, body: &[u8], cache_control: Option<&str>, now: i64) -> Result<()> {
        let what = self.url.as_deref().unwrap_or("the key set");
        let parsed = if body.len() > self.options.max_bytes {
            Err(unavailable(format!(
                "{what}: the response is over {} bytes",
                self.options.max_bytes
            )))
        } else {
            json_value(body)
                .map_err(|e| unavailable(format!("{what}: the response is not JSON: {e}")))
                .and_then(|v| {
                    Keys::parse(&v)
                        .map_err(|e| unavailable(format!("{what}: not a usable JWKS: {}", e.message)))
                })
                .and_then(|k| {
                    if k.keys.iter().any(jose::for_signatures) {
                        Ok(k)
                    } else {
                        Err(unavailable(format!(
                            "{what}: the JWKS holds no key for signatures"
                        )))
                    }
                })
        };
        match parsed {
            Ok(keys) => {
                let life = match cache_control.and_then(max_age) {
                    Some(age) => age.min(self.options.cache_seconds),
                    None => self.options.cache_seconds,
                }
                .max(self.options.cooldown_seconds);
                let mut state = self.write();
                state.current = Some(Arc::new(keys));
                state.expires_at = now.saturating_add(life);
                state.last_attempt = Some(now);
                state.last_error = None;
                state.attempts += 1;
                Ok(())
            }
            Err(e) => {
                self.failed(&e.message, now);
                Err(e)
            }
        }
    }

    /// Records a fetch that failed (network error, timeout, HTTP status,
    /// redirect refused); the last good set stays in use until it expires.
    pub fn failed(&self, message: &str, now: i64) {
        let mut state = self.write();
        state.last_attempt = Some(now);
        state.last_error = Some(message.to_string());
        state.attempts += 1;
    }

    /// Whether `token` would be answered from this set's memory of verified
    /// tokens (no cryptography): hosts use it to skip releasing their
    /// interpreter lock for a call of a microsecond.
    pub fn remembers(&self, token: &str) -> bool {
        self.read()
            .current
            .as_ref()
            .is_some_and(|k| k.remembered(token).is_some())
    }

    /// Until when (exclusive, seconds) the keys held now are used without a
    /// fetch: `i64::MAX` for a given set, `None` before the first good fetch.
    /// A host that keeps answers of its own (the npm package's verified-token
    /// cache) keeps them no longer than this.
    pub fn usable_until(&self) -> Option<i64> {
        let state = self.read();
        state.current.as_ref().map(|_| state.expires_at)
    }

    /// The keys to verify with at `now`, or `jwks_unavailable`.
    pub(crate) fn usable(&self, now: i64) -> Result<Arc<Keys>> {
        let state = self.read();
        match &state.current {
            Some(keys) if now < state.expires_at => Ok(Arc::clone(keys)),
            current => {
                let what = self.url.as_deref().unwrap_or("the key set");
                let why = match &state.last_error {
                    Some(e) => format!("; the last fetch failed: {e}"),
                    None if state.last_attempt.is_none() => "; it has not been fetched yet".to_string(),
                    None => String::new(),
                };
                let state_text = if current.is_some() {
                    "expired"
                } else {
                    "holds no keys"
                };
                Err(unavailable(format!("{what} {state_text}{why}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_https_or_loopback() {
        assert!(KeySet::check_url("https://example.com/jwks").is_ok());
        assert!(KeySet::check_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(KeySet::check_url("http://localhost/jwks").is_ok());
        assert!(KeySet::check_url("http://[::1]:9/x").is_ok());
        assert!(KeySet::check_url("http://example.com/jwks").is_err());
        assert!(KeySet::check_url("http://127.0.0.1.evil.com/").is_err());
        assert!(KeySet::check_url("https://user:pw@example.com/").is_err());
        assert!(KeySet::check_url("ftp://example.com/").is_err());
        assert!(KeySet::check_url("example.com/jwks").is_err());
    }

    #[test]
    fn redirects_stay_on_the_host() {
        assert!(KeySet::check_redirect("https://a.example/x", "https://a.example/y").is_ok());
        assert_eq!(
            KeySet::check_redirect("https://a.example/x", "https://b.example/y")
                .unwrap_err()
                .code,
            "jwks_unavailable"
        );
        assert!(KeySet::check_redirect("https://a.example/x", "http://a.example/y").is_err());
    }

    #[test]
    fn max_age_parsing() {
        assert_eq!(max_age("public, max-age=300"), Some(300));
        assert_eq!(max_age("no-store"), Some(0));
        assert_eq!(max_age("private"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
