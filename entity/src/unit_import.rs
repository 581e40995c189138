//! A unit sheet (CSV or .xlsx) read by `previewUnitImport`: what it would add
//! and change, kept until `applyUnitImport` applies it (导入预览).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_import")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    pub filename: String,
    /// The sheet's rows as read (JSON), re-planned against the units at apply time.
    pub plan: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub applied_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl ActiveModelBehavior for ActiveModel {}
