//! Idempotency keys (幂等键) in one table for every write that takes one,
//! scoped to (organisation, caller): a key remembers the operation, a
//! fingerprint of its parameters and the row it produced. The
//! `idempotency_key` columns of earlier tables are no longer written.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("idempotency_key")
                .col(id())
                .col(text("scope"))
                .col(text("key"))
                .col(text("operation"))
                .col(text("fingerprint"))
                .col(big("result_id"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idempotency_key", &["scope", "key"], true)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["idempotency_key"]).await
    }
}
