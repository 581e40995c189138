//! Sign-in mutations (登录/续期/退出).

use async_graphql::{Context, ErrorExtensions, Object, SimpleObject};
use kaohe_auth::token::KeySet;
use sea_orm::DatabaseConnection;

use std::sync::Arc;

use crate::auth::session::{self, Limits};
use crate::auth::{AuthError, AuthState};

/// The client address of the request (for per-IP lockout), set by the HTTP layer.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl ErrorExtensions for AuthError {
    fn extend(&self) -> async_graphql::Error {
        if let AuthError::Internal(e) = self {
            tracing::error!(error = %e, "sign-in failed");
        }
        let code = self.code();
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| e.set("code", code))
    }
}

/// A signed-in session (会话).
#[derive(SimpleObject)]
pub struct SessionPayload {
    /// Short-lived access token: send it as `Authorization: Bearer <token>`.
    access_token: String,
    /// Refresh token (续期令牌): exchange it once for a new session; shown only now.
    refresh_token: String,
    /// Seconds until the access token expires.
    expires_in: i64,
}

impl From<session::Session> for SessionPayload {
    fn from(s: session::Session) -> Self {
        SessionPayload { access_token: s.access_token, refresh_token: s.refresh_token, expires_in: s.expires_in }
    }
}

/// Sign-in mutations.
#[derive(Default)]
pub struct SessionMutation;

fn deps<'a>(ctx: &Context<'a>) -> async_graphql::Result<(&'a DatabaseConnection, &'a KeySet, &'a Limits)> {
    let auth = ctx.data::<Arc<AuthState>>()?;
    Ok((ctx.data::<DatabaseConnection>()?, &auth.keys, &auth.limits))
}

/// Sign-in mutations (登录、续期、退出).
#[Object]
impl SessionMutation {
    /// Signs in (登录) with a username and password. Repeated failures lock the
    /// account for a while (ACCOUNT_LOCKED); wrong credentials are UNAUTHENTICATED.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Username (用户名).")] username: String,
        #[graphql(desc = "Password (密码).")] password: String,
    ) -> async_graphql::Result<SessionPayload> {
        let (db, keys, limits) = deps(ctx)?;
        let ip = ctx.data::<ClientIp>().map(|c| c.0.clone()).unwrap_or_default();
        let s = session::login(db, keys, limits, &username, &password, &ip, chrono::Utc::now()).await;
        s.map(Into::into).map_err(|e| e.extend())
    }

    /// Exchanges a refresh token for a new session (续期); the token is spent.
    /// A spent token presented again ends every session of its sign-in.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the current session.")] refresh_token: String,
    ) -> async_graphql::Result<SessionPayload> {
        let (db, keys, limits) = deps(ctx)?;
        let s = session::refresh(db, keys, limits, &refresh_token, chrono::Utc::now()).await;
        s.map(Into::into).map_err(|e| e.extend())
    }

    /// Signs out (退出): revokes the session the refresh token belongs to.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the session to end.")] refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let (db, _, _) = deps(ctx)?;
        session::logout(db, &refresh_token, chrono::Utc::now()).await.map_err(|e| e.extend())?;
        Ok(true)
    }
}
