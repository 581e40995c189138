//! One change of a unit (单位变更记录): what changed, the values before and
//! after, who changed it and when.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub organisation_id: i64,
    /// created | renamed | moved | deactivated | reactivated
    pub change: String,
    pub name_before: Option<String>,
    pub name_after: String,
    pub parent_before: Option<i64>,
    pub parent_after: Option<i64>,
    pub active_before: Option<bool>,
    pub active_after: bool,
    /// The unit's version after the change.
    pub version: i32,
    pub reason: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::unit::Entity", from = "Column::UnitId", to = "super::unit::Column::Id")]
    Unit,
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
