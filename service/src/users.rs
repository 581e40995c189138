//! Accounts (用户管理): the organisation's admin creates users, changes their
//! name, role, department or unit, resets their password and deactivates
//! them; every user changes its own password, and must at its first sign-in.
//!
//! - A new account or a reset gets a one-time password (or one the admin
//!   gives, meeting the policy, `auth::password_policy`); the user must change
//!   it before anything else (`must_change_password`; the API refuses every
//!   other field with FORBIDDEN until then).
//! - A reset or a deactivation ends every session of the user at once.
//! - A user's casbin memberships (`g, user:<id>, role:…` and `g, user:<id>,
//!   dept:<name>`) are read from its row whenever the policy loads; every
//!   change of role, department, unit or state bumps the policy version in
//!   the same transaction, so every instance enforces it at its next check
//!   (the instance that made it: at its next request).
//! - Each change is one transaction with its versioned `UPDATE … WHERE id = ?
//!   AND version = ?` (stale: CONFLICT) and its audit entry; no password or
//!   hash ever reaches the audit log.
//!
//! Who sees whom (`policy::user_reader`): the admin every account of its
//! organisation, a department head the organisation's department heads, a
//! unit or integration user itself only; another organisation's account is
//! NOT_FOUND.

use chrono::{DateTime, Utc};
use entity::{app_user, department, unit};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use crate::audit::{self, ChainKey, Entry};
use crate::auth::password_policy::{self, normalise_username};
use crate::auth::passwords::PasswordWork;
use crate::auth::session;
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::paging::{self, Page, Paged};
use crate::policy::{self, UserReader};

/// What an account does (角色).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// 督导室/考核办: administers the organisation.
    Admin,
    /// 科室负责人: scores the sections its department owns.
    DepartmentHead,
    /// 被考核单位账号: its own unit's evidence, claims and published results.
    Unit,
    /// A read-only integration account (月讲评).
    Integration,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::DepartmentHead, Role::Unit, Role::Integration];

    /// As stored in `app_user.role` (and read by `auth::bearer::role_of`).
    pub fn stored(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::DepartmentHead => "department",
            Role::Unit => "unit",
            Role::Integration => "service",
        }
    }

    pub fn of(stored: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.stored() == stored)
    }
}

/// Filters on an organisation's accounts.
#[derive(Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub department_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub active: Option<bool>,
    /// A text in the username or the display name.
    pub search: Option<String>,
}

const MAX_SEARCH: usize = 100;
const MAX_USERNAME: usize = 64;
const MIN_USERNAME: usize = 2;
const MAX_DISPLAY_NAME: usize = 100;

/// The accounts of the caller's organisation it may see, in creation order.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: UserFilter,
    page: Page,
) -> Result<Paged<app_user::Model>, ServiceError> {
    policy::signed_in(caller)?;
    let mut q = app_user::Entity::find();
    if let Some(org) = caller.organisation_id {
        q = q.filter(app_user::Column::OrganisationId.eq(org));
        q = match policy::user_reader(caller, org)? {
            UserReader::All => q,
            UserReader::Heads => q.filter(app_user::Column::Role.eq(Role::DepartmentHead.stored())),
            UserReader::Own(id) => q.filter(app_user::Column::Id.eq(id)),
            UserReader::Nobody => q.filter(Expr::val(1).eq(0)),
        };
    } else if caller.role != crate::caller::CallerRole::System {
        return Err(ServiceError::Forbidden);
    }
    if let Some(r) = filter.role {
        q = q.filter(app_user::Column::Role.eq(r.stored()));
    }
    if let Some(d) = filter.department_id {
        q = q.filter(app_user::Column::DepartmentId.eq(d));
    }
    if let Some(u) = filter.unit_id {
        q = q.filter(app_user::Column::UnitId.eq(u));
    }
    if let Some(a) = filter.active {
        q = q.filter(app_user::Column::Active.eq(a));
    }
    if let Some(text) = filter.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > MAX_SEARCH {
            return Err(ServiceError::BadUserInput(format!("`search` is longer than {MAX_SEARCH} characters")));
        }
        let text = normalise_username(text);
        let either = Condition::any()
            .add(paging::contains(app_user::Column::Username, &text))
            .add(paging::contains(app_user::Column::DisplayName, &text));
        q = q.filter(either);
    }
    paging::fetch(db, q.order_by_asc(app_user::Column::Id), page).await
}

/// One account the caller may see; another organisation's, or one hidden
/// from the caller, is NOT_FOUND like a missing one.
pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<app_user::Model, ServiceError> {
    policy::signed_in(caller)?;
    let missing = || ServiceError::not_found("user");
    let user = app_user::Entity::find_by_id(id).one(db).await?.ok_or_else(missing)?;
    let visible = match policy::user_reader(caller, user.organisation_id).map_err(|e| e.hidden_as("user"))? {
        UserReader::All => true,
        UserReader::Heads => user.role == Role::DepartmentHead.stored() || caller.user_id() == Some(user.id),
        UserReader::Own(me) => me == user.id,
        UserReader::Nobody => false,
    };
    if visible { Ok(user) } else { Err(missing()) }
}

/// The signed-in user's own account (`me`).
pub async fn me(db: &DatabaseConnection, caller: &Caller) -> Result<Option<app_user::Model>, ServiceError> {
    policy::signed_in(caller)?;
    match caller.user_id() {
        Some(id) => Ok(app_user::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

/// Creating an account (新增用户) in the admin's organisation.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// A password the admin chose (it must meet the policy); none: a
    /// one-time password is made. Either way the user changes it at first sign-in.
    pub initial_password: Option<String>,
}

/// A new account, with the one-time password made for it (shown once; none
/// when the admin gave one).
pub struct Created {
    pub user: app_user::Model,
    pub one_time_password: Option<String>,
}

/// Creates an account in the caller's organisation (admin only).
pub async fn create(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    passwords: &PasswordWork,
    input: NewUser,
) -> Result<Created, ServiceError> {
    policy::signed_in(caller)?;
    let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
    policy::may_administer_users(caller, org)?;
    let username = check_username(&input.username)?;
    let display_name = check_display_name(&input.display_name)?;
    check_placement(db, org, input.role, input.department_id, input.unit_id).await?;
    let (password, shown) = match input.initial_password {
        Some(p) => {
            password_policy::check(&p, &username)?;
            (p, None)
        }
        None => {
            let p = password_policy::one_time();
            (p.clone(), Some(p))
        }
    };
    let hash = passwords.hash(&password).await?;
    let txn = crate::db::begin_write(db).await?;
    let user =
        insert(&txn, org, &username, &display_name, input.role, input.department_id, input.unit_id, &hash).await?;
    memberships_changed(&txn).await?;
    let entry = Entry {
        organisation_id: Some(org),
        action: "user.create",
        entity: "user",
        entity_id: Some(user.id.to_string()),
        before: None,
        after: Some(snapshot(&user)),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok(Created { user, one_time_password: shown })
}

/// Inserts an account that must change its password at first sign-in;
/// a username already taken is CONFLICT. Inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert<C: ConnectionTrait>(
    txn: &C,
    organisation_id: i64,
    username: &str,
    display_name: &str,
    role: Role,
    department_id: Option<i64>,
    unit_id: Option<i64>,
    hash: &str,
) -> Result<app_user::Model, ServiceError> {
    let taken = || ServiceError::Conflict(format!("the username `{username}` is taken"));
    if app_user::Entity::find().filter(app_user::Column::Username.eq(username)).one(txn).await?.is_some() {
        return Err(taken());
    }
    let now = Utc::now();
    app_user::ActiveModel {
        organisation_id: Set(organisation_id),
        department_id: Set(department_id),
        unit_id: Set(unit_id),
        username: Set(username.to_string()),
        display_name: Set(display_name.to_string()),
        password_hash: Set(Some(hash.to_string())),
        role: Set(role.stored().into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        must_change_password: Set(true),
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

/// What `updateUser` changes; `None` keeps a field.
#[derive(Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// `Some(None)` takes the user out of its department.
    pub department_id: Option<Option<i64>>,
    /// `Some(None)` takes the user off its unit.
    pub unit_id: Option<Option<i64>>,
}

/// Changes an account's display name, role, department or unit (admin only).
/// A department head moved to another department scores the new one's
/// sections, and no longer the old one's, from its next request.
pub async fn update(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    change: UserUpdate,
) -> Result<app_user::Model, ServiceError> {
    let before = administered(db, caller, id).await?;
    if before.version != expected_version {
        return Err(stale());
    }
    let role = match change.role {
        Some(r) => r,
        None => Role::of(&before.role).ok_or_else(|| ServiceError::Internal(format!("user {id}: role").into()))?,
    };
    if caller.user_id() == Some(id) && role.stored() != before.role {
        return Err(ServiceError::BadUserInput("you cannot change your own role".into()));
    }
    let display_name = match &change.display_name {
        Some(n) => check_display_name(n)?,
        None => before.display_name.clone(),
    };
    let department_id = change.department_id.unwrap_or(before.department_id);
    let unit_id = change.unit_id.unwrap_or(before.unit_id);
    check_placement(db, before.organisation_id, role, department_id, unit_id).await?;
    let unchanged = display_name == before.display_name
        && role.stored() == before.role
        && department_id == before.department_id
        && unit_id == before.unit_id;
    if unchanged {
        return Err(ServiceError::BadUserInput("nothing to change".into()));
    }
    let membership = role.stored() != before.role || department_id != before.department_id || unit_id != before.unit_id;
    let txn = crate::db::begin_write(db).await?;
    let updated = app_user::Entity::update_many()
        .col_expr(app_user::Column::DisplayName, Expr::value(display_name))
        .col_expr(app_user::Column::Role, Expr::value(role.stored()))
        .col_expr(app_user::Column::DepartmentId, Expr::value(department_id))
        .col_expr(app_user::Column::UnitId, Expr::value(unit_id))
        .col_expr(app_user::Column::Version, Expr::col(app_user::Column::Version).add(1))
        .col_expr(app_user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(app_user::Column::Id.eq(id))
        .filter(app_user::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale());
    }
    if membership {
        memberships_changed(&txn).await?;
    }
    let after = reread(&txn, id).await?;
    record(&txn, chain_key, caller, "user.update", Some(&before), &after, None).await?;
    txn.commit().await?;
    Ok(after)
}

/// Changes the caller's own password (修改密码): the current one, then a new
/// one meeting the policy. Clears `must_change_password`.
pub async fn change_password(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    passwords: &PasswordWork,
    current: &str,
    new: &str,
) -> Result<app_user::Model, ServiceError> {
    policy::signed_in(caller)?;
    let id = caller.user_id().ok_or(ServiceError::Forbidden)?;
    let user = app_user::Entity::find_by_id(id).one(db).await?.ok_or(ServiceError::Unauthenticated)?;
    let stored = user.password_hash.clone();
    let checked = passwords.check(current, stored.clone(), false).await?;
    if !checked.verified.is_match() {
        return Err(ServiceError::BadUserInput("the current password is wrong".into()));
    }
    if current == new {
        return Err(ServiceError::BadUserInput("the new password must differ from the current one".into()));
    }
    password_policy::check(new, &user.username)?;
    let hash = passwords.hash(new).await?;
    let txn = crate::db::begin_write(db).await?;
    // Unless the password was changed (or reset) meanwhile.
    let mut q = app_user::Entity::update_many()
        .col_expr(app_user::Column::PasswordHash, Expr::value(hash))
        .col_expr(app_user::Column::MustChangePassword, Expr::value(false))
        .col_expr(app_user::Column::Version, Expr::col(app_user::Column::Version).add(1))
        .col_expr(app_user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(app_user::Column::Id.eq(id));
    q = match stored {
        Some(h) => q.filter(app_user::Column::PasswordHash.eq(h)),
        None => q.filter(app_user::Column::PasswordHash.is_null()),
    };
    if q.exec(&txn).await?.rows_affected != 1 {
        return Err(ServiceError::Conflict("the password was changed meanwhile; sign in again".into()));
    }
    let after = reread(&txn, id).await?;
    record(&txn, chain_key, caller, "user.change_password", Some(&user), &after, None).await?;
    txn.commit().await?;
    Ok(after)
}

/// Resets a user's password (重置密码, admin only): a one-time password,
/// shown once, that the user must change at its next sign-in; every session
/// of the user ends at once.
pub async fn reset_password(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    passwords: &PasswordWork,
    id: i64,
    expected_version: i32,
    now: DateTime<Utc>,
) -> Result<(app_user::Model, String), ServiceError> {
    let before = administered(db, caller, id).await?;
    if caller.user_id() == Some(id) {
        return Err(ServiceError::BadUserInput("change your own password with `changePassword`".into()));
    }
    let password = password_policy::one_time();
    let hash = passwords.hash(&password).await?;
    let txn = crate::db::begin_write(db).await?;
    let updated = app_user::Entity::update_many()
        .col_expr(app_user::Column::PasswordHash, Expr::value(hash))
        .col_expr(app_user::Column::MustChangePassword, Expr::value(true))
        .col_expr(app_user::Column::Version, Expr::col(app_user::Column::Version).add(1))
        .col_expr(app_user::Column::UpdatedAt, Expr::value(now))
        .filter(app_user::Column::Id.eq(id))
        .filter(app_user::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale());
    }
    let ended = session::end_all_sessions(&txn, id, "password_reset", now).await?;
    let after = reread(&txn, id).await?;
    let note = json!({ "sessions_ended": ended });
    record(&txn, chain_key, caller, "user.reset_password", Some(&before), &after, Some(note)).await?;
    txn.commit().await?;
    Ok((after, password))
}

/// Deactivates an account (停用, admin only), with a reason: it can no
/// longer sign in, and every session of it ends at once.
pub async fn deactivate(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    reason: &str,
    expected_version: i32,
    now: DateTime<Utc>,
) -> Result<app_user::Model, ServiceError> {
    let before = administered(db, caller, id).await?;
    let reason = crate::input::reason(reason)?;
    if caller.user_id() == Some(id) {
        return Err(ServiceError::BadUserInput("you cannot deactivate yourself".into()));
    }
    if !before.active {
        return Err(ServiceError::Conflict("the user is already deactivated".to_string()));
    }
    let txn = crate::db::begin_write(db).await?;
    set_active(&txn, id, expected_version, false, now).await?;
    let ended = session::end_all_sessions(&txn, id, "deactivated", now).await?;
    memberships_changed(&txn).await?;
    let after = reread(&txn, id).await?;
    let note = json!({ "reason": reason, "sessions_ended": ended });
    record(&txn, chain_key, caller, "user.deactivate", Some(&before), &after, Some(note)).await?;
    txn.commit().await?;
    Ok(after)
}

/// Reactivates a deactivated account (启用, admin only).
pub async fn reactivate(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    now: DateTime<Utc>,
) -> Result<app_user::Model, ServiceError> {
    let before = administered(db, caller, id).await?;
    if before.active {
        return Err(ServiceError::Conflict("the user is active".to_string()));
    }
    // Its department or unit may have been deactivated meanwhile.
    let role = Role::of(&before.role).ok_or_else(|| ServiceError::Internal(format!("user {id}: role").into()))?;
    check_placement(db, before.organisation_id, role, before.department_id, before.unit_id).await?;
    let txn = crate::db::begin_write(db).await?;
    set_active(&txn, id, expected_version, true, now).await?;
    memberships_changed(&txn).await?;
    let after = reread(&txn, id).await?;
    record(&txn, chain_key, caller, "user.reactivate", Some(&before), &after, None).await?;
    txn.commit().await?;
    Ok(after)
}

async fn set_active<C: ConnectionTrait>(
    txn: &C,
    id: i64,
    expected_version: i32,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let updated = app_user::Entity::update_many()
        .col_expr(app_user::Column::Active, Expr::value(active))
        .col_expr(app_user::Column::Version, Expr::col(app_user::Column::Version).add(1))
        .col_expr(app_user::Column::UpdatedAt, Expr::value(now))
        .filter(app_user::Column::Id.eq(id))
        .filter(app_user::Column::Version.eq(expected_version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale());
    }
    Ok(())
}

/// An account the caller administers; another organisation's (or, for a
/// caller who may not see it, any hidden one) is NOT_FOUND.
async fn administered(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<app_user::Model, ServiceError> {
    let user = by_id(db, caller, id).await?;
    policy::may_administer_users(caller, user.organisation_id).map_err(|e| e.not_found_as("user"))?;
    Ok(user)
}

async fn reread<C: ConnectionTrait>(txn: &C, id: i64) -> Result<app_user::Model, ServiceError> {
    app_user::Entity::find_by_id(id).one(txn).await?.ok_or_else(stale)
}

fn stale() -> ServiceError {
    ServiceError::Conflict("the user was changed by someone else; reload it and retry".to_string())
}

/// The policy is read with the users' memberships: every instance reloads it.
pub(crate) async fn memberships_changed<C: ConnectionTrait>(txn: &C) -> Result<(), ServiceError> {
    crate::auth::policy_store::touch(txn, Utc::now()).await.map(|_| ()).map_err(ServiceError::internal)
}

async fn record<C: ConnectionTrait>(
    txn: &C,
    chain_key: &ChainKey,
    caller: &Caller,
    action: &str,
    before: Option<&app_user::Model>,
    after: &app_user::Model,
    note: Option<serde_json::Value>,
) -> Result<(), ServiceError> {
    let mut after_json = snapshot(after);
    if let Some(serde_json::Value::Object(extra)) = note {
        for (k, v) in extra {
            after_json[k] = v;
        }
    }
    let entry = Entry {
        organisation_id: Some(after.organisation_id),
        action,
        entity: "user",
        entity_id: Some(after.id.to_string()),
        before: before.map(snapshot),
        after: Some(after_json),
    };
    audit::record(txn, chain_key, caller, entry).await?;
    Ok(())
}

/// What the audit log keeps of an account: never its password or hash.
fn snapshot(u: &app_user::Model) -> serde_json::Value {
    json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
        "department_id": u.department_id, "unit_id": u.unit_id, "active": u.active,
        "must_change_password": u.must_change_password, "version": u.version,
    })
}

/// A username (用户名), NFKC-normalised and trimmed: 2 to 64 letters, digits,
/// `-`, `_`, `.` or `@`.
pub fn check_username(username: &str) -> Result<String, ServiceError> {
    let u = normalise_username(username);
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    let n = u.chars().count();
    if !(MIN_USERNAME..=MAX_USERNAME).contains(&n) || !u.chars().all(ok) {
        return Err(ServiceError::BadUserInput(format!(
            "a username has {MIN_USERNAME} to {MAX_USERNAME} letters, digits, `-`, `_`, `.` or `@`"
        )));
    }
    Ok(u)
}

/// A display name (姓名/显示名): 1 to 100 characters, no control characters.
pub fn check_display_name(name: &str) -> Result<String, ServiceError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_DISPLAY_NAME || n.chars().any(char::is_control) {
        return Err(ServiceError::BadUserInput(format!(
            "a display name has 1 to {MAX_DISPLAY_NAME} characters and no control characters"
        )));
    }
    Ok(n.to_string())
}

/// Where an account of `role` sits: a department head in an active
/// department of the organisation, a unit user on an active unit of it, an
/// admin optionally in a department, an integration in neither.
pub(crate) async fn check_placement<C: ConnectionTrait>(
    conn: &C,
    organisation_id: i64,
    role: Role,
    department_id: Option<i64>,
    unit_id: Option<i64>,
) -> Result<(), ServiceError> {
    let bad = |m: &str| Err(ServiceError::BadUserInput(m.to_string()));
    match role {
        Role::DepartmentHead if department_id.is_none() => return bad("a department head needs `departmentId`"),
        Role::Unit if unit_id.is_none() => return bad("a unit user needs `unitId`"),
        Role::Unit if department_id.is_some() => return bad("a unit user belongs to no department"),
        Role::Admin | Role::DepartmentHead | Role::Integration if unit_id.is_some() => {
            return bad("only a unit user has a unit");
        }
        Role::Integration if department_id.is_some() => return bad("an integration belongs to no department"),
        _ => {}
    }
    if let Some(d) = department_id {
        // Another organisation's department reads as a missing one.
        let found = department::Entity::find_by_id(d)
            .filter(department::Column::OrganisationId.eq(organisation_id))
            .one(conn)
            .await?;
        match found {
            None => return bad("that department does not exist"),
            Some(d) if !d.active => return bad(&format!("department {} is deactivated", d.name)),
            Some(_) => {}
        }
    }
    if let Some(u) = unit_id {
        let found =
            unit::Entity::find_by_id(u).filter(unit::Column::OrganisationId.eq(organisation_id)).one(conn).await?;
        match found {
            None => return bad("that unit does not exist"),
            Some(u) if !u.active => return bad(&format!("unit {} is deactivated", u.name)),
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_display_names_are_checked() {
        assert_eq!(check_username(" ｃｋ－ｈｅａｄ ").ok().as_deref(), Some("ck-head"));
        assert_eq!(check_username("张三.mishuke").ok().as_deref(), Some("张三.mishuke"));
        assert!(check_username("a b").is_err());
        assert!(check_username("x").is_err());
        assert!(check_username(&"x".repeat(65)).is_err());
        assert!(check_display_name("  ").is_err());
        assert!(check_display_name("秘书科\u{7}").is_err());
    }

    #[test]
    fn roles_round_trip_through_their_stored_text() {
        for r in Role::ALL {
            assert_eq!(Role::of(r.stored()), Some(r));
        }
    }
}
