//! The append-only audit log (操作日志).
//!
//! Every organisation's entries form a chain of their own (entries of no
//! organisation: the platform chain): each entry stores the hash of the
//! previous entry of its chain, and its own hash is an HMAC-SHA256 under the
//! audit key ([`ChainKey`]), kept outside the database. An edited, inserted or
//! removed entry breaks the chain at that point, and without the key nobody
//! can recompute the hashes after it. Removing the newest entries leaves the
//! links whole: publications anchor the head they saw ([`anchor`]), and the
//! check reports a tail cut behind an anchor. Entries written before the key
//! existed keep their plain SHA-256 (`seal::LEGACY`); `upgrade` seals them.
//!
//! Writers of one chain take turns; a write of data other organisations may
//! read (an entry with `shared_data`) takes the whole database's turn
//! (`db::begin_write`), a write of one organisation's own data only that
//! organisation's (`db::begin_organisation_write`, entries of [`OWN_DATA`]
//! kinds). An organisation's data generation is the newest id of its chain
//! and of the shared entries ([`generation`]).

mod anchor;
pub mod generation;
mod key;
mod seal;
mod upgrade;
mod verify;

use chrono::{SubsecRound, Utc};
use entity::{audit_anchor, audit_log};
use sea_orm::sea_query::{Alias, CommonTableExpression, WithClause};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set, TryIntoModel,
};

use crate::caller::Caller;

pub use anchor::anchor;
pub use key::{ChainKey, KEY_FILE, KeyError, MIN_KEY_BYTES};
pub use seal::{KEYED, LEGACY, legacy_hash};
pub use upgrade::{SEAL_ACTION, UpgradeError, prepare};
pub use verify::{ChainReport, Head, check_all, check_chain};

/// Points the request gate charges for one `verifyAuditChain`: it reads and
/// hashes every entry of a chain (thousands of rows, more with every write),
/// so it is priced like listing 5 000 entries through `auditLog` (50 points).
pub const VERIFY_COST: u64 = 50;

/// One chain: an organisation's, or the platform's (entries of no organisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    Platform,
    Organisation(i64),
}

impl Chain {
    /// The chain an entry of this organisation goes on.
    pub fn of(organisation_id: Option<i64>) -> Chain {
        organisation_id.map_or(Chain::Platform, Chain::Organisation)
    }

    pub fn organisation_id(self) -> Option<i64> {
        match self {
            Chain::Platform => None,
            Chain::Organisation(id) => Some(id),
        }
    }

    fn entries(self) -> Condition {
        let c = Condition::all();
        match self {
            Chain::Platform => c.add(audit_log::Column::OrganisationId.is_null()),
            Chain::Organisation(id) => c.add(audit_log::Column::OrganisationId.eq(id)),
        }
    }

    fn anchors(self) -> Condition {
        let c = Condition::all();
        match self {
            Chain::Platform => c.add(audit_anchor::Column::OrganisationId.is_null()),
            Chain::Organisation(id) => c.add(audit_anchor::Column::OrganisationId.eq(id)),
        }
    }
}

/// The newest entry of a chain (an indexed look-up, `(organisation_id, id)`).
pub async fn head<C: ConnectionTrait>(conn: &C, chain: Chain) -> Result<Option<audit_log::Model>, DbErr> {
    newest_first(chain).one(conn).await
}

/// A chain's entries, newest first (its head is the first).
fn newest_first(chain: Chain) -> sea_orm::Select<audit_log::Entity> {
    audit_log::Entity::find().filter(chain.entries()).order_by_desc(audit_log::Column::Id)
}

/// The hash of a chain's newest entry, as a query to embed in a statement
/// read under the write turn (then passed to [`record_after`]).
pub fn head_hash_query(chain: Chain) -> sea_orm::sea_query::SelectStatement {
    newest_first(chain).select_only().column(audit_log::Column::Hash).limit(1).into_query()
}

/// Kinds of entries (`Entry::entity`) whose writes change only their own
/// organisation's data, which no other organisation's caller can read: they
/// move only that organisation's data generation. Every other kind, and
/// every entry of no organisation, is shared: it moves every organisation's
/// generation and is written under the whole database's turn. A kind missing
/// here is therefore only slower (other organisations' cached answers are
/// recomputed), never stale.
pub const OWN_DATA: [&str; 4] = ["observation", "claim", "section_submission", "score_run"];

/// Whether an entry of `entity` in `organisation_id` changes data other
/// organisations' callers may read.
pub fn shares_data(organisation_id: Option<i64>, entity: &str) -> bool {
    organisation_id.is_none() || !OWN_DATA.contains(&entity)
}

/// One action to record.
pub struct Entry<'a> {
    pub organisation_id: Option<i64>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The entries appended for one caller (one request): each organisation's
/// newest own entry and the newest shared one. The HTTP layer gives them to
/// the pulse once the request has run (`auth::pulse::Pulse::written`), as the
/// entries' notifications would, so the request's next read of its
/// organisation sees the new generation without reading it. An entry of a
/// write that rolled back only moves a generation early: ids grow, so a
/// later write's entry is above it, and an answer kept under it was read
/// after the rollback.
#[derive(Debug, Default)]
pub struct Appended(std::sync::Mutex<AppendedIds>);

#[derive(Debug, Default)]
struct AppendedIds {
    own: Vec<(i64, i64)>,
    shared: Option<i64>,
}

impl Appended {
    fn note(&self, organisation_id: Option<i64>, shared: bool, id: i64) {
        let mut ids = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match organisation_id {
            Some(org) if !shared => match ids.own.iter_mut().find(|(o, _)| *o == org) {
                Some((_, newest)) => *newest = (*newest).max(id),
                None => ids.own.push((org, id)),
            },
            _ => ids.shared = ids.shared.max(Some(id)),
        }
    }

    /// What the entries' notifications say (`a <organisation> <shared> <id>`).
    pub fn heard(&self) -> Vec<crate::auth::pulse::Heard> {
        use crate::auth::pulse::Heard;
        let ids = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let own = ids.own.iter().map(|&(org, id)| Heard::Entry { organisation: Some(org), shared: false, id });
        own.chain(ids.shared.map(|id| Heard::Entry { organisation: None, shared: true, id })).collect()
    }
}

/// The score run and unit an entry concerns (both optional), so the log can be
/// queried by run and unit. They are part of the hashed fields when present.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    pub score_run_id: Option<i64>,
    pub unit_id: Option<i64>,
}

/// Appends an entry; call it inside the write transaction
/// (`db::begin_write`) that makes the change.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    key: &ChainKey,
    caller: &Caller,
    entry: Entry<'_>,
) -> Result<audit_log::Model, DbErr> {
    record_scoped(conn, key, caller, entry, Scope::default()).await
}

/// Appends an entry about a run (and maybe one of its units).
pub async fn record_scoped<C: ConnectionTrait>(
    conn: &C,
    key: &ChainKey,
    caller: &Caller,
    entry: Entry<'_>,
    scope: Scope,
) -> Result<audit_log::Model, DbErr> {
    let shared = shares_data(entry.organisation_id, entry.entity);
    if shared {
        // Shared entries are committed in order: under the exclusive turn.
        crate::db::ensure_exclusive_turn(conn).await?;
    }
    // Read under the write turn: no other writer can append in between.
    let prev_hash = head(conn, Chain::of(entry.organisation_id)).await?.map(|e| e.hash);
    append(conn, caller, sealed(key, caller, entry, scope, shared, prev_hash), None).await
}

/// Appends an entry of an organisation's own data whose chain head the
/// caller has read under its write turn (`head_hash_query`, or the entry it
/// appended last), saving the head's round trip. A shared entry reads the
/// head itself, under the exclusive turn, as [`record_scoped`] does.
pub async fn record_after<C: ConnectionTrait>(
    conn: &C,
    key: &ChainKey,
    caller: &Caller,
    entry: Entry<'_>,
    scope: Scope,
    prev_hash: Option<String>,
) -> Result<audit_log::Model, DbErr> {
    if shares_data(entry.organisation_id, entry.entity) {
        return record_scoped(conn, key, caller, entry, scope).await;
    }
    append(conn, caller, sealed(key, caller, entry, scope, false, prev_hash), None).await
}

/// Appends an entry of an organisation's own data (as [`record_after`]) in
/// the same statement as the row it records, on PostgreSQL: `WITH kaohe_row
/// AS (<row>) INSERT INTO audit_log …`, one round trip for both. The row
/// must be complete without the entry (its id chosen beforehand: the entry
/// names it). PostgreSQL only (SQLite takes no insert in `WITH`), and an
/// own-data entry only: a shared one reads its head under the exclusive turn
/// ([`record_scoped`]).
pub async fn record_with_row<C: ConnectionTrait>(
    conn: &C,
    key: &ChainKey,
    caller: &Caller,
    entry: Entry<'_>,
    scope: Scope,
    prev_hash: Option<String>,
    row: sea_orm::sea_query::InsertStatement,
) -> Result<audit_log::Model, DbErr> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres || shares_data(entry.organisation_id, entry.entity) {
        return Err(DbErr::Custom("an entry with its row: PostgreSQL and own data only".into()));
    }
    append(conn, caller, sealed(key, caller, entry, scope, false, prev_hash), Some(row)).await
}

/// The one place a sealed entry ([`sealed`]) is written (alone, or after
/// `row` in the same statement) and noted as the caller's (`Appended`).
async fn append<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    sealed: audit_log::ActiveModel,
    row: Option<sea_orm::sea_query::InsertStatement>,
) -> Result<audit_log::Model, DbErr> {
    let appended = match row {
        None => sealed.insert(conn).await?,
        Some(row) => {
            let backend = conn.get_database_backend();
            let mut insert = audit_log::Entity::insert(sealed.clone()).into_query();
            insert.returning_col(audit_log::Column::Id);
            let cte = CommonTableExpression::new().query(row).table_name(Alias::new("kaohe_row")).to_owned();
            let both = insert.with(WithClause::new().cte(cte).to_owned());
            let found = conn.query_one_raw(backend.build(&both)).await?.ok_or(DbErr::RecordNotInserted)?;
            let mut sealed = sealed;
            sealed.id = Set(found.try_get_by_index(0)?);
            sealed.try_into_model()?
        }
    };
    caller.appended.note(appended.organisation_id, appended.shared_data, appended.id);
    Ok(appended)
}

/// The entry as it will be stored: its fields and their seal.
fn sealed(
    key: &ChainKey,
    caller: &Caller,
    entry: Entry<'_>,
    scope: Scope,
    shared: bool,
    prev_hash: Option<String>,
) -> audit_log::ActiveModel {
    // Microseconds: what PostgreSQL keeps, so the hash can be re-checked.
    let at = Utc::now().trunc_subsecs(6);
    let before = entry.before.map(|v| v.to_string());
    let after = entry.after.map(|v| v.to_string());
    let label = caller.label();
    let hash = seal::keyed(
        key,
        &seal::Fields {
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
        },
    );
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
        chain_version: Set(KEYED),
        shared_data: Set(shared),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::Appended;
    use crate::auth::pulse::Heard;

    #[test]
    fn appended_keeps_each_organisations_newest_and_the_newest_shared() {
        let a = Appended::default();
        a.note(Some(7), false, 10);
        a.note(Some(8), false, 11);
        a.note(Some(7), false, 12);
        a.note(Some(7), true, 13);
        a.note(None, false, 9);
        let entry = |organisation, shared, id| Heard::Entry { organisation, shared, id };
        assert_eq!(a.heard(), vec![entry(Some(7), false, 12), entry(Some(8), false, 11), entry(None, true, 13)]);
    }
}
