//! Webhooks (推送) for the organisation's admin: endpoints, their secrets,
//! deliveries and their attempts (README, "Webhooks"). Thin: each resolver
//! calls one `kaohe_service::webhooks::endpoints` function. Lists are never
//! answered from the response cache: the delivery worker changes them
//! without an audited write.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_endpoint};
use kaohe_service::webhooks::address::AddressPolicy;
use kaohe_service::webhooks::endpoints::{self, DeliveryFilter, DeliveryView, NewEndpoint};
use kaohe_service::webhooks::{EventType, status};

use super::connection::{connection, page_of};
use super::errors::GqlResult;
use super::{IdKind, env, parse_id, to_id, write_env};

/// An event an endpoint can subscribe to (事件类型). In payloads and
/// `webhookDeliveries` the names are `run.published`, `run.amended`,
/// `run.superseded`.
// The names are the events' (`run.published`, …): each is about a run.
#[allow(clippy::enum_variant_names)]
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookEventType {
    /// A revision of a score run was published (发布): its results are official.
    RunPublished,
    /// A published run is being amended (修订): a new revision was opened; the published one stands until it is published.
    RunAmended,
    /// A published revision was replaced by a newer published one (已被修订).
    RunSuperseded,
}

impl From<WebhookEventType> for EventType {
    fn from(e: WebhookEventType) -> Self {
        match e {
            WebhookEventType::RunPublished => EventType::RunPublished,
            WebhookEventType::RunAmended => EventType::RunAmended,
            WebhookEventType::RunSuperseded => EventType::RunSuperseded,
        }
    }
}

impl From<EventType> for WebhookEventType {
    fn from(e: EventType) -> Self {
        match e {
            EventType::RunPublished => WebhookEventType::RunPublished,
            EventType::RunAmended => WebhookEventType::RunAmended,
            EventType::RunSuperseded => WebhookEventType::RunSuperseded,
        }
    }
}

/// Where a delivery stands (投递状态).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt (`nextAttemptAt`).
    Pending,
    /// Being sent right now.
    Sending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Every attempt of the retry schedule failed; `resendWebhookDelivery` tries again.
    Failed,
    /// The endpoint was disabled before it was sent.
    Cancelled,
}

impl WebhookDeliveryStatus {
    fn of(s: &str) -> WebhookDeliveryStatus {
        match s {
            status::SENDING => WebhookDeliveryStatus::Sending,
            status::SUCCEEDED => WebhookDeliveryStatus::Succeeded,
            status::FAILED => WebhookDeliveryStatus::Failed,
            status::CANCELLED => WebhookDeliveryStatus::Cancelled,
            _ => WebhookDeliveryStatus::Pending,
        }
    }

    fn text(self) -> &'static str {
        match self {
            WebhookDeliveryStatus::Pending => status::PENDING,
            WebhookDeliveryStatus::Sending => status::SENDING,
            WebhookDeliveryStatus::Succeeded => status::SUCCEEDED,
            WebhookDeliveryStatus::Failed => status::FAILED,
            WebhookDeliveryStatus::Cancelled => status::CANCELLED,
        }
    }
}

/// A webhook endpoint (推送地址) of the organisation.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// A webhook endpoint (推送地址) of the organisation.
#[Object]
impl WebhookEndpoint {
    /// Endpoint id.
    async fn id(&self) -> ID {
        to_id(IdKind::WebhookEndpoint, self.0.id)
    }

    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// What it is for (说明).
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The events it receives.
    async fn events(&self) -> Vec<WebhookEventType> {
        endpoints::events_of(&self.0).into_iter().map(Into::into).collect()
    }

    /// False once disabled: nothing more is sent to it.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was disabled, if it was.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// Until when the secret rotated out last still signs beside the current
    /// one (two signatures per delivery); null when no rotation is under way.
    async fn previous_secret_valid_until(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_until.filter(|t| *t > Utc::now())
    }

    /// Changes with every change (disable, rotation).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// An endpoint and its signing secret, shown only in this answer.
#[derive(SimpleObject)]
pub struct WebhookEndpointSecret {
    /// The endpoint.
    endpoint: WebhookEndpoint,
    /// Its signing secret (`whsec_…`, Standard Webhooks): store it now in the receiver; it is not shown again.
    secret: String,
}

/// One attempt to deliver (投递尝试).
pub struct WebhookAttempt(webhook_attempt::Model);

/// One attempt to deliver (投递尝试).
#[Object]
impl WebhookAttempt {
    /// When it was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// How it ended: `succeeded`, `http_error` (a non-2xx answer; redirects are not followed), `timeout`, `network`, `refused` (the address is not allowed) or `interrupted` (its instance stopped before recording the answer).
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }

    /// The HTTP status the endpoint answered, if it answered.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }

    /// How long it took, in milliseconds.
    async fn duration_ms(&self) -> i64 {
        self.0.duration_ms
    }

    /// What went wrong, if anything.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// The first KiB of the endpoint's answer.
    async fn response_body(&self) -> Option<&str> {
        self.0.response_body.as_deref()
    }
}

/// One event to one endpoint (投递).
pub struct WebhookDelivery(DeliveryView);

/// One event to one endpoint (投递).
#[Object]
impl WebhookDelivery {
    /// Delivery id (pass it to `resendWebhookDelivery`).
    async fn id(&self) -> ID {
        to_id(IdKind::WebhookDelivery, self.0.delivery.id)
    }

    /// The endpoint it goes to.
    async fn endpoint_id(&self) -> ID {
        to_id(IdKind::WebhookEndpoint, self.0.delivery.endpoint_id)
    }

    /// The message id sent as `webhook-id` (the same on every attempt: receivers deduplicate by it).
    async fn message_id(&self) -> &str {
        &self.0.event.public_id
    }

    /// The event (`run.published`, `run.amended`, `run.superseded`).
    async fn event_type(&self) -> &str {
        &self.0.event.event_type
    }

    /// The score run the event is about.
    async fn run_id(&self) -> ID {
        to_id(IdKind::ScoreRun, self.0.event.score_run_id)
    }

    /// The JSON body sent, as sent.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.event.payload).unwrap_or(serde_json::Value::Null))
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        WebhookDeliveryStatus::of(&self.0.delivery.status)
    }

    /// Attempts made so far.
    async fn attempt_count(&self) -> i32 {
        self.0.delivery.attempts
    }

    /// When the next attempt is due (pending deliveries).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.delivery.status == status::PENDING).then_some(self.0.delivery.next_attempt_at)
    }

    /// When it succeeded, failed for good or was cancelled.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivery.completed_at
    }

    /// When the event was written (in the publishing transaction).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.delivery.created_at
    }

    /// The newest attempts, newest first (at most 20).
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.0.attempts.iter().cloned().map(WebhookAttempt).collect()
    }
}

connection!(WebhookEndpointConnection, WebhookEndpointEdge, WebhookEndpoint, "webhook endpoints");
connection!(WebhookDeliveryConnection, WebhookDeliveryEdge, WebhookDelivery, "webhook deliveries");

/// Webhook queries (admin only).
#[derive(Default)]
pub struct WebhookQuery;

/// Webhook queries (admin only).
#[Object]
impl WebhookQuery {
    /// The organisation's webhook endpoints (推送地址), oldest first; admin only.
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<WebhookEndpointConnection> {
        crate::http::responses::no_store(ctx);
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = endpoints::list(db, caller, p).await.gql()?;
        Ok(WebhookEndpointConnection::build(paged, WebhookEndpoint))
    }

    /// The organisation's webhook deliveries (投递记录) with their attempts, newest first; admin only.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries to this endpoint.")] endpoint_id: Option<ID>,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<WebhookDeliveryStatus>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        crate::http::responses::no_store(ctx);
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let filter = DeliveryFilter {
            endpoint_id: endpoint_id.map(|i| parse_id(&i, IdKind::WebhookEndpoint)).transpose()?,
            status: status.map(|s| s.text().to_string()),
        };
        let paged = endpoints::deliveries(db, caller, filter, p).await.gql()?;
        Ok(WebhookDeliveryConnection::build(paged, WebhookDelivery))
    }
}

/// Webhook administration (admin only; every change audited).
#[derive(Default)]
pub struct WebhookMutation;

/// Webhook administration (admin only; every change audited).
#[Object]
impl WebhookMutation {
    /// Registers an endpoint (登记推送地址) for the organisation's publications:
    /// `https` (or `http` to a host of `WEBHOOK_ALLOW_HTTP_HOSTS`), a public
    /// address unless allowed. The answer holds its signing secret, shown this once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where to POST events, e.g. `https://yjp.example.gov.cn/kaohe/hooks`.")] url: String,
        #[graphql(desc = "The events to receive (at least one).")] events: Vec<WebhookEventType>,
        #[graphql(desc = "What it is for (说明), at most 500 characters.")] description: Option<String>,
        #[graphql(desc = "Idempotency key (幂等键): a retry with the same key answers the same endpoint.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<WebhookEndpointSecret> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let addresses = ctx.data::<Arc<AddressPolicy>>()?;
        let input =
            NewEndpoint { url, events: events.into_iter().map(Into::into).collect(), description, idempotency_key };
        let (e, secret) = endpoints::create(db, chain_key, caller, addresses, input).await.gql()?;
        Ok(WebhookEndpointSecret { endpoint: WebhookEndpoint(e), secret })
    }

    /// Disables an endpoint (停用): nothing more is sent to it; deliveries still waiting are cancelled.
    async fn disable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Endpoint id.")] id: ID,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::WebhookEndpoint)?;
        Ok(WebhookEndpoint(endpoints::disable(db, chain_key, caller, id).await.gql()?))
    }

    /// Gives an endpoint a new signing secret (更换密钥), shown this once. The
    /// old one keeps signing beside it for 24 hours, so the receiver can switch.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Endpoint id.")] id: ID,
    ) -> async_graphql::Result<WebhookEndpointSecret> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::WebhookEndpoint)?;
        let (e, secret) = endpoints::rotate_secret(db, chain_key, caller, id).await.gql()?;
        Ok(WebhookEndpointSecret { endpoint: WebhookEndpoint(e), secret })
    }

    /// Sends a delivery again (重新投递), now and from the start of the retry schedule.
    async fn resend_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Delivery id.")] id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::WebhookDelivery)?;
        Ok(WebhookDelivery(endpoints::resend(db, chain_key, caller, id).await.gql()?))
    }
}
