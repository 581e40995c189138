//! Administering assessed units (被考核单位管理): create, rename, move,
//! deactivate, reactivate; the organisation's admin only
//! (`policy::may_administer_units`).
//!
//! Each change is one transaction holding the versioned `UPDATE … WHERE id = ?
//! AND version = ?` (stale: CONFLICT), a `unit_history` row and the audit
//! entry, scoped to the unit so `auditLog(unitId:)` finds it. A published
//! result keeps the name the unit had when it was scored (stored with the
//! result); a deactivated unit stays in the runs and results it is part of,
//! but no new run takes it (`runs::lifecycle::open`).

use chrono::{SubsecRound, Utc};
use entity::{organisation, unit, unit_history};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::{db, idempotency, policy};

/// The organisation a new unit belongs to, by id or by code.
pub enum OrganisationRef {
    Id(i64),
    Code(String),
}

/// What creating a unit needs.
pub struct NewUnit {
    pub organisation: OrganisationRef,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    /// A JSON object; `{}` when absent.
    pub attributes: Option<serde_json::Value>,
    pub idempotency_key: Option<String>,
}

/// The kinds of change kept in `unit_history.change`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Renamed,
    Moved,
    Deactivated,
    Reactivated,
}

impl Change {
    pub const ALL: [Change; 5] =
        [Change::Created, Change::Renamed, Change::Moved, Change::Deactivated, Change::Reactivated];

    /// As stored in `unit_history.change`.
    pub fn stored(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Renamed => "renamed",
            Change::Moved => "moved",
            Change::Deactivated => "deactivated",
            Change::Reactivated => "reactivated",
        }
    }

    /// The audit log's action.
    fn action(self) -> &'static str {
        match self {
            Change::Created => "unit.create",
            Change::Renamed => "unit.rename",
            Change::Moved => "unit.move",
            Change::Deactivated => "unit.deactivate",
            Change::Reactivated => "unit.reactivate",
        }
    }

    pub fn of(stored: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.stored() == stored)
    }
}

const MAX_CODE: usize = 64;
const MAX_NAME: usize = 200;
const MAX_ATTRIBUTES: usize = 4096;
/// Deeper than any real unit tree; stops the walk up a corrupt one.
const MAX_DEPTH: usize = 1000;

/// Creates a unit. Its code is unique in the organisation (CONFLICT); its
/// parent, if any, is an active unit of the same organisation. The same
/// idempotency key returns the unit it created the first time.
pub async fn create(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    input: NewUnit,
) -> Result<unit::Model, ServiceError> {
    policy::signed_in(caller)?;
    let org = match &input.organisation {
        OrganisationRef::Id(id) => organisation::Entity::find_by_id(*id).one(db).await?,
        OrganisationRef::Code(c) => {
            organisation::Entity::find().filter(organisation::Column::Code.eq(c.as_str())).one(db).await?
        }
    }
    .ok_or_else(|| ServiceError::not_found("organisation"))?;
    let authorized = policy::may_administer_units(caller, org.id).map_err(|e| e.not_found_as("organisation"))?;
    let params = json!({
        "organisation": org.id, "code": input.code.trim(), "name": input.name.trim(), "kind": input.kind.trim(),
        "parent": input.parent_id, "attributes": input.attributes,
    });
    let key = idempotency::key(&authorized, "createUnit", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return unit::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("unit {id} of an idempotency key").into()));
    }
    let code = check_code(&input.code)?;
    let name = check_name(&input.name)?;
    let kind = check_kind(&input.kind)?;
    let attributes = check_attributes(input.attributes)?;
    let txn = db::begin_write(db).await?;
    if let Some(p) = input.parent_id {
        check_parent(&txn, org.id, p, None).await?;
    }
    let taken = || ServiceError::Conflict(format!("a unit with code `{code}` already exists in this organisation"));
    let existing = unit::Entity::find()
        .filter(unit::Column::OrganisationId.eq(org.id))
        .filter(unit::Column::Code.eq(code.as_str()))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(taken());
    }
    let now = Utc::now();
    let row = unit::ActiveModel {
        organisation_id: Set(org.id),
        parent_id: Set(input.parent_id),
        code: Set(code.clone()),
        name: Set(name),
        kind: Set(kind),
        attributes: Set(attributes),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match ServiceError::from(e) {
        // The same code committed by a concurrent request.
        ServiceError::Conflict(_) => taken(),
        other => other,
    })?;
    idempotency::remember(&txn, key.as_ref(), row.id).await?;
    record(&txn, chain_key, caller, Change::Created, None, &row, None).await?;
    txn.commit().await?;
    Ok(row)
}

/// Renames a unit (更名). Results already published keep the old name.
pub async fn rename(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    name: &str,
    expected_version: i32,
) -> Result<unit::Model, ServiceError> {
    let unit = administered(db, caller, id).await?;
    let name = check_name(name)?;
    if name == unit.name {
        return Err(ServiceError::BadUserInput(format!("the unit is already named {name}")));
    }
    let wanted = Wanted { name, ..Wanted::of(&unit) };
    apply(db, chain_key, caller, unit, expected_version, Change::Renamed, wanted, None).await
}

/// Moves a unit under another unit of its organisation, or to the top level
/// (`None`). A move under itself or one of its descendants is refused.
pub async fn move_to(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    parent_id: Option<i64>,
    expected_version: i32,
) -> Result<unit::Model, ServiceError> {
    let unit = administered(db, caller, id).await?;
    if parent_id == unit.parent_id {
        return Err(ServiceError::BadUserInput("the unit is already there".to_string()));
    }
    let wanted = Wanted { parent_id, ..Wanted::of(&unit) };
    apply(db, chain_key, caller, unit, expected_version, Change::Moved, wanted, None).await
}

/// Deactivates a unit (停用), with a reason: no new run takes it; the runs and
/// results it is part of keep it.
pub async fn deactivate(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    reason: &str,
    expected_version: i32,
) -> Result<unit::Model, ServiceError> {
    let unit = administered(db, caller, id).await?;
    let reason = crate::input::reason(reason)?;
    if !unit.active {
        return Err(ServiceError::Conflict("the unit is already deactivated".to_string()));
    }
    let wanted = Wanted { active: false, ..Wanted::of(&unit) };
    apply(db, chain_key, caller, unit, expected_version, Change::Deactivated, wanted, Some(reason)).await
}

/// Reactivates a deactivated unit (启用).
pub async fn reactivate(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
) -> Result<unit::Model, ServiceError> {
    let unit = administered(db, caller, id).await?;
    if unit.active {
        return Err(ServiceError::Conflict("the unit is active".to_string()));
    }
    let wanted = Wanted { active: true, ..Wanted::of(&unit) };
    apply(db, chain_key, caller, unit, expected_version, Change::Reactivated, wanted, None).await
}

/// A unit the caller administers; another organisation's is NOT_FOUND.
async fn administered(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<unit::Model, ServiceError> {
    policy::signed_in(caller)?;
    let unit = unit::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("unit"))?;
    policy::may_administer_units(caller, unit.organisation_id).map_err(|e| e.not_found_as("unit"))?;
    Ok(unit)
}

fn stale() -> ServiceError {
    ServiceError::Conflict("the unit was changed by someone else; reload it and retry".to_string())
}

/// The values a unit is to have after a change.
struct Wanted {
    name: String,
    parent_id: Option<i64>,
    active: bool,
}

impl Wanted {
    fn of(u: &unit::Model) -> Wanted {
        Wanted { name: u.name.clone(), parent_id: u.parent_id, active: u.active }
    }
}

/// Writes the wanted values if the unit is still at `expected_version`, with
/// its history row and audit entry, in one transaction.
async fn apply(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    before: unit::Model,
    expected_version: i32,
    change: Change,
    wanted: Wanted,
    reason: Option<String>,
) -> Result<unit::Model, ServiceError> {
    if before.version != expected_version {
        return Err(stale());
    }
    let txn = db::begin_write(db).await?;
    if change == Change::Moved {
        // One tree change per organisation at a time (PostgreSQL; SQLite's
        // write transaction is already exclusive), so that two moves cannot
        // each pass the cycle check and together make a cycle.
        organisation::Entity::find_by_id(before.organisation_id).lock_exclusive().one(&txn).await?;
        if let Some(p) = wanted.parent_id {
            check_parent(&txn, before.organisation_id, p, Some(before.id)).await?;
        }
    }
    let updated = unit::Entity::update_many()
        .col_expr(unit::Column::Name, Expr::value(wanted.name))
        .col_expr(unit::Column::ParentId, Expr::value(wanted.parent_id))
        .col_expr(unit::Column::Active, Expr::value(wanted.active))
        .col_expr(unit::Column::Version, Expr::col(unit::Column::Version).add(1))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::Id.eq(before.id))
        .filter(unit::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale());
    }
    let after = unit::Entity::find_by_id(before.id).one(&txn).await?.ok_or_else(stale)?;
    record(&txn, chain_key, caller, change, Some(&before), &after, reason.as_deref()).await?;
    txn.commit().await?;
    Ok(after)
}

/// A parent for a unit of `organisation_id`: an active unit of the same
/// organisation and, for a move of `moving`, not `moving` or below it.
async fn check_parent<C: ConnectionTrait>(
    conn: &C,
    organisation_id: i64,
    parent_id: i64,
    moving: Option<i64>,
) -> Result<(), ServiceError> {
    let missing = || ServiceError::BadUserInput("the parent unit does not exist".to_string());
    let parent = unit::Entity::find_by_id(parent_id).one(conn).await?.ok_or_else(missing)?;
    if parent.organisation_id != organisation_id {
        return Err(ServiceError::BadUserInput(format!(
            "parent unit {parent_id} belongs to another organisation; a unit's parent must be of its own"
        )));
    }
    if !parent.active {
        return Err(ServiceError::BadUserInput(format!(
            "parent unit {} ({}) is deactivated",
            parent.name, parent.code
        )));
    }
    let Some(moving) = moving else { return Ok(()) };
    let mut at = Some(parent);
    for _ in 0..MAX_DEPTH {
        let Some(u) = at else { return Ok(()) };
        if u.id == moving {
            return Err(ServiceError::BadUserInput(format!(
                "unit {moving} cannot move under itself or one of its own descendants (a cycle)"
            )));
        }
        at = match u.parent_id {
            Some(p) => unit::Entity::find_by_id(p).one(conn).await?,
            None => None,
        };
    }
    Err(ServiceError::BadUserInput(format!("the units above the parent unit are nested deeper than {MAX_DEPTH}")))
}

/// The unit's history row and audit entry for one change.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    chain_key: &ChainKey,
    caller: &Caller,
    change: Change,
    before: Option<&unit::Model>,
    after: &unit::Model,
    reason: Option<&str>,
) -> Result<(), ServiceError> {
    unit_history::ActiveModel {
        unit_id: Set(after.id),
        organisation_id: Set(after.organisation_id),
        change: Set(change.stored().into()),
        name_before: Set(before.map(|b| b.name.clone())),
        name_after: Set(after.name.clone()),
        parent_before: Set(before.and_then(|b| b.parent_id)),
        parent_after: Set(after.parent_id),
        active_before: Set(before.map(|b| b.active)),
        active_after: Set(after.active),
        version: Set(after.version),
        reason: Set(reason.map(str::to_string)),
        actor_id: Set(caller.user_id()),
        actor_label: Set(caller.label()),
        at: Set(Utc::now().trunc_subsecs(6)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut after_json = snapshot(after);
    if let Some(r) = reason {
        after_json["reason"] = json!(r);
    }
    audit::record_scoped(
        conn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(after.organisation_id),
            action: change.action(),
            entity: "unit",
            entity_id: Some(after.id.to_string()),
            before: before.map(snapshot),
            after: Some(after_json),
        },
        Scope { score_run_id: None, unit_id: Some(after.id) },
    )
    .await?;
    Ok(())
}

fn snapshot(u: &unit::Model) -> serde_json::Value {
    json!({
        "id": u.id, "code": u.code, "name": u.name, "kind": u.kind,
        "parent_id": u.parent_id, "active": u.active, "version": u.version,
    })
}

/// A unit code (单位代码): 1 to 64 of letters, digits, `-`, `_` and `.`.
pub(crate) fn check_code(code: &str) -> Result<String, ServiceError> {
    let c = code.trim();
    let ok = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.');
    if c.is_empty() || c.chars().count() > MAX_CODE || !c.chars().all(ok) {
        return Err(ServiceError::BadUserInput(format!(
            "a unit code has 1 to {MAX_CODE} letters, digits, `-`, `_` or `.` (got `{c}`)"
        )));
    }
    Ok(c.to_string())
}

/// A unit name (单位名称): 1 to 200 characters, no control characters.
pub(crate) fn check_name(name: &str) -> Result<String, ServiceError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(ServiceError::BadUserInput(format!(
            "a unit name has 1 to {MAX_NAME} characters and no control characters"
        )));
    }
    Ok(n.to_string())
}

/// A unit kind (单位类型), e.g. `county`: lower-case letters, digits and `_`.
pub(crate) fn check_kind(kind: &str) -> Result<String, ServiceError> {
    let k = kind.trim();
    let ok = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_';
    if k.is_empty() || k.len() > MAX_CODE || !k.chars().all(ok) {
        return Err(ServiceError::BadUserInput(format!(
            "a unit kind has 1 to {MAX_CODE} lower-case letters, digits or `_`, e.g. `county` (got `{k}`)"
        )));
    }
    Ok(k.to_string())
}

/// Attributes (单位属性): a JSON object of at most 4 KiB, stored as text.
fn check_attributes(attributes: Option<serde_json::Value>) -> Result<String, ServiceError> {
    match attributes {
        None => Ok("{}".into()),
        Some(v @ serde_json::Value::Object(_)) => {
            let text = v.to_string();
            if text.len() > MAX_ATTRIBUTES {
                return Err(ServiceError::BadUserInput(format!("attributes take at most {MAX_ATTRIBUTES} bytes")));
            }
            Ok(text)
        }
        Some(_) => Err(ServiceError::BadUserInput("attributes must be a JSON object".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_kinds_and_attributes_are_checked() {
        assert_eq!(check_code(" xc-weidu ").ok().as_deref(), Some("xc-weidu"));
        assert!(check_code("a b").is_err());
        assert!(check_code("").is_err());
        assert!(check_name("  ").is_err());
        assert!(check_name("魏都区\n").is_ok());
        assert!(check_name("魏都\u{7}区").is_err());
        assert!(check_kind("City").is_err());
        assert_eq!(check_kind("city_department").ok().as_deref(), Some("city_department"));
        assert!(check_attributes(Some(json!([1]))).is_err());
        assert_eq!(check_attributes(None).ok().as_deref(), Some("{}"));
    }

    #[test]
    fn changes_round_trip_through_their_stored_text() {
        for c in Change::ALL {
            assert_eq!(Change::of(c.stored()), Some(c));
        }
    }
}
