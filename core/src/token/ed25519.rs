//! Strict Ed25519 (SPEC §6.1): the encodings a verifier must refuse before
//! any signature check, so that no backend's leniency decides.
//!
//! - A public key of small order (one of the eight points of the torsion
//!   subgroup: the identity, the point of order 2, two of order 4, four of
//!   order 8) verifies a constant signature over every message: `weak_key`.
//! - A non-canonical encoding (y ≥ p, or the sign bit set where x = 0) is
//!   one key with several spellings: `weak_key`.
//! - A signature whose R is such an encoding, or whose S is not below the
//!   group order L, is malleable: a bad signature (as `verify_strict` of
//!   ed25519-dalek; RFC 8032 §5.1.7 requires S < L).
//!
//! Only byte comparisons: no curve arithmetic is done here.

/// The canonical encodings of the eight points of small order.
const SMALL_ORDER: [[u8; 32]; 8] = [
    hex("0100000000000000000000000000000000000000000000000000000000000000"),
    hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex("0000000000000000000000000000000000000000000000000000000000000000"),
    hex("0000000000000000000000000000000000000000000000000000000000000080"),
    hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

/// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const ORDER: [u8; 32] = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

const fn hex(text: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        }
    }
    let b = text.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = digit(b[2 * i]) << 4 | digit(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// Whether little-endian `a` < little-endian `b`.
fn less(a: &[u8], b: &[u8; 32]) -> bool {
    for i in (0..32).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// Why a 32-byte point encoding cannot be trusted, if it cannot.
fn point_fault(enc: &[u8]) -> Option<&'static str> {
    // y is the low 255 bits; p = 2^255 - 19 is ed ff .. ff 7f.
    let mut y = [0u8; 32];
    y.copy_from_slice(enc);
    y[31] &= 0x7f;
    let p = hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    if !less(&y, &p) {
        return Some("is not canonically encoded (y is not below p)");
    }
    let sign = enc[31] & 0x80 != 0;
    // x = 0 exactly when y = ±1; then the sign bit must be clear.
    let one = hex("0100000000000000000000000000000000000000000000000000000000000000");
    let minus_one = hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    if sign && (y == one || y == minus_one) {
        return Some("is not canonically encoded (sign bit set with x = 0)");
    }
    if SMALL_ORDER.iter().any(|s| s[..] == enc[..]) {
        return Some("has small order");
    }
    None
}

/// Why a public key `x` is weak, if it is (`x` is 32 bytes).
pub(crate) fn weakness(x: &[u8]) -> Option<&'static str> {
    if x.len() != 32 {
        return Some("is not 32 bytes");
    }
    point_fault(x)
}

/// Whether a 64-byte signature `R || S` passes the strict encoding checks.
pub(crate) fn strict_signature(signature: &[u8]) -> bool {
    signature.len() == 64 && point_fault(&signature[..32]).is_none() && less(&signature[32..], &ORDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_and_non_canonical_keys_are_weak() {
        for key in SMALL_ORDER {
            assert_eq!(weakness(&key), Some("has small order"));
        }
        // p itself (y = 0 written as p), p + 1 (the identity written again), and
        // the identity with its sign bit set.
        let p = hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        let p1 = hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        let neg_identity = hex("0100000000000000000000000000000000000000000000000000000000000080");
        for key in [p, p1, neg_identity] {
            assert!(weakness(&key).is_some_and(|w| w.contains("canonical")), "{key:?}");
        }
        // The RFC 8032 test 1 public key is fine.
        let good = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assert_eq!(weakness(&good), None);
    }

    #[test]
    fn signatures_need_canonical_s_and_r() {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&hex(
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        ));
        assert!(strict_signature(&sig)); // S = 0 < L
        sig[32..].copy_from_slice(&ORDER); // S = L
        assert!(!strict_signature(&sig));
        sig[32..].copy_from_slice(&[0; 32]);
        sig[..32].copy_from_slice(&SMALL_ORDER[0]); // R = identity
        assert!(!strict_signature(&sig));
    }
}
