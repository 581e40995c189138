//! Endpoints (推送地址) and their deliveries, for the organisation's admin
//! (the policy's `webhooks admin`; `role:admin` holds `*`). Another
//! organisation's endpoint or delivery is NOT_FOUND; a department head, a
//! unit or an integration is FORBIDDEN; an anonymous caller is refused before
//! anything is looked up. Every change is one transaction with its audit
//! entry; secrets never enter the audit log.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::address::AddressPolicy;
use super::{EventType, signature, status};
use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::paging::{self, Page, Paged};
use crate::{db, idempotency, policy};

/// Active endpoints one organisation may have.
pub const MAX_ACTIVE_ENDPOINTS: u64 = 20;
/// How long a rotated-out secret still signs (both signatures are sent).
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// Attempts listed with a delivery (the newest).
pub const ATTEMPTS_SHOWN: usize = 20;

/// The event types an endpoint row subscribes to.
pub fn events_of(e: &webhook_endpoint::Model) -> Vec<EventType> {
    serde_json::from_str::<Vec<String>>(&e.events)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| EventType::parse(n))
        .collect()
}

/// What registering an endpoint takes.
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The caller's organisation, if it may administer its webhooks.
fn own_organisation(caller: &Caller) -> Result<(i64, policy::Authorized), ServiceError> {
    policy::signed_in(caller)?;
    let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
    Ok((org, policy::may_administer_webhooks(caller, org)?))
}

/// An endpoint by id, for its organisation's admin.
async fn endpoint_for<C: sea_orm::ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: i64,
) -> Result<webhook_endpoint::Model, ServiceError> {
    policy::signed_in(caller)?;
    let e = webhook_endpoint::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook endpoint"))?;
    policy::may_administer_webhooks(caller, e.organisation_id).map_err(|err| err.not_found_as("webhook endpoint"))?;
    Ok(e)
}

fn snapshot(e: &webhook_endpoint::Model) -> serde_json::Value {
    json!({ "url": e.url, "events": events_of(e).iter().map(|t| t.name()).collect::<Vec<_>>(),
            "description": e.description, "active": e.active, "version": e.version })
}

/// Registers an endpoint of the caller's organisation; answers it with its
/// secret (shown to the admin now, and to a retry with the same idempotency key).
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    addresses: &AddressPolicy,
    input: NewEndpoint,
) -> Result<(webhook_endpoint::Model, String), ServiceError> {
    let (org, authorized) = own_organisation(caller)?;
    let mut events: Vec<&str> = input.events.iter().map(|e| e.name()).collect();
    events.sort_unstable();
    events.dedup();
    let description = input.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    let params = json!({ "url": input.url.trim(), "events": events, "description": description });
    let key = idempotency::key(&authorized, "createWebhookEndpoint", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        let e = webhook_endpoint::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::not_found("webhook endpoint"))?;
        let secret = e.secret.clone();
        return Ok((e, secret));
    }
    let url = addresses.check_url(&input.url).map_err(|e| ServiceError::BadUserInput(format!("`url`: {e}")))?;
    if events.is_empty() {
        return Err(ServiceError::BadUserInput("`events`: subscribe to at least one event".into()));
    }
    if description.as_ref().is_some_and(|d| d.chars().count() > 500) {
        return Err(ServiceError::BadUserInput("`description`: at most 500 characters".into()));
    }
    let txn = db::begin_write(db).await?;
    let active = sea_orm::PaginatorTrait::count(
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::OrganisationId.eq(org))
            .filter(webhook_endpoint::Column::Active.eq(true)),
        &txn,
    )
    .await?;
    if active >= MAX_ACTIVE_ENDPOINTS {
        return Err(ServiceError::BadUserInput(format!(
            "an organisation has at most {MAX_ACTIVE_ENDPOINTS} active endpoints; disable one first"
        )));
    }
    let secret = signature::new_secret();
    let e = webhook_endpoint::ActiveModel {
        organisation_id: Set(org),
        url: Set(url.to_string()),
        description: Set(description),
        events: Set(serde_json::to_string(&events).map_err(ServiceError::internal)?),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        active: Set(true),
        created_by: Set(caller.user_id()),
        created_at: Set(Utc::now()),
        disabled_at: Set(None),
        version: Set(1),
        sending_delivery_id: Set(None),
        sending_until: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idempotency::remember(&txn, key.as_ref(), e.id).await?;
    let entry = Entry {
        organisation_id: Some(org),
        action: "webhook_endpoint.create",
        entity: "webhook_endpoint",
        entity_id: Some(e.id.to_string()),
        before: None,
        after: Some(snapshot(&e)),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok((e, secret))
}

/// The caller's organisation's endpoints, oldest first (admin only).
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    page: Page,
) -> Result<Paged<webhook_endpoint::Model>, ServiceError> {
    let (org, _) = own_organisation(caller)?;
    let q = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganisationId.eq(org))
        .order_by_asc(webhook_endpoint::Column::Id);
    paging::fetch(db, q, page).await
}

/// Disables an endpoint: nothing more is sent to it, and its deliveries
/// still waiting are cancelled (one being sent finishes). Disabling a
/// disabled endpoint changes nothing.
#[tracing::instrument(skip_all, fields(endpoint_id = id))]
pub async fn disable(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
) -> Result<webhook_endpoint::Model, ServiceError> {
    let txn = db::begin_write(db).await?;
    let e = endpoint_for(&txn, caller, id).await?;
    if !e.active {
        return Ok(e);
    }
    let now = Utc::now();
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledAt, Expr::value(now))
        .col_expr(webhook_endpoint::Column::Version, Expr::col(webhook_endpoint::Column::Version).add(1))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let cancelled = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status::CANCELLED))
        .col_expr(webhook_delivery::Column::CompletedAt, Expr::value(now))
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .filter(webhook_delivery::Column::Status.eq(status::PENDING))
        .exec(&txn)
        .await?;
    let after = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook endpoint"))?;
    let entry = Entry {
        organisation_id: Some(e.organisation_id),
        action: "webhook_endpoint.disable",
        entity: "webhook_endpoint",
        entity_id: Some(id.to_string()),
        before: Some(snapshot(&e)),
        after: Some(json!({ "endpoint": snapshot(&after), "deliveries_cancelled": cancelled.rows_affected })),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok(after)
}

/// Gives an active endpoint a new secret (answered now, once). The old
/// secret keeps signing, beside the new one, for 24 hours, so a receiver can
/// switch without losing a delivery.
#[tracing::instrument(skip_all, fields(endpoint_id = id))]
pub async fn rotate_secret(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
) -> Result<(webhook_endpoint::Model, String), ServiceError> {
    let txn = db::begin_write(db).await?;
    let e = endpoint_for(&txn, caller, id).await?;
    if !e.active {
        return Err(ServiceError::Conflict("the webhook endpoint is disabled".into()));
    }
    let secret = signature::new_secret();
    let until = Utc::now() + Duration::hours(ROTATION_OVERLAP_HOURS);
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::PreviousSecret, Expr::value(e.secret.clone()))
        .col_expr(webhook_endpoint::Column::PreviousSecretUntil, Expr::value(until))
        .col_expr(webhook_endpoint::Column::Secret, Expr::value(secret.clone()))
        .col_expr(webhook_endpoint::Column::Version, Expr::col(webhook_endpoint::Column::Version).add(1))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let after = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook endpoint"))?;
    let entry = Entry {
        organisation_id: Some(e.organisation_id),
        action: "webhook_endpoint.rotate_secret",
        entity: "webhook_endpoint",
        entity_id: Some(id.to_string()),
        before: Some(json!({ "version": e.version })),
        after: Some(json!({ "version": after.version, "previous_secret_until": until })),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok((after, secret))
}

/// A delivery with its event and its newest attempts.
#[derive(Clone, Debug)]
pub struct DeliveryView {
    pub delivery: webhook_delivery::Model,
    pub event: webhook_event::Model,
    /// Newest first, at most [`ATTEMPTS_SHOWN`].
    pub attempts: Vec<webhook_attempt::Model>,
}

/// Which deliveries to list.
#[derive(Default)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<i64>,
    pub status: Option<String>,
}

/// The caller's organisation's deliveries, newest first (admin only).
pub async fn deliveries(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: DeliveryFilter,
    page: Page,
) -> Result<Paged<DeliveryView>, ServiceError> {
    let (org, _) = own_organisation(caller)?;
    let mut q = webhook_delivery::Entity::find().filter(webhook_delivery::Column::OrganisationId.eq(org));
    if let Some(e) = filter.endpoint_id {
        q = q.filter(webhook_delivery::Column::EndpointId.eq(e));
    }
    if let Some(s) = filter.status {
        q = q.filter(webhook_delivery::Column::Status.eq(s));
    }
    let paged = paging::fetch(db, q.order_by_desc(webhook_delivery::Column::Id), page).await?;
    let views = views(db, paged.rows).await?;
    Ok(Paged { rows: views, total: paged.total, offset: paged.offset })
}

async fn views<C: sea_orm::ConnectionTrait>(
    conn: &C,
    rows: Vec<webhook_delivery::Model>,
) -> Result<Vec<DeliveryView>, ServiceError> {
    let event_ids: Vec<i64> = rows.iter().map(|d| d.event_id).collect();
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let events: HashMap<i64, webhook_event::Model> = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut attempts: HashMap<i64, Vec<webhook_attempt::Model>> = HashMap::new();
    for a in webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
        .order_by_desc(webhook_attempt::Column::Id)
        .all(conn)
        .await?
    {
        let list = attempts.entry(a.delivery_id).or_default();
        if list.len() < ATTEMPTS_SHOWN {
            list.push(a);
        }
    }
    rows.into_iter()
        .map(|d| {
            let event = events
                .get(&d.event_id)
                .cloned()
                .ok_or_else(|| ServiceError::Internal(format!("event of delivery {}", d.id).into()))?;
            let attempts = attempts.remove(&d.id).unwrap_or_default();
            Ok(DeliveryView { delivery: d, event, attempts })
        })
        .collect()
}

/// Sends a delivery again from the start of the retry schedule, now (a
/// receiver lost it, or it failed for good). One being sent is a CONFLICT,
/// and so is one of a disabled endpoint.
#[tracing::instrument(skip_all, fields(delivery_id = id))]
pub async fn resend(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
) -> Result<DeliveryView, ServiceError> {
    policy::signed_in(caller)?;
    let txn = db::begin_write(db).await?;
    let d = webhook_delivery::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook delivery"))?;
    policy::may_administer_webhooks(caller, d.organisation_id).map_err(|e| e.not_found_as("webhook delivery"))?;
    let endpoint = webhook_endpoint::Entity::find_by_id(d.endpoint_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook delivery"))?;
    if !endpoint.active {
        return Err(ServiceError::Conflict("the delivery's endpoint is disabled".into()));
    }
    if d.status == status::SENDING {
        return Err(ServiceError::Conflict("the delivery is being sent right now".into()));
    }
    let now = Utc::now();
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status::PENDING))
        .col_expr(webhook_delivery::Column::Step, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::CompletedAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .filter(webhook_delivery::Column::Id.eq(id))
        .filter(webhook_delivery::Column::Status.ne(status::SENDING))
        .exec(&txn)
        .await?;
    let entry = Entry {
        organisation_id: Some(d.organisation_id),
        action: "webhook_delivery.resend",
        entity: "webhook_delivery",
        entity_id: Some(id.to_string()),
        before: Some(json!({ "status": d.status, "attempts": d.attempts })),
        after: Some(json!({ "status": status::PENDING })),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    let row = webhook_delivery::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook delivery"))?;
    let view = views(&txn, vec![row]).await?.pop().ok_or_else(|| ServiceError::not_found("webhook delivery"))?;
    txn.commit().await?;
    Ok(view)
}
