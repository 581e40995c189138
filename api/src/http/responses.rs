//! Answers to GraphQL queries, kept per caller until the data changes.
//!
//! Every write appends to its organisation's audit chain in its own
//! transaction, so audit ids number the states of the data alike on every
//! instance; a signed-in caller's generation is the newest id of its own
//! organisation's chain or of a shared entry (`audit::generation`), so one
//! bureau's writes of its own data never empty another bureau's answers. A
//! query's serialised `data` is stored under a hash of (caller identity with
//! its organisation and policy version, operation name, query text,
//! variables) together with the generation read *before* it ran; it is
//! reused only while that generation is still the newest. So a cached answer
//! is never older than the last write its caller could see, on any
//! instance, and never crosses callers: a unit user and a department head
//! asking the same text have different keys.
//!
//! Not stored: mutations, answers with any error, requests with uploads, and
//! answers a resolver marks with [`no_store`] (those that read state the audit
//! chain does not cover, such as the chain check itself). A change made to the
//! database outside the API (by hand, a restore) is seen after `ttl` at most.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use actix_web::HttpRequest;
use actix_web::http::header;
use kaohe_gate::OperationKind;

use super::gate::{Pass, TextKey};
use crate::caller::Caller;
use kaohe_service::audit::generation::generation_of;

/// The key of one operation: a SHA-256, so two different requests never share it.
pub type Key = [u8; 32];

#[derive(Clone)]
struct Stored {
    generation: i64,
    at: Instant,
    data: Bytes,
}

#[derive(Clone)]
struct ByLength;

impl Weighter<Key, Stored> for ByLength {
    fn weight(&self, _key: &Key, v: &Stored) -> u64 {
        // The entry's own bookkeeping counts too, so empty answers still weigh.
        v.data.len() as u64 + 128
    }
}

/// One instance's cache of query answers, bounded in bytes.
pub struct Responses {
    cache: Option<Cache<Key, Stored, ByLength>>,
    ttl: Duration,
}

impl Responses {
    /// `max_bytes` 0 turns the cache off.
    pub fn new(max_bytes: u64, ttl: Duration) -> Responses {
        let cache = (max_bytes > 0 && !ttl.is_zero()).then(|| {
            // Items are guessed at 8 KB each; the weight is what bounds it.
            let items = usize::try_from(max_bytes / 8192).unwrap_or(usize::MAX).clamp(16, 1 << 20);
            Cache::with_weighter(items, max_bytes, ByLength)
        });
        Responses { cache, ttl }
    }

    pub fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    /// The key of an operation (its [`TextKey`]: text, name, variables) asked
    /// by `caller`; `None` when it must not be cached (it carries files).
    pub fn key(caller: &Caller, text: &TextKey, request: &async_graphql::Request) -> Option<Key> {
        if !request.uploads.is_empty() {
            return None;
        }
        let mut h = Sha256::new();
        let identity = caller.response_identity();
        h.update((identity.len() as u64).to_be_bytes());
        h.update(identity.as_bytes());
        h.update(text);
        Some(h.finalize().into())
    }

    /// The stored `data` of `key`, if it was computed at `generation` and is
    /// younger than the time to live.
    pub fn get(&self, key: &Key, generation: i64) -> Option<Bytes> {
        self.get_at(key, generation, Instant::now())
    }

    /// `get` as of `now` (tests pass a later instant instead of waiting).
    fn get_at(&self, key: &Key, generation: i64, now: Instant) -> Option<Bytes> {
        let stored = self.cache.as_ref()?.get(key)?;
        let age = now.saturating_duration_since(stored.at);
        (stored.generation == generation && age < self.ttl).then_some(stored.data)
    }

    /// Keeps `data` (a serialised `data` member) computed at `generation`.
    pub fn put(&self, key: Key, generation: i64, data: Bytes) {
        if let Some(cache) = &self.cache {
            cache.insert(key, Stored { generation, at: Instant::now(), data });
        }
    }
}

/// Whether the request's `If-None-Match` names `etag` (weak comparison).
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let want = opaque(etag);
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| opaque(t) == want)
}

/// Per request: set when a resolver's answer must not be stored.
#[derive(Default)]
pub struct Hint {
    no_store: AtomicBool,
    /// Lists and pages the plain path wrote (`graphql::plain`).
    plain: std::sync::atomic::AtomicU64,
}

impl Hint {
    pub fn storable(&self) -> bool {
        !self.no_store.load(Ordering::Relaxed)
    }

    /// How many lists and pages of this answer the plain path wrote.
    pub fn plain_answers(&self) -> u64 {
        self.plain.load(Ordering::Relaxed)
    }
}

/// Counts a list or page the plain path wrote (`kaohe_graphql_plain_answers_total`).
pub fn plain_answer<T>(ctx: &async_graphql::ContextBase<'_, T>) {
    if let Some(hint) = ctx.data_opt::<std::sync::Arc<Hint>>() {
        hint.plain.fetch_add(1, Ordering::Relaxed);
    }
}

/// Marks the current answer as not to be stored (it reads state a write
/// through the API does not announce, e.g. rows edited by hand).
pub fn no_store(ctx: &async_graphql::Context<'_>) {
    if let Some(hint) = ctx.data_opt::<std::sync::Arc<Hint>>() {
        hint.no_store.store(true, Ordering::Relaxed);
    }
}

/// `hit` (every operation answered from the cache), `miss` (some ran and
/// were stored), `bypass` (the client sent `Cache-Control: no-cache`); absent
/// when nothing in the request may be cached (mutations, the cache off).
pub static CACHE_STATUS: header::HeaderName = header::HeaderName::from_static("x-kaohe-cache");

/// What the response cache holds for a request's operations.
pub struct Cached {
    pub keys: Vec<Option<Key>>,
    /// The data generation read before anything ran (`None`: do not store).
    pub generation: Option<i64>,
    pub hits: Vec<Option<Bytes>>,
    bypass: bool,
}

impl Cached {
    /// Keys, the generation (the caller's, or read now for an anonymous
    /// one) and the fresh answers held, before anything of the request runs.
    pub async fn look_up(
        responses: &Responses,
        db: &sea_orm::DatabaseConnection,
        caller: &Caller,
        generation: Option<i64>,
        operations: &[async_graphql::Request],
        pass: &Pass,
        req: &HttpRequest,
    ) -> Cached {
        // A batch that writes is answered fresh throughout: a query after a
        // mutation must see it, and a cached answer would be from before.
        let writes = pass.kinds.iter().any(|k| *k != OperationKind::Query);
        let keys: Vec<Option<Key>> = operations
            .iter()
            .enumerate()
            .map(|(i, op)| {
                // Introspection-only documents depend on no data: nothing to save.
                let worth = responses.enabled() && !writes && !pass.meta_only[i];
                if worth { Responses::key(caller, &pass.texts[i], op) } else { None }
            })
            .collect();
        let bypass = req
            .headers()
            .get_all(header::CACHE_CONTROL)
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("no-cache") || v.contains("no-store"));
        let generation = if generation.is_some() || keys.iter().all(Option::is_none) {
            generation
        } else {
            // Read before anything runs: an answer is never older than its generation.
            match generation_of(db).await {
                Ok(g) => Some(g),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the data generation; answering uncached");
                    None
                }
            }
        };
        let hits = keys
            .iter()
            .map(|k| match (k, generation) {
                (Some(k), Some(g)) if !bypass => responses.get(k, g),
                _ => None,
            })
            .collect();
        Cached { keys, generation, hits, bypass }
    }

    /// The entity tag of operation `i`'s answer: its key and the generation
    /// fix it (whether or not it is held here), so a client holding the
    /// answer of this tag holds the current one.
    pub fn etag(&self, i: usize) -> Option<String> {
        let (key, generation) = (self.keys.get(i).copied().flatten()?, self.generation?);
        Some(format!("W/\"{generation}-{}\"", hex::encode(&key[..12])))
    }

    /// Every operation's cached data, if all have one.
    pub fn all_hits(&self) -> Option<Vec<Bytes>> {
        self.hits.iter().cloned().collect()
    }

    pub fn status(&self) -> Option<&'static str> {
        if self.keys.iter().all(Option::is_none) || self.generation.is_none() {
            None
        } else if self.bypass {
            Some("bypass")
        } else if self.hits.iter().all(Option::is_some) {
            Some("hit")
        } else {
            Some("miss")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_caller_and_text() {
        let request = async_graphql::Request::new("{ scoreRuns(first: 1) { totalCount } }");
        let anon = Caller::anonymous();
        let base = Responses::key(&anon, &[1; 32], &request).unwrap();
        assert_eq!(base, Responses::key(&anon, &[1; 32], &request).unwrap());
        assert_ne!(base, Responses::key(&Caller::system(), &[1; 32], &request).unwrap());
        assert_ne!(base, Responses::key(&anon, &[2; 32], &request).unwrap());
    }

    #[test]
    fn an_answer_is_reused_only_at_its_generation_and_within_its_time() {
        let r = Responses::new(1 << 20, Duration::from_secs(60));
        let k = [7u8; 32];
        r.put(k, 5, Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(r.get(&k, 5).as_deref(), Some(&b"{\"a\":1}"[..]));
        assert!(r.get(&k, 6).is_none(), "a newer write makes it stale");
        let later = Instant::now() + Duration::from_secs(61);
        assert!(r.get_at(&k, 5, later).is_none(), "past its time to live");
        let off = Responses::new(0, Duration::from_secs(60));
        off.put(k, 5, Bytes::from_static(b"{}"));
        assert!(!off.enabled() && off.get(&k, 5).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let r = Responses::new(64 * 1024, Duration::from_secs(60));
        for i in 0..100u8 {
            r.put([i; 32], 1, Bytes::from(vec![b'x'; 4096]));
        }
        let kept = (0..100u8).filter(|i| r.get(&[*i; 32], 1).is_some()).count();
        assert!(kept > 0 && kept <= 16, "{kept} answers of 4 KB kept in 64 KB");
    }
}
