//! The audit key: the HMAC-SHA256 key that seals the audit chain, kept
//! outside the database so that write access to the database is not enough to
//! rewrite the log.
//!
//! From `AUDIT_KEY` (at least 32 bytes), or generated into
//! `$DATA_DIR/audit-key` (mode 0600) on first start and reused after, beside
//! the JWT secret (`auth::keys`). Every instance on one database must use the
//! same key: entries sealed with another key do not verify.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The file a generated key lives in, inside `DATA_DIR`.
pub const KEY_FILE: &str = "audit-key";

/// Bytes an audit key has at least.
pub const MIN_KEY_BYTES: usize = 32;

/// The key, ready to seal. Never printed: `Debug` shows no material.
#[derive(Clone)]
pub struct ChainKey(Hmac<Sha256>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(…)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("an audit key needs at least {MIN_KEY_BYTES} bytes; this one has {0}")]
    TooShort(usize),
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("{0} does not exist: set AUDIT_KEY, or start the server once to generate it")]
    Missing(String),
}

impl ChainKey {
    /// A fingerprint of the key (an HMAC of a fixed text under it, 16 hex
    /// digits): tells which key a backup's log needs without revealing it.
    pub fn fingerprint(&self) -> String {
        let mut mac = self.0.clone();
        mac.update(b"kaohe audit key fingerprint");
        hex::encode(mac.finalize().into_bytes())[..16].to_string()
    }

    /// A key from its material (surrounding whitespace ignored, so a file
    /// written with a trailing newline works).
    pub fn new(material: &[u8]) -> Result<ChainKey, KeyError> {
        let material = material.trim_ascii();
        if material.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(material.len()));
        }
        // HMAC takes a key of any length: this never fails.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(material).map_err(|_| KeyError::TooShort(material.len()))?;
        Ok(ChainKey(mac))
    }

    /// The configured key, else the one generated in `data_dir` (made now
    /// if there is none yet).
    pub fn load(configured: Option<&ChainKey>, data_dir: &Path) -> Result<ChainKey, KeyError> {
        match configured {
            Some(k) => Ok(k.clone()),
            None => generated(data_dir),
        }
    }

    /// The configured key, else the one generated in `data_dir`; never makes
    /// one (for tools that only read the log).
    pub fn existing(configured: Option<&ChainKey>, data_dir: &Path) -> Result<ChainKey, KeyError> {
        match configured {
            Some(k) => Ok(k.clone()),
            None => {
                let path = data_dir.join(KEY_FILE);
                read(&path)?.ok_or_else(|| KeyError::Missing(path.display().to_string()))
            }
        }
    }

    /// A fresh MAC under this key.
    pub(super) fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }
}

fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::File { path: path.display().to_string(), source }
}

fn read(path: &Path) -> Result<Option<ChainKey>, KeyError> {
    match std::fs::read(path) {
        Ok(bytes) => ChainKey::new(&bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_err(path)(e)),
    }
}

/// Reads the generated key, or makes it: written whole to a private temporary
/// file, then linked into place only if no other start did so first, so two
/// instances starting together end up with the same key and never read a
/// half-written file.
fn generated(data_dir: &Path) -> Result<ChainKey, KeyError> {
    let path: PathBuf = data_dir.join(KEY_FILE);
    if let Some(key) = read(&path)? {
        return Ok(key);
    }
    std::fs::create_dir_all(data_dir).map_err(file_err(data_dir))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".audit-key-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut tmp = builder.tempfile_in(data_dir).map_err(file_err(data_dir))?;
    let secret = kaohe_auth::refresh::new_secret();
    tmp.write_all(secret.as_bytes()).map_err(file_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(file_err(&path))?;
    match tmp.persist_noclobber(&path) {
        Ok(_) => {
            tracing::info!(path = %path.display(), "generated a new audit key");
            ChainKey::new(secret.as_bytes())
        }
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            read(&path)?.ok_or_else(|| KeyError::Missing(path.display().to_string()))
        }
        Err(e) => Err(file_err(&path)(e.error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_generated_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(matches!(ChainKey::existing(None, &data), Err(KeyError::Missing(_))));
        let a = ChainKey::load(None, &data).unwrap();
        let b = ChainKey::load(None, &data).unwrap();
        let tag = |k: &ChainKey| {
            let mut m = k.mac();
            m.update(b"x");
            m.finalize().into_bytes()
        };
        assert_eq!(tag(&a), tag(&b), "a restart reuses the generated key");
        assert_eq!(tag(&a), tag(&ChainKey::existing(None, &data).unwrap()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Nothing but the key file is left behind.
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);
        let configured = ChainKey::new(&[b'k'; 32]).unwrap();
        assert_eq!(tag(&ChainKey::load(Some(&configured), &data).unwrap()), tag(&configured));
        assert_ne!(tag(&configured), tag(&a));
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_print() {
        assert!(matches!(ChainKey::new(b"  too short \n"), Err(KeyError::TooShort(9))));
        let secret = "0123456789abcdef0123456789abcdef-secret";
        let key = ChainKey::new(secret.as_bytes()).unwrap();
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains("0123") && !shown.contains("secret"), "{shown}");
    }
}
