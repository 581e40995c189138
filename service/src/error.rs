//! The one error type of the service layer. Each variant has one stable code
//! (`extensions.code` once the API maps it); unexpected causes are logged,
//! never shown.

use sea_orm::{DbErr, SqlErr};

/// An error a service call can return. Each variant has one GraphQL code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed or a value is invalid.
    #[error("{0}")]
    BadUserInput(String),
    /// The scoring engine refuses an observation's facts; names the rule.
    #[error("rule {rule}: {message}")]
    InvalidObservation { rule: String, message: String },
    /// The object does not exist, or the caller may not see it: the same
    /// answer either way, naming only the kind of thing (never its id), so an
    /// id reveals nothing about another organisation.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or version conflict (someone changed it first).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("not allowed")]
    Forbidden,
    /// The caller must sign in.
    #[error("sign-in required")]
    Unauthenticated,
    /// The object is frozen (a published version or run).
    #[error("{0} is frozen")]
    Frozen(String),
    /// An uploaded file is larger than `MAX_UPLOAD_BYTES` (the gate's code for the same limit).
    #[error("{0}")]
    TooLarge(String),
    /// Some items of a request of many (`recordObservations`,
    /// `withdrawObservations`, an entry sheet) cannot be done, so none is:
    /// each with its index, field and code (`extensions.items`).
    #[error("{} of the {total} items cannot be done, so nothing was done: {}", .items.len(), .items.first().map(|i| format!("item {}: {}", i.index, i.message)).unwrap_or_default())]
    Items { total: usize, items: Vec<ItemError> },
    /// Anything unexpected; logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why one item of a request of many cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemError {
    /// Its position in the request (0-based).
    pub index: usize,
    /// The input field at fault (`unitId`, `ruleCode`, `facts.count`, …).
    pub field: String,
    /// Its code, one of `ServiceError::CODES`.
    pub code: &'static str,
    /// What is wrong (never a row number).
    pub message: String,
}

impl ItemError {
    /// The error of item `index`, at `field`.
    pub fn of(index: usize, field: impl Into<String>, e: &ServiceError) -> ItemError {
        ItemError { index, field: field.into(), code: e.code(), message: e.public_message() }
    }
}

impl ServiceError {
    /// Every code a client may see in `extensions.code`.
    pub const CODES: [&'static str; 8] = [
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "CONFLICT",
        "FORBIDDEN",
        "UNAUTHENTICATED",
        "FROZEN",
        "UPLOAD_TOO_LARGE",
        "INTERNAL",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadUserInput(_) | ServiceError::InvalidObservation { .. } => "BAD_USER_INPUT",
            ServiceError::NotFound(_) => "NOT_FOUND",
            ServiceError::Conflict(_) => "CONFLICT",
            ServiceError::Forbidden => "FORBIDDEN",
            ServiceError::Unauthenticated => "UNAUTHENTICATED",
            ServiceError::Frozen(_) => "FROZEN",
            ServiceError::TooLarge(_) => "UPLOAD_TOO_LARGE",
            // An input error if any item has one; else the first item's code.
            ServiceError::Items { items, .. } => {
                if items.iter().any(|i| i.code == "BAD_USER_INPUT") {
                    "BAD_USER_INPUT"
                } else {
                    items.first().map_or("BAD_USER_INPUT", |i| i.code)
                }
            }
            ServiceError::Internal(_) => "INTERNAL",
        }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ServiceError {
        ServiceError::Internal(Box::new(e))
    }

    pub fn not_found(what: &'static str) -> ServiceError {
        ServiceError::NotFound(what)
    }

    /// A NOT_FOUND about a container (another organisation, a hidden run)
    /// becomes one about the object asked for, so the message reveals nothing.
    pub fn not_found_as(self, what: &'static str) -> ServiceError {
        match self {
            ServiceError::NotFound(_) => ServiceError::NotFound(what),
            other => other,
        }
    }

    /// For an object asked for by id: whatever says the caller may not see it
    /// (FORBIDDEN to read, or the NOT_FOUND of its container, e.g. another
    /// organisation or a hidden run) becomes the NOT_FOUND of a missing one.
    pub fn hidden_as(self, what: &'static str) -> ServiceError {
        match self {
            ServiceError::NotFound(_) | ServiceError::Forbidden => ServiceError::NotFound(what),
            other => other,
        }
    }

    /// What a client may read: the error's own text, or for an unexpected
    /// error only "internal error" (its cause is logged here, never sent).
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Internal(cause) => {
                tracing::error!(error = %cause, debug = ?cause, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        }
    }

    /// The rule an engine refusal names (`extensions.rule`).
    pub fn rule(&self) -> Option<&str> {
        match self {
            ServiceError::InvalidObservation { rule, .. } => Some(rule),
            _ => None,
        }
    }
}

/// How an error names an observation the engine knows by its key: a stored
/// row by its global id (never its row number), an item of the request by
/// its index.
pub fn observation_name(key: &str) -> String {
    if let Ok(n) = key.parse::<i64>() {
        format!("observation {}", crate::ids::global_id("Observation", n))
    } else if let Some(i) = key.strip_prefix("item-") {
        format!("item {i} of this request")
    } else {
        "another observation".to_string()
    }
}

impl From<kaohe_engine::ScoreError> for ServiceError {
    fn from(e: kaohe_engine::ScoreError) -> Self {
        match e.problem {
            // A second direct score (or rating component) for the same unit: a
            // conflict with the one that is there, named by its global id.
            kaohe_engine::Problem::AlreadyGiven { existing, what } => ServiceError::Conflict(format!(
                "rule {}: {} already gives this {what} for the unit; correct it instead of adding another",
                e.rule,
                observation_name(&existing)
            )),
            problem => ServiceError::InvalidObservation { rule: e.rule.clone(), message: problem.to_string() },
        }
    }
}

impl From<DbErr> for ServiceError {
    fn from(e: DbErr) -> Self {
        if crate::db::is_busy(&e) {
            // A lock wait that timed out is the client's cue to retry, not a bug.
            tracing::warn!(error = %e, "database busy");
            return ServiceError::Conflict("the database is busy; retry the request".into());
        }
        match e.sql_err() {
            // One place where constraint violations become user errors.
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                ServiceError::Conflict("it already exists (or was changed at the same time); reload and retry".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                ServiceError::BadUserInput("it refers to something that does not exist".into())
            }
            _ => ServiceError::Internal(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = ServiceError::from(DbErr::Custom("SELECT secret FROM x".into()));
        assert_eq!(e.public_message(), "internal error");
        assert_eq!(e.code(), "INTERNAL");
    }

    #[test]
    fn a_busy_database_is_a_conflict_not_an_internal_error() {
        let e = ServiceError::from(DbErr::Custom("error returned from database: (code: 5) database is locked".into()));
        assert_eq!(e.code(), "CONFLICT");
    }

    #[test]
    fn every_code_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        for code in ServiceError::CODES {
            assert!(readme.contains(code), "README.md does not document {code}");
        }
        let all = [
            ServiceError::BadUserInput(String::new()),
            ServiceError::NotFound("thing"),
            ServiceError::Conflict(String::new()),
            ServiceError::Forbidden,
            ServiceError::Unauthenticated,
            ServiceError::Frozen(String::new()),
            ServiceError::TooLarge(String::new()),
            ServiceError::Internal(Box::new(DbErr::Custom(String::new()))),
        ];
        let codes: Vec<&str> = all.iter().map(ServiceError::code).collect();
        assert_eq!(codes, ServiceError::CODES);
    }
}
