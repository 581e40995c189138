//! Sign-in sessions: `user_session`, one row per login, named by the `sid`
//! of its access tokens so that a logout ends them at once. Existing refresh
//! families that can still be used get a session row (started when the
//! family's first token was issued), so nobody is signed out by the upgrade.
//! Also the indexes that let old refresh tokens and login failures be
//! pruned by time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::schema::*;

/// A session for every refresh family with a usable token; plain SQL,
/// identical on SQLite and PostgreSQL.
const BACKFILL: &str = "INSERT INTO user_session (user_id, family, started_at) \
     SELECT user_id, family, MIN(issued_at) FROM refresh_token \
     GROUP BY user_id, family \
     HAVING SUM(CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END) > 0";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("user_session")
                .col(id())
                .col(big("user_id"))
                .col(text("family").unique_key())
                .col(ts("started_at"))
                .col(ts_null("ended_at"))
                .col(text_null("end_reason"))
                .foreign_key(&mut fk("user_session", "user_id", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("user_session", &["user_id"], false)).await?;
        m.create_index(index("refresh_token", &["expires_at"], false)).await?;
        m.create_index(index("login_failure", &["at"], false)).await?;
        let db = m.get_connection();
        db.execute_raw(Statement::from_string(db.get_database_backend(), BACKFILL)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_login_failure_at").table("login_failure").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_refresh_token_expires_at").table("refresh_token").to_owned()).await?;
        drop_all(m, &["user_session"]).await
    }
}
