//! A sign-in session (登录会话): made by a login, carried by its refresh
//! tokens (`family`) and named in its access tokens (`sid`). Ended by a
//! logout or by a replayed refresh token; over after its absolute lifetime
//! (from `started_at`) however often it was refreshed.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The `refresh_token.family` of its refresh tokens.
    #[sea_orm(unique)]
    pub family: String,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// `logout` | `replay` | `password_reset` | `deactivated`
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::app_user::Entity", from = "Column::UserId", to = "super::app_user::Column::Id")]
    User,
}

impl Related<super::app_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
