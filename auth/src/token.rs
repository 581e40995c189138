//! Access tokens: JWTs verified strictly.
//!
//! jsonwebtoken's `Validation::new` only requires `exp`, allows 60 s of leeway,
//! ignores `nbf` and checks `aud`/`iss` only when told to; `kid` is parsed and
//! ignored. Here every key has its own algorithm, the header's `kid` must name
//! one of our keys and its `alg` must be that key's, `exp`, `nbf`, `iat`, `iss`,
//! `aud` and `sub` are required and checked, and the leeway is 5 s. During a
//! rotation two keys verify; only the current one signs.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};

/// The audience of access tokens; refresh tokens are not JWTs at all.
pub const ACCESS_AUDIENCE: &str = "kaohe-api";

/// What an access token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id (or `svc:<id>` for a service credential).
    pub sub: String,
    /// Organisation id: the casbin domain.
    pub org: i64,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Token id, for logs.
    pub jti: String,
    /// The sign-in session (`user_session` row) a user's token belongs to, so
    /// that ending the session ends its access tokens at once. Service
    /// credentials' tokens have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<i64>,
}

/// One signing/verifying key.
pub struct Key {
    pub kid: String,
    pub alg: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Key").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key {kid}: {message}")]
    Bad { kid: String, message: String },
    #[error("the key set has no key with kid {0}")]
    NoCurrent(String),
}

impl Key {
    /// An HS256 key from a secret of at least 32 bytes.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Key, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::Bad { kid: kid.into(), message: "an HS256 secret needs at least 32 bytes".into() });
        }
        Ok(Key {
            kid: kid.into(),
            alg: Algorithm::HS256,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// An RS256 key: the private PEM signs (optional: a verify-only key has none).
    pub fn rs256(kid: &str, private_pem: Option<&[u8]>, public_pem: &[u8]) -> Result<Key, KeyError> {
        let bad = |e: jsonwebtoken::errors::Error| KeyError::Bad { kid: kid.into(), message: e.to_string() };
        Ok(Key {
            kid: kid.into(),
            alg: Algorithm::RS256,
            encoding: private_pem.map(EncodingKey::from_rsa_pem).transpose().map_err(bad)?,
            decoding: DecodingKey::from_rsa_pem(public_pem).map_err(bad)?,
        })
    }

    /// An EdDSA (Ed25519) key.
    pub fn eddsa(kid: &str, private_pem: Option<&[u8]>, public_pem: &[u8]) -> Result<Key, KeyError> {
        let bad = |e: jsonwebtoken::errors::Error| KeyError::Bad { kid: kid.into(), message: e.to_string() };
        Ok(Key {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            encoding: private_pem.map(EncodingKey::from_ed_pem).transpose().map_err(bad)?,
            decoding: DecodingKey::from_ed_pem(public_pem).map_err(bad)?,
        })
    }
}

/// Why a token is refused. Clients only ever see UNAUTHENTICATED.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown key id")]
    UnknownKey,
    #[error("algorithm not allowed for this key")]
    WrongAlgorithm,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Our keys: the current one signs, all verify.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<Key>,
    current: usize,
    pub issuer: String,
    /// Lifetime of access tokens in seconds.
    pub ttl_secs: i64,
    /// Tokens whose signature, key, audience and issuer verified, with their
    /// claims: a client sends the same token with every request, and
    /// decoding and checking it again was a few per cent of a computed
    /// answer's CPU (an RS256 signature costs far more). Keyed by the whole
    /// token text, so a token that differs in any byte is verified afresh;
    /// kept in the key set, so keys changed (a new `KeySet`) forget them all.
    /// The times are checked on every use.
    verified: quick_cache::sync::Cache<String, Claims>,
}

/// Tokens kept verified at most (a few hundred bytes each).
const VERIFIED_CAPACITY: usize = 4096;

/// Seconds of clock difference allowed on `exp` and `nbf`.
const LEEWAY_SECS: i64 = 5;

impl KeySet {
    pub fn new(keys: Vec<Key>, current_kid: &str, issuer: &str, ttl_secs: i64) -> Result<KeySet, KeyError> {
        let current = keys
            .iter()
            .position(|k| k.kid == current_kid && k.encoding.is_some())
            .ok_or_else(|| KeyError::NoCurrent(current_kid.into()))?;
        let verified = quick_cache::sync::Cache::new(VERIFIED_CAPACITY);
        Ok(KeySet { keys, current, issuer: issuer.into(), ttl_secs, verified })
    }

    /// Signs claims built for `sub` at time `now` (seconds since the epoch),
    /// with no session (service credentials).
    pub fn issue(&self, sub: &str, org: i64, role: &str, now: i64) -> Result<String, TokenError> {
        self.issue_in_session(sub, org, role, None, now)
    }

    /// Signs claims built for `sub` in sign-in session `sid`.
    pub fn issue_in_session(
        &self,
        sub: &str,
        org: i64,
        role: &str,
        sid: Option<i64>,
        now: i64,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: sub.into(),
            org,
            role: role.into(),
            iss: self.issuer.clone(),
            aud: ACCESS_AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            jti: crate::refresh::new_secret()[..16].to_string(),
            sid,
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with the current key (tests use it for bad claims).
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let key = &self.keys[self.current];
        let mut header = Header::new(key.alg);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        let enc = key.encoding.as_ref().ok_or_else(|| TokenError::Signing("verify-only key".into()))?;
        encode(&header, claims, enc).map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// Verifies an access token strictly and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.verify_at(token, now)
    }

    /// [`verify`](Self::verify) at `now` (seconds since the epoch): the
    /// signature once per token (then kept), the times every time.
    pub fn verify_at(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signed(token)?;
                self.verified.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        if claims.exp < now.saturating_sub(LEEWAY_SECS) {
            return Err(TokenError::Invalid("ExpiredSignature".into()));
        }
        if claims.nbf > now.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::Invalid("ImmatureSignature".into()));
        }
        Ok(claims)
    }

    /// Everything but the times: header, key, algorithm, signature,
    /// audience, issuer, the claims required.
    fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or(TokenError::UnknownKey)?;
        if header.alg != key.alg {
            return Err(TokenError::WrongAlgorithm);
        }
        let mut v = Validation::new(key.alg);
        v.algorithms = vec![key.alg];
        // The times are `verify_at`'s (on every use, kept or not).
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_audience(&[ACCESS_AUDIENCE]);
        v.set_issuer(&[&self.issuer]);
        v.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        decode::<Claims>(token, &key.decoding, &v).map(|d| d.claims).map_err(|e| TokenError::Invalid(e.to_string()))
    }
}
