//! Bonus claims (申报): a unit files facts with evidence; the owning
//! department approves (the claim becomes an observation and counts) or
//! rejects it, with a reason.

use chrono::Utc;
use entity::claim;
use entity::states::ClaimStatus;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::evidence::{self, Holder, Linked};
use crate::policy::RunReader;
use crate::runs::observations::{self, ObservationDraft};
use crate::runs::query::{Page, Paged};
use crate::runs::{Rules, ensure_open, ensure_section_open, run_by_id, section_of_rule, visible_run};
use crate::{db, idempotency, policy};

/// What filing a claim needs.
pub struct FileClaim {
    pub run_id: i64,
    pub unit_id: i64,
    pub rule_code: String,
    pub draft: ObservationDraft,
    pub idempotency_key: Option<String>,
}

/// The facts of a claim as stored (facts plus what the observation will need).
#[derive(serde::Serialize, serde::Deserialize)]
struct ClaimFacts {
    facts: kaohe_engine::Facts,
    work_key: Option<String>,
    halve: Option<String>,
    document_date: Option<chrono::NaiveDate>,
    note: Option<String>,
}

/// The facts of a stored claim, as JSON.
pub fn facts_json(c: &claim::Model) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&c.facts).map(|v| v["facts"].clone()).unwrap_or_default()
}

/// A claim the caller may see: staff every claim; a unit its own; an
/// integration none. Hidden or missing: the same NOT_FOUND.
pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<claim::Model, ServiceError> {
    policy::signed_in(caller)?;
    let c = claim::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("claim"))?;
    let (_, reader) = visible_run(db, caller, c.score_run_id).await.map_err(|e| e.hidden_as("claim"))?;
    match reader {
        RunReader::Staff => Ok(c),
        RunReader::Unit(u) if u == c.unit_id => Ok(c),
        _ => Err(ServiceError::not_found("claim")),
    }
}

/// A run's claims, oldest first: staff see all; a unit user its own unit's;
/// an integration none (FORBIDDEN). Filtered in SQL.
pub async fn of_run(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
    status: Option<ClaimStatus>,
    unit_id: Option<i64>,
    page: Page,
) -> Result<Paged<claim::Model>, ServiceError> {
    let (run, reader) = visible_run(db, caller, run_id).await?;
    let mut q = claim::Entity::find().filter(claim::Column::ScoreRunId.eq(run.id));
    match reader {
        RunReader::Staff => {}
        RunReader::Unit(u) => q = q.filter(claim::Column::UnitId.eq(u)),
        RunReader::Integration => return Err(ServiceError::Forbidden),
    }
    if let Some(s) = status {
        q = q.filter(claim::Column::Status.eq(s));
    }
    if let Some(u) = unit_id {
        q = q.filter(claim::Column::UnitId.eq(u));
    }
    crate::paging::fetch(db, q.order_by_asc(claim::Column::Id), page).await
}

/// Files a claim (pending). Facts are checked by the engine now, so a claim
/// that could never score is refused at once. At least one evidence: a
/// reference or an uploaded file of the unit (by id).
#[tracing::instrument(skip_all, fields(run_id = input.run_id, unit_id = input.unit_id, rule = %input.rule_code))]
pub async fn file(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    mut input: FileClaim,
) -> Result<claim::Model, ServiceError> {
    let (run, _) = visible_run(db, caller, input.run_id).await?;
    let authorized = policy::may_file_claim(caller, run.organisation_id, input.unit_id)?;
    let params =
        json!({ "run": run.id, "unit": input.unit_id, "rule": input.rule_code, "draft": input.draft.fingerprint() });
    let key = idempotency::key(&authorized, "fileClaim", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return claim::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("claim {id} of an idempotency key").into()));
    }
    ensure_open(&run)?;
    if input.draft.evidence.is_empty() && input.draft.evidence_ids.is_empty() {
        return Err(ServiceError::BadUserInput(
            "a claim needs at least one evidence (佐证材料): a reference or an uploaded file".into(),
        ));
    }
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let defers = rubric.rule(&input.rule_code).is_some_and(|r| r.defer_late);
    if input.draft.document_date.is_none() && defers {
        // The document's date (a late one defers the bonus), on a rule that
        // defers: a reference's, or else an uploaded file's, if given.
        input.draft.document_date = match input.draft.evidence.iter().find_map(|e| e.doc_date) {
            Some(d) => Some(d),
            None => evidence::first_doc_date(db, &input.draft.evidence_ids).await?,
        };
    }
    observations::check(&rubric, &input.rule_code, &input.draft)?;
    let d = &input.draft;
    let stored = ClaimFacts {
        facts: d.facts.clone(),
        work_key: d.work_key.clone(),
        halve: d.halve.clone(),
        document_date: d.document_date,
        note: d.note.clone(),
    };
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let run = run_by_id(&txn, run.id).await?;
    ensure_open(&run)?;
    observations::ensure_unit_in_run(&txn, run.id, input.unit_id).await?;
    let rules = Rules::of_version(&txn, run.rubric_version_id).await?;
    let rule = rules.by_code(&input.rule_code)?;
    let now = Utc::now();
    let row = claim::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(input.unit_id),
        rule_id: Set(rule.id),
        facts: Set(serde_json::to_string(&stored).map_err(ServiceError::internal)?),
        status: Set(ClaimStatus::Pending),
        filed_by: Set(caller.user_id()),
        decided_by: Set(None),
        decision_reason: Set(None),
        observation_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idempotency::remember(&txn, key.as_ref(), row.id).await?;
    let to = Holder {
        organisation_id: run.organisation_id,
        unit_id: input.unit_id,
        observation_id: None,
        claim_id: Some(row.id),
    };
    let ev = evidence::attach(&txn, caller, to, &d.evidence, &d.evidence_ids).await?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "claim.file",
            entity: "claim",
            entity_id: Some(row.id.to_string()),
            before: None,
            after: Some(
                json!({ "rule": input.rule_code, "facts": facts_json(&row), "status": row.status, "evidence": ev }),
            ),
        },
        Scope { score_run_id: Some(run.id), unit_id: Some(input.unit_id) },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Approves (the claim becomes an observation) or rejects a pending claim.
#[tracing::instrument(skip_all, fields(claim_id = id, approve))]
pub async fn decide(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    approve: bool,
    reason: &str,
    expected_version: Option<i32>,
) -> Result<claim::Model, ServiceError> {
    let reason = crate::input::reason(reason)?;
    let c = by_id(db, caller, id).await?;
    let run = run_by_id(db, c.score_run_id).await?;
    let rules = Rules::of_version(db, run.rubric_version_id).await?;
    let code = rules.code_of(c.rule_id)?.to_string();
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let section = section_of_rule(&rubric, &code)?;
    policy::may_score(caller, run.organisation_id, &rubric, &code, "approve_claim")?;
    ensure_open(&run)?;
    let version = expected_version.unwrap_or(c.version);
    if c.status != ClaimStatus::Pending || c.version != version {
        return Err(ServiceError::Conflict("the claim was already decided or changed; reload it".into()));
    }
    let stored: ClaimFacts =
        serde_json::from_str(&c.facts).map_err(|e| ServiceError::Internal(format!("stored claim {id}: {e}").into()))?;
    let draft = ObservationDraft {
        facts: stored.facts,
        work_key: stored.work_key,
        halve: stored.halve,
        // A date matters (and is accepted) only on a rule that defers late documents.
        document_date: stored.document_date.filter(|_| rubric.rule(&code).is_some_and(|r| r.defer_late)),
        note: stored.note.or_else(|| Some(format!("申报 #{id}"))),
        evidence: Vec::new(),
        evidence_ids: Vec::new(),
    };
    let facts = if approve { Some(observations::check(&rubric, &code, &draft)?) } else { None };
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let run = run_by_id(&txn, run.id).await?;
    ensure_open(&run)?;
    let mut observation_id = None;
    if let Some(facts) = facts {
        ensure_section_open(&txn, &run, &section).await?;
        // Refused at the door as recording refuses it (a second direct score, …).
        observations::check_with_unit(&txn, &rubric, &run, c.unit_id, &code, &draft).await?;
        let o = observations::insert(&txn, caller, &run, c.unit_id, c.rule_id, facts, &draft, None).await?;
        // The claim's evidence backs the observation.
        evidence::copy_links(&txn, Linked::Claim(id), o.id).await?;
        observation_id = Some(o.id);
    }
    let status = if approve { ClaimStatus::Approved } else { ClaimStatus::Rejected };
    let res = claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(status))
        .col_expr(claim::Column::DecidedBy, Expr::value(caller.user_id()))
        .col_expr(claim::Column::DecisionReason, Expr::value(reason.clone()))
        .col_expr(claim::Column::ObservationId, Expr::value(observation_id))
        .col_expr(claim::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(claim::Column::Version, Expr::col(claim::Column::Version).add(1))
        .filter(claim::Column::Id.eq(id))
        .filter(claim::Column::Version.eq(version))
        .filter(claim::Column::Status.eq(ClaimStatus::Pending))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::Conflict("the claim was decided by someone else; reload it".into()));
    }
    let after = claim::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| ServiceError::not_found("claim"))?;
    audit::record_scoped(&txn, chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: if approve { "claim.approve" } else { "claim.reject" },
            entity: "claim",
            entity_id: Some(id.to_string()),
            before: Some(json!({ "status": c.status, "version": c.version })),
            after: Some(json!({ "status": after.status, "version": after.version, "reason": reason, "observation_id": observation_id })),
        },
        Scope { score_run_id: Some(run.id), unit_id: Some(c.unit_id) },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
