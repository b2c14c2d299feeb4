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
/// with `client_ids` / `audiences` empty no token passes. Which audience
/// check runs follows from the policy alone (SPEC §6.1), never from a claim
/// of the token:
///
/// - **Cognito mode** (`token_use` a list, the default `["access"]`): the
///   token's `token_use` must be listed; an access token is checked
///   `client_id` ∈ `client_ids`, an ID token `aud` ∈ `audiences`. Accepting a
///   kind whose list is `null` is a load error.
/// - **Generic mode** (`token_use: null`): `aud` must meet `audiences` unless
///   that is `null`, and `client_id` (else `azp`) must be in `client_ids`
///   unless that is `null`; both `null` is a load error unless
///   `any_audience` is `true`.
///
/// ```
/// use serde_json::json;
/// let err = tessera::Engine::new(&json!({"version": 1, "roles": {},
///     "tokens": {"jwt": {"token_use": null, "client_ids": null, "audiences": null}}})).err().unwrap();
/// assert!(err.problems[0].message.contains("any_audience"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtConfig {
    /// Exact `iss` values accepted. Default: none.
    pub issuers: Vec<String>,
    /// `client_id` values accepted: Cognito access tokens; in generic mode
    /// `client_id` or else `azp`. Default: `[]`; `None` (`null`) skips the
    /// check where the mode allows it.
    pub client_ids: Option<Vec<String>>,
    /// `aud` values accepted: Cognito ID tokens; in generic mode every token.
    /// Default: `[]`; `None` (`null`) skips the check where the mode allows it.
    pub audiences: Option<Vec<String>>,
    /// Accepted `token_use` values (`access`, `id`). Default `["access"]`
    /// (Cognito mode); `None` (`null`) selects generic mode.
    pub token_use: Option<Vec<String>>,
    /// Accepted header `typ` values (RFC 9068: `at+jwt`), stored lower case
    /// without an `application/` prefix. Default `None`: not checked.
    pub typ: Option<Vec<String>>,
    /// Generic mode only: allows `client_ids` and `audiences` both `null`
    /// (every audience accepted). Default `false`.
    pub any_audience: bool,
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
///
/// A name starting with `/` is a JSON Pointer (RFC 6901) into the payload
/// (Keycloak: `/realm_access/roles`); any other name is one top-level member,
/// so `https://example.com/groups` works as written.
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
            token_use: Some(vec!["access".to_string()]),
            typ: None,
            any_audience: false,
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
                "typ",
                "any_audience",
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
        if let Some(v) = map.get("typ") {
            let p = key_path(path, "typ");
            c.typ = nullable_strings(v, &p, problems).map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let t = media_type(t);
                        if t.is_empty() {
                            problems.push(Problem::new(
                                "invalid_value",
                                "an empty `typ`",
                                format!("{p}[{i}]"),
                            ));
                        }
                        t
                    })
                    .collect()
            });
        }
        if let Some(v) = map.get("any_audience") {
            match v {
                Value::Bool(b) => c.any_audience = *b,
                other => wrong_type(problems, &key_path(path, "any_audience"), "true or false", other),
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
                        Some(Value::String(s)) if s.starts_with('/') && !valid_pointer(s) => {
                            problems.push(Problem::new(
                                "invalid_value",
                                format!(
                                    "`{s}` is not a JSON Pointer (RFC 6901: `~` must be followed by 0 or 1)"
                                ),
                                key_path(&p, key),
                            ));
                        }
                        Some(Value::String(s)) if !s.is_empty() => *slot = s.clone(),
                        Some(other) => wrong_type(problems, &key_path(&p, key), "a claim name", other),
                    }
                }
            }
        }
        c.check_mode(path, problems);
        c
    }

    /// The mode rules of SPEC §6.1: no accepted token kind may go without
    /// its audience check unless the policy says so in as many words.
    fn check_mode(&self, path: &str, problems: &mut Vec<Problem>) {
        match &self.token_use {
            Some(uses) => {
                for (kind, list, key) in [
                    ("access", &self.client_ids, "client_ids"),
                    ("id", &self.audiences, "audiences"),
                ] {
                    if uses.iter().any(|u| u == kind) && list.is_none() {
                        problems.push(Problem::new(
                            "invalid_value",
                            format!(
                                "`token_use` accepts {kind} tokens, so `{key}` cannot be null: list the accepted \
                                 values (for Cognito, the app client id), or set `token_use: null` for a \
                                 provider that sends no `token_use`"
                            ),
                            key_path(path, key),
                        ));
                    }
                }
            }
            None => {
                if self.client_ids.is_none() && self.audiences.is_none() && !self.any_audience {
                    problems.push(Problem::new(
                        "invalid_value",
                        "with `token_use: null` and both `audiences` and `client_ids` null, any token of a \
                         trusted issuer would pass: set `audiences` (or `client_ids`), or `\"any_audience\": true` \
                         to accept every audience on purpose",
                        key_path(path, "audiences"),
                    ));
                }
            }
        }
    }
}

/// A `typ` as RFC 9068 §4 compares it: case-insensitive, `application/`
/// optional.
pub(crate) fn media_type(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_string(),
        None => lower,
    }
}

/// RFC 6901 §3: after `/`, `~` is only ever `~0` or `~1`.
fn valid_pointer(p: &str) -> bool {
    let mut chars = p.chars();
    while let Some(ch) = chars.next() {
        if ch == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return false;
        }
    }
    true
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
