//! A key set's public keys parsed once by the native backend (aws-lc-rs's
//! `ParsedPublicKey`, the crate jsonwebtoken's provider already uses), so
//! that verifying a new token through a [`KeySet`](super::KeySet) costs one
//! signature check and not also a key parse. Only RSA and ECDSA keys, only
//! natively with the aws-lc-rs backend; every key check (sizes, exponents,
//! ROCA, curves) has already run in `jose::verify_key`, and every other
//! key and build goes through the signature seam as for a plain JWKS.

use super::jose::VerifyKey;
#[cfg(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
))]
use super::{jose::Alg, signature::PublicKey};

/// A parsed public key.
#[cfg(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
))]
pub(crate) struct Prepared(aws_lc_rs::signature::ParsedPublicKey);

/// Nothing is prepared without the aws-lc-rs backend.
#[cfg(not(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
)))]
pub(crate) struct Prepared;

#[cfg(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
))]
mod der {
    /// DER `INTEGER` of a big-endian unsigned number.
    pub(super) fn uint(out: &mut Vec<u8>, n: &[u8]) {
        let first = n
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(n.len().saturating_sub(1));
        let n = &n[first..];
        let pad = n.first().is_some_and(|b| b & 0x80 != 0);
        out.push(0x02);
        len(out, n.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(n);
    }

    pub(super) fn len(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len() - 1);
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
}

/// `key` parsed by the backend, when it can keep it parsed.
#[cfg(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
))]
pub(crate) fn prepare(key: &VerifyKey) -> Option<Prepared> {
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
    let (algorithm, bytes): (&'static dyn VerificationAlgorithm, Vec<u8>) = match (&key.key, key.alg) {
        (PublicKey::Rsa { n, e }, alg) => {
            // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
            let mut body = Vec::with_capacity(n.len() + e.len() + 8);
            der::uint(&mut body, n);
            der::uint(&mut body, e);
            let mut der_key = vec![0x30];
            der::len(&mut der_key, body.len());
            der_key.extend_from_slice(&body);
            let algorithm: &'static dyn VerificationAlgorithm = match alg {
                Alg::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                Alg::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                Alg::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                Alg::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
                Alg::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
                Alg::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
                _ => return None,
            };
            (algorithm, der_key)
        }
        (PublicKey::Ec { x, y, .. }, alg) => {
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            let algorithm: &'static dyn VerificationAlgorithm = match alg {
                Alg::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
                Alg::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
                _ => return None,
            };
            (algorithm, point)
        }
        _ => return None,
    };
    ParsedPublicKey::new(algorithm, bytes).ok().map(Prepared)
}

#[cfg(not(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
)))]
pub(crate) fn prepare(_key: &VerifyKey) -> Option<Prepared> {
    None
}

/// Whether `signature` over `message` verifies with the parsed key (its
/// length already checked against the key).
#[cfg(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
))]
pub(crate) fn verify(p: &Prepared, message: &[u8], signature: &[u8]) -> bool {
    p.0.verify_sig(message, signature).is_ok()
}

#[cfg(not(all(
    feature = "native-crypto",
    not(feature = "rust-crypto"),
    not(target_arch = "wasm32")
)))]
pub(crate) fn verify(_p: &Prepared, _message: &[u8], _signature: &[u8]) -> bool {
    false
}
