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
//!
//! Step 4 is the signature primitive's (`signature.rs`). To ask a host that
//! answers later (WebCrypto) in one round trip, [`Engine::begin_verify_jwt`]
//! runs steps 1–3 and 5, holds the verdict of step 5 and hands out the one
//! signature to check; [`Engine::finish_verify_jwt`] combines the answer with
//! it. A bad signature wins over any claim failure, so the codes come out in
//! SPEC order whichever way the token is verified.

use super::config::{media_type, JwtConfig};
use super::jose::{self, header_str, Alg, Compact, SignatureCache, VerifyKey};
use super::keyset::{KeySet, Keys, Verified};
use super::session::SESSION_TYP;
use super::signature::{self, SignatureCheck};
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
        // Where there is no synchronous primitive the synchronous form fails
        // whatever the token, not only when the signature is asked (SPEC §6.1.1).
        if !signature::has_sync_crypto() {
            return Err(signature::unsupported_runtime());
        }
        let pending = self.begin_verify_jwt(token, jwks, now)?;
        if pending.verified_before || !pending.signature_fits() {
            return pending.finish(false);
        }
        let verified = signature::verify(&pending.signature())?;
        self.finish_verify_jwt(pending, verified)
    }

    /// Every check of [`Engine::verify_jwt`] but the signature primitive's:
    /// the token's verdict, held until [`Engine::finish_verify_jwt`] is given
    /// the answer to [`Pending::signature`]. Errors here are the ones SPEC
    /// §6.1 lists before the signature (size, segments, header, key).
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
    ///     "tokens": {"jwt": {"issuers": ["https://issuer.example"], "algorithms": ["HS256"],
    ///                        "audiences": ["app"]}}})).unwrap();
    /// let jwks = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]});
    /// // {"alg":"HS256"} . {} . 32 zero bytes: the claims fail, but the signature is asked first.
    /// let token = "eyJhbGciOiJIUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    /// let pending = engine.begin_verify_jwt(token, &jwks, Some(1_700_000_000)).unwrap();
    /// assert_eq!(pending.signature().algorithm, "HS256");
    /// assert_eq!(engine.finish_verify_jwt(pending, false).unwrap_err().code, "bad_signature");
    /// ```
    pub fn begin_verify_jwt(&self, token: &str, jwks: &Value, now: Option<i64>) -> Result<PendingJwt> {
        let now = checked_now(now)?;
        let keys = jose::jwks_keys(jwks)?;
        let compact = jose::parse_compact(token)?;
        let claims = jose::strict_object(&compact.payload, "payload")?;
        let policy = self.policy();
        let config = &policy.tokens().jwt;
        check_header(config, &compact.header)?;
        let key = check_key(
            &compact,
            KeySource::Cached(&keys, &self.tokens.signatures),
            &config.algorithms,
        )?;
        let message = compact.signing_input.as_bytes();
        // Hashed once: looked up now, recorded by `finish_verify_jwt`.
        let entry = SignatureCache::entry(&key, message, &compact.signature);
        let verified_before = key.fits(&compact.signature) && self.tokens.signatures.seen_id(&entry);
        let verdict = self.jwt_principal(claims, now, None);
        let mut pending = Pending::new(key, message, compact.signature, verdict);
        pending.verified_before = verified_before;
        pending.entry = Some(entry);
        Ok(pending)
    }

    /// The verdict of a [`Pending`] check, given whether its signature
    /// verified: `bad_signature` if not, else the held verdict (a principal,
    /// or the first claim check that failed). A verified signature is
    /// remembered, so the next [`Engine::begin_verify_jwt`] of the token says
    /// [`Pending::verified_before`].
    pub fn finish_verify_jwt<T>(&self, mut pending: Pending<T>, verified: bool) -> Result<T> {
        if !pending.verified_before && verified && pending.signature_fits() {
            if let Some(learn) = pending.learn.take() {
                // A check begun with a key set: the set remembers the token.
                let Learn {
                    keys,
                    token,
                    header,
                    claims,
                } = *learn;
                keys.remember(&token, header, claims, pending.key.clone());
            } else {
                let signatures = &self.tokens.signatures;
                match pending.entry {
                    Some(id) => signatures.remember_id(id),
                    None => signatures.remember(&pending.key, &pending.message, &pending.signature),
                }
            }
        }
        pending.finish(verified)
    }

    /// [`verify_jwt_with`](Self::verify_jwt_with) in two steps, for a host
    /// that answers the signature later (WebCrypto): every check but the
    /// signature's, in SPEC §6.1 order, the verdict held until
    /// [`Engine::finish_verify_jwt`] is given the host's answer. A token the
    /// set remembers is [`Pending::verified_before`] (no host is asked; its
    /// header, claims, time and issuer are still checked now). A signature
    /// that verifies is remembered by the set.
    ///
    /// Never fetches: a remote set with no usable keys at `now` is
    /// `jwks_unavailable`.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
    ///     "tokens": {"jwt": {"issuers": ["https://issuer.example"], "algorithms": ["HS256"],
    ///                        "token_use": null, "client_ids": null, "audiences": ["app"]}}})).unwrap();
    /// let set = tessera::token::KeySet::new(&json!({"keys": [{"kty": "oct",
    ///     "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]})).unwrap();
    /// let token = "eyJhbGciOiJIUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    /// let pending = engine.begin_verify_jwt_with(token, &set, Some(1_700_000_000)).unwrap();
    /// assert_eq!(pending.signature().algorithm, "HS256");
    /// assert_eq!(engine.finish_verify_jwt(pending, false).unwrap_err().code, "bad_signature");
    /// ```
    pub fn begin_verify_jwt_with(&self, token: &str, keys: &KeySet, now: Option<i64>) -> Result<PendingJwt> {
        let now = checked_now(now)?;
        let set = keys.usable(now)?;
        if let Some(seen) = set.remembered(token) {
            check_remembered(&self.policy().tokens().jwt, &seen)?;
            let verdict = self.jwt_principal(seen.claims.clone(), now, keys.issuer());
            let mut pending = Pending::new(seen.key.clone(), b"", Vec::new(), verdict);
            pending.verified_before = true;
            return Ok(pending);
        }
        self.begin_unseen(set, token, now, keys.issuer())
    }

    /// A token's segments, claims and key, checked in SPEC §6.1 order up to
    /// the signature (size and segments, header, key).
    fn unseen_parts<'t>(
        &self,
        set: &Keys,
        token: &'t str,
    ) -> Result<(Compact<'t>, Map<String, Value>, VerifyKey)> {
        let policy = self.policy();
        let config = &policy.tokens().jwt;
        let compact = jose::parse_compact(token)?;
        let claims = jose::strict_object(&compact.payload, "payload")?;
        check_header(config, &compact.header)?;
        let key = check_key(&compact, KeySource::Set(set), &config.algorithms)?;
        Ok((compact, claims, key))
    }

    /// The checks of a token the set does not remember, up to the signature.
    fn begin_unseen(
        &self,
        set: std::sync::Arc<Keys>,
        token: &str,
        now: i64,
        issuer: Option<&str>,
    ) -> Result<PendingJwt> {
        let (compact, claims, key) = self.unseen_parts(&set, token)?;
        let learn = Learn {
            keys: set,
            token: token.into(),
            header: compact.header,
            claims: claims.clone(),
        };
        let verdict = self.jwt_principal(claims, now, issuer);
        let mut pending = Pending::new(key, compact.signing_input.as_bytes(), compact.signature, verdict);
        pending.learn = Some(Box::new(learn));
        Ok(pending)
    }

    /// [`verify_jwt`](Self::verify_jwt) with a [`KeySet`]: the same checks,
    /// with the set's parsed keys, and a token verified before with this set
    /// answered from its memory (header and claims checks, time and policy
    /// still run on every call). When the set was made for one issuer
    /// (Cognito, OIDC), `iss` must also be that one (`wrong_issuer`).
    ///
    /// Never fetches: a remote set with no usable keys at `now` is
    /// `jwks_unavailable`; the host asks [`KeySet::needs_fetch`] first and
    /// [`KeySet::refetch_for`] after an `unknown_key`.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
    ///     "tokens": {"jwt": {"issuers": ["https://issuer.example"], "algorithms": ["HS256"],
    ///                        "token_use": null, "client_ids": null, "audiences": ["app"]}}})).unwrap();
    /// let set = tessera::token::KeySet::cognito("eu-west-1", "eu-west-1_Pool", Default::default()).unwrap();
    /// let err = engine.verify_jwt_with("a.b.c", &set, Some(1_700_000_000)).unwrap_err();
    /// assert_eq!(err.code, "jwks_unavailable");
    /// ```
    pub fn verify_jwt_with(&self, token: &str, keys: &KeySet, now: Option<i64>) -> Result<Principal> {
        self.verify_with(token, keys, now, true)
    }

    /// [`verify_jwt_with`](Self::verify_jwt_with) for a host that keeps its
    /// own answers (the npm package keeps each engine's verified tokens): the
    /// same checks, errors and principal, and a token the set remembers is
    /// still answered from its memory, but a token it does not is not added.
    /// That saves copying the token, its header and claims into the set's
    /// memory and, once the memory is full, dropping the oldest.
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
    ///     "tokens": {"jwt": {"issuers": ["https://issuer.example"], "algorithms": ["HS256"],
    ///                        "token_use": null, "client_ids": null, "audiences": ["app"]}}})).unwrap();
    /// let set = tessera::token::KeySet::new(&json!({"keys": [{"kty": "oct",
    ///     "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]})).unwrap();
    /// let token = "eyJhbGciOiJIUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    /// let err = engine.verify_jwt_with_unremembered(token, &set, Some(1_700_000_000)).unwrap_err();
    /// assert_eq!(err.code, "bad_signature");
    /// ```
    pub fn verify_jwt_with_unremembered(
        &self,
        token: &str,
        keys: &KeySet,
        now: Option<i64>,
    ) -> Result<Principal> {
        self.verify_with(token, keys, now, false)
    }

    fn verify_with(&self, token: &str, keys: &KeySet, now: Option<i64>, remember: bool) -> Result<Principal> {
        let now = checked_now(now)?;
        let set = keys.usable(now)?;
        if let Some(seen) = set.remembered(token) {
            // The hot path of a remembered token: no pending check to build.
            check_remembered(&self.policy().tokens().jwt, &seen)?;
            return self.jwt_principal(seen.claims.clone(), now, keys.issuer());
        }
        if !remember {
            // The checks of `begin_unseen`, with nothing copied for later:
            // the signature is answered now.
            let (compact, claims, key) = self.unseen_parts(&set, token)?;
            let verdict = self.jwt_principal(claims, now, keys.issuer());
            // `Keys::verify` refuses a signature of the wrong length unasked.
            if !set.verify(&key, compact.signing_input.as_bytes(), &compact.signature)? {
                return Err(bad_signature());
            }
            return verdict;
        }
        // One path with the host-answered form: begin, the signature with
        // the set's parsed key, finish (which makes the set remember it).
        let pending = self.begin_unseen(set.clone(), token, now, keys.issuer())?;
        let verified = set.verify(&pending.key, &pending.message, &pending.signature)?;
        self.finish_verify_jwt(pending, verified)
    }

    /// The claim checks and the principal, shared by every JWKS source.
    /// `issuer`: the one a [`KeySet`](super::KeySet) was made for, if any.
    pub(crate) fn jwt_principal(
        &self,
        claims: Map<String, Value>,
        now: i64,
        issuer: Option<&str>,
    ) -> Result<Principal> {
        let policy = self.policy();
        let config = &policy.tokens().jwt;
        let checked = check_claims(config, &claims, now)?;
        if let Some(expected) = issuer {
            // Checked after the policy's own issuer list, which already
            // passed: a key set made for one issuer (a Cognito pool) vouches
            // for no other, even when another issuer shares its keys.
            if claims.get("iss").and_then(Value::as_str) != Some(expected) {
                return Err(Error::token(
                    "wrong_issuer",
                    format!("this key set is for issuer `{expected}` only"),
                ));
            }
        }
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

impl Engine {
    /// The seconds `[from, until)` during which the time checks of SPEC §6.1
    /// (`exp`, `nbf`, `iat`, `auth_time` with `max_age_seconds`, all with the
    /// leeway) pass for these claims under the current policy. Every other
    /// check does not depend on `now`, so a host may keep a verified token's
    /// principal and answer with it while `from <= now < until`, for the same
    /// token, key set and policy (the npm package's verified-token cache).
    ///
    /// ```
    /// use serde_json::json;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
    ///     "tokens": {"jwt": {"issuers": ["i"], "audiences": ["a"], "leeway_seconds": 5}}})).unwrap();
    /// let claims = json!({"iat": 100, "exp": 200});
    /// assert_eq!(engine.jwt_valid_between(claims.as_object().unwrap()), (95, 205));
    /// ```
    pub fn jwt_valid_between(&self, claims: &Map<String, Value>) -> (i64, i64) {
        let policy = self.policy();
        let c = &policy.tokens().jwt;
        let leeway = c.leeway_seconds;
        let at = |name: &str, round| date(claims, name, round).ok().flatten();
        let mut from = i64::MIN;
        if let Some(nbf) = at("nbf", Round::Up) {
            from = from.max(nbf.saturating_sub(leeway));
        }
        if let Some(iat) = at("iat", Round::Up) {
            from = from.max(iat.saturating_sub(leeway));
        }
        let mut until = at("exp", Round::Up).map_or(i64::MIN, |exp| exp.saturating_add(leeway));
        if let Some(max_age) = c.max_age_seconds {
            let last = at("auth_time", Round::Down).map_or(i64::MIN, |t| {
                t.saturating_add(max_age).saturating_add(leeway).saturating_add(1)
            });
            until = until.min(last);
        }
        (from, until)
    }
}

/// `now` for a token check: the clock when `None`; a value that can only be
/// milliseconds (past the year 5000) is refused with a hint
/// (`invalid_argument`) rather than silently accepting every expired token.
///
/// ```
/// assert_eq!(tessera::token::checked_now(Some(1_700_000_000)).unwrap(), 1_700_000_000);
/// assert_eq!(tessera::token::checked_now(Some(1_700_000_000_000)).unwrap_err().code, "invalid_argument");
/// ```
pub fn checked_now(now: Option<i64>) -> Result<i64> {
    const LATEST_SECONDS: i64 = 100_000_000_000;
    match now {
        Some(n) if n > LATEST_SECONDS => Err(Error::argument(format!(
            "now = {n} looks like milliseconds; tessera takes whole seconds since the epoch \
             (JavaScript: Math.floor(Date.now() / 1000))"
        ))),
        other => Ok(now_or_clock(other)),
    }
}

/// What still holds a remembered token back: the policy's header rules and
/// its algorithm list may have changed since the token verified.
fn check_remembered(config: &JwtConfig, seen: &Verified) -> Result<()> {
    check_header(config, &seen.header)?;
    if !config.algorithms.iter().any(|a| a == seen.alg.name()) {
        return Err(Error::token(
            "unsupported_alg",
            format!("algorithm `{}` is not allowed", seen.alg.name()),
        ));
    }
    Ok(())
}

/// Header checks that depend on the policy, not on the key: a session
/// token's `typ` (`wrong_token_use`) and the policy's `typ` (`wrong_type`).
pub(crate) fn check_header(config: &JwtConfig, header: &Map<String, Value>) -> Result<()> {
    let typ = header_str(header, "typ")?;
    if let Some(typ) = typ {
        if typ.eq_ignore_ascii_case(SESSION_TYP) {
            return Err(Error::token(
                "wrong_token_use",
                "a tessera session token is not a provider JWT",
            ));
        }
    }
    if let Some(accepted) = &config.typ {
        let Some(typ) = typ else {
            return Err(Error::token(
                "wrong_type",
                format!("the header has no `typ`; `tokens.jwt.typ` requires one of {accepted:?}"),
            ));
        };
        if !accepted.contains(&media_type(typ)) {
            return Err(Error::token(
                "wrong_type",
                format!("header `typ` `{typ}` is not accepted; `tokens.jwt.typ` lists {accepted:?}"),
            ));
        }
    }
    Ok(())
}

/// A check done in everything but its signature: the verdict, held until the
/// signature's answer arrives (see [`Engine::begin_verify_jwt`],
/// [`begin_verify_jws`] and [`begin_verify_signature`]).
#[derive(Debug)]
pub struct Pending<T> {
    /// What was signed (for a JWS, the token up to its second dot).
    message: Vec<u8>,
    signature: Vec<u8>,
    key: VerifyKey,
    verified_before: bool,
    /// The signature cache's name for this signature, when one was asked.
    entry: Option<[u8; 32]>,
    /// For a check begun with a key set: what the set remembers once the
    /// signature verified.
    learn: Option<Box<Learn>>,
    verdict: Result<T>,
}

/// A token of a key-set check, remembered by the set when its signature
/// verifies ([`Engine::begin_verify_jwt_with`]).
struct Learn {
    keys: std::sync::Arc<Keys>,
    token: Box<str>,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl std::fmt::Debug for Learn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learn").finish_non_exhaustive()
    }
}

/// A provider JWT checked in everything but its signature.
pub type PendingJwt = Pending<Principal>;

impl<T> Pending<T> {
    fn new(key: VerifyKey, message: &[u8], signature: Vec<u8>, verdict: Result<T>) -> Pending<T> {
        Pending {
            message: message.to_vec(),
            signature,
            key,
            verified_before: false,
            entry: None,
            learn: None,
            verdict,
        }
    }

    /// The one signature the host must check.
    pub fn signature(&self) -> SignatureCheck<'_> {
        self.key.check(&self.message, &self.signature)
    }

    /// Whether this signature verified before (then no primitive is needed,
    /// and the answer given to `finish` is ignored).
    pub fn verified_before(&self) -> bool {
        self.verified_before
    }

    /// Whether the signature has the one length a valid one has; if not, it
    /// does not verify and no host needs to be asked.
    pub fn signature_fits(&self) -> bool {
        self.key.fits(&self.signature)
    }

    /// The verdict given whether the signature verified: `bad_signature` if
    /// not, else the held verdict (for a JWT, a principal or the first claim
    /// check that failed, in SPEC order).
    pub fn finish(self, verified: bool) -> Result<T> {
        if self.verified_before || (verified && self.signature_fits()) {
            self.verdict
        } else {
            Err(bad_signature())
        }
    }

    /// The held verdict, converted (a binding serialises it for the host).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Pending<U> {
        Pending {
            message: self.message,
            signature: self.signature,
            key: self.key,
            verified_before: self.verified_before,
            entry: self.entry,
            learn: self.learn,
            verdict: self.verdict.map(f),
        }
    }

    /// The verdict through the synchronous primitive (native, or the
    /// installed host): `unsupported_runtime` where there is none.
    fn verify_now(self) -> Result<T> {
        if !signature::has_sync_crypto() {
            return Err(signature::unsupported_runtime());
        }
        if self.verified_before || !self.signature_fits() {
            return self.finish(false);
        }
        let verified = signature::verify(&self.signature())?;
        self.finish(verified)
    }
}

/// [`verify_jws`] in two steps: every check but the signature's, then
/// [`Pending::finish`] with the host's answer.
pub fn begin_verify_jws(token: &str, jwks: &Value, algorithms: &[&str]) -> Result<Pending<VerifiedJws>> {
    let keys = jose::jwks_keys(jwks)?;
    let compact = jose::parse_compact(token)?;
    let algorithms: Vec<String> = algorithms.iter().map(|a| a.to_string()).collect();
    let key = check_key(&compact, KeySource::Fresh(&keys), &algorithms)?;
    let verdict = Ok(VerifiedJws {
        header: Value::Object(compact.header),
        payload: compact.payload,
        algorithm: key.alg.name().to_string(),
    });
    Ok(Pending::new(
        key,
        compact.signing_input.as_bytes(),
        compact.signature,
        verdict,
    ))
}

/// [`verify_signature`] in two steps: the key checks, then [`Pending::finish`]
/// with the host's answer.
pub fn begin_verify_signature(
    algorithm: &str,
    jwk: &Value,
    message: &[u8],
    signature: &[u8],
) -> Result<Pending<()>> {
    let alg = Alg::from_name(algorithm)
        .ok_or_else(|| Error::token("unsupported_alg", format!("unsupported algorithm `{algorithm}`")))?;
    let map = jwk
        .as_object()
        .ok_or_else(|| Error::argument("jwk: a JWK is a JSON object"))?;
    let key = jose::verify_key(alg, map).map_err(jose::KeyFault::into_jwks_error)?;
    Ok(Pending::new(key, message, signature.to_vec(), Ok(())))
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
    begin_verify_jws(token, jwks, algorithms)?.verify_now()
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
    begin_verify_signature(algorithm, jwk, message, signature)?.verify_now()
}

fn bad_signature() -> Error {
    Error::token("bad_signature", "signature does not verify")
}

/// Where [`check_key`] finds the key and what it remembers of it.
enum KeySource<'a> {
    /// A JWKS value, its keys checked anew (`verify_signature`).
    Fresh(&'a [&'a Map<String, Value>]),
    /// A JWKS value, keys that passed remembered by their members.
    Cached(&'a [&'a Map<String, Value>], &'a SignatureCache),
    /// A key set: parsed once, its checked keys held by position.
    Set(&'a Keys),
}

/// Steps 2–3: header and key. Returns the checked key the signature must
/// verify with.
fn check_key(compact: &Compact<'_>, source: KeySource<'_>, algorithms: &[String]) -> Result<VerifyKey> {
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
    match source {
        KeySource::Fresh(keys) => jose::verify_key(alg, jose::select_key(keys, kid, alg)?),
        KeySource::Cached(keys, cache) => cache.verify_key(alg, jose::select_key(keys, kid, alg)?),
        KeySource::Set(set) => return set.checked_key(kid, alg),
    }
    .map_err(jose::KeyFault::into_jwks_error)
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

/// A claim by its configured name: a JSON Pointer (RFC 6901) when it starts
/// with `/`, else one top-level member.
fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let Some(pointer) = name.strip_prefix('/') else {
        return claims.get(name);
    };
    let mut tokens = pointer
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"));
    let first = tokens.next()?;
    let mut at = claims.get(&first)?;
    for t in tokens {
        at = match at {
            Value::Object(m) => m.get(&t)?,
            // RFC 6901 §4: array indices are decimal without leading zeros.
            Value::Array(a) if t == "0" || (!t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit())) => {
                a.get(t.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(at)
}

/// A list claim (groups, scopes): a space-separated string or an array of
/// strings; absent is empty.
fn word_list(claims: &Map<String, Value>, name: &str) -> Result<Vec<String>> {
    match lookup(claims, name) {
        None => Ok(Vec::new()),
        // OAuth 2.0 `scope` is space-delimited (RFC 6749 §3.3); Cognito,
        // Entra and Keycloak send arrays.
        Some(Value::String(s)) => Ok(s.split_ascii_whitespace().map(str::to_string).collect()),
        Some(v) => string_array(v, name),
    }
}

fn accepted(list: &[String], key: &str) -> String {
    if list.is_empty() {
        format!("`tokens.jwt.{key}` in the policy is empty, so nothing is accepted yet; add this value to it")
    } else {
        format!("add it to `tokens.jwt.{key}` in the policy if it should be accepted")
    }
}

fn check_client(clients: Option<&Vec<String>>, client: &str) -> Result<()> {
    let Some(clients) = clients else {
        // Only reachable through a hand-built config (loading refuses it).
        return Err(Error::token(
            "wrong_client",
            "`tokens.jwt.client_ids` is null: no client is accepted",
        ));
    };
    if clients.iter().any(|x| x == client) {
        return Ok(());
    }
    Err(Error::token(
        "wrong_client",
        format!(
            "client `{client}` is not accepted; {}",
            accepted(clients, "client_ids")
        ),
    ))
}

fn check_audience(audiences: Option<&Vec<String>>, claims: &Map<String, Value>) -> Result<()> {
    let Some(audiences) = audiences else {
        return Err(Error::token(
            "wrong_audience",
            "`tokens.jwt.audiences` is null: no audience is accepted",
        ));
    };
    let aud = claims.get("aud").ok_or_else(|| missing("aud"))?;
    let auds = match aud {
        Value::String(s) => vec![s.clone()],
        other => string_array(other, "aud")?,
    };
    if auds.iter().any(|a| audiences.contains(a)) {
        return Ok(());
    }
    let shown = auds
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::token(
        "wrong_audience",
        format!(
            "no `aud` value ({shown}) is accepted; {}",
            accepted(audiences, "audiences")
        ),
    ))
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
            format!(
                "issuer `{iss}` is not trusted; {}",
                accepted(&c.issuers, "issuers")
            ),
        ));
    }
    // Which audience check runs is the policy's choice (its mode), never the
    // token's: a token cannot switch a check off by what it claims to be.
    match &c.token_use {
        Some(kinds) => {
            let used = string(claims, "token_use")?.ok_or_else(|| missing("token_use"))?;
            if !kinds.iter().any(|u| u == used) {
                return Err(Error::token(
                    "wrong_token_use",
                    format!(
                        "token_use `{used}` is not accepted; {}",
                        accepted(kinds, "token_use")
                    ),
                ));
            }
            // Cognito access tokens carry the app client in `client_id` and
            // have no `aud`; ID tokens carry it in `aud`.
            if used == "access" {
                let client = string(claims, "client_id")?.ok_or_else(|| missing("client_id"))?;
                check_client(c.client_ids.as_ref(), client)?;
            } else {
                check_audience(c.audiences.as_ref(), claims)?;
            }
        }
        None => {
            if c.audiences.is_some() {
                check_audience(c.audiences.as_ref(), claims)?;
            }
            if c.client_ids.is_some() {
                let client = match string(claims, "client_id")? {
                    Some(client) => client,
                    None => string(claims, "azp")?.ok_or_else(|| missing("client_id"))?,
                };
                check_client(c.client_ids.as_ref(), client)?;
            }
            if c.audiences.is_none() && c.client_ids.is_none() && !c.any_audience {
                return Err(Error::token("wrong_audience", "no audience check is configured"));
            }
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
    let id = match lookup(claims, &c.claims.id) {
        None => return Err(missing(&c.claims.id)),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(wrong_type(&c.claims.id, "a string")),
    };
    let groups = word_list(claims, &c.claims.groups)?;
    let scopes = word_list(claims, &c.claims.scopes)?;
    Ok(Checked {
        id,
        groups,
        scopes,
        exp,
    })
}
