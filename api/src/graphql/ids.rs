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
pub enum Kind {
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
    WebhookEndpoint,
    WebhookDelivery,
}

const ALL: [Kind; 18] = [
    Kind::Organisation,
    Kind::Department,
    Kind::Unit,
    Kind::Rubric,
    Kind::RubricVersion,
    Kind::Indicator,
    Kind::Clause,
    Kind::Rule,
    Kind::ScoreRun,
    Kind::Observation,
    Kind::Evidence,
    Kind::Claim,
    Kind::SectionSubmission,
    Kind::AuditEntry,
    Kind::User,
    Kind::ServiceCredential,
    Kind::WebhookEndpoint,
    Kind::WebhookDelivery,
];

impl Kind {
    /// The GraphQL type name, as written inside the id.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Organisation => "Organisation",
            Kind::Department => "Department",
            Kind::Unit => "Unit",
            Kind::Rubric => "Rubric",
            Kind::RubricVersion => "RubricVersion",
            Kind::Indicator => "Indicator",
            Kind::Clause => "Clause",
            Kind::Rule => "Rule",
            Kind::ScoreRun => "ScoreRun",
            Kind::Observation => "Observation",
            Kind::Evidence => "Evidence",
            Kind::Claim => "Claim",
            Kind::SectionSubmission => "SectionSubmission",
            Kind::AuditEntry => "AuditEntry",
            Kind::User => "User",
            Kind::ServiceCredential => "ServiceCredential",
            Kind::WebhookEndpoint => "WebhookEndpoint",
            Kind::WebhookDelivery => "WebhookDelivery",
        }
    }

    /// Words for error messages ("score run").
    fn words(self) -> &'static str {
        match self {
            Kind::Organisation => "organisation",
            Kind::Department => "department",
            Kind::Unit => "unit",
            Kind::Rubric => "rubric",
            Kind::RubricVersion => "rubric version",
            Kind::Indicator => "indicator",
            Kind::Clause => "clause",
            Kind::Rule => "rule",
            Kind::ScoreRun => "score run",
            Kind::Observation => "observation",
            Kind::Evidence => "evidence",
            Kind::Claim => "claim",
            Kind::SectionSubmission => "section submission",
            Kind::AuditEntry => "audit entry",
            Kind::User => "user",
            Kind::ServiceCredential => "service credential",
            Kind::WebhookEndpoint => "webhook endpoint",
            Kind::WebhookDelivery => "webhook delivery",
        }
    }
}

/// The global id of a database row.
pub fn to_id(kind: Kind, id: i64) -> ID {
    ID(kaohe_service::ids::global_id(kind.name(), id))
}

/// Decodes any global id made by this API into its kind and row id.
pub fn decode(id: &ID) -> Option<(Kind, i64)> {
    let raw = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (name, n) = text.split_once(':')?;
    let kind = ALL.into_iter().find(|k| k.name() == name)?;
    let n = n.parse::<i64>().ok().filter(|n| *n > 0)?;
    Some((kind, n))
}

/// Decodes a global id that must be of `kind`; anything else is BAD_USER_INPUT.
pub fn parse_id(id: &ID, kind: Kind) -> async_graphql::Result<i64> {
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
        let id = to_id(Kind::ScoreRun, 42);
        assert_ne!(id.as_str(), "42");
        assert_eq!(decode(&id), Some((Kind::ScoreRun, 42)));
        assert_eq!(parse_id(&id, Kind::ScoreRun).ok(), Some(42));
        assert!(parse_id(&id, Kind::Unit).is_err());
        assert!(parse_id(&ID("42".into()), Kind::ScoreRun).is_err());
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
