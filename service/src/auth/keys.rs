//! The key set that signs and verifies access tokens.
//!
//! From [`AuthSettings`]: `JWT_SECRET` (HS256, ≥ 32 bytes) and, during a
//! rotation, `JWT_PREVIOUS_SECRET`; or `JWT_ALGORITHM` = RS256 | EdDSA with
//! `JWT_PRIVATE_KEY_FILE` + `JWT_PUBLIC_KEY_FILE` (and
//! `JWT_PREVIOUS_PUBLIC_KEY_FILE`), both required. With HS256 and no secret,
//! one is generated into `$DATA_DIR/jwt-secret` (mode 0600) on first start and
//! reused after; several instances must then share that file or set `JWT_SECRET`.

use std::io::Write;
use std::path::Path;

use kaohe_auth::token::{Key, KeySet};
use sha2::{Digest, Sha256};

use super::settings::{AuthSettings, JwtAlgorithm};

#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    #[error("{name}: {message}")]
    Setting { name: &'static str, message: String },
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] kaohe_auth::token::KeyError),
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

/// The fingerprint of the key that signs tokens (its key id: a hash
/// prefix, never the secret), without generating anything: `None` when
/// there is no key yet (no `JWT_SECRET` and no `DATA_DIR/jwt-secret`).
pub fn fingerprint(s: &AuthSettings, data_dir: &Path) -> Result<Option<String>, KeySetupError> {
    match s.algorithm {
        JwtAlgorithm::Hs256 => {
            let secret = match &s.secret {
                Some(v) => v.expose().to_string(),
                None => {
                    let path = data_dir.join("jwt-secret");
                    if !path.exists() {
                        return Ok(None);
                    }
                    String::from_utf8_lossy(&read(&path)?).trim().to_string()
                }
            };
            Ok(Some(kid("hs", secret.as_bytes())))
        }
        JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa => {
            let prefix = if s.algorithm == JwtAlgorithm::Rs256 { "rs" } else { "ed" };
            match s.public_key_file.as_deref() {
                Some(p) => Ok(Some(kid(prefix, &read(p)?))),
                None => Ok(None),
            }
        }
    }
}

/// Builds a key from a kid, an optional private key and a public key file's bytes.
type MakeKey = fn(&str, Option<&[u8]>, &[u8]) -> Result<Key, kaohe_auth::token::KeyError>;

/// Builds the key set the settings describe. `RS256`/`EdDSA` without both
/// key files is refused: quietly signing with a shared secret instead would
/// hand every holder of that secret (or of the data folder) the power to
/// mint tokens the operator believes only the private key can make.
pub fn key_set(s: &AuthSettings, data_dir: &Path) -> Result<KeySet, KeySetupError> {
    let mut keys = Vec::new();
    let current;
    match s.algorithm {
        JwtAlgorithm::Hs256 => {
            if s.private_key_file.is_some() || s.public_key_file.is_some() {
                return Err(KeySetupError::Setting {
                    name: "JWT_ALGORITHM",
                    message: "HS256 with key files: set JWT_ALGORITHM to RS256 or EdDSA".into(),
                });
            }
            let secret = match &s.secret {
                Some(v) => v.expose().to_string(),
                None => generated_secret(data_dir)?,
            };
            current = kid("hs", secret.as_bytes());
            keys.push(Key::hs256(&current, secret.as_bytes())?);
            if let Some(prev) = &s.previous_secret {
                let prev = prev.expose().as_bytes();
                keys.push(Key::hs256(&kid("hs", prev), prev)?);
            }
        }
        JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa => {
            let (prefix, make): (&str, MakeKey) =
                if s.algorithm == JwtAlgorithm::Rs256 { ("rs", Key::rs256) } else { ("ed", Key::eddsa) };
            let missing = |name: &'static str| KeySetupError::Setting {
                name,
                message: format!("JWT_ALGORITHM={} needs a PEM file here; not starting without it", s.algorithm.name()),
            };
            let private = s.private_key_file.as_deref().ok_or_else(|| missing("JWT_PRIVATE_KEY_FILE"))?;
            let public = s.public_key_file.as_deref().ok_or_else(|| missing("JWT_PUBLIC_KEY_FILE"))?;
            let (private, public) = (read(private)?, read(public)?);
            current = kid(prefix, &public);
            keys.push(make(&current, Some(&private), &public)?);
            if let Some(prev) = &s.previous_public_key_file {
                let prev = read(prev)?;
                keys.push(make(&kid(prefix, &prev), None, &prev)?);
            }
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
        AuthSettings::from_lookup(&|k| map.get(k).cloned()).unwrap()
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

    #[test]
    fn key_file_algorithms_never_fall_back_to_a_secret() {
        let dir = std::env::temp_dir().join(format!("kaohe-keys-nofile-{}", std::process::id()));
        for alg in ["RS256", "EdDSA"] {
            let e = key_set(&settings(&[("JWT_ALGORITHM", alg)]), &dir).unwrap_err();
            assert!(e.to_string().starts_with("JWT_PRIVATE_KEY_FILE:"), "{alg}: {e}");
            let e = key_set(&settings(&[("JWT_ALGORITHM", alg), ("JWT_PRIVATE_KEY_FILE", "/nonexistent.pem")]), &dir)
                .unwrap_err();
            assert!(e.to_string().starts_with("JWT_PUBLIC_KEY_FILE:"), "{alg}: {e}");
            // A secret alongside does not make it start either.
            let with_secret = settings(&[("JWT_ALGORITHM", alg), ("JWT_SECRET", "0123456789abcdef0123456789abcdef")]);
            assert!(key_set(&with_secret, &dir).is_err());
        }
        assert!(!dir.join("jwt-secret").exists(), "no secret was generated");
        let e = key_set(&settings(&[("JWT_PUBLIC_KEY_FILE", "/x.pem"), ("JWT_PRIVATE_KEY_FILE", "/y.pem")]), &dir)
            .unwrap_err();
        assert!(e.to_string().starts_with("JWT_ALGORITHM:"), "{e}");
    }
}
