//! Signing secrets and signatures of the Standard Webhooks specification.
//!
//! A secret is `whsec_` and the base64 of 32 random bytes; the signature of a
//! message is `v1,` and the base64 of HMAC-SHA256 under the secret's bytes of
//! `"{webhook-id}.{webhook-timestamp}.{body}"`. While a rotated-out secret is
//! still valid, the header carries one signature per secret, space-separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new secret (`whsec_…`, 32 random bytes).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a secret (`whsec_` is optional, as receivers accept it).
pub fn key_of(secret: &str) -> Option<Vec<u8>> {
    let key = STANDARD.decode(secret.strip_prefix(PREFIX).unwrap_or(secret)).ok()?;
    (!key.is_empty()).then_some(key)
}

/// `v1,<signature>` of one message under one secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn header<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Option<String> {
    let parts: Vec<String> = secrets.into_iter().map(|s| sign(s, msg_id, timestamp, body)).collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_test_vector() {
        // From the Standard Webhooks specification (and svix's documentation).
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn secrets_are_random_and_rotations_sign_twice() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a != b);
        assert_eq!(key_of(&a).map(|k| k.len()), Some(32));
        let h = header([a.as_str(), b.as_str()], "msg_1", 1, b"{}").unwrap_or_default();
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(Some(parts[0].to_string()), sign(&a, "msg_1", 1, b"{}"));
        assert!(key_of("whsec_not base64!").is_none());
    }
}
