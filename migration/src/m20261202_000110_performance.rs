//! Per-organisation data generations (issue 18): an audit entry says whether
//! its write changed data other organisations' callers may read
//! (`shared_data`: reference data, settings, the platform's own entries) or
//! only its own organisation's (observations, claims, submissions, runs).
//! A signed-in caller's cached answers then follow its own organisation's
//! entries and the shared ones, not every tenant's writes.
//!
//! Entries written before this migration count as shared (the safe side);
//! `(shared_data, id)` makes the newest shared entry one index look-up.
//! Not part of an entry's hash: editing it only changes which cached answers
//! are recomputed (setting it false on a shared entry could keep other
//! organisations' answers until `RESPONSE_CACHE_TTL_SECS`, like any edit made
//! by hand).

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SHARED_INDEX: &str = "ix_audit_log_shared_data_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("audit_log", "shared_data").await? {
            m.alter_table(Table::alter().table("audit_log").add_column(boolean("shared_data", true)).to_owned())
                .await?;
        }
        m.create_index(index("audit_log", &["shared_data", "id"], false)).await?;
        Ok(())
    }

    /// Drops the index and keeps the column, like migration 60 keeps
    /// `chain_version`: the code before never reads it, and its inserts
    /// leave the default (shared), the safe side. Going up again finds it.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(SHARED_INDEX).table("audit_log").to_owned()).await?;
        Ok(())
    }
}
