//! Checking a chain: every hash, every link, the sealed old entries, and
//! the anchors publications left.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{audit_log, organisation};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::key::ChainKey;
use super::seal::{self, KEYED, LEGACY};
use super::upgrade::{self, Legacy};
use super::{Chain, anchor, head};

/// An entry at the head of a chain, now or as anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub entry_id: i64,
    pub hash: String,
    /// For an anchor: the publication that anchored it; for the head now:
    /// the run the entry concerns.
    pub score_run_id: Option<i64>,
    /// When the entry was written, or the anchor taken.
    pub at: DateTime<Utc>,
}

impl From<&audit_log::Model> for Head {
    fn from(e: &audit_log::Model) -> Head {
        Head { entry_id: e.id, hash: e.hash.clone(), score_run_id: e.score_run_id, at: e.at }
    }
}

/// What checking one chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub chain: Chain,
    /// Entries of the chain (all of them, broken or not).
    pub entries: u64,
    /// The first entry whose hash or link does not match: an edited,
    /// inserted or removed entry (or one just after a removed one).
    pub first_broken: Option<i64>,
    /// Entries are missing from the end: the newest entry is older than an
    /// anchored one, or the old entries end without their seal.
    pub tail_missing: bool,
    /// Anchors whose seal does not verify (made or changed without the key).
    pub invalid_anchors: u64,
    /// The newest entry now.
    pub head: Option<Head>,
    /// The newest entry a publication anchored.
    pub anchored: Option<Head>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.first_broken.is_none() && !self.tail_missing && self.invalid_anchors == 0
    }
}

impl std::fmt::Display for ChainReport {
    /// One line, e.g. `organisation 2: 312 entries, whole` (what `kaohe audit verify` prints).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.chain {
            Chain::Platform => write!(f, "platform")?,
            Chain::Organisation(id) => write!(f, "organisation {id}")?,
        }
        write!(f, ": {} entries", self.entries)?;
        if self.ok() {
            return write!(f, ", whole");
        }
        if let Some(id) = self.first_broken {
            write!(f, ", broken at entry {id}")?;
        }
        if self.tail_missing {
            let newest = self.head.as_ref().map_or("none".to_string(), |h| h.entry_id.to_string());
            match &self.anchored {
                Some(a) => {
                    write!(f, ", entries cut from the end (anchored entry {}, newest now {newest})", a.entry_id)?
                }
                None => write!(f, ", ends in old entries without their seal")?,
            }
        }
        if self.invalid_anchors > 0 {
            write!(f, ", {} anchors whose seal does not verify", self.invalid_anchors)?;
        }
        Ok(())
    }
}

/// Rows read at a time: a chain grows with every write, so it is never
/// loaded whole.
const CHAIN_PAGE: u64 = 2_000;

/// Checks one chain from its first entry to its newest.
pub async fn check_chain<C: ConnectionTrait>(conn: &C, key: &ChainKey, chain: Chain) -> Result<ChainReport, DbErr> {
    check_chain_by(conn, key, chain, CHAIN_PAGE).await
}

/// Checks the platform chain and every organisation's.
pub async fn check_all<C: ConnectionTrait>(conn: &C, key: &ChainKey) -> Result<Vec<ChainReport>, DbErr> {
    let mut out = Vec::new();
    for chain in chains(conn).await? {
        out.push(check_chain(conn, key, chain).await?);
    }
    Ok(out)
}

/// The platform chain, then one per organisation.
pub(super) async fn chains<C: ConnectionTrait>(conn: &C) -> Result<Vec<Chain>, DbErr> {
    let ids: Vec<i64> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .order_by_asc(organisation::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(std::iter::once(Chain::Platform).chain(ids.into_iter().map(Chain::Organisation)).collect())
}

pub(super) async fn check_chain_by<C: ConnectionTrait>(
    conn: &C,
    key: &ChainKey,
    chain: Chain,
    page_size: u64,
) -> Result<ChainReport, DbErr> {
    let anchors = anchor::of_chain(conn, key, chain).await?;
    let mut walk = Walk {
        key,
        anchored: anchors.valid.iter().map(|a| (a.audit_log_id, a.hash.as_str())).collect(),
        prev: None,
        legacy: Legacy::default(),
        keyed: false,
        entries: 0,
        last: None,
    };
    let (mut after, mut broken) = (i64::MIN, None);
    'pages: loop {
        let page = audit_log::Entity::find()
            .filter(chain.entries())
            .filter(audit_log::Column::Id.gt(after))
            .order_by_asc(audit_log::Column::Id)
            .limit(page_size)
            .all(conn)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for e in &page {
            if let Err(id) = walk.step(e) {
                broken = Some(id);
                break 'pages;
            }
        }
    }
    let (entries, newest) = match broken {
        None => (walk.entries, walk.last),
        // Stopped early: count and find the head apart.
        Some(_) => {
            let count = audit_log::Entity::find().filter(chain.entries()).count(conn).await?;
            (count, head(conn, chain).await?.as_ref().map(Head::from))
        }
    };
    let anchored = anchors.valid.iter().max_by_key(|a| (a.audit_log_id, a.id)).map(|a| Head {
        entry_id: a.audit_log_id,
        hash: a.hash.clone(),
        score_run_id: a.score_run_id,
        at: a.at,
    });
    let behind_anchor = anchored.as_ref().is_some_and(|a| newest.as_ref().is_none_or(|h| h.entry_id < a.entry_id));
    let unsealed = broken.is_none() && walk.legacy.count() > 0 && !walk.keyed;
    Ok(ChainReport {
        chain,
        entries,
        first_broken: broken,
        tail_missing: behind_anchor || unsealed,
        invalid_anchors: anchors.invalid,
        head: newest,
        anchored,
    })
}

/// The walk along one chain, oldest entry first.
struct Walk<'a> {
    key: &'a ChainKey,
    /// Anchored entries (with a valid seal): id → hash.
    anchored: HashMap<i64, &'a str>,
    /// The stored hash of the previous entry of the chain.
    prev: Option<String>,
    /// The old entries seen so far.
    legacy: Legacy,
    /// Whether a keyed entry was seen.
    keyed: bool,
    entries: u64,
    last: Option<Head>,
}

impl Walk<'_> {
    /// Checks the next entry; `Err` holds the id to report as first broken.
    fn step(&mut self, e: &audit_log::Model) -> Result<(), i64> {
        self.entries += 1;
        if !seal::entry_matches(self.key, e) {
            return Err(e.id);
        }
        if self.anchored.get(&e.id).is_some_and(|h| *h != e.hash) {
            return Err(e.id);
        }
        match e.chain_version {
            // Old entries formed one chain over the whole log: their links
            // lead through other organisations' entries, so here they are
            // checked through the seal that closes them instead. An old entry
            // after a keyed one was written without the key.
            LEGACY if !self.keyed => self.legacy.push(e),
            KEYED => {
                if e.prev_hash != self.prev {
                    return Err(e.id);
                }
                if !self.keyed && self.legacy.count() > 0 {
                    // The first keyed entry after old ones must be their seal,
                    // and tell of the same entries.
                    match upgrade::sealed(e, &self.legacy) {
                        Some(None) => {}
                        Some(Some(found_then)) => return Err(found_then),
                        None => return Err(e.id),
                    }
                }
                self.keyed = true;
            }
            _ => return Err(e.id),
        }
        self.prev = Some(e.hash.clone());
        self.last = Some(Head::from(e));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Entry, record};
    use crate::caller::Caller;
    use migration::MigratorTrait;
    use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

    pub(crate) async fn memory() -> DatabaseConnection {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        db
    }

    fn key() -> ChainKey {
        ChainKey::new(b"test-key-test-key-test-key-test-key").unwrap()
    }

    async fn write(db: &DatabaseConnection, key: &ChainKey, n: i64) -> audit_log::Model {
        let entry = Entry {
            organisation_id: None,
            action: "test.write",
            entity: "thing",
            entity_id: Some(n.to_string()),
            before: None,
            after: Some(serde_json::json!({ "n": n })),
        };
        record(db, key, &Caller::system(), entry).await.unwrap()
    }

    #[tokio::test]
    async fn the_walk_crosses_pages_and_stops_at_an_edited_row() {
        let (db, key) = (memory().await, key());
        let mut ids = Vec::new();
        for n in 0..7 {
            ids.push(write(&db, &key, n).await.id);
        }
        // Pages of 2 over 7 entries: the links between pages are checked too.
        let clean = check_chain_by(&db, &key, Chain::Platform, 2).await.unwrap();
        assert!(clean.ok());
        assert_eq!(clean.to_string(), "platform: 7 entries, whole");
        assert_eq!((clean.entries, clean.head.map(|h| h.entry_id)), (7, Some(ids[6])));
        let fifth = audit_log::Entity::find_by_id(ids[4]).one(&db).await.unwrap().unwrap();
        let mut edited: audit_log::ActiveModel = fifth.into();
        edited.after = Set(Some("{\"n\":40}".into()));
        edited.update(&db).await.unwrap();
        let found = check_chain_by(&db, &key, Chain::Platform, 2).await.unwrap();
        assert_eq!((found.entries, found.first_broken), (7, Some(ids[4])));
        assert_eq!(found.to_string(), format!("platform: 7 entries, broken at entry {}", ids[4]));
        // A removed row breaks the link of the one after it.
        audit_log::Entity::delete_by_id(ids[2]).exec(&db).await.unwrap();
        assert_eq!(check_chain_by(&db, &key, Chain::Platform, 2).await.unwrap().first_broken, Some(ids[3]));
    }

    #[tokio::test]
    async fn a_callers_clones_note_what_it_appended() {
        use crate::auth::pulse::Heard;
        let (db, key) = (memory().await, key());
        let caller = Caller::system();
        let entry = |n: i64| Entry {
            organisation_id: None,
            action: "test.write",
            entity: "thing",
            entity_id: Some(n.to_string()),
            before: None,
            after: None,
        };
        assert_eq!(caller.appended.heard(), Vec::new());
        record(&db, &key, &caller, entry(1)).await.unwrap();
        let second = record(&db, &key, &caller.clone(), entry(2)).await.unwrap();
        let elsewhere = write(&db, &key, 3).await;
        assert_eq!(
            caller.appended.heard(),
            vec![Heard::Entry { organisation: None, shared: true, id: second.id }],
            "its newest entry, also through a clone, and not another caller's ({})",
            elsewhere.id
        );
    }

    #[tokio::test]
    async fn another_key_verifies_nothing() {
        let (db, key) = (memory().await, key());
        let first = write(&db, &key, 1).await;
        let other = ChainKey::new(b"another-key-another-key-another-key").unwrap();
        let report = check_chain(&db, &other, Chain::Platform).await.unwrap();
        assert_eq!(report.first_broken, Some(first.id));
    }
}
