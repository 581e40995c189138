//! Organisations (考核组织, tenants) and their departments (科室).

use entity::{department, organisation};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::caller::Caller;
use crate::error::ServiceError;
use crate::paging::{self, Page, Paged};
use crate::policy;

/// Every organisation, in creation order.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    page: Page,
) -> Result<Paged<organisation::Model>, ServiceError> {
    policy::may_read(caller)?;
    paging::fetch(db, organisation::Entity::find().order_by_asc(organisation::Column::Id), page).await
}

pub async fn by_code(
    db: &DatabaseConnection,
    caller: &Caller,
    code: &str,
) -> Result<organisation::Model, ServiceError> {
    policy::may_read(caller)?;
    organisation::Entity::find()
        .filter(organisation::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))
}

/// [`by_code`], from what the pulse keeps when it can (while it listens or
/// watches; every other time it reads).
pub async fn by_code_kept<R: Clone>(
    db: &DatabaseConnection,
    caller: &Caller,
    pulse: &crate::auth::pulse::Pulse<R>,
    code: &str,
) -> Result<organisation::Model, ServiceError> {
    policy::may_read(caller)?;
    if let Some(org) = pulse.kept_organisation(code) {
        return Ok(org);
    }
    let stamp = pulse.stamp();
    let org = by_code(db, caller, code).await?;
    pulse.keep_organisation(org.clone(), stamp);
    Ok(org)
}

pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<organisation::Model, ServiceError> {
    policy::may_read(caller)?;
    organisation::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("organisation"))
}

/// Organisations by id (for batch loading); unknown ids are left out.
pub async fn by_ids(
    db: &DatabaseConnection,
    caller: &Caller,
    ids: &[i64],
) -> Result<Vec<organisation::Model>, ServiceError> {
    policy::may_read(caller)?;
    Ok(organisation::Entity::find().filter(organisation::Column::Id.is_in(ids.to_vec())).all(db).await?)
}

/// Departments of an organisation, in creation order.
pub async fn departments(
    db: &DatabaseConnection,
    caller: &Caller,
    organisation_id: i64,
    page: Page,
) -> Result<Paged<department::Model>, ServiceError> {
    policy::may_read(caller)?;
    let q = department::Entity::find()
        .filter(department::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(department::Column::Id);
    paging::fetch(db, q, page).await
}

pub async fn department_by_id(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> Result<department::Model, ServiceError> {
    policy::may_read(caller)?;
    department::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("department"))
}
