use async_graphql::{Context, ID, Object};
use entity::{department, organisation};

use super::connection::{connection, page_of};
use super::errors::GqlResult;
use super::plain::{self, Answered, PageTypes};
use super::rubric::RubricConnection;
use super::unit::UnitConnection;
use super::{IdKind, parse_id, to_id};
use super::{Rubric, Unit, env};
use crate::unit::UnitFilter;
use kaohe_service::paging::Totals as _;

/// An assessing organisation (考核组织): the tenant that owns departments, units and rubrics.
pub struct Organisation(pub organisation::Model);

/// An assessing organisation (考核组织): the tenant that owns departments, units and rubrics.
#[Object]
impl Organisation {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Organisation, self.0.id)
    }

    /// Stable code (组织代码), e.g. `chengkou`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name (名称), e.g. 城口县教委.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Its departments (科室), in creation order; names are unique inside the organisation only.
    async fn departments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<DepartmentConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = crate::organisation::departments(db, caller, self.0.id, p).await.gql()?;
        Ok(DepartmentConnection::build(paged, Department))
    }

    /// Its assessed units (被考核单位), in creation order, filtered by kind,
    /// state, parent or a text in the name or code.
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only units of this kind (类型), e.g. `county`.")] kind: Option<String>,
        #[graphql(desc = "Only active (在用, true) or deactivated (已停用, false) units.")] active: Option<bool>,
        #[graphql(desc = "Only the units directly under this one (下级单位).")] parent_id: Option<ID>,
        #[graphql(desc = "Only units whose name or code contains this text (模糊查询); `%` and `_` match themselves.")]
        search: Option<String>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<Answered<UnitConnection>> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let parent_id = parent_id.map(|i| parse_id(&i, IdKind::Unit)).transpose()?;
        let filter = UnitFilter { kind, active, parent_id, search };
        // The total of the same list at the same generation is known (`kept`):
        // only for the caller's own organisation, whose generation it follows.
        // Every caller of the organisation sees the same units; were the list
        // ever narrowed per role, the role would belong in the key.
        let totals = super::kept::Totals::of(ctx, self.0.id);
        let what = format!("units:{}:{filter:?}", self.0.id);
        let p = totals.known(&what, p);
        let keep = |total: u64| totals.read(&what, p, total);
        if let Some(shape) = plain::shape_of(ctx).filter(|s| super::unit::UnitIn::takes(s, &["edges", "node"])) {
            // The plain path: only the short columns asked, written straight.
            let paged = crate::unit::list_rows(db, caller, self.0.id, filter.clone(), p).await.gql()?;
            keep(paged.total);
            let rows: Vec<_> =
                paged.rows.iter().map(|row| super::unit::UnitIn { row, organisation: &self.0 }).collect();
            if let Some(answer) = plain::answer_page(ctx, &UNIT_PAGE, &rows, paged.offset, paged.total, &shape) {
                return Ok(answer);
            }
        }
        let paged = crate::unit::list(db, caller, self.0.id, filter, p).await.gql()?;
        keep(paged.total);
        super::loader::known_organisation(ctx, &self.0).await;
        Ok(Answered::Normal(UnitConnection::build(paged, Unit)))
    }

    /// Its rubrics (考核细则), by code.
    async fn rubrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<RubricConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = crate::rubric::query::list(db, caller, self.0.id, p).await.gql()?;
        Ok(RubricConnection::build(paged, Rubric))
    }
}

/// The names a page of units is written under (`plain::page`).
const UNIT_PAGE: PageTypes = PageTypes { connection: "UnitConnection", edge: "UnitEdge" };

connection!(OrganisationConnection, OrganisationEdge, Organisation, "organisations (考核组织)");
connection!(DepartmentConnection, DepartmentEdge, Department, "departments (科室)");

/// A department (科室) of an organisation, e.g. 秘书科; it owns indicators and scores them.
pub struct Department(pub department::Model);

/// A department (科室) of an organisation, e.g. 秘书科; it owns indicators and scores them.
#[Object]
impl Department {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Department, self.0.id)
    }

    /// Name (科室名称).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether it is in use (在用); a deactivated department (已停用) takes no new heads.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// Version for optimistic concurrency (乐观锁版本); pass it to the department mutations.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The organisation (考核组织) it belongs to.
    async fn organisation(&self, ctx: &Context<'_>) -> async_graphql::Result<Organisation> {
        Ok(Organisation(super::loader::organisation(ctx, self.0.organisation_id).await?))
    }
}

/// The plain path (`plain`): an organisation's own columns, as `Organisation` writes them.
impl plain::Plain for organisation::Model {
    const TYPE: &'static str = "Organisation";

    fn field(&self, name: &str, _: Option<&plain::Shape<'_>>) -> Option<async_graphql::Value> {
        Some(match name {
            "id" => plain::scalar(&to_id(IdKind::Organisation, self.id)),
            "code" => plain::scalar(&self.code),
            "name" => plain::scalar(&self.name),
            _ => return None,
        })
    }
}
