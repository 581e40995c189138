//! The append-only audit log (操作日志). Each entry stores the hash of the
//! previous one, so a removed or edited row breaks the chain.

use chrono::{DateTime, SubsecRound, Utc};
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};

use crate::caller::Caller;

/// One action to record.
pub struct Entry<'a> {
    pub organisation_id: Option<i64>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The score run and unit an entry concerns (both optional), so the log can be
/// queried by run and unit. They are part of the hashed fields when present.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    pub score_run_id: Option<i64>,
    pub unit_id: Option<i64>,
}

/// Appends an entry; call it inside the transaction that makes the change.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    entry: Entry<'_>,
) -> Result<audit_log::Model, DbErr> {
    record_scoped(conn, caller, entry, Scope::default()).await
}

/// Appends an entry about a run (and maybe one of its units).
pub async fn record_scoped<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    entry: Entry<'_>,
    scope: Scope,
) -> Result<audit_log::Model, DbErr> {
    let prev_hash: Option<String> =
        audit_log::Entity::find().order_by_desc(audit_log::Column::Id).limit(1).one(conn).await?.map(|e| e.hash);
    // Microseconds: what PostgreSQL keeps, so the hash can be re-checked.
    let at = Utc::now().trunc_subsecs(6);
    let before = entry.before.map(|v| v.to_string());
    let after = entry.after.map(|v| v.to_string());
    let label = caller.label();
    let hash = chain_hash(&ChainFields {
        prev_hash: prev_hash.as_deref(),
        organisation_id: entry.organisation_id,
        actor_id: caller.user_id(),
        actor_label: &label,
        action: entry.action,
        entity: entry.entity,
        entity_id: entry.entity_id.as_deref(),
        before: before.as_deref(),
        after: after.as_deref(),
        at,
        scope,
    });
    audit_log::ActiveModel {
        organisation_id: Set(entry.organisation_id),
        actor_id: Set(caller.user_id()),
        actor_label: Set(label),
        action: Set(entry.action.to_string()),
        entity: Set(entry.entity.to_string()),
        entity_id: Set(entry.entity_id),
        before: Set(before),
        after: Set(after),
        at: Set(at),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
        score_run_id: Set(scope.score_run_id),
        unit_id: Set(scope.unit_id),
        ..Default::default()
    }
    .insert(conn)
    .await
}

struct ChainFields<'a> {
    prev_hash: Option<&'a str>,
    organisation_id: Option<i64>,
    actor_id: Option<i64>,
    actor_label: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
    at: DateTime<Utc>,
    scope: Scope,
}

fn chain_hash(f: &ChainFields<'_>) -> String {
    // Length-prefixed fields: no two different entries hash the same text.
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(f.prev_hash.unwrap_or(""));
    put(&f.organisation_id.map(|i| i.to_string()).unwrap_or_default());
    put(&f.actor_id.map(|i| i.to_string()).unwrap_or_default());
    put(f.actor_label);
    put(f.action);
    put(f.entity);
    put(f.entity_id.unwrap_or(""));
    put(f.before.unwrap_or(""));
    put(f.after.unwrap_or(""));
    put(&f.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    // Added with the run lifecycle: hashed only when set, so entries written
    // before it keep their hashes.
    if f.scope.score_run_id.is_some() || f.scope.unit_id.is_some() {
        put(&f.scope.score_run_id.map(|i| i.to_string()).unwrap_or_default());
        put(&f.scope.unit_id.map(|i| i.to_string()).unwrap_or_default());
    }
    hex::encode(h.finalize())
}

/// Recomputes the chain; returns the id of the first entry whose hash or
/// link does not match (an edited, inserted or removed row), or `None`.
pub async fn first_broken<C: ConnectionTrait>(conn: &C) -> Result<Option<i64>, DbErr> {
    Ok(check_chain(conn).await?.first_broken)
}

/// What a walk over the chain found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainWalk {
    /// Entries read (all of them when nothing is broken).
    pub entries: u64,
    pub first_broken: Option<i64>,
}

/// Rows read at a time: the log grows with every write, so it is never
/// loaded whole.
const CHAIN_PAGE: u64 = 2_000;

/// Walks the whole chain in id order, a page at a time, up to the first
/// entry that does not match.
pub async fn check_chain<C: ConnectionTrait>(conn: &C) -> Result<ChainWalk, DbErr> {
    check_chain_by(conn, CHAIN_PAGE).await
}

async fn check_chain_by<C: ConnectionTrait>(conn: &C, page_size: u64) -> Result<ChainWalk, DbErr> {
    let (mut prev, mut after, mut entries): (Option<String>, i64, u64) = (None, i64::MIN, 0);
    loop {
        let page = audit_log::Entity::find()
            .filter(audit_log::Column::Id.gt(after))
            .order_by_asc(audit_log::Column::Id)
            .limit(page_size)
            .all(conn)
            .await?;
        let Some(last) = page.last() else { return Ok(ChainWalk { entries, first_broken: None }) };
        after = last.id;
        for e in page {
            entries += 1;
            let expected = chain_hash(&ChainFields {
                prev_hash: prev.as_deref(),
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
            });
            if e.prev_hash != prev || e.hash != expected {
                return Ok(ChainWalk { entries, first_broken: Some(e.id) });
            }
            prev = Some(e.hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration::MigratorTrait;

    #[tokio::test]
    async fn the_walk_crosses_pages_and_stops_at_an_edited_row() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let mut ids = Vec::new();
        for n in 0..7 {
            let entry = Entry {
                organisation_id: None,
                action: "test.write",
                entity: "thing",
                entity_id: Some(n.to_string()),
                before: None,
                after: Some(serde_json::json!({ "n": n })),
            };
            ids.push(record(&db, &Caller::system(), entry).await.unwrap().id);
        }
        // Pages of 2 over 7 entries: the links between pages are checked too.
        assert_eq!(check_chain_by(&db, 2).await.unwrap(), ChainWalk { entries: 7, first_broken: None });
        let fifth = audit_log::Entity::find_by_id(ids[4]).one(&db).await.unwrap().unwrap();
        let mut edited: audit_log::ActiveModel = fifth.into();
        edited.after = Set(Some("{\"n\":40}".into()));
        edited.update(&db).await.unwrap();
        assert_eq!(check_chain_by(&db, 2).await.unwrap(), ChainWalk { entries: 5, first_broken: Some(ids[4]) });
        // A removed row breaks the link of the one after it.
        audit_log::Entity::delete_by_id(ids[2]).exec(&db).await.unwrap();
        assert_eq!(check_chain_by(&db, 2).await.unwrap().first_broken, Some(ids[3]));
    }
}
