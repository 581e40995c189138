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
    /// An upload's idempotency key, unique in its organisation.
    pub idempotency_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
    #[sea_orm(belongs_to = "super::unit::Entity", from = "Column::UnitId", to = "super::unit::Column::Id")]
    Unit,
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::UploadedBy", to = "super::app_user::Column::Id")]
    UploadedBy,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl Related<super::app_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UploadedBy.def()
    }
}

impl Related<super::evidence_link::Entity> for Entity {
    fn to() -> RelationDef {
        super::evidence_link::Relation::Evidence.def().rev()
    }
}

impl ActiveModelBehavior for ActiveModel {}
