//! The delivery worker: every instance runs one (unless `WEBHOOK_DELIVERY=off`).
//!
//! Each round it claims due deliveries, at most one per endpoint and at most
//! `WEBHOOK_CONCURRENCY` at once. A claim is a short transaction that locks
//! candidate endpoint rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite
//! has one writer at a time and ignores the clause), takes the endpoint's
//! oldest due delivery, marks it `sending` and gives the endpoint a lease
//! (`sending_delivery_id`, `sending_until` = now + timeout + 30 s). No other
//! instance touches that endpoint while the lease lasts, so each event is sent
//! by one instance and never two deliveries to one endpoint overlap. The
//! attempt runs outside any transaction; its result is recorded in a second
//! one, which frees the endpoint and schedules the next try on failure
//! (`WEBHOOK_RETRY_SCHEDULE`; after the last, `failed`). An instance that
//! stops mid-send leaves the lease to expire; the next claim records that
//! attempt as `interrupted` and sends again: deliveries are at least once, and
//! receivers deduplicate by `webhook-id`.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, NullOrdering, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;
use tracing::instrument::WithSubscriber;

use super::address::{AddressPolicy, GuardedResolver};
use super::{WebhookSettings, signature, status};
use crate::metrics::ServiceMetrics;

/// Bytes of a receiver's answer kept with the attempt.
const BODY_KEPT: usize = 1024;
/// Characters of an error kept with the attempt.
const ERROR_KEPT: usize = 500;

/// One claimed delivery, ready to send.
#[derive(Debug)]
pub struct Job {
    pub delivery: webhook_delivery::Model,
    pub endpoint: webhook_endpoint::Model,
    pub event: webhook_event::Model,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    pub outcome: &'static str,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub body: Option<String>,
    pub duration_ms: i64,
}

pub struct Worker {
    db: DatabaseConnection,
    settings: WebhookSettings,
    addresses: Arc<AddressPolicy>,
    client: reqwest::Client,
    metrics: Option<ServiceMetrics>,
}

/// Why the worker could not be built.
#[derive(Debug, thiserror::Error)]
#[error("webhook HTTP client: {0}")]
pub struct WorkerError(#[from] reqwest::Error);

impl Worker {
    pub fn new(
        db: DatabaseConnection,
        settings: WebhookSettings,
        metrics: Option<ServiceMetrics>,
    ) -> Result<Worker, WorkerError> {
        let addresses = Arc::new(AddressPolicy::new(&settings));
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect is an answer (a failure), never followed: it could point anywhere.
            .redirect(reqwest::redirect::Policy::none())
            // Proxies from the environment would connect for us, past the address check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(addresses.clone())))
            .user_agent(concat!("kaohe-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Worker { db, settings, addresses, client, metrics })
    }

    /// Delivers until dropped: claims what is due every `WEBHOOK_POLL_MS`
    /// (sooner when a delivery finishes), sending at most
    /// `WEBHOOK_CONCURRENCY` at once. Dropping the future stops the sends in
    /// flight; their leases expire and they are sent again.
    pub async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut tasks = JoinSet::new();
        tracing::info!(concurrency = self.settings.concurrency, "webhook delivery worker started");
        loop {
            while tasks.try_join_next().is_some() {}
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                match self.claim(Utc::now(), free as u64).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let Ok(permit) = slots.clone().acquire_owned().await else { return };
                            let worker = self.clone();
                            let span = tracing::info_span!("webhook delivery", delivery_id = job.delivery.id, endpoint_id = job.endpoint.id, event = %job.event.event_type);
                            tasks.spawn(
                                async move {
                                    worker.deliver(job).await;
                                    drop(permit);
                                }
                                .instrument(span)
                                .with_current_subscriber(),
                            );
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot claim webhook deliveries"),
                }
            }
            if claimed > 0 && claimed == free {
                // Every slot was filled: there may be more due at once.
                tokio::task::yield_now().await;
                if !tasks.is_empty() {
                    let _ = tasks.join_next().await;
                }
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }

    /// Claims up to `limit` due deliveries, one per endpoint (see the module).
    pub async fn claim(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Job>, DbErr> {
        let due = Condition::any()
            .add(
                Condition::all()
                    .add(webhook_delivery::Column::Status.eq(status::PENDING))
                    .add(webhook_delivery::Column::NextAttemptAt.lte(now)),
            )
            .add(webhook_delivery::Column::Status.eq(status::SENDING));
        // Most rounds find nothing: a read first, so an idle worker never
        // takes SQLite's write lock.
        let any = webhook_delivery::Entity::find()
            .filter(due.clone())
            .select_only()
            .column(webhook_delivery::Column::Id)
            .limit(1)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let txn = begin(&self.db).await?;
        let with_due = Query::select()
            .column(webhook_delivery::Column::EndpointId)
            .from(webhook_delivery::Entity)
            .cond_where(due.clone())
            .to_owned();
        let endpoints = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Active.eq(true))
            .filter(
                Condition::any()
                    .add(webhook_endpoint::Column::SendingDeliveryId.is_null())
                    .add(webhook_endpoint::Column::SendingUntil.lt(now)),
            )
            .filter(webhook_endpoint::Column::Id.in_subquery(with_due))
            // The endpoint served longest ago first.
            .order_by_with_nulls(webhook_endpoint::Column::SendingUntil, Order::Asc, NullOrdering::First)
            .order_by_asc(webhook_endpoint::Column::Id)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await?;
        let mut jobs = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let Some(delivery) = webhook_delivery::Entity::find()
                .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
                .filter(due.clone())
                .order_by_asc(webhook_delivery::Column::Id)
                .one(&txn)
                .await?
            else {
                continue;
            };
            if delivery.status == status::SENDING {
                // Its instance stopped (or lost the database) before recording the answer.
                record_attempt(
                    &txn,
                    delivery.id,
                    now,
                    &Attempted {
                        outcome: "interrupted",
                        status_code: None,
                        error: Some("the instance sending it stopped before recording the answer".into()),
                        body: None,
                        duration_ms: 0,
                    },
                )
                .await?;
            }
            webhook_delivery::Entity::update_many()
                .col_expr(webhook_delivery::Column::Status, Expr::value(status::SENDING))
                .col_expr(webhook_delivery::Column::Attempts, Expr::col(webhook_delivery::Column::Attempts).add(1))
                .col_expr(webhook_delivery::Column::LastAttemptAt, Expr::value(now))
                .filter(webhook_delivery::Column::Id.eq(delivery.id))
                .exec(&txn)
                .await?;
            let lease = now + chrono::Duration::from_std(self.settings.lease()).unwrap_or(chrono::Duration::minutes(1));
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::SendingDeliveryId, Expr::value(delivery.id))
                .col_expr(webhook_endpoint::Column::SendingUntil, Expr::value(lease))
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&txn)
                .await?;
            let Some(event) = webhook_event::Entity::find_by_id(delivery.event_id).one(&txn).await? else {
                continue;
            };
            let delivery = webhook_delivery::Model {
                status: status::SENDING.into(),
                attempts: delivery.attempts + 1,
                last_attempt_at: Some(now),
                ..delivery
            };
            jobs.push(Job { delivery, endpoint, event });
        }
        txn.commit().await?;
        Ok(jobs)
    }

    /// Sends one claimed delivery and records the attempt.
    pub async fn deliver(&self, job: Job) {
        let attempted = self.send(&job).await;
        tracing::info!(
            outcome = attempted.outcome,
            status = attempted.status_code,
            ms = attempted.duration_ms,
            attempt = job.delivery.attempts,
            "webhook attempt"
        );
        if let Some(m) = &self.metrics {
            m.webhook_attempts.with_label_values(&[attempted.outcome]).inc();
        }
        match self.finish(&job, &attempted, Utc::now()).await {
            Ok(Some(final_status)) => {
                if let Some(m) = &self.metrics {
                    m.webhook_deliveries.with_label_values(&[final_status]).inc();
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot record a webhook attempt; it is sent again after its lease"),
        }
    }

    /// The HTTP request of one attempt.
    pub async fn send(&self, job: &Job) -> Attempted {
        let started = Instant::now();
        let done =
            |outcome: &'static str, status_code: Option<u16>, error: Option<String>, body: Option<String>| Attempted {
                outcome,
                status_code,
                error: error.map(|e| e.chars().take(ERROR_KEPT).collect()),
                body,
                duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            };
        // The rules may have changed since the endpoint was registered.
        let url = match self.addresses.check_url(&job.endpoint.url) {
            Ok(url) => url,
            Err(e) => return done("refused", None, Some(e), None),
        };
        if let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default())
            && let Err(e) = self.addresses.resolve(host, port).await
        {
            return done("refused", None, Some(e), None);
        }
        let now = Utc::now();
        let mut secrets = vec![job.endpoint.secret.as_str()];
        if let (Some(old), Some(until)) = (&job.endpoint.previous_secret, job.endpoint.previous_secret_until)
            && until > now
        {
            secrets.push(old.as_str());
        }
        let timestamp = now.timestamp();
        let body = job.event.payload.as_bytes();
        let Some(signed) = signature::header(secrets, &job.event.public_id, timestamp, body) else {
            return done("refused", None, Some("the endpoint's secret is not valid base64".into()), None);
        };
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &job.event.public_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(job.event.payload.clone())
            .send()
            .await;
        match sent {
            Ok(mut res) => {
                let code = res.status();
                let mut kept = Vec::new();
                while kept.len() < BODY_KEPT {
                    match res.chunk().await {
                        Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(BODY_KEPT - kept.len())]),
                        _ => break,
                    }
                }
                let body = (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned());
                if code.is_success() {
                    done("succeeded", Some(code.as_u16()), None, body)
                } else {
                    done("http_error", Some(code.as_u16()), Some(format!("answered {code}")), body)
                }
            }
            Err(e) if e.is_timeout() => done("timeout", None, Some(chain(&e)), None),
            Err(e) => done("network", None, Some(chain(&e)), None),
        }
    }

    /// Records the attempt, frees the endpoint, and settles or reschedules
    /// the delivery. Answers the delivery's final state when it has one.
    pub async fn finish(&self, job: &Job, a: &Attempted, now: DateTime<Utc>) -> Result<Option<&'static str>, DbErr> {
        let txn = begin(&self.db).await?;
        record_attempt(&txn, job.delivery.id, now, a).await?;
        let mine = Condition::all()
            .add(webhook_delivery::Column::Id.eq(job.delivery.id))
            .add(webhook_delivery::Column::Status.eq(status::SENDING))
            .add(webhook_delivery::Column::Attempts.eq(job.delivery.attempts));
        let step = usize::try_from(job.delivery.step).unwrap_or(usize::MAX);
        let (state, next) = if a.outcome == "succeeded" {
            (status::SUCCEEDED, None)
        } else if let Some(wait) = self.settings.retry_schedule.get(step) {
            (status::PENDING, Some(now + chrono::Duration::from_std(*wait).unwrap_or(chrono::Duration::hours(1))))
        } else {
            (status::FAILED, None)
        };
        let mut update = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(state))
            .filter(mine);
        update = match next {
            Some(at) => update
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                .col_expr(webhook_delivery::Column::Step, Expr::value(job.delivery.step + 1)),
            None => update.col_expr(webhook_delivery::Column::CompletedAt, Expr::value(now)),
        };
        let settled = update.exec(&txn).await?.rows_affected == 1;
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::SendingDeliveryId, Expr::value(Option::<i64>::None))
            .filter(webhook_endpoint::Column::Id.eq(job.endpoint.id))
            .filter(webhook_endpoint::Column::SendingDeliveryId.eq(job.delivery.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if !settled {
            // The lease ran out and another claim took the delivery over.
            tracing::warn!(
                delivery_id = job.delivery.id,
                "webhook delivery taken over before its attempt was recorded"
            );
            return Ok(None);
        }
        Ok((state != status::PENDING).then_some(state))
    }
}

/// A transaction for the worker's bookkeeping: `BEGIN IMMEDIATE` on SQLite
/// (one writer; waiting instead of failing busy), a plain one on PostgreSQL
/// (row locks, not the API writers' turn: the audit chain is not touched).
async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    } else {
        db.begin().await
    }
}

async fn record_attempt<C: sea_orm::ConnectionTrait>(
    conn: &C,
    delivery_id: i64,
    at: DateTime<Utc>,
    a: &Attempted,
) -> Result<(), DbErr> {
    webhook_attempt::ActiveModel {
        delivery_id: Set(delivery_id),
        at: Set(at),
        duration_ms: Set(a.duration_ms),
        status_code: Set(a.status_code.map(i32::from)),
        outcome: Set(a.outcome.to_string()),
        error: Set(a.error.clone()),
        response_body: Set(a.body.clone()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map(|_| ())
}

/// An error and its causes, one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
