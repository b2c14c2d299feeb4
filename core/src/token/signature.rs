//! The signature primitive, behind one seam (SPEC §6.1.1).
//!
//! Everything around a signature — segments, base64url, strict JSON, header
//! rules, key selection and key checks, claims — is the core's, in every
//! binding. What is left is the primitive: "is `signature` the `algorithm`
//! signature of `message` under this checked key?", and, for sessions, "sign
//! this". Natively (feature `native-crypto`, the default) `jsonwebtoken`'s
//! crypto provider answers: aws-lc-rs, or RustCrypto with `rust-crypto`.
//! Without it (the npm package's WebAssembly modules) no RSA, ECDSA or Ed25519
//! code is compiled in: the host installs a [`HostCrypto`] (`node:crypto`),
//! and an asynchronous host (WebCrypto) takes a [`PendingJwt`](super::PendingJwt)
//! instead and answers it later. With neither, anything that needs the
//! primitive fails with `unsupported_runtime`.

use super::alg::Alg;
use crate::error::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The public material of a key that passed the core's key checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An HMAC secret (JWK `oct` `k`).
    Oct(Vec<u8>),
    /// An RSA public key.
    Rsa {
        /// The modulus, big-endian, no leading zeros.
        n: Vec<u8>,
        /// The public exponent, big-endian, no leading zeros.
        e: Vec<u8>,
    },
    /// An EC public key.
    Ec {
        /// `P-256` or `P-384`.
        crv: &'static str,
        /// The x coordinate, big-endian, of the curve's size.
        x: Vec<u8>,
        /// The y coordinate, big-endian, of the curve's size.
        y: Vec<u8>,
    },
    /// An Ed25519 public key.
    Ed25519 {
        /// The 32-byte public key.
        x: Vec<u8>,
    },
}

impl PublicKey {
    /// The key as the JSON text of a JWK with only the members RFC 7638 §3.2
    /// requires, in its order. This is both the input of the thumbprint and a
    /// JWK that `node:crypto` and WebCrypto import.
    ///
    /// ```
    /// use tessera::token::PublicKey;
    /// let key = PublicKey::Ed25519 { x: vec![0; 32] };
    /// assert_eq!(key.jwk(), r#"{"crv":"Ed25519","kty":"OKP","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#);
    /// ```
    pub fn jwk(&self) -> String {
        let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        match self {
            PublicKey::Oct(k) => format!(r#"{{"k":"{}","kty":"oct"}}"#, b(k)),
            PublicKey::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(e), b(n)),
            PublicKey::Ec { crv, x, y } => {
                format!(r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#, b(x), b(y))
            }
            PublicKey::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(x)),
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256), raw bytes.
    pub fn thumbprint(&self) -> [u8; 32] {
        Sha256::digest(self.jwk().as_bytes()).into()
    }
}

/// One signature for the host to check: the algorithm's name (`RS256`, `ES256`
/// with an IEEE P1363 signature, `EdDSA`, `HS256`, ...), the checked key, and
/// the bytes.
#[derive(Debug, Clone, Copy)]
pub struct SignatureCheck<'a> {
    /// A JWS `alg` name of SPEC §6.1.
    pub algorithm: &'static str,
    /// The key, already checked against `algorithm`.
    pub key: &'a PublicKey,
    /// base64url of the key's RFC 7638 thumbprint: a stable name to cache
    /// the host's imported key under.
    pub thumbprint: &'a str,
    /// What was signed (for a JWS, its signing input).
    pub message: &'a [u8],
    /// The signature, of the length the algorithm and key give.
    pub signature: &'a [u8],
}

/// The signature primitive of a host without native crypto (the npm package:
/// `node:crypto`). Installed once with [`install_host_crypto`].
///
/// Anything the host cannot do — a key it cannot import, an algorithm it lacks
/// — is a failed verification (`false`), as with the native backends, never
/// an exception.
pub trait HostCrypto: Send + Sync {
    /// Whether `check.signature` verifies.
    fn verify(&self, check: &SignatureCheck<'_>) -> bool;
    /// The signature of `message` with `algorithm` (`HS256` with the raw
    /// secret, `EdDSA` with the 32-byte Ed25519 seed); `None` if it cannot.
    fn sign(&self, algorithm: &'static str, secret: &[u8], message: &[u8]) -> Option<Vec<u8>>;
    /// The Ed25519 public key of a 32-byte seed; `None` if it cannot.
    fn ed25519_public(&self, seed: &[u8]) -> Option<Vec<u8>>;
}

#[cfg(not(feature = "native-crypto"))]
static HOST: std::sync::OnceLock<Box<dyn HostCrypto>> = std::sync::OnceLock::new();

/// Installs the host's signature primitive. The first installation stays;
/// `false` if one already did, and always `false` with the `native-crypto`
/// feature, whose primitive is never replaced (so a binding compiles, and
/// behaves, the same whichever way the core was built).
pub fn install_host_crypto(host: Box<dyn HostCrypto>) -> bool {
    #[cfg(not(feature = "native-crypto"))]
    return HOST.set(host).is_ok();
    #[cfg(feature = "native-crypto")]
    {
        drop(host);
        false
    }
}

/// Whether a synchronous signature primitive is available (native crypto, or
/// an installed host).
pub fn has_sync_crypto() -> bool {
    #[cfg(feature = "native-crypto")]
    return true;
    #[cfg(not(feature = "native-crypto"))]
    return HOST.get().is_some();
}

/// The name of the crypto backend in use: `"aws-lc-rs"` or `"rustcrypto"`
/// natively, `"host"` where the host supplies it.
///
/// ```
/// assert!(["aws-lc-rs", "rustcrypto", "host"].contains(&tessera::token::crypto_backend()));
/// ```
pub fn crypto_backend() -> &'static str {
    if cfg!(not(feature = "native-crypto")) {
        "host"
    } else if cfg!(any(target_arch = "wasm32", feature = "rust-crypto")) {
        "rustcrypto"
    } else {
        "aws-lc-rs"
    }
}

/// The error of a call that needs a signature primitive where there is none
/// (a token error, code `unsupported_runtime`).
pub fn unsupported_runtime() -> Error {
    Error::token(
        "unsupported_runtime",
        "no synchronous signature primitive here (node:crypto is missing); use the asynchronous verifyJwt",
    )
}

/// The thumbprint's text form.
pub(crate) fn thumbprint_text(bytes: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Verifies through the primitive in use; `unsupported_runtime` if none.
pub(crate) fn verify(check: &SignatureCheck<'_>) -> Result<bool> {
    #[cfg(feature = "native-crypto")]
    return Ok(native::verify(check));
    #[cfg(not(feature = "native-crypto"))]
    return HOST
        .get()
        .map(|h| h.verify(check))
        .ok_or_else(unsupported_runtime);
}

/// Signs with HS256 (`secret` the raw secret) or EdDSA (`secret` the seed).
pub(crate) fn sign(alg: Alg, secret: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    #[cfg(feature = "native-crypto")]
    return native::sign(alg, secret, message);
    #[cfg(not(feature = "native-crypto"))]
    return HOST
        .get()
        .ok_or_else(unsupported_runtime)?
        .sign(alg.name(), secret, message)
        .ok_or_else(|| Error::argument("session key cannot sign"));
}

/// The Ed25519 public key of a seed, `None` if the seed is unusable.
pub(crate) fn ed25519_public(seed: &[u8]) -> Result<Option<Vec<u8>>> {
    #[cfg(feature = "native-crypto")]
    return Ok(native::ed25519_public(seed));
    #[cfg(not(feature = "native-crypto"))]
    return Ok(HOST.get().ok_or_else(unsupported_runtime)?.ed25519_public(seed));
}

#[cfg(feature = "native-crypto")]
mod native {
    //! `jsonwebtoken`'s crypto provider, chosen per target rather than
    //! through its process-wide default, so that enabling both backends (the
    //! `rust-crypto` feature natively) never reaches its "no provider
    //! installed" panic.
    use super::{Alg, PublicKey, SignatureCheck};
    use crate::error::{Error, Result};
    use jsonwebtoken::crypto::CryptoProvider;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

    #[cfg(any(target_arch = "wasm32", feature = "rust-crypto"))]
    static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    #[cfg(not(any(target_arch = "wasm32", feature = "rust-crypto")))]
    static PROVIDER: &CryptoProvider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;

    fn algorithm(name: &str) -> Option<Algorithm> {
        Some(match Alg::from_name(name)? {
            Alg::HS256 => Algorithm::HS256,
            Alg::HS384 => Algorithm::HS384,
            Alg::HS512 => Algorithm::HS512,
            Alg::RS256 => Algorithm::RS256,
            Alg::RS384 => Algorithm::RS384,
            Alg::RS512 => Algorithm::RS512,
            Alg::PS256 => Algorithm::PS256,
            Alg::PS384 => Algorithm::PS384,
            Alg::PS512 => Algorithm::PS512,
            Alg::ES256 => Algorithm::ES256,
            Alg::ES384 => Algorithm::ES384,
            Alg::EdDSA => Algorithm::EdDSA,
        })
    }

    fn decoding_key(key: &PublicKey) -> DecodingKey {
        match key {
            PublicKey::Oct(k) => DecodingKey::from_secret(k),
            PublicKey::Rsa { n, e } => DecodingKey::from_rsa_raw_components(n, e),
            PublicKey::Ec { x, y, .. } => {
                // An uncompressed SEC1 point: what both backends take for EC keys.
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                DecodingKey::from_ec_der(&point)
            }
            PublicKey::Ed25519 { x } => DecodingKey::from_ed_der(x),
        }
    }

    pub(super) fn verify(check: &SignatureCheck<'_>) -> bool {
        let Some(alg) = algorithm(check.algorithm) else {
            return false;
        };
        match (PROVIDER.verifier_factory)(&alg, &decoding_key(check.key)) {
            Ok(verifier) => verifier.verify(check.message, &check.signature.to_vec()).is_ok(),
            Err(_) => false,
        }
    }

    /// The fixed PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410 §7): the
    /// only form both backends take a private key in.
    fn ed25519_pkcs8(seed: &[u8]) -> Vec<u8> {
        const PREFIX: [u8; 16] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ];
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&PREFIX);
        der.extend_from_slice(seed);
        der
    }

    fn encoding_key(alg: Alg, secret: &[u8]) -> EncodingKey {
        if alg == Alg::EdDSA {
            EncodingKey::from_ed_der(&ed25519_pkcs8(secret))
        } else {
            EncodingKey::from_secret(secret)
        }
    }

    pub(super) fn sign(alg: Alg, secret: &[u8], message: &[u8]) -> Result<Vec<u8>> {
        let jwt = algorithm(alg.name()).ok_or_else(|| Error::argument("session key cannot sign"))?;
        let signer = (PROVIDER.signer_factory)(&jwt, &encoding_key(alg, secret))
            .map_err(|e| Error::argument(format!("session key cannot sign: {e}")))?;
        signer
            .try_sign(message)
            .map_err(|e| Error::argument(format!("session key cannot sign: {e}")))
    }

    pub(super) fn ed25519_public(seed: &[u8]) -> Option<Vec<u8>> {
        (PROVIDER.key_utils.ed_pub_components_from_private_key)(
            encoding_key(Alg::EdDSA, seed).as_bytes(),
            &jsonwebtoken::jwk::EllipticCurve::Ed25519,
        )
        .ok()
    }
}
