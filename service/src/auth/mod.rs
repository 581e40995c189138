//! Sign-in (登录) and the policy store: the database side of `kaohe-auth`.
//!
//! - [`settings`]: the sign-in settings (part of `Settings`);
//! - [`keys`]: the JWT key set from the settings, or a secret generated into
//!   the data folder on first start (never hard-coded);
//! - [`session`]: login, sign-in sessions, refresh-token rotation (reuse ends
//!   the session), logout, lockout counted in the database, pruning;
//! - [`passwords`]: argon2 on the blocking pool, a bounded number at once;
//! - [`policy_store`]: casbin lines in the database, seeded from `policies/`,
//!   versioned so every instance reloads a change within seconds.
//!
//! The GraphQL mutations and the enforcement in every resolver come with the
//! rest of issue 5; these services are what they call.

pub mod bearer;
pub mod credentials;
pub mod keys;
pub mod password_policy;
pub mod passwords;
pub mod policy_admin;
pub mod policy_store;
pub mod pulse;
pub mod session;
pub mod settings;

/// Why a sign-in step failed. Clients see one code per variant.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username or password (never says which).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed attempts; try again after the lock.
    #[error("too many failed sign-ins; try again later")]
    Locked { until: chrono::DateTime<chrono::Utc> },
    /// A refresh token that is unknown, expired, revoked or replayed; an
    /// access token whose session has ended.
    #[error("the session has ended; sign in again")]
    InvalidSession,
    /// Every password-hashing slot stayed busy for the whole wait.
    #[error("too many sign-ins at once; retry in a moment")]
    Busy,
    #[error("internal error")]
    Internal(#[from] sea_orm::DbErr),
    #[error("internal error")]
    Token(#[from] kaohe_auth::token::TokenError),
    #[error("internal error")]
    Hashing(String),
}

impl From<AuthError> for crate::ServiceError {
    /// A sign-in error met inside another service (hashing a new password).
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials => crate::ServiceError::BadUserInput("the current password is wrong".into()),
            AuthError::Busy => crate::ServiceError::Conflict("too many password changes at once; retry".into()),
            AuthError::Locked { .. } => crate::ServiceError::Forbidden,
            AuthError::InvalidSession => crate::ServiceError::Unauthenticated,
            other => crate::ServiceError::internal(other),
        }
    }
}

impl AuthError {
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials | AuthError::InvalidSession => "UNAUTHENTICATED",
            AuthError::Locked { .. } => "ACCOUNT_LOCKED",
            AuthError::Busy => "RATE_LIMITED",
            AuthError::Internal(_) | AuthError::Token(_) | AuthError::Hashing(_) => "INTERNAL",
        }
    }
}

pub mod demo;

use std::sync::Arc;

/// What sign-in needs at run time, shared by all requests of an instance.
pub struct AuthState {
    pub keys: kaohe_auth::token::KeySet,
    pub limits: session::Limits,
    pub policy: policy_store::PolicyCache,
    pub passwords: passwords::PasswordWork,
    /// Callers' rows and generations pushed by PostgreSQL (`pulse`).
    pub pulse: Arc<pulse::Pulse<bearer::SubjectRow>>,
}

/// Sets up sign-in at start-up: the key set (refusing settings that do not
/// make one), and the seed policy if the database has none.
pub async fn start(
    db: &sea_orm::DatabaseConnection,
    settings: &settings::AuthSettings,
    data_dir: &std::path::Path,
) -> Result<Arc<AuthState>, StartError> {
    let keys = keys::key_set(settings, data_dir)?;
    policy_store::seed(db, chrono::Utc::now()).await?;
    // The dummy hash for unknown accounts is made now, not by the first
    // unknown login (which would then take twice as long as the others).
    tokio::task::spawn_blocking(|| kaohe_auth::password::verify_dummy(""))
        .await
        .map_err(|e| StartError::Hashing(e.to_string()))?;
    let limits = session::Limits {
        refresh_ttl_secs: settings.refresh_ttl_secs,
        session_max_secs: settings.session_max_lifetime_secs,
        ..session::Limits::default()
    };
    Ok(Arc::new(AuthState {
        keys,
        limits,
        policy: policy_store::PolicyCache::new(settings.policy_recheck),
        passwords: passwords::PasswordWork::new(settings.password_hash_concurrency, settings.password_hash_wait),
        pulse: Arc::default(),
    }))
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("sign-in keys: {0}")]
    Keys(#[from] keys::KeySetupError),
    #[error("policy: {0}")]
    Policy(#[from] policy_store::StoreError),
    #[error("password hashing: {0}")]
    Hashing(String),
}
