//! Small shared pieces: the clock, randomness, base62 and NumericDate claims.

use crate::error::{Error, Result};
use serde_json::Value;

/// `now` when given, else the clock in whole seconds since the Unix epoch.
///
/// The clock is read only when `now` is `None`, so a call given `now`
/// depends on nothing else. In WebAssembly the clock is JavaScript's
/// `Date.now()` (`std::time::SystemTime` is unavailable there).
///
/// ```
/// assert_eq!(tessera::token::now_or_clock(Some(42)), 42);
/// assert!(tessera::token::now_or_clock(None) > 1_600_000_000);
/// ```
pub fn now_or_clock(now: Option<i64>) -> i64 {
    match now {
        Some(n) => n,
        None => clock(),
    }
}

#[cfg(target_arch = "wasm32")]
fn clock() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

#[cfg(not(target_arch = "wasm32"))]
fn clock() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        // A clock set before 1970: whole seconds, rounded toward the past.
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            -secs - i64::from(d.subsec_nanos() > 0)
        }
    }
}

/// The largest time, in seconds, that a result may hold: 2^53 - 1, the
/// largest integer a JavaScript number holds exactly. A time past it (or
/// before its negative) is refused, not rounded, in every binding alike.
pub const MAX_TIME: i64 = (1 << 53) - 1;

/// `t` if every binding can represent it exactly, else `invalid_argument`
/// naming `now` (the time a result is computed from).
pub(crate) fn representable(t: i64) -> Result<i64> {
    if (-MAX_TIME..=MAX_TIME).contains(&t) {
        Ok(t)
    } else {
        Err(Error::argument(format!(
            "now: the result would hold a time of {t} s, beyond 2^53 - 1 (exact in every binding)"
        )))
    }
}

/// `N` bytes from the operating system (or `crypto.getRandomValues` in
/// WebAssembly).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf)
        .map_err(|e| Error::token("random_unavailable", format!("no source of randomness: {e}")))?;
    Ok(buf)
}

/// A fresh id: 16 random bytes in fixed-width base62 (22 characters). Used
/// for session ids, API token ids and realm user ids alike.
pub(crate) fn random_id() -> Result<String> {
    Ok(base62(&random_bytes::<16>()?))
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Characters needed to write any `n`-byte value in base62.
pub(crate) const fn base62_width(n: usize) -> usize {
    // ceil(8n / log2 62); log2 62 ≈ 5.954196310386876 = 5954196310 / 1e9.
    ((n as u128 * 8 * 1_000_000_000).div_ceil(5_954_196_310)) as usize
}

/// Big-endian bytes as base62 (`0-9A-Za-z`), left-padded with `0` to the
/// fixed width of the byte length, so every id and secret of a kind has the
/// same length.
pub(crate) fn base62(bytes: &[u8]) -> String {
    let width = base62_width(bytes.len());
    let mut digits = Vec::with_capacity(width);
    let mut num = bytes.to_vec();
    while num.iter().any(|b| *b != 0) {
        let mut rem = 0u32;
        for b in num.iter_mut() {
            let cur = rem * 256 + u32::from(*b);
            *b = (cur / 62) as u8;
            rem = cur % 62;
        }
        digits.push(BASE62[rem as usize]);
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    digits.into_iter().map(char::from).collect()
}

pub(crate) fn is_base62(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// How a fractional NumericDate becomes whole seconds.
#[derive(Clone, Copy)]
pub(crate) enum Round {
    /// Toward the future: `exp`, `nbf`, `iat` (a token is never valid earlier
    /// than its exact claims allow).
    Up,
    /// Toward the past: `auth_time` (a session is never considered younger).
    Down,
}

/// A NumericDate claim (RFC 7519 §2): a JSON number of seconds, integral or
/// not. `None` for any other type.
pub(crate) fn numeric_date(v: &Value, round: Round) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if v.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let f = v.as_f64()?;
    let whole = match round {
        Round::Up => f.ceil(),
        Round::Down => f.floor(),
    };
    // `as` saturates at the i64 range; JSON has no NaN or infinity.
    Some(whole as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_is_fixed_width_and_exact() {
        assert_eq!(base62_width(32), 43);
        assert_eq!(base62_width(16), 22);
        assert_eq!(base62(&[0u8; 16]), "0".repeat(22));
        assert_eq!(base62(&[0, 61]), "00z");
        assert_eq!(base62(&[0, 62]), "010");
        assert_eq!(base62(&[0xff; 32]).len(), 43);
        assert_eq!(base62(&[0xff; 2]), "H31"); // 65535 = 17*3844 + 3*62 + 1
    }

    #[test]
    fn random_ids_are_fixed_width_base62() {
        let a = random_id().unwrap();
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, random_id().unwrap());
    }

    #[test]
    fn numeric_dates_round_the_safe_way() {
        use serde_json::json;
        assert_eq!(numeric_date(&json!(10), Round::Up), Some(10));
        assert_eq!(numeric_date(&json!(10.5), Round::Up), Some(11));
        assert_eq!(numeric_date(&json!(10.5), Round::Down), Some(10));
        assert_eq!(numeric_date(&json!(u64::MAX), Round::Up), Some(i64::MAX));
        assert_eq!(numeric_date(&json!(1e300), Round::Up), Some(i64::MAX));
        assert_eq!(numeric_date(&json!("10"), Round::Up), None);
    }
}
