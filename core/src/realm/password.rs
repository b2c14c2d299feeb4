//! Argon2id password hashes, stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Verification reads the parameters from the stored string, so hashes made
//! under older parameters keep working after the realm's options change. An
//! unknown user (or one without a password) is checked against a fixed dummy
//! hash made with the current parameters, so every failed login costs the
//! same work.

use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest password accepted, in bytes (UTF-8).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The most memory one hash may use (1 GiB), in options and in stored
/// hashes alike: a failed allocation would abort the process.
pub const MAX_MEMORY_KIB: u32 = 1_048_576;

/// The most passes one hash may make.
pub const MAX_ITERATIONS: u32 = 1024;

/// Why Argon2 costs are out of this crate's bounds, if they are.
fn cost_problem(m: u32, t: u32, p: u32) -> Option<String> {
    if m > MAX_MEMORY_KIB {
        Some(format!(
            "argon2 memory {m} KiB is over the limit of {MAX_MEMORY_KIB} KiB"
        ))
    } else if t > MAX_ITERATIONS {
        Some(format!(
            "argon2 iterations {t} is over the limit of {MAX_ITERATIONS}"
        ))
    } else if !(1..=255).contains(&p) {
        Some(format!("argon2 parallelism {p} is out of range (1 to 255)"))
    } else {
        None
    }
}

/// Argon2id cost parameters (RFC 9106). The defaults are OWASP's
/// recommendation: 19 MiB of memory, 2 passes, 1 lane.
///
/// ```
/// let o: tessera::Argon2Options = serde_json::from_value(serde_json::json!({"iterations": 3})).unwrap();
/// assert_eq!((o.memory_kib, o.iterations, o.parallelism), (19_456, 3, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Options {
    /// Memory per hash in KiB (at least 8 × `parallelism`, at most 1 GiB).
    /// Default 19456.
    pub memory_kib: u32,
    /// Passes over the memory (1 to 1024). Default 2.
    pub iterations: u32,
    /// Lanes (1 to 255). Default 1.
    pub parallelism: u32,
}

impl Default for Argon2Options {
    fn default() -> Self {
        Argon2Options {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Options {
    /// Reads the options from JSON; a wrong shape is `invalid_argument`.
    pub fn from_json(value: &Value) -> Result<Argon2Options> {
        crate::argument::from_value(value, "argon2")
    }
}

/// Hashes and verifies passwords with one set of parameters.
pub(crate) struct Hasher {
    params: Params,
    /// A PHC string of the current parameters that no password matches.
    dummy: String,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Hasher(argon2id m={} t={} p={})",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost()
        )
    }
}

/// 16 fixed bytes, unpadded base64: the dummy hash's salt.
const DUMMY_SALT: &str = "dGVzc2VyYS1kdW1teS1zYWx0";

impl Hasher {
    pub(crate) fn new(options: &Argon2Options) -> Result<Hasher> {
        if let Some(why) = cost_problem(options.memory_kib, options.iterations, options.parallelism) {
            return Err(Error::argument(why));
        }
        let params = Params::new(
            options.memory_kib,
            options.iterations,
            options.parallelism,
            Some(32),
        )
        .map_err(|e| Error::argument(format!("argon2 options: {e}")))?;
        let dummy = format!(
            "$argon2id$v=19$m={},t={},p={}${DUMMY_SALT}${}",
            options.memory_kib,
            options.iterations,
            options.parallelism,
            "A".repeat(43)
        );
        PasswordHash::new(&dummy).map_err(|e| Error::argument(format!("argon2 dummy hash: {e}")))?;
        Ok(Hasher { params, dummy })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A new PHC string for `password`, with a random 16-byte salt.
    pub(crate) fn hash(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt)
            .map_err(|e| Error::realm("random_unavailable", format!("no source of randomness: {e}")))?;
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| Error::realm("random_unavailable", format!("salt: {e}")))?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::argument(format!("password hashing failed: {e}")))
    }

    /// Whether `phc` was made with other parameters than the current ones
    /// (costs, output length, version), so that a login should store a new
    /// hash. A string that does not parse is left alone (restore refuses
    /// those, so only a bug could put one there).
    pub(crate) fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return false;
        };
        parsed.algorithm.as_str() != "argon2id"
            || parsed.version != Some(0x13)
            || stored.m_cost() != self.params.m_cost()
            || stored.t_cost() != self.params.t_cost()
            || stored.p_cost() != self.params.p_cost()
            || parsed.hash.is_none_or(|h| h.len() != 32)
    }

    /// Whether `password` matches `phc`. With `phc` absent (unknown user, or
    /// no password set) the dummy hash is computed instead and the answer is
    /// `false`: the same work either way.
    pub(crate) fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        let (stored, real) = match phc {
            Some(p) => (p, true),
            None => (self.dummy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            // Restore refuses such hashes; still spend the work.
            let _ = self.verify(password, None);
            return false;
        };
        let ok = self
            .argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    }
}

/// Checks that a stored hash is an Argon2id PHC string this crate can verify.
pub(crate) fn check_phc(phc: &str) -> std::result::Result<(), String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("not a PHC string ({e})"))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(format!("algorithm `{}` is not argon2id", parsed.algorithm));
    }
    let params = Params::try_from(&parsed).map_err(|e| format!("bad argon2 parameters ({e})"))?;
    if let Some(why) = cost_problem(params.m_cost(), params.t_cost(), params.p_cost()) {
        return Err(why);
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("no salt or hash".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Hasher {
        Hasher::new(&Argon2Options {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn hash_and_verify() {
        let h = fast();
        let phc = h.hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(check_phc(&phc).is_ok());
        assert!(h.verify("correct horse", Some(&phc)));
        assert!(!h.verify("correct hors", Some(&phc)));
        assert!(!h.verify("correct horse", None));
        assert!(!h.verify("x", Some("garbage")));
        assert_ne!(h.hash("correct horse").unwrap(), phc, "salts are random");
    }

    #[test]
    fn dummy_hash_has_current_parameters() {
        let h = fast();
        assert!(h.dummy.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(check_phc(&h.dummy).is_ok());
    }

    #[test]
    fn verify_uses_the_stored_parameters() {
        let old = fast();
        let phc = old.hash("pw").unwrap();
        let new = Hasher::new(&Argon2Options {
            memory_kib: 16,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        assert!(new.verify("pw", Some(&phc)));
    }

    #[test]
    fn hashes_of_other_parameters_need_a_rehash() {
        let old = fast();
        let phc = old.hash("pw").unwrap();
        assert!(!old.needs_rehash(&phc));
        let new = Hasher::new(&Argon2Options {
            memory_kib: 16,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        assert!(new.needs_rehash(&phc));
        assert!(!new.needs_rehash(&new.hash("pw").unwrap()));
        // Same costs, shorter output: still not what this hasher makes.
        let short = "$argon2id$v=19$m=8,t=1,p=1$dGVzc2VyYS1kdW1teS1zYWx0$AAAAAAAAAAAAAAAAAAAAAA";
        assert!(old.needs_rehash(short));
        assert!(!old.needs_rehash("garbage"));
    }

    #[test]
    fn bad_parameters_are_refused() {
        for (m, t, p) in [
            (4, 1, 1),
            (8, 0, 1),
            (8, 1, 0),
            (4096, 1, 256),
            (8, 1, 2),
            (MAX_MEMORY_KIB + 1, 1, 1),
            (8, MAX_ITERATIONS + 1, 1),
        ] {
            let o = Argon2Options {
                memory_kib: m,
                iterations: t,
                parallelism: p,
            };
            assert_eq!(Hasher::new(&o).unwrap_err().code, "invalid_argument", "{o:?}");
        }
    }

    #[test]
    fn check_phc_refuses_other_algorithms() {
        assert!(check_phc(
            "$argon2i$v=19$m=8,t=1,p=1$dGVzc2VyYS1kdW1teS1zYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        )
        .is_err());
        assert!(check_phc("$argon2id$v=19$m=8,t=1,p=1$dGVzc2VyYS1kdW1teS1zYWx0").is_err());
        assert!(check_phc("plain").is_err());
        let huge = format!(
            "$argon2id$v=19$m={},t=1,p=1$dGVzc2VyYS1kdW1teS1zYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            MAX_MEMORY_KIB + 1
        );
        assert!(check_phc(&huge).unwrap_err().contains("limit"));
    }
}
