//! Opaque global ids (Relay `Node`): `base64url("ScoreRun:42")`. Clients
//! treat them as strings; the kind inside lets `node(id)` find the object
//! and refuses an id of one kind where another is expected.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::GqlResult;
use kaohe_service::ServiceError;

/// The kinds of object that carry a global id; the name is the GraphQL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Organisation,
    Department,
    Unit,
    Rubric,
    RubricVersion,
    Indicator,
    Clause,
    Rule,
    ScoreRun,
    Observation,
    Evidence,
    Claim,
    SectionSubmission,
    AuditEntry,
    User,
    ServiceCredential,
    UnitImport,
    EntrySheet,
    WebhookEndpoint,
    WebhookDelivery,
}

const ALL: [IdKind; 20] = [
    IdKind::Organisation,
    IdKind::Department,
    IdKind::Unit,
    IdKind::Rubric,
    IdKind::RubricVersion,
    IdKind::Indicator,
    IdKind::Clause,
    IdKind::Rule,
    IdKind::ScoreRun,
    IdKind::Observation,
    IdKind::Evidence,
    IdKind::Claim,
    IdKind::SectionSubmission,
    IdKind::AuditEntry,
    IdKind::User,
    IdKind::ServiceCredential,
    IdKind::UnitImport,
    IdKind::EntrySheet,
    IdKind::WebhookEndpoint,
    IdKind::WebhookDelivery,
];

impl IdKind {
    /// The GraphQL type name, as written inside the id.
    pub fn name(self) -> &'static str {
        match self {
            IdKind::Organisation => "Organisation",
            IdKind::Department => "Department",
            IdKind::Unit => "Unit",
            IdKind::Rubric => "Rubric",
            IdKind::RubricVersion => "RubricVersion",
            IdKind::Indicator => "Indicator",
            IdKind::Clause => "Clause",
            IdKind::Rule => "Rule",
            IdKind::ScoreRun => "ScoreRun",
            IdKind::Observation => "Observation",
            IdKind::Evidence => "Evidence",
            IdKind::Claim => "Claim",
            IdKind::SectionSubmission => "SectionSubmission",
            IdKind::AuditEntry => "AuditEntry",
            IdKind::User => "User",
            IdKind::ServiceCredential => "ServiceCredential",
            IdKind::UnitImport => "UnitImport",
            IdKind::EntrySheet => "EntrySheet",
            IdKind::WebhookEndpoint => "WebhookEndpoint",
            IdKind::WebhookDelivery => "WebhookDelivery",
        }
    }

    /// Words for error messages ("score run").
    fn words(self) -> &'static str {
        match self {
            IdKind::Organisation => "organisation",
            IdKind::Department => "department",
            IdKind::Unit => "unit",
            IdKind::Rubric => "rubric",
            IdKind::RubricVersion => "rubric version",
            IdKind::Indicator => "indicator",
            IdKind::Clause => "clause",
            IdKind::Rule => "rule",
            IdKind::ScoreRun => "score run",
            IdKind::Observation => "observation",
            IdKind::Evidence => "evidence",
            IdKind::Claim => "claim",
            IdKind::SectionSubmission => "section submission",
            IdKind::AuditEntry => "audit entry",
            IdKind::User => "user",
            IdKind::ServiceCredential => "service credential",
            IdKind::UnitImport => "unit import",
            IdKind::EntrySheet => "entry sheet",
            IdKind::WebhookEndpoint => "webhook endpoint",
            IdKind::WebhookDelivery => "webhook delivery",
        }
    }
}

/// The global id of a database row.
pub fn to_id(kind: IdKind, id: i64) -> ID {
    ID(kaohe_service::ids::global_id(kind.name(), id))
}

/// Decodes any global id made by this API into its kind and row id.
pub fn decode(id: &ID) -> Option<(IdKind, i64)> {
    let raw = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (name, n) = text.split_once(':')?;
    let kind = ALL.into_iter().find(|k| k.name() == name)?;
    let n = n.parse::<i64>().ok().filter(|n| *n > 0)?;
    Some((kind, n))
}

/// Decodes a global id that must be of `kind`; anything else is BAD_USER_INPUT.
pub fn parse_id(id: &ID, kind: IdKind) -> async_graphql::Result<i64> {
    match decode(id) {
        Some((k, n)) if k == kind => Ok(n),
        _ => Err(ServiceError::BadUserInput(format!("`{}` is not a {} id", id.as_str(), kind.words()))).gql(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_kinds() {
        let id = to_id(IdKind::ScoreRun, 42);
        assert_ne!(id.as_str(), "42");
        assert_eq!(decode(&id), Some((IdKind::ScoreRun, 42)));
        assert_eq!(parse_id(&id, IdKind::ScoreRun).ok(), Some(42));
        assert!(parse_id(&id, IdKind::Unit).is_err());
        assert!(parse_id(&ID("42".into()), IdKind::ScoreRun).is_err());
        assert_eq!(decode(&ID(URL_SAFE_NO_PAD.encode("ScoreRun:-1"))), None);
        assert_eq!(decode(&ID(URL_SAFE_NO_PAD.encode("Nope:1"))), None);
    }

    #[test]
    fn every_kind_round_trips() {
        for k in ALL {
            assert_eq!(decode(&to_id(k, 7)), Some((k, 7)), "{k:?}");
        }
    }
}
