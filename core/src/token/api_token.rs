//! Long-lived API tokens (SPEC §6.3) for utilities and devices.
//!
//! A token reads `tsr_<id>_<secret>`: `id` is 16 random bytes and `secret`
//! 32 random bytes, each in fixed-width base62 (22 and 43 characters). The
//! host keeps only the record, whose `hash` is the lowercase hex SHA-256 of
//! the whole token text; the secret is shown once, at creation.
//!
//! Verification looks the record up by the (public) id, then compares hashes
//! in constant time; a wrong secret and an unknown id both answer
//! `unknown_token`, and a record's state and expiry are only revealed to a
//! caller holding its secret.

use super::config::MAX_SECONDS;
use super::util::{base62, base62_width, is_base62, now_or_clock, random_bytes, random_id, representable};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::request::{Credential, Principal};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix every API token starts with.
pub const API_TOKEN_PREFIX: &str = "tsr_";

/// Where an API token stands. Transitions: active ⇄ suspended, either →
/// revoked (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiTokenState {
    /// Verifies.
    Active,
    /// Refused (`suspended`) until resumed.
    Suspended,
    /// Refused (`revoked`) for good.
    Revoked,
}

impl ApiTokenState {
    /// The state as written in records (`"active"`, `"suspended"`, `"revoked"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiTokenState::Active => "active",
            ApiTokenState::Suspended => "suspended",
            ApiTokenState::Revoked => "revoked",
        }
    }
}

/// What a host stores for an API token (never the secret).
///
/// ```
/// use serde_json::json;
/// let r = tessera::token::ApiTokenRecord::from_json(&json!({
///     "id": "abc", "owner": "u-1", "roles": ["user"], "limits": null, "state": "active",
///     "created_at": 0, "expires_at": null, "hash": "00"})).unwrap();
/// assert_eq!(r.suspend().unwrap().state, tessera::token::ApiTokenState::Suspended);
/// assert_eq!(r.resume().unwrap_err().code, "invalid_transition");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenRecord {
    /// The public id (base62), the middle part of the secret.
    pub id: String,
    /// The principal id the token acts as.
    pub owner: String,
    /// The roles the token acts with.
    pub roles: Vec<String>,
    /// Labels narrowing what the token may do (SPEC §3); `null` for none.
    pub limits: Option<Vec<String>>,
    /// Active, suspended or revoked.
    pub state: ApiTokenState,
    /// When the token was made (seconds since the epoch).
    pub created_at: i64,
    /// `null` for a token that does not expire.
    pub expires_at: Option<i64>,
    /// Lowercase hex SHA-256 of the whole token text.
    pub hash: String,
}

/// Options of [`Engine::create_api_token`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenOptions {
    /// Seconds until the token expires; absent: it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifespan_seconds: Option<i64>,
    /// Labels narrowing what the token may do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Vec<String>>,
}

/// A freshly made API token: the secret (show it once) and the record to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    /// `tsr_<id>_<secret>`.
    pub secret: String,
    /// The record to store (it holds only a hash of the secret).
    pub record: ApiTokenRecord,
}

from_json!(ApiTokenRecord, "record");
from_json!(ApiTokenOptions, "options");
from_json!(NewApiToken, "token");

fn transition(
    record: &ApiTokenRecord,
    to: ApiTokenState,
    allowed: &[ApiTokenState],
) -> Result<ApiTokenRecord> {
    if !allowed.contains(&record.state) {
        return Err(Error::token(
            "invalid_transition",
            format!(
                "API token `{}` cannot go from {} to {}",
                record.id,
                record.state.as_str(),
                to.as_str()
            ),
        ));
    }
    Ok(ApiTokenRecord {
        state: to,
        ..record.clone()
    })
}

impl ApiTokenRecord {
    /// active → suspended. Any other start is `invalid_transition`.
    pub fn suspend(&self) -> Result<ApiTokenRecord> {
        transition(self, ApiTokenState::Suspended, &[ApiTokenState::Active])
    }

    /// suspended → active. Any other start is `invalid_transition`.
    pub fn resume(&self) -> Result<ApiTokenRecord> {
        transition(self, ApiTokenState::Active, &[ApiTokenState::Suspended])
    }

    /// active or suspended → revoked (final). Revoking twice is
    /// `invalid_transition`.
    ///
    /// ```
    /// let engine = tessera::Engine::new(&serde_json::json!({"version": 1, "roles": {}})).unwrap();
    /// let t = engine.create_api_token("u-1", &[], Some(0), &Default::default()).unwrap();
    /// let gone = t.record.revoke().unwrap();
    /// assert_eq!(gone.revoke().unwrap_err().code, "invalid_transition");
    /// ```
    pub fn revoke(&self) -> Result<ApiTokenRecord> {
        transition(
            self,
            ApiTokenState::Revoked,
            &[ApiTokenState::Active, ApiTokenState::Suspended],
        )
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Splits `tsr_<id>_<secret>`; `None` unless it has exactly that shape.
fn split_token(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(API_TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let shaped = is_base62(id) && id.len() <= 64 && is_base62(secret) && secret.len() == base62_width(32);
    shaped.then_some(id)
}

impl Engine {
    /// Makes an API token for `owner` with `roles` (SPEC §6.3). The secret is
    /// returned once; store only the record.
    ///
    /// Errors: `invalid_argument` for an empty owner, a lifespan outside
    /// 1..=10^10 seconds, or a limit that is not a label of this policy.
    ///
    /// ```
    /// use serde_json::json;
    /// use tessera::token::ApiTokenOptions;
    /// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {}})).unwrap();
    /// let options = ApiTokenOptions { lifespan_seconds: Some(3600), limits: Some(vec!["pull_device".into()]) };
    /// let t = engine.create_api_token("dev-1", &["user".to_string()], Some(100), &options).unwrap();
    /// assert!(t.secret.starts_with("tsr_"));
    /// assert_eq!(t.record.expires_at, Some(3700));
    /// let p = engine.verify_api_token(&t.secret, &[t.record.clone()], Some(200)).unwrap();
    /// assert_eq!(p.id.as_deref(), Some("dev-1"));
    /// assert_eq!(p.limits, Some(vec!["pull_device".to_string()]));
    /// ```
    pub fn create_api_token(
        &self,
        owner: &str,
        roles: &[String],
        now: Option<i64>,
        options: &ApiTokenOptions,
    ) -> Result<NewApiToken> {
        if owner.is_empty() {
            return Err(Error::argument("an API token needs an owner"));
        }
        if let Some(l) = options.lifespan_seconds {
            if !(1..=MAX_SECONDS).contains(&l) {
                return Err(Error::argument(format!(
                    "lifespan_seconds {l} is out of range (1 to {MAX_SECONDS})"
                )));
            }
        }
        if let Some(limits) = &options.limits {
            self.check_limits(limits)?;
        }
        let now = representable(now_or_clock(now))?;
        let id = random_id()?;
        let secret = format!("{API_TOKEN_PREFIX}{id}_{}", base62(&random_bytes::<32>()?));
        let record = ApiTokenRecord {
            hash: sha256_hex(&secret),
            id,
            owner: owner.to_string(),
            roles: roles.to_vec(),
            limits: options.limits.clone(),
            state: ApiTokenState::Active,
            created_at: now,
            expires_at: options
                .lifespan_seconds
                .map(|l| representable(now.saturating_add(l)))
                .transpose()?,
        };
        Ok(NewApiToken { secret, record })
    }

    /// Finds the record of an API token and returns its principal: `id` =
    /// owner, `roles`, `limits`, `credential: "api_token"`, `expires_at`,
    /// `api_token_id`.
    ///
    /// Errors, in order: `malformed` (not `tsr_<id>_<secret>`),
    /// `unknown_token` (no record with that id and hash), `revoked`,
    /// `suspended`, `expired` (`now >= expires_at`); `invalid_argument` if
    /// the matching record's `hash` is not 64 hex digits.
    ///
    /// ```
    /// let engine = tessera::Engine::new(&serde_json::json!({"version": 1, "roles": {}})).unwrap();
    /// let t = engine.create_api_token("dev-1", &[], Some(0), &Default::default()).unwrap();
    /// let suspended = t.record.suspend().unwrap();
    /// let err = engine.verify_api_token(&t.secret, &[suspended], Some(1)).unwrap_err();
    /// assert_eq!(err.code, "suspended");
    /// assert_eq!(engine.verify_api_token("tsr_x", &[], None).unwrap_err().code, "malformed");
    /// ```
    pub fn verify_api_token(
        &self,
        secret: &str,
        records: &[ApiTokenRecord],
        now: Option<i64>,
    ) -> Result<Principal> {
        let id = split_token(secret)
            .ok_or_else(|| Error::token("malformed", "an API token reads tsr_<id>_<secret>"))?;
        let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let mut found = None;
        for record in records.iter().filter(|r| r.id == id) {
            let stored = hex32(&record.hash).ok_or_else(|| {
                Error::argument(format!("API token record `{}` has a malformed hash", record.id))
            })?;
            if bool::from(stored.ct_eq(&presented)) && found.is_none() {
                found = Some(record);
            }
        }
        let record = found.ok_or_else(|| Error::token("unknown_token", "no such API token"))?;
        match record.state {
            ApiTokenState::Revoked => return Err(Error::token("revoked", "API token is revoked")),
            ApiTokenState::Suspended => return Err(Error::token("suspended", "API token is suspended")),
            ApiTokenState::Active => {}
        }
        let now = now_or_clock(now);
        if let Some(exp) = record.expires_at {
            if now >= exp {
                return Err(Error::token("expired", format!("API token expired at {exp}")));
            }
        }
        Ok(Principal {
            id: Some(record.owner.clone()),
            roles: record.roles.clone(),
            limits: record.limits.clone(),
            credential: Some(Credential::ApiToken),
            expires_at: record.expires_at,
            api_token_id: Some(record.id.clone()),
            ..Principal::default()
        })
    }

    /// Makes a new token with the old one's owner, roles, limits and
    /// lifespan (counted from `now`), and returns it with the old record,
    /// revoked. The old token may be active or suspended (a suspended,
    /// possibly leaked token is the usual thing to replace); a revoked one is
    /// `invalid_transition`.
    ///
    /// ```
    /// let engine = tessera::Engine::new(&serde_json::json!({"version": 1, "roles": {}})).unwrap();
    /// let old = engine.create_api_token("u-1", &[], Some(0), &Default::default()).unwrap();
    /// let (new, old_record) = engine.replace_api_token(&old.record, Some(5)).unwrap();
    /// assert_eq!(old_record.state, tessera::token::ApiTokenState::Revoked);
    /// assert_eq!(new.record.created_at, 5);
    /// assert_ne!(new.record.id, old.record.id);
    /// ```
    pub fn replace_api_token(
        &self,
        old: &ApiTokenRecord,
        now: Option<i64>,
    ) -> Result<(NewApiToken, ApiTokenRecord)> {
        let revoked = old.revoke()?;
        let lifespan = old
            .expires_at
            .map(|exp| exp.saturating_sub(old.created_at).clamp(1, MAX_SECONDS));
        let options = ApiTokenOptions {
            lifespan_seconds: lifespan,
            limits: old.limits.clone(),
        };
        let new = self.create_api_token(&old.owner, &old.roles, now, &options)?;
        Ok((new, revoked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape_is_strict() {
        let secret = "A".repeat(43);
        assert_eq!(split_token(&format!("tsr_abc_{secret}")), Some("abc"));
        assert_eq!(split_token(&format!("tsr__{secret}")), None);
        assert_eq!(split_token(&format!("tsr_abc_{secret}A")), None);
        assert_eq!(split_token(&format!("tsx_abc_{secret}")), None);
        assert_eq!(split_token(&format!("tsr_a-c_{secret}")), None);
        assert_eq!(split_token(&format!("tsr_abc_{secret}_x")), None);
    }

    #[test]
    fn hex_round_trip() {
        let h = sha256_hex("x");
        assert_eq!(h.len(), 64);
        assert!(hex32(&h).is_some());
        assert!(hex32(&h[1..]).is_none());
        assert!(hex32(&format!("{}g", &h[1..])).is_none());
    }
}
