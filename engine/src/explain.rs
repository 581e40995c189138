//! Results and their explanation (扣分明细): where every point went.
//!
//! Totals ([`UnitTotals`]) are always computed; the explanation tree is built
//! only when asked for, so ranking a province stays cheap.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::period::Period;
use crate::rubric::{Effect, Role};

/// What limited an amount, and by how much.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Cut {
    /// A rule's own cap (该项不超过…).
    RuleCap { rule: String, limit: Decimal, before: Decimal, after: Decimal },
    /// A clause cap (总分值不超过1分).
    ClauseCap { clause: String, effect: Effect, limit: Decimal, before: Decimal, after: Decimal },
    /// A group cap (第1-3项加分总分不超过2分).
    GroupCap { group: String, effect: Effect, limit: Decimal, before: Decimal, after: Decimal },
    /// 扣完为止: the indicator would have gone below zero.
    Floor { before: Decimal, after: Decimal },
    /// The indicator would have gone above its max.
    Ceiling { limit: Decimal, before: Decimal, after: Decimal },
    /// 此项不得分: a veto rule zeroed the indicator.
    Veto { rule: String, before: Decimal },
    /// An adjustment indicator's bonus above its points.
    BonusLimit { limit: Decimal, before: Decimal, after: Decimal },
    /// The rubric-wide bonus cap (加分 ≤ 6).
    BonusCap { limit: Decimal, before: Decimal, after: Decimal },
}

/// How an observation was counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Counted {
    /// Counted in full (or halved, see `halved`).
    Counted,
    /// 下发文件滞后: moved to a later period.
    Deferred { to: Period },
    /// The same work scored higher at another level (只计最高分).
    Superseded { by: String },
}

/// One observation's line in the explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationExplanation {
    pub observation: String,
    /// The arithmetic in words, e.g. `3 人次 × 0.5 = 1.5`.
    pub formula: String,
    /// Points it contributes (0 when deferred or superseded).
    pub amount: Decimal,
    pub halved: Option<String>,
    pub counted: Counted,
    pub carried_from: Option<Period>,
    pub evidence: Vec<String>,
}

/// One rule that moved an indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleExplanation {
    pub rule: String,
    pub kind: &'static str,
    pub effect: Effect,
    pub label: Option<String>,
    pub clause: String,
    /// The clause's original text.
    pub text: String,
    /// Sum of its observations, before the rule cap.
    pub before_cap: Decimal,
    /// After the rule cap (clause and group caps are on the indicator).
    pub amount: Decimal,
    pub observations: Vec<ObservationExplanation>,
}

/// One indicator's explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorExplanation {
    pub code: String,
    pub title: String,
    pub parent: Option<String>,
    pub depth: usize,
    pub max: Option<Decimal>,
    pub department: Option<String>,
    /// Base indicators: the score in [0, max]. Adjustment: bonus − penalty.
    pub score: Decimal,
    /// Points added (after caps).
    pub added: Decimal,
    /// Points deducted (after caps).
    pub deducted: Decimal,
    /// Before the floor, ceiling and veto.
    pub raw: Decimal,
    pub cuts: Vec<Cut>,
    /// Only rules that have observations.
    pub rules: Vec<RuleExplanation>,
}

/// A section's (一级指标) totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionResult {
    pub code: String,
    pub role: Role,
    pub max: Option<Decimal>,
    /// Unweighted score (adjustment sections: bonus − penalty).
    pub score: Decimal,
    pub weight: Option<Decimal>,
    /// Contribution to the base total (score × weight; = score unweighted).
    pub weighted: Decimal,
    pub bonus: Decimal,
    pub penalty: Decimal,
}

/// A unit's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitTotals {
    pub unit: String,
    /// Final = base + bonus − penalty.
    pub final_score: Decimal,
    /// Weighted base total.
    pub base: Decimal,
    /// Bonus after all caps.
    pub bonus: Decimal,
    /// Bonus before the rubric-wide cap.
    pub bonus_before_cap: Decimal,
    pub penalty: Decimal,
    pub sections: Vec<SectionResult>,
}

/// A unit's full explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub rubric: String,
    pub version: String,
    pub period: Period,
    pub unit: String,
    /// In rubric order (parents before children).
    pub indicators: Vec<IndicatorExplanation>,
    /// Rubric-wide cuts (the bonus cap).
    pub cuts: Vec<Cut>,
    /// Observations moved to a later period.
    pub deferred: Vec<String>,
}

/// Totals plus, when asked for, the explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitResult {
    pub score: UnitTotals,
    pub explanation: Option<Explanation>,
}
