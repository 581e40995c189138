//! Admins edit the policy through GraphQL: assign an indicator (and so its
//! subtree) to a department for scoring, or take it back. Every change is in
//! the audit log, in the same transaction, and bumps the policy version so
//! every instance enforces it within seconds.

use entity::{department, indicator, rubric, rubric_version};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;

/// Grants (or with `grant = false`, takes back) the right to score an
/// indicator of a version's rubric to a department of the same organisation.
pub async fn assign(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    version_id: i64,
    indicator_code: &str,
    department_name: &str,
    grant: bool,
) -> Result<String, ServiceError> {
    let org = crate::policy::administered_organisation(caller)?;
    let not_found = || ServiceError::not_found("rubric version");
    let version = rubric_version::Entity::find_by_id(version_id).one(db).await?.ok_or_else(not_found)?;
    // The domain comes from the stored object, never from the client.
    let rubric = rubric::Entity::find_by_id(version.rubric_id)
        .filter(rubric::Column::OrganisationId.eq(org))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let organisation = crate::organisation::by_id(db, caller, org).await?;
    indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version.id))
        .filter(indicator::Column::Code.eq(indicator_code))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("indicator"))?;
    department::Entity::find()
        .filter(department::Column::OrganisationId.eq(org))
        .filter(department::Column::Name.eq(department_name))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::BadUserInput(format!("no department `{department_name}` in this organisation")))?;
    let line = format!("p, dept:{department_name}, {}, {}/{indicator_code}, score", organisation.code, rubric.code);
    let now = chrono::Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let store_err = |e: super::policy_store::StoreError| match e {
        super::policy_store::StoreError::Policy(p) => ServiceError::BadUserInput(p.to_string()),
        other => ServiceError::internal(other),
    };
    if grant {
        super::policy_store::add(&txn, &line, now).await.map_err(store_err)?;
    } else {
        super::policy_store::remove(&txn, &line, now).await.map_err(store_err)?;
    }
    let change = serde_json::json!({ "line": line });
    let entry = Entry {
        organisation_id: Some(org),
        action: if grant { "policy.assign" } else { "policy.unassign" },
        entity: "policy",
        entity_id: Some(format!("{}/{indicator_code}", rubric.code)),
        before: (!grant).then(|| change.clone()),
        after: grant.then_some(change),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok(line)
}
