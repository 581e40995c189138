//! Publishing a draft (发布): the engine compiles it from its rows exactly as
//! it will later be read back for scoring (`rebuild`); if it does not
//! compile, nothing changes and every problem is listed. Once published the
//! version is frozen and score runs may be opened on it.

use chrono::Utc;
use entity::states::{RunStatus, VersionStatus};
use entity::{indicator, rubric_version, rule};
use kaohe_engine::Rubric;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use super::{check_draft, stale};
use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::db;
use crate::error::ServiceError;
use crate::rubric::enum_text;
use crate::rubric::query::VersionTree;
use crate::rubric::rebuild;

/// Publishes a draft at `expected`: BAD_USER_INPUT listing the engine's
/// problems if it does not compile (it stays a draft), FROZEN if it is not
/// a draft, CONFLICT if it changed since it was read.
pub async fn publish(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    version_id: i64,
    expected: i32,
) -> Result<rubric_version::Model, ServiceError> {
    let (_, organisation_id) = check_draft(db, caller, version_id, expected, "rubric version").await?;
    let (name, file, tree) = rebuild::file_of_version(db, caller, version_id).await?;
    let rubric = Rubric::from_file(&name, file).map_err(|e| {
        ServiceError::BadUserInput(format!(
            "rubric version {version_id} does not compile ({} problem(s)); it stays a draft:\n{e}",
            e.0.len()
        ))
    })?;
    let txn = db::begin_write(db).await?;
    // Guarded by the version read: an edit since then makes this a CONFLICT,
    // so what was compiled is what is published.
    let done = rubric_version::Entity::update_many()
        .col_expr(rubric_version::Column::Status, Expr::value(RunStatus::Published))
        .col_expr(rubric_version::Column::PublishedAt, Expr::value(Utc::now()))
        .col_expr(rubric_version::Column::Version, Expr::col(rubric_version::Column::Version).add(1))
        .filter(rubric_version::Column::Id.eq(version_id))
        .filter(rubric_version::Column::Version.eq(expected))
        .filter(rubric_version::Column::Status.eq(VersionStatus::Draft))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(stale());
    }
    normalise(&txn, &rubric, &tree).await?;
    let published = rubric_version::Entity::find_by_id(version_id).one(&txn).await?.ok_or_else(stale)?;
    audit::record(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(organisation_id),
            action: "rubric_version.publish",
            entity: "rubric_version",
            entity_id: Some(version_id.to_string()),
            before: Some(json!({ "status": VersionStatus::Draft, "version": expected })),
            after: Some(json!({
                "rubric": rubric.code, "label": rubric.version, "status": published.status,
                "version": published.version, "indicators": rubric.indicators.len(), "rules": rubric.rules.len(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(published)
}

/// Stores what the engine derived, so a published draft reads like a loaded
/// file: indicators in tree order with their depth, role and inherited
/// department; rules with the engine's codes (a, b, … for keyless rules of
/// one clause), its form of the params, and in rubric order.
async fn normalise<C: ConnectionTrait>(conn: &C, rubric: &Rubric, tree: &VersionTree) -> Result<(), ServiceError> {
    let missing = |what: String| ServiceError::Internal(format!("publishing: no row for {what}").into());
    for (pos, ind) in rubric.indicators.iter().enumerate() {
        let row = tree.by_code.get(&ind.code).map(|&i| &tree.indicators[i]).ok_or_else(|| missing(ind.code.clone()))?;
        indicator::Entity::update_many()
            .col_expr(indicator::Column::Position, Expr::value(to_i32(pos)))
            .col_expr(indicator::Column::Depth, Expr::value(to_i32(ind.depth)))
            .col_expr(indicator::Column::Role, Expr::value(crate::rubric::stored_role(ind.role)))
            .col_expr(indicator::Column::Department, Expr::value(ind.department.clone()))
            .filter(indicator::Column::Id.eq(row.id))
            .exec(conn)
            .await?;
    }
    for (pos, r) in rubric.rules.iter().enumerate() {
        let ind = &rubric.indicators[r.indicator];
        let row = tree
            .by_code
            .get(&ind.code)
            .map(|&i| &tree.indicators[i])
            .and_then(|i| tree.clauses.get(&i.id))
            .and_then(|cs| cs.get(r.clause))
            .and_then(|c| {
                let nth = ind.clauses.get(r.clause)?.rules.iter().position(|&x| x == pos)?;
                tree.rules.get(&c.id)?.get(nth)
            })
            .ok_or_else(|| missing(r.code.clone()))?;
        let params = serde_json::to_string(&r.kind).map_err(ServiceError::internal)?;
        rule::Entity::update_many()
            .col_expr(rule::Column::Code, Expr::value(r.code.clone()))
            .col_expr(rule::Column::Kind, Expr::value(r.kind.name()))
            .col_expr(rule::Column::Effect, Expr::value(enum_text(&r.effect)))
            .col_expr(rule::Column::Params, Expr::value(params))
            .col_expr(rule::Column::Position, Expr::value(to_i32(pos)))
            .filter(rule::Column::Id.eq(row.id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
