//! Score runs (考核批次): opening, observations (扣分/加分记录), section
//! submission (科室提交), publishing, amending, and their results.
//!
//! Every write runs in one transaction (`db::begin_write`) with its audit
//! entry; every versioned write is `UPDATE … WHERE id = ? AND version = ?`
//! and a stale version is a CONFLICT. Scores come only from the engine.

pub mod carry;
pub mod entry_sheet;
pub mod export;
pub(crate) mod kept;
pub mod lifecycle;
pub mod observations;
pub mod query;
pub mod results;
pub mod sections;
mod turn;

use std::collections::HashMap;

use entity::states::{ObservationStatus, RunStatus, SubmissionStatus};
use entity::{
    evidence_link, indicator, observation, rubric, rubric_version, rule, score_run, score_run_unit, section_submission,
};
use kaohe_engine::{Facts, Observation, Period, Rubric};
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

use crate::caller::Caller;
use crate::error::ServiceError;
use crate::policy::{self, RunReader};

/// A run by id, or NOT_FOUND.
pub async fn run_by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<score_run::Model, ServiceError> {
    score_run::Entity::find_by_id(id).one(conn).await?.ok_or_else(|| ServiceError::not_found("score run"))
}

/// Does the run assess this unit?
pub async fn assesses<C: ConnectionTrait>(conn: &C, run_id: i64, unit_id: i64) -> Result<bool, ServiceError> {
    Ok(score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run_id))
        .filter(score_run_unit::Column::UnitId.eq(unit_id))
        .one(conn)
        .await?
        .is_some())
}

/// How the caller may read this run; NOT_FOUND if it may not see it at all.
pub async fn see_run<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    run: &score_run::Model,
) -> Result<RunReader, ServiceError> {
    let assesses_own = match policy::run_reader(caller, run.organisation_id)? {
        RunReader::Unit(u) => assesses(conn, run.id, u).await?,
        _ => true,
    };
    policy::may_see_run(caller, run, assesses_own)
}

/// A run by id, as the caller may see it: the way every request (read or
/// write) reaches a run by id. An anonymous caller is refused before anything
/// is read; a run the caller may not see answers as a missing one.
pub async fn visible_run<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: i64,
) -> Result<(score_run::Model, RunReader), ServiceError> {
    policy::signed_in(caller)?;
    let run = run_by_id(conn, id).await?;
    let reader = see_run(conn, caller, &run).await.map_err(|e| e.hidden_as("score run"))?;
    Ok((run, reader))
}

/// [`visible_run`] with the row of the run's rubric version, read in the
/// same statement (a recording needs both; check the version with
/// `rubric::query::visible_version`): the same checks, in the same order.
pub async fn visible_run_with_version<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: i64,
) -> Result<(score_run::Model, RunReader, Option<rubric_version::Model>), ServiceError> {
    policy::signed_in(caller)?;
    let (run, version) = score_run::Entity::find_by_id(id)
        .find_also_related(rubric_version::Entity)
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::not_found("score run"))?;
    let (run, reader) = visible_kept_run(conn, caller, run).await?;
    Ok((run, reader, version))
}

/// [`visible_run`] for a run row already in hand (kept from an earlier read
/// at the same data generation): the same checks, in the same order, and
/// the same answer for a run the caller may not see.
pub async fn visible_kept_run<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    run: score_run::Model,
) -> Result<(score_run::Model, RunReader), ServiceError> {
    policy::signed_in(caller)?;
    let reader = see_run(conn, caller, &run).await.map_err(|e| e.hidden_as("score run"))?;
    Ok((run, reader))
}

/// FROZEN unless the run still takes writes.
pub fn ensure_open(run: &score_run::Model) -> Result<(), ServiceError> {
    if run.status == RunStatus::Open {
        Ok(())
    } else {
        Err(ServiceError::Frozen(format!("the score run ({})", run.status)))
    }
}

/// The period of a run, as the engine reads it.
pub fn period_of(run: &score_run::Model) -> Result<Period, ServiceError> {
    period_of_text(&run.period)
}

/// A stored period, as the engine reads it.
pub fn period_of_text(period: &str) -> Result<Period, ServiceError> {
    period.parse::<Period>().map_err(|e| ServiceError::Internal(e.to_string().into()))
}

/// The organisation a rubric version belongs to.
pub async fn organisation_of_version<C: ConnectionTrait>(
    conn: &C,
    version: &rubric_version::Model,
) -> Result<i64, ServiceError> {
    let r = rubric::Entity::find_by_id(version.rubric_id)
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::Internal(format!("rubric of version {}", version.id).into()))?;
    Ok(r.organisation_id)
}

/// The rules of a version by id and by code.
#[derive(Debug)]
pub struct Rules {
    pub by_id: HashMap<i64, rule::Model>,
    pub by_code: HashMap<String, i64>,
}

impl Rules {
    pub async fn of_version<C: ConnectionTrait>(conn: &C, version_id: i64) -> Result<Rules, ServiceError> {
        let rows = rule::Entity::find().filter(rule::Column::RubricVersionId.eq(version_id)).all(conn).await?;
        Ok(Rules::of_rows(rows))
    }

    pub(crate) fn of_rows(rows: Vec<rule::Model>) -> Rules {
        let by_code = rows.iter().map(|r| (r.code.clone(), r.id)).collect();
        let by_id = rows.into_iter().map(|r| (r.id, r)).collect();
        Rules { by_id, by_code }
    }

    /// The rule with this code, or BAD_USER_INPUT naming it.
    pub fn by_code(&self, code: &str) -> Result<&rule::Model, ServiceError> {
        self.by_code.get(code).and_then(|id| self.by_id.get(id)).ok_or_else(|| ServiceError::InvalidObservation {
            rule: code.to_string(),
            message: "no rule with this code exists in the run's rubric version".into(),
        })
    }

    pub fn code_of(&self, id: i64) -> Result<&str, ServiceError> {
        self.by_id.get(&id).map(|r| r.code.as_str()).ok_or_else(|| ServiceError::Internal(format!("rule {id}").into()))
    }
}

/// The section (top-level indicator) code a rule belongs to.
pub fn section_of_rule(rubric: &Rubric, rule_code: &str) -> Result<String, ServiceError> {
    let rule = rubric
        .rule(rule_code)
        .ok_or_else(|| ServiceError::InvalidObservation { rule: rule_code.into(), message: "unknown rule".into() })?;
    let ind = &rubric.indicators[rule.indicator];
    Ok(rubric.indicators[ind.section].code.clone())
}

/// The top-level indicator (section) row of a version with this code.
pub async fn section_row<C: ConnectionTrait>(
    conn: &C,
    version_id: i64,
    code: &str,
) -> Result<indicator::Model, ServiceError> {
    indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version_id))
        .filter(indicator::Column::Code.eq(code))
        .filter(indicator::Column::ParentId.is_null())
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::BadUserInput(format!("`{code}` is not a section of the run's rubric version")))
}

/// FROZEN if the section has been submitted (until an admin reopens it).
/// One statement: the section and its submission in this run, if any. A
/// recording or correction counts open sections in its one statement under
/// the turn (`turn::read`) and asks here only to name the section at fault.
pub async fn ensure_section_open<C: ConnectionTrait>(
    conn: &C,
    run: &score_run::Model,
    section_code: &str,
) -> Result<(), ServiceError> {
    let run_id = run.id;
    let found: Option<(i64, Option<SubmissionStatus>)> = indicator::Entity::find()
        .select_only()
        .column(indicator::Column::Id)
        .column(section_submission::Column::Status)
        .join(
            JoinType::LeftJoin,
            section_submission::Relation::Indicator.def().rev().on_condition(move |_, submission| {
                Expr::col((submission, section_submission::Column::ScoreRunId)).eq(run_id).into_condition()
            }),
        )
        .filter(indicator::Column::RubricVersionId.eq(run.rubric_version_id))
        .filter(indicator::Column::Code.eq(section_code))
        .filter(indicator::Column::ParentId.is_null())
        .into_tuple()
        .one(conn)
        .await?;
    match found {
        None => {
            Err(ServiceError::BadUserInput(format!("`{section_code}` is not a section of the run's rubric version")))
        }
        Some((_, Some(SubmissionStatus::Submitted))) => {
            Err(ServiceError::Frozen(format!("section {section_code} (submitted)")))
        }
        Some(_) => Ok(()),
    }
}

/// The facts of a stored observation.
pub fn facts_of(text: &str) -> Result<Facts, ServiceError> {
    serde_json::from_str(text).map_err(|e| ServiceError::Internal(format!("stored facts: {e}").into()))
}

/// A stored observation as the engine reads it. Its id is the row id.
pub fn engine_observation(
    o: &observation::Model,
    rule_code: &str,
    evidence: Vec<String>,
) -> Result<Observation, ServiceError> {
    let columns = (o.facts.as_str(), o.work_key.clone(), o.halve.clone(), o.document_date);
    observation_of(o.id, rule_code, columns, evidence)
}

/// The same from the columns the engine reads (facts, work key, halving,
/// document date), for reads that take only those.
pub fn observation_of(
    id: i64,
    rule_code: &str,
    (facts, work, halve, document_date): (&str, Option<String>, Option<String>, Option<chrono::NaiveDate>),
    evidence: Vec<String>,
) -> Result<Observation, ServiceError> {
    Ok(Observation {
        id: id.to_string(),
        rule: rule_code.to_string(),
        facts: facts_of(facts)?,
        work,
        halve,
        document_date,
        carried_from: None,
        evidence,
    })
}

/// Active observations of a run, in entry order.
pub async fn active_observations<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
) -> Result<Vec<observation::Model>, ServiceError> {
    Ok(observation::Entity::find()
        .filter(observation::Column::ScoreRunId.eq(run_id))
        .filter(observation::Column::Status.eq(ObservationStatus::Active))
        .order_by_asc(observation::Column::Id)
        .all(conn)
        .await?)
}

/// Evidence ids linked to each of these observations (for explanations).
pub async fn evidence_of_observations<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>, ServiceError> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for chunk in ids.chunks(500) {
        let links = evidence_link::Entity::find()
            .filter(evidence_link::Column::ObservationId.is_in(chunk.to_vec()))
            .order_by_asc(evidence_link::Column::Id)
            .all(conn)
            .await?;
        for l in links {
            if let Some(o) = l.observation_id {
                out.entry(o).or_default().push(l.evidence_id.to_string());
            }
        }
    }
    Ok(out)
}
