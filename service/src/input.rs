//! The checks every write makes of the text a client sends: reasons, names,
//! optional notes and idempotency keys. One place, so the same field is held
//! to the same rule by every mutation, and the message names the field.

use crate::error::ServiceError;

/// The longest reason (原因), note or other free text.
pub const MAX_TEXT: usize = 2000;
/// The longest idempotency key.
pub const MAX_KEY: usize = 200;

fn bad(field: &str, message: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadUserInput(format!("`{field}`: {message}"))
}

/// A reason (原因) a correction, withdrawal, amendment or deactivation needs:
/// trimmed, not blank, at most [`MAX_TEXT`] characters.
pub fn reason(text: &str) -> Result<String, ServiceError> {
    let r = text.trim();
    if r.is_empty() {
        return Err(ServiceError::BadUserInput("a reason is required".into()));
    }
    if r.chars().count() > MAX_TEXT {
        return Err(ServiceError::BadUserInput(format!("the reason is longer than {MAX_TEXT} characters")));
    }
    Ok(r.to_string())
}

/// Trimmed text of 1 to `max` characters.
pub fn required(field: &str, text: &str, max: usize) -> Result<String, ServiceError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(bad(field, format!("is longer than {max} characters")));
    }
    Ok(t.to_string())
}

/// Optional text of at most `max` characters; blank is none.
pub fn optional(field: &str, text: Option<String>, max: usize) -> Result<Option<String>, ServiceError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => required(field, t, max).map(Some),
    }
}

/// A name shown to people (title, display name): like [`required`], and
/// without control characters.
pub fn name(field: &str, text: &str, max: usize) -> Result<String, ServiceError> {
    let n = required(field, text, max)?;
    if n.chars().any(char::is_control) {
        return Err(bad(field, "must not contain control characters"));
    }
    Ok(n)
}

/// An idempotency key as sent: none when absent or blank, at most [`MAX_KEY`]
/// characters. (What a key means is `crate::idempotency`'s.)
pub fn idempotency_key(text: Option<&str>) -> Result<Option<&str>, ServiceError> {
    match text.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) if k.chars().count() > MAX_KEY => {
            Err(ServiceError::BadUserInput(format!("the idempotency key is longer than {MAX_KEY} characters")))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_named() {
        assert_eq!(reason("  复核更正 ").ok().as_deref(), Some("复核更正"));
        assert!(reason(" \t").is_err());
        assert!(reason(&"长".repeat(MAX_TEXT + 1)).is_err());
        assert!(reason(&"长".repeat(MAX_TEXT)).is_ok());
        let e = required("title", "  ", 10).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("`title`"), "{e}");
        assert_eq!(optional("note", Some("  ".into()), 5).ok(), Some(None));
        assert!(name("title", "a\u{0007}b", 10).is_err());
        assert_eq!(idempotency_key(Some("  ")).ok(), Some(None));
        assert!(idempotency_key(Some(&"k".repeat(MAX_KEY + 1))).is_err());
    }
}
