//! One version of a rubric (e.g. 2026): draft, published (frozen) or retired.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rubric_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rubric_id: i64,
    pub label: String,
    pub title: String,
    /// draft | published | retired
    pub status: crate::states::VersionStatus,
    pub scale: Exact,
    pub bonus_cap: Option<Exact>,
    /// annual | monthly
    pub regime: String,
    pub source: Option<String>,
    /// Name of the file it was loaded from, if any.
    pub file_name: Option<String>,
    /// sha256 (hex) of the file text: loading the same text again adds nothing.
    pub source_sha256: Option<String>,
    pub version: i32,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Client key of the request that created a draft: the same key returns it again.
    pub idempotency_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::rubric::Entity", from = "Column::RubricId", to = "super::rubric::Column::Id")]
    Rubric,
}

impl Related<super::rubric::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Rubric.def()
    }
}

impl Related<super::indicator::Entity> for Entity {
    fn to() -> RelationDef {
        super::indicator::Relation::RubricVersion.def().rev()
    }
}

impl Related<super::rule::Entity> for Entity {
    fn to() -> RelationDef {
        super::rule::Relation::RubricVersion.def().rev()
    }
}

impl ActiveModelBehavior for ActiveModel {}
