//! The data generation: every write appends to the audit log in its own
//! transaction, so the audit ids number the states of the database alike on
//! every instance. The API's response cache keys its answers on it.
//!
//! **Per organisation.** A signed-in caller's answers depend on its own
//! organisation's data and on data every organisation may read (reference
//! data, settings), never on another organisation's own data. So its
//! generation is `max(newest id of its organisation's chain, newest shared
//! id)` (`audit_log.shared_data`, see `audit::OWN_DATA`): another bureau
//! recording observations does not move it. The maximum is enough, because
//! ids come from one sequence and
//! - a shared entry is written under the whole database's exclusive turn
//!   (`db::begin_write`, `db::ensure_exclusive_turn`): every writer before it
//!   has finished, so its id is above every id committed so far;
//! - an organisation's own entry is written under its organisation's turn,
//!   which a shared write excludes (`db::begin_organisation_write`): its id
//!   is above its organisation's previous ones and every shared one.
//!
//! Either way the maximum grows with every write the caller could see.
//! Anonymous callers (and any caller without an organisation) follow the
//! newest id of all.

use entity::audit_log;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect};

/// The newest audit id of the organisation of `table`'s row (its
/// `organisation_id` column) as a column of another statement: the caller's
/// row is read with it (`auth::bearer`), so an authenticated request costs
/// one statement. An index look-up (`organisation_id, id`).
pub fn own_generation_column(table: &str) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(format!(
        "(SELECT MAX(own.id) FROM audit_log own WHERE own.organisation_id = \"{table}\".\"organisation_id\")"
    ))
}

/// The newest shared audit id, as a column of the same statement (an index
/// look-up, `shared_data, id`).
pub fn shared_generation_column() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust("(SELECT MAX(shared.id) FROM audit_log shared WHERE shared.shared_data = TRUE)")
}

/// An organisation's generation from its two columns (0 on an empty log).
pub fn organisation_generation(own: Option<i64>, shared: Option<i64>) -> i64 {
    own.unwrap_or(0).max(shared.unwrap_or(0))
}

/// The same value read alone (0 on an empty log), for anonymous callers:
/// moves with every committed write.
pub async fn generation_of<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let newest: Option<i64> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Id)
        .order_by_desc(audit_log::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.unwrap_or(0))
}
