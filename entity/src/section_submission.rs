//! A department's submission of a section of a run (科室提交).
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "section_submission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub score_run_id: i64,
    pub indicator_id: i64,
    /// open | submitted | returned | accepted
    pub status: crate::states::SubmissionStatus,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::score_run::Entity",
        from = "Column::ScoreRunId",
        to = "super::score_run::Column::Id"
    )]
    ScoreRun,
    #[sea_orm(
        belongs_to = "super::indicator::Entity",
        from = "Column::IndicatorId",
        to = "super::indicator::Column::Id"
    )]
    Indicator,
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::SubmittedBy", to = "super::app_user::Column::Id")]
    SubmittedBy,
}

impl Related<super::score_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ScoreRun.def()
    }
}

impl Related<super::indicator::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Indicator.def()
    }
}

impl Related<super::app_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SubmittedBy.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
