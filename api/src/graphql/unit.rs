use async_graphql::{Context, ID, Json, Object};
use entity::unit;

use super::{Kind, to_id};
use super::{Organisation, env};
use crate::error::GqlResult;

/// An assessed unit (被考核单位): a school, a county, a city department.
pub struct Unit(pub unit::Model);

/// An assessed unit (被考核单位): a school, a county, a city department.
#[Object]
impl Unit {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::Unit, self.0.id)
    }

    /// Code (单位代码), unique inside its organisation.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name (单位名称).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Kind (单位类型): `school`, `teacher_training_school`, `county`, `city_department`, ….
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// Attributes rules may need (单位属性), e.g. `subordinate_to_education_authority` for 折半.
    async fn attributes(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.attributes).unwrap_or(serde_json::Value::Null))
    }

    /// Whether the unit is still assessed (在用).
    async fn active(&self) -> bool {
        self.0.active
    }

    /// The organisation (考核组织) that assesses it.
    async fn organisation(&self, ctx: &Context<'_>) -> async_graphql::Result<Organisation> {
        Ok(Organisation(super::loader::organisation(ctx, self.0.organisation_id).await?))
    }

    /// The parent unit (上级单位), if any.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        let Some(pid) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(Some(Unit(super::loader::unit(ctx, pid).await?)))
    }

    /// Units under this one (下级单位).
    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let (db, caller) = env(ctx)?;
        let list = crate::unit::children(db, caller, self.0.id).await.gql()?;
        Ok(list.into_iter().map(Unit).collect())
    }
}
