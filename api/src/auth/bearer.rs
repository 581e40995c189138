//! The caller named by a request's `Authorization: Bearer <token>` header.
//!
//! No header: anonymous. A header that does not verify (bad signature, expired,
//! wrong audience, unknown key, garbage) is an error, never silently anonymous,
//! and so is a token whose user has since been deactivated.

use entity::app_user;
use kaohe_auth::token::KeySet;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::AuthError;
use crate::caller::{Caller, CallerRole, Who};

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

pub async fn caller(db: &DatabaseConnection, keys: &KeySet, header: Option<&str>) -> Result<Caller, AuthError> {
    let Some(value) = header else { return Ok(Caller::anonymous()) };
    let token = value.strip_prefix("Bearer ").map(str::trim).ok_or(AuthError::InvalidSession)?;
    let claims = keys.verify(token).map_err(|_| AuthError::InvalidSession)?;
    if let Some(id) = claims.sub.strip_prefix("svc:").and_then(|s| s.parse::<i64>().ok()) {
        // A revoked credential's tokens stop at once.
        let cred = super::credentials::active(db, id)
            .await?
            .filter(|c| c.organisation_id == claims.org)
            .ok_or(AuthError::InvalidSession)?;
        return Ok(Caller {
            who: Who::Service { id: cred.id, label: cred.name },
            organisation_id: Some(cred.organisation_id),
            role: CallerRole::Service,
        });
    }
    let id: i64 = claims.sub.strip_prefix("user:").and_then(|s| s.parse().ok()).ok_or(AuthError::InvalidSession)?;
    let user = app_user::Entity::find_by_id(id)
        .filter(app_user::Column::Active.eq(true))
        .one(db)
        .await?
        .filter(|u| u.organisation_id == claims.org)
        .ok_or(AuthError::InvalidSession)?;
    let role = role_of(&user.role).ok_or(AuthError::InvalidSession)?;
    Ok(Caller {
        who: Who::User { id: user.id, label: user.username },
        organisation_id: Some(user.organisation_id),
        role,
    })
}
