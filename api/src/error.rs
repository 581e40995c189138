//! The one error type of the service layer and its GraphQL mapping.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// An error a service call can return. Each variant has one GraphQL code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
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
    /// Anything unexpected; logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
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
            ApiError::BadUserInput(_) | ApiError::InvalidObservation { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::Forbidden => "FORBIDDEN",
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Frozen(_) => "FROZEN",
            ApiError::TooLarge(_) => "UPLOAD_TOO_LARGE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
        ApiError::Internal(Box::new(e))
    }

    pub fn not_found(what: &'static str) -> ApiError {
        ApiError::NotFound(what)
    }

    /// A NOT_FOUND about a container (another organisation, a hidden run)
    /// becomes one about the object asked for, so the message reveals nothing.
    pub fn not_found_as(self, what: &'static str) -> ApiError {
        match self {
            ApiError::NotFound(_) => ApiError::NotFound(what),
            other => other,
        }
    }

    /// For an object asked for by id: whatever says the caller may not see it
    /// (FORBIDDEN to read, or the NOT_FOUND of its container, e.g. another
    /// organisation or a hidden run) becomes the NOT_FOUND of a missing one.
    pub fn hidden_as(self, what: &'static str) -> ApiError {
        match self {
            ApiError::NotFound(_) | ApiError::Forbidden => ApiError::NotFound(what),
            other => other,
        }
    }

    /// The error as a GraphQL error with `extensions.code`.
    pub fn into_gql(self) -> async_graphql::Error {
        self.extend()
    }
}

impl From<kaohe_engine::ScoreError> for ApiError {
    fn from(e: kaohe_engine::ScoreError) -> Self {
        ApiError::InvalidObservation { rule: e.rule.clone(), message: e.problem.to_string() }
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        if crate::db::is_busy(&e) {
            // A lock wait that timed out is the client's cue to retry, not a bug.
            tracing::warn!(error = %e, "database busy");
            return ApiError::Conflict("the database is busy; retry the request".into());
        }
        match e.sql_err() {
            // One place where constraint violations become user errors.
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                ApiError::Conflict("it already exists (or was changed at the same time); reload and retry".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                ApiError::BadUserInput("it refers to something that does not exist".into())
            }
            _ => ApiError::Internal(Box::new(e)),
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let message = match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, debug = ?cause, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let code = self.code();
        let rule = match self {
            ApiError::InvalidObservation { rule, .. } => Some(rule.clone()),
            _ => None,
        };
        async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", code);
            if let Some(rule) = &rule {
                e.set("rule", rule.as_str());
            }
        })
    }
}

/// Lets resolvers write `service(...).await.gql()?`.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, ApiError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(ApiError::into_gql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = ApiError::from(DbErr::Custom("SELECT secret FROM x".into())).into_gql();
        assert_eq!(e.message, "internal error");
        let ext = format!("{:?}", e.extensions);
        assert!(ext.contains("INTERNAL"), "{ext}");
        assert!(!ext.contains("secret"));
    }

    #[test]
    fn a_busy_database_is_a_conflict_not_an_internal_error() {
        let e = ApiError::from(DbErr::Custom("error returned from database: (code: 5) database is locked".into()));
        assert_eq!(e.code(), "CONFLICT");
    }

    #[test]
    fn every_code_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        for code in ApiError::CODES {
            assert!(readme.contains(code), "README.md does not document {code}");
        }
        let all = [
            ApiError::BadUserInput(String::new()),
            ApiError::NotFound("thing"),
            ApiError::Conflict(String::new()),
            ApiError::Forbidden,
            ApiError::Unauthenticated,
            ApiError::Frozen(String::new()),
            ApiError::TooLarge(String::new()),
            ApiError::Internal(Box::new(DbErr::Custom(String::new()))),
        ];
        let codes: Vec<&str> = all.iter().map(ApiError::code).collect();
        assert_eq!(codes, ApiError::CODES);
    }
}
