//! The records a realm keeps of its users and live sessions, as its
//! snapshot writes them; [`super::tables`] indexes them and [`super::state`]
//! holds the tables.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// A user as the realm stores it (the snapshot's `users[i]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserRecord {
    pub id: String,
    pub username: String,
    pub roles: Vec<String>,
    /// Argon2id PHC string; `null` for a user who cannot log in.
    pub password_hash: Option<String>,
    pub created_at: i64,
}

/// A live session the realm issued (the snapshot's `sessions[i]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionRecord {
    // Ids inline (up to 24 bytes): every `authenticate` reads a session
    // record, and in a large realm it is cold in cache.
    /// The session id (`sid` claim).
    pub id: CompactString,
    pub user_id: CompactString,
    /// The API token the session was opened with, if any.
    pub api_token_id: Option<CompactString>,
    /// The latest `exp` of any token of this session; after it the session
    /// can neither be used nor renewed, and its record is dropped.
    pub expires_at: i64,
}
