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
    /// A direct score or a rating component is given once per unit and rule:
    /// `existing` is the engine id of the observation that already gives it.
    #[error("observation {existing} already gives this {what}; correct it instead of adding another")]
    AlreadyGiven { existing: String, what: &'static str },
    /// A fact the rule has no use for (a document date on a rule that never defers).
    #[error("`{fact}` does not apply: {why}")]
    NotApplicable { fact: &'static str, why: &'static str },
    /// A carried observation that cannot be carried into this period.
    #[error("cannot be carried into {period}: {why}")]
    NotCarried { period: String, why: &'static str },
}

impl Problem {
    /// The input field at fault, as a client names it (`facts.count`,
    /// `halve`, `documentDate`, `ruleCode`), for per-item errors.
    pub fn field(&self) -> String {
        match self {
            Problem::UnknownRule { .. } | Problem::AlreadyGiven { .. } => "ruleCode".into(),
            Problem::MissingFact { fact, .. } | Problem::Negative { fact, .. } | Problem::OutOfRange { fact, .. } => {
                format!("facts.{}", camel(fact))
            }
            Problem::Unknown { what: "halving reason", .. } => "halve".into(),
            Problem::Unknown { what, .. } => format!("facts.{}", camel(what)),
            Problem::Conflict(_) => "facts".into(),
            Problem::NotApplicable { fact, .. } => camel(fact),
            Problem::NotCarried { .. } => "documentDate".into(),
        }
    }
}

/// `team_rank` → `teamRank`, `document_date` → `documentDate`.
fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// An observation the engine refuses to score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("observation {observation} on rule {rule}: {problem}")]
pub struct ScoreError {
    pub observation: String,
    pub rule: String,
    pub problem: Problem,
}
