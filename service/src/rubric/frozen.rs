//! Published rubric versions, read and compiled once per server (issue 18).
//!
//! A published (or retired) version's rows never change, yet a dozen
//! services need it as the engine's [`Rubric`] (recording an observation,
//! deciding a claim, live results, publishing a run …), and rebuilding it
//! from its rows cost seven statements and a compilation each time. Here
//! each frozen version is kept once it has been read: its indicator tree and
//! its compiled rubric, shared (`Arc`).
//!
//! Access is never decided here: every caller first reads the version row
//! **as the caller may see it** (`query::version_by_id`, one statement), and
//! only then asks for the tree. An entry is used only when
//! - it was read through the same connection pool (one server's database:
//!   two test servers in one process never share entries), and
//! - its version row is equal, field for field, to the row just read (status,
//!   publication time, edit version …): a version retired or otherwise
//!   changed since is read again.
//!
//! Drafts are never kept. The map is bounded (`MAX_ENTRIES`); when full it is
//! emptied, which only costs the next reads their statements.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use entity::rubric_version;
use entity::states::VersionStatus;
use kaohe_engine::Rubric;
use sea_orm::{DatabaseConnection, DbBackend};

use super::query::{self, VersionTree};
use super::rebuild;
use crate::caller::Caller;
use crate::error::ServiceError;

/// Versions kept at once, over every pool of the process.
const MAX_ENTRIES: usize = 256;

struct Entry {
    row: rubric_version::Model,
    tree: Arc<VersionTree>,
    /// Compiled on first need (the GraphQL tree alone does not need it).
    rubric: Option<Arc<Rubric>>,
}

type Key = (usize, i64);

static FROZEN: LazyLock<Mutex<HashMap<Key, Entry>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The identity of `db`'s pool: the address of its options, which live as
/// long as the pool and are shared by its clones.
pub(crate) fn pool_identity(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Sqlite => std::ptr::from_ref(db.get_sqlite_connection_pool().options()) as usize,
        DbBackend::Postgres => std::ptr::from_ref(db.get_postgres_connection_pool().options()) as usize,
        _ => 0,
    }
}

fn frozen(row: &rubric_version::Model) -> bool {
    row.status != VersionStatus::Draft
}

fn cached<T>(db: &DatabaseConnection, row: &rubric_version::Model, pick: impl Fn(&Entry) -> Option<T>) -> Option<T> {
    if !frozen(row) {
        return None;
    }
    let map = FROZEN.lock().ok()?;
    map.get(&(pool_identity(db), row.id)).filter(|e| e.row == *row).and_then(pick)
}

fn keep(db: &DatabaseConnection, row: &rubric_version::Model, tree: Arc<VersionTree>, rubric: Option<Arc<Rubric>>) {
    if !frozen(row) {
        return;
    }
    if let Ok(mut map) = FROZEN.lock() {
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        let key = (pool_identity(db), row.id);
        let rubric = match map.remove(&key) {
            Some(old) if old.row == *row => rubric.or(old.rubric),
            _ => rubric,
        };
        map.insert(key, Entry { row: row.clone(), tree, rubric });
    }
}

/// Forgets what was kept for a pool at `db`'s address: called when a pool
/// is opened, as a new pool may sit where a dropped one was (tests open and
/// drop many), and what was kept for that one is not this database's.
pub(crate) fn forget_pool(db: &DatabaseConnection) {
    let pool = pool_identity(db);
    if let Ok(mut map) = FROZEN.lock() {
        map.retain(|(p, _), _| *p != pool);
    }
}

/// Version `version_id` compiled, with its tree, when this server keeps it
/// (it was frozen when read: its rules never change, whatever its row's
/// status since). For a write that reached the version through a run the
/// caller may see: a frozen version is visible to whoever sees the run
/// (`query::visible_version` hides drafts only), so nothing is read.
pub fn kept_compiled(db: &DatabaseConnection, version_id: i64) -> Option<(Arc<Rubric>, Arc<VersionTree>)> {
    let map = FROZEN.lock().ok()?;
    let e = map.get(&(pool_identity(db), version_id))?;
    Some((e.rubric.clone()?, e.tree.clone()))
}

/// The indicator tree of `row` (a version the caller has just read as it
/// may see it): kept when frozen, read (four statements) otherwise.
pub async fn tree(
    db: &DatabaseConnection,
    caller: &Caller,
    row: &rubric_version::Model,
) -> Result<Arc<VersionTree>, ServiceError> {
    if let Some(tree) = cached(db, row, |e| Some(e.tree.clone())) {
        return Ok(tree);
    }
    let tree = Arc::new(query::tree(db, caller, row.id).await?);
    keep(db, row, tree.clone(), None);
    Ok(tree)
}

/// Version `version_id` compiled by the engine, read as `caller` may see it
/// (NOT_FOUND otherwise). A frozen version costs one statement once kept.
pub async fn rubric(db: &DatabaseConnection, caller: &Caller, version_id: i64) -> Result<Arc<Rubric>, ServiceError> {
    Ok(compiled(db, caller, version_id).await?.0)
}

/// [`rubric`] with, for a frozen version, the tree it was compiled from (its
/// rules never change: a recording no longer reads them again). A draft's
/// tree is not given: whoever needs its rows reads them where it writes.
pub async fn compiled(
    db: &DatabaseConnection,
    caller: &Caller,
    version_id: i64,
) -> Result<(Arc<Rubric>, Option<Arc<VersionTree>>), ServiceError> {
    let row = query::version_by_id(db, caller, version_id).await?;
    compiled_row(db, caller, row).await
}

/// [`compiled`] for a version row the caller has just read as it may see it
/// (`query::visible_version`).
pub async fn compiled_row(
    db: &DatabaseConnection,
    caller: &Caller,
    row: rubric_version::Model,
) -> Result<(Arc<Rubric>, Option<Arc<VersionTree>>), ServiceError> {
    if let Some(both) = cached(db, &row, |e| e.rubric.clone().map(|r| (r, Some(e.tree.clone())))) {
        return Ok(both);
    }
    let tree = tree(db, caller, &row).await?;
    let (name, file) = rebuild::file_of_rows(db, &row, &tree).await?;
    let rubric = Arc::new(Rubric::from_file(&name, file).map_err(|e| ServiceError::Internal(e.to_string().into()))?);
    keep(db, &row, tree.clone(), Some(rubric.clone()));
    Ok((rubric, frozen(&row).then_some(tree)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Database;

    fn version(status: VersionStatus) -> rubric_version::Model {
        rubric_version::Model {
            id: 1,
            rubric_id: 1,
            label: "2026".into(),
            title: "t".into(),
            status,
            scale: entity::Exact(rust_decimal::Decimal::ONE_HUNDRED),
            bonus_cap: None,
            regime: "annual".into(),
            source: None,
            file_name: None,
            source_sha256: None,
            version: 1,
            published_at: None,
            created_at: chrono::Utc::now(),
            idempotency_key: None,
        }
    }

    #[tokio::test]
    async fn only_frozen_rows_are_kept_per_pool_and_a_changed_row_is_read_again() {
        let a = Database::connect("sqlite::memory:").await.unwrap();
        let b = Database::connect("sqlite::memory:").await.unwrap();
        assert_ne!(pool_identity(&a), pool_identity(&b));
        assert_eq!(pool_identity(&a), pool_identity(&a.clone()), "clones share their pool");
        let tree = || Arc::new(VersionTree::default());
        let some = |e: &Entry| Some(e.tree.clone());

        let draft = version(VersionStatus::Draft);
        keep(&a, &draft, tree(), None);
        assert!(cached(&a, &draft, some).is_none(), "drafts are never kept");

        let published = rubric_version::Model { status: VersionStatus::Published, ..draft };
        keep(&a, &published, tree(), None);
        assert!(cached(&a, &published, some).is_some());
        assert!(cached(&b, &published, some).is_none(), "another pool (database) never sees it");
        let retired = rubric_version::Model { status: VersionStatus::Retired, ..published.clone() };
        assert!(cached(&a, &retired, some).is_none(), "a changed row is read again");
        let edited = rubric_version::Model { version: 2, ..published };
        assert!(cached(&a, &edited, some).is_none());
    }

    #[tokio::test]
    async fn a_pool_opened_where_another_was_starts_with_nothing_kept() {
        let a = Database::connect("sqlite::memory:").await.unwrap();
        let b = Database::connect("sqlite::memory:").await.unwrap();
        let published = version(VersionStatus::Published);
        let some = |e: &Entry| Some(e.tree.clone());
        keep(&a, &published, Arc::new(VersionTree::default()), None);
        keep(&b, &published, Arc::new(VersionTree::default()), None);
        // `db::connect` calls it for every pool it opens: an address a
        // dropped pool had is then clean.
        forget_pool(&a);
        assert!(cached(&a, &published, some).is_none(), "what was kept at a's address is gone");
        assert!(cached(&b, &published, some).is_some(), "another live pool keeps its own");
    }
}
