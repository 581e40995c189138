//! Refresh tokens: 256 random bits, shown to the client once; the database keeps
//! only their SHA-256, so a leaked table cannot be replayed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new refresh token: `(token for the client, hash to store)`.
pub fn issue() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let h = digest(&token);
    (token, h)
}

/// The stored form of a token presented by a client.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random secret (hex) for HS256 when none is configured.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = issue();
        let (b, _) = issue();
        assert_ne!(a, b);
        assert_eq!(digest(&a), ha);
        assert_eq!(ha.len(), 64);
        assert_eq!(new_secret().len(), 64);
    }
}
