//! The machine form of (part of) a clause (评分规则).
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rubric_version_id: i64,
    pub indicator_id: i64,
    pub clause_id: i64,
    pub code: String,
    pub label: Option<String>,
    pub kind: String,
    /// deduct | add
    pub effect: String,
    /// The engine's `RuleKind` serialized as JSON (decimals as strings).
    pub params: String,
    pub cap: Option<Exact>,
    /// JSON array of halving reasons.
    pub halving: String,
    pub highest_only: bool,
    pub defer_late: bool,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::rubric_version::Entity",
        from = "Column::RubricVersionId",
        to = "super::rubric_version::Column::Id"
    )]
    RubricVersion,
    #[sea_orm(
        belongs_to = "super::indicator::Entity",
        from = "Column::IndicatorId",
        to = "super::indicator::Column::Id"
    )]
    Indicator,
    #[sea_orm(belongs_to = "super::clause::Entity", from = "Column::ClauseId", to = "super::clause::Column::Id")]
    Clause,
}

impl Related<super::rubric_version::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RubricVersion.def()
    }
}

impl Related<super::indicator::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Indicator.def()
    }
}

impl Related<super::clause::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clause.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
