//! Discarding a draft (删除草稿): the version and its whole tree go, in one
//! audited transaction. Only a draft: a published or retired version is
//! FROZEN (score runs and results refer to it). A stale `expected` is CONFLICT.

use entity::{clause, indicator, indicator_group, rubric_version, rule};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use super::{Edited, Editing};
use crate::audit::ChainKey;
use crate::caller::Caller;
use crate::error::ServiceError;

pub async fn discard(
    db: &sea_orm::DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    version_id: i64,
    expected: i32,
) -> Result<Edited, ServiceError> {
    let e = Editing::begin(db, chain_key, caller, version_id, expected, "rubric version").await?;
    let indicators: Vec<(i64, i32)> = indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version_id))
        .select_only()
        .column(indicator::Column::Id)
        .column(indicator::Column::Depth)
        .into_tuple()
        .all(&e.txn)
        .await?;
    let ids: Vec<i64> = indicators.iter().map(|(id, _)| *id).collect();
    let rules = rule::Entity::delete_many().filter(rule::Column::RubricVersionId.eq(version_id)).exec(&e.txn).await?;
    clause::Entity::delete_many().filter(clause::Column::IndicatorId.is_in(ids.clone())).exec(&e.txn).await?;
    indicator_group::Entity::delete_many()
        .filter(indicator_group::Column::IndicatorId.is_in(ids.clone()))
        .exec(&e.txn)
        .await?;
    // Deepest level first: a parent row goes only once nothing refers to it.
    let mut depths: Vec<i32> = indicators.iter().map(|(_, d)| *d).collect();
    depths.sort_unstable_by(|a, b| b.cmp(a));
    depths.dedup();
    for depth in depths {
        indicator::Entity::delete_many()
            .filter(indicator::Column::RubricVersionId.eq(version_id))
            .filter(indicator::Column::Depth.eq(depth))
            .exec(&e.txn)
            .await?;
    }
    rubric_version::Entity::delete_by_id(version_id).exec(&e.txn).await?;
    let before = json!({
        "label": e.draft.label,
        "title": e.draft.title,
        "indicators": ids.len(),
        "rules": rules.rows_affected,
    });
    e.finish(caller, "rubric_version.discard", ("rubric_version", version_id), Some(before), None).await
}
