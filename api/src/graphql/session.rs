//! Sign-in mutations (登录/续期/退出).

use async_graphql::{Context, ID, Object, SimpleObject};

use super::errors::{GqlResult, IntoGql};
use sea_orm::DatabaseConnection;

use std::sync::Arc;

use super::{IdKind, parse_id, to_id};
use crate::auth::AuthState;
use crate::auth::session;
use crate::http::ClientAddr;

/// A signed-in session (会话).
#[derive(SimpleObject)]
pub struct SessionPayload {
    /// Short-lived access token: send it as `Authorization: Bearer <token>`.
    access_token: String,
    /// Refresh token (续期令牌): exchange it once for a new session; shown only now.
    refresh_token: String,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// The password is a one-time one (a new account, a reset): every field but
    /// `changePassword`, `me`, `refreshSession` and `logout` is FORBIDDEN until it is changed.
    must_change_password: bool,
}

impl From<session::Session> for SessionPayload {
    fn from(s: session::Session) -> Self {
        SessionPayload {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_in: s.expires_in,
            must_change_password: s.must_change_password,
        }
    }
}

/// A service credential (服务凭据) of an integration.
#[derive(SimpleObject)]
pub struct ServiceCredential {
    /// Credential id.
    id: ID,
    /// Name, e.g. 月讲评系统.
    name: String,
    /// What it may do, e.g. `results:read_published`.
    scope: String,
}

/// A new credential with its secret, shown only in this answer.
#[derive(SimpleObject)]
pub struct NewServiceCredential {
    /// The credential.
    credential: ServiceCredential,
    /// The secret (密钥): store it now; it is never shown again.
    secret: String,
}

/// A short-lived access token for an integration.
#[derive(SimpleObject)]
pub struct ServiceToken {
    /// Send it as `Authorization: Bearer <token>`.
    access_token: String,
    /// Seconds until it expires.
    expires_in: i64,
}

/// Sign-in mutations.
#[derive(Default)]
pub struct SessionMutation;

fn deps<'a>(ctx: &Context<'a>) -> async_graphql::Result<(&'a DatabaseConnection, &'a AuthState)> {
    Ok((ctx.data::<DatabaseConnection>()?, ctx.data::<Arc<AuthState>>()?))
}

/// Sign-in mutations (登录、续期、退出).
#[Object]
impl SessionMutation {
    /// Signs in (登录) with a username and password. Repeated failures lock the
    /// account for a while (ACCOUNT_LOCKED); wrong credentials are UNAUTHENTICATED;
    /// too many sign-ins at once on the server are RATE_LIMITED (retry shortly).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Username (用户名).")] username: String,
        #[graphql(desc = "Password (密码).")] password: String,
    ) -> async_graphql::Result<SessionPayload> {
        let (db, auth) = deps(ctx)?;
        let client = ctx.data::<ClientAddr>().copied().unwrap_or(ClientAddr(None));
        let s = session::login(db, auth, &username, &password, &client.key(), chrono::Utc::now()).await;
        if let Ok(m) = ctx.data::<Arc<crate::metrics::Metrics>>() {
            m.login(match &s {
                Ok(_) => "succeeded",
                Err(crate::auth::AuthError::Locked { .. }) => "locked",
                Err(crate::auth::AuthError::InvalidCredentials | crate::auth::AuthError::InvalidSession) => "failed",
                Err(crate::auth::AuthError::Busy) => "rate_limited",
                Err(_) => "error",
            });
        }
        s.map(Into::into).map_err(IntoGql::into_gql)
    }

    /// Exchanges a refresh token for a new session (续期); the token is spent.
    /// A spent token presented again ends every session of its sign-in.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the current session.")] refresh_token: String,
    ) -> async_graphql::Result<SessionPayload> {
        let (db, auth) = deps(ctx)?;
        let s = session::refresh(db, auth, &refresh_token, chrono::Utc::now()).await;
        s.map(Into::into).map_err(IntoGql::into_gql)
    }

    /// Signs out (退出): ends the session the refresh token belongs to; its
    /// access tokens are refused from the next request on.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the session to end.")] refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let (db, _) = deps(ctx)?;
        session::logout(db, &refresh_token, chrono::Utc::now()).await.map_err(IntoGql::into_gql)?;
        Ok(true)
    }

    /// Creates a service credential for an integration (admin only); the answer
    /// holds its secret, shown this once.
    async fn create_service_credential(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name of the integration (e.g. 月讲评系统).")] name: String,
        #[graphql(desc = "Scope: `results:read_published`.")] scope: String,
    ) -> async_graphql::Result<NewServiceCredential> {
        let (db, chain_key, caller) = super::write_env(ctx)?;
        let (m, secret) = crate::auth::credentials::create(db, chain_key, caller, &name, &scope).await.gql()?;
        policy_changed(ctx).await?;
        let credential = ServiceCredential { id: to_id(IdKind::ServiceCredential, m.id), name: m.name, scope: m.scope };
        Ok(NewServiceCredential { credential, secret })
    }

    /// Revokes a service credential (admin only); its tokens stop working at once.
    async fn revoke_service_credential(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Credential id.")] id: ID,
    ) -> async_graphql::Result<bool> {
        let (db, chain_key, caller) = super::write_env(ctx)?;
        let id = parse_id(&id, IdKind::ServiceCredential)?;
        crate::auth::credentials::revoke(db, chain_key, caller, id).await.gql()?;
        policy_changed(ctx).await?;
        Ok(true)
    }

    /// Exchanges a service credential's secret for a short-lived access token.
    async fn service_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The credential's secret.")] secret: String,
    ) -> async_graphql::Result<ServiceToken> {
        let (db, auth) = deps(ctx)?;
        let (access_token, expires_in) =
            crate::auth::credentials::exchange(db, &auth.keys, &secret, chrono::Utc::now()).await.gql()?;
        Ok(ServiceToken { access_token, expires_in })
    }
}

/// After a policy change: this instance enforces it from the next request.
async fn policy_changed(ctx: &Context<'_>) -> async_graphql::Result<()> {
    ctx.data::<Arc<AuthState>>()?.policy.invalidate().await;
    Ok(())
}

/// Policy administration (权限管理), admins only.
#[derive(Default)]
pub struct PolicyMutation;

/// Policy administration (权限管理), admins only; every change is audited.
#[Object]
impl PolicyMutation {
    /// Lets a department (科室) score an indicator and everything under it (分配考核指标).
    /// Returns the policy line added. Enforced by every instance within seconds.
    async fn assign_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Rubric version id.")] rubric_version_id: ID,
        #[graphql(desc = "Indicator code, e.g. `2` or `6.2`.")] indicator_code: String,
        #[graphql(desc = "Department name (科室), e.g. 秘书科.")] department: String,
    ) -> async_graphql::Result<String> {
        let (db, chain_key, caller) = super::write_env(ctx)?;
        let v = parse_id(&rubric_version_id, IdKind::RubricVersion)?;
        let line = crate::auth::policy_admin::assign(db, chain_key, caller, v, &indicator_code, &department, true)
            .await
            .gql()?;
        policy_changed(ctx).await?;
        Ok(line)
    }

    /// Takes back an assignment made with `assignIndicator`; returns the line removed.
    async fn unassign_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Rubric version id.")] rubric_version_id: ID,
        #[graphql(desc = "Indicator code.")] indicator_code: String,
        #[graphql(desc = "Department name (科室).")] department: String,
    ) -> async_graphql::Result<String> {
        let (db, chain_key, caller) = super::write_env(ctx)?;
        let v = parse_id(&rubric_version_id, IdKind::RubricVersion)?;
        let line = crate::auth::policy_admin::assign(db, chain_key, caller, v, &indicator_code, &department, false)
            .await
            .gql()?;
        policy_changed(ctx).await?;
        Ok(line)
    }
}
