//! An assessing organisation (考核组织, the tenant), e.g. 城口县教委.
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        super::department::Relation::Organisation.def().rev()
    }
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        super::unit::Relation::Organisation.def().rev()
    }
}

impl Related<super::rubric::Entity> for Entity {
    fn to() -> RelationDef {
        super::rubric::Relation::Organisation.def().rev()
    }
}

impl ActiveModelBehavior for ActiveModel {}
