//! A unit's score for one section (or indicator) in a run.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "result_section")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub score_run_id: i64,
    pub unit_id: i64,
    pub indicator_id: i64,
    pub score: Exact,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::score_run::Entity",
        from = "Column::ScoreRunId",
        to = "super::score_run::Column::Id"
    )]
    ScoreRun,
    #[sea_orm(belongs_to = "super::unit::Entity", from = "Column::UnitId", to = "super::unit::Column::Id")]
    Unit,
    #[sea_orm(
        belongs_to = "super::indicator::Entity",
        from = "Column::IndicatorId",
        to = "super::indicator::Column::Id"
    )]
    Indicator,
}

impl Related<super::score_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ScoreRun.def()
    }
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl Related<super::indicator::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Indicator.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
