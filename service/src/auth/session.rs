//! Login, sign-in sessions, refresh-token rotation and logout.
//!
//! Failed logins are rows in `login_failure`, counted per account and per
//! client address (the one `http::ClientAddr` finds, behind trusted proxies
//! too) over a window, so a lockout holds on every instance. A login opens a
//! session (`user_session`); its access tokens name it (`sid`), so that a
//! request whose session has ended is refused at once (`bearer`). A refresh
//! token is used once: using it spends it and issues the next one of the
//! same session; presenting a spent one again (a stolen token replayed) ends
//! the session. A session lasts `session_max_secs` from its login at most,
//! however often it is refreshed. Logins and refreshes also prune what no
//! longer counts (old failures, unusable refresh tokens, ended sessions), a
//! bounded number of rows each time.

use chrono::{DateTime, Duration, Utc};
use entity::{app_user, login_failure, refresh_token, user_session};
use kaohe_auth::lockout::Lockout;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use super::{AuthError, AuthState};

/// A signed-in session as the client receives it (the refresh token only once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user_id: i64,
    /// The `user_session` row (the access token's `sid`).
    pub session_id: i64,
    /// The password is a one-time one: change it before anything else.
    pub must_change_password: bool,
}

/// Lockout rules (per account, and looser per client address) and lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub account: Lockout,
    pub ip: Lockout,
    pub refresh_ttl_secs: i64,
    /// The longest a session lives from its login, refreshed or not.
    pub session_max_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            account: Lockout::default(),
            ip: Lockout { max_failures: 30, ..Lockout::default() },
            refresh_ttl_secs: 14 * 24 * 3600,
            session_max_secs: 30 * 24 * 3600,
        }
    }
}

impl Limits {
    /// Sessions that started at or before this have ended, at `now`.
    pub fn sessions_started_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::seconds(self.session_max_secs)
    }

    /// Failures older than this no longer count towards any lock.
    fn failure_window(&self) -> Duration {
        Duration::seconds(self.account.window_secs.max(self.ip.window_secs))
    }
}

async fn failures<C: ConnectionTrait>(
    db: &C,
    column: login_failure::Column,
    value: &str,
    since: DateTime<Utc>,
) -> Result<Vec<i64>, AuthError> {
    Ok(login_failure::Entity::find()
        .filter(column.eq(value))
        .filter(login_failure::Column::At.gt(since))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.at.timestamp())
        .collect())
}

fn locked(rule: &Lockout, failures: &[i64], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rule.locked_until(failures, now.timestamp()).and_then(|t| DateTime::from_timestamp(t, 0))
}

/// Signs a user in from client address `client` (`http::ClientAddr::key`).
/// Every failed attempt is recorded, even against a locked account, so
/// several attempts in one request each count; a login refused because
/// every hashing slot is busy (`Busy`) is not an attempt and counts nothing.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &DatabaseConnection,
    auth: &AuthState,
    username: &str,
    password: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<Session, AuthError> {
    let limits = &auth.limits;
    let username = super::password_policy::normalise_username(username);
    let username = username.as_str();
    prune_quietly(db, limits, now).await;
    let since = now - limits.failure_window();
    let by_account = failures(db, login_failure::Column::Username, username, since).await?;
    let by_client = failures(db, login_failure::Column::Ip, client, since).await?;
    let lock = locked(&limits.account, &by_account, now).or(locked(&limits.ip, &by_client, now));
    let user = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .filter(app_user::Column::Active.eq(true))
        .one(db)
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // Unknown account or no password: a dummy check of the same cost.
    let checked = auth.passwords.check(password, stored, lock.is_none()).await?;
    if let Some(until) = lock {
        record_failure(db, username, client, now).await?;
        return Err(AuthError::Locked { until });
    }
    let Some(user) = user.filter(|_| checked.verified.is_match()) else {
        record_failure(db, username, client, now).await?;
        return Err(AuthError::InvalidCredentials);
    };
    if let (Some(new), Some(old)) = (checked.rehashed, user.password_hash.as_deref()) {
        upgrade_hash(db, user.id, old, &new).await?;
    }
    let txn = db.begin().await?;
    let session = user_session::ActiveModel {
        user_id: Set(user.id),
        family: Set(kaohe_auth::refresh::new_secret()),
        started_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let out = issue(&txn, auth, &user, &session, now).await?;
    txn.commit().await?;
    Ok(out)
}

/// Stores a hash made with the pinned parameters in place of a stale one,
/// unless the password was changed meanwhile (then the newer hash stays).
async fn upgrade_hash<C: ConnectionTrait>(db: &C, user_id: i64, old: &str, new: &str) -> Result<(), AuthError> {
    app_user::Entity::update_many()
        .col_expr(app_user::Column::PasswordHash, Expr::value(new))
        .filter(app_user::Column::Id.eq(user_id))
        .filter(app_user::Column::PasswordHash.eq(old))
        .exec(db)
        .await?;
    Ok(())
}

async fn record_failure<C: ConnectionTrait>(
    db: &C,
    username: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    login_failure::ActiveModel {
        username: Set(username.to_string()),
        ip: Set(client.to_string()),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// An access token naming `session` and the session's next refresh token,
/// which expires with the session at the latest.
async fn issue<C: ConnectionTrait>(
    db: &C,
    auth: &AuthState,
    user: &app_user::Model,
    session: &user_session::Model,
    now: DateTime<Utc>,
) -> Result<Session, AuthError> {
    let (keys, limits) = (&auth.keys, &auth.limits);
    let sub = format!("user:{}", user.id);
    let access = keys.issue_in_session(&sub, user.organisation_id, &user.role, Some(session.id), now.timestamp())?;
    let (refresh, hash) = kaohe_auth::refresh::issue();
    let session_ends = session.started_at + Duration::seconds(limits.session_max_secs);
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set(hash),
        family: Set(session.family.clone()),
        issued_at: Set(now),
        expires_at: Set((now + Duration::seconds(limits.refresh_ttl_secs)).min(session_ends)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Session {
        access_token: access,
        refresh_token: refresh,
        expires_in: keys.ttl_secs,
        user_id: user.id,
        session_id: session.id,
        must_change_password: user.must_change_password,
    })
}

/// Ends every open session of a user at once (its access tokens are refused
/// from the next request) and revokes their refresh tokens: a password
/// reset, a deactivation. Runs in the caller's transaction.
pub async fn end_all_sessions<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ended = user_session::Entity::update_many()
        .col_expr(user_session::Column::EndedAt, Expr::value(now))
        .col_expr(user_session::Column::EndReason, Expr::value(reason))
        .filter(user_session::Column::UserId.eq(user_id))
        .filter(user_session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(ended.rows_affected)
}

/// Ends the session of `family` (its access tokens stop at the next request)
/// and revokes its refresh tokens.
async fn end_session<C: ConnectionTrait>(
    db: &C,
    family: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    user_session::Entity::update_many()
        .col_expr(user_session::Column::EndedAt, Expr::value(now))
        .col_expr(user_session::Column::EndReason, Expr::value(reason))
        .filter(user_session::Column::Family.eq(family))
        .filter(user_session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::Family.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Exchanges a refresh token for a new session (the old token is spent).
pub async fn refresh(
    db: &DatabaseConnection,
    auth: &AuthState,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Session, AuthError> {
    prune_quietly(db, &auth.limits, now).await;
    let txn = crate::db::begin_write(db).await?;
    let hash = kaohe_auth::refresh::digest(token);
    let Some(row) = refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(&txn).await?
    else {
        return Err(AuthError::InvalidSession);
    };
    if row.revoked_at.is_some() {
        // A spent token came back: someone else has the session. End it.
        end_session(&txn, &row.family, "replay", now).await?;
        txn.commit().await?;
        return Err(AuthError::InvalidSession);
    }
    if row.expires_at <= now {
        return Err(AuthError::InvalidSession);
    }
    // Ended (logout, replay) or past its absolute lifetime: no refresh, however fresh the token.
    let session = user_session::Entity::find()
        .filter(user_session::Column::Family.eq(&row.family))
        .filter(user_session::Column::EndedAt.is_null())
        .filter(user_session::Column::StartedAt.gt(auth.limits.sessions_started_before(now)))
        .one(&txn)
        .await?
        .ok_or(AuthError::InvalidSession)?;
    // Spend it; the version check is the revoked_at IS NULL condition.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(AuthError::InvalidSession);
    }
    let user = app_user::Entity::find_by_id(row.user_id)
        .filter(app_user::Column::Active.eq(true))
        .one(&txn)
        .await?
        .ok_or(AuthError::InvalidSession)?;
    let out = issue(&txn, auth, &user, &session, now).await?;
    txn.commit().await?;
    Ok(out)
}

/// Ends the session the refresh token belongs to.
pub async fn logout(db: &DatabaseConnection, token: &str, now: DateTime<Utc>) -> Result<(), AuthError> {
    let hash = kaohe_auth::refresh::digest(token);
    if let Some(row) = refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(db).await? {
        let txn = db.begin().await?;
        end_session(&txn, &row.family, "logout", now).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Rows one prune removes at most from each table, so that a login never
/// waits on a large delete; a backlog goes over the next logins.
pub const PRUNE_BATCH: u64 = 500;

/// What one prune removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub login_failures: u64,
    pub refresh_tokens: u64,
    pub sessions: u64,
}

/// Deletes, at most [`PRUNE_BATCH`] rows of each:
/// - login failures older than the lockout window (they no longer count);
/// - refresh tokens that can no longer be used: past their expiry, or of a
///   session that has ended (a spent token of a live session is kept until
///   it expires, so that its replay is still recognised and ends the session);
/// - sessions that have ended and have no refresh token left.
pub async fn prune(db: &DatabaseConnection, limits: &Limits, now: DateTime<Utc>) -> Result<Pruned, DbErr> {
    // Scoped: its `min`/`max` would shadow `Ord`'s elsewhere in this module.
    use sea_orm::sea_query::ExprTrait as _;
    let old_failures = Query::select()
        .column(login_failure::Column::Id)
        .from(login_failure::Entity)
        .and_where(login_failure::Column::At.lte(now - limits.failure_window()))
        .limit(PRUNE_BATCH)
        .to_owned();
    let login_failures = login_failure::Entity::delete_many()
        .filter(login_failure::Column::Id.in_subquery(old_failures))
        .exec(db)
        .await?
        .rows_affected;

    let ended = || {
        user_session::Column::EndedAt
            .is_not_null()
            .or(user_session::Column::StartedAt.lte(limits.sessions_started_before(now)))
    };
    let ended_families =
        Query::select().column(user_session::Column::Family).from(user_session::Entity).and_where(ended()).to_owned();
    let unusable = Query::select()
        .column(refresh_token::Column::Id)
        .from(refresh_token::Entity)
        .and_where(
            refresh_token::Column::ExpiresAt.lte(now).or(refresh_token::Column::Family.in_subquery(ended_families)),
        )
        .limit(PRUNE_BATCH)
        .to_owned();
    let refresh_tokens = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::Id.in_subquery(unusable))
        .exec(db)
        .await?
        .rows_affected;

    let tokens_of_session = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(
            Expr::col((refresh_token::Entity, refresh_token::Column::Family))
                .equals((user_session::Entity, user_session::Column::Family)),
        )
        .to_owned();
    let finished = Query::select()
        .column(user_session::Column::Id)
        .from(user_session::Entity)
        .and_where(ended())
        .and_where(Expr::not_exists(tokens_of_session))
        .limit(PRUNE_BATCH)
        .to_owned();
    let sessions = user_session::Entity::delete_many()
        .filter(user_session::Column::Id.in_subquery(finished))
        .exec(db)
        .await?
        .rows_affected;
    Ok(Pruned { login_failures, refresh_tokens, sessions })
}

/// [`prune`] as housekeeping: a failure is logged and the sign-in goes on.
async fn prune_quietly(db: &DatabaseConnection, limits: &Limits, now: DateTime<Utc>) {
    match prune(db, limits, now).await {
        Ok(p) if p != Pruned::default() => tracing::debug!(?p, "pruned sign-in rows"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "pruning sign-in rows failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::PasswordWork;
    use crate::auth::policy_store::PolicyCache;
    use entity::organisation;
    use kaohe_auth::token::{Key, KeySet};
    use migration::MigratorTrait;
    use sea_orm::{Database, PaginatorTrait};

    fn state(limits: Limits) -> AuthState {
        let keys = KeySet::new(vec![Key::hs256("k1", &[7u8; 32]).unwrap()], "k1", "kaohe", 900).unwrap();
        AuthState {
            keys,
            limits,
            policy: PolicyCache::new(std::time::Duration::from_secs(2)),
            passwords: PasswordWork::new(2, std::time::Duration::from_secs(5)),
            pulse: Default::default(),
        }
    }

    async fn setup() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let now = Utc::now();
        let org = organisation::ActiveModel {
            code: Set("chengkou".into()),
            name: Set("城口县教委".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        app_user::ActiveModel {
            organisation_id: Set(org.id),
            username: Set("mishuke".into()),
            display_name: Set("秘书科".into()),
            password_hash: Set(Some(kaohe_auth::password::hash("correct horse").unwrap())),
            role: Set("department".into()),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        db
    }

    async fn session_row(db: &DatabaseConnection, id: i64) -> Option<user_session::Model> {
        user_session::Entity::find_by_id(id).one(db).await.unwrap()
    }

    #[tokio::test]
    async fn login_refresh_rotation_reuse_and_logout() {
        let db = setup().await;
        let a = state(Limits::default());
        let now = Utc::now();
        let s = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", now).await.unwrap();
        let claims = a.keys.verify(&s.access_token).unwrap();
        assert_eq!(claims.sub, format!("user:{}", s.user_id));
        assert_eq!(claims.sid, Some(s.session_id), "the access token names its session");
        // Rotation: the new refresh token works once, in the same session; the old one is spent.
        let s2 = refresh(&db, &a, &s.refresh_token, now).await.unwrap();
        assert_ne!(s2.refresh_token, s.refresh_token);
        assert_eq!(s2.session_id, s.session_id);
        // Replaying the spent token ends the session, including s2's token.
        assert!(matches!(refresh(&db, &a, &s.refresh_token, now).await, Err(AuthError::InvalidSession)));
        let ended = session_row(&db, s.session_id).await.unwrap();
        assert_eq!((ended.ended_at, ended.end_reason.as_deref()), (Some(now), Some("replay")));
        assert!(matches!(refresh(&db, &a, &s2.refresh_token, now).await, Err(AuthError::InvalidSession)));
        // Logout ends its session.
        let s3 = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", now).await.unwrap();
        logout(&db, &s3.refresh_token, now).await.unwrap();
        assert_eq!(session_row(&db, s3.session_id).await.unwrap().end_reason.as_deref(), Some("logout"));
        assert!(refresh(&db, &a, &s3.refresh_token, now).await.is_err());
        assert!(refresh(&db, &a, "garbage", now).await.is_err());
    }

    #[tokio::test]
    async fn a_session_ends_after_its_lifetime_however_fresh_its_token() {
        let db = setup().await;
        let hour = Limits { session_max_secs: 3600, ..Limits::default() };
        let a = state(hour);
        let t0 = Utc::now();
        let s = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", t0).await.unwrap();
        let s = refresh(&db, &a, &s.refresh_token, t0 + Duration::minutes(50)).await.unwrap();
        // The new refresh token does not outlive its session.
        let row = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(kaohe_auth::refresh::digest(&s.refresh_token)))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.expires_at, t0 + Duration::hours(1));
        assert!(refresh(&db, &a, &s.refresh_token, t0 + Duration::minutes(61)).await.is_err());
        // A token that is itself fresh (issued under a longer lifetime) is refused
        // all the same once the session is older than the lifetime now set.
        let long = state(Limits::default());
        let s = login(&db, &long, "mishuke", "correct horse", "10.0.0.1", t0).await.unwrap();
        let s = refresh(&db, &long, &s.refresh_token, t0 + Duration::minutes(90)).await.unwrap();
        let e = refresh(&db, &a, &s.refresh_token, t0 + Duration::minutes(91)).await.unwrap_err();
        assert!(matches!(e, AuthError::InvalidSession));
    }

    #[tokio::test]
    async fn wrong_passwords_lock_the_account_for_a_while() {
        let db = setup().await;
        let a = state(Limits::default());
        let l = a.limits;
        let now = Utc::now();
        for _ in 0..5 {
            let e = login(&db, &a, "mishuke", "wrong", "10.0.0.2", now).await.unwrap_err();
            assert!(matches!(e, AuthError::InvalidCredentials));
        }
        // Now even the right password is refused, with its own code …
        let e = login(&db, &a, "mishuke", "correct horse", "10.0.0.3", now).await.unwrap_err();
        assert_eq!(e.code(), "ACCOUNT_LOCKED");
        // … until the lock has passed.
        let later = now + Duration::seconds(l.account.lock_secs + 1);
        assert!(login(&db, &a, "mishuke", "correct horse", "10.0.0.3", later).await.is_ok());
        // Unknown accounts fail the same way as wrong passwords.
        let e = login(&db, &a, "nobody", "x", "10.0.0.4", now).await.unwrap_err();
        assert!(matches!(e, AuthError::InvalidCredentials));
    }

    #[tokio::test]
    async fn pruning_removes_what_no_longer_counts_and_keeps_the_rest() {
        let db = setup().await;
        let a = state(Limits::default());
        let t0 = Utc::now();
        let day = Duration::days(1);
        // A live session whose first refresh token is spent (kept: its replay must still be seen).
        let live = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", t0 - day * 10).await.unwrap();
        let live = refresh(&db, &a, &live.refresh_token, t0 - day * 9).await.unwrap();
        // An abandoned sign-in: its token expired yesterday (14 days).
        let gone = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", t0 - day * 15).await.unwrap();
        // A session logged out.
        let out = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", t0 - day * 2).await.unwrap();
        logout(&db, &out.refresh_token, t0 - day).await.unwrap();
        // Failures: one an hour old (past the 15-minute window), one fresh.
        record_failure(&db, "mishuke", "10.0.0.9", t0 - Duration::hours(1)).await.unwrap();
        record_failure(&db, "mishuke", "10.0.0.9", t0 - Duration::minutes(1)).await.unwrap();

        let p = prune(&db, &a.limits, t0).await.unwrap();
        assert_eq!(p, Pruned { login_failures: 1, refresh_tokens: 2, sessions: 1 });
        assert_eq!(login_failure::Entity::find().count(&db).await.unwrap(), 1, "the fresh failure still counts");
        assert!(session_row(&db, out.session_id).await.is_none(), "the ended session went with its token");
        assert!(session_row(&db, gone.session_id).await.is_some(), "kept until its lifetime is over");
        let family = session_row(&db, live.session_id).await.unwrap().family;
        let kept = refresh_token::Entity::find().filter(refresh_token::Column::Family.eq(family)).count(&db).await;
        assert_eq!(kept.unwrap(), 2, "the live session's spent and current tokens");
        assert!(refresh(&db, &a, &live.refresh_token, t0).await.is_ok(), "the live session goes on");
        assert_eq!(prune(&db, &a.limits, t0).await.unwrap(), Pruned::default(), "nothing more to do");
        // Once over its lifetime, the abandoned session goes too.
        let later = t0 + day * 16;
        assert_eq!(prune(&db, &a.limits, later).await.unwrap().sessions, 1);
        assert!(session_row(&db, gone.session_id).await.is_none());
    }

    #[tokio::test]
    async fn a_stale_hash_is_replaced_at_the_next_login() {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let db = setup().await;
        let a = state(Limits::default());
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        app_user::Entity::update_many()
            .col_expr(app_user::Column::PasswordHash, Expr::value(weak.clone()))
            .exec(&db)
            .await
            .unwrap();
        login(&db, &a, "mishuke", "correct horse", "10.0.0.1", Utc::now()).await.unwrap();
        let stored = app_user::Entity::find().one(&db).await.unwrap().unwrap().password_hash.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(login(&db, &a, "mishuke", "correct horse", "10.0.0.1", Utc::now()).await.is_ok());
    }
}
