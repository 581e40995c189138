//! A month's entry sheet (.xlsx) read by `previewEntrySheet`: what it would
//! record, correct and withdraw in one section of a run, kept until
//! `applyEntrySheet` applies it or it expires (录入表预览).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "entry_sheet")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub score_run_id: i64,
    /// The run's version the preview was planned against.
    pub run_version: i32,
    /// The section (top-level indicator) the sheet is for.
    pub section_code: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    pub filename: String,
    /// The planned changes (JSON), applied as they are by `applyEntrySheet`.
    pub plan: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub applied_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::score_run::Entity",
        from = "Column::ScoreRunId",
        to = "super::score_run::Column::Id"
    )]
    ScoreRun,
}

impl ActiveModelBehavior for ActiveModel {}
