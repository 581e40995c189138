//! Recording, correcting and withdrawing observations (扣分/加分记录).
//! The engine validates the facts against the rule (`check_observation`).

use chrono::{NaiveDate, Utc};
use entity::states::ObservationStatus;
use entity::{observation, score_run, score_run_unit};
use kaohe_engine::{Facts, Observation, Rubric};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::{Rules, ensure_open, ensure_section_open, run_by_id, section_of_rule, visible_run};
use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::evidence::{self, EvidenceReference, Holder, Linked};
use crate::idempotency;
use crate::{db, policy};

/// The facts and context of one observation.
pub struct ObservationDraft {
    pub facts: Facts,
    pub work_key: Option<String>,
    pub halve: Option<String>,
    pub document_date: Option<NaiveDate>,
    pub note: Option<String>,
    /// New document references (佐证材料).
    pub evidence: Vec<EvidenceReference>,
    /// Evidence already stored (uploaded files), by row id.
    pub evidence_ids: Vec<i64>,
}

impl ObservationDraft {
    /// Everything recording depends on besides the run, unit and rule: what a
    /// retry with the same idempotency key must send again.
    pub fn fingerprint(&self) -> serde_json::Value {
        json!({
            "facts": self.facts, "work_key": self.work_key, "halve": self.halve,
            "document_date": self.document_date, "note": self.note,
            "evidence": self.evidence, "evidence_ids": self.evidence_ids,
        })
    }
}

/// What recording needs.
pub struct RecordObservation {
    pub run_id: i64,
    pub unit_id: i64,
    pub rule_code: String,
    pub draft: ObservationDraft,
    pub idempotency_key: Option<String>,
}

fn snapshot(o: &observation::Model, rule: &str) -> serde_json::Value {
    json!({
        "id": o.id, "unit_id": o.unit_id, "rule": rule, "facts": serde_json::from_str::<serde_json::Value>(&o.facts).unwrap_or_default(),
        "work_key": o.work_key, "halve": o.halve, "document_date": o.document_date, "note": o.note,
        "status": o.status, "supersedes_id": o.supersedes_id, "version": o.version,
    })
}

/// Validates a draft for a rule with the engine; BAD_USER_INPUT names the rule.
pub fn check(rubric: &Rubric, rule_code: &str, d: &ObservationDraft) -> Result<String, ServiceError> {
    let mut o = Observation::new("new", rule_code, d.facts.clone());
    o.work = d.work_key.clone();
    o.halve = d.halve.clone();
    o.document_date = d.document_date;
    kaohe_engine::check_observation(rubric, &o)?;
    crate::input::optional("note", d.note.clone(), crate::input::MAX_TEXT)?;
    crate::input::optional("workKey", d.work_key.clone(), 200)?;
    serde_json::to_string(&d.facts).map_err(ServiceError::internal)
}

/// The unit must be assessed in the run.
pub async fn ensure_unit_in_run<C: ConnectionTrait>(conn: &C, run_id: i64, unit_id: i64) -> Result<(), ServiceError> {
    score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run_id))
        .filter(score_run_unit::Column::UnitId.eq(unit_id))
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| ServiceError::BadUserInput(format!("unit {unit_id} is not assessed in score run {run_id}")))
}

/// Inserts a checked observation and its evidence (inside the caller's transaction).
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    run: &score_run::Model,
    unit_id: i64,
    rule_id: i64,
    facts: String,
    draft: &ObservationDraft,
    supersedes: Option<i64>,
) -> Result<observation::Model, ServiceError> {
    let row = observation::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(unit_id),
        rule_id: Set(rule_id),
        facts: Set(facts),
        note: Set(draft.note.clone()),
        status: Set(ObservationStatus::Active),
        supersedes_id: Set(supersedes),
        work_key: Set(draft.work_key.clone()),
        document_date: Set(draft.document_date),
        entered_by: Set(caller.user_id()),
        entered_at: Set(Utc::now()),
        idempotency_key: Set(None),
        version: Set(1),
        halve: Set(draft.halve.clone()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let to = Holder { organisation_id: run.organisation_id, unit_id, observation_id: Some(row.id), claim_id: None };
    evidence::attach(conn, caller, to, &draft.evidence, &draft.evidence_ids).await?;
    Ok(row)
}

/// Records an observation. A retry with the same idempotency key (and the
/// same parameters) answers the observation recorded the first time.
#[tracing::instrument(skip_all, fields(run_id = input.run_id, unit_id = input.unit_id, rule = %input.rule_code))]
pub async fn record(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    input: RecordObservation,
) -> Result<observation::Model, ServiceError> {
    let (run, _) = visible_run(db, caller, input.run_id).await?;
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    record_with(db, chain_key, caller, &rubric, run, input).await
}

/// Records with the run's rubric already compiled (for bulk entry such as the seed).
pub async fn record_with_rubric(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rubric: &Rubric,
    input: RecordObservation,
) -> Result<observation::Model, ServiceError> {
    let (run, _) = visible_run(db, caller, input.run_id).await?;
    record_with(db, chain_key, caller, rubric, run, input).await
}

async fn record_with(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rubric: &Rubric,
    run: score_run::Model,
    input: RecordObservation,
) -> Result<observation::Model, ServiceError> {
    let section = section_of_rule(rubric, &input.rule_code).map_err(|_| ServiceError::InvalidObservation {
        rule: input.rule_code.clone(),
        message: "no rule with this code exists in the run's rubric version".into(),
    })?;
    let authorized = policy::may_score(caller, run.organisation_id, rubric, &input.rule_code, "record")?;
    let params =
        json!({ "run": run.id, "unit": input.unit_id, "rule": input.rule_code, "draft": input.draft.fingerprint() });
    let key = idempotency::key(&authorized, "recordObservation", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return observation::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("observation {id} of an idempotency key").into()));
    }
    ensure_open(&run)?;
    let facts = check(rubric, &input.rule_code, &input.draft)?;
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    // Re-read inside the transaction: the run or the section may have closed.
    let run = run_by_id(&txn, run.id).await?;
    ensure_open(&run)?;
    ensure_section_open(&txn, &run, &section).await?;
    ensure_unit_in_run(&txn, run.id, input.unit_id).await?;
    let rules = Rules::of_version(&txn, run.rubric_version_id).await?;
    let rule = rules.by_code(&input.rule_code)?;
    let row = insert(&txn, caller, &run, input.unit_id, rule.id, facts, &input.draft, None).await?;
    idempotency::remember(&txn, key.as_ref(), row.id).await?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "observation.record",
            entity: "observation",
            entity_id: Some(row.id.to_string()),
            before: None,
            after: Some(snapshot(&row, &input.rule_code)),
        },
        Scope { score_run_id: Some(run.id), unit_id: Some(input.unit_id) },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// An observation the caller may see, with its run, rule code and section,
/// checked that the caller may change it and that it can still be changed
/// (in that order: a hidden one is NOT_FOUND, whatever its run's state).
async fn writable(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> Result<(observation::Model, score_run::Model, String, String), ServiceError> {
    let old = super::query::observation_by_id(db, caller, id).await?;
    let run = run_by_id(db, old.score_run_id).await?;
    let rules = Rules::of_version(db, run.rubric_version_id).await?;
    let code = rules.code_of(old.rule_id)?.to_string();
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let section = section_of_rule(&rubric, &code)?;
    policy::may_score(caller, run.organisation_id, &rubric, &code, "correct")?;
    ensure_open(&run)?;
    Ok((old, run, code, section))
}

fn stale() -> ServiceError {
    ServiceError::Conflict(
        "the observation was changed by someone else (or is no longer active); reload it and retry".into(),
    )
}

/// Marks the old row superseded (versioned) inside the transaction.
async fn retire<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    expected_version: i32,
    status: ObservationStatus,
) -> Result<(), ServiceError> {
    let res = observation::Entity::update_many()
        .col_expr(observation::Column::Status, Expr::value(status))
        .col_expr(observation::Column::Version, Expr::col(observation::Column::Version).add(1))
        .filter(observation::Column::Id.eq(id))
        .filter(observation::Column::Version.eq(expected_version))
        .filter(observation::Column::Status.eq(ObservationStatus::Active))
        .exec(conn)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(stale()) }
}

/// Corrects an observation: the old row is kept (superseded) and a new row
/// supersedes it. A reason is required.
#[tracing::instrument(skip_all, fields(observation_id = id, expected_version))]
pub async fn correct(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    mut draft: ObservationDraft,
    reason: &str,
) -> Result<observation::Model, ServiceError> {
    let reason = crate::input::reason(reason)?;
    let (old, run, code, section) = writable(db, caller, id).await?;
    if old.version != expected_version || old.status != ObservationStatus::Active {
        return Err(stale());
    }
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    if draft.note.is_none() {
        draft.note = old.note.clone();
    }
    let facts = check(&rubric, &code, &draft)?;
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let run = run_by_id(&txn, run.id).await?;
    ensure_open(&run)?;
    ensure_section_open(&txn, &run, &section).await?;
    retire(&txn, id, expected_version, ObservationStatus::Superseded).await?;
    let new = insert(&txn, caller, &run, old.unit_id, old.rule_id, facts, &draft, Some(id)).await?;
    evidence::copy_links(&txn, Linked::Observation(id), new.id).await?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "observation.correct",
            entity: "observation",
            entity_id: Some(new.id.to_string()),
            before: Some(snapshot(&old, &code)),
            after: Some(json!({ "observation": snapshot(&new, &code), "reason": reason })),
        },
        Scope { score_run_id: Some(run.id), unit_id: Some(old.unit_id) },
    )
    .await?;
    txn.commit().await?;
    Ok(new)
}

/// Withdraws an observation (it stops counting; the row is kept). A reason is required.
#[tracing::instrument(skip_all, fields(observation_id = id, expected_version))]
pub async fn withdraw(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    reason: &str,
) -> Result<observation::Model, ServiceError> {
    let reason = crate::input::reason(reason)?;
    let (old, run, code, section) = writable(db, caller, id).await?;
    if old.version != expected_version || old.status != ObservationStatus::Active {
        return Err(stale());
    }
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let run = run_by_id(&txn, run.id).await?;
    ensure_open(&run)?;
    ensure_section_open(&txn, &run, &section).await?;
    retire(&txn, id, expected_version, ObservationStatus::Withdrawn).await?;
    let after = observation::Entity::find_by_id(id).one(&txn).await?.ok_or_else(stale)?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "observation.withdraw",
            entity: "observation",
            entity_id: Some(id.to_string()),
            before: Some(snapshot(&old, &code)),
            after: Some(json!({ "observation": snapshot(&after, &code), "reason": reason })),
        },
        Scope { score_run_id: Some(run.id), unit_id: Some(old.unit_id) },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
