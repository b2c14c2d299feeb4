//! Credentials (SPEC §6): everything a host needs to turn a credential into a
//! [`Principal`](crate::Principal), with stable error codes and a
//! deterministic `now`.
//!
//! - [`Engine::verify_jwt`](crate::Engine::verify_jwt): provider JWTs
//!   (Cognito access and ID tokens, any JWKS issuer).
//! - [`Engine::issue_session`](crate::Engine::issue_session),
//!   [`renew_session`](crate::Engine::renew_session),
//!   [`verify_session`](crate::Engine::verify_session): the engine's own
//!   sessions, signed with a host key (HS256 or EdDSA).
//! - [`Engine::create_api_token`](crate::Engine::create_api_token),
//!   [`verify_api_token`](crate::Engine::verify_api_token),
//!   [`replace_api_token`](crate::Engine::replace_api_token) and
//!   [`ApiTokenRecord`]'s transitions: long-lived `tsr_` tokens.
//! - [`parse_authorization`]: `Authorization` header values.
//!
//! Every failure is an [`Error`](crate::Error) of kind `token` whose `code`
//! is one of SPEC §6's (`too_large`, `malformed`, `unsupported_alg`,
//! `unsupported_crit`, `unknown_key`, `weak_key`, `bad_signature`, `expired`,
//! `not_yet_valid`, `wrong_issuer`, `wrong_token_use`, `wrong_client`,
//! `wrong_audience`, `wrong_type`, `too_old`, `missing_claim`, `jwks_unavailable`, `session_ended`, `revoked`,
//! `unknown_token`, `suspended`), plus `invalid_transition` for an illegal
//! API-token state change; wrongly shaped inputs are `invalid_argument`.
//! The choices made where SPEC is silent are listed in `docs/tokens.md`.

/// `from_json` for the token types: a wrong shape is `invalid_argument`.
/// Defined before the submodules so that they can use it.
macro_rules! from_json {
    ($t:ty, $what:literal) => {
        impl $t {
            #[doc = concat!("Reads `", $what, "` from JSON; a wrong shape is `invalid_argument` with a path.")]
            pub fn from_json(value: &Value) -> Result<$t> {
                crate::argument::from_value(value, $what)
            }
        }
    };
}

mod alg;
mod api_token;
pub(crate) mod config;
mod ed25519;
mod header;
pub(crate) mod jose;
mod jwt;
mod keyset;
mod memo;
mod prepared;
mod session;
mod signature;
mod util;

pub use api_token::{ApiTokenOptions, ApiTokenRecord, ApiTokenState, NewApiToken, API_TOKEN_PREFIX};
pub use config::{ClaimNames, JwtConfig, SessionConfig, TokenConfig};
pub use header::parse_authorization;
pub use jose::{TokenState, MAX_TOKEN_BYTES};
pub use jwt::{
    begin_verify_jws, begin_verify_signature, checked_now, verify_jws, verify_signature, Pending, PendingJwt,
    VerifiedJws,
};
pub use keyset::{KeySet, KeySetOptions};
pub(crate) use session::SessionKey;
pub use session::{secret_jwk, Revocations, SessionGrant, SessionOptions, SESSION_TYP};
pub use signature::{
    crypto_backend, has_sync_crypto, install_host_crypto, unsupported_runtime, HostCrypto, PublicKey,
    SignatureCheck,
};
pub(crate) use util::random_id;
pub use util::{now_or_clock, MAX_TIME};

use crate::engine::Engine;

impl Engine {
    /// How many verified signatures the engine remembers (at most 4096).
    ///
    /// ```
    /// let engine = tessera::Engine::new(&serde_json::json!({"version": 1, "roles": {}})).unwrap();
    /// assert_eq!(engine.token_cache_len(), 0);
    /// ```
    pub fn token_cache_len(&self) -> usize {
        self.tokens.signatures.len()
    }

    /// Forgets every verified signature (the next verification of each token
    /// redoes the cryptography). Never needed for correctness.
    pub fn clear_token_cache(&self) {
        self.tokens.signatures.clear();
    }
}
