//! A run's results (考核结果) and ranking (排名): computed live by the engine
//! for an open run, read from the stored rows for a published one.

use std::collections::HashMap;

use entity::states::RunStatus;
use entity::{indicator, result, score_run, score_run_unit, unit};
use kaohe_engine::explain::{Cut, Explanation, UnitTotals};
use kaohe_engine::{Observation, Rubric, UnitObservations};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::{Rules, active_observations, engine_observation, evidence_of_observations};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::policy::{self, RunReader};

/// One unit's result, as computed and as stored (JSON in `result.explanation`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnitResult {
    pub unit_id: i64,
    pub unit_name: String,
    pub rank: u32,
    pub final_score: Decimal,
    pub base: Decimal,
    pub bonus: Decimal,
    pub bonus_before_cap: Decimal,
    pub penalty: Decimal,
    pub sections: Vec<SectionResult>,
    pub indicators: Vec<IndicatorExplanation>,
    /// Observation ids moved to a later period (下发文件滞后).
    pub deferred: Vec<String>,
    /// Run-wide cuts (the bonus cap).
    pub cuts: Vec<ScoreCut>,
}

/// A unit's score in one section (板块得分).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SectionResult {
    /// Section code (板块代码), e.g. `1`.
    pub code: String,
    /// Section title (板块名称).
    pub title: String,
    /// Role of the section: `base` (基础分) or `adjustment` (加减分).
    pub role: String,
    /// Points of the section (分值), if it has any.
    pub max: Option<Decimal>,
    /// Score out of its own points (得分), unrounded.
    pub score: Decimal,
    /// Weight (权重, e.g. 30 for 30%), if the regime weights sections.
    pub weight: Option<Decimal>,
    /// Weighted contribution to the base (折算得分).
    pub weighted: Decimal,
    /// Bonus from this section (加分).
    pub bonus: Decimal,
    /// Penalty from this section (减分).
    pub penalty: Decimal,
}

/// Where an indicator's points went (扣分明细, per indicator).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndicatorExplanation {
    /// Indicator code (指标代码).
    pub code: String,
    /// Indicator title (指标名称).
    pub title: String,
    /// Code of the parent indicator (上级指标), if any.
    pub parent: Option<String>,
    /// Depth: 0 for sections (一级), 1 for their children (二级), ….
    pub depth: u32,
    /// Points of the indicator (分值).
    pub max: Option<Decimal>,
    /// Owning department (责任科室), if any.
    pub department: Option<String>,
    /// Final score of the indicator (得分).
    pub score: Decimal,
    /// Points added by its rules (加分).
    pub added: Decimal,
    /// Points deducted by its rules (扣分).
    pub deducted: Decimal,
    /// Score before floor, ceiling and caps (未封顶得分).
    pub raw: Decimal,
    /// Limits that cut the score (封顶/扣完为止).
    pub cuts: Vec<ScoreCut>,
    /// Rules that moved the indicator (考核细则).
    pub rules: Vec<RuleExplanation>,
}

/// One rule's effect on an indicator (细则得失分).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleExplanation {
    /// Rule code (细则代码), e.g. `2.1.1-1`.
    pub rule: String,
    /// Rule kind (规则类型), e.g. `per_count`.
    pub kind: String,
    /// `deduct` (扣分) or `add` (加分).
    pub effect: String,
    /// The rule's original text (原文).
    pub text: String,
    /// Points before the rule's cap (封顶前).
    pub before_cap: Decimal,
    /// Points after the cap (计入分值).
    pub amount: Decimal,
    /// The observations behind it (扣分/加分记录).
    pub observations: Vec<ObservationExplanation>,
}

/// One observation's line in the explanation (记录明细).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObservationExplanation {
    /// Observation id in the database (the engine's key).
    pub observation: String,
    /// The arithmetic in words (计算过程), e.g. `3 人次 × 0.5 = 1.5`.
    pub formula: String,
    /// Points it contributes (分值); 0 when deferred or superseded.
    pub amount: Decimal,
    /// Halving reason (折半原因), if halved.
    pub halved: Option<String>,
    /// `counted` (计入), `deferred` (转下期) or `superseded` (只计最高分).
    pub counted: String,
    /// Evidence ids (佐证材料编号).
    pub evidence: Vec<String>,
    /// When deferred: the period its document moves it to (转入期间).
    #[serde(default)]
    pub deferred_to: Option<String>,
    /// When carried here from an earlier period: the source run, period and row.
    #[serde(default)]
    pub carried_from: Option<super::carry::CarriedFrom>,
}

/// A limit that cut an amount (封顶/扣完为止).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScoreCut {
    /// What cut it: `rule_cap`, `clause_cap`, `group_cap`, `floor` (扣完为止), `ceiling`, `veto` (不得分), `bonus_limit`, `bonus_cap` (加分上限).
    pub by: String,
    /// The limit (上限), if any.
    pub limit: Option<Decimal>,
    /// Amount before the cut (原值).
    pub before: Decimal,
    /// Amount after the cut (结果), if any.
    pub after: Option<Decimal>,
    /// The rule, clause or group that set the limit, if any.
    pub rule: Option<String>,
}

/// What a published run stores per unit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredResult {
    pub outcome: UnitResult,
}

fn text_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn cut(c: &Cut) -> ScoreCut {
    let v = serde_json::to_value(c).unwrap_or_default();
    let dec = |k: &str| v.get(k).and_then(|x| x.as_str()).and_then(|s| s.parse::<Decimal>().ok());
    ScoreCut {
        by: v.get("by").and_then(|x| x.as_str()).unwrap_or("").to_string(),
        limit: dec("limit"),
        before: dec("before").unwrap_or_default(),
        after: dec("after"),
        rule: v
            .get("rule")
            .or_else(|| v.get("clause"))
            .or_else(|| v.get("group"))
            .and_then(|x| x.as_str())
            .map(str::to_string),
    }
}

fn outcome(
    rubric: &Rubric,
    unit_id: i64,
    unit_name: &str,
    score: &UnitTotals,
    ex: Option<&Explanation>,
    carried: &HashMap<String, super::carry::CarriedFrom>,
) -> UnitResult {
    let sections = score
        .sections
        .iter()
        .map(|s| SectionResult {
            code: s.code.clone(),
            title: rubric.indicator(&s.code).map(|i| i.title.clone()).unwrap_or_default(),
            role: text_of(&s.role),
            max: s.max,
            score: s.score,
            weight: s.weight,
            weighted: s.weighted,
            bonus: s.bonus,
            penalty: s.penalty,
        })
        .collect();
    let indicators = ex
        .map(|ex| {
            ex.indicators
                .iter()
                .map(|i| IndicatorExplanation {
                    code: i.code.clone(),
                    title: i.title.clone(),
                    parent: i.parent.clone(),
                    depth: u32::try_from(i.depth).unwrap_or(0),
                    max: i.max,
                    department: i.department.clone(),
                    score: i.score,
                    added: i.added,
                    deducted: i.deducted,
                    raw: i.raw,
                    cuts: i.cuts.iter().map(cut).collect(),
                    rules: i
                        .rules
                        .iter()
                        .map(|r| RuleExplanation {
                            rule: r.rule.clone(),
                            kind: r.kind.to_string(),
                            effect: text_of(&r.effect),
                            text: r.text.clone(),
                            before_cap: r.before_cap,
                            amount: r.amount,
                            observations: r
                                .observations
                                .iter()
                                .map(|o| ObservationExplanation {
                                    observation: o.observation.clone(),
                                    formula: o.formula.clone(),
                                    amount: o.amount,
                                    halved: o.halved.clone(),
                                    counted: serde_json::to_value(&o.counted)
                                        .ok()
                                        .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_string))
                                        .unwrap_or_default(),
                                    evidence: o.evidence.clone(),
                                    deferred_to: match &o.counted {
                                        kaohe_engine::explain::Counted::Deferred { to } => Some(to.to_string()),
                                        _ => None,
                                    },
                                    carried_from: carried.get(&o.observation).cloned(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    UnitResult {
        unit_id,
        unit_name: unit_name.to_string(),
        rank: 0,
        final_score: score.final_score,
        base: score.base,
        bonus: score.bonus,
        bonus_before_cap: score.bonus_before_cap,
        penalty: score.penalty,
        sections,
        indicators,
        deferred: ex.map(|e| e.deferred.clone()).unwrap_or_default(),
        cuts: ex.map(|e| e.cuts.iter().map(cut).collect()).unwrap_or_default(),
    }
}

/// The units of a run, in the order they were added.
pub async fn units_of<C: ConnectionTrait>(conn: &C, run_id: i64) -> Result<Vec<unit::Model>, ServiceError> {
    let links = score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run_id))
        .order_by_asc(score_run_unit::Column::Id)
        .all(conn)
        .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.unit_id).collect();
    let mut by_id: HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(ids.into_iter().filter_map(|i| by_id.remove(&i)).collect())
}

/// Where the carried observations of a run came from, by engine key.
pub type CarriedSources = HashMap<String, super::carry::CarriedFrom>;

/// Every unit's observations of a run, as the engine reads them (carried
/// ones with the period they come from), and where the carried ones came from.
pub async fn unit_observations<C: ConnectionTrait>(
    conn: &C,
    run: &score_run::Model,
) -> Result<(Vec<unit::Model>, Vec<UnitObservations>, CarriedSources), ServiceError> {
    let units = units_of(conn, run.id).await?;
    let rules = Rules::of_version(conn, run.rubric_version_id).await?;
    let rows = active_observations(conn, run.id).await?;
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let mut evidence = evidence_of_observations(conn, &ids).await?;
    let sources = super::carry::sources(conn, &rows).await?;
    let mut per_unit: HashMap<i64, Vec<Observation>> = HashMap::new();
    for o in &rows {
        let ev = evidence.remove(&o.id).unwrap_or_default();
        let mut e = engine_observation(o, rules.code_of(o.rule_id)?, ev)?;
        if let Some(s) = sources.get(&o.id) {
            e.carried_from = Some(super::period_of_text(&s.period)?);
        }
        per_unit.entry(o.unit_id).or_default().push(e);
    }
    let list = units
        .iter()
        .map(|u| UnitObservations { unit: engine_label(u), observations: per_unit.remove(&u.id).unwrap_or_default() })
        .collect();
    let sources = sources.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Ok((units, list, sources))
}

/// The unit's label inside the engine (names are what ties are ordered by).
pub fn engine_label(u: &unit::Model) -> String {
    format!("{}#{}", u.name, u.id)
}

/// Scores every unit of the run with explanations, ranked (ties share a rank).
pub async fn compute<C: ConnectionTrait>(
    conn: &C,
    rubric: &Rubric,
    run: &score_run::Model,
) -> Result<Vec<UnitResult>, ServiceError> {
    let period = super::period_of(run)?;
    let (units, list, carried) = unit_observations(conn, run).await?;
    let mut out = Vec::with_capacity(units.len());
    for (u, uo) in units.iter().zip(&list) {
        let r = kaohe_engine::score_unit(rubric, period, &uo.unit, &uo.observations, true)?;
        out.push(outcome(rubric, u.id, &u.name, &r.score, r.explanation.as_ref(), &carried));
    }
    let labels: Vec<String> = units.iter().map(engine_label).collect();
    let ranked = kaohe_engine::rank(labels.iter().map(String::as_str).zip(out.iter().map(|o| o.final_score)));
    let position: HashMap<&str, (usize, u32)> =
        ranked.iter().enumerate().map(|(i, r)| (r.unit.as_str(), (i, r.rank))).collect();
    let mut ordered: Vec<(usize, UnitResult)> = labels
        .iter()
        .zip(out)
        .map(|(l, mut o)| {
            let (i, rank) = position.get(l.as_str()).copied().unwrap_or((usize::MAX, 0));
            o.rank = rank;
            (i, o)
        })
        .collect();
    ordered.sort_by_key(|(i, _)| *i);
    Ok(ordered.into_iter().map(|(_, o)| o).collect())
}

/// Section code → indicator id of a version's sections.
pub async fn section_rows<C: ConnectionTrait>(conn: &C, version_id: i64) -> Result<HashMap<String, i64>, ServiceError> {
    Ok(indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version_id))
        .filter(indicator::Column::ParentId.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|i| (i.code, i.id))
        .collect())
}

/// StoredResult results of a published (or superseded) run, by rank.
pub async fn stored<C: ConnectionTrait>(conn: &C, run_id: i64) -> Result<Vec<UnitResult>, ServiceError> {
    stored_as(conn, run_id, Detail::Full).await
}

/// How much of a stored result to read back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Detail {
    /// Everything, the explanation tree included.
    Full,
    /// Figures and sections only (a ranking): the explanation is skipped
    /// while parsing, which is most of the work for 1,000 units.
    Summary,
}

/// The part of a stored result a ranking shows.
#[derive(Deserialize)]
struct StoredSummary {
    outcome: OutcomeSummary,
}

#[derive(Deserialize)]
struct OutcomeSummary {
    unit_name: String,
    bonus_before_cap: Decimal,
    sections: Vec<SectionResult>,
}

pub async fn stored_as<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
    detail: Detail,
) -> Result<Vec<UnitResult>, ServiceError> {
    let rows = result::Entity::find()
        .filter(result::Column::ScoreRunId.eq(run_id))
        .order_by_asc(result::Column::Rank)
        .order_by_asc(result::Column::Id)
        .all(conn)
        .await?;
    let bad = |id: i64, e: serde_json::Error| ServiceError::Internal(format!("stored result {id}: {e}").into());
    rows.into_iter()
        .map(|r| {
            let mut o = match detail {
                Detail::Full => serde_json::from_str::<StoredResult>(&r.explanation).map_err(|e| bad(r.id, e))?.outcome,
                Detail::Summary => {
                    let s: StoredSummary = serde_json::from_str(&r.explanation).map_err(|e| bad(r.id, e))?;
                    UnitResult {
                        unit_id: r.unit_id,
                        unit_name: s.outcome.unit_name,
                        rank: 0,
                        final_score: Decimal::ZERO,
                        base: Decimal::ZERO,
                        bonus: Decimal::ZERO,
                        bonus_before_cap: s.outcome.bonus_before_cap,
                        penalty: Decimal::ZERO,
                        sections: s.outcome.sections,
                        indicators: Vec::new(),
                        deferred: Vec::new(),
                        cuts: Vec::new(),
                    }
                }
            };
            // The typed columns are the record; the JSON carries the detail.
            o.final_score = r.final_score.0;
            o.base = r.base.0;
            o.bonus = r.bonus.0;
            o.penalty = r.penalty.0;
            o.rank = u32::try_from(r.rank).unwrap_or(0);
            Ok(o)
        })
        .collect()
}

/// A run's results: stored once published, computed live while open.
/// A run's results as the caller may see them: units and integrations see
/// published results only (an open run: none); a unit only its own row.
pub async fn of_loaded_run(
    db: &DatabaseConnection,
    caller: &Caller,
    run: &score_run::Model,
) -> Result<Vec<UnitResult>, ServiceError> {
    of_loaded_run_as(db, caller, run, Detail::Full).await
}

pub async fn of_loaded_run_as(
    db: &DatabaseConnection,
    caller: &Caller,
    run: &score_run::Model,
    detail: Detail,
) -> Result<Vec<UnitResult>, ServiceError> {
    let reader = super::see_run(db, caller, run).await?;
    if !reader.sees_results_of(run.status) {
        return Ok(Vec::new());
    }
    let all = if run.status == RunStatus::Published || run.status == RunStatus::Superseded {
        stored_as(db, run.id, detail).await?
    } else {
        let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
        compute(db, &rubric, run).await?
    };
    Ok(visible_rows(reader, all))
}

/// Published runs' ranking rows (figures and sections), kept for the life
/// of the server: a published run's results never change (an amendment is
/// a new run), and the 月讲评 pull reads all 1,000 of them every time.
/// Bounded: past `MAX_CACHED_RUNS` it starts again empty.
#[derive(Default)]
pub struct RankingCache(std::sync::RwLock<HashMap<i64, std::sync::Arc<Vec<UnitResult>>>>);

const MAX_CACHED_RUNS: usize = 256;

impl RankingCache {
    fn get(&self, run_id: i64) -> Option<std::sync::Arc<Vec<UnitResult>>> {
        self.0.read().ok()?.get(&run_id).cloned()
    }

    fn put(&self, run_id: i64, rows: std::sync::Arc<Vec<UnitResult>>) {
        if let Ok(mut m) = self.0.write() {
            if m.len() >= MAX_CACHED_RUNS {
                m.clear();
            }
            m.insert(run_id, rows);
        }
    }
}

/// A run's ranking rows as the caller may see them; a published run's come
/// from `cache` after the first read (shared with every caller who sees the
/// whole run). Visibility is checked every time.
pub async fn ranking_of(
    db: &DatabaseConnection,
    caller: &Caller,
    run: &score_run::Model,
    cache: Option<&RankingCache>,
) -> Result<std::sync::Arc<Vec<UnitResult>>, ServiceError> {
    let Some(cache) = cache.filter(|_| run.status.is_published()) else {
        return Ok(std::sync::Arc::new(of_loaded_run_as(db, caller, run, Detail::Summary).await?));
    };
    let reader = super::see_run(db, caller, run).await?;
    let rows = match cache.get(run.id) {
        Some(rows) => rows,
        None => {
            let rows = std::sync::Arc::new(stored_as(db, run.id, Detail::Summary).await?);
            cache.put(run.id, rows.clone());
            rows
        }
    };
    // Shared, not copied, for whoever sees the whole run.
    Ok(match reader {
        RunReader::Unit(u) => std::sync::Arc::new(rows.iter().filter(|o| o.unit_id == u).cloned().collect()),
        _ => rows,
    })
}

/// The rows of `all` the reader may see.
pub fn visible_rows(reader: RunReader, all: Vec<UnitResult>) -> Vec<UnitResult> {
    match reader {
        RunReader::Unit(u) => all.into_iter().filter(|o| o.unit_id == u).collect(),
        _ => all,
    }
}

/// One hypothetical change for a what-if.
pub enum WhatIfChange {
    Add { unit_id: i64, rule: String, facts: Box<kaohe_engine::Facts>, work: Option<String>, halve: Option<String> },
    Remove { observation_id: i64 },
}

/// A unit before and after a what-if.
pub struct WhatIfRow {
    pub unit_id: i64,
    pub final_before: Decimal,
    pub rank_before: u32,
    pub final_after: Decimal,
    pub rank_after: u32,
}

/// Scores the run with the changes applied; saves nothing.
pub async fn what_if(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
    changes: Vec<WhatIfChange>,
) -> Result<Vec<WhatIfRow>, ServiceError> {
    use kaohe_engine::whatif::Change;
    let (run, _) = super::visible_run(db, caller, run_id).await?;
    policy::may_read_as_staff(caller, run.organisation_id)?;
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let period = super::period_of(&run)?;
    let (units, list, _) = unit_observations(db, &run).await?;
    let label_of = |id: i64| units.iter().find(|u| u.id == id).map(engine_label);
    let mut engine_changes = Vec::new();
    for (n, c) in changes.into_iter().enumerate() {
        match c {
            WhatIfChange::Add { unit_id, rule, facts, work, halve } => {
                let unit = label_of(unit_id).ok_or_else(|| {
                    ServiceError::BadUserInput(format!("change {}: the unit is not assessed in this run", n + 1))
                })?;
                let mut o = Observation::new(format!("what-if-{}", n + 1), rule, *facts);
                o.work = work;
                o.halve = halve;
                kaohe_engine::check_observation(&rubric, &o)?;
                engine_changes.push(Change::Add { unit, observation: o });
            }
            WhatIfChange::Remove { observation_id } => {
                let key = observation_id.to_string();
                let owner = list.iter().find(|u| u.observations.iter().any(|o| o.id == key)).ok_or_else(|| {
                    ServiceError::BadUserInput(format!(
                        "change {}: {} is not active in this run",
                        n + 1,
                        crate::error::observation_name(&key)
                    ))
                })?;
                engine_changes.push(Change::Remove { unit: owner.unit.clone(), observation: key });
            }
        }
    }
    let rows = kaohe_engine::whatif::what_if(&rubric, period, &list, &engine_changes)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let u = units.iter().find(|u| engine_label(u) == r.unit)?;
            Some(WhatIfRow {
                unit_id: u.id,
                final_before: r.final_before,
                rank_before: r.rank_before,
                final_after: r.final_after,
                rank_after: r.rank_after,
            })
        })
        .collect())
}
