//! The GraphQL schema: thin resolvers over the service modules.

mod accounts;
mod audit;
mod claims;
mod codes;
mod connection;
mod drafts;
mod entry_sheets;
pub mod errors;
mod evidence;
pub mod ids;
mod kept;
pub mod loader;
mod node;
mod nulls;
mod observations;
mod organisation;
pub mod permissions;
mod plain;
mod results;
mod rubric;
mod scalars;
mod score_runs;
mod session;
mod signin;
pub mod states;
mod unit;
mod webhooks;
pub mod writes;
pub mod written;

use async_graphql::{Context, EmptySubscription, ID, MergedObject, Object, Schema};
use sea_orm::DatabaseConnection;

use crate::audit::ChainKey;
use crate::caller::Caller;
use errors::GqlResult;

pub(crate) use errors::known_code;
pub(crate) use ids::{IdKind, parse_id, to_id};

pub use accounts::{AccountMutation, AccountQuery, User};
pub use drafts::RubricDraftMutation;
pub use node::Node;
pub use organisation::{Department, Organisation, OrganisationConnection};
pub use rubric::{Clause, Indicator, Rubric, RubricVersion, Rule};
pub use score_runs::ScoreRun;
pub use session::{PolicyMutation, SessionMutation};
pub use unit::{Unit, UnitMutation};

/// The schema served at `/graphql`.
pub type KaoheSchema = Schema<Query, Mutation, EmptySubscription>;

/// Writes (变更): the score-run lifecycle, rubric drafts, evidence uploads, unit administration, sign-in and policy administration, accounts and departments, and webhooks.
#[derive(MergedObject, Default)]
pub struct Mutation(
    score_runs::ScoreRunMutation,
    observations::ObservationMutation,
    entry_sheets::EntrySheetMutation,
    score_runs::LifecycleMutation,
    claims::ClaimMutation,
    RubricDraftMutation,
    evidence::EvidenceMutation,
    UnitMutation,
    SessionMutation,
    PolicyMutation,
    AccountMutation,
    webhooks::WebhookMutation,
);

/// Largest query depth accepted: a second line behind the gate (which
/// alone bounds size and cost, so there is one cost figure).
pub const MAX_DEPTH: usize = 16;

/// What the schema serves with: the database, the evidence files and the
/// key that seals the audit chain.
#[derive(Clone)]
pub struct SchemaData {
    pub db: DatabaseConnection,
    pub evidence: crate::evidence::EvidenceStore,
    pub chain_key: ChainKey,
    /// Where webhook endpoints may point.
    pub webhook_addresses: std::sync::Arc<kaohe_service::webhooks::address::AddressPolicy>,
    /// The application's metrics (sign-ins, publications).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// The server's two schemas: the same types over the same data and the same
/// caches. `checked` does not validate (`ValidationMode::Trusted`, added to
/// our copy of async-graphql: `vendor/README.md`) and serves only operations
/// whose text, operation name and variables validated clean on this server
/// before (the gate remembers them): validation reads nothing else, so its
/// answer would be the same. It was a tenth of a department head's page with
/// every rule, and still 8% of its instructions with `Fast`, which walks the
/// document for cost, depth and cache hints (issue 18).
pub struct Schemas {
    pub strict: KaoheSchema,
    pub checked: KaoheSchema,
}

/// The caches resolvers keep across requests, one set for both schemas.
#[derive(Clone, Default)]
struct Caches {
    ranking: std::sync::Arc<crate::runs::results::RankingCache>,
    written: std::sync::Arc<written::Written>,
    kept: std::sync::Arc<kept::Kept>,
}

/// Builds the schemas once; the caller is added per request.
pub fn build_schemas(data: Option<SchemaData>) -> Schemas {
    let caches = Caches::default();
    Schemas {
        strict: build(async_graphql::ValidationMode::Strict, &caches, data.clone()),
        checked: build(async_graphql::ValidationMode::Trusted, &caches, data),
    }
}

/// The validating schema alone (the SDL, tests).
pub fn build_schema(data: Option<SchemaData>) -> KaoheSchema {
    build(async_graphql::ValidationMode::Strict, &Caches::default(), data)
}

fn build(mode: async_graphql::ValidationMode, caches: &Caches, data: Option<SchemaData>) -> KaoheSchema {
    let mut b = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .validation_mode(mode)
        .limit_depth(MAX_DEPTH)
        .limit_recursive_depth(32)
        .disable_suggestions()
        .override_output_type_description::<rust_decimal::Decimal>(scalars::DECIMAL)
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(scalars::DATE_TIME)
        .override_output_type_description::<async_graphql::Json<serde_json::Value>>(scalars::JSON)
        // The one extension (see `nulls`): null propagation, the sign-in
        // refusals and the error codes, one hook around each field.
        .extension(nulls::SpecNulls)
        .data(caches.ranking.clone())
        .data(caches.written.clone())
        .data(caches.kept.clone());
    if let Some(SchemaData { db, evidence, chain_key, webhook_addresses, metrics }) = data {
        b = b.data(db).data(evidence).data(chain_key).data(webhook_addresses).data(metrics);
    }
    b.finish()
}

/// The schema's SDL, as kept in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None).sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// The database and the caller of the current request.
pub(crate) fn env<'a>(ctx: &Context<'a>) -> async_graphql::Result<(&'a DatabaseConnection, &'a Caller)> {
    Ok((ctx.data::<DatabaseConnection>()?, ctx.data::<Caller>()?))
}

/// The database, the audit key and the caller, for resolvers that write
/// (every write appends to the audit chain) or check the chain.
pub(crate) fn write_env<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<(&'a DatabaseConnection, &'a ChainKey, &'a Caller)> {
    Ok((ctx.data::<DatabaseConnection>()?, ctx.data::<ChainKey>()?, ctx.data::<Caller>()?))
}

/// Read-only entry points (查询).
#[derive(MergedObject, Default)]
pub struct Query(
    ReferenceQuery,
    score_runs::ScoreRunQuery,
    claims::ClaimQuery,
    results::ResultQuery,
    audit::AuditQuery,
    node::NodeQuery,
    AccountQuery,
    webhooks::WebhookQuery,
);

/// Reference data: organisations, units, rubrics (基础数据).
#[derive(Default)]
pub struct ReferenceQuery;

/// Reference data: organisations, units, rubrics (基础数据).
#[Object]
impl ReferenceQuery {
    /// The assessing organisations (考核组织), e.g. 城口县教委, 许昌市委教育工作领导小组, in creation order.
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<OrganisationConnection> {
        let p = connection::page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = crate::organisation::list(db, caller, p).await.gql()?;
        Ok(OrganisationConnection::build(paged, Organisation))
    }

    /// One organisation (考核组织) by its code (`chengkou`, `xuchang`); NOT_FOUND if none.
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Organisation code (组织代码).")] code: String,
    ) -> async_graphql::Result<Option<Organisation>> {
        let (db, caller) = env(ctx)?;
        let pulse = &ctx.data::<std::sync::Arc<crate::auth::AuthState>>()?.pulse;
        let org = crate::organisation::by_code_kept(db, caller, pulse, &code).await.gql()?;
        Ok(Some(Organisation(org)))
    }

    /// One assessed unit (被考核单位) by id; NOT_FOUND if none.
    async fn unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unit id.")] id: ID,
    ) -> async_graphql::Result<Option<Unit>> {
        let (db, caller) = env(ctx)?;
        let id = parse_id(&id, IdKind::Unit)?;
        Ok(Some(Unit(crate::unit::by_id(db, caller, id).await.gql()?)))
    }

    /// One rubric version (考核细则版本) by id; NOT_FOUND if none.
    async fn rubric_version(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Rubric version id.")] id: ID,
    ) -> async_graphql::Result<Option<RubricVersion>> {
        let (db, caller) = env(ctx)?;
        let id = parse_id(&id, IdKind::RubricVersion)?;
        let v = crate::rubric::query::version_by_id(db, caller, id).await.gql()?;
        Ok(Some(RubricVersion::new(v)))
    }
}

/// The computed-ranking cache both schemas share.
pub(crate) fn ranking_cache<'a>(ctx: &Context<'a>) -> Option<&'a crate::runs::results::RankingCache> {
    ctx.data_opt::<std::sync::Arc<crate::runs::results::RankingCache>>().map(|c| c.as_ref())
}
