//! Sessions issued by this engine (SPEC §6.2).
//!
//! A session token is a compact JWS with the fixed header
//! `{"alg":"HS256"|"EdDSA","typ":"tessera-session+jwt"}` and claims written
//! in this order: `sub`, `roles`, `sid`, `iat`, `exp`, `auth_time`, `epoch`,
//! then `api` and `limits` when present. HS256 and Ed25519 signatures are
//! deterministic, so the same inputs give the same token, byte for byte, in
//! every binding.
//!
//! Choices where SPEC is silent (also in `docs/tokens.md`):
//! - An expired session cannot be renewed (`expired`), even before its
//!   ceiling: the TTL is an idle timeout, and renewing a stale token would
//!   let a stolen one live on for the whole 48 hours.
//! - Past `auth_time + max_lifetime_seconds` both renew and verify fail with
//!   `session_ended` (checked before `expired`). The ceiling is read from the
//!   policy in force, so lowering it ends longer sessions at once.
//! - Time is checked before revocations, as PyJWT decodes before an
//!   application looks up its deny list: an expired revoked session reports
//!   `expired`. `iat` in the future is `not_yet_valid`. No leeway applies to
//!   sessions (one clock issues and checks them).
//! - The key is checked before the token: a bad key is a host mistake
//!   (`invalid_argument`, `weak_key` or `unsupported_alg`) whatever the token.
//! - `issue_session` takes `api_token_id` and `limits` from the options, or
//!   else from the principal (one from `verify_api_token` carries both), so a
//!   session never silently drops a token's narrowing. `roles` are the
//!   principal's roles plus those its groups map to (a session carries no
//!   groups). `epoch` (an extension of the SPEC's options) is the host's
//!   current restart counter, default 0.

use super::jose::{self, header_str, Alg, KeyFault, SignKey, VerifyKey};
use super::memo::TokenMemo;
use super::util::{now_or_clock, random_id, representable};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::request::{Credential, Principal};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The most session tokens a realm's key remembers, however many sessions
/// it holds: about 200 MB of memory at this bound (some 790 bytes a token).
pub(crate) const SESSION_TOKENS_KEPT: usize = 1 << 18;

/// The `typ` header of every session token.
pub const SESSION_TYP: &str = "tessera-session+jwt";

/// Options of [`Engine::issue_session`].
///
/// ```
/// let o: tessera::token::SessionOptions =
///     serde_json::from_value(serde_json::json!({"session_id": "s-1"})).unwrap();
/// assert_eq!(o.session_id.as_deref(), Some("s-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionOptions {
    /// The session id; drawn at random (22 base62 characters) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The API token the session was opened with (default: the principal's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token_id: Option<String>,
    /// Labels narrowing the session (default: the principal's `limits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Vec<String>>,
    /// The host's restart counter at issue (default 0); see [`Revocations`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
}

/// What issuing or renewing a session returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionGrant {
    /// The session token (a compact JWS).
    pub token: String,
    /// The session id (`sid`), the same across renewals.
    pub session_id: String,
    /// When this token stops being valid (seconds since the epoch).
    pub expires_at: i64,
    /// The session's ceiling: no renewal reaches past it.
    pub renewable_until: i64,
}

/// Sessions a host has ended (SPEC §6.2): a session is dead if its id, its
/// subject or its API token is listed, or its `epoch` is below `epoch`.
///
/// ```
/// let r: tessera::token::Revocations =
///     serde_json::from_value(serde_json::json!({"subjects": ["u-1"]})).unwrap();
/// assert!(r.sessions.is_empty() && r.epoch == 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Revocations {
    /// Session ids (`sid`) that are ended.
    pub sessions: Vec<String>,
    /// Subjects (`sub`) whose every session is ended.
    pub subjects: Vec<String>,
    /// API token ids whose sessions are ended.
    pub api_tokens: Vec<String>,
    /// Sessions whose `epoch` is below this one are ended.
    pub epoch: u64,
}

from_json!(SessionOptions, "options");
from_json!(Revocations, "revocations");
from_json!(SessionGrant, "grant");

/// The claims of a session token, in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SessionClaims {
    // Ids inline (a session id is 22 characters): a realm reads them on
    // every call, and a large realm's remembered claims are cold in cache.
    pub(crate) sub: CompactString,
    roles: Vec<String>,
    pub(crate) sid: CompactString,
    iat: i64,
    pub(crate) exp: i64,
    auth_time: i64,
    epoch: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) api: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<Vec<String>>,
}

/// The JWK of a raw HS256 session secret, as hosts hold one (Python
/// `bytes`, JavaScript `Uint8Array`): `{"kty": "oct", "k": base64url}`. Its
/// length is checked where the key is used (`weak_key` under 32 bytes).
///
/// ```
/// let jwk = tessera::token::secret_jwk(b"0123456789abcdef0123456789abcdef");
/// assert_eq!(jwk["kty"], "oct");
/// assert_eq!(jwk["k"], "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY");
/// ```
pub fn secret_jwk(secret: &[u8]) -> Value {
    serde_json::json!({"kty": "oct", "k": jose::b64url_encode(secret)})
}

/// A host-given session key, parsed and checked: a JWK `{"kty":"oct","k"}`
/// (HS256) or `{"kty":"OKP","crv":"Ed25519","d"?,"x"?}` (EdDSA). A held key
/// (a realm's, parsed once) also remembers the tokens it verified, with their
/// claims, so that seeing one again skips decoding and the signature; the
/// time, policy and revocation checks still run on every call.
pub(crate) struct SessionKey {
    sign: Option<SignKey>,
    verify: VerifyKey,
    seen: Option<TokenMemo<SessionClaims>>,
}

fn key_error(fault: KeyFault) -> Error {
    match fault {
        KeyFault::Alg(m) => Error::token("unsupported_alg", m),
        KeyFault::Weak(m) => Error::token("weak_key", m),
        KeyFault::Unusable(m) => Error::argument(format!("key: {m} (session key)")),
    }
}

fn key_bytes(map: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => jose::b64url(s).map(Some).ok_or_else(|| {
            Error::argument(format!(
                "key.{name}: `{name}` is not canonical base64url (session key)"
            ))
        }),
        Some(_) => Err(Error::argument(format!(
            "key.{name}: `{name}` is not a string (session key)"
        ))),
    }
}

impl SessionKey {
    /// The key a host keeps for many tokens (a realm's): checked as for
    /// signing, and remembering the tokens it verifies.
    pub(crate) fn held(key: &Value) -> Result<SessionKey> {
        Ok(SessionKey {
            seen: Some(TokenMemo::default()),
            ..SessionKey::parse(key, true)?
        })
    }

    /// Lets a held key remember one token per session its holder keeps
    /// (at least the memo's default, at most [`SESSION_TOKENS_KEPT`]): a
    /// realm calls it with its session count, so a token asked again is
    /// answered from memory up to that size.
    pub(crate) fn keep_at_least(&self, sessions: usize) {
        if let Some(memo) = &self.seen {
            memo.keep_at_least(sessions.min(SESSION_TOKENS_KEPT));
        }
    }

    /// Number of tokens a held key remembers.
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.seen.as_ref().map_or(0, TokenMemo::len)
    }

    fn parse(key: &Value, for_signing: bool) -> Result<SessionKey> {
        let map = key
            .as_object()
            .ok_or_else(|| Error::argument("key: a session key is a JWK object"))?;
        let kty = match map.get("kty") {
            Some(Value::String(s)) => s.as_str(),
            _ => {
                return Err(Error::argument(
                    "key.kty: `kty` must be \"oct\" or \"OKP\" (session key)",
                ))
            }
        };
        let key = match kty {
            "oct" => {
                let verify = jose::verify_key(Alg::HS256, map).map_err(key_error)?;
                let secret = key_bytes(map, "k")?.unwrap_or_default();
                SessionKey {
                    sign: Some(SignKey::hs256(&secret)),
                    verify,
                    seen: None,
                }
            }
            "OKP" => {
                if map.get("crv").and_then(Value::as_str) != Some("Ed25519") {
                    return Err(Error::token(
                        "unsupported_alg",
                        "session OKP keys must be Ed25519",
                    ));
                }
                // Verifying with a full key pair reads only `x`: deriving it
                // from `d` (to check the pair) matters only when signing.
                let d = if for_signing || !map.contains_key("x") {
                    key_bytes(map, "d")?
                } else {
                    None
                };
                let sign = match d {
                    None => None,
                    Some(d) => {
                        let seed: [u8; 32] = d.as_slice().try_into().map_err(|_| {
                            Error::argument("key.d: Ed25519 `d` must be 32 bytes (session key)")
                        })?;
                        Some(SignKey::ed25519(&seed))
                    }
                };
                let derived = match &sign {
                    Some(sign) => sign.ed25519_public()?,
                    None => None,
                };
                if sign.is_some() && derived.is_none() {
                    return Err(Error::argument(
                        "key.d: Ed25519 `d` is not a usable key (session key)",
                    ));
                }
                let public = match (key_bytes(map, "x")?, derived) {
                    (Some(x), Some(d)) if x != d => {
                        return Err(Error::argument(
                            "key.x: `x` is not the public key of `d` (session key)",
                        ))
                    }
                    (Some(x), _) => x,
                    (None, Some(d)) => d,
                    (None, None) => {
                        return Err(Error::argument("key: an OKP key needs `x` or `d` (session key)"))
                    }
                };
                // Verify against the public half only; `d` never leaves SignKey.
                let mut public_jwk = map.clone();
                public_jwk.remove("d");
                public_jwk.insert("x".into(), Value::String(jose::b64url_encode(&public)));
                let verify = jose::verify_key(Alg::EdDSA, &public_jwk).map_err(key_error)?;
                SessionKey {
                    sign,
                    verify,
                    seen: None,
                }
            }
            other => {
                return Err(Error::token(
                    "unsupported_alg",
                    format!("sessions are signed with HS256 (`oct`) or EdDSA (`OKP`), not `{other}` keys"),
                ))
            }
        };
        if for_signing && key.sign.is_none() {
            return Err(Error::argument(
                "key.d: signing needs the private key `d` (session key)",
            ));
        }
        Ok(key)
    }

    fn mint(&self, claims: &SessionClaims) -> Result<String> {
        let sign = self
            .sign
            .as_ref()
            .ok_or_else(|| Error::argument("key.d: signing needs the private key `d` (session key)"))?;
        // Fixed member order: byte-for-byte the same token everywhere.
        let header = format!(r#"{{"alg":"{}","typ":"{SESSION_TYP}"}}"#, sign.alg.name());
        let payload =
            serde_json::to_vec(claims).map_err(|e| Error::argument(format!("session claims: {e}")))?;
        let mut token = jose::b64url_encode(header.as_bytes());
        token.push('.');
        token.push_str(&jose::b64url_encode(&payload));
        let signature = sign.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&jose::b64url_encode(&signature));
        Ok(token)
    }
}

fn claim_missing(name: &str) -> Error {
    Error::token(
        "missing_claim",
        format!("session claim `{name}` is missing or of the wrong type"),
    )
}

fn claim_str(m: &Map<String, Value>, name: &str) -> Result<String> {
    m.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| claim_missing(name))
}

fn claim_int(m: &Map<String, Value>, name: &str) -> Result<i64> {
    m.get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| claim_missing(name))
}

fn claim_strings(v: &Value, name: &str) -> Result<Vec<String>> {
    v.as_array()
        .and_then(|a| {
            a.iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| claim_missing(name))
}

impl SessionClaims {
    fn from_map(m: &Map<String, Value>) -> Result<SessionClaims> {
        Ok(SessionClaims {
            sub: CompactString::new(claim_str(m, "sub")?),
            roles: claim_strings(m.get("roles").unwrap_or(&Value::Null), "roles")?,
            sid: CompactString::new(claim_str(m, "sid")?),
            iat: claim_int(m, "iat")?,
            exp: claim_int(m, "exp")?,
            auth_time: claim_int(m, "auth_time")?,
            epoch: m
                .get("epoch")
                .and_then(Value::as_u64)
                .ok_or_else(|| claim_missing("epoch"))?,
            api: match m.get("api") {
                None => None,
                Some(_) => Some(CompactString::new(claim_str(m, "api")?)),
            },
            limits: match m.get("limits") {
                None => None,
                Some(v) => Some(claim_strings(v, "limits")?),
            },
        })
    }
}

impl Engine {
    /// Issues a session for `principal` (which needs an `id`), signed with
    /// `key` (SPEC §6.2): `expires_at = now + ttl`, `renewable_until = now +
    /// max_lifetime`.
    ///
    /// Errors: `invalid_argument` (no principal id, bad key JWK, empty
    /// `session_id`, a limit that is not a label of this policy), `weak_key`
    /// (HS256 secret under 32 bytes), `unsupported_alg` (a key neither `oct`
    /// nor Ed25519).
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::token::SessionOptions;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {}})).unwrap();
    /// let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
    /// let alice = tessera::Principal { id: Some("alice".into()), roles: vec!["user".into()], ..Default::default() };
    /// let options = SessionOptions { session_id: Some("s-1".into()), ..Default::default() };
    /// let grant = engine.issue_session(&alice, &key, Some(1000), &options).unwrap();
    /// assert_eq!((grant.expires_at, grant.renewable_until), (2800, 173_800));
    /// let p = engine.verify_session(&grant.token, &key, Some(2799), None).unwrap();
    /// assert_eq!(p.session_id.as_deref(), Some("s-1"));
    /// assert_eq!(engine.verify_session(&grant.token, &key, Some(2800), None).unwrap_err().code, "expired");
    /// ```
    pub fn issue_session(
        &self,
        principal: &Principal,
        key: &Value,
        now: Option<i64>,
        options: &SessionOptions,
    ) -> Result<SessionGrant> {
        self.issue_session_with(principal, &SessionKey::parse(key, true)?, now, options)
    }

    /// [`Engine::issue_session`] with a parsed key.
    pub(crate) fn issue_session_with(
        &self,
        principal: &Principal,
        key: &SessionKey,
        now: Option<i64>,
        options: &SessionOptions,
    ) -> Result<SessionGrant> {
        let policy = self.policy();
        let config = &policy.tokens().session;
        let sub = match principal.id.as_deref() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => return Err(Error::argument("a session needs a principal with an `id`")),
        };
        let sid = match &options.session_id {
            Some(s) if s.is_empty() => return Err(Error::argument("`session_id` must not be empty")),
            Some(s) => s.clone(),
            None => random_id()?,
        };
        let limits = options.limits.clone().or_else(|| principal.limits.clone());
        if let Some(limits) = &limits {
            self.check_limits(limits)?;
        }
        let mut roles = principal.roles.clone();
        for group in &principal.groups {
            for role in policy.roles_for_group(group) {
                if !roles.contains(role) {
                    roles.push(role.clone());
                }
            }
        }
        let now = now_or_clock(now);
        let renewable_until = representable(now.saturating_add(config.max_lifetime_seconds))?;
        representable(now)?;
        let claims = SessionClaims {
            sub: CompactString::new(sub),
            roles,
            sid: CompactString::new(sid),
            iat: now,
            exp: now.saturating_add(config.ttl_seconds).min(renewable_until),
            auth_time: now,
            epoch: options.epoch.unwrap_or(0),
            api: options
                .api_token_id
                .as_ref()
                .or(principal.api_token_id.as_ref())
                .map(CompactString::new),
            limits,
        };
        Ok(SessionGrant {
            token: key.mint(&claims)?,
            session_id: claims.sid.to_string(),
            expires_at: claims.exp,
            renewable_until,
        })
    }

    /// Renews a live session: same `session_id`, `auth_time`, subject, roles,
    /// epoch, API token and limits; `expires_at = min(now + ttl, auth_time +
    /// max_lifetime)`.
    ///
    /// Errors: those of [`Engine::verify_session`] — notably `session_ended`
    /// past the ceiling and `expired` once the token has lapsed (an expired
    /// session is not renewable) — and `invalid_argument` for a public-only key.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {}})).unwrap();
    /// let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
    /// let p = tessera::Principal { id: Some("u".into()), ..Default::default() };
    /// let first = engine.issue_session(&p, &key, Some(0), &Default::default()).unwrap();
    /// let next = engine.renew_session(&first.token, &key, Some(1000), None).unwrap();
    /// assert_eq!(next.session_id, first.session_id);
    /// assert_eq!(next.expires_at, 2800);
    /// let late = engine.renew_session(&first.token, &key, Some(172_800), None).unwrap_err();
    /// assert_eq!(late.code, "session_ended");
    /// ```
    pub fn renew_session(
        &self,
        token: &str,
        key: &Value,
        now: Option<i64>,
        revocations: Option<&Revocations>,
    ) -> Result<SessionGrant> {
        self.renew_session_with(token, &SessionKey::parse(key, true)?, now, revocations)
    }

    /// [`Engine::renew_session`] with a parsed key.
    pub(crate) fn renew_session_with(
        &self,
        token: &str,
        key: &SessionKey,
        now: Option<i64>,
        revocations: Option<&Revocations>,
    ) -> Result<SessionGrant> {
        let now = now_or_clock(now);
        let (old, ceiling) = self.check_session(token, key, now, revocations)?;
        let ttl = self.policy().tokens().session.ttl_seconds;
        representable(now)?;
        let claims = SessionClaims {
            iat: now,
            exp: representable(now.saturating_add(ttl).min(ceiling))?,
            ..SessionClaims::clone(&old)
        };
        Ok(SessionGrant {
            token: key.mint(&claims)?,
            session_id: claims.sid.to_string(),
            expires_at: claims.exp,
            renewable_until: ceiling,
        })
    }

    /// Verifies a session token and returns its principal: `id`, `roles`,
    /// `limits`, `credential: "session"`, `expires_at`, `session_id` and
    /// `api_token_id`. A public-only OKP key (`x` without `d`) is enough.
    ///
    /// Errors, in order: key problems (`invalid_argument`, `weak_key`,
    /// `unsupported_alg`); `too_large`, `malformed`; `wrong_token_use` (not a
    /// session token, e.g. a provider JWT); `unsupported_alg` (header `alg`
    /// not the key's); `unsupported_crit`; `bad_signature`; `missing_claim`;
    /// `not_yet_valid` (`iat` in the future); `session_ended`; `expired`;
    /// `revoked`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::token::Revocations;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {}})).unwrap();
    /// let key = json!({"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"});
    /// let p = tessera::Principal { id: Some("u".into()), ..Default::default() };
    /// let grant = engine.issue_session(&p, &key, Some(0), &Default::default()).unwrap();
    /// let dead = Revocations { subjects: vec!["u".into()], ..Default::default() };
    /// let err = engine.verify_session(&grant.token, &key, Some(10), Some(&dead)).unwrap_err();
    /// assert_eq!(err.code, "revoked");
    /// ```
    pub fn verify_session(
        &self,
        token: &str,
        key: &Value,
        now: Option<i64>,
        revocations: Option<&Revocations>,
    ) -> Result<Principal> {
        self.verify_session_with(token, &SessionKey::parse(key, false)?, now, revocations)
    }

    /// [`Engine::verify_session`] with a parsed key.
    pub(crate) fn verify_session_with(
        &self,
        token: &str,
        key: &SessionKey,
        now: Option<i64>,
        revocations: Option<&Revocations>,
    ) -> Result<Principal> {
        let now = now_or_clock(now);
        let (c, _) = self.check_session(token, key, now, revocations)?;
        Ok(Principal {
            id: Some(c.sub.to_string()),
            roles: c.roles.clone(),
            limits: c.limits.clone(),
            credential: Some(Credential::Session),
            expires_at: Some(c.exp),
            session_id: Some(c.sid.to_string()),
            api_token_id: c.api.as_ref().map(|a| a.to_string()),
            ..Principal::default()
        })
    }

    /// Every check of a session token, as [`Engine::verify_session_with`]
    /// makes, answering with the token's claims as remembered: a realm reads
    /// the few it needs and builds the principal from its own records.
    pub(crate) fn session_claims_with(
        &self,
        token: &str,
        key: &SessionKey,
        now: i64,
        revocations: Option<&Revocations>,
    ) -> Result<Arc<SessionClaims>> {
        self.check_session(token, key, now, revocations).map(|(c, _)| c)
    }

    /// Every check of a session token; returns its claims and its ceiling.
    /// A held key's remembered token skips [`Engine::decode_session`], whose
    /// answer depends on the token and the key alone.
    fn check_session(
        &self,
        token: &str,
        key: &SessionKey,
        now: i64,
        revocations: Option<&Revocations>,
    ) -> Result<(Arc<SessionClaims>, i64)> {
        let c = match key.seen.as_ref().and_then(|memo| memo.get(token)) {
            Some(c) => c,
            None => {
                let c = Arc::new(self.decode_session(token, key)?);
                if let Some(memo) = &key.seen {
                    memo.put(token, c.clone());
                }
                c
            }
        };
        let ceiling = self.check_session_claims(&c, now, revocations)?;
        Ok((c, ceiling))
    }

    /// The checks of a session token up to its claims' shape: outline,
    /// header, signature, claims present and typed.
    fn decode_session(&self, token: &str, key: &SessionKey) -> Result<SessionClaims> {
        let compact = jose::parse_compact(token)?;
        let claims = jose::strict_object(&compact.payload, "payload")?;
        if header_str(&compact.header, "typ")? != Some(SESSION_TYP) {
            return Err(Error::token("wrong_token_use", "not a tessera session token"));
        }
        let alg = header_str(&compact.header, "alg")?
            .ok_or_else(|| Error::token("malformed", "header has no `alg`"))?;
        if alg != key.verify.alg.name() {
            return Err(Error::token(
                "unsupported_alg",
                format!(
                    "session signed with `{alg}`, but the key is for {}",
                    key.verify.alg.name()
                ),
            ));
        }
        if compact.header.contains_key("crit") {
            return Err(Error::token("unsupported_crit", "session tokens carry no `crit`"));
        }
        let message = compact.signing_input.as_bytes();
        // HMAC costs about what hashing it for the cache would; only EdDSA is cached.
        let ok = if key.verify.alg == Alg::EdDSA {
            self.tokens
                .signatures
                .verify(&key.verify, message, &compact.signature)?
        } else {
            jose::verify_signature(&key.verify, message, &compact.signature)?
        };
        if !ok {
            return Err(Error::token("bad_signature", "session signature does not verify"));
        }
        SessionClaims::from_map(&claims)
    }

    /// The checks of a session's claims that depend on the time, the policy
    /// and the revocations: run on every call.
    fn check_session_claims(
        &self,
        c: &SessionClaims,
        now: i64,
        revocations: Option<&Revocations>,
    ) -> Result<i64> {
        if c.iat > now {
            return Err(Error::token(
                "not_yet_valid",
                format!("session issued in the future at {}", c.iat),
            ));
        }
        let ceiling = c
            .auth_time
            .saturating_add(self.policy().tokens().session.max_lifetime_seconds);
        if now >= ceiling {
            return Err(Error::token(
                "session_ended",
                format!("session began at {} and ended at {ceiling}", c.auth_time),
            ));
        }
        if now >= c.exp {
            return Err(Error::token(
                "expired",
                format!("session token expired at {}", c.exp),
            ));
        }
        if let Some(r) = revocations {
            let why = if r.sessions.iter().any(|s| s == c.sid.as_str()) {
                Some("session")
            } else if r.subjects.iter().any(|s| s == c.sub.as_str()) {
                Some("subject")
            } else if c
                .api
                .as_ref()
                .is_some_and(|a| r.api_tokens.iter().any(|t| t == a.as_str()))
            {
                Some("API token")
            } else if c.epoch < r.epoch {
                Some("epoch (restart)")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(Error::token("revoked", format!("session revoked by {why}")));
            }
        }
        Ok(ceiling)
    }

    /// Checks that each limit is a label of this policy.
    pub(crate) fn check_limits(&self, limits: &[String]) -> Result<()> {
        for (i, label) in limits.iter().enumerate() {
            self.parse_label(label)
                .map_err(|e| Error::argument(format!("limits[{i}] `{label}`: {}", e.message)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_key_remembers_one_token_per_session_within_its_bounds() {
        let jwk = secret_jwk(b"0123456789abcdef0123456789abcdef");
        let key = SessionKey::held(&jwk).unwrap();
        let limit = || key.seen.as_ref().map(TokenMemo::limit);
        key.keep_at_least(10);
        assert_eq!(limit(), Some(super::super::memo::TOKEN_CAPACITY));
        key.keep_at_least(100_000);
        assert_eq!(limit(), Some(100_000));
        key.keep_at_least(usize::MAX);
        assert_eq!(limit(), Some(SESSION_TOKENS_KEPT));
        // A key given per call remembers nothing, whatever it is told.
        let once = SessionKey::parse(&jwk, false).unwrap();
        once.keep_at_least(100_000);
        assert!(once.seen.is_none());
    }
}
