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
    pub period_kind: String,
    /// "2026" or "2026-03"
    pub period: String,
    pub title: String,
    /// open | review | published | superseded
    pub status: String,
    pub revision: i32,
    pub replaces_run_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
