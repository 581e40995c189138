//! The on-disk rubric format (TOML), exactly as an official reviews it.
//!
//! These types mirror the file one to one; `compile` turns them into the
//! validated [`crate::Rubric`]. Points are written as plain TOML numbers
//! (`0.5`) and read into exact decimals (see [`crate::num`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::num;

/// A whole rubric file (考核细则).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RubricFile {
    pub rubric: Header,
    #[serde(default, rename = "indicator")]
    pub indicators: Vec<IndicatorFile>,
}

/// `[rubric]`: what the document is and how its sections combine.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Stable code of the rubric across versions, e.g. `chengkou-jxx`.
    pub code: String,
    pub title: String,
    /// Version label, e.g. `2026`.
    pub version: String,
    /// Code of the assessing organisation (the tenant), e.g. `chengkou`.
    pub organisation: String,
    pub regime: Regime,
    /// Where the text comes from (document number, attachment).
    #[serde(default)]
    pub source: Option<String>,
    /// Points of the base total (百分制 = 100).
    #[serde(deserialize_with = "num::dec::deserialize")]
    pub scale: Decimal,
    /// Cap on the sum of all bonus points (城口: 加分 ≤ 6).
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub bonus_cap: Option<Decimal>,
}

/// 考核周期: how often the rubric is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// One run per year (城口 2026).
    Annual,
    /// One run per month, with a year view (许昌 月讲评).
    Monthly,
}

/// Whether a top-level indicator (a section) adds to the base or adjusts the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Part of the base score, floored at 0 and capped at its max (扣完为止).
    #[default]
    Base,
    /// 加减分: additions are bonus (capped), deductions are penalties that reach the total.
    Adjust,
}

/// `[[indicator]]`: one node of the indicator tree.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorFile {
    /// Dotted code, e.g. `2.1.1`; unique in the file.
    pub code: String,
    /// Code of the parent indicator; absent for a section (一级指标).
    #[serde(default)]
    pub parent: Option<String>,
    pub title: String,
    /// 分值. Absent only for adjustment indicators without a cap (减分).
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub max: Option<Decimal>,
    /// Owning department (科室) where the document names one.
    #[serde(default)]
    pub department: Option<String>,
    /// Sections only.
    #[serde(default)]
    pub role: Option<Role>,
    /// Sections only: share of the scale in percent (许昌: 30, 70).
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub weight: Option<Decimal>,
    /// Free text kept from the document that is not a clause (a preamble).
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupFile>,
    #[serde(default, rename = "clause")]
    pub clauses: Vec<ClauseFile>,
}

/// `[[indicator.group]]`: a heading over several clauses, optionally with a cap
/// (第1-3项加分总分不超过2分).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    pub key: String,
    pub title: String,
    /// Original text of the heading or the cap sentence, if any.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub cap: Option<Decimal>,
}

/// `[[indicator.clause]]`: one numbered item of the document (细则的一条), verbatim.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseFile {
    /// The item's number as printed, e.g. `1`, `2.5`, `8(3)`.
    pub no: String,
    #[serde(default)]
    pub group: Option<String>,
    /// The original Chinese text.
    pub text: String,
    /// Cap on the sum of this clause's rules (总分值不超过1分).
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub cap: Option<Decimal>,
    /// A clause that carries no points itself (a definition or a general
    /// provision expressed as modifiers on other rules).
    #[serde(default)]
    pub informational: bool,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleFile>,
}

/// `[[indicator.clause.rule]]`: the machine form of (part of) a clause.
// No `deny_unknown_fields` here: serde cannot combine it with `flatten`; the
// kind enum below denies unknown fields instead, which covers typos.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RuleFile {
    /// Suffix making the rule code unique inside its clause; letters a, b, …
    /// are assigned in order when absent and the clause has several rules.
    #[serde(default)]
    pub key: Option<String>,
    /// Short label of what the rule counts (教职工发表不当言论).
    #[serde(default)]
    pub label: Option<String>,
    #[serde(flatten)]
    pub kind: KindFile,
    /// Cap on this rule's total.
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub cap: Option<Decimal>,
    /// Reasons for which an observation may be halved (下级单位, 参加单位, 个人).
    #[serde(default)]
    pub halving: Vec<String>,
    /// Same work at several levels: only the highest counts (只计最高分).
    #[serde(default)]
    pub highest_only: bool,
    /// A bonus whose document is dated after the period moves to the next one.
    #[serde(default)]
    pub defer_late: bool,
}

/// Whether a rule takes points away or gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// 扣分.
    Deduct,
    /// 加分 (or points awarded).
    Add,
}

/// What unit a measured value is in; `percent` values must lie in 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    #[default]
    Count,
    Percent,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelFile {
    pub key: String,
    pub label: String,
    #[serde(deserialize_with = "num::dec::deserialize")]
    pub points: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentFile {
    pub key: String,
    pub label: String,
    #[serde(deserialize_with = "num::dec::deserialize")]
    pub weight: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BracketFile {
    /// Upper bound, inclusive; absent on the last (open) bracket.
    #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
    pub upto: Option<Decimal>,
    #[serde(deserialize_with = "num::dec::deserialize")]
    pub points: Decimal,
}

/// The name of every rule kind (`kind = "…"` in a file, `rule.kind` in the
/// database): the one list the loader, the draft editor and the database's
/// CHECK constraint use.
pub const RULE_KINDS: [&str; 12] = [
    "per_count",
    "shortfall",
    "shortfall_baseline",
    "flag",
    "by_level",
    "award",
    "range",
    "rating",
    "direct",
    "bracket",
    "per_amount",
    "veto",
];

/// The rule kinds of DOMAIN.md, with their parameters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KindFile {
    /// points × count (每人次扣0.5分).
    PerCount {
        effect: Effect,
        #[serde(deserialize_with = "num::dec::deserialize")]
        points: Decimal,
        #[serde(default)]
        unit: Option<String>,
    },
    /// points × whole steps of (target − actual) (每缺1次扣1分). Without a
    /// `target` the observation supplies it (序时进度).
    Shortfall {
        effect: Effect,
        #[serde(deserialize_with = "num::dec::deserialize")]
        points: Decimal,
        #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
        target: Option<Decimal>,
        #[serde(default = "num::one", deserialize_with = "num::dec::deserialize")]
        step: Decimal,
        #[serde(default)]
        proportional: bool,
        #[serde(default)]
        measure: Measure,
    },
    /// Like shortfall, against the previous period's value (与上年相比).
    ShortfallBaseline {
        effect: Effect,
        #[serde(deserialize_with = "num::dec::deserialize")]
        points: Decimal,
        #[serde(default = "num::one", deserialize_with = "num::dec::deserialize")]
        step: Decimal,
        #[serde(default)]
        proportional: bool,
        #[serde(default)]
        measure: Measure,
    },
    /// Fixed points when the condition holds (未开发…扣1分).
    Flag {
        effect: Effect,
        #[serde(deserialize_with = "num::dec::deserialize")]
        points: Decimal,
    },
    /// Points by level (or issuing body) × count.
    ByLevel { effect: Effect, levels: Vec<LevelFile> },
    /// By-level points × grade fraction (一等 1, 二等 2/3, 三等 1/3).
    Award { effect: Effect, levels: Vec<LevelFile> },
    /// The assessor chooses points inside a range (视影响大小扣0.2—1分).
    Range {
        effect: Effect,
        #[serde(deserialize_with = "num::dec::deserialize")]
        min: Decimal,
        #[serde(deserialize_with = "num::dec::deserialize")]
        max: Decimal,
    },
    /// Σ survey rate × component weight (满意度).
    Rating { components: Vec<ComponentFile> },
    /// The owning department awards points in [0, max].
    Direct {
        #[serde(default, deserialize_with = "num::opt_dec::deserialize")]
        max: Option<Decimal>,
    },
    /// Points by amount bracket (2000万以内 0.4 …).
    Bracket {
        effect: Effect,
        brackets: Vec<BracketFile>,
        #[serde(default)]
        unit: Option<String>,
    },
    /// Points per whole block of an amount (每争取5万元加0.2分).
    PerAmount {
        effect: Effect,
        #[serde(deserialize_with = "num::dec::deserialize")]
        block: Decimal,
        #[serde(deserialize_with = "num::dec::deserialize")]
        points: Decimal,
        #[serde(default)]
        unit: Option<String>,
    },
    /// The indicator scores zero (此项不得分).
    Veto,
}

#[cfg(test)]
mod kind_names {
    use super::RULE_KINDS;

    #[test]
    fn every_kind_name_parses_and_every_kind_is_named() {
        let unknown = toml::from_str::<super::KindFile>("kind = \"nope\"").err().map(|e| e.to_string());
        assert!(unknown.as_deref().is_some_and(|e| e.contains("unknown variant")), "{unknown:?}");
        // Each name of the list is one serde knows (its error, if any, is about
        // parameters, never an unknown variant).
        for kind in RULE_KINDS {
            let e = toml::from_str::<super::KindFile>(&format!("kind = \"{kind}\"")).err().map(|e| e.to_string());
            assert!(e.as_deref().is_none_or(|e| !e.contains("unknown variant")), "{kind}: {e:?}");
        }
    }
}
