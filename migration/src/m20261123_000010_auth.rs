//! Sign-in state: refresh tokens (hashed, rotated, revocable), failed logins
//! (counted in the database so every instance sees them), service credentials,
//! and the casbin policy rules with a version that instances poll.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("refresh_token")
                .col(id())
                .col(big("user_id"))
                .col(text("token_hash").unique_key())
                .col(text("family"))
                .col(ts("issued_at"))
                .col(ts("expires_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk("refresh_token", "user_id", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("refresh_token", &["family"], false)).await?;
        m.create_table(
            Table::create()
                .table("login_failure")
                .col(id())
                .col(text("username"))
                .col(text("ip"))
                .col(ts("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_failure", &["username", "at"], false)).await?;
        m.create_index(index("login_failure", &["ip", "at"], false)).await?;
        m.create_table(
            Table::create()
                .table("service_credential")
                .col(id())
                .col(big("organisation_id"))
                .col(text("name"))
                .col(text("scope"))
                .col(text("secret_hash").unique_key())
                .col(big_null("created_by"))
                .col(ts("created_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk("service_credential", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("casbin_rule")
                .col(id())
                .col(text("ptype"))
                .col(text("v0"))
                .col(text("v1"))
                .col(text("v2"))
                .col(text_null("v3"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create().table("policy_state").col(id()).col(big("version")).col(ts("updated_at")).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["policy_state", "casbin_rule", "service_credential", "login_failure", "refresh_token"]).await
    }
}
