//! Sign-in settings (README, "Sign-in"): keys, lifetimes, password hashing.
//! Part of [`crate::Settings`]; secrets are [`Secret`]s, so they never print.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigError, num};
use crate::secret::Secret;

/// The algorithm access tokens are signed with (`JWT_ALGORITHM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum JwtAlgorithm {
    /// A shared secret (`JWT_SECRET`, or one generated into the data folder).
    #[default]
    Hs256,
    /// RSA key files.
    Rs256,
    /// Ed25519 key files.
    EdDsa,
}

impl JwtAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::Hs256 => "HS256",
            JwtAlgorithm::Rs256 => "RS256",
            JwtAlgorithm::EdDsa => "EdDSA",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    /// `JWT_SECRET`: the HS256 secret (≥ 32 bytes); none: generated into `DATA_DIR`.
    pub secret: Option<Secret>,
    /// `JWT_PREVIOUS_SECRET`: still verifies during a rotation, never signs.
    pub previous_secret: Option<Secret>,
    /// `JWT_ALGORITHM`.
    pub algorithm: JwtAlgorithm,
    /// `JWT_PRIVATE_KEY_FILE`, `JWT_PUBLIC_KEY_FILE`, `JWT_PREVIOUS_PUBLIC_KEY_FILE` (PEM).
    pub private_key_file: Option<PathBuf>,
    pub public_key_file: Option<PathBuf>,
    pub previous_public_key_file: Option<PathBuf>,
    /// `JWT_ISSUER`.
    pub issuer: String,
    /// `ACCESS_TOKEN_TTL_SECS`.
    pub access_ttl_secs: i64,
    /// `REFRESH_TOKEN_TTL_SECS`: one refresh token's life.
    pub refresh_ttl_secs: i64,
    /// `SESSION_MAX_LIFETIME_SECS`: a sign-in's whole life, however often it is refreshed.
    pub session_max_lifetime_secs: i64,
    /// `PASSWORD_HASH_CONCURRENCY`: password hashes computed at once per instance.
    pub password_hash_concurrency: usize,
    /// `PASSWORD_HASH_WAIT_MS`: how long a login waits for a hashing slot
    /// before it is refused with `RATE_LIMITED`.
    pub password_hash_wait: Duration,
    /// `DEMO_PASSWORD`: the password of every demo login instead of generated ones.
    pub demo_password: Option<Secret>,
    /// `POLICY_RECHECK_MS`: how often an instance asks whether the stored
    /// policy changed (another instance's change applies within this; the
    /// instance that made it applies it at once). 0: every request.
    pub policy_recheck: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            secret: None,
            previous_secret: None,
            algorithm: JwtAlgorithm::Hs256,
            private_key_file: None,
            public_key_file: None,
            previous_public_key_file: None,
            issuer: "kaohe".into(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 14 * 24 * 3600,
            session_max_lifetime_secs: 30 * 24 * 3600,
            password_hash_concurrency: 2,
            password_hash_wait: Duration::from_millis(2_000),
            demo_password: None,
            policy_recheck: Duration::from_millis(2_000),
        }
    }
}

/// A positive number of seconds (or the default).
fn secs(get: &impl Fn(&str) -> Option<String>, name: &'static str, default: i64) -> Result<i64, ConfigError> {
    let n: i64 = num(get, name, default)?;
    if n <= 0 {
        return Err(ConfigError { name, message: format!("`{n}` is not a positive number of seconds") });
    }
    Ok(n)
}

impl AuthSettings {
    /// Reads every sign-in setting from `get`, keeping the default of each one not set.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<AuthSettings, ConfigError> {
        let d = AuthSettings::default();
        let algorithm = match get("JWT_ALGORITHM").as_deref().map(str::trim) {
            None => d.algorithm,
            Some(a) if a.eq_ignore_ascii_case("HS256") => JwtAlgorithm::Hs256,
            Some(a) if a.eq_ignore_ascii_case("RS256") => JwtAlgorithm::Rs256,
            Some(a) if a.eq_ignore_ascii_case("EdDSA") => JwtAlgorithm::EdDsa,
            Some(other) => {
                return Err(ConfigError {
                    name: "JWT_ALGORITHM",
                    message: format!("`{other}` is not one of HS256, RS256, EdDSA"),
                });
            }
        };
        let concurrency = num(get, "PASSWORD_HASH_CONCURRENCY", d.password_hash_concurrency)?;
        if concurrency == 0 {
            return Err(ConfigError { name: "PASSWORD_HASH_CONCURRENCY", message: "must be at least 1".into() });
        }
        Ok(AuthSettings {
            secret: get("JWT_SECRET").map(Secret::from),
            previous_secret: get("JWT_PREVIOUS_SECRET").map(Secret::from),
            algorithm,
            private_key_file: get("JWT_PRIVATE_KEY_FILE").map(PathBuf::from),
            public_key_file: get("JWT_PUBLIC_KEY_FILE").map(PathBuf::from),
            previous_public_key_file: get("JWT_PREVIOUS_PUBLIC_KEY_FILE").map(PathBuf::from),
            issuer: get("JWT_ISSUER").unwrap_or(d.issuer),
            access_ttl_secs: secs(get, "ACCESS_TOKEN_TTL_SECS", d.access_ttl_secs)?,
            refresh_ttl_secs: secs(get, "REFRESH_TOKEN_TTL_SECS", d.refresh_ttl_secs)?,
            session_max_lifetime_secs: secs(get, "SESSION_MAX_LIFETIME_SECS", d.session_max_lifetime_secs)?,
            password_hash_concurrency: concurrency,
            password_hash_wait: Duration::from_millis(num(
                get,
                "PASSWORD_HASH_WAIT_MS",
                d.password_hash_wait.as_millis() as u64,
            )?),
            demo_password: get("DEMO_PASSWORD").map(Secret::from),
            policy_recheck: Duration::from_millis(num(get, "POLICY_RECHECK_MS", d.policy_recheck.as_millis() as u64)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<AuthSettings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AuthSettings::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(with(&[]).unwrap(), AuthSettings::default());
        let s = with(&[
            ("JWT_ALGORITHM", "eddsa"),
            ("SESSION_MAX_LIFETIME_SECS", "3600"),
            ("PASSWORD_HASH_CONCURRENCY", "4"),
            ("PASSWORD_HASH_WAIT_MS", "0"),
        ])
        .unwrap();
        assert_eq!(s.algorithm, JwtAlgorithm::EdDsa);
        assert_eq!(s.session_max_lifetime_secs, 3600);
        assert_eq!(s.password_hash_concurrency, 4);
        assert_eq!(s.password_hash_wait, Duration::ZERO);
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            ("JWT_ALGORITHM", "none"),
            ("JWT_ALGORITHM", "HS512"),
            ("SESSION_MAX_LIFETIME_SECS", "0"),
            ("ACCESS_TOKEN_TTL_SECS", "-5"),
            ("PASSWORD_HASH_CONCURRENCY", "0"),
        ] {
            let e = with(&[bad]).unwrap_err();
            assert_eq!(e.name, bad.0);
        }
    }
}
