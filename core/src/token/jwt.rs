//! Provider JWTs (SPEC §6.1): Cognito access and ID tokens and any other
//! issuer publishing a JWKS.
//!
//! The checks run in the order SPEC lists them and stop at the first failure:
//!
//! 1. size (`too_large`); three canonical base64url segments, header and
//!    payload JSON objects without duplicate keys (`malformed`);
//! 2. header: a session token's `typ` is refused here (`wrong_token_use`);
//!    `alg` in the allow-list and never `none` (`unsupported_alg`); `crit`
//!    present (`unsupported_crit`);
//! 3. the key: by `kid`, or the only usable key without one; `use`/`key_ops`
//!    must allow verification (`unknown_key`); then `alg` must equal the
//!    key's `alg` and fit its type and curve (`unsupported_alg`) — this needs
//!    the key, so it follows the lookup; RSA under 2048 bits, short HMAC
//!    secrets, unsafe exponents and ROCA moduli (`weak_key`);
//! 4. the signature (`bad_signature`);
//! 5. claims: `exp`, `nbf`, `iat`, `iss`, `token_use`, `client_id` / `aud`,
//!    `auth_time`, then the mapped id, groups and scopes (`missing_claim`
//!    for a wrong type or a missing required claim, at the step that reads it).
//!
//! `jku`, `x5u`, `jwk` and `x5c` are never read: keys come only from the JWKS
//! the host passes.

use super::config::JwtConfig;
use super::jose::{self, header_str, Alg, Compact, SignatureCache};
use super::session::SESSION_TYP;
use super::util::{now_or_clock, numeric_date, Round};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::request::{Credential, Principal};
use serde::Serialize;
use serde_json::{Map, Value};

impl Engine {
    /// Verifies a provider JWT against the policy's `tokens.jwt` and a JWKS
    /// (`{"keys": [...]}`) and returns its principal (SPEC §6.1): `id` from
    /// `sub`, `groups` from `cognito:groups`, `roles` mapped through
    /// `policy.groups`, `scopes` from `scope`, `credential: "jwt"`,
    /// `expires_at` from `exp`, and the raw `claims`.
    ///
    /// `now` (seconds) replaces the clock. Verified signatures are cached by
    /// hash of token and key; time and claim checks run on every call.
    ///
    /// Errors: the token codes of SPEC §6.1; `invalid_argument` for a JWKS of
    /// the wrong shape, with duplicate `kid`s, or mixing `oct` and public keys.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
    ///     "tokens": {"jwt": {"issuers": ["https://issuer.example"], "algorithms": ["HS256"],
    ///                        "audiences": ["app"]}}})).unwrap();
    /// let jwks = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]});
    /// let err = engine.verify_jwt("not.a.jwt", &jwks, Some(1_700_000_000)).unwrap_err();
    /// assert_eq!(err.code, "malformed");
    /// ```
    pub fn verify_jwt(&self, token: &str, jwks: &Value, now: Option<i64>) -> Result<Principal> {
        let policy = self.policy();
        let config = &policy.tokens().jwt;
        let keys = jose::jwks_keys(jwks)?;
        let compact = jose::parse_compact(token)?;
        let claims = jose::strict_object(&compact.payload, "payload")?;
        if let Some(typ) = header_str(&compact.header, "typ")? {
            if typ.eq_ignore_ascii_case(SESSION_TYP) {
                return Err(Error::token(
                    "wrong_token_use",
                    "a tessera session token is not a provider JWT",
                ));
            }
        }
        check_jws(&compact, &keys, &config.algorithms, Some(&self.tokens.signatures))?;
        let now = now_or_clock(now);
        let checked = check_claims(config, &claims, now)?;
        let mut roles: Vec<String> = Vec::new();
        for group in &checked.groups {
            for role in policy.roles_for_group(group) {
                if !roles.contains(role) {
                    roles.push(role.clone());
                }
            }
        }
        Ok(Principal {
            id: Some(checked.id),
            roles,
            groups: checked.groups,
            scopes: checked.scopes,
            credential: Some(Credential::Jwt),
            expires_at: Some(checked.exp),
            claims: Some(Value::Object(claims)),
            ..Principal::default()
        })
    }
}

/// A JWS whose signature verified; header and payload not interpreted.
///
/// Returned by [`verify_jws`], the signature layer of
/// [`Engine::verify_jwt`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifiedJws {
    /// The protected header.
    pub header: Value,
    /// The payload bytes (for a JWT, JSON claims).
    pub payload: Vec<u8>,
    /// The algorithm the signature was verified with.
    pub algorithm: String,
}

/// Verifies the signature layer of a compact JWS exactly as
/// [`Engine::verify_jwt`] does (size, segments, header, algorithm allow-list,
/// `crit`, key selection and strength, signature) without reading the
/// payload as claims. For payloads that are not JWT claims, and for test
/// suites such as Wycheproof's JWS vectors.
///
/// ```
/// use serde_json::json;
/// let jwks = json!({"keys": [{"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]});
/// let jws = "eyJraWQiOiJoczI1Ni1rZXkiLCJhbGciOiJIUzI1NiJ9.VGVzdA.c1LROH7eNQwUT8KMVEO52VC3WZ9e_AnDWbZ7aMmowV8";
/// assert_eq!(tessera::token::verify_jws(jws, &jwks, &["HS256"]).unwrap_err().code, "unknown_key");
/// let jwks = json!({"keys": [{"kty": "oct", "kid": "hs256-key", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]});
/// assert_eq!(tessera::token::verify_jws(jws, &jwks, &["HS256"]).unwrap().payload, b"Test");
/// ```
pub fn verify_jws(token: &str, jwks: &Value, algorithms: &[&str]) -> Result<VerifiedJws> {
    let keys = jose::jwks_keys(jwks)?;
    let compact = jose::parse_compact(token)?;
    let algorithms: Vec<String> = algorithms.iter().map(|a| a.to_string()).collect();
    let alg = check_jws(&compact, &keys, &algorithms, None)?;
    Ok(VerifiedJws {
        header: Value::Object(compact.header),
        payload: compact.payload,
        algorithm: alg.name().to_string(),
    })
}

/// Verifies one signature with one JWK, through the same key checks and
/// crypto call as every token: the JWK's `alg`/`kty`/`crv` must fit
/// `algorithm`, the key must be strong enough, and the signature must match.
///
/// Errors: `unsupported_alg`, `unknown_key` (unusable key material),
/// `weak_key`, `bad_signature`; `invalid_argument` if `jwk` is not an object.
///
/// ```
/// use serde_json::json;
/// let jwk = json!({"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
/// let err = tessera::token::verify_signature("HS256", &jwk, b"message", &[0u8; 32]).unwrap_err();
/// assert_eq!(err.code, "bad_signature");
/// let short = json!({"kty": "oct", "k": "AAAA"});
/// assert_eq!(tessera::token::verify_signature("HS256", &short, b"m", &[0u8; 32]).unwrap_err().code, "weak_key");
/// ```
pub fn verify_signature(algorithm: &str, jwk: &Value, message: &[u8], signature: &[u8]) -> Result<()> {
    let alg = Alg::from_name(algorithm)
        .ok_or_else(|| Error::token("unsupported_alg", format!("unsupported algorithm `{algorithm}`")))?;
    let map = jwk
        .as_object()
        .ok_or_else(|| Error::argument("a JWK is a JSON object"))?;
    let key = jose::verify_key(alg, map).map_err(jose::KeyFault::into_jwks_error)?;
    if jose::verify_signature(&key, message, signature) {
        Ok(())
    } else {
        Err(Error::token("bad_signature", "signature does not verify"))
    }
}

/// Steps 2–4: header, key, signature. Returns the verified algorithm.
fn check_jws(
    compact: &Compact<'_>,
    keys: &[&Map<String, Value>],
    algorithms: &[String],
    cache: Option<&SignatureCache>,
) -> Result<Alg> {
    let name = header_str(&compact.header, "alg")?
        .ok_or_else(|| Error::token("malformed", "header has no `alg`"))?;
    if name.eq_ignore_ascii_case("none") {
        return Err(Error::token("unsupported_alg", "`alg: none` is never accepted"));
    }
    let alg = Alg::from_name(name)
        .filter(|a| algorithms.iter().any(|allowed| allowed == a.name()))
        .ok_or_else(|| Error::token("unsupported_alg", format!("algorithm `{name}` is not allowed")))?;
    if compact.header.contains_key("crit") {
        return Err(Error::token(
            "unsupported_crit",
            "header `crit` names extensions this verifier does not understand",
        ));
    }
    let kid = header_str(&compact.header, "kid")?;
    let jwk = jose::select_key(keys, kid)?;
    let key = match cache {
        Some(cache) => cache.verify_key(alg, jwk),
        None => jose::verify_key(alg, jwk),
    }
    .map_err(jose::KeyFault::into_jwks_error)?;
    let message = compact.signing_input.as_bytes();
    let ok = match cache {
        Some(cache) => cache.verify(&key, message, &compact.signature),
        None => jose::verify_signature(&key, message, &compact.signature),
    };
    if ok {
        Ok(alg)
    } else {
        Err(Error::token("bad_signature", "signature does not verify"))
    }
}

/// What a provider JWT's claims map to.
struct Checked {
    id: String,
    groups: Vec<String>,
    scopes: Vec<String>,
    exp: i64,
}

fn missing(name: &str) -> Error {
    Error::token("missing_claim", format!("claim `{name}` is missing"))
}

fn wrong_type(name: &str, expected: &str) -> Error {
    Error::token("missing_claim", format!("claim `{name}` is not {expected}"))
}

fn date(claims: &Map<String, Value>, name: &str, round: Round) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => numeric_date(v, round)
            .map(Some)
            .ok_or_else(|| wrong_type(name, "a NumericDate")),
    }
}

fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(name, "a string")),
    }
}

fn string_array(v: &Value, name: &str) -> Result<Vec<String>> {
    let items = v
        .as_array()
        .ok_or_else(|| wrong_type(name, "an array of strings"))?;
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(str::to_string)
                .ok_or_else(|| wrong_type(name, "an array of strings"))
        })
        .collect()
}

/// Step 5, in SPEC order.
fn check_claims(c: &JwtConfig, claims: &Map<String, Value>, now: i64) -> Result<Checked> {
    let leeway = c.leeway_seconds;
    let exp = date(claims, "exp", Round::Up)?.ok_or_else(|| missing("exp"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(Error::token(
            "expired",
            format!("token expired at {exp} (now {now})"),
        ));
    }
    if let Some(nbf) = date(claims, "nbf", Round::Up)? {
        if now < nbf.saturating_sub(leeway) {
            return Err(Error::token(
                "not_yet_valid",
                format!("token not valid before {nbf} (now {now})"),
            ));
        }
    }
    if let Some(iat) = date(claims, "iat", Round::Up)? {
        if iat > now.saturating_add(leeway) {
            return Err(Error::token(
                "not_yet_valid",
                format!("token issued in the future at {iat} (now {now})"),
            ));
        }
    }
    let iss = string(claims, "iss")?.ok_or_else(|| missing("iss"))?;
    if !c.issuers.iter().any(|i| i == iss) {
        return Err(Error::token(
            "wrong_issuer",
            format!("issuer `{iss}` is not trusted"),
        ));
    }
    let token_use = string(claims, "token_use")?;
    if let Some(accepted) = &c.token_use {
        let used = token_use.ok_or_else(|| missing("token_use"))?;
        if !accepted.iter().any(|u| u == used) {
            return Err(Error::token(
                "wrong_token_use",
                format!("token_use `{used}` is not accepted"),
            ));
        }
    }
    // Cognito access tokens carry the app client in `client_id` and have no
    // `aud`; ID tokens (and other providers' tokens) carry it in `aud`.
    if token_use == Some("access") {
        if let Some(clients) = &c.client_ids {
            let client = string(claims, "client_id")?.ok_or_else(|| missing("client_id"))?;
            if !clients.iter().any(|x| x == client) {
                return Err(Error::token(
                    "wrong_client",
                    format!("client `{client}` is not accepted"),
                ));
            }
        }
    } else if let Some(audiences) = &c.audiences {
        let aud = claims.get("aud").ok_or_else(|| missing("aud"))?;
        let auds = match aud {
            Value::String(s) => vec![s.clone()],
            other => string_array(other, "aud")?,
        };
        if !auds.iter().any(|a| audiences.contains(a)) {
            return Err(Error::token(
                "wrong_audience",
                "no `aud` value is an accepted audience",
            ));
        }
    }
    let auth_time = date(claims, "auth_time", Round::Down)?;
    if let Some(max_age) = c.max_age_seconds {
        let auth_time = auth_time.ok_or_else(|| missing("auth_time"))?;
        if now > auth_time.saturating_add(max_age).saturating_add(leeway) {
            return Err(Error::token(
                "too_old",
                format!("authenticated at {auth_time}, more than {max_age} seconds ago"),
            ));
        }
    }
    let id = string(claims, &c.claims.id)?.ok_or_else(|| missing(&c.claims.id))?;
    let groups = match claims.get(&c.claims.groups) {
        None => Vec::new(),
        Some(v) => string_array(v, &c.claims.groups)?,
    };
    let scopes = match claims.get(&c.claims.scopes) {
        None => Vec::new(),
        // OAuth 2.0 `scope` is space-delimited (RFC 6749 §3.3); some providers
        // send an array (`scp`), which is taken as is.
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_string).collect(),
        Some(v) => string_array(v, &c.claims.scopes)?,
    };
    Ok(Checked {
        id: id.to_string(),
        groups,
        scopes,
        exp,
    })
}
