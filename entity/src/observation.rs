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
    pub status: String,
    pub supersedes_id: Option<i64>,
    pub work_key: Option<String>,
    pub document_date: Option<Date>,
    pub entered_by: Option<i64>,
    pub entered_at: DateTimeUtc,
    pub idempotency_key: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
