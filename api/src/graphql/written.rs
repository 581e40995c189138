//! Published answers serialised once per data generation (issue 18): a
//! computed 1,000-unit ranking spent most of its time building and
//! serialising the same 250 KB again for every request, though a published
//! run's rows never change and its units change only with a write, which
//! moves the generation.
//!
//! The plain path's list is serialised once and kept under (caller
//! identity, generation, runs, selection); a request that finds it answers
//! with a placeholder string in its `Value`, and the HTTP layer puts the
//! kept bytes in the placeholder's place in the serialised `data`
//! ([`Splices::splice`]). A placeholder carries a random per-process nonce,
//! so no client-supplied string can be taken for one.
//!
//! Kept no longer than `TTL` (a change made by hand, which moves no
//! generation, shows by then), and only while the generation is the newest
//! (the key holds it).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use async_graphql::Value;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

/// How long a written answer is kept at most.
pub const TTL: Duration = Duration::from_secs(60);

/// Bytes of written answers kept at most.
const CAPACITY_BYTES: u64 = 32 << 20;

/// The generation the request's caller read before anything ran (request data).
#[derive(Clone, Copy)]
pub struct Generation(pub i64);

#[derive(Clone)]
struct Kept {
    at: Instant,
    bytes: Bytes,
}

#[derive(Clone)]
struct ByLength;

impl Weighter<[u8; 32], Kept> for ByLength {
    fn weight(&self, _: &[u8; 32], v: &Kept) -> u64 {
        v.bytes.len() as u64 + 64
    }
}

/// Written answers of this instance (schema data).
pub struct Written(Cache<[u8; 32], Kept, ByLength>);

impl Default for Written {
    fn default() -> Self {
        Written(Cache::with_weighter(256, CAPACITY_BYTES, ByLength))
    }
}

impl Written {
    /// The key of an answer: everything that decides its bytes.
    pub fn key(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p);
        }
        h.finalize().into()
    }

    /// The kept bytes of `key`, if younger than `TTL`.
    pub fn get(&self, key: &[u8; 32]) -> Option<Bytes> {
        let kept = self.0.get(key)?;
        (kept.at.elapsed() < TTL).then_some(kept.bytes)
    }

    /// `bytes` (a serialised answer) kept under `key`.
    pub fn keep(&self, key: [u8; 32], bytes: Vec<u8>) -> Bytes {
        let bytes = Bytes::from(bytes);
        self.0.insert(key, Kept { at: Instant::now(), bytes: bytes.clone() });
        bytes
    }
}

/// The bytes one request's placeholders stand for (request data).
#[derive(Default)]
pub struct Splices(Mutex<Vec<Bytes>>);

/// The nonce of this process's placeholders.
fn nonce() -> &'static str {
    static NONCE: OnceLock<String> = OnceLock::new();
    NONCE.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The placeholder text of splice `n` (a control character first: no
/// answer of this API holds one).
fn placeholder(n: usize) -> String {
    format!("\u{1}kaohe-written:{}:{n}", nonce())
}

impl Splices {
    /// A placeholder `Value` for `bytes`.
    pub fn hold(&self, bytes: Bytes) -> Value {
        let mut parts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        parts.push(bytes);
        Value::String(placeholder(parts.len() - 1))
    }

    /// `data` (serialised) with every placeholder replaced by its bytes,
    /// wherever each one landed (fields resolve concurrently: the order
    /// they were held in is not the order they are written in). One search
    /// for the placeholders' common beginning, whose searcher is built once.
    pub fn splice(&self, data: Vec<u8>) -> Vec<u8> {
        let parts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if parts.is_empty() {
            return data;
        }
        let head = placeholder_head();
        let mut out = Vec::with_capacity(data.len() + parts.iter().map(Bytes::len).sum::<usize>());
        let mut from = 0;
        // Absent ones were not written (e.g. a null propagated over them).
        for at in head.find_iter(&data) {
            if at < from {
                continue;
            }
            // `"<head><n>"`, as serde_json writes `placeholder(n)`.
            let start = at + head.needle().len();
            let end = start + data[start..].iter().take_while(|b| b.is_ascii_digit()).count();
            let n = std::str::from_utf8(&data[start..end]).ok().and_then(|d| d.parse::<usize>().ok());
            if let (Some(part), Some(b'"')) = (n.and_then(|n| parts.get(n)), data.get(end)) {
                out.extend_from_slice(&data[from..at]);
                out.extend_from_slice(part);
                from = end + 1;
            }
        }
        out.extend_from_slice(&data[from..]);
        out
    }
}

/// The searcher for the beginning every placeholder has once serialised:
/// the opening quote, the control character as serde_json escapes it, the
/// nonce (`"\u0001kaohe-written:<nonce>:`).
fn placeholder_head() -> &'static memchr::memmem::Finder<'static> {
    static HEAD: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    HEAD.get_or_init(|| {
        let mut text = serde_json::to_vec(&format!("\u{1}kaohe-written:{}:", nonce())).unwrap_or_default();
        text.pop(); // the closing quote: the number follows
        memchr::memmem::Finder::new(&text).into_owned()
    })
}

/// The request's splices, when the HTTP layer gave it some.
pub fn splices<'a>(ctx: &async_graphql::Context<'a>) -> Option<&'a Arc<Splices>> {
    ctx.data_opt::<Arc<Splices>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_in_order_and_other_text_is_left() {
        let s = Splices::default();
        let a = s.hold(Bytes::from_static(b"[1,2]"));
        let b = s.hold(Bytes::from_static(b"{\"x\":true}"));
        let data = serde_json::to_vec(&serde_json::json!({ "a": a.into_json().unwrap(), "b": b.into_json().unwrap(),
            "c": "kaohe-written" }))
        .unwrap();
        let out = String::from_utf8(s.splice(data)).unwrap();
        assert_eq!(out, r#"{"a":[1,2],"b":{"x":true},"c":"kaohe-written"}"#);
    }

    #[test]
    fn placeholders_held_in_another_order_than_written_are_all_replaced() {
        let s = Splices::default();
        let first = s.hold(Bytes::from_static(b"1"));
        let second = s.hold(Bytes::from_static(b"2"));
        let data = serde_json::to_vec(&serde_json::json!({ "a": second.into_json().unwrap(),
            "b": first.into_json().unwrap() }))
        .unwrap();
        assert_eq!(String::from_utf8(s.splice(data)).unwrap(), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn placeholders_past_ten_and_unknown_numbers_are_told_apart() {
        let s = Splices::default();
        let held: Vec<Value> = (0..12).map(|n| s.hold(Bytes::from(n.to_string()))).collect();
        let unknown = Value::String(placeholder(99));
        let data = serde_json::to_vec(&serde_json::json!([
            held[1].clone().into_json().unwrap(),
            held[11].clone().into_json().unwrap(),
            unknown.clone().into_json().unwrap()
        ]))
        .unwrap();
        let expected = format!("[1,11,{}]", serde_json::to_string(&placeholder(99)).unwrap());
        assert_eq!(String::from_utf8(s.splice(data)).unwrap(), expected);
    }

    #[test]
    fn a_kept_answer_is_written_once() {
        let w = Written::default();
        let key = Written::key(&[b"k"]);
        let mut made = 0;
        for _ in 0..3 {
            let bytes = match w.get(&key) {
                Some(bytes) => bytes,
                None => {
                    made += 1;
                    w.keep(key, b"7".to_vec())
                }
            };
            assert_eq!(&bytes[..], b"7");
        }
        assert_eq!(made, 1);
        assert_eq!(w.get(&Written::key(&[b"other"])), None);
    }
}
