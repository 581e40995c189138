//! Why an observation cannot be scored. Every error names the rule.

use rust_decimal::Decimal;

/// What is wrong with an observation's facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("no rule with this code exists in rubric version {version}")]
    UnknownRule { version: String },
    #[error("a {kind} rule needs `{fact}`")]
    MissingFact { kind: &'static str, fact: &'static str },
    #[error("`{fact}` cannot be negative (got {value})")]
    Negative { fact: &'static str, value: Decimal },
    #[error("`{fact}` = {value} is outside {min}–{max}")]
    OutOfRange { fact: &'static str, value: Decimal, min: Decimal, max: Decimal },
    #[error("unknown {what} `{given}`; the rule knows: {known}")]
    Unknown { what: &'static str, given: String, known: String },
    #[error("{0}")]
    Conflict(String),
}

/// An observation the engine refuses to score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("observation {observation} on rule {rule}: {problem}")]
pub struct ScoreError {
    pub observation: String,
    pub rule: String,
    pub problem: Problem,
}
