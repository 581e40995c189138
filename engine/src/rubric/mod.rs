//! The rubric (考核细则): its file format, validation, and the compiled tree
//! the scorer walks.
//!
//! `Rubric::from_toml(name, text)` is the only way in: it refuses a bad file
//! with every problem found, each naming the file, the indicator and what is
//! wrong. Nothing here reads files; callers pass the text.

pub mod file;
mod validate;

use rustc_hash::FxHashMap as HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

pub use file::{Effect, Measure, Regime, Role};

/// One problem found in a rubric file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", .indicator.as_ref().map(|c| format!("indicator {c}: ")).unwrap_or_default())]
pub struct RubricError {
    pub file: String,
    pub indicator: Option<String>,
    pub message: String,
}

/// Every problem found in a rubric file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct RubricErrors(pub Vec<RubricError>);

/// A level of a by-level or award rule (国家级 / 市级 / 县级, or the issuing body).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    pub key: String,
    pub label: String,
    pub points: Decimal,
}

/// A component of a rating (满意度测评的一方).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub key: String,
    pub label: String,
    pub weight: Decimal,
}

/// An amount bracket; `upto` is inclusive, `None` on the open last bracket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bracket {
    pub upto: Option<Decimal>,
    pub points: Decimal,
}

/// The machine form of a rule, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    PerCount { points: Decimal, unit: Option<String> },
    Shortfall { points: Decimal, target: Option<Decimal>, step: Decimal, proportional: bool, measure: Measure },
    ShortfallBaseline { points: Decimal, step: Decimal, proportional: bool, measure: Measure },
    Flag { points: Decimal },
    ByLevel { levels: Vec<Level> },
    Award { levels: Vec<Level> },
    Range { min: Decimal, max: Decimal },
    Rating { components: Vec<Component> },
    Direct { max: Decimal },
    Bracket { brackets: Vec<Bracket>, unit: Option<String> },
    PerAmount { block: Decimal, points: Decimal, unit: Option<String> },
    Veto,
}

impl RuleKind {
    /// The kind's name as written in rubric files and shown to clients.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::PerCount { .. } => "per_count",
            RuleKind::Shortfall { .. } => "shortfall",
            RuleKind::ShortfallBaseline { .. } => "shortfall_baseline",
            RuleKind::Flag { .. } => "flag",
            RuleKind::ByLevel { .. } => "by_level",
            RuleKind::Award { .. } => "award",
            RuleKind::Range { .. } => "range",
            RuleKind::Rating { .. } => "rating",
            RuleKind::Direct { .. } => "direct",
            RuleKind::Bracket { .. } => "bracket",
            RuleKind::PerAmount { .. } => "per_amount",
            RuleKind::Veto => "veto",
        }
    }
}

/// One rule: the machine form of a clause (or of one of its parts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// `{indicator}-{clause}` plus a key when the clause has several rules,
    /// e.g. `2.1.1-1`, `4.1-2.5c`.
    pub code: String,
    /// Index of the indicator in [`Rubric::indicators`].
    pub indicator: usize,
    /// Index of the clause in its indicator's `clauses`.
    pub clause: usize,
    pub label: Option<String>,
    pub effect: Effect,
    pub kind: RuleKind,
    pub cap: Option<Decimal>,
    pub halving: Vec<String>,
    pub highest_only: bool,
    pub defer_late: bool,
}

/// A heading over clauses, with an optional group cap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub key: String,
    pub title: String,
    pub text: Option<String>,
    pub cap: Option<Decimal>,
}

/// One numbered item of the document, verbatim, with its rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clause {
    pub no: String,
    /// Index into the indicator's `groups`.
    pub group: Option<usize>,
    pub text: String,
    pub cap: Option<Decimal>,
    pub informational: bool,
    /// Indices into [`Rubric::rules`].
    pub rules: Vec<usize>,
}

/// Where an indicator's score starts before its rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// A deduction indicator: starts full and loses points.
    Max,
    /// Points are awarded (direct, rating) or it is an adjustment.
    Zero,
}

/// A node of the indicator tree (考核指标).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub code: String,
    pub title: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// 0 for sections, 1 for their children, …
    pub depth: usize,
    /// Index of the section (top-level ancestor, or itself).
    pub section: usize,
    pub max: Option<Decimal>,
    /// The owning department, inherited from the nearest ancestor naming one.
    pub department: Option<String>,
    pub role: Role,
    pub weight: Option<Decimal>,
    pub note: Option<String>,
    pub groups: Vec<Group>,
    pub clauses: Vec<Clause>,
    /// Indices into [`Rubric::rules`], in clause order.
    pub rules: Vec<usize>,
    pub start: Start,
}

/// A validated rubric version, ready to score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rubric {
    pub code: String,
    pub title: String,
    pub version: String,
    pub organisation: String,
    pub regime: Regime,
    pub source: Option<String>,
    pub scale: Decimal,
    pub bonus_cap: Option<Decimal>,
    /// Parents always come before their children.
    pub indicators: Vec<Indicator>,
    pub rules: Vec<Rule>,
    /// Indices of the top-level indicators (sections), in file order.
    pub sections: Vec<usize>,
    #[serde(skip)]
    indicator_index: HashMap<String, usize>,
    #[serde(skip)]
    rule_index: HashMap<String, usize>,
}

impl Rubric {
    /// Parses and validates a rubric file. `name` labels errors (the file name).
    pub fn from_toml(name: &str, text: &str) -> Result<Rubric, RubricErrors> {
        validate::compile(name, text)
    }

    /// Validates an already-parsed file (e.g. rebuilt from database rows).
    pub fn from_file(name: &str, file: file::RubricFile) -> Result<Rubric, RubricErrors> {
        validate::compile_file(name, file)
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicator_index.get(code).map(|&i| &self.indicators[i])
    }

    pub fn indicator_index(&self, code: &str) -> Option<usize> {
        self.indicator_index.get(code).copied()
    }

    pub fn rule(&self, code: &str) -> Option<&Rule> {
        self.rule_index.get(code).map(|&i| &self.rules[i])
    }

    pub fn rule_index(&self, code: &str) -> Option<usize> {
        self.rule_index.get(code).copied()
    }

    /// The clause a rule belongs to (its original text).
    pub fn clause_of(&self, rule: &Rule) -> &Clause {
        &self.indicators[rule.indicator].clauses[rule.clause]
    }

    /// Sum of the base sections' max points (should equal `scale` unweighted).
    pub fn base_max(&self) -> Decimal {
        self.sections.iter().map(|&s| &self.indicators[s]).filter(|s| s.role == Role::Base).filter_map(|s| s.max).sum()
    }
}
