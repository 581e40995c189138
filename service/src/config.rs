//! What the services' settings are made of: reading a setting, and the error
//! naming the one that cannot be used. The application's whole typed tree
//! (`kaohe_api::config::Settings`) composes these with its HTTP settings.

use std::path::Path;

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

/// A whole number setting (`1_000` allowed), or `default` when unset.
pub fn num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| ConfigError { name, message: format!("`{v}` is not a whole number") }),
    }
}

/// `sqlite://<data_dir>/kaohe.db?mode=rwc`: the embedded default database.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("kaohe.db").display())
}
