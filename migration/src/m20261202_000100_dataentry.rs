//! Data entry (issue 16): where an observation comes from.
//!
//! - `origin_id`: the first row of the observation's lineage. A correction
//!   (`supersedes_id`) and the copy an amended run (`amendRun`) makes keep
//!   the origin of the row they come from; a new record has none (it is its
//!   own origin). A carried row (below) takes its source's origin, so the
//!   lineage is counted once across periods.
//! - `carried_from_id`: on a row carried into a later period's run
//!   (下发文件滞后的转到下月加分), the source row in the earlier run.
//! - `batch_id`: rows written by one `recordObservations` call share the id
//!   of the batch's first row (what an idempotent retry answers).
//!
//! No foreign keys on the new columns (SQLite cannot add one to an existing
//! table); the service writes them from rows it has just read.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 3] = ["origin_id", "carried_from_id", "batch_id"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in COLUMNS {
            m.alter_table(Table::alter().table("observation").add_column(big_null(c)).to_owned()).await?;
            m.create_index(index("observation", &[c], false)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in COLUMNS {
            m.drop_index(Index::drop().name(format!("ix_observation_{c}")).table("observation").to_owned()).await?;
            m.alter_table(Table::alter().table("observation").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}
