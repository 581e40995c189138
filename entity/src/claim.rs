//! A unit's bonus claim (加分申报), counted once approved.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub score_run_id: i64,
    pub unit_id: i64,
    pub rule_id: i64,
    pub facts: String,
    /// pending | approved | rejected
    pub status: crate::states::ClaimStatus,
    pub filed_by: Option<i64>,
    pub decided_by: Option<i64>,
    pub decision_reason: Option<String>,
    pub observation_id: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Filing the same key twice returns the same claim.
    pub idempotency_key: Option<String>,
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
    #[sea_orm(belongs_to = "super::rule::Entity", from = "Column::RuleId", to = "super::rule::Column::Id")]
    Rule,
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::FiledBy", to = "super::app_user::Column::Id")]
    FiledBy,
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::DecidedBy", to = "super::app_user::Column::Id")]
    DecidedBy,
    #[sea_orm(
        belongs_to = "super::observation::Entity",
        from = "Column::ObservationId",
        to = "super::observation::Column::Id"
    )]
    Observation,
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

impl Related<super::rule::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Rule.def()
    }
}

impl Related<super::observation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Observation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
