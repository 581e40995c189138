//! The caller named by a request's `Authorization: Bearer <token>` header.
//!
//! No header: anonymous. A header that does not verify (bad signature, expired,
//! wrong audience, unknown key, garbage) is an error, never silently anonymous,
//! and so is a token whose user has since been deactivated.

use entity::{app_user, organisation, service_credential};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{AuthError, AuthState};
use crate::caller::{Caller, CallerRole, Grants, Who};

/// Maps a stored role to the caller's role.
pub fn role_of(role: &str) -> Option<CallerRole> {
    Some(match role {
        "admin" => CallerRole::Admin,
        "department" => CallerRole::Department,
        "unit" => CallerRole::Unit,
        "service" => CallerRole::Service,
        _ => return None,
    })
}

/// The policy standing of a subject in an organisation (read with the
/// subject's own row: one statement per request for who is calling).
async fn grants(
    db: &DatabaseConnection,
    auth: &AuthState,
    subject: String,
    org: Option<organisation::Model>,
    unit_id: Option<i64>,
) -> Result<Grants, AuthError> {
    let org = org.ok_or(AuthError::InvalidSession)?;
    let (policy_version, policy) = auth.policy.get_versioned(db).await.map_err(|e| {
        tracing::error!(error = %e, "policy load failed");
        AuthError::InvalidSession
    })?;
    Ok(Grants { subject, organisation_code: org.code, unit_id, policy, policy_version })
}

pub async fn caller(db: &DatabaseConnection, auth: &AuthState, header: Option<&str>) -> Result<Caller, AuthError> {
    let Some(value) = header else { return Ok(Caller::anonymous()) };
    let token = value.strip_prefix("Bearer ").map(str::trim).ok_or(AuthError::InvalidSession)?;
    let claims = auth.keys.verify(token).map_err(|_| AuthError::InvalidSession)?;
    if let Some(id) = claims.sub.strip_prefix("svc:").and_then(|s| s.parse::<i64>().ok()) {
        // A revoked credential's tokens stop at once.
        let (cred, org) = service_credential::Entity::find_by_id(id)
            .filter(service_credential::Column::RevokedAt.is_null())
            .find_also_related(organisation::Entity)
            .one(db)
            .await?
            .filter(|(c, _)| c.organisation_id == claims.org)
            .ok_or(AuthError::InvalidSession)?;
        let grants = grants(db, auth, format!("svc:{}", cred.id), org, None).await?;
        return Ok(Caller {
            who: Who::Service { id: cred.id, label: cred.name },
            organisation_id: Some(cred.organisation_id),
            role: CallerRole::Service,
            grants: Some(grants),
        });
    }
    let id: i64 = claims.sub.strip_prefix("user:").and_then(|s| s.parse().ok()).ok_or(AuthError::InvalidSession)?;
    let (user, org) = app_user::Entity::find_by_id(id)
        .filter(app_user::Column::Active.eq(true))
        .find_also_related(organisation::Entity)
        .one(db)
        .await?
        .filter(|(u, _)| u.organisation_id == claims.org)
        .ok_or(AuthError::InvalidSession)?;
    let role = role_of(&user.role).ok_or(AuthError::InvalidSession)?;
    let grants = grants(db, auth, format!("user:{}", user.id), org, user.unit_id).await?;
    Ok(Caller {
        who: Who::User { id: user.id, label: user.username },
        organisation_id: Some(user.organisation_id),
        role,
        grants: Some(grants),
    })
}
