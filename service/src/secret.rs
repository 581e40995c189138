//! Settings that must never be printed: `Debug` and `Display` of these types
//! hide the secret part, so `Settings` can derive `Debug` and be logged
//! whole. The value itself is reached only through `expose`.

use std::fmt;

/// A secret string (a JWT secret, a password). Prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

/// A database URL, which may hold a password (`postgres://user:pw@host/db`
/// or `?password=pw`). Prints with the password replaced by `***`; the rest
/// (scheme, user, host, database) stays readable for logs.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The whole URL, password included, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// An in-memory SQLite database (one per connection).
    pub fn is_memory(&self) -> bool {
        self.0.contains(":memory:") || self.0.contains("mode=memory")
    }

    /// The URL with every password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// Hides the user-info password and any `password`-like query parameter.
/// When in doubt it hides more: the user info ends at the *last* `@`, so a
/// password holding an unescaped `/`, `?` or `@` is still hidden.
fn redact(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let mut rest = rest.to_string();
    if let Some(at) = rest.rfind('@')
        && let Some(colon) = rest[..at].find(':')
    {
        rest.replace_range(colon + 1..at, "***");
    }
    if let Some((path, query)) = rest.split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        rest = format!("{path}?{}", query.join("&"));
    }
    format!("{scheme}{rest}")
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted(), f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl From<String> for DatabaseUrl {
    fn from(value: String) -> DatabaseUrl {
        DatabaseUrl(value)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(value: &str) -> DatabaseUrl {
        DatabaseUrl(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_as_stars() {
        let s = Secret::new("0123456789abcdef0123456789abcdef");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn database_passwords_are_hidden() {
        let cases = [
            ("postgres://u:hunter2@h/db", "postgres://u:***@h/db"),
            ("postgres://u:hunter2@h:5432/db?sslmode=require", "postgres://u:***@h:5432/db?sslmode=require"),
            ("postgres://u:hun/ter?2@h/db", "postgres://u:***@h/db"),
            ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db?password=hunter2&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("sqlite://data/kaohe.db?mode=rwc", "sqlite://data/kaohe.db?mode=rwc"),
        ];
        for (url, shown) in cases {
            let u = DatabaseUrl::from(url);
            assert_eq!(u.to_string(), shown);
            assert_eq!(format!("{u:?}"), format!("{shown:?}"));
            assert_eq!(u.expose(), url);
        }
    }
}
