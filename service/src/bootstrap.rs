//! Setting up a new organisation (开通): the organisation, its standard
//! policy lines, and its first admin with a one-time password. Platform
//! operators do it from the command line (`kaohe admin bootstrap`): whoever
//! runs the server's binary against its database and data folder is the
//! platform operator, and no API caller can create an organisation.
//!
//! It runs once per organisation: an organisation code that exists is
//! refused. Everything is one transaction with its audit entries (the
//! organisation's first entries, by `system`).

use chrono::Utc;
use entity::{app_user, organisation};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use crate::audit::{self, ChainKey, Entry};
use crate::auth::password_policy;
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::users::{self, Role};

/// The lines every organisation starts with: its admin holds everything in
/// it; department heads (role:scorer) read its runs and upload evidence;
/// unit users upload evidence, file claims and read their published result;
/// integrations read published results. Which department scores which
/// section is assigned afterwards (`assignIndicator`, or `policies/policy.csv`).
pub fn standard_lines(code: &str) -> String {
    [
        "p, role:admin, {}, *, *",
        "p, role:scorer, {}, runs, read",
        "p, role:scorer, {}, evidence, upload",
        "p, role:unit, {}, evidence, upload",
        "p, role:unit, {}, claims, file",
        "p, role:unit, {}, results, read_own_published",
        "p, role:integration, {}, results, read_published",
    ]
    .iter()
    .map(|l| l.replace("{}", code))
    .collect::<Vec<_>>()
    .join("\n")
}

/// What a bootstrap made: the organisation, its admin and the admin's
/// one-time password (print it once; only its hash is kept).
pub struct Bootstrapped {
    pub organisation: organisation::Model,
    pub admin: app_user::Model,
    pub password: String,
}

/// Creates an organisation and its first admin (must change the one-time
/// password at first sign-in). Refused when the organisation code exists.
pub async fn bootstrap(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    code: &str,
    name: &str,
    username: &str,
) -> Result<Bootstrapped, ServiceError> {
    let code = check_code(code)?;
    let name = check_name(name)?;
    let username = users::check_username(username)?;
    let password = password_policy::one_time();
    let hash = tokio::task::spawn_blocking({
        let p = password.clone();
        move || kaohe_auth::password::hash(&p)
    })
    .await
    .map_err(ServiceError::internal)?
    .map_err(|e| ServiceError::Internal(e.to_string().into()))?;
    let system = Caller::system();
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let exists =
        organisation::Entity::find().filter(organisation::Column::Code.eq(code.as_str())).count(&txn).await? > 0;
    if exists {
        return Err(ServiceError::Conflict(format!(
            "organisation `{code}` already exists: bootstrap runs once; its admin manages accounts from now on"
        )));
    }
    // The seed policy first (it is only seeded into an empty table), then
    // this organisation's standard lines.
    crate::auth::policy_store::seed_in(&txn, now).await.map_err(ServiceError::internal)?;
    crate::auth::policy_store::add_missing(&txn, &standard_lines(&code), now).await.map_err(ServiceError::internal)?;
    let org = organisation::ActiveModel {
        code: Set(code.clone()),
        name: Set(name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let admin = users::insert(&txn, org.id, &username, &username, Role::Admin, None, None, &hash).await?;
    let entries = [
        ("organisation.create", "organisation", org.id, json!({ "code": code, "name": name })),
        ("user.create", "user", admin.id, json!({ "username": admin.username, "role": admin.role })),
    ];
    for (action, entity, id, after) in entries {
        let entry = Entry {
            organisation_id: Some(org.id),
            action,
            entity,
            entity_id: Some(id.to_string()),
            before: None,
            after: Some(after),
        };
        audit::record(&txn, chain_key, &system, entry).await?;
    }
    txn.commit().await?;
    Ok(Bootstrapped { organisation: org, admin, password })
}

/// An organisation code (组织代码), the casbin domain: 2 to 32 lower-case
/// letters, digits or `-`, starting with a letter.
pub fn check_code(code: &str) -> Result<String, ServiceError> {
    let c = code.trim();
    let ok = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-';
    let starts = c.chars().next().is_some_and(|ch| ch.is_ascii_lowercase());
    if !(2..=32).contains(&c.len()) || !starts || !c.chars().all(ok) {
        return Err(ServiceError::BadUserInput(format!(
            "an organisation code has 2 to 32 lower-case letters, digits or `-`, starting with a letter (got `{c}`)"
        )));
    }
    Ok(c.to_string())
}

fn check_name(name: &str) -> Result<String, ServiceError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ServiceError::BadUserInput("an organisation name has 1 to 100 characters".into()));
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_and_lines_parse() {
        assert!(check_code("chengkou").is_ok());
        assert!(check_code("Chengkou").is_err());
        assert!(check_code("1abc").is_err());
        assert!(check_code("a,b").is_err());
        let lines = kaohe_auth::policy::parse(&standard_lines("wanzhou")).unwrap_or_default();
        assert_eq!(lines.len(), 7);
    }
}
