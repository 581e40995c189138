//! Assessed units (被考核单位).

use entity::unit;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::policy;

/// Units of an organisation, optionally of one kind, in creation order.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    organisation_id: i64,
    kind: Option<&str>,
) -> Result<Vec<unit::Model>, ApiError> {
    policy::may_read(caller)?;
    let mut q = unit::Entity::find().filter(unit::Column::OrganisationId.eq(organisation_id));
    if let Some(k) = kind {
        q = q.filter(unit::Column::Kind.eq(k));
    }
    Ok(q.order_by_asc(unit::Column::Id).all(db).await?)
}

pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<unit::Model, ApiError> {
    policy::may_read(caller)?;
    unit::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ApiError::not_found(format!("unit {id}")))
}

/// Units by id (for batch loading); unknown ids are left out.
pub async fn by_ids(db: &DatabaseConnection, caller: &Caller, ids: &[i64]) -> Result<Vec<unit::Model>, ApiError> {
    policy::may_read(caller)?;
    Ok(unit::Entity::find().filter(unit::Column::Id.is_in(ids.to_vec())).all(db).await?)
}

pub async fn children(db: &DatabaseConnection, caller: &Caller, parent_id: i64) -> Result<Vec<unit::Model>, ApiError> {
    policy::may_read(caller)?;
    Ok(unit::Entity::find().filter(unit::Column::ParentId.eq(parent_id)).order_by_asc(unit::Column::Id).all(db).await?)
}
