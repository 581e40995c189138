//! Unit administration (被考核单位管理): one `unit_history` row per change of a
//! unit (created, renamed, moved, deactivated, reactivated) with the values
//! before and after, and the idempotency key of the request that created a
//! unit. `unit.version` exists since the first migration.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("unit").add_column(text_null("idempotency_key")).to_owned()).await?;
        m.create_index(index("unit", &["organisation_id", "idempotency_key"], true)).await?;
        m.create_table(
            Table::create()
                .table("unit_history")
                .col(id())
                .col(big("unit_id"))
                .col(big("organisation_id"))
                .col(text("change"))
                .col(text_null("name_before"))
                .col(text("name_after"))
                .col(big_null("parent_before"))
                .col(big_null("parent_after"))
                .col(boolean_null("active_before"))
                .col(boolean("active_after", true))
                .col(int("version"))
                .col(text_null("reason"))
                .col(big_null("actor_id"))
                .col(text("actor_label"))
                .col(ts("at"))
                .foreign_key(&mut fk("unit_history", "unit_id", "unit"))
                .foreign_key(&mut fk("unit_history", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("unit_history", &["unit_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["unit_history"]).await?;
        m.drop_index(Index::drop().name("ux_unit_organisation_id_idempotency_key").table("unit").to_owned()).await?;
        m.alter_table(Table::alter().table("unit").drop_column("idempotency_key").to_owned()).await
    }
}
