//! Automatic persisted queries (Apollo's APQ protocol): a client sends
//! `extensions.persistedQuery = {version: 1, sha256Hash}` without the text;
//! an instance that knows the hash runs the text it stored, already parsed;
//! one that does not answers `PERSISTED_QUERY_NOT_FOUND` and the client sends
//! the text with the hash once, which registers it after the gate admits it.
//!
//! The store is each instance's memory (a bounded cache): behind a load
//! balancer a client may be asked for the text once per instance, which the
//! protocol expects. Only texts the gate admitted are stored, so the store
//! cannot be filled with documents that would be refused.

use actix_web::http::StatusCode;
use async_graphql::parser::types::ExecutableDocument;
use sha2::{Digest, Sha256};

use super::gate::{Refusal, code};

/// Texts remembered per instance.
const STORED: usize = 10_000;

pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";

pub type Hash = [u8; 32];

#[derive(Clone)]
struct Stored {
    text: std::sync::Arc<str>,
    document: ExecutableDocument,
}

/// The persisted queries of one instance.
pub struct Persisted {
    queries: quick_cache::sync::Cache<Hash, Stored>,
}

impl Default for Persisted {
    fn default() -> Self {
        Persisted { queries: quick_cache::sync::Cache::new(STORED) }
    }
}

/// What a request says about persistence.
pub enum Use {
    /// Not a persisted query.
    None,
    /// The hash resolved to a stored text (now in the request, parsed).
    Stored,
    /// A text sent with its hash: store it once admitted.
    Register(Hash),
}

impl Persisted {
    /// Resolves `extensions.persistedQuery` of `request`: fills in a stored
    /// text, checks a sent text against its hash.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<Use, Refusal> {
        let Some(pq) = request.extensions.get("persistedQuery") else { return Ok(Use::None) };
        let pq = pq.clone().into_json().unwrap_or_default();
        if pq.get("version").and_then(serde_json::Value::as_u64) != Some(1) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                PERSISTED_QUERY_NOT_SUPPORTED,
                "only version 1 of persisted queries is supported",
            ));
        }
        let hash = pq
            .get("sha256Hash")
            .and_then(serde_json::Value::as_str)
            .and_then(|h| <[u8; 32]>::try_from(hex::decode(h).ok()?).ok())
            .ok_or_else(|| {
                Refusal::new(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "sha256Hash is not 64 hexadecimal digits")
            })?;
        if request.query.is_empty() {
            let Some(stored) = self.queries.get(&hash) else {
                // The message is what Apollo's clients look for.
                return Err(Refusal::new(StatusCode::OK, PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound"));
            };
            request.query = stored.text.to_string();
            request.set_parsed_query(stored.document);
            return Ok(Use::Stored);
        }
        let sent: Hash = Sha256::digest(request.query.as_bytes()).into();
        if sent != hash {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "provided sha does not match query",
            ));
        }
        Ok(if self.queries.get(&hash).is_some() { Use::Stored } else { Use::Register(hash) })
    }

    /// Stores an admitted text under its hash, with its parsed document.
    pub fn register(&self, hash: Hash, request: &mut async_graphql::Request) {
        let text: std::sync::Arc<str> = request.query.as_str().into();
        if let Ok(document) = request.parsed_query() {
            self.queries.insert(hash, Stored { text, document: document.clone() });
        }
    }

    pub fn len(&self) -> usize {
        self.queries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with_hash(query: &str, hash: &str) -> async_graphql::Request {
        let mut r = async_graphql::Request::new(query);
        r.extensions.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(serde_json::json!({ "version": 1, "sha256Hash": hash })).unwrap(),
        );
        r
    }

    #[test]
    fn unknown_then_registered_then_found() {
        let p = Persisted::default();
        let text = "{ __typename }";
        let hash = hex::encode(Sha256::digest(text));
        let e = p.resolve(&mut with_hash("", &hash)).err().unwrap();
        assert_eq!(e.code, PERSISTED_QUERY_NOT_FOUND);
        let mut sent = with_hash(text, &hash);
        let Use::Register(h) = p.resolve(&mut sent).unwrap() else { panic!("not registered") };
        p.register(h, &mut sent);
        let mut later = with_hash("", &hash);
        assert!(matches!(p.resolve(&mut later).unwrap(), Use::Stored));
        assert_eq!(later.query, text);
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused() {
        let p = Persisted::default();
        let e = p.resolve(&mut with_hash("{ __typename }", &"0".repeat(64))).err().unwrap();
        assert_eq!(e.code, code::BAD_USER_INPUT);
        let e = p.resolve(&mut with_hash("", "zz")).err().unwrap();
        assert_eq!(e.code, code::BAD_USER_INPUT);
        let mut r = async_graphql::Request::new("");
        r.extensions.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(serde_json::json!({ "version": 2 })).unwrap(),
        );
        assert_eq!(p.resolve(&mut r).err().unwrap().code, PERSISTED_QUERY_NOT_SUPPORTED);
    }
}
