//! The GraphQL types of results and their explanations (考核结果, 扣分明细),
//! mapped from the service's typed outcomes (`kaohe_service::runs::results`).

use async_graphql::{ID, SimpleObject};
use kaohe_service::runs::results as outcome;
use rust_decimal::Decimal;

use super::{Kind, to_id};

/// A unit's score in one section (板块得分).
#[derive(SimpleObject)]
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
}

/// A limit that cut an amount (封顶/扣完为止).
#[derive(SimpleObject)]
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

/// The global id of an observation known to the engine by its row id (a
/// what-if observation keeps its engine key).
pub fn observation_gid(key: &str) -> ID {
    match key.parse::<i64>() {
        Ok(n) => to_id(Kind::Observation, n),
        Err(_) => ID(key.to_string()),
    }
}

impl From<&outcome::SectionOutcome> for SectionResult {
    fn from(s: &outcome::SectionOutcome) -> Self {
        SectionResult {
            code: s.code.clone(),
            title: s.title.clone(),
            role: s.role.clone(),
            max: s.max,
            score: s.score,
            weight: s.weight,
            weighted: s.weighted,
            bonus: s.bonus,
            penalty: s.penalty,
        }
    }
}

impl From<&outcome::CutOutcome> for ScoreCut {
    fn from(c: &outcome::CutOutcome) -> Self {
        ScoreCut { by: c.by.clone(), limit: c.limit, before: c.before, after: c.after, rule: c.rule.clone() }
    }
}

impl From<&outcome::ObservationOutcome> for ObservationExplanation {
    fn from(o: &outcome::ObservationOutcome) -> Self {
        ObservationExplanation {
            observation: observation_gid(&o.observation),
            formula: o.formula.clone(),
            amount: o.amount,
            halved: o.halved.clone(),
            counted: o.counted.clone(),
            evidence: o.evidence.clone(),
        }
    }
}

impl From<&outcome::RuleOutcome> for RuleExplanation {
    fn from(r: &outcome::RuleOutcome) -> Self {
        RuleExplanation {
            rule: r.rule.clone(),
            kind: r.kind.clone(),
            effect: r.effect.clone(),
            text: r.text.clone(),
            before_cap: r.before_cap,
            amount: r.amount,
            observations: r.observations.iter().map(Into::into).collect(),
        }
    }
}

impl From<&outcome::IndicatorOutcome> for IndicatorExplanation {
    fn from(i: &outcome::IndicatorOutcome) -> Self {
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
