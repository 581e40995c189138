//! The transactional outbox: events are written by the transaction that
//! makes them true (`runs::lifecycle::publish` and `amend`), with one
//! delivery per endpoint of the organisation subscribed to the event at that
//! moment. The worker only ever sends what committed.
//!
//! A payload names the run and tells where its ranking is read, not the
//! ranking itself (a receiver reads it with its own credential, under the
//! API's read rules):
//!
//! ```json
//! {"type": "run.published", "timestamp": "2026-04-02T08:00:00Z",
//!  "data": {"run": {"id": "U2NvcmVSdW46Nw", "title": …, "period": "2026-03", "periodKind": "month",
//!                   "revision": 1, "status": "published", "publishedAt": …,
//!                   "replacesRunId": null, "supersededByRunId": null},
//!           "organisation": {"id": …, "code": "xuchang"},
//!           "rubric": {"id": …, "code": …, "versionId": …, "versionLabel": "2023"},
//!           "ranking": {"runId": …, "query": "query Ranking($runId: ID!) { … }",
//!                       "variables": {"runId": …}, "csv": "/runs/…/export.csv", "xlsx": "/runs/…/export.xlsx"}}}
//! ```

use chrono::{SecondsFormat, Utc};
use entity::{organisation, rubric, rubric_version, score_run, webhook_delivery, webhook_endpoint, webhook_event};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::{EventType, status};
use crate::error::ServiceError;
use crate::ids::global_id;

/// The query a receiver sends (with its credential) to read the ranking.
pub const RANKING_QUERY: &str = "query Ranking($runId: ID!) { scoreRun(id: $runId) { id title period revision status publishedAt ranking { rank unitName finalScore base bonus penalty } } }";

/// A run was published (`run` as it is after the publication).
pub async fn run_published<C: ConnectionTrait>(txn: &C, run: &score_run::Model) -> Result<(), ServiceError> {
    enqueue(txn, EventType::RunPublished, run, None, run.id).await
}

/// An amendment opened `revision` of the published `replaced` run; the
/// published one is still the official ranking.
pub async fn run_amended<C: ConnectionTrait>(
    txn: &C,
    revision: &score_run::Model,
    replaced: &score_run::Model,
) -> Result<(), ServiceError> {
    enqueue(txn, EventType::RunAmended, revision, None, replaced.id).await
}

/// `old` was superseded by the publication of `by`.
pub async fn run_superseded<C: ConnectionTrait>(
    txn: &C,
    old: &score_run::Model,
    by: &score_run::Model,
) -> Result<(), ServiceError> {
    enqueue(txn, EventType::RunSuperseded, old, Some(by.id), by.id).await
}

/// The organisation's active endpoints subscribed to `event`.
async fn subscribers<C: ConnectionTrait>(
    txn: &C,
    organisation_id: i64,
    event: EventType,
) -> Result<Vec<webhook_endpoint::Model>, ServiceError> {
    let all = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganisationId.eq(organisation_id))
        .filter(webhook_endpoint::Column::Active.eq(true))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(txn)
        .await?;
    Ok(all.into_iter().filter(|e| super::endpoints::events_of(e).contains(&event)).collect())
}

async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    event: EventType,
    run: &score_run::Model,
    superseded_by: Option<i64>,
    ranking_run: i64,
) -> Result<(), ServiceError> {
    let endpoints = subscribers(txn, run.organisation_id, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let data = run_data(txn, run, superseded_by, ranking_run).await?;
    let payload = json!({
        "type": event.name(),
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    });
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    let row = webhook_event::ActiveModel {
        organisation_id: Set(run.organisation_id),
        public_id: Set(format!("msg_{}", hex::encode(id))),
        event_type: Set(event.name().to_string()),
        payload: Set(payload.to_string()),
        score_run_id: Set(run.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for e in endpoints {
        webhook_delivery::ActiveModel {
            event_id: Set(row.id),
            endpoint_id: Set(e.id),
            organisation_id: Set(run.organisation_id),
            status: Set(status::PENDING.into()),
            attempts: Set(0),
            step: Set(0),
            next_attempt_at: Set(now),
            last_attempt_at: Set(None),
            completed_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    tracing::info!(event = event.name(), run_id = run.id, event_id = row.id, "webhook event written");
    Ok(())
}

async fn run_data<C: ConnectionTrait>(
    txn: &C,
    run: &score_run::Model,
    superseded_by: Option<i64>,
    ranking_run: i64,
) -> Result<serde_json::Value, ServiceError> {
    let missing = |what: &str| ServiceError::Internal(format!("{what} of run {}", run.id).into());
    let version =
        rubric_version::Entity::find_by_id(run.rubric_version_id).one(txn).await?.ok_or_else(|| missing("version"))?;
    let rubric = rubric::Entity::find_by_id(version.rubric_id).one(txn).await?.ok_or_else(|| missing("rubric"))?;
    let org =
        organisation::Entity::find_by_id(run.organisation_id).one(txn).await?.ok_or_else(|| missing("organisation"))?;
    let run_id = global_id("ScoreRun", run.id);
    let ranking_id = global_id("ScoreRun", ranking_run);
    Ok(json!({
        "run": {
            "id": run_id,
            "title": run.title,
            "period": run.period,
            "periodKind": run.period_kind,
            "revision": run.revision,
            "status": run.status,
            "publishedAt": run.published_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true)),
            "replacesRunId": run.replaces_run_id.map(|r| global_id("ScoreRun", r)),
            "supersededByRunId": superseded_by.map(|r| global_id("ScoreRun", r)),
        },
        "organisation": { "id": global_id("Organisation", org.id), "code": org.code },
        "rubric": {
            "id": global_id("Rubric", rubric.id),
            "code": rubric.code,
            "versionId": global_id("RubricVersion", version.id),
            "versionLabel": version.label,
        },
        "ranking": {
            "runId": ranking_id,
            "query": RANKING_QUERY,
            "variables": { "runId": ranking_id },
            "csv": format!("/runs/{ranking_id}/export.csv"),
            "xlsx": format!("/runs/{ranking_id}/export.xlsx"),
        },
    }))
}
