//! Per-request batch loaders (one per key type, a map by id; missing keys
//! resolve to nothing). Created in the HTTP handler for each request with its
//! caller, so nothing is cached across requests or callers.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{organisation, rule, unit};
use sea_orm::DatabaseConnection;

use super::env;
use super::errors::{GqlResult, IntoGql};
use crate::caller::Caller;
use kaohe_service::ServiceError;

/// An organisation id to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrganisationKey(pub i64);

/// A unit id to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnitKey(pub i64);

/// A rule id to load (an observation's rule code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RuleKey(pub i64);

/// Loads rows by id for one request.
pub struct Loaders {
    db: DatabaseConnection,
    caller: Caller,
}

/// The loader attached to each request.
pub type RequestLoader = DataLoader<Loaders, HashMapCache>;

/// A loader for one request (`tokio::spawn` runs its batches).
pub fn for_request(db: DatabaseConnection, caller: Caller) -> RequestLoader {
    // Cached for the request only: 1,000 units of one organisation ask for it
    // once, not once per batch window.
    DataLoader::with_cache(Loaders { db, caller }, tokio::spawn, HashMapCache::default())
}

impl Loader<OrganisationKey> for Loaders {
    type Value = organisation::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[OrganisationKey]) -> Result<HashMap<OrganisationKey, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = crate::organisation::by_ids(&self.db, &self.caller, &ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (OrganisationKey(r.id), r)).collect())
    }
}

impl Loader<UnitKey> for Loaders {
    type Value = unit::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[UnitKey]) -> Result<HashMap<UnitKey, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = crate::unit::by_ids(&self.db, &self.caller, &ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (UnitKey(r.id), r)).collect())
    }
}

impl Loader<RuleKey> for Loaders {
    type Value = rule::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[RuleKey]) -> Result<HashMap<RuleKey, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = crate::rubric::query::rules_by_ids(&self.db, &self.caller, &ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (RuleKey(r.id), r)).collect())
    }
}

fn gql(e: Arc<ServiceError>) -> async_graphql::Error {
    super::errors::gql_error(&e)
}

/// An organisation by id, batched when the request has a loader.
pub async fn organisation(ctx: &Context<'_>, id: i64) -> async_graphql::Result<organisation::Model> {
    if let Ok(loader) = ctx.data::<RequestLoader>() {
        return loader
            .load_one(OrganisationKey(id))
            .await
            .map_err(gql)?
            .ok_or_else(|| ServiceError::not_found("organisation").into_gql());
    }
    let (db, caller) = env(ctx)?;
    crate::organisation::by_id(db, caller, id).await.gql()
}

/// Hands the request's loader an organisation already read, so that rows
/// listed under it (`Organisation.units { organisation }`) find it without
/// a statement. Only rows this request read for its own caller go in.
pub async fn known_organisation(ctx: &Context<'_>, org: &organisation::Model) {
    if let Ok(loader) = ctx.data::<RequestLoader>() {
        loader.feed_one(OrganisationKey(org.id), org.clone()).await;
    }
}

/// A unit by id, batched when the request has a loader.
pub async fn unit(ctx: &Context<'_>, id: i64) -> async_graphql::Result<unit::Model> {
    if let Ok(loader) = ctx.data::<RequestLoader>() {
        return loader
            .load_one(UnitKey(id))
            .await
            .map_err(gql)?
            .ok_or_else(|| ServiceError::not_found("unit").into_gql());
    }
    let (db, caller) = env(ctx)?;
    crate::unit::by_id(db, caller, id).await.gql()
}

/// Loads in one batch the units of rows a list is about to return, when the
/// query asks for their `unit` (the batch window alone can split a list of
/// 1,000 into several), and hands them back by id: a row holding its unit
/// answers `unit` without going through the loader again (1,000 rows of a
/// ranking: 1,000 look-ups saved).
pub async fn prime_units(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i64>,
) -> async_graphql::Result<HashMap<i64, Arc<unit::Model>>> {
    let Ok(loader) = ctx.data::<RequestLoader>() else {
        return Ok(HashMap::new());
    };
    let found = loader.load_many(ids.into_iter().map(UnitKey)).await.map_err(gql)?;
    Ok(found.into_iter().map(|(k, v)| (k.0, Arc::new(v))).collect())
}

/// Loads in one batch the organisations of `units` when a list asks for
/// `unit { organisation }` (else the batch window can split 1,000 look-ups
/// of the same few organisations into many statements on a busy machine).
pub async fn prime_organisations(
    ctx: &Context<'_>,
    units: &HashMap<i64, Arc<unit::Model>>,
) -> async_graphql::Result<()> {
    let Ok(loader) = ctx.data::<RequestLoader>() else {
        return Ok(());
    };
    let ids: std::collections::BTreeSet<i64> = units.values().map(|u| u.organisation_id).collect();
    loader.load_many(ids.into_iter().map(OrganisationKey)).await.map_err(gql)?;
    Ok(())
}

/// A rule by id, batched when the request has a loader.
pub async fn rule(ctx: &Context<'_>, id: i64) -> async_graphql::Result<rule::Model> {
    if let Some(rule) = super::kept::get::<rule::Model>(ctx, id) {
        crate::policy::may_read(env(ctx)?.1).gql()?;
        return Ok(rule);
    }
    let found = if let Ok(loader) = ctx.data::<RequestLoader>() {
        loader.load_one(RuleKey(id)).await.map_err(gql)?
    } else {
        let (db, caller) = env(ctx)?;
        crate::rubric::query::rules_by_ids(db, caller, &[id]).await.gql()?.pop()
    };
    let rule = found.ok_or_else(|| ServiceError::not_found("rule").into_gql())?;
    super::kept::keep(ctx, &rule);
    Ok(rule)
}
