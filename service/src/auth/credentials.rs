//! Service credentials for integrations (the 月讲评 system): an admin creates
//! one with a name and a scope and sees its secret once; the integration
//! exchanges the secret for a short-lived access token; an admin can revoke it,
//! which also stops the tokens already issued for it.

use chrono::{DateTime, Utc};
use entity::service_credential;
use kaohe_auth::token::KeySet;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;

/// The scopes a credential may have.
pub const SCOPES: [&str; 1] = ["results:read_published"];

/// Creates a credential in the admin's organisation; returns it and its secret (shown once).
pub async fn create(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    name: &str,
    scope: &str,
) -> Result<(service_credential::Model, String), ServiceError> {
    let org = crate::policy::administered_organisation(caller)?;
    let name = crate::input::name("name", name, 100)?;
    let name = name.as_str();
    if !SCOPES.contains(&scope) {
        return Err(ServiceError::BadUserInput(format!("unknown scope `{scope}`; known: {}", SCOPES.join(", "))));
    }
    let secret = format!("khs_{}", kaohe_auth::refresh::new_secret());
    let txn = crate::db::begin_write(db).await?;
    let model = service_credential::ActiveModel {
        organisation_id: Set(org),
        name: Set(name.to_string()),
        scope: Set(scope.to_string()),
        secret_hash: Set(kaohe_auth::refresh::digest(&secret)),
        created_by: Set(caller.user_id()),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after = serde_json::json!({ "name": model.name, "scope": model.scope });
    let entry = Entry {
        organisation_id: Some(org),
        action: "create",
        entity: "service_credential",
        entity_id: Some(model.id.to_string()),
        before: None,
        after: Some(after),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    touch(&txn).await?;
    txn.commit().await?;
    Ok((model, secret))
}

/// Revokes a credential of the admin's organisation (another's: NOT_FOUND).
pub async fn revoke(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
) -> Result<(), ServiceError> {
    let org = crate::policy::administered_organisation(caller)?;
    let txn = crate::db::begin_write(db).await?;
    let found = service_credential::Entity::find_by_id(id)
        .filter(service_credential::Column::OrganisationId.eq(org))
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("service credential"))?;
    service_credential::Entity::update_many()
        .col_expr(service_credential::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(service_credential::Column::Id.eq(found.id))
        .filter(service_credential::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let entry = Entry {
        organisation_id: Some(org),
        action: "revoke",
        entity: "service_credential",
        entity_id: Some(id.to_string()),
        before: Some(serde_json::json!({ "name": found.name })),
        after: None,
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    touch(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Bumps the policy version: the credential's membership changed.
async fn touch<C: sea_orm::ConnectionTrait>(db: &C) -> Result<(), ServiceError> {
    super::policy_store::touch(db, Utc::now()).await.map(|_| ()).map_err(ServiceError::internal)
}

/// Exchanges a secret for an access token: `(token, seconds to expiry)`.
pub async fn exchange(
    db: &DatabaseConnection,
    keys: &KeySet,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(String, i64), ServiceError> {
    let cred = service_credential::Entity::find()
        .filter(service_credential::Column::SecretHash.eq(kaohe_auth::refresh::digest(secret)))
        .filter(service_credential::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    let token = keys
        .issue(&format!("svc:{}", cred.id), cred.organisation_id, "service", now.timestamp())
        .map_err(ServiceError::internal)?;
    Ok((token, keys.ttl_secs))
}
