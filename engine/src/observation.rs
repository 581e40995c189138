//! 扣分/加分记录: the facts an assessor (or an approved claim) records against a rule.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::period::Period;

/// One observation for one unit against one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Stable id, shown in explanations (and so linked to evidence).
    pub id: String,
    /// The rule's code in the rubric version, e.g. `2.1.1-1`.
    pub rule: String,
    #[serde(default)]
    pub facts: Facts,
    /// Identifies "the same work" for rules that count only the highest level.
    #[serde(default)]
    pub work: Option<String>,
    /// Halving reason (下级单位 / 参加单位 / 个人), one the rule allows.
    #[serde(default)]
    pub halve: Option<String>,
    /// Issue date of the document behind a bonus (下发文件日期).
    #[serde(default)]
    pub document_date: Option<NaiveDate>,
    /// Set when a late bonus was moved here from an earlier period.
    #[serde(default)]
    pub carried_from: Option<Period>,
    /// Evidence ids, carried into the explanation.
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl Observation {
    pub fn new(id: impl Into<String>, rule: impl Into<String>, facts: Facts) -> Observation {
        Observation {
            id: id.into(),
            rule: rule.into(),
            facts,
            work: None,
            halve: None,
            document_date: None,
            carried_from: None,
            evidence: Vec::new(),
        }
    }
}

/// 奖项等级 of an award.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 特等奖
    Special,
    /// 一等奖
    First,
    /// 二等奖
    Second,
    /// 三等奖
    Third,
    /// 其他奖 (优秀奖 …)
    Other,
}

/// The facts of an observation. Which fields a rule needs depends on its kind;
/// the scorer refuses missing, extra-range or unknown values naming the rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// per_count, by_level, award: number of occurrences (default 1 for levels).
    #[serde(default)]
    pub count: Option<i64>,
    /// shortfall, shortfall_baseline: the actual value.
    #[serde(default)]
    pub value: Option<Decimal>,
    /// shortfall without a fixed target: the target (序时进度).
    #[serde(default)]
    pub target: Option<Decimal>,
    /// shortfall_baseline: last period's value.
    #[serde(default)]
    pub baseline: Option<Decimal>,
    /// flag, veto: whether the condition holds.
    #[serde(default)]
    pub flag: Option<bool>,
    /// by_level, award: the level key.
    #[serde(default)]
    pub level: Option<String>,
    /// award: the grade; absent = no grade was set (按该项标准值计分).
    #[serde(default)]
    pub grade: Option<Grade>,
    /// award: the competition awarded a 特等奖 (grades shift down one).
    #[serde(default)]
    pub special_prize_awarded: bool,
    /// award: place in a 团体总分 ranking (1–2 一等, 3–4 二等, rest 三等).
    #[serde(default)]
    pub team_rank: Option<i64>,
    /// rating: the component key (who rated).
    #[serde(default)]
    pub component: Option<String>,
    /// rating: the survey rate in percent, 0–100.
    #[serde(default)]
    pub rate: Option<Decimal>,
    /// range, direct: the points chosen by the assessor.
    #[serde(default)]
    pub points: Option<Decimal>,
    /// bracket, per_amount: the amount (万元).
    #[serde(default)]
    pub amount: Option<Decimal>,
}
