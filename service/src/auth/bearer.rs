//! The caller named by a request's `Authorization: Bearer <token>` header.
//!
//! No header: anonymous. A header that does not verify (bad signature, expired,
//! wrong audience, unknown key, garbage) is an error, never silently anonymous,
//! and so is a user's token whose user has since been deactivated or whose
//! session (`sid`) has ended: logged out, ended by a replayed refresh token,
//! or past `SESSION_MAX_LIFETIME_SECS`. A service credential's token has no
//! session; revoking the credential stops it.

use chrono::{DateTime, Utc};
use entity::{app_user, organisation, service_credential, user_session};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect, RelationTrait,
};

use super::pulse::SubjectKey;
use super::{AuthError, AuthState};
use crate::audit::generation;
use crate::caller::{Caller, CallerRole, Grants, Who};

/// Maps a stored role (`users::Role`, the one list; the database holds
/// `app_user.role` to it) to the caller's role.
pub fn role_of(role: &str) -> Option<CallerRole> {
    use crate::users::Role;
    Some(match Role::of(role)? {
        Role::Admin => CallerRole::Admin,
        Role::DepartmentHead => CallerRole::Department,
        Role::Unit => CallerRole::Unit,
        Role::Integration => CallerRole::Service,
    })
}

/// The calling subject's row with its organisation's code and its
/// organisation's data generation (`audit::generation`: its own newest
/// entry and the newest shared one), read in one statement (so in one snapshot): the only
/// statement a request answered from the response cache costs, and none
/// while the pulse keeps it (`auth::pulse`).
#[derive(Clone, FromQueryResult)]
pub struct SubjectRow {
    id: i64,
    organisation_id: i64,
    label: String,
    role: String,
    unit_id: Option<i64>,
    org_code: String,
    generation_own: Option<i64>,
    generation_shared: Option<i64>,
    must_change_password: bool,
}

/// The user's row, if active and signed in through session `sid`, still
/// open and started after `started_after`. The session is an EXISTS of the
/// same statement: checking it costs no extra round trip.
async fn user_row(
    db: &DatabaseConnection,
    id: i64,
    sid: i64,
    started_after: DateTime<Utc>,
) -> Result<Option<SubjectRow>, sea_orm::DbErr> {
    let live_session = Query::select()
        .expr(Expr::val(1))
        .from(user_session::Entity)
        .and_where(user_session::Column::Id.eq(sid))
        .and_where(
            Expr::col((user_session::Entity, user_session::Column::UserId))
                .equals((app_user::Entity, app_user::Column::Id)),
        )
        .and_where(user_session::Column::EndedAt.is_null())
        .and_where(user_session::Column::StartedAt.gt(started_after))
        .to_owned();
    app_user::Entity::find_by_id(id)
        .filter(app_user::Column::Active.eq(true))
        .filter(Expr::exists(live_session))
        .select_only()
        .column(app_user::Column::Id)
        .column(app_user::Column::OrganisationId)
        .column_as(app_user::Column::Username, "label")
        .column(app_user::Column::Role)
        .column(app_user::Column::UnitId)
        .column(app_user::Column::MustChangePassword)
        .column_as(organisation::Column::Code, "org_code")
        .expr_as(generation::own_generation_column("app_user"), "generation_own")
        .expr_as(generation::shared_generation_column(), "generation_shared")
        .join(JoinType::InnerJoin, app_user::Relation::Organisation.def())
        .into_model::<SubjectRow>()
        .one(db)
        .await
}

async fn credential_row(db: &DatabaseConnection, id: i64) -> Result<Option<SubjectRow>, sea_orm::DbErr> {
    service_credential::Entity::find_by_id(id)
        .filter(service_credential::Column::RevokedAt.is_null())
        .select_only()
        .column(service_credential::Column::Id)
        .column(service_credential::Column::OrganisationId)
        .column_as(service_credential::Column::Name, "label")
        .expr_as(Expr::val("service"), "role")
        .expr_as(Expr::cust("CAST(NULL AS BIGINT)"), "unit_id")
        .expr_as(Expr::val(false), "must_change_password")
        .column_as(organisation::Column::Code, "org_code")
        .expr_as(generation::own_generation_column("service_credential"), "generation_own")
        .expr_as(generation::shared_generation_column(), "generation_shared")
        .join(JoinType::InnerJoin, service_credential::Relation::Organisation.def())
        .into_model::<SubjectRow>()
        .one(db)
        .await
}

/// The subject's row as the pulse keeps it, else as `read` finds it (kept
/// for the next request when found). The stamp is taken before the read, so a
/// change heard meanwhile leaves nothing stale kept.
async fn kept_or_read(
    auth: &AuthState,
    key: SubjectKey,
    read: impl std::future::Future<Output = Result<Option<SubjectRow>, sea_orm::DbErr>>,
) -> Result<Option<SubjectRow>, sea_orm::DbErr> {
    if let Some(row) = auth.pulse.kept(key) {
        return Ok(Some(row));
    }
    let stamp = auth.pulse.stamp();
    let row = read.await?;
    if let Some(r) = &row {
        auth.pulse.keep(key, r.clone(), r.organisation_id, stamp);
    }
    Ok(row)
}

/// The caller at time `now`, and the data generation read with its row
/// (`None` for an anonymous caller: nothing was read).
pub async fn caller(
    db: &DatabaseConnection,
    auth: &AuthState,
    header: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Caller, Option<i64>), AuthError> {
    let Some(value) = header else { return Ok((Caller::anonymous(), None)) };
    let token = value.strip_prefix("Bearer ").map(str::trim).ok_or(AuthError::InvalidSession)?;
    let claims = auth.keys.verify_at(token, now.timestamp()).map_err(|_| AuthError::InvalidSession)?;
    let pulse = &auth.pulse;
    let (row, service) = if let Some(id) = claims.sub.strip_prefix("svc:").and_then(|s| s.parse::<i64>().ok()) {
        // A revoked credential's tokens stop at once (within the pulse's bounds).
        (kept_or_read(auth, SubjectKey::Credential(id), credential_row(db, id)).await?, true)
    } else {
        let id: i64 = claims.sub.strip_prefix("user:").and_then(|s| s.parse().ok()).ok_or(AuthError::InvalidSession)?;
        // So do a deactivated user's, and those of a session that has ended.
        let sid = claims.sid.ok_or(AuthError::InvalidSession)?;
        let read = user_row(db, id, sid, auth.limits.sessions_started_before(now));
        (kept_or_read(auth, SubjectKey::Session { user: id, session: sid }, read).await?, false)
    };
    let row = row.filter(|r| r.organisation_id == claims.org).ok_or(AuthError::InvalidSession)?;
    let role = role_of(&row.role).ok_or(AuthError::InvalidSession)?;
    let (policy_version, policy) = auth.policy.get(db).await.map_err(|e| {
        tracing::error!(error = %e, "policy load failed");
        AuthError::InvalidSession
    })?;
    let (subject, who) = if service {
        (format!("svc:{}", row.id), Who::Service { id: row.id, label: row.label })
    } else {
        (format!("user:{}", row.id), Who::User { id: row.id, label: row.label })
    };
    let grants = Grants { subject, organisation_code: row.org_code, unit_id: row.unit_id, policy, policy_version };
    let caller = Caller {
        who,
        organisation_id: Some(row.organisation_id),
        role,
        grants: Some(grants),
        must_change_password: row.must_change_password,
        appended: Default::default(),
    };
    let generation = if pulse.is_live() {
        pulse.generation(row.organisation_id, row.generation_own, row.generation_shared)
    } else {
        generation::organisation_generation(row.generation_own, row.generation_shared)
    };
    Ok((caller, Some(generation)))
}
