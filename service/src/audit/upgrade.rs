//! Entries written before the keyed chain, and the checks made at start.
//!
//! Old entries (`seal::LEGACY`) keep their plain SHA-256 and formed one chain
//! over the whole log, so an organisation's old entries link through other
//! organisations' entries. At the first start with a key, each chain whose
//! entries are all old gets a keyed *seal* entry ([`SEAL_ACTION`]): it links
//! to the chain's last old entry, like any keyed entry, and records how many
//! old entries the chain has, a digest of their ids and hashes, and the first
//! of them that the old rule (hash and link over the whole log) found broken
//! then. From then on a chain is checked alone: each old entry against its
//! plain hash, all of them against the seal, the rest by the keyed rule.

use std::collections::BTreeMap;

use entity::audit_log;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::key::ChainKey;
use super::seal::{self, KEYED, LEGACY};
use super::{Chain, Entry, Scope, head, record_scoped, verify};
use crate::caller::Caller;

/// The action of the entry that seals a chain's old entries.
pub const SEAL_ACTION: &str = "audit.seal_legacy";

/// A chain's old entries, in id order: their count and a digest of their ids
/// and hashes.
#[derive(Clone, Default)]
pub(super) struct Legacy {
    count: u64,
    digest: Sha256,
}

impl Legacy {
    pub fn push(&mut self, e: &audit_log::Model) {
        self.count += 1;
        self.digest.update(e.id.to_be_bytes());
        self.digest.update((e.hash.len() as u64).to_be_bytes());
        self.digest.update(e.hash.as_bytes());
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    fn digest(&self) -> String {
        hex::encode(self.digest.clone().finalize())
    }
}

/// What a seal records (`after.legacy`).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Record {
    entries: u64,
    digest: String,
    /// The first old entry of the chain the old rule found broken at sealing.
    first_broken: Option<i64>,
}

#[derive(Deserialize)]
struct SealAfter {
    legacy: Record,
}

/// Whether `e` is the seal of the old entries walked: `None` if not (or it
/// tells of other entries); `Some(found)` if so, with the old entry found
/// broken when it was written, if any.
pub(super) fn sealed(e: &audit_log::Model, walked: &Legacy) -> Option<Option<i64>> {
    if e.action != SEAL_ACTION {
        return None;
    }
    let record = serde_json::from_str::<SealAfter>(e.after.as_deref()?).ok()?.legacy;
    (record.entries == walked.count && record.digest == walked.digest()).then_some(record.first_broken)
}

/// Why the audit log cannot be used with this key.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error(
        "the audit key does not verify the newest entry of any chain (entries {0:?}): every instance on this \
         database must use the same key (AUDIT_KEY, or the file audit-key of a shared DATA_DIR)"
    )]
    WrongKey(Vec<i64>),
}

/// At start, before anything is written: refuses a key that verifies none of
/// the chains' newest entries (another instance's generated key, a mistyped
/// `AUDIT_KEY`), then, on the first start with a key, seals the chains of old
/// entries. Returns the chains sealed now.
pub async fn prepare(db: &DatabaseConnection, key: &ChainKey) -> Result<Vec<Chain>, UpgradeError> {
    let (mut keyed_heads, mut old_heads) = (Vec::new(), Vec::new());
    for chain in verify::chains(db).await? {
        match head(db, chain).await? {
            Some(h) if h.chain_version == LEGACY => old_heads.push(chain),
            Some(h) => keyed_heads.push(h),
            None => {}
        }
    }
    let wrong: Vec<i64> = keyed_heads.iter().filter(|h| !seal::entry_matches(key, h)).map(|h| h.id).collect();
    if !keyed_heads.is_empty() && wrong.len() == keyed_heads.len() {
        return Err(UpgradeError::WrongKey(wrong));
    }
    for id in wrong {
        // The key is right (other chains verify): this entry was altered.
        tracing::error!(entry = id, "the newest entry of an audit chain does not verify; run `kaohe audit verify`");
    }
    if old_heads.is_empty() {
        return Ok(Vec::new());
    }
    let sealed = seal_all(db, key).await?;
    for chain in old_heads.iter().filter(|c| !sealed.contains(c)) {
        // Old entries after the first start with a key were not written by
        // this server (or by an instance of the version before, still running).
        tracing::error!(?chain, "an audit chain ends in entries written without the key; it does not verify");
    }
    Ok(sealed)
}

/// Seals every chain of old entries, in one write transaction, if no keyed
/// entry exists yet: only the first start with a key seals. Later, a chain
/// rewritten as old entries by someone without the key must not be sealed
/// (and so made whole) by a restart.
async fn seal_all(db: &DatabaseConnection, key: &ChainKey) -> Result<Vec<Chain>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    // Under the write turn: another instance starting now may have sealed.
    let keyed = audit_log::Entity::find().filter(audit_log::Column::ChainVersion.eq(KEYED)).one(&txn).await?;
    if keyed.is_some() {
        return Ok(Vec::new());
    }
    let mut pending = Vec::new();
    for chain in verify::chains(&txn).await? {
        if head(&txn, chain).await?.is_some() {
            pending.push(chain);
        }
    }
    let found = old_rule(&txn).await?;
    for chain in &pending {
        let (legacy, first_broken) = found.get(chain).cloned().unwrap_or_default();
        if let Some(id) = first_broken {
            tracing::warn!(entry = id, ?chain, "an audit entry written before the keyed chain was already broken");
        }
        let record = Record { entries: legacy.count, digest: legacy.digest(), first_broken };
        let entry = Entry {
            organisation_id: chain.organisation_id(),
            action: SEAL_ACTION,
            entity: "audit_log",
            entity_id: None,
            before: None,
            after: Some(serde_json::json!({ "legacy": record })),
        };
        record_scoped(&txn, key, &Caller::system(), entry, Scope::default()).await?;
    }
    txn.commit().await?;
    tracing::info!(chains = pending.len(), "audit entries written before the keyed chain are sealed");
    Ok(pending)
}

/// One pass over every old entry in id order by the old rule (its plain hash,
/// and its link to the old entry before it, whatever its organisation):
/// per chain, its old entries and the first found broken.
async fn old_rule<C: ConnectionTrait>(conn: &C) -> Result<BTreeMap<Chain, (Legacy, Option<i64>)>, DbErr> {
    let mut out: BTreeMap<Chain, (Legacy, Option<i64>)> = BTreeMap::new();
    let (mut prev, mut after): (Option<String>, i64) = (None, i64::MIN);
    loop {
        let page = audit_log::Entity::find()
            .filter(audit_log::Column::ChainVersion.eq(LEGACY))
            .filter(audit_log::Column::Id.gt(after))
            .order_by_asc(audit_log::Column::Id)
            .limit(2_000)
            .all(conn)
            .await?;
        let Some(last) = page.last() else { return Ok(out) };
        after = last.id;
        for e in page {
            let (legacy, broken) = out.entry(Chain::of(e.organisation_id)).or_default();
            let whole = e.prev_hash == prev && seal::legacy(&seal::Fields::from(&e)) == e.hash;
            if !whole && broken.is_none() {
                *broken = Some(e.id);
            }
            legacy.push(&e);
            prev = Some(e.hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{check_chain, record};
    use chrono::{SubsecRound, Utc};
    use migration::MigratorTrait;
    use sea_orm::{ActiveModelTrait, Set};

    fn key() -> ChainKey {
        ChainKey::new(b"test-key-test-key-test-key-test-key").unwrap()
    }

    async fn memory_with_two_organisations() -> DatabaseConnection {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        for (code, name) in [("a", "甲"), ("b", "乙")] {
            db.execute_unprepared(&format!(
                "INSERT INTO organisation (code, name, created_at) VALUES ('{code}', '{name}', '2026-01-01T00:00:00Z')"
            ))
            .await
            .unwrap();
        }
        db
    }

    /// Writes an entry the way the server did before the keyed chain: the
    /// previous entry of the whole log, a plain SHA-256, version 1.
    async fn old_entry(db: &DatabaseConnection, organisation_id: i64, n: u32) -> audit_log::Model {
        let prev =
            audit_log::Entity::find().order_by_desc(audit_log::Column::Id).one(db).await.unwrap().map(|e| e.hash);
        let mut e = audit_log::Model {
            id: 0,
            organisation_id: Some(organisation_id),
            actor_id: None,
            actor_label: "system".into(),
            action: "old.write".into(),
            entity: "thing".into(),
            entity_id: Some(n.to_string()),
            before: None,
            after: Some(format!("{{\"n\":{n}}}")),
            at: Utc::now().trunc_subsecs(6),
            prev_hash: prev,
            hash: String::new(),
            score_run_id: None,
            unit_id: None,
            chain_version: LEGACY,
            shared_data: true,
        };
        e.hash = seal::legacy(&seal::Fields::from(&e));
        let mut row: audit_log::ActiveModel = e.into();
        row.id = sea_orm::NotSet;
        row.insert(db).await.unwrap()
    }

    async fn new_entry(db: &DatabaseConnection, key: &ChainKey, organisation_id: i64) -> audit_log::Model {
        let entry = Entry {
            organisation_id: Some(organisation_id),
            action: "new.write",
            entity: "thing",
            entity_id: None,
            before: None,
            after: None,
        };
        record(db, key, &Caller::system(), entry).await.unwrap()
    }

    #[tokio::test]
    async fn old_entries_are_sealed_once_and_then_checked_per_organisation() {
        let (db, key) = (memory_with_two_organisations().await, key());
        let mut old = Vec::new();
        for n in 0..6 {
            // Interleaved, as one chain over both organisations.
            old.push(old_entry(&db, 1 + i64::from(n % 2), n).await);
        }
        let (a, b) = (Chain::Organisation(1), Chain::Organisation(2));
        // Before the seal, the chains end in old entries: reported as cut.
        assert!(check_chain(&db, &key, a).await.unwrap().tail_missing);

        assert_eq!(prepare(&db, &key).await.unwrap(), vec![a, b]);
        assert_eq!(prepare(&db, &key).await.unwrap(), vec![], "sealed once");
        let seal_a = head(&db, a).await.unwrap().unwrap();
        assert_eq!((seal_a.action.as_str(), seal_a.prev_hash.as_deref()), (SEAL_ACTION, Some(old[4].hash.as_str())));
        let new_a = new_entry(&db, &key, 1).await;
        assert_eq!(new_a.prev_hash.as_deref(), Some(seal_a.hash.as_str()));
        for chain in [a, b] {
            let report = check_chain(&db, &key, chain).await.unwrap();
            assert!(report.ok(), "{report:?}");
        }
        assert_eq!(check_chain(&db, &key, a).await.unwrap().entries, 3 + 2);

        // An old entry edited, its plain hash recomputed: the seal no longer matches.
        let mut edited: audit_log::ActiveModel = old[2].clone().into();
        let mut changed = old[2].clone();
        changed.after = Some("{\"n\":200}".into());
        edited.after = Set(changed.after.clone());
        edited.hash = Set(seal::legacy(&seal::Fields::from(&changed)));
        edited.update(&db).await.unwrap();
        assert_eq!(check_chain(&db, &key, a).await.unwrap().first_broken, Some(seal_a.id));
        assert!(check_chain(&db, &key, b).await.unwrap().ok(), "the other organisation's chain is its own");

        // An old entry written after the keyed ones (without the key) is broken.
        let (db, key) = (memory_with_two_organisations().await, key);
        old_entry(&db, 1, 0).await;
        prepare(&db, &key).await.unwrap();
        let late = old_entry(&db, 1, 1).await;
        assert_eq!(check_chain(&db, &key, a).await.unwrap().first_broken, Some(late.id));
    }

    #[tokio::test]
    async fn a_break_found_at_sealing_stays_reported() {
        let (db, key) = (memory_with_two_organisations().await, key());
        old_entry(&db, 1, 0).await;
        let gone = old_entry(&db, 2, 1).await;
        let after_gone = old_entry(&db, 1, 2).await;
        // Removed before the upgrade: only the old rule, over the whole log, sees it.
        audit_log::Entity::delete_by_id(gone.id).exec(&db).await.unwrap();
        prepare(&db, &key).await.unwrap();
        let report = check_chain(&db, &key, Chain::Organisation(1)).await.unwrap();
        assert_eq!(report.first_broken, Some(after_gone.id));
        assert!(!report.ok());
    }

    #[tokio::test]
    async fn a_chain_rewritten_as_old_entries_is_never_sealed() {
        let (db, key) = (memory_with_two_organisations().await, key());
        new_entry(&db, &key, 1).await;
        new_entry(&db, &key, 2).await;
        // Without the key, organisation 1's chain is replaced by entries of
        // the old kind, whose plain hashes anyone can make.
        audit_log::Entity::delete_many().filter(audit_log::Column::OrganisationId.eq(1)).exec(&db).await.unwrap();
        old_entry(&db, 1, 0).await;
        assert_eq!(prepare(&db, &key).await.unwrap(), vec![], "a restart does not seal it");
        let report = check_chain(&db, &key, Chain::Organisation(1)).await.unwrap();
        assert!(report.tail_missing && !report.ok(), "{report:?}");
        assert!(check_chain(&db, &key, Chain::Organisation(2)).await.unwrap().ok());
    }

    #[tokio::test]
    async fn a_start_with_another_key_is_refused() {
        let (db, key) = (memory_with_two_organisations().await, key());
        new_entry(&db, &key, 1).await;
        new_entry(&db, &key, 2).await;
        assert!(prepare(&db, &key).await.is_ok());
        let other = ChainKey::new(b"another-key-another-key-another-key").unwrap();
        assert!(matches!(prepare(&db, &other).await, Err(UpgradeError::WrongKey(ids)) if ids.len() == 2));
    }
}
