//! The key set that signs and verifies access tokens.
//!
//! From the environment: `JWT_SECRET` (HS256, ≥ 32 bytes) and, during a
//! rotation, `JWT_PREVIOUS_SECRET`; or `JWT_PRIVATE_KEY_FILE` +
//! `JWT_PUBLIC_KEY_FILE` with `JWT_ALGORITHM` = RS256 | EdDSA (and
//! `JWT_PREVIOUS_PUBLIC_KEY_FILE`). With none of them, a secret is generated
//! into `$DATA_DIR/jwt-secret` (mode 0600) on first start and reused after;
//! several instances must then share that file or set `JWT_SECRET`.

use std::io::Write;
use std::path::{Path, PathBuf};

use kaohe_auth::token::{Key, KeySet};
use sha2::{Digest, Sha256};

/// Token settings from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthSettings {
    secret: Option<String>,
    previous_secret: Option<String>,
    algorithm: String,
    private_key_file: Option<PathBuf>,
    public_key_file: Option<PathBuf>,
    previous_public_key_file: Option<PathBuf>,
    pub issuer: String,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never print.
        f.debug_struct("AuthSettings")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    #[error("{name}: {message}")]
    Setting { name: &'static str, message: String },
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] kaohe_auth::token::KeyError),
}

fn secs(get: &impl Fn(&str) -> Option<String>, name: &'static str, default: i64) -> Result<i64, KeySetupError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(KeySetupError::Setting { name, message: format!("`{v}` is not a positive number of seconds") }),
    }
}

impl AuthSettings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<AuthSettings, KeySetupError> {
        Ok(AuthSettings {
            secret: get("JWT_SECRET"),
            previous_secret: get("JWT_PREVIOUS_SECRET"),
            algorithm: get("JWT_ALGORITHM").unwrap_or_else(|| "HS256".into()),
            private_key_file: get("JWT_PRIVATE_KEY_FILE").map(PathBuf::from),
            public_key_file: get("JWT_PUBLIC_KEY_FILE").map(PathBuf::from),
            previous_public_key_file: get("JWT_PREVIOUS_PUBLIC_KEY_FILE").map(PathBuf::from),
            issuer: get("JWT_ISSUER").unwrap_or_else(|| "kaohe".into()),
            access_ttl_secs: secs(&get, "ACCESS_TOKEN_TTL_SECS", 15 * 60)?,
            refresh_ttl_secs: secs(&get, "REFRESH_TOKEN_TTL_SECS", 14 * 24 * 3600)?,
        })
    }
}

/// A key id derived from the key material, so a rotated key gets a new one.
fn kid(prefix: &str, material: &[u8]) -> String {
    format!("{prefix}-{}", &hex::encode(Sha256::digest(material))[..12])
}

fn read(path: &Path) -> Result<Vec<u8>, KeySetupError> {
    std::fs::read(path).map_err(|source| KeySetupError::File { path: path.display().to_string(), source })
}

/// Reads or creates the generated secret in the data folder.
fn generated_secret(data_dir: &Path) -> Result<String, KeySetupError> {
    let path = data_dir.join("jwt-secret");
    let file_err = |source| KeySetupError::File { path: path.display().to_string(), source };
    std::fs::create_dir_all(data_dir).map_err(file_err)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut f) => {
            let secret = kaohe_auth::refresh::new_secret();
            f.write_all(secret.as_bytes()).map_err(file_err)?;
            tracing::info!(path = %path.display(), "generated a new JWT secret");
            Ok(secret)
        }
        // Another start (or instance) made it first: use it.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(String::from_utf8_lossy(&read(&path)?).trim().to_string())
        }
        Err(e) => Err(file_err(e)),
    }
}

/// Builds a key from a kid, an optional private key and a public key file's bytes.
type MakeKey = fn(&str, Option<&[u8]>, &[u8]) -> Result<Key, kaohe_auth::token::KeyError>;

/// Builds the key set the settings describe.
pub fn key_set(s: &AuthSettings, data_dir: &Path) -> Result<KeySet, KeySetupError> {
    let mut keys = Vec::new();
    let current;
    if let (Some(private), Some(public)) = (&s.private_key_file, &s.public_key_file) {
        let (private, public) = (read(private)?, read(public)?);
        let (prefix, make): (&str, MakeKey) = match s.algorithm.as_str() {
            "RS256" => ("rs", Key::rs256),
            "EdDSA" => ("ed", Key::eddsa),
            other => {
                return Err(KeySetupError::Setting {
                    name: "JWT_ALGORITHM",
                    message: format!("`{other}` with key files: use RS256 or EdDSA"),
                });
            }
        };
        current = kid(prefix, &public);
        keys.push(make(&current, Some(&private), &public)?);
        if let Some(prev) = &s.previous_public_key_file {
            let prev = read(prev)?;
            keys.push(make(&kid(prefix, &prev), None, &prev)?);
        }
    } else {
        let secret = match &s.secret {
            Some(v) => v.clone(),
            None => generated_secret(data_dir)?,
        };
        current = kid("hs", secret.as_bytes());
        keys.push(Key::hs256(&current, secret.as_bytes())?);
        if let Some(prev) = &s.previous_secret {
            keys.push(Key::hs256(&kid("hs", prev.as_bytes()), prev.as_bytes())?);
        }
    }
    Ok(KeySet::new(keys, &current, &s.issuer, s.access_ttl_secs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> AuthSettings {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AuthSettings::from_lookup(|k| map.get(k).cloned()).unwrap()
    }

    #[test]
    fn a_secret_is_generated_once_into_the_data_folder() {
        let dir = std::env::temp_dir().join(format!("kaohe-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = key_set(&settings(&[]), &dir).unwrap();
        let t = a.issue("user:1", 1, "admin", chrono::Utc::now().timestamp()).unwrap();
        let b = key_set(&settings(&[]), &dir).unwrap();
        assert!(b.verify(&t).is_ok(), "a restart reuses the generated secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("jwt-secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotation_by_environment() {
        let dir = std::env::temp_dir();
        let old = key_set(&settings(&[("JWT_SECRET", "0123456789abcdef0123456789abcdef-old")]), &dir).unwrap();
        let t = old.issue("user:1", 1, "admin", chrono::Utc::now().timestamp()).unwrap();
        let rotating = key_set(
            &settings(&[
                ("JWT_SECRET", "0123456789abcdef0123456789abcdef-new"),
                ("JWT_PREVIOUS_SECRET", "0123456789abcdef0123456789abcdef-old"),
            ]),
            &dir,
        )
        .unwrap();
        assert!(rotating.verify(&t).is_ok());
        assert!(key_set(&settings(&[("JWT_SECRET", "short")]), &dir).is_err());
        assert!(!format!("{:?}", settings(&[("JWT_SECRET", "0123456789abcdef0123456789abcdef-x")])).contains("0123"));
    }
}
