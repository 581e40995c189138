//! A heading over an indicator's clauses, with an optional cap.
use sea_orm::entity::prelude::*;
#[allow(unused_imports)]
use crate::Exact;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_group")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub indicator_id: i64,
    pub key: String,
    pub title: String,
    pub text: Option<String>,
    pub cap: Option<Exact>,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
