//! Rubric version drafts (草稿): creating one accepts an idempotency key, so a
//! retried request makes one draft. Plain nullable column (SQLite adds one
//! column per `ALTER TABLE`), unique per rubric; NULLs never collide.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ux_rubric_version_rubric_id_idempotency_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("rubric_version").add_column(text_null("idempotency_key")).to_owned())
            .await?;
        m.create_index(index("rubric_version", &["rubric_id", "idempotency_key"], true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table("rubric_version").to_owned()).await?;
        m.alter_table(Table::alter().table("rubric_version").drop_column("idempotency_key").to_owned()).await?;
        Ok(())
    }
}
