//! Assessed units over GraphQL: the `Unit` type, its history, and the
//! mutations that administer units (被考核单位管理).

use async_graphql::{Context, Enum, ID, InputObject, Json, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::{unit, unit_history};

use super::connection::{connection, page_of};
use super::errors::GqlResult;
use super::{IdKind, parse_id, to_id, write_env};
use super::{Organisation, env};
use crate::unit::UnitRow;
use crate::unit::admin::{self, Change, NewUnit, OrganisationRef};
use kaohe_service::ServiceError;

/// An assessed unit (被考核单位): a school, a county, a city department.
pub struct Unit(pub unit::Model);

/// An assessed unit (被考核单位): a school, a county, a city department.
#[Object]
impl Unit {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Unit, self.0.id)
    }

    /// Code (单位代码), unique inside its organisation.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name (单位名称), as it is now; published results keep the name they were scored under.
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

    /// Whether the unit is still assessed (在用); a deactivated one (已停用) cannot join new runs.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// Version for optimistic concurrency (乐观锁版本); pass it to the unit mutations.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it was last changed (更新时间).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
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

    /// Units directly under this one (下级单位), in creation order.
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<UnitConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = crate::unit::children(db, caller, &self.0, p).await.gql()?;
        Ok(UnitConnection::build(paged, Unit))
    }

    /// Its changes (变更记录), oldest first: created, renamed, moved,
    /// deactivated, reactivated. For staff of its organisation.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<UnitChangeConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = crate::unit::history(db, caller, &self.0, p).await.gql()?;
        Ok(UnitChangeConnection::build(paged, UnitChange))
    }
}

connection!(UnitConnection, UnitEdge, Unit, "assessed units (被考核单位)");
connection!(UnitChangeConnection, UnitChangeEdge, UnitChange, "unit changes (单位变更记录)");

/// What a unit change did (变更类型).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum UnitChangeKind {
    /// Created (新增).
    Created,
    /// Renamed (更名).
    Renamed,
    /// Moved under another parent or to the top level (调整隶属关系).
    Moved,
    /// Deactivated (停用).
    Deactivated,
    /// Reactivated (启用).
    Reactivated,
}

impl From<Change> for UnitChangeKind {
    fn from(c: Change) -> Self {
        match c {
            Change::Created => UnitChangeKind::Created,
            Change::Renamed => UnitChangeKind::Renamed,
            Change::Moved => UnitChangeKind::Moved,
            Change::Deactivated => UnitChangeKind::Deactivated,
            Change::Reactivated => UnitChangeKind::Reactivated,
        }
    }
}

/// One change of a unit (单位变更记录): the values before and after, who, when, why.
pub struct UnitChange(pub unit_history::Model);

/// One change of a unit (单位变更记录): the values before and after, who, when, why.
#[Object]
impl UnitChange {
    /// What changed (变更类型).
    async fn change(&self) -> async_graphql::Result<UnitChangeKind> {
        Change::of(&self.0.change)
            .map(UnitChangeKind::from)
            .ok_or_else(|| ServiceError::Internal(format!("unit change {}", self.0.id).into()))
            .gql()
    }

    /// Name before (原名称); absent for a creation.
    async fn name_before(&self) -> Option<&str> {
        self.0.name_before.as_deref()
    }

    /// Name after (新名称).
    async fn name_after(&self) -> &str {
        &self.0.name_after
    }

    /// Parent unit before (原上级单位), if any.
    async fn parent_before_id(&self) -> Option<ID> {
        self.0.parent_before.map(|i| to_id(IdKind::Unit, i))
    }

    /// Parent unit after (新上级单位), if any.
    async fn parent_after_id(&self) -> Option<ID> {
        self.0.parent_after.map(|i| to_id(IdKind::Unit, i))
    }

    /// Whether it was active before (原状态); absent for a creation.
    async fn active_before(&self) -> Option<bool> {
        self.0.active_before
    }

    /// Whether it is active after (新状态).
    async fn active_after(&self) -> bool {
        self.0.active_after
    }

    /// The unit's version after the change (版本).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// Why (原因), for a deactivation.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// Who (操作人).
    async fn actor(&self) -> &str {
        &self.0.actor_label
    }

    /// The user id of the actor, if a user.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|i| to_id(IdKind::User, i))
    }

    /// When (时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// Creating an assessed unit (新增被考核单位). Give the organisation by code or by id.
#[derive(InputObject)]
pub struct CreateUnitInput {
    /// The organisation's code (组织代码), e.g. `xuchang`; or give `organisationId`.
    pub organisation_code: Option<String>,
    /// The organisation's id; or give `organisationCode`.
    pub organisation_id: Option<ID>,
    /// Code (单位代码), unique in the organisation: letters, digits, `-`, `_`, `.`.
    pub code: String,
    /// Name (单位名称).
    pub name: String,
    /// Kind (单位类型), e.g. `county`, `school`.
    pub kind: String,
    /// The parent unit (上级单位), an active unit of the same organisation.
    pub parent_id: Option<ID>,
    /// Attributes (单位属性), a JSON object, e.g. `{"subordinate_to_education_authority": true}`.
    pub attributes: Option<Json<serde_json::Value>>,
    /// The same key twice creates one unit.
    pub idempotency_key: Option<String>,
}

/// Administering assessed units (被考核单位管理); the organisation's admin only.
#[derive(Default)]
pub struct UnitMutation;

/// Administering assessed units (被考核单位管理); the organisation's admin only.
#[Object]
impl UnitMutation {
    /// Creates an assessed unit (新增被考核单位); a code already used in the organisation is a CONFLICT.
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit.")] input: CreateUnitInput,
    ) -> async_graphql::Result<Unit> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let organisation = match (input.organisation_code, input.organisation_id) {
            (Some(code), None) => OrganisationRef::Code(code),
            (None, Some(id)) => OrganisationRef::Id(parse_id(&id, IdKind::Organisation)?),
            _ => {
                return Err(ServiceError::BadUserInput(
                    "give the organisation by `organisationCode` or by `organisationId` (one of them)".into(),
                ))
                .gql();
            }
        };
        let input = NewUnit {
            organisation,
            code: input.code,
            name: input.name,
            kind: input.kind,
            parent_id: input.parent_id.map(|p| parse_id(&p, IdKind::Unit)).transpose()?,
            attributes: input.attributes.map(|a| a.0),
            idempotency_key: input.idempotency_key,
        };
        Ok(Unit(admin::create(db, chain_key, caller, input).await.gql()?))
    }

    /// Renames a unit (更名); results already published keep the old name.
    async fn rename_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit.")] id: ID,
        #[graphql(desc = "The new name (新名称).")] name: String,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Unit> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Unit)?;
        Ok(Unit(admin::rename(db, chain_key, caller, id, &name, expected_version).await.gql()?))
    }

    /// Moves a unit (调整隶属关系) under another unit of its organisation, or to
    /// the top level; a move under itself or its own descendant is refused.
    async fn move_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit.")] id: ID,
        #[graphql(
            desc = "The new parent unit (上级单位), or null for the top level; must be given (omitted: BAD_USER_INPUT)."
        )]
        parent_id: MaybeUndefined<ID>,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Unit> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Unit)?;
        let parent_id = match parent_id {
            MaybeUndefined::Value(p) => Some(parse_id(&p, IdKind::Unit)?),
            MaybeUndefined::Null => None,
            MaybeUndefined::Undefined => {
                return Err(ServiceError::BadUserInput("give `parentId`: a unit, or null for the top level".into()))
                    .gql();
            }
        };
        Ok(Unit(admin::move_to(db, chain_key, caller, id, parent_id, expected_version).await.gql()?))
    }

    /// Deactivates a unit (停用), with a reason: it stays in existing runs and
    /// results, but no new run takes it.
    async fn deactivate_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit.")] id: ID,
        #[graphql(desc = "Why (停用原因); required.")] reason: String,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Unit> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Unit)?;
        Ok(Unit(admin::deactivate(db, chain_key, caller, id, &reason, expected_version).await.gql()?))
    }

    /// Reactivates a deactivated unit (启用).
    async fn reactivate_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Unit> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Unit)?;
        Ok(Unit(admin::reactivate(db, chain_key, caller, id, expected_version).await.gql()?))
    }
}

/// The plain path (`plain`): a unit's own columns, as `Unit` writes them.
impl super::plain::Plain for entity::unit::Model {
    const TYPE: &'static str = "Unit";

    fn field(&self, name: &str, _: Option<&super::plain::Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::scalar;
        Some(match name {
            "id" => scalar(&to_id(IdKind::Unit, self.id)),
            "code" => scalar(&self.code),
            "name" => scalar(&self.name),
            "kind" => scalar(&self.kind),
            "active" => scalar(&self.active),
            "version" => scalar(&self.version),
            "updatedAt" => scalar(&self.updated_at),
            _ => return None,
        })
    }
}

/// A unit of a list read as its short columns ([`UnitRow`]) with its
/// organisation in hand: what the plain path writes for a page of units.
pub(crate) struct UnitIn<'a> {
    pub row: &'a UnitRow,
    pub organisation: &'a entity::organisation::Model,
}

impl UnitIn<'_> {
    /// Its fields `Unit` writes the same from these columns.
    const OWN: [&'static str; 7] = ["__typename", "id", "code", "name", "kind", "active", "version"];
    /// What may be asked of its organisation (its own columns).
    const ORGANISATION: [&'static str; 4] = ["__typename", "id", "code", "name"];

    /// Whether every field `shape` asks of the units at `path` is answered
    /// here (else the rows are read whole, for the normal path).
    pub(crate) fn takes(shape: &super::plain::Shape<'_>, path: &[&str]) -> bool {
        let own = shape.names_under(path);
        let mut deeper = path.to_vec();
        deeper.push("organisation");
        own.iter().all(|n| Self::OWN.contains(n) || *n == "organisation")
            && shape.names_under(&deeper).iter().all(|n| Self::ORGANISATION.contains(n))
    }
}

impl super::plain::Plain for UnitIn<'_> {
    const TYPE: &'static str = "Unit";

    fn field(&self, name: &str, sub: Option<&super::plain::Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{object, scalar};
        let u = self.row;
        Some(match name {
            "id" => scalar(&to_id(IdKind::Unit, u.id)),
            "code" => scalar(&u.code),
            "name" => scalar(&u.name),
            "kind" => scalar(&u.kind),
            "active" => scalar(&u.active),
            "version" => scalar(&u.version),
            "organisation" if self.organisation.id == u.organisation_id => object(self.organisation, sub?)?,
            _ => return None,
        })
    }

    /// As `field`, written without a `Value` (a page of units, issue 18).
    fn write_field(&self, name: &str, sub: Option<&super::plain::Shape<'_>>, out: &mut Vec<u8>) -> Option<()> {
        use super::plain::{write_json, write_object};
        let u = self.row;
        match name {
            "id" => write_json(out, &to_id(IdKind::Unit, u.id).0),
            "code" => write_json(out, &u.code),
            "name" => write_json(out, &u.name),
            "kind" => write_json(out, &u.kind),
            "active" => write_json(out, &u.active),
            "version" => write_json(out, &u.version),
            "organisation" if self.organisation.id == u.organisation_id => write_object(self.organisation, sub?, out),
            _ => None,
        }
    }
}
