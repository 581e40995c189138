//! Login, refresh-token rotation and logout.
//!
//! Failed logins are rows in `login_failure`, counted per account and per
//! client address (the one `http::ClientAddr` finds, behind trusted proxies
//! too) over a window, so a lockout holds on every instance. A refresh
//! token is used once: using it revokes it and issues the next one of the same
//! family; presenting a revoked one again (a stolen token replayed) revokes the
//! whole family.

use chrono::{DateTime, Duration, Utc};
use entity::{app_user, login_failure, refresh_token};
use kaohe_auth::lockout::Lockout;
use kaohe_auth::token::KeySet;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::{AuthError, AuthState};

/// A signed-in session as the client receives it (the refresh token only once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user_id: i64,
}

/// Lockout rules: per account, and (looser) per client IP.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub account: Lockout,
    pub ip: Lockout,
    pub refresh_ttl_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            account: Lockout::default(),
            ip: Lockout { max_failures: 30, ..Lockout::default() },
            refresh_ttl_secs: 14 * 24 * 3600,
        }
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

/// Signs a user in from client address `ip` (`http::ClientAddr::key`).
/// Every failed attempt is recorded, even against a locked account, so
/// several attempts in one request each count; a login refused because
/// every hashing slot is busy (`Busy`) is not an attempt and counts nothing.
pub async fn login(
    db: &DatabaseConnection,
    auth: &AuthState,
    username: &str,
    password: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Session, AuthError> {
    let (keys, limits) = (&auth.keys, &auth.limits);
    let window = Duration::seconds(limits.account.window_secs.max(limits.ip.window_secs));
    let by_account = failures(db, login_failure::Column::Username, username, now - window).await?;
    let by_ip = failures(db, login_failure::Column::Ip, ip, now - window).await?;
    let lock = locked(&limits.account, &by_account, now).or(locked(&limits.ip, &by_ip, now));
    let user = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .filter(app_user::Column::Active.eq(true))
        .one(db)
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // Unknown account or no password: a dummy check of the same cost.
    let checked = auth.passwords.check(password, stored, lock.is_none()).await?;
    if let Some(until) = lock {
        record_failure(db, username, ip, now).await?;
        return Err(AuthError::Locked { until });
    }
    let Some(user) = user.filter(|_| checked.verified.is_match()) else {
        record_failure(db, username, ip, now).await?;
        return Err(AuthError::InvalidCredentials);
    };
    if let (Some(new), Some(old)) = (checked.rehashed, user.password_hash.as_deref()) {
        upgrade_hash(db, user.id, old, &new).await?;
    }
    let family = kaohe_auth::refresh::new_secret();
    issue(db, keys, limits, &user, &family, now).await
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
    ip: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    login_failure::ActiveModel {
        username: Set(username.to_string()),
        ip: Set(ip.to_string()),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn issue<C: ConnectionTrait>(
    db: &C,
    keys: &KeySet,
    limits: &Limits,
    user: &app_user::Model,
    family: &str,
    now: DateTime<Utc>,
) -> Result<Session, AuthError> {
    let access = keys.issue(&format!("user:{}", user.id), user.organisation_id, &user.role, now.timestamp())?;
    let (refresh, hash) = kaohe_auth::refresh::issue();
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set(hash),
        family: Set(family.to_string()),
        issued_at: Set(now),
        expires_at: Set(now + Duration::seconds(limits.refresh_ttl_secs)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Session { access_token: access, refresh_token: refresh, expires_in: keys.ttl_secs, user_id: user.id })
}

async fn revoke_family<C: ConnectionTrait>(db: &C, family: &str, now: DateTime<Utc>) -> Result<(), AuthError> {
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
    let (keys, limits) = (&auth.keys, &auth.limits);
    let txn = crate::db::begin_write(db).await?;
    let hash = kaohe_auth::refresh::digest(token);
    let Some(row) = refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(&txn).await?
    else {
        return Err(AuthError::InvalidSession);
    };
    if row.revoked_at.is_some() {
        // A spent token came back: someone else has the family. End it.
        revoke_family(&txn, &row.family, now).await?;
        txn.commit().await?;
        return Err(AuthError::InvalidSession);
    }
    if row.expires_at <= now {
        return Err(AuthError::InvalidSession);
    }
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
    let session = issue(&txn, keys, limits, &user, &row.family, now).await?;
    txn.commit().await?;
    Ok(session)
}

/// Ends the session the refresh token belongs to.
pub async fn logout(db: &DatabaseConnection, token: &str, now: DateTime<Utc>) -> Result<(), AuthError> {
    let hash = kaohe_auth::refresh::digest(token);
    if let Some(row) = refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(db).await? {
        revoke_family(db, &row.family, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::PasswordWork;
    use crate::auth::policy_store::PolicyCache;
    use entity::organisation;
    use kaohe_auth::token::Key;
    use migration::MigratorTrait;
    use sea_orm::Database;

    fn state(limits: Limits) -> AuthState {
        let keys = KeySet::new(vec![Key::hs256("k1", &[7u8; 32]).unwrap()], "k1", "kaohe", 900).unwrap();
        AuthState {
            keys,
            limits,
            policy: PolicyCache::new(std::time::Duration::from_secs(2)),
            passwords: PasswordWork::new(2, std::time::Duration::from_secs(5)),
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

    #[tokio::test]
    async fn login_refresh_rotation_reuse_and_logout() {
        let db = setup().await;
        let a = state(Limits::default());
        let now = Utc::now();
        let s = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", now).await.unwrap();
        let claims = a.keys.verify(&s.access_token).unwrap();
        assert_eq!(claims.sub, format!("user:{}", s.user_id));
        // Rotation: the new refresh token works once; the old one is spent.
        let s2 = refresh(&db, &a, &s.refresh_token, now).await.unwrap();
        assert_ne!(s2.refresh_token, s.refresh_token);
        // Replaying the spent token ends the whole family, including s2's token.
        assert!(matches!(refresh(&db, &a, &s.refresh_token, now).await, Err(AuthError::InvalidSession)));
        assert!(matches!(refresh(&db, &a, &s2.refresh_token, now).await, Err(AuthError::InvalidSession)));
        // Logout revokes.
        let s3 = login(&db, &a, "mishuke", "correct horse", "10.0.0.1", now).await.unwrap();
        logout(&db, &s3.refresh_token, now).await.unwrap();
        assert!(refresh(&db, &a, &s3.refresh_token, now).await.is_err());
        assert!(refresh(&db, &a, "garbage", now).await.is_err());
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
