//! Typed settings: defaults, then environment variables. No global state.

use std::path::{Path, PathBuf};

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`; default: the SQLite file `$DATA_DIR/kaohe.db` (created).
    pub database_url: String,
    /// `BIND_ADDR`; default `127.0.0.1:8080`. Port 0 picks a free port.
    pub bind_addr: String,
    /// `DATA_DIR`; default `./data`.
    pub data_dir: PathBuf,
    /// `RUBRICS_DIR`; default the workspace's `rubrics/` folder.
    pub rubrics_dir: PathBuf,
    /// `LOG`: a tracing filter, default `info`.
    pub log: String,
    /// `SEED_DEMO`: create the two demo organisations (default `true`).
    pub seed_demo: bool,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds settings from any lookup (tests pass a map instead of touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let data_dir = get("DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = get("DATABASE_URL").unwrap_or_else(|| sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError { name: "DATABASE_URL", message: "must start with sqlite: or postgres://".into() });
        }
        let bind_addr = get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let rubrics_dir = get("RUBRICS_DIR").map(PathBuf::from).unwrap_or_else(default_rubrics_dir);
        let log = get("LOG").unwrap_or_else(|| "info".to_string());
        let seed_demo = match get("SEED_DEMO").as_deref() {
            None | Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                return Err(ConfigError { name: "SEED_DEMO", message: format!("`{other}` is not true/false") });
            }
        };
        Ok(Settings { database_url, bind_addr, data_dir, rubrics_dir, log, seed_demo })
    }

    /// True when the database is a SQLite file (or memory).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// `sqlite://<data_dir>/kaohe.db?mode=rwc`
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("kaohe.db").display())
}

/// `./rubrics` if the current folder has one, else the workspace's `rubrics/`
/// (next to this crate's folder at build time).
fn default_rubrics_dir() -> PathBuf {
    let here = PathBuf::from("rubrics");
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("rubrics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = with(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.bind_addr, "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.database_url, "sqlite://data/kaohe.db?mode=rwc");
        assert!(s.rubrics_dir.ends_with("rubrics"));
        assert!(s.seed_demo);
    }

    #[test]
    fn environment_overrides_defaults() {
        let s = with(&[("DATA_DIR", "/srv/kaohe"), ("BIND_ADDR", "0.0.0.0:9000"), ("SEED_DEMO", "false")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.database_url, "sqlite:///srv/kaohe/kaohe.db?mode=rwc");
        assert_eq!(s.bind_addr, "0.0.0.0:9000");
        assert!(!s.seed_demo);
        let pg = with(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap_or_else(|e| panic!("{e}"));
        assert!(!pg.is_sqlite());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(with(&[("DATABASE_URL", "mysql://x")]).is_err());
        assert!(with(&[("SEED_DEMO", "maybe")]).is_err());
    }
}
