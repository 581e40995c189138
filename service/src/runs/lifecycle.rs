//! Opening, publishing and amending a score run (考核批次).

use chrono::Utc;
use entity::states::{ObservationStatus, PeriodKind, RunStatus, VersionStatus};
use entity::{observation, result, result_section, score_run, score_run_unit, unit};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{ensure_open, results, run_by_id, visible_run};
use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::{db, idempotency, policy};

/// What opening a run needs.
pub struct OpenRun {
    pub rubric_version_id: i64,
    pub period: String,
    pub unit_ids: Vec<i64>,
    pub title: String,
    pub idempotency_key: Option<String>,
}

fn snapshot(run: &score_run::Model) -> serde_json::Value {
    json!({
        "id": run.id, "status": run.status, "period": run.period, "revision": run.revision,
        "replaces_run_id": run.replaces_run_id, "version": run.version, "title": run.title,
    })
}

/// Opens a run for a published version, a period matching its regime and
/// units of the version's organisation. The same idempotency key returns the
/// run it opened the first time.
#[tracing::instrument(skip_all, fields(rubric_version_id = input.rubric_version_id, units = input.unit_ids.len()))]
pub async fn open(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    input: OpenRun,
) -> Result<score_run::Model, ServiceError> {
    policy::signed_in(caller)?;
    let version = crate::rubric::query::version_by_id(db, caller, input.rubric_version_id).await?;
    let organisation_id = super::organisation_of_version(db, &version).await?;
    let authorized =
        policy::may_administer_runs(caller, organisation_id).map_err(|e| e.not_found_as("rubric version"))?;
    let mut unit_ids = input.unit_ids.clone();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let params =
        json!({ "version": version.id, "period": input.period.trim(), "units": unit_ids, "title": input.title.trim() });
    let key = idempotency::key(&authorized, "openScoreRun", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return run_by_id(db, id).await;
    }
    if version.status != VersionStatus::Published {
        return Err(ServiceError::BadUserInput(format!(
            "the rubric version is {}; runs are opened only on a published version",
            version.status
        )));
    }
    let period =
        input.period.trim().parse::<kaohe_engine::Period>().map_err(|e| ServiceError::BadUserInput(e.to_string()))?;
    let period_kind = match (version.regime.as_str(), period) {
        ("annual", kaohe_engine::Period::Year(_)) => PeriodKind::Year,
        ("monthly", kaohe_engine::Period::Month { .. }) => PeriodKind::Month,
        (regime, _) => {
            return Err(ServiceError::BadUserInput(format!(
                "period `{}` does not fit the {regime} regime: write {}",
                input.period,
                if regime == "monthly" { "a month like 2026-03" } else { "a year like 2026" }
            )));
        }
    };
    let title = crate::input::name("title", &input.title, 200)?;
    if unit_ids.is_empty() {
        return Err(ServiceError::BadUserInput("a run needs at least one unit".into()));
    }
    if unit_ids.len() > 5000 {
        return Err(ServiceError::BadUserInput("a run takes at most 5000 units".into()));
    }
    let units = unit::Entity::find()
        .filter(unit::Column::Id.is_in(unit_ids.clone()))
        .filter(unit::Column::OrganisationId.eq(organisation_id))
        .all(db)
        .await?;
    if units.len() != unit_ids.len() {
        let known: Vec<i64> = units.iter().map(|u| u.id).collect();
        let missing: Vec<String> =
            unit_ids.iter().filter(|i| !known.contains(i)).map(|i| crate::ids::global_id("Unit", *i)).collect();
        return Err(ServiceError::BadUserInput(format!(
            "units {} do not belong to the rubric version's organisation",
            missing.join(", ")
        )));
    }
    // A deactivated unit (停用) stays in the runs it is part of, but no new run takes it.
    if let Some(u) = units.iter().find(|u| !u.active) {
        return Err(ServiceError::BadUserInput(format!(
            "unit {} ({}) is deactivated; reactivate it before assessing it in a new run",
            u.name, u.code
        )));
    }
    let txn = db::begin_organisation_write(db, organisation_id).await?;
    let now = Utc::now();
    let run = score_run::ActiveModel {
        organisation_id: Set(organisation_id),
        rubric_version_id: Set(version.id),
        period_kind: Set(period_kind),
        period: Set(period.to_string()),
        title: Set(title),
        status: Set(RunStatus::Open),
        revision: Set(1),
        replaces_run_id: Set(None),
        created_by: Set(caller.user_id()),
        created_at: Set(now),
        published_at: Set(None),
        version: Set(1),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match ServiceError::from(e) {
        ServiceError::Conflict(_) => ServiceError::Conflict(format!(
            "a run of this rubric version for period {period} already exists (amend it instead)"
        )),
        other => other,
    })?;
    idempotency::remember(&txn, key.as_ref(), run.id).await?;
    for u in &unit_ids {
        score_run_unit::ActiveModel { score_run_id: Set(run.id), unit_id: Set(*u), ..Default::default() }
            .insert(&txn)
            .await?;
    }
    // Deferred bonuses of earlier published periods that belong here.
    let carried = super::carry::sync(&txn, &run).await?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(organisation_id),
            action: "score_run.open",
            entity: "score_run",
            entity_id: Some(run.id.to_string()),
            before: None,
            after: Some(
                json!({ "run": snapshot(&run), "units": unit_ids, "carried": super::carry::audit_json(&carried) }),
            ),
        },
        Scope { score_run_id: Some(run.id), unit_id: None },
    )
    .await?;
    txn.commit().await?;
    Ok(run)
}

/// Rows inserted per statement when results are stored: far below either
/// database's limit on bound values (SQLite 32,766; PostgreSQL 65,535).
const RESULT_ROWS_PER_INSERT: usize = 500;

/// Stores a run's results and their section scores, many rows a statement
/// (a 1,000-unit run is a dozen inserts, not 4,000).
async fn store_results(
    txn: &DatabaseTransaction,
    run_id: i64,
    outcomes: &[results::UnitResult],
    sections: &std::collections::HashMap<String, i64>,
    now: chrono::DateTime<Utc>,
) -> Result<(), ServiceError> {
    let mut rows = Vec::with_capacity(outcomes.len());
    let mut section_rows = Vec::with_capacity(outcomes.len() * sections.len());
    for o in outcomes {
        let stored = results::StoredResult { outcome: o.clone() };
        rows.push(result::ActiveModel {
            score_run_id: Set(run_id),
            unit_id: Set(o.unit_id),
            final_score: Set(o.final_score.into()),
            base: Set(o.base.into()),
            bonus: Set(o.bonus.into()),
            penalty: Set(o.penalty.into()),
            rank: Set(i32::try_from(o.rank).unwrap_or(i32::MAX)),
            explanation: Set(serde_json::to_string(&stored).map_err(ServiceError::internal)?),
            computed_at: Set(now),
            ..Default::default()
        });
        for s in &o.sections {
            let Some(indicator_id) = sections.get(&s.code) else { continue };
            section_rows.push(result_section::ActiveModel {
                score_run_id: Set(run_id),
                unit_id: Set(o.unit_id),
                indicator_id: Set(*indicator_id),
                score: Set(s.score.into()),
                ..Default::default()
            });
        }
    }
    for chunk in rows.chunks(RESULT_ROWS_PER_INSERT) {
        result::Entity::insert_many(chunk.to_vec()).exec_without_returning(txn).await?;
    }
    for chunk in section_rows.chunks(RESULT_ROWS_PER_INSERT * 2) {
        result_section::Entity::insert_many(chunk.to_vec()).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Scores every unit with the engine, stores the results (exact decimals and
/// the explanation) and freezes the run. A revision that replaces a published
/// run supersedes it. The webhook events (`run.published`, and
/// `run.superseded` for the replaced revision) are written in the same
/// transaction (`webhooks::outbox`).
#[tracing::instrument(skip_all, fields(run_id, expected_version))]
pub async fn publish(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    run_id: i64,
    expected_version: i32,
) -> Result<score_run::Model, ServiceError> {
    let (run, _) = visible_run(db, caller, run_id).await?;
    policy::may_administer_runs(caller, run.organisation_id)?;
    ensure_open(&run)?;
    if run.version != expected_version {
        return Err(stale());
    }
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    // What it carries from earlier periods, up to date, then scored inside
    // the write transaction: no observation can slip in between.
    let carried = super::carry::sync(&txn, &run).await?;
    let outcomes = results::compute(&txn, &rubric, &run).await?;
    let now = Utc::now();
    let updated = score_run::Entity::update_many()
        .col_expr(score_run::Column::Status, Expr::value(RunStatus::Published))
        .col_expr(score_run::Column::PublishedAt, Expr::value(now))
        .col_expr(score_run::Column::Version, Expr::col(score_run::Column::Version).add(1))
        .filter(score_run::Column::Id.eq(run_id))
        .filter(score_run::Column::Version.eq(expected_version))
        .filter(score_run::Column::Status.eq(RunStatus::Open))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale());
    }
    let sections = results::section_rows(&txn, run.rubric_version_id).await?;
    store_results(&txn, run_id, &outcomes, &sections, now).await?;
    if let Some(old) = run.replaces_run_id {
        score_run::Entity::update_many()
            .col_expr(score_run::Column::Status, Expr::value(RunStatus::Superseded))
            .col_expr(score_run::Column::Version, Expr::col(score_run::Column::Version).add(1))
            .filter(score_run::Column::Id.eq(old))
            .filter(score_run::Column::Status.eq(RunStatus::Published))
            .exec(&txn)
            .await?;
    }
    let after = run_by_id(&txn, run_id).await?;
    // Later open periods take what this one defers (and follow it, if it
    // is a revision of a period they carry from).
    let pushed = super::carry::after_publish(&txn, &after).await?;
    crate::webhooks::outbox::run_published(&txn, &after).await?;
    if let Some(old) = run.replaces_run_id {
        let old = run_by_id(&txn, old).await?;
        crate::webhooks::outbox::run_superseded(&txn, &old, &after).await?;
    }
    let totals: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| json!({ "unit_id": o.unit_id, "final": o.final_score.to_string(), "rank": o.rank }))
        .collect();
    let entry = audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "score_run.publish",
            entity: "score_run",
            entity_id: Some(run_id.to_string()),
            before: Some(snapshot(&run)),
            after: Some(json!({
                "run": snapshot(&after), "results": totals, "supersedes": run.replaces_run_id,
                "carried": super::carry::audit_json(&carried),
                "carried_into_later_runs": pushed.iter().map(|(r, c)| json!({ "run_id": r, "changes": super::carry::audit_json(c) })).collect::<Vec<_>>(),
            })),
        },
        Scope { score_run_id: Some(run_id), unit_id: None },
    )
    .await?;
    // The publication's own entry is the chain's head now: anchored, a cut
    // of the chain's end back past it shows in every later check.
    audit::anchor(&txn, chain_key, &entry, Some(run_id)).await?;
    txn.commit().await?;
    super::kept::forget(db, run_id);
    Ok(after)
}

/// Opens a new revision of a published run: revision + 1, linked to the run it
/// replaces, with the active observations copied (unless `copy_observations`
/// is false: the revision starts empty, but for what it carries from earlier
/// periods). The old run stays published (and readable) until the revision
/// is published. The `run.amended` webhook event is written in the same
/// transaction.
#[tracing::instrument(skip_all, fields(run_id))]
pub async fn amend(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    run_id: i64,
    reason: &str,
    copy_observations: bool,
) -> Result<score_run::Model, ServiceError> {
    let reason = crate::input::reason(reason)?;
    let (run, _) = visible_run(db, caller, run_id).await?;
    policy::may_administer_runs(caller, run.organisation_id)?;
    if run.status != RunStatus::Published {
        return Err(ServiceError::Conflict(format!(
            "the score run is {}; only the published revision can be amended",
            run.status
        )));
    }
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let pending = score_run::Entity::find().filter(score_run::Column::ReplacesRunId.eq(run_id)).one(&txn).await?;
    if let Some(p) = pending {
        return Err(ServiceError::Conflict(format!("the score run already has a revision in progress ({})", p.title)));
    }
    let now = Utc::now();
    let new = score_run::ActiveModel {
        organisation_id: Set(run.organisation_id),
        rubric_version_id: Set(run.rubric_version_id),
        period_kind: Set(run.period_kind),
        period: Set(run.period.clone()),
        title: Set(run.title.clone()),
        status: Set(RunStatus::Open),
        revision: Set(run.revision + 1),
        replaces_run_id: Set(Some(run_id)),
        created_by: Set(caller.user_id()),
        created_at: Set(now),
        published_at: Set(None),
        version: Set(1),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let units = score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run_id))
        .order_by_asc(score_run_unit::Column::Id)
        .all(&txn)
        .await?;
    for u in &units {
        score_run_unit::ActiveModel { score_run_id: Set(new.id), unit_id: Set(u.unit_id), ..Default::default() }
            .insert(&txn)
            .await?;
    }
    let observations = if copy_observations { super::active_observations(&txn, run_id).await? } else { Vec::new() };
    for o in &observations {
        let copy = observation::ActiveModel {
            score_run_id: Set(new.id),
            unit_id: Set(o.unit_id),
            rule_id: Set(o.rule_id),
            facts: Set(o.facts.clone()),
            note: Set(o.note.clone()),
            status: Set(ObservationStatus::Active),
            supersedes_id: Set(None),
            work_key: Set(o.work_key.clone()),
            document_date: Set(o.document_date),
            entered_by: Set(o.entered_by),
            entered_at: Set(o.entered_at),
            idempotency_key: Set(None),
            version: Set(1),
            halve: Set(o.halve.clone()),
            // The copy continues the row's lineage (and stays carried, if it was).
            origin_id: Set(Some(o.lineage())),
            carried_from_id: Set(o.carried_from_id),
            batch_id: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::evidence::copy_links(&txn, crate::evidence::Linked::Observation(o.id), copy.id).await?;
    }
    let carried = super::carry::sync(&txn, &new).await?;
    crate::webhooks::outbox::run_amended(&txn, &new, &run).await?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "score_run.amend",
            entity: "score_run",
            entity_id: Some(new.id.to_string()),
            before: Some(snapshot(&run)),
            after: Some(json!({
                "run": snapshot(&new), "reason": reason, "observations_copied": observations.len(),
                "copy_observations": copy_observations, "carried": super::carry::audit_json(&carried),
            })),
        },
        Scope { score_run_id: Some(new.id), unit_id: None },
    )
    .await?;
    txn.commit().await?;
    Ok(new)
}

pub(crate) fn stale() -> ServiceError {
    ServiceError::Conflict("the score run was changed by someone else; reload it and retry".into())
}
