//! Carry-over between periods (下发文件滞后的转到下月加分).
//!
//! A bonus on a rule that defers late documents (`defer_late`), recorded in
//! a run whose period ends before its document date, counts nothing there
//! (the engine marks it `deferred`, naming the document's period). It counts
//! once, in a later run of the same rubric for the same unit, as a **carried
//! row**: a copy in that run with `carried_from_id` = the source row and the
//! source's lineage (`origin_id`), which the engine scores with
//! `carried_from` = the source period.
//!
//! - **Where it lands.** Only published sources are carried (a source still
//!   open may change). The item goes to the earliest open run, at the time
//!   it is carried, of the same rubric whose period contains or follows the
//!   document's date and assesses the unit. When the document's period is
//!   already published, that is the next open period.
//! - **When.** `sync` runs when a run is opened (or amended), before it is
//!   published, and for every later open run when an earlier run is
//!   published: so an open run's live results show what it will count.
//! - **Once.** A lineage (the source row, its corrections and the copies an
//!   amendment makes) is carried into at most one period: a carried row in a
//!   current run (open or published) of another period takes it.
//! - **The source amended.** When the source period's revision is
//!   published, a carried row in an open run follows it: it points at the
//!   revision's row, is replaced by a copy of the corrected facts, or is
//!   withdrawn when the revision no longer defers it. A carried row in a
//!   published run stays as published (a published result never changes); it
//!   follows when that run is amended in turn, and the lineage is never
//!   carried again elsewhere.
//! - Carried rows are not corrected or withdrawn in the target run: the
//!   source is (through an amendment), and the carried row follows.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::states::{ObservationStatus, RunStatus};
use entity::{observation, rubric_version, rule, score_run, score_run_unit};
use kaohe_engine::Period;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::period_of;
use crate::error::ServiceError;

/// One change `sync` made to a run's carried rows, for the audit entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Carried {
    /// `carried` (a new carried row), `followed` (re-pointed to the
    /// source's revision), `replaced` (the revision changed it) or
    /// `withdrawn` (the revision no longer defers it).
    pub action: &'static str,
    pub observation_id: i64,
    pub from_observation_id: Option<i64>,
    pub unit_id: i64,
}

/// Where a carried row came from: the source run, its period and row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CarriedFrom {
    pub run_id: i64,
    pub period: String,
    pub observation_id: i64,
}

/// The runs of the rubric `run` scores (every version of it), oldest first.
async fn rubric_runs<C: ConnectionTrait>(
    conn: &C,
    run: &score_run::Model,
) -> Result<Vec<score_run::Model>, ServiceError> {
    let version = rubric_version::Entity::find_by_id(run.rubric_version_id)
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::Internal("the run's rubric version".into()))?;
    let versions: Vec<i64> = rubric_version::Entity::find()
        .filter(rubric_version::Column::RubricId.eq(version.rubric_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    Ok(score_run::Entity::find()
        .filter(score_run::Column::OrganisationId.eq(run.organisation_id))
        .filter(score_run::Column::RubricVersionId.is_in(versions))
        .order_by_asc(score_run::Column::Id)
        .all(conn)
        .await?)
}

fn current(r: &score_run::Model) -> bool {
    matches!(r.status, RunStatus::Open | RunStatus::Published)
}

/// Is this row of a run of period `period` deferred there (its rule defers
/// late documents and the document is dated after the period)?
fn deferred(o: &observation::Model, rule: Option<&rule::Model>, period: Period) -> Option<NaiveDate> {
    let d = o.document_date?;
    (rule.is_some_and(|r| r.defer_late) && d > period.last_day()).then_some(d)
}

/// Brings a run's carried rows up to date: rows whose source period was
/// amended follow the amendment, and every deferred item of a published
/// earlier run that belongs here and is carried nowhere else is carried in.
/// Inside the caller's write transaction; answers what changed.
pub async fn sync<C: ConnectionTrait>(conn: &C, run: &score_run::Model) -> Result<Vec<Carried>, ServiceError> {
    if run.status != RunStatus::Open {
        return Ok(Vec::new());
    }
    let period = period_of(run)?;
    let runs = rubric_runs(conn, run).await?;
    let by_id: HashMap<i64, &score_run::Model> = runs.iter().map(|r| (r.id, r)).collect();
    let mut periods: HashMap<i64, Period> = HashMap::new();
    for r in &runs {
        periods.insert(r.id, period_of(r)?);
    }
    // Every active row of the rubric's current runs that matters here:
    // carried rows anywhere, and deferred candidates of earlier published runs.
    let current_ids: Vec<i64> = runs.iter().filter(|r| current(r)).map(|r| r.id).collect();
    let rows = observation::Entity::find()
        .filter(observation::Column::ScoreRunId.is_in(current_ids))
        .filter(observation::Column::Status.eq(ObservationStatus::Active))
        .filter(observation::Column::DocumentDate.is_not_null().or(observation::Column::CarriedFromId.is_not_null()))
        .order_by_asc(observation::Column::Id)
        .all(conn)
        .await?;
    let rule_ids: HashSet<i64> = rows.iter().map(|o| o.rule_id).collect();
    let rules: HashMap<i64, rule::Model> = rule::Entity::find()
        .filter(rule::Column::Id.is_in(rule_ids.into_iter().collect::<Vec<_>>()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let here_rules: HashMap<String, rule::Model> = rule::Entity::find()
        .filter(rule::Column::RubricVersionId.eq(run.rubric_version_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect();
    let units: HashSet<i64> = score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.unit_id)
        .collect();
    let period_of_run = |id: i64| periods.get(&id).copied();
    // Lineages already carried into a current run of another period, or here.
    let mut taken: HashSet<i64> = rows
        .iter()
        .filter(|o| o.carried_from_id.is_some())
        .filter(|o| o.score_run_id == run.id || period_of_run(o.score_run_id) != Some(period))
        .map(observation::Model::lineage)
        .collect();
    let mut changes = Vec::new();

    // 1. Carried rows here whose source run was superseded follow the
    //    source period's published revision.
    let published_of = |p: Period| {
        runs.iter().find(|r| r.status == RunStatus::Published && period_of_run(r.id) == Some(p)).map(|r| r.id)
    };
    let mine: Vec<&observation::Model> =
        rows.iter().filter(|o| o.score_run_id == run.id && o.carried_from_id.is_some()).collect();
    for c in mine {
        let Some(source_id) = c.carried_from_id else { continue };
        let source = observation::Entity::find_by_id(source_id)
            .one(conn)
            .await?
            .ok_or_else(|| ServiceError::Internal("the source of a carried row".into()))?;
        let Some(source_run) = by_id.get(&source.score_run_id) else { continue };
        if source_run.status != RunStatus::Superseded {
            continue;
        }
        let Some(source_period) = period_of_run(source_run.id) else { continue };
        let Some(revision) = published_of(source_period) else { continue };
        let now = rows
            .iter()
            .find(|o| o.score_run_id == revision && o.carried_from_id.is_none() && o.lineage() == c.lineage());
        let still =
            now.filter(|o| deferred(o, rules.get(&o.rule_id), source_period).is_some_and(|d| d <= period.last_day()));
        match still {
            Some(x) if same_fact(x, c, &rules) => {
                observation::Entity::update_many()
                    .col_expr(observation::Column::CarriedFromId, Expr::value(x.id))
                    .col_expr(observation::Column::Version, Expr::col(observation::Column::Version).add(1))
                    .filter(observation::Column::Id.eq(c.id))
                    .exec(conn)
                    .await?;
                changes.push(Carried {
                    action: "followed",
                    observation_id: c.id,
                    from_observation_id: Some(x.id),
                    unit_id: c.unit_id,
                });
            }
            Some(x) => {
                super::observations::retire(conn, c.id, c.version, ObservationStatus::Superseded).await?;
                let Some(rule) = rules.get(&x.rule_id).and_then(|r| here_rules.get(&r.code)) else { continue };
                let row = carry(conn, run, x, rule.id, Some(c.id)).await?;
                changes.push(Carried {
                    action: "replaced",
                    observation_id: row.id,
                    from_observation_id: Some(x.id),
                    unit_id: c.unit_id,
                });
            }
            None => {
                super::observations::retire(conn, c.id, c.version, ObservationStatus::Withdrawn).await?;
                taken.remove(&c.lineage());
                changes.push(Carried {
                    action: "withdrawn",
                    observation_id: c.id,
                    from_observation_id: None,
                    unit_id: c.unit_id,
                });
            }
        }
    }

    // 2. Deferred items of earlier published runs, carried nowhere yet.
    for x in &rows {
        if x.carried_from_id.is_some() || !units.contains(&x.unit_id) || taken.contains(&x.lineage()) {
            continue;
        }
        let Some(source) = by_id.get(&x.score_run_id) else { continue };
        let Some(source_period) = period_of_run(source.id) else { continue };
        if source.status != RunStatus::Published || source_period >= period {
            continue;
        }
        let rule = rules.get(&x.rule_id);
        let Some(d) = deferred(x, rule, source_period) else { continue };
        if d > period.last_day() {
            continue;
        }
        // The same rule in this run's version, deferring too.
        let Some(here) = rule.and_then(|r| here_rules.get(&r.code)).filter(|r| r.defer_late) else { continue };
        let row = carry(conn, run, x, here.id, None).await?;
        taken.insert(x.lineage());
        changes.push(Carried {
            action: "carried",
            observation_id: row.id,
            from_observation_id: Some(x.id),
            unit_id: x.unit_id,
        });
    }
    Ok(changes)
}

/// The same fact (what scoring reads) on both rows.
fn same_fact(a: &observation::Model, b: &observation::Model, rules: &HashMap<i64, rule::Model>) -> bool {
    let code = |o: &observation::Model| rules.get(&o.rule_id).map(|r| r.code.clone());
    a.facts == b.facts
        && a.work_key == b.work_key
        && a.halve == b.halve
        && a.document_date == b.document_date
        && code(a) == code(b)
}

/// Inserts the carried copy of `source` into `run`, with its evidence.
async fn carry<C: ConnectionTrait>(
    conn: &C,
    run: &score_run::Model,
    source: &observation::Model,
    rule_id: i64,
    supersedes: Option<i64>,
) -> Result<observation::Model, ServiceError> {
    let row = observation::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(source.unit_id),
        rule_id: Set(rule_id),
        facts: Set(source.facts.clone()),
        note: Set(source.note.clone()),
        status: Set(ObservationStatus::Active),
        supersedes_id: Set(supersedes),
        work_key: Set(source.work_key.clone()),
        document_date: Set(source.document_date),
        entered_by: Set(source.entered_by),
        entered_at: Set(source.entered_at),
        idempotency_key: Set(None),
        version: Set(1),
        halve: Set(source.halve.clone()),
        origin_id: Set(Some(source.lineage())),
        carried_from_id: Set(Some(source.id)),
        batch_id: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    crate::evidence::copy_links(conn, crate::evidence::Linked::Observation(source.id), row.id).await?;
    Ok(row)
}

/// After `published` was published: every later open run of the same
/// rubric takes what it now has to carry (earliest period first), and
/// follows `published` if it is a revision. Inside the publishing transaction.
pub async fn after_publish<C: ConnectionTrait>(
    conn: &C,
    published: &score_run::Model,
) -> Result<Vec<(i64, Vec<Carried>)>, ServiceError> {
    let period = period_of(published)?;
    let mut later: Vec<(Period, score_run::Model)> = Vec::new();
    for r in rubric_runs(conn, published).await? {
        let p = period_of(&r)?;
        if r.status == RunStatus::Open && p > period {
            later.push((p, r));
        }
    }
    later.sort_by_key(|(p, r)| (*p, r.id));
    let mut out = Vec::new();
    for (_, r) in later {
        let changes = sync(conn, &r).await?;
        if !changes.is_empty() {
            out.push((r.id, changes));
        }
    }
    Ok(out)
}

/// Where each carried row among `rows` came from (source run, period, row).
pub async fn sources<C: ConnectionTrait>(
    conn: &C,
    rows: &[observation::Model],
) -> Result<HashMap<i64, CarriedFrom>, ServiceError> {
    let wanted: Vec<(i64, i64)> = rows.iter().filter_map(|o| o.carried_from_id.map(|s| (o.id, s))).collect();
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = wanted.iter().map(|(_, s)| *s).collect();
    let mut source_rows: HashMap<i64, observation::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for o in observation::Entity::find().filter(observation::Column::Id.is_in(chunk.to_vec())).all(conn).await? {
            source_rows.insert(o.id, o);
        }
    }
    let run_ids: HashSet<i64> = source_rows.values().map(|o| o.score_run_id).collect();
    let runs: HashMap<i64, score_run::Model> = score_run::Entity::find()
        .filter(score_run::Column::Id.is_in(run_ids.into_iter().collect::<Vec<_>>()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for (id, s) in wanted {
        let Some(src) = source_rows.get(&s) else { continue };
        let Some(r) = runs.get(&src.score_run_id) else { continue };
        out.insert(id, CarriedFrom { run_id: r.id, period: r.period.clone(), observation_id: s });
    }
    Ok(out)
}

/// The period a stored row was carried from, if it is a carried row.
pub async fn carried_period<C: ConnectionTrait>(
    conn: &C,
    o: &observation::Model,
) -> Result<Option<Period>, ServiceError> {
    if o.carried_from_id.is_none() {
        return Ok(None);
    }
    let s = sources(conn, std::slice::from_ref(o)).await?;
    s.get(&o.id)
        .map(|c| c.period.parse::<Period>().map_err(|e| ServiceError::Internal(e.to_string().into())))
        .transpose()
}

/// Where a deferred row went: the active carried row of its lineage in a
/// current run (run, period, row), if it has been carried.
pub async fn carried_into<C: ConnectionTrait>(
    conn: &C,
    o: &observation::Model,
) -> Result<Option<CarriedFrom>, ServiceError> {
    if o.document_date.is_none() || o.carried_from_id.is_some() {
        return Ok(None);
    }
    let rows = observation::Entity::find()
        .filter(observation::Column::OriginId.eq(o.lineage()))
        .filter(observation::Column::CarriedFromId.is_not_null())
        .filter(observation::Column::Status.eq(ObservationStatus::Active))
        .order_by_asc(observation::Column::Id)
        .all(conn)
        .await?;
    for c in rows {
        let Some(r) = score_run::Entity::find_by_id(c.score_run_id).one(conn).await? else { continue };
        if current(&r) {
            return Ok(Some(CarriedFrom { run_id: r.id, period: r.period, observation_id: c.id }));
        }
    }
    Ok(None)
}

/// The audit entry's record of what a sync changed.
pub fn audit_json(changes: &[Carried]) -> serde_json::Value {
    json!(changes)
}
