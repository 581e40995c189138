//! Issue 16 item 4, the Excel round trip: `entry_sheet` keeps a previewed
//! month's sheet (`previewEntrySheet`) until `applyEntrySheet` applies it:
//! the file's SHA-256, who made it, the run and the run version it was
//! planned against, what it would change (JSON) and when it expires.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("entry_sheet")
                .col(id())
                .col(big("organisation_id"))
                .col(big("score_run_id"))
                .col(int("run_version"))
                .col(text("section_code"))
                .col(text("sha256"))
                .col(text("filename"))
                .col(text("plan"))
                .col(big_null("created_by"))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts_null("applied_at"))
                .foreign_key(&mut fk("entry_sheet", "organisation_id", "organisation"))
                .foreign_key(&mut fk("entry_sheet", "score_run_id", "score_run"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("entry_sheet", &["score_run_id", "sha256"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["entry_sheet"]).await
    }
}
