//! The data generation: every write appends to the audit log in its own
//! transaction and writers take turns (`db::begin_write`), so the newest
//! audit id numbers the state of the whole database alike on every instance.
//! The API's response cache keys its answers on it.

use entity::audit_log;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect};

/// The newest audit id as a column of another statement: the caller's row is
/// read with it (`auth::bearer`), so an authenticated request costs one statement.
pub fn generation_column() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust("(SELECT MAX(audit_log.id) FROM audit_log)")
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
