use async_graphql::{Context, ID, Object};
use entity::{department, organisation};

use super::{Kind, to_id};
use super::{Rubric, Unit, env};
use crate::error::GqlResult;

/// An assessing organisation (考核组织): the tenant that owns departments, units and rubrics.
pub struct Organisation(pub organisation::Model);

/// An assessing organisation (考核组织): the tenant that owns departments, units and rubrics.
#[Object]
impl Organisation {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::Organisation, self.0.id)
    }

    /// Stable code (组织代码), e.g. `chengkou`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name (名称), e.g. 城口县教委.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Its departments (科室); names are unique inside the organisation only.
    async fn departments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Department>> {
        let (db, caller) = env(ctx)?;
        let list = crate::organisation::departments(db, caller, self.0.id).await.gql()?;
        Ok(list.into_iter().map(Department).collect())
    }

    /// Its assessed units (被考核单位), optionally only of one kind.
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only units of this kind (类型), e.g. `county`.")] kind: Option<String>,
    ) -> async_graphql::Result<Vec<Unit>> {
        let (db, caller) = env(ctx)?;
        let list = crate::unit::list(db, caller, self.0.id, kind.as_deref()).await.gql()?;
        Ok(list.into_iter().map(Unit).collect())
    }

    /// Its rubrics (考核细则), by code.
    async fn rubrics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Rubric>> {
        let (db, caller) = env(ctx)?;
        let list = crate::rubric::query::list(db, caller, self.0.id).await.gql()?;
        Ok(list.into_iter().map(Rubric).collect())
    }
}

/// A department (科室) of an organisation, e.g. 秘书科; it owns indicators and scores them.
pub struct Department(pub department::Model);

/// A department (科室) of an organisation, e.g. 秘书科; it owns indicators and scores them.
#[Object]
impl Department {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::Department, self.0.id)
    }

    /// Name (科室名称).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The organisation (考核组织) it belongs to.
    async fn organisation(&self, ctx: &Context<'_>) -> async_graphql::Result<Organisation> {
        Ok(Organisation(super::loader::organisation(ctx, self.0.organisation_id).await?))
    }
}
