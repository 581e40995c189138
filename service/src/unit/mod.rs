//! Assessed units (被考核单位): reading them (public reference data, page by
//! page) and administering them (`admin`: the organisation's admin creates,
//! renames, moves, deactivates and reactivates them; every change is kept in
//! `unit_history`).

pub mod admin;
pub mod import;

use entity::{unit, unit_history};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use crate::caller::Caller;
use crate::error::ServiceError;
use crate::paging::{self, Page, Paged};
use crate::policy;

/// Filters on an organisation's units.
#[derive(Clone, Debug, Default)]
pub struct UnitFilter {
    /// Only units of this kind (`county`, `school`, …).
    pub kind: Option<String>,
    /// Only active (true) or deactivated (false) units.
    pub active: Option<bool>,
    /// Only the direct children of this unit.
    pub parent_id: Option<i64>,
    /// Only units whose name or code contains this text.
    pub search: Option<String>,
}

/// Longest `search` text accepted.
const MAX_SEARCH: usize = 100;

/// Units of an organisation matching the filter, in creation order.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    organisation_id: i64,
    filter: UnitFilter,
    page: Page,
) -> Result<Paged<unit::Model>, ServiceError> {
    policy::may_read(caller)?;
    paging::fetch(db, filtered(organisation_id, filter)?, page).await
}

/// A unit as a list shows it: its own short columns, without its
/// attributes, timestamps and idempotency key (a page of these is read
/// in well under the time of whole rows, issue 18).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRow {
    pub id: i64,
    pub organisation_id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub active: bool,
    pub version: i32,
}

impl UnitRow {
    /// Its columns, in the order they are selected and read back.
    const COLUMNS: [unit::Column; 8] = [
        unit::Column::Id,
        unit::Column::OrganisationId,
        unit::Column::ParentId,
        unit::Column::Code,
        unit::Column::Name,
        unit::Column::Kind,
        unit::Column::Active,
        unit::Column::Version,
    ];
}

/// Read by position, in the order of [`UnitRow::COLUMNS`]: a page of 100
/// rows looked up 800 columns by name (a hash of each name), about a
/// tenth of a computed page's time.
impl FromQueryResult for UnitRow {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        if !pre.is_empty() {
            return Err(sea_orm::DbErr::Type("UnitRow is read only by position, without a prefix".into()));
        }
        Ok(UnitRow {
            id: res.try_get_by_index(0)?,
            organisation_id: res.try_get_by_index(1)?,
            parent_id: res.try_get_by_index(2)?,
            code: res.try_get_by_index(3)?,
            name: res.try_get_by_index(4)?,
            kind: res.try_get_by_index(5)?,
            active: res.try_get_by_index(6)?,
            version: res.try_get_by_index(7)?,
        })
    }
}

/// [`list`], each unit read as a [`UnitRow`].
pub async fn list_rows(
    db: &DatabaseConnection,
    caller: &Caller,
    organisation_id: i64,
    filter: UnitFilter,
    page: Page,
) -> Result<Paged<UnitRow>, ServiceError> {
    policy::may_read(caller)?;
    let q = filtered(organisation_id, filter)?.select_only().columns(UnitRow::COLUMNS);
    paging::fetch_as(db, q, page).await
}

/// The units of an organisation `filter` keeps, in creation order.
fn filtered(organisation_id: i64, filter: UnitFilter) -> Result<sea_orm::Select<unit::Entity>, ServiceError> {
    let mut q = unit::Entity::find().filter(unit::Column::OrganisationId.eq(organisation_id));
    if let Some(k) = filter.kind {
        q = q.filter(unit::Column::Kind.eq(k));
    }
    if let Some(a) = filter.active {
        q = q.filter(unit::Column::Active.eq(a));
    }
    if let Some(p) = filter.parent_id {
        q = q.filter(unit::Column::ParentId.eq(p));
    }
    if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > MAX_SEARCH {
            return Err(ServiceError::BadUserInput(format!("`search` is longer than {MAX_SEARCH} characters")));
        }
        let name_or_code = Condition::any()
            .add(paging::contains(unit::Column::Name, text))
            .add(paging::contains(unit::Column::Code, text));
        q = q.filter(name_or_code);
    }
    Ok(q.order_by_asc(unit::Column::Id))
}

/// The units directly under a unit (下级单位), in creation order.
pub async fn children(
    db: &DatabaseConnection,
    caller: &Caller,
    parent: &unit::Model,
    page: Page,
) -> Result<Paged<unit::Model>, ServiceError> {
    let filter = UnitFilter { parent_id: Some(parent.id), ..Default::default() };
    list(db, caller, parent.organisation_id, filter, page).await
}

pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<unit::Model, ServiceError> {
    policy::may_read(caller)?;
    unit::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("unit"))
}

/// Units by id (for batch loading); unknown ids are left out.
pub async fn by_ids(db: &DatabaseConnection, caller: &Caller, ids: &[i64]) -> Result<Vec<unit::Model>, ServiceError> {
    policy::may_read(caller)?;
    Ok(unit::Entity::find().filter(unit::Column::Id.is_in(ids.to_vec())).all(db).await?)
}

/// An organisation's units with these codes; unknown codes are left out.
pub async fn by_codes(
    db: &DatabaseConnection,
    caller: &Caller,
    organisation_id: i64,
    codes: &[&str],
) -> Result<Vec<unit::Model>, ServiceError> {
    policy::may_read(caller)?;
    Ok(unit::Entity::find()
        .filter(unit::Column::OrganisationId.eq(organisation_id))
        .filter(unit::Column::Code.is_in(codes.iter().copied()))
        .all(db)
        .await?)
}

/// A unit's changes (变更记录), oldest first; for staff of its organisation
/// (the rows name who made each change).
pub async fn history(
    db: &DatabaseConnection,
    caller: &Caller,
    unit: &unit::Model,
    page: Page,
) -> Result<Paged<unit_history::Model>, ServiceError> {
    policy::may_read_as_staff(caller, unit.organisation_id).map_err(|e| e.not_found_as("unit"))?;
    let q = unit_history::Entity::find()
        .filter(unit_history::Column::UnitId.eq(unit.id))
        .order_by_asc(unit_history::Column::Id);
    paging::fetch(db, q, page).await
}
