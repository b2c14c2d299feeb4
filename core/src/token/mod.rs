//! Credentials: provider JWTs, the engine's own sessions, API tokens and
//! `Authorization` headers (SPEC §6).

use crate::error::Problem;
use serde_json::Value;

/// The policy's `tokens` section, checked at load time.
#[derive(Debug, Clone, Default)]
pub struct TokenConfig {
    /// The raw section, kept for the token checks to read.
    pub raw: Option<Value>,
}

impl TokenConfig {
    /// Checks `tokens` at `path`, pushing every problem found.
    pub(crate) fn parse(value: &Value, path: &str, problems: &mut Vec<Problem>) -> TokenConfig {
        if !value.is_object() {
            problems.push(Problem::new("wrong_type", "`tokens` must be an object", path));
        }
        TokenConfig {
            raw: Some(value.clone()),
        }
    }
}

/// Per-engine token state (caches); shared by every clone of the engine's policy.
#[derive(Debug, Default)]
pub struct TokenState {}
