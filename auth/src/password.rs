//! Passwords: argon2id with a random salt, in PHC string form.
//!
//! The parameters are pinned here rather than taken from the crate's
//! `Default` (which could change under us in an upgrade): OWASP's minimum for
//! argon2id. A stored hash made with anything else — other costs, argon2i or
//! argon2d, an older version — still verifies (the PHC string carries its own
//! parameters) and [`Verified::Stale`] tells the caller to store a new hash.
//!
//! Everything here is CPU- and memory-bound (about 19 MiB and tens of
//! milliseconds per call): callers in async code run it on a blocking pool.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// The argon2 variant new hashes use.
pub const ALGORITHM: Algorithm = Algorithm::Argon2id;
/// The argon2 version new hashes use (1.3, `v=19`).
pub const VERSION: Version = Version::V0x13;
/// Memory cost in KiB (`m=`).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations (`t=`).
pub const ITERATIONS: u32 = 2;
/// Lanes (`p=`).
pub const PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The pinned hasher.
fn hasher() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|e| HashError(e.to_string()))?;
    Ok(Argon2::new(ALGORITHM, VERSION, params))
}

/// Hashes a password for storage, with the pinned parameters.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| HashError(e.to_string()))
}

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password, or a stored value that is not a hash we can read.
    Mismatch,
    /// Right password, hash made with the pinned parameters.
    Match,
    /// Right password, but the hash was made otherwise: store [`hash`] anew.
    Stale,
}

impl Verified {
    pub fn is_match(self) -> bool {
        self != Verified::Mismatch
    }
}

/// Checks `password` against a stored hash (with the hash's own parameters).
pub fn verify(password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else { return Verified::Mismatch };
    // The verifier reads algorithm, version and costs from the PHC string.
    if Argon2::default().verify_password(password.as_bytes(), &parsed).is_err() {
        return Verified::Mismatch;
    }
    if is_pinned(&parsed) { Verified::Match } else { Verified::Stale }
}

/// Whether a parsed hash was made with exactly the pinned parameters.
fn is_pinned(h: &PasswordHash<'_>) -> bool {
    let algorithm_ok = Algorithm::try_from(h.algorithm).is_ok_and(|a| a == ALGORITHM);
    let version_ok = h.version == Some(VERSION.into());
    let params_ok = Params::try_from(h).is_ok_and(|p| {
        p.m_cost() == MEMORY_KIB
            && p.t_cost() == ITERATIONS
            && p.p_cost() == PARALLELISM
            && p.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN) == Params::DEFAULT_OUTPUT_LEN
    });
    algorithm_ok && version_ok && params_ok
}

/// Spends the same time as verifying a pinned hash, for unknown accounts, so
/// a login's timing does not tell which usernames exist.
pub fn verify_dummy(password: &str) {
    if let Some(h) = dummy_hash() {
        let _ = verify(password, h);
    }
}

/// A hash of a random password, made once with the pinned parameters (the
/// same cost as every current account's).
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::refresh::new_secret()).ok()).as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash made with other parameters, as an older release might have stored.
    fn weak(password: &str, algorithm: Algorithm, m: u32, t: u32) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::new(algorithm, Version::V0x13, Params::new(m, t, 1, None).unwrap())
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("s3cret-密码").unwrap();
        let b = hash("s3cret-密码").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_eq!(verify("s3cret-密码", &a), Verified::Match);
        assert_eq!(verify("s3cret", &a), Verified::Mismatch);
        assert_eq!(verify("s3cret-密码", "not a hash"), Verified::Mismatch);
    }

    #[test]
    fn the_dummy_for_unknown_accounts_costs_what_a_real_hash_costs() {
        let dummy = dummy_hash().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{dummy}");
        assert_eq!(verify("anything", dummy), Verified::Mismatch);
    }

    #[test]
    fn other_parameters_verify_but_ask_for_a_new_hash() {
        for stored in [
            weak("pw", Algorithm::Argon2id, 4096, 1),
            weak("pw", Algorithm::Argon2id, MEMORY_KIB, 1),
            weak("pw", Algorithm::Argon2i, MEMORY_KIB, ITERATIONS),
            weak("pw", Algorithm::Argon2d, MEMORY_KIB, ITERATIONS),
        ] {
            assert_eq!(verify("pw", &stored), Verified::Stale, "{stored}");
            assert_eq!(verify("other", &stored), Verified::Mismatch, "{stored}");
        }
        assert_eq!(verify("pw", &weak("pw", ALGORITHM, MEMORY_KIB, ITERATIONS)), Verified::Match);
    }
}
