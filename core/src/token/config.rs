//! The policy's `tokens` section (SPEC §6): what a provider JWT must look like
//! and how long sessions live. Checked whole at policy load; every problem is
//! reported with its JSON path.

use super::jose::Alg;
use crate::error::Problem;
use crate::schema::{as_object, check_keys, key_path, wrong_type};
use serde::Serialize;
use serde_json::Value;

/// The policy's `tokens` section, checked at load time.
///
/// Absent keys take the defaults documented on [`JwtConfig`] and
/// [`SessionConfig`].
///
/// ```
/// use serde_json::json;
/// let engine = tessera::Engine::new(&json!({"version": 1, "roles": {},
///     "tokens": {"session": {"ttl_seconds": 600}}})).unwrap();
/// let tokens = engine.policy().tokens().clone();
/// assert_eq!(tokens.session.ttl_seconds, 600);
/// assert_eq!(tokens.session.max_lifetime_seconds, 172_800);
/// assert_eq!(tokens.jwt.algorithms, vec!["RS256"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TokenConfig {
    /// `tokens.jwt`: provider JWTs (SPEC §6.1).
    pub jwt: JwtConfig,
    /// `tokens.session`: sessions issued by this engine (SPEC §6.2).
    pub session: SessionConfig,
}

/// `tokens.jwt`: which provider JWTs [`crate::Engine::verify_jwt`] accepts.
///
/// Defaults fail closed: no issuer is trusted until `issuers` names one, and
/// with `client_ids` / `audiences` empty no access token / ID token passes.
/// `null` for `client_ids`, `audiences` or `token_use` means "not checked"
/// (the way aws-jwt-verify takes `clientId: null`); an empty list means
/// "nothing accepted".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtConfig {
    /// Exact `iss` values accepted. Default: none.
    pub issuers: Vec<String>,
    /// `client_id` values accepted in access tokens (`token_use: "access"`).
    /// Default: `[]`; `None` (`null`) skips the check.
    pub client_ids: Option<Vec<String>>,
    /// `aud` values accepted in ID tokens and in tokens without `token_use`.
    /// Default: `[]`; `None` (`null`) skips the check.
    pub audiences: Option<Vec<String>>,
    /// Accepted `token_use` values (`access`, `id`). Default `None`: the claim
    /// is not required (non-Cognito providers do not send it).
    pub token_use: Option<Vec<String>>,
    /// The algorithm allow-list. Default `["RS256"]` (Cognito). `none` is
    /// never allowed.
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf`, `iat` and `auth_time`. Default 0.
    pub leeway_seconds: i64,
    /// When set, `auth_time` is required and may be at most this old.
    pub max_age_seconds: Option<i64>,
    /// Which claims carry the principal's id, groups and scopes.
    pub claims: ClaimNames,
}

/// `tokens.jwt.claims`: claim names mapped into the principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimNames {
    /// Default `sub`.
    pub id: String,
    /// Default `cognito:groups`.
    pub groups: String,
    /// Default `scope`.
    pub scopes: String,
}

/// `tokens.session`: lifetimes of sessions issued by this engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionConfig {
    /// Lifetime of one session token. Default 1800 (30 minutes).
    pub ttl_seconds: i64,
    /// Ceiling from the session's start (`auth_time`), across renewals.
    /// Default 172800 (48 hours).
    pub max_lifetime_seconds: i64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            issuers: Vec::new(),
            client_ids: Some(Vec::new()),
            audiences: Some(Vec::new()),
            token_use: None,
            algorithms: vec!["RS256".to_string()],
            leeway_seconds: 0,
            max_age_seconds: None,
            claims: ClaimNames::default(),
        }
    }
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            id: "sub".to_string(),
            groups: "cognito:groups".to_string(),
            scopes: "scope".to_string(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            ttl_seconds: 1800,
            max_lifetime_seconds: 172_800,
        }
    }
}

/// Lifetimes and leeway above ~317 years are refused so `now + ttl` cannot
/// overflow for any realistic `now`.
pub(crate) const MAX_SECONDS: i64 = 10_000_000_000;

impl TokenConfig {
    /// Checks `tokens` at `path`, pushing every problem found.
    pub(crate) fn parse(value: &Value, path: &str, problems: &mut Vec<Problem>) -> TokenConfig {
        let mut config = TokenConfig::default();
        let Some(map) = as_object(value, path, problems) else {
            return config;
        };
        check_keys(map, &["jwt", "session"], path, problems);
        if let Some(jwt) = map.get("jwt") {
            config.jwt = JwtConfig::parse(jwt, &key_path(path, "jwt"), problems);
        }
        if let Some(session) = map.get("session") {
            config.session = SessionConfig::parse(session, &key_path(path, "session"), problems);
        }
        config
    }
}

impl JwtConfig {
    fn parse(value: &Value, path: &str, problems: &mut Vec<Problem>) -> JwtConfig {
        let mut c = JwtConfig::default();
        let Some(map) = as_object(value, path, problems) else {
            return c;
        };
        check_keys(
            map,
            &[
                "issuers",
                "client_ids",
                "audiences",
                "token_use",
                "algorithms",
                "leeway_seconds",
                "max_age_seconds",
                "claims",
            ],
            path,
            problems,
        );
        if let Some(v) = map.get("issuers") {
            c.issuers = strings(v, &key_path(path, "issuers"), problems);
        }
        if let Some(v) = map.get("client_ids") {
            c.client_ids = nullable_strings(v, &key_path(path, "client_ids"), problems);
        }
        if let Some(v) = map.get("audiences") {
            c.audiences = nullable_strings(v, &key_path(path, "audiences"), problems);
        }
        if let Some(v) = map.get("token_use") {
            let p = key_path(path, "token_use");
            c.token_use = nullable_strings(v, &p, problems);
            for (i, u) in c.token_use.iter().flatten().enumerate() {
                if u != "access" && u != "id" {
                    problems.push(Problem::new(
                        "invalid_value",
                        format!("unknown token_use `{u}` (expected `access` or `id`)"),
                        format!("{p}[{i}]"),
                    ));
                }
            }
        }
        if let Some(v) = map.get("algorithms") {
            let p = key_path(path, "algorithms");
            c.algorithms = strings(v, &p, problems);
            for (i, a) in c.algorithms.iter().enumerate() {
                if Alg::from_name(a).is_none() {
                    problems.push(Problem::new(
                        "invalid_value",
                        format!(
                            "unsupported algorithm `{a}` (expected one of: {})",
                            Alg::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
                        ),
                        format!("{p}[{i}]"),
                    ));
                }
            }
            if c.algorithms.is_empty() && v.is_array() {
                problems.push(Problem::new(
                    "invalid_value",
                    "`algorithms` must name at least one algorithm",
                    p,
                ));
            }
        }
        if let Some(v) = map.get("leeway_seconds") {
            c.leeway_seconds = seconds(v, &key_path(path, "leeway_seconds"), 0, problems).unwrap_or(0);
        }
        if let Some(v) = map.get("max_age_seconds") {
            c.max_age_seconds = if v.is_null() {
                None
            } else {
                seconds(v, &key_path(path, "max_age_seconds"), 0, problems)
            };
        }
        if let Some(v) = map.get("claims") {
            let p = key_path(path, "claims");
            if let Some(m) = as_object(v, &p, problems) {
                check_keys(m, &["id", "groups", "scopes"], &p, problems);
                for (key, slot) in [
                    ("id", &mut c.claims.id),
                    ("groups", &mut c.claims.groups),
                    ("scopes", &mut c.claims.scopes),
                ] {
                    match m.get(key) {
                        None => {}
                        Some(Value::String(s)) if !s.is_empty() => *slot = s.clone(),
                        Some(other) => wrong_type(problems, &key_path(&p, key), "a claim name", other),
                    }
                }
            }
        }
        c
    }
}

impl SessionConfig {
    fn parse(value: &Value, path: &str, problems: &mut Vec<Problem>) -> SessionConfig {
        let mut c = SessionConfig::default();
        let Some(map) = as_object(value, path, problems) else {
            return c;
        };
        check_keys(map, &["ttl_seconds", "max_lifetime_seconds"], path, problems);
        if let Some(v) = map.get("ttl_seconds") {
            if let Some(s) = seconds(v, &key_path(path, "ttl_seconds"), 1, problems) {
                c.ttl_seconds = s;
            }
        }
        if let Some(v) = map.get("max_lifetime_seconds") {
            if let Some(s) = seconds(v, &key_path(path, "max_lifetime_seconds"), 1, problems) {
                c.max_lifetime_seconds = s;
            }
        }
        c
    }
}

/// A whole number of seconds in `min..=MAX_SECONDS`.
fn seconds(v: &Value, path: &str, min: i64, problems: &mut Vec<Problem>) -> Option<i64> {
    match v.as_i64() {
        Some(n) if (min..=MAX_SECONDS).contains(&n) => Some(n),
        Some(n) => {
            problems.push(Problem::new(
                "invalid_value",
                format!("{n} is out of range ({min} to {MAX_SECONDS} seconds)"),
                path,
            ));
            None
        }
        None => {
            wrong_type(problems, path, "a whole number of seconds", v);
            None
        }
    }
}

fn strings(v: &Value, path: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    crate::schema::string_list(v, path, problems)
        .into_iter()
        .map(|(s, _)| s.to_string())
        .collect()
}

fn nullable_strings(v: &Value, path: &str, problems: &mut Vec<Problem>) -> Option<Vec<String>> {
    if v.is_null() {
        None
    } else {
        Some(strings(v, path, problems))
    }
}
