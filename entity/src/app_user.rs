//! A person or service that signs in (用户).
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub department_id: Option<i64>,
    pub unit_id: Option<i64>,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    /// admin | department | unit | service
    pub role: String,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    /// Set when an admin created the account or reset its password: every
    /// request but `changePassword` is refused until the user picks its own.
    pub must_change_password: bool,
    pub updated_at: Option<DateTimeUtc>,
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
        belongs_to = "super::department::Entity",
        from = "Column::DepartmentId",
        to = "super::department::Column::Id"
    )]
    Department,
    #[sea_orm(belongs_to = "super::unit::Entity", from = "Column::UnitId", to = "super::unit::Column::Id")]
    Unit,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl Related<super::department::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Department.def()
    }
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
