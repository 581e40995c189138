//! The GraphQL types of results and their explanations (考核结果, 扣分明细),
//! mapped from the service's typed outcomes (`kaohe_service::runs::results`).

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::score_run;

use super::connection::connection;
use super::errors::GqlResult;
use super::{IdKind, Unit, env, to_id};
use crate::paging::Page;
use crate::runs::query::RunFilter;
use crate::runs::results;
use crate::runs::{self};

use kaohe_service::runs::results as outcome;
use rust_decimal::Decimal;

use super::rubric::RuleEffect;
use super::states::{CutKind, IndicatorRole, RuleKind};
use super::written::{self, Generation, Written};

/// A unit's score in one section (板块得分).
#[derive(SimpleObject)]
pub struct SectionResult {
    /// Section code (板块代码), e.g. `1`.
    pub code: String,
    /// Section title (板块名称).
    pub title: String,
    /// Role of the section: base score (基础分) or adjustment (加减分).
    pub role: IndicatorRole,
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
#[derive(SimpleObject)]
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
#[derive(SimpleObject)]
pub struct RuleExplanation {
    /// Rule code (细则代码), e.g. `2.1.1-1`.
    pub rule: String,
    /// Rule kind (规则类型).
    pub kind: RuleKind,
    /// Deduct (扣分) or add (加分).
    pub effect: RuleEffect,
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
#[derive(SimpleObject)]
pub struct ObservationExplanation {
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
    /// The observation (记录): its global id, for `node(id)`.
    pub observation: ID,
    /// When deferred (下发文件滞后): the period its document moves it to (转入期间).
    pub deferred_to: Option<String>,
    /// When carried here from an earlier period (结转自): the source run, period and observation.
    pub carried_from: Option<super::observations::CarriedObservation>,
}

/// A limit that cut an amount (封顶/扣完为止).
#[derive(SimpleObject)]
pub struct ScoreCut {
    /// What cut it.
    pub by: CutKind,
    /// The limit (上限), if any.
    pub limit: Option<Decimal>,
    /// Amount before the cut (原值).
    pub before: Decimal,
    /// Amount after the cut (结果), if any.
    pub after: Option<Decimal>,
    /// The rule, clause or group that set the limit, if any.
    pub rule: Option<String>,
}

/// The global id of an observation known to the engine by its row id (a
/// what-if observation keeps its engine key).
pub fn observation_gid(key: &str) -> ID {
    match key.parse::<i64>() {
        Ok(n) => to_id(IdKind::Observation, n),
        Err(_) => ID(key.to_string()),
    }
}

impl From<&outcome::SectionResult> for SectionResult {
    fn from(s: &outcome::SectionResult) -> Self {
        SectionResult {
            code: s.code.clone(),
            title: s.title.clone(),
            role: IndicatorRole::known(&s.role),
            max: s.max,
            score: s.score,
            weight: s.weight,
            weighted: s.weighted,
            bonus: s.bonus,
            penalty: s.penalty,
        }
    }
}

impl From<&outcome::ScoreCut> for ScoreCut {
    fn from(c: &outcome::ScoreCut) -> Self {
        ScoreCut { by: CutKind::known(&c.by), limit: c.limit, before: c.before, after: c.after, rule: c.rule.clone() }
    }
}

impl From<&outcome::ObservationExplanation> for ObservationExplanation {
    fn from(o: &outcome::ObservationExplanation) -> Self {
        ObservationExplanation {
            observation: observation_gid(&o.observation),
            formula: o.formula.clone(),
            amount: o.amount,
            halved: o.halved.clone(),
            counted: o.counted.clone(),
            evidence: o.evidence.clone(),
            deferred_to: o.deferred_to.clone(),
            carried_from: o.carried_from.as_ref().map(Into::into),
        }
    }
}

impl From<&outcome::RuleExplanation> for RuleExplanation {
    fn from(r: &outcome::RuleExplanation) -> Self {
        RuleExplanation {
            rule: r.rule.clone(),
            kind: RuleKind::known(&r.kind),
            effect: RuleEffect::of(&r.effect),
            text: r.text.clone(),
            before_cap: r.before_cap,
            amount: r.amount,
            observations: r.observations.iter().map(Into::into).collect(),
        }
    }
}

impl From<&outcome::IndicatorExplanation> for IndicatorExplanation {
    fn from(i: &outcome::IndicatorExplanation) -> Self {
        IndicatorExplanation {
            code: i.code.clone(),
            title: i.title.clone(),
            parent: i.parent.clone(),
            depth: i.depth,
            max: i.max,
            department: i.department.clone(),
            score: i.score,
            added: i.added,
            deducted: i.deducted,
            raw: i.raw,
            cuts: i.cuts.iter().map(Into::into).collect(),
            rules: i.rules.iter().map(Into::into).collect(),
        }
    }
}

connection!(UnitResultConnection, UnitResultEdge, UnitResult, "unit results (考核结果)");

/// A unit's result in a run (考核结果) with its explanation (扣分明细).
#[derive(Clone)]
pub struct UnitResult(pub outcome::UnitResult);

/// A unit's result in a run (考核结果) with its explanation (扣分明细).
#[Object]
impl UnitResult {
    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// The unit's name (单位名称) as scored: a published result keeps it after a rename.
    async fn unit_name(&self) -> &str {
        &self.0.unit_name
    }

    /// Rank among the run's units (排名); ties share a rank.
    async fn rank(&self) -> u32 {
        self.0.rank
    }

    /// Final score (最终得分) = weighted base + bonus − penalty; exact, unrounded.
    async fn final_score(&self) -> Decimal {
        self.0.final_score
    }

    /// Weighted base score (基础分).
    async fn base(&self) -> Decimal {
        self.0.base
    }

    /// Bonus after caps (加分).
    async fn bonus(&self) -> Decimal {
        self.0.bonus
    }

    /// Bonus before the rubric's bonus cap (加分, 封顶前).
    async fn bonus_before_cap(&self) -> Decimal {
        self.0.bonus_before_cap
    }

    /// Penalty (减分).
    async fn penalty(&self) -> Decimal {
        self.0.penalty
    }

    /// Per section (板块得分).
    async fn sections(&self) -> Vec<SectionResult> {
        self.0.sections.iter().map(Into::into).collect()
    }

    /// Per indicator, with rules and observations (扣分明细).
    async fn explanation(&self) -> Vec<IndicatorExplanation> {
        self.0.indicators.iter().map(Into::into).collect()
    }

    /// Observations moved to a later period (下发文件滞后, 转下期).
    async fn deferred(&self) -> Vec<ID> {
        self.0.deferred.iter().map(|k| observation_gid(k)).collect()
    }

    /// Run-wide cuts, e.g. the bonus cap (加分上限).
    async fn cuts(&self) -> Vec<ScoreCut> {
        self.0.cuts.iter().map(Into::into).collect()
    }
}

/// A row of a ranking (排名): rank, unit, final score and its parts.
pub struct RankingEntry {
    /// The run's rows (shared, as kept for a published run) and which is this one.
    rows: std::sync::Arc<Vec<outcome::UnitResult>>,
    index: usize,
    pub(super) run: std::sync::Arc<score_run::Model>,
    /// The unit, when the list loaded them all at once (`loader::prime_units`).
    pub(super) unit: Option<std::sync::Arc<entity::unit::Model>>,
}

impl RankingEntry {
    /// Rows of `run`, each with its unit from `units` when there.
    pub(super) fn rows(
        outcomes: std::sync::Arc<Vec<outcome::UnitResult>>,
        run: std::sync::Arc<score_run::Model>,
        units: &std::collections::HashMap<i64, std::sync::Arc<entity::unit::Model>>,
    ) -> impl Iterator<Item = RankingEntry> {
        (0..outcomes.len()).map(move |index| {
            let unit = units.get(&outcomes[index].unit_id).cloned();
            RankingEntry { rows: outcomes.clone(), index, run: run.clone(), unit }
        })
    }

    fn outcome(&self) -> &outcome::UnitResult {
        &self.rows[self.index]
    }
}

/// A row of a ranking (排名): rank, unit, final score and its parts.
#[Object]
impl RankingEntry {
    /// Rank (排名); ties share a rank (1, 2, 2, 4).
    async fn rank(&self) -> u32 {
        self.outcome().rank
    }

    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        if let Some(u) = &self.unit {
            return Ok(Unit(u.as_ref().clone()));
        }
        Ok(Unit(super::loader::unit(ctx, self.outcome().unit_id).await?))
    }

    /// The unit's name (单位名称), as scored.
    async fn unit_name(&self) -> &str {
        &self.outcome().unit_name
    }

    /// Final score (最终得分).
    async fn final_score(&self) -> Decimal {
        self.outcome().final_score
    }

    /// Weighted base (基础分).
    async fn base(&self) -> Decimal {
        self.outcome().base
    }

    /// Weighted parts per section (折算得分), e.g. 日常工作 and 重点任务.
    async fn sections(&self) -> Vec<SectionResult> {
        self.outcome().sections.iter().map(Into::into).collect()
    }

    /// Bonus (加分).
    async fn bonus(&self) -> Decimal {
        self.outcome().bonus
    }

    /// Penalty (减分).
    async fn penalty(&self) -> Decimal {
        self.outcome().penalty
    }

    /// The run the row comes from (考核批次).
    async fn run_id(&self) -> ID {
        to_id(IdKind::ScoreRun, self.run.id)
    }

    /// Revision of that run (修订版次).
    async fn revision(&self) -> i32 {
        self.run.revision
    }

    /// When that run was published (发布时间).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.run.published_at
    }
}

/// A unit's final score and rank before and after a what-if (假设分析).
pub struct WhatIfRow(pub(super) results::WhatIfRow);

/// A unit's final score and rank before and after a what-if (假设分析).
#[Object]
impl WhatIfRow {
    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// Final score now (现得分).
    async fn final_before(&self) -> Decimal {
        self.0.final_before
    }

    /// Rank now (现排名).
    async fn rank_before(&self) -> u32 {
        self.0.rank_before
    }

    /// Final score with the changes (假设得分).
    async fn final_after(&self) -> Decimal {
        self.0.final_after
    }

    /// Rank with the changes (假设排名).
    async fn rank_after(&self) -> u32 {
        self.0.rank_after
    }
}

/// Published rankings for integrations (月讲评).
#[derive(Default)]
pub struct ResultQuery;

/// Published rankings for integrations (月讲评).
#[Object]
impl ResultQuery {
    /// The published ranking of a period (月讲评排序), for integrations: rows of
    /// runs published (or re-published by an amendment) after `updatedSince`.
    async fn monthly_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Organisation code (组织代码), e.g. `xuchang`.")] organisation_code: String,
        #[graphql(desc = "Period (考核周期), e.g. `2026-03`.")] period: String,
        #[graphql(desc = "Only if published after this instant (增量拉取).")] updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<super::plain::Listed<RankingEntry>> {
        let (db, caller) = env(ctx)?;
        let filter = RunFilter {
            organisation_code: Some(organisation_code),
            period: Some(period),
            status: Some(entity::states::RunStatus::Published),
        };
        let list = runs::query::runs(db, caller, filter, Page::first(100)).await.gql()?;
        let mut picked = Vec::new();
        for run in list.rows {
            if updated_since.is_some_and(|since| run.published_at.is_none_or(|p| p <= since)) {
                continue;
            }
            let rows = results::ranking_of(db, caller, &run, super::ranking_cache(ctx)).await.gql()?;
            picked.push((std::sync::Arc::new(run), rows));
        }
        // Written once per generation (`written`): the same caller, runs and
        // selection at the same generation answer the very same bytes.
        let shape = super::plain::shape_of(ctx);
        let written = match (
            &shape,
            ctx.data_opt::<Generation>(),
            ctx.data_opt::<std::sync::Arc<Written>>(),
            written::splices(ctx),
        ) {
            (Some(shape), Some(generation), Some(kept), Some(splices))
                if picked.iter().all(|(run, _)| Some(run.organisation_id) == caller.organisation_id) =>
            {
                let runs: String = picked
                    .iter()
                    .map(|(run, _)| format!("{}:{}:{:?};", run.id, run.revision, run.published_at))
                    .collect();
                let key = Written::key(&[
                    b"monthlyRanking",
                    caller.response_identity().as_bytes(),
                    &generation.0.to_be_bytes(),
                    runs.as_bytes(),
                    shape.fingerprint().as_bytes(),
                ]);
                if let Some(bytes) = kept.get(&key) {
                    return Ok(super::plain::Answered::plain(splices.hold(bytes)));
                }
                Some((key, kept, splices))
            }
            _ => None,
        };
        let units = if ctx.look_ahead().field("unit").exists() {
            let ids: Vec<i64> = picked.iter().flat_map(|(_, rows)| rows.iter().map(|r| r.unit_id)).collect();
            super::loader::prime_units(ctx, ids).await?
        } else {
            Default::default()
        };
        if ctx.look_ahead().field("unit").field("organisation").exists() {
            super::loader::prime_organisations(ctx, &units).await?;
        }
        let mut out = Vec::new();
        for (run, rows) in picked {
            out.extend(RankingEntry::rows(rows, run, &units));
        }
        if let (Some((key, kept, splices)), Some(shape)) = (written, &shape) {
            let mut bytes = Vec::with_capacity(256 * out.len() + 2);
            if super::plain::write_list(&out, shape, &mut bytes).is_some() {
                return Ok(super::plain::Answered::plain(splices.hold(kept.keep(key, bytes))));
            }
        }
        Ok(super::plain::Listed::of(ctx, out))
    }
}

/// The plain path (`plain`) for rankings: every field in hand.
impl super::plain::Plain for RankingEntry {
    const TYPE: &'static str = "RankingEntry";

    fn field(&self, name: &str, sub: Option<&super::plain::Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{list, object, scalar};
        let o = self.outcome();
        Some(match name {
            "rank" => scalar(&o.rank),
            "unit" => object(self.unit.as_deref()?, sub?)?,
            "unitName" => scalar(&o.unit_name),
            "finalScore" => scalar(&o.final_score),
            "base" => scalar(&o.base),
            "sections" => list(&o.sections, sub?)?,
            "bonus" => scalar(&o.bonus),
            "penalty" => scalar(&o.penalty),
            "runId" => scalar(&to_id(IdKind::ScoreRun, self.run.id)),
            "revision" => scalar(&self.run.revision),
            "publishedAt" => super::plain::optional(&self.run.published_at),
            _ => return None,
        })
    }
}

/// As `SectionResult` (`From<&outcome::SectionResult>`) writes it.
impl super::plain::Plain for outcome::SectionResult {
    const TYPE: &'static str = "SectionResult";

    fn field(&self, name: &str, _: Option<&super::plain::Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{optional as or_null, scalar};
        Some(match name {
            "code" => scalar(&self.code),
            "title" => scalar(&self.title),
            "role" => async_graphql::resolver_utils::enum_value(IndicatorRole::known(&self.role)),
            "max" => or_null(&self.max),
            "score" => scalar(&self.score),
            "weight" => or_null(&self.weight),
            "weighted" => scalar(&self.weighted),
            "bonus" => scalar(&self.bonus),
            "penalty" => scalar(&self.penalty),
            _ => return None,
        })
    }
}
