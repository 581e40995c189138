//! One fact entered against a rule for a unit in a run (扣分/加分记录).
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "observation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub score_run_id: i64,
    pub unit_id: i64,
    pub rule_id: i64,
    /// JSON object text: count, actual, level, grade, rate, amount, flag…
    pub facts: String,
    pub note: Option<String>,
    /// active | superseded | withdrawn
    pub status: crate::states::ObservationStatus,
    pub supersedes_id: Option<i64>,
    pub work_key: Option<String>,
    pub document_date: Option<Date>,
    pub entered_by: Option<i64>,
    pub entered_at: DateTimeUtc,
    pub idempotency_key: Option<String>,
    pub version: i32,
    /// Halving reason (折半), one the rule allows.
    pub halve: Option<String>,
    /// First row of its lineage (corrections, amendment copies, carried
    /// rows); none when it is its own origin.
    pub origin_id: Option<i64>,
    /// The row in an earlier period's run this one was carried from (下发文件滞后).
    pub carried_from_id: Option<i64>,
    /// The first row of the `recordObservations` call that wrote it.
    pub batch_id: Option<i64>,
}

impl Model {
    /// The lineage this row belongs to (its origin, or itself).
    pub fn lineage(&self) -> i64 {
        self.origin_id.unwrap_or(self.id)
    }
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
    #[sea_orm(belongs_to = "Entity", from = "Column::SupersedesId", to = "Column::Id")]
    Supersedes,
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::EnteredBy", to = "super::app_user::Column::Id")]
    EnteredBy,
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

impl Related<super::app_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EnteredBy.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
