//! Access tokens: a good token passes; every attack of the issue is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kaohe_auth::token::{ACCESS_AUDIENCE, Claims, Key, KeySet};

const RSA_PRIV: &[u8] = include_bytes!("keys/rsa-test.pem");
const RSA_PUB: &[u8] = include_bytes!("keys/rsa-test.pub.pem");
const ED_PRIV: &[u8] = include_bytes!("keys/ed-test.pem");
const ED_PUB: &[u8] = include_bytes!("keys/ed-test.pub.pem");
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn hs() -> KeySet {
    KeySet::new(vec![Key::hs256("k1", SECRET).unwrap()], "k1", "kaohe", 900).unwrap()
}

fn claims(t: i64) -> Claims {
    Claims {
        sub: "user:7".into(),
        org: 1,
        role: "admin".into(),
        iss: "kaohe".into(),
        aud: ACCESS_AUDIENCE.into(),
        iat: t,
        nbf: t,
        exp: t + 900,
        jti: "j".into(),
        sid: Some(3),
    }
}

fn tamper_payload(token: &str, f: impl Fn(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: serde_json::Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    f(&mut payload);
    format!("{}.{}.{}", parts[0], B64.encode(serde_json::to_vec(&payload).unwrap()), parts[2])
}

fn header(token: &str, json: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", B64.encode(json), parts[1], parts[2])
}

#[test]
fn a_good_token_passes_for_each_algorithm() {
    let t = now();
    let c = hs().verify(&hs().issue("user:7", 1, "admin", t).unwrap()).unwrap();
    assert_eq!((c.sub.as_str(), c.org, c.role.as_str(), c.sid), ("user:7", 1, "admin", None));
    let s = hs().verify(&hs().issue_in_session("user:7", 1, "admin", Some(42), t).unwrap()).unwrap();
    assert_eq!(s.sid, Some(42), "the session id travels in the token");
    assert_eq!(hs().verify(&hs().sign(&claims(t)).unwrap()).unwrap(), claims(t));
    let rs = KeySet::new(vec![Key::rs256("r1", Some(RSA_PRIV), RSA_PUB).unwrap()], "r1", "kaohe", 900).unwrap();
    assert!(rs.verify(&rs.issue("user:7", 1, "admin", t).unwrap()).is_ok());
    let ed = KeySet::new(vec![Key::eddsa("e1", Some(ED_PRIV), ED_PUB).unwrap()], "e1", "kaohe", 900).unwrap();
    assert!(ed.verify(&ed.issue("user:7", 1, "admin", t).unwrap()).is_ok());
}

#[test]
fn rotation_keeps_the_old_key_valid_and_signs_with_the_new() {
    let old = KeySet::new(vec![Key::hs256("k1", SECRET).unwrap()], "k1", "kaohe", 900).unwrap();
    let token = old.issue("user:7", 1, "admin", now()).unwrap();
    let new_secret = b"fedcba9876543210fedcba9876543210-new-key";
    let both =
        KeySet::new(vec![Key::hs256("k2", new_secret).unwrap(), Key::hs256("k1", SECRET).unwrap()], "k2", "kaohe", 900)
            .unwrap();
    assert!(both.verify(&token).is_ok(), "old tokens stay valid during the rotation");
    let fresh = both.issue("user:7", 1, "admin", now()).unwrap();
    let head: serde_json::Value =
        serde_json::from_slice(&B64.decode(fresh.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(head["kid"], "k2", "the new key signs");
    let after = KeySet::new(vec![Key::hs256("k2", new_secret).unwrap()], "k2", "kaohe", 900).unwrap();
    assert!(after.verify(&token).is_err(), "after the rotation the retired key is gone");
}

#[test]
fn attacks_are_refused() {
    let ks = hs();
    let t = now();
    let good = ks.issue("user:7", 1, "admin", t).unwrap();
    let mut attacks: Vec<(&str, String)> = Vec::new();
    // alg: none, unsigned.
    let parts: Vec<&str> = good.split('.').collect();
    attacks.push(("alg none", format!("{}.{}.", B64.encode(r#"{"alg":"none","kid":"k1"}"#), parts[1])));
    attacks.push(("alg none, signature kept", header(&good, r#"{"alg":"none","kid":"k1","typ":"JWT"}"#)));
    // Signed with another key under our kid.
    let other =
        KeySet::new(vec![Key::hs256("k1", b"another-secret-another-secret-123456").unwrap()], "k1", "kaohe", 900)
            .unwrap();
    attacks.push(("other key", other.issue("user:7", 1, "admin", t).unwrap()));
    // Unknown kid, and no kid.
    attacks.push(("unknown kid", header(&good, r#"{"alg":"HS256","kid":"k9","typ":"JWT"}"#)));
    attacks.push(("no kid", header(&good, r#"{"alg":"HS256","typ":"JWT"}"#)));
    // Expired, not yet valid, wrong audience, wrong issuer.
    let mut c = claims(t - 3600);
    c.exp = t - 60;
    attacks.push(("expired", ks.sign(&c).unwrap()));
    let mut c = claims(t);
    c.nbf = t + 600;
    attacks.push(("not yet valid", ks.sign(&c).unwrap()));
    let mut c = claims(t);
    c.aud = "kaohe-refresh".into();
    attacks.push(("wrong audience", ks.sign(&c).unwrap()));
    let mut c = claims(t);
    c.iss = "evil".into();
    attacks.push(("wrong issuer", ks.sign(&c).unwrap()));
    // Payload altered after signing.
    attacks.push(("altered payload", tamper_payload(&good, |p| p["role"] = "admin-of-everything".into())));
    attacks.push(("altered org", tamper_payload(&good, |p| p["org"] = 2.into())));
    // Garbage.
    attacks.push(("garbage header", format!("@@@.{}.{}", parts[1], parts[2])));
    attacks.push(("not a jwt", "hello".into()));
    attacks.push(("empty", String::new()));
    for (name, token) in &attacks {
        assert!(ks.verify(token).is_err(), "{name} was accepted");
    }

    // HS256 signed with the RS256 public key (the key-confusion attack).
    let rs = KeySet::new(vec![Key::rs256("r1", Some(RSA_PRIV), RSA_PUB).unwrap()], "r1", "kaohe", 900).unwrap();
    let confused = KeySet::new(vec![Key::hs256("r1", RSA_PUB).unwrap()], "r1", "kaohe", 900).unwrap();
    let forged = confused.issue("user:7", 1, "admin", t).unwrap();
    assert!(rs.verify(&forged).is_err(), "HS256 with the RSA public key was accepted");
}

#[test]
fn weak_secrets_and_missing_current_keys_are_refused() {
    assert!(Key::hs256("k", b"short").is_err());
    assert!(KeySet::new(vec![Key::hs256("k1", SECRET).unwrap()], "k2", "kaohe", 900).is_err());
    let verify_only = Key::rs256("r1", None, RSA_PUB).unwrap();
    assert!(KeySet::new(vec![verify_only], "r1", "kaohe", 900).is_err(), "a verify-only key cannot sign");
    assert!(!format!("{:?}", Key::hs256("k1", SECRET).unwrap()).contains("0123"), "key material is never printed");
}

/// A token verified once is kept with its claims: its times are still
/// checked on every use, and any other text (one byte changed) is verified
/// afresh, not taken for it.
#[test]
fn a_kept_token_still_expires_and_a_tampered_one_is_not_taken_for_it() {
    let ks = hs();
    let t = now();
    let good = ks.issue("user:7", 1, "admin", t).unwrap();
    assert_eq!(ks.verify_at(&good, t).unwrap().sub, "user:7");
    // Kept now: the same token at later times.
    assert!(ks.verify_at(&good, t + 900).is_ok(), "within its lifetime (and the leeway)");
    assert!(ks.verify_at(&good, t + 906).is_err(), "kept, yet expired");
    assert!(ks.verify_at(&good, t - 6).is_err(), "kept, yet not valid yet");
    assert!(ks.verify_at(&good, t).is_ok(), "and valid again at its time");
    // Changed in its payload or signature after being kept: refused.
    assert!(ks.verify(&tamper_payload(&good, |p| p["org"] = 2.into())).is_err());
    let mut flipped = good.clone().into_bytes();
    let at = flipped.len() - 10;
    flipped[at] = if flipped[at] == b'A' { b'Q' } else { b'A' };
    assert!(ks.verify(std::str::from_utf8(&flipped).unwrap()).is_err(), "another signature");
    // An expired token is refused the first time and when asked again.
    let mut c = claims(t - 3600);
    c.exp = t - 60;
    let expired = ks.sign(&c).unwrap();
    assert!(ks.verify(&expired).is_err());
    assert!(ks.verify(&expired).is_err());
}
