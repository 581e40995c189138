//! A node of a rubric version's indicator tree (考核指标).
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rubric_version_id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub title: String,
    pub depth: i32,
    pub position: i32,
    pub max_points: Option<Exact>,
    pub weight: Option<Exact>,
    /// base | adjust
    pub role: crate::states::IndicatorRole,
    /// Owning department (科室) name, inherited from the nearest ancestor naming one.
    pub department: Option<String>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::rubric_version::Entity",
        from = "Column::RubricVersionId",
        to = "super::rubric_version::Column::Id"
    )]
    RubricVersion,
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
}

impl Related<super::rubric_version::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RubricVersion.def()
    }
}

impl Related<super::clause::Entity> for Entity {
    fn to() -> RelationDef {
        super::clause::Relation::Indicator.def().rev()
    }
}

impl Related<super::indicator_group::Entity> for Entity {
    fn to() -> RelationDef {
        super::indicator_group::Relation::Indicator.def().rev()
    }
}

impl ActiveModelBehavior for ActiveModel {}
