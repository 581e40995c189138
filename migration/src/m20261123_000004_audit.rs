//! The append-only audit log: each entry carries the previous entry's hash.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(id())
                .col(big_null("organisation_id"))
                .col(big_null("actor_id"))
                .col(text("actor_label"))
                .col(text("action"))
                .col(text("entity"))
                .col(text_null("entity_id"))
                .col(text_null("before"))
                .col(text_null("after"))
                .col(ts("at"))
                .col(text_null("prev_hash"))
                .col(text("hash").unique_key())
                .foreign_key(&mut fk("audit_log", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_log", &["organisation_id", "at"], false)).await?;
        // Two writers that read the same last entry cannot both append: the chain
        // stays linear (the second gets a unique violation and retries).
        m.create_index(index("audit_log", &["prev_hash"], true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["audit_log"]).await
    }
}
