//! Evidence (佐证材料): a stored file or a reference to a document.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub unit_id: Option<i64>,
    /// file | reference
    pub kind: String,
    pub sha256: Option<String>,
    pub size: Option<i64>,
    pub media_type: Option<String>,
    pub filename: Option<String>,
    pub doc_number: Option<String>,
    pub doc_date: Option<Date>,
    pub url: Option<String>,
    pub uploaded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
