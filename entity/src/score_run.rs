//! A score run (考核批次): one rubric version × one period × units.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "score_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub rubric_version_id: i64,
    /// year | month
    pub period_kind: crate::states::PeriodKind,
    /// "2026" or "2026-03"
    pub period: String,
    pub title: String,
    /// open | review | published | superseded
    pub status: crate::states::RunStatus,
    pub revision: i32,
    pub replaces_run_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub version: i32,
    /// Opening the same key twice returns the same run.
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
    #[sea_orm(
        belongs_to = "super::rubric_version::Entity",
        from = "Column::RubricVersionId",
        to = "super::rubric_version::Column::Id"
    )]
    RubricVersion,
    #[sea_orm(belongs_to = "Entity", from = "Column::ReplacesRunId", to = "Column::Id")]
    ReplacesRun,
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::CreatedBy", to = "super::app_user::Column::Id")]
    CreatedBy,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl Related<super::rubric_version::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RubricVersion.def()
    }
}

impl Related<super::app_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatedBy.def()
    }
}

impl Related<super::score_run_unit::Entity> for Entity {
    fn to() -> RelationDef {
        super::score_run_unit::Relation::ScoreRun.def().rev()
    }
}

impl Related<super::observation::Entity> for Entity {
    fn to() -> RelationDef {
        super::observation::Relation::ScoreRun.def().rev()
    }
}

impl Related<super::claim::Entity> for Entity {
    fn to() -> RelationDef {
        super::claim::Relation::ScoreRun.def().rev()
    }
}

impl Related<super::result::Entity> for Entity {
    fn to() -> RelationDef {
        super::result::Relation::ScoreRun.def().rev()
    }
}

impl Related<super::result_section::Entity> for Entity {
    fn to() -> RelationDef {
        super::result_section::Relation::ScoreRun.def().rev()
    }
}

impl Related<super::section_submission::Entity> for Entity {
    fn to() -> RelationDef {
        super::section_submission::Relation::ScoreRun.def().rev()
    }
}

impl ActiveModelBehavior for ActiveModel {}
