//! Administering departments (科室管理): create, rename, deactivate and
//! reactivate; the organisation's admin only (`policy::may_administer_departments`).
//!
//! The casbin policy names a department by name (`p, dept:秘书科, chengkou,
//! chengkou-jxx/1, score`), so a rename rewrites those lines of its
//! organisation in the same transaction, and bumps the policy version: the
//! department's heads keep their sections under the new name. A department
//! with active users cannot be deactivated (move them first). Each change is
//! versioned (`UPDATE … WHERE id = ? AND version = ?`) and audited.

use chrono::Utc;
use entity::{app_user, department, organisation};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;

use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::policy;

const MAX_NAME: usize = 50;

/// Creates a department in the caller's organisation (admin only); a name
/// already used there is CONFLICT.
pub async fn create(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    name: &str,
) -> Result<department::Model, ServiceError> {
    policy::signed_in(caller)?;
    let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
    policy::may_administer_departments(caller, org)?;
    let name = check_name(name)?;
    let txn = crate::db::begin_write(db).await?;
    let row = insert(&txn, org, &name).await?;
    record(&txn, chain_key, caller, "department.create", None, &row).await?;
    txn.commit().await?;
    Ok(row)
}

/// Inserts a department (CONFLICT if the name is taken in the organisation).
pub(crate) async fn insert<C: ConnectionTrait>(
    txn: &C,
    organisation_id: i64,
    name: &str,
) -> Result<department::Model, ServiceError> {
    let taken = || ServiceError::Conflict(format!("a department named {name} already exists"));
    let existing = department::Entity::find()
        .filter(department::Column::OrganisationId.eq(organisation_id))
        .filter(department::Column::Name.eq(name))
        .one(txn)
        .await?;
    if existing.is_some() {
        return Err(taken());
    }
    let now = Utc::now();
    department::ActiveModel {
        organisation_id: Set(organisation_id),
        name: Set(name.to_string()),
        created_at: Set(now),
        active: Set(true),
        version: Set(1),
        updated_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| match ServiceError::from(e) {
        ServiceError::Conflict(_) => taken(),
        other => other,
    })
}

/// Renames a department (更名); its policy lines follow in the same transaction.
pub async fn rename(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    name: &str,
    expected_version: i32,
) -> Result<department::Model, ServiceError> {
    let before = administered(db, caller, id).await?;
    let name = check_name(name)?;
    if name == before.name {
        return Err(ServiceError::BadUserInput(format!("the department is already named {name}")));
    }
    let org = organisation::Entity::find_by_id(before.organisation_id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("department"))?;
    let txn = crate::db::begin_write(db).await?;
    let clash = department::Entity::find()
        .filter(department::Column::OrganisationId.eq(before.organisation_id))
        .filter(department::Column::Name.eq(name.as_str()))
        .count(&txn)
        .await?;
    if clash > 0 {
        return Err(ServiceError::Conflict(format!("a department named {name} already exists")));
    }
    bump(&txn, id, expected_version, |q| q.col_expr(department::Column::Name, Expr::value(name.as_str()))).await?;
    let old = format!("dept:{}", before.name);
    let new = format!("dept:{name}");
    crate::auth::policy_store::rename_subject(&txn, &org.code, &old, &new, Utc::now())
        .await
        .map_err(ServiceError::internal)?;
    let after = reread(&txn, id).await?;
    record(&txn, chain_key, caller, "department.rename", Some(&before), &after).await?;
    txn.commit().await?;
    Ok(after)
}

/// Deactivates a department (停用): refused while active users belong to it.
pub async fn deactivate(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
) -> Result<department::Model, ServiceError> {
    let before = administered(db, caller, id).await?;
    if !before.active {
        return Err(ServiceError::Conflict(format!("department {} is already deactivated", before.name)));
    }
    let txn = crate::db::begin_write(db).await?;
    let members = app_user::Entity::find()
        .filter(app_user::Column::DepartmentId.eq(id))
        .filter(app_user::Column::Active.eq(true))
        .count(&txn)
        .await?;
    if members > 0 {
        return Err(ServiceError::Conflict(format!(
            "{members} active user(s) belong to department {}; move or deactivate them first",
            before.name
        )));
    }
    bump(&txn, id, expected_version, |q| q.col_expr(department::Column::Active, Expr::value(false))).await?;
    crate::users::memberships_changed(&txn).await?;
    let after = reread(&txn, id).await?;
    record(&txn, chain_key, caller, "department.deactivate", Some(&before), &after).await?;
    txn.commit().await?;
    Ok(after)
}

/// Reactivates a deactivated department (启用).
pub async fn reactivate(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
) -> Result<department::Model, ServiceError> {
    let before = administered(db, caller, id).await?;
    if before.active {
        return Err(ServiceError::Conflict(format!("department {} is active", before.name)));
    }
    let txn = crate::db::begin_write(db).await?;
    bump(&txn, id, expected_version, |q| q.col_expr(department::Column::Active, Expr::value(true))).await?;
    crate::users::memberships_changed(&txn).await?;
    let after = reread(&txn, id).await?;
    record(&txn, chain_key, caller, "department.reactivate", Some(&before), &after).await?;
    txn.commit().await?;
    Ok(after)
}

type Update = sea_orm::UpdateMany<department::Entity>;

/// The versioned update: `set` plus version + 1, only at `expected_version`.
async fn bump<C: ConnectionTrait>(
    txn: &C,
    id: i64,
    expected_version: i32,
    set: impl FnOnce(Update) -> Update,
) -> Result<(), ServiceError> {
    let q = department::Entity::update_many()
        .col_expr(department::Column::Version, Expr::col(department::Column::Version).add(1))
        .col_expr(department::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(department::Column::Id.eq(id))
        .filter(department::Column::Version.eq(expected_version));
    if set(q).exec(txn).await?.rows_affected != 1 {
        return Err(stale());
    }
    Ok(())
}

/// A department the caller administers: another organisation's is NOT_FOUND
/// (departments are public reference data, so FORBIDDEN for the rest).
async fn administered(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<department::Model, ServiceError> {
    policy::signed_in(caller)?;
    let d = department::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("department"))?;
    policy::may_administer_departments(caller, d.organisation_id).map_err(|e| e.not_found_as("department"))?;
    Ok(d)
}

async fn reread<C: ConnectionTrait>(txn: &C, id: i64) -> Result<department::Model, ServiceError> {
    department::Entity::find_by_id(id).one(txn).await?.ok_or_else(stale)
}

fn stale() -> ServiceError {
    ServiceError::Conflict("the department was changed by someone else; reload it and retry".to_string())
}

async fn record<C: ConnectionTrait>(
    txn: &C,
    chain_key: &ChainKey,
    caller: &Caller,
    action: &str,
    before: Option<&department::Model>,
    after: &department::Model,
) -> Result<(), ServiceError> {
    let snap = |d: &department::Model| json!({ "id": d.id, "name": d.name, "active": d.active, "version": d.version });
    let entry = Entry {
        organisation_id: Some(after.organisation_id),
        action,
        entity: "department",
        entity_id: Some(after.id.to_string()),
        before: before.map(snap),
        after: Some(snap(after)),
    };
    audit::record(txn, chain_key, caller, entry).await?;
    Ok(())
}

/// A department name (科室名称): 1 to 50 characters, no control characters,
/// and neither `,` (the policy's line syntax) nor `*`.
pub fn check_name(name: &str) -> Result<String, ServiceError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(|c| c.is_control() || matches!(c, ',' | '*')) {
        return Err(ServiceError::BadUserInput(format!(
            "a department name has 1 to {MAX_NAME} characters, without `,`, `*` or control characters"
        )));
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_break_a_policy_line_are_refused() {
        assert!(check_name("秘书科").is_ok());
        assert!(check_name("督导室(考核办)").is_ok());
        assert!(check_name("a, b").is_err());
        assert!(check_name("*").is_err());
        assert!(check_name(" ").is_err());
    }
}
