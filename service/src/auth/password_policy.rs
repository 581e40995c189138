//! The password policy (密码规则) for every password a person chooses: at
//! least 12 characters, not one of the 10,000 most common passwords, not the
//! username. One-time passwords the server makes (a new account, a reset)
//! meet it too. The list is `service/data/common-passwords.txt` (Mark
//! Burnett's 10,000 most common passwords, as shipped by the ISC-licensed npm
//! package `common-password` 0.1.2; the same list as SecLists'
//! `10k-most-common.txt`), compiled in.

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use crate::error::ServiceError;

/// The fewest characters a password has.
pub const MIN_CHARS: usize = 12;
/// The most bytes a password has (argon2 hashes anything, but a megabyte
/// password is a denial of service, not a secret).
pub const MAX_BYTES: usize = 1024;

const COMMON: &str = include_str!("../../data/common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

/// How many passwords the list refuses.
pub fn common_count() -> usize {
    common().len()
}

/// Checks a password a person chose for the account `username`; the error
/// says what is wrong (never echoing the password).
pub fn check(password: &str, username: &str) -> Result<(), ServiceError> {
    let bad = |why: &str| Err(ServiceError::BadUserInput(format!("the password {why}")));
    if password.chars().count() < MIN_CHARS {
        return bad(&format!("needs at least {MIN_CHARS} characters"));
    }
    if password.len() > MAX_BYTES {
        return bad(&format!("takes at most {MAX_BYTES} bytes"));
    }
    if password.chars().any(char::is_control) {
        return bad("has control characters");
    }
    let lower = password.to_lowercase();
    if common().contains(lower.as_str()) || common().contains(password) {
        return bad("is one of the 10,000 most common passwords; choose another");
    }
    if lower == normalise_username(username).to_lowercase() {
        return bad("is the username");
    }
    if password.chars().all(|c| password.starts_with(c)) {
        return bad("repeats one character");
    }
    Ok(())
}

/// A one-time password (初始密码) made by the server: 20 characters in four
/// groups from an alphabet without look-alikes (no 0/O, 1/l/I), about 100
/// bits of randomness.
pub fn one_time() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let random = hex::decode(kaohe_auth::refresh::new_secret()).unwrap_or_default();
    let mut out = String::with_capacity(23);
    for (i, b) in random.iter().take(20).enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[usize::from(*b) % ALPHABET.len()] as char);
    }
    out
}

/// A username as stored and looked up: NFKC-normalised (full-width ｃｋ becomes
/// ck) and trimmed.
pub fn normalise_username(username: &str) -> String {
    username.nfkc().collect::<String>().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_username_passwords_are_refused() {
        assert_eq!(common_count(), 10_000);
        assert!(check("short", "u").is_err());
        assert!(check("unbelievable", "u").is_err(), "in the list");
        assert!(check("UNBELIEVABLE", "u").is_err(), "in the list, whatever the case");
        assert!(check("aaaaaaaaaaaaaa", "u").is_err());
        assert!(check("ck-mishuke-01", "ck-mishuke-01").is_err());
        assert!(check("党建工作考核二〇二六年度", "u").is_ok(), "12 Chinese characters count as 12");
        assert!(check("correct horse battery", "u").is_ok());
        let e = check("qwertyuiop123", "u").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!e.contains("qwerty"), "the password is never echoed: {e}");
    }

    #[test]
    fn one_time_passwords_meet_the_policy_and_differ() {
        let (a, b) = (one_time(), one_time());
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 23);
        assert!(check(&a, "u").is_ok(), "{a}");
    }

    #[test]
    fn usernames_are_nfkc_normalised_and_trimmed() {
        assert_eq!(normalise_username(" ｃｋ－ａｄｍｉｎ "), "ck-admin");
        assert_eq!(normalise_username("ck-admin"), "ck-admin");
    }
}
