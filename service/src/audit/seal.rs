//! How an entry is sealed: the fields covered and the two rules.
//!
//! - Version 1 (entries written before the keyed chain): plain SHA-256 over
//!   the fields and the previous entry's hash. Anyone who can write to the
//!   database can recompute it, so it only shows careless edits.
//! - Version 2: HMAC-SHA256 over the same fields (the run and unit always
//!   included) under the audit key. Without the key no valid hash can be made.

use chrono::{DateTime, Utc};
use entity::audit_log;
use hmac::Mac;
use sha2::{Digest, Sha256};

use super::Scope;
use super::key::ChainKey;

/// Entries written before the keyed chain.
pub const LEGACY: i32 = 1;
/// Entries sealed with the audit key, one chain per organisation.
pub const KEYED: i32 = 2;

/// Tells a version-2 MAC apart from any other use of the key.
const ENTRY_TAG: &str = "kaohe.audit.entry.v2";

/// The fields an entry's hash covers.
pub(super) struct Fields<'a> {
    pub prev_hash: Option<&'a str>,
    pub organisation_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub scope: Scope,
}

impl<'a> From<&'a audit_log::Model> for Fields<'a> {
    fn from(e: &'a audit_log::Model) -> Self {
        Fields {
            prev_hash: e.prev_hash.as_deref(),
            organisation_id: e.organisation_id,
            actor_id: e.actor_id,
            actor_label: &e.actor_label,
            action: &e.action,
            entity: &e.entity,
            entity_id: e.entity_id.as_deref(),
            before: e.before.as_deref(),
            after: e.after.as_deref(),
            at: e.at,
            scope: Scope { score_run_id: e.score_run_id, unit_id: e.unit_id },
        }
    }
}

fn id(n: Option<i64>) -> String {
    n.map(|i| i.to_string()).unwrap_or_default()
}

/// Feeds the fields, each length-prefixed so no two different entries give
/// the same bytes. `always_scope`: version 1 added the run and unit only when
/// set, so that entries written before they existed kept their hashes.
fn feed(f: &Fields<'_>, always_scope: bool, mut put: impl FnMut(&[u8])) {
    let mut field = |s: &str| {
        put(&(s.len() as u64).to_be_bytes());
        put(s.as_bytes());
    };
    field(f.prev_hash.unwrap_or(""));
    field(&id(f.organisation_id));
    field(&id(f.actor_id));
    field(f.actor_label);
    field(f.action);
    field(f.entity);
    field(f.entity_id.unwrap_or(""));
    field(f.before.unwrap_or(""));
    field(f.after.unwrap_or(""));
    // Microseconds: what PostgreSQL keeps, so the hash can be re-checked.
    field(&f.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    if always_scope || f.scope.score_run_id.is_some() || f.scope.unit_id.is_some() {
        field(&id(f.scope.score_run_id));
        field(&id(f.scope.unit_id));
    }
}

/// The version-1 hash (hex).
pub(super) fn legacy(f: &Fields<'_>) -> String {
    let mut h = Sha256::new();
    feed(f, false, |b| h.update(b));
    hex::encode(h.finalize())
}

fn keyed_mac(key: &ChainKey, f: &Fields<'_>) -> hmac::Hmac<Sha256> {
    let mut m = key.mac();
    m.update(&(ENTRY_TAG.len() as u64).to_be_bytes());
    m.update(ENTRY_TAG.as_bytes());
    feed(f, true, |b| m.update(b));
    m
}

/// The version-2 hash (hex).
pub(super) fn keyed(key: &ChainKey, f: &Fields<'_>) -> String {
    hex::encode(keyed_mac(key, f).finalize().into_bytes())
}

/// Whether `hash` is the version-2 hash of the fields (compared in constant
/// time: the check is reachable over the API).
pub(super) fn keyed_matches(key: &ChainKey, f: &Fields<'_>, hash: &str) -> bool {
    hex::decode(hash).is_ok_and(|tag| keyed_mac(key, f).verify_slice(&tag).is_ok())
}

/// The version-1 hash of a stored entry (over its stored `prev_hash`): what
/// anyone can compute without the key.
pub fn legacy_hash(e: &audit_log::Model) -> String {
    legacy(&Fields::from(e))
}

/// Whether an entry's stored hash is right for its version.
pub(super) fn entry_matches(key: &ChainKey, e: &audit_log::Model) -> bool {
    match e.chain_version {
        LEGACY => legacy(&Fields::from(e)) == e.hash,
        KEYED => keyed_matches(key, &Fields::from(e), &e.hash),
        _ => false,
    }
}
