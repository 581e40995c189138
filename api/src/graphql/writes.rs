//! Which mutations may change a caller's row (a user, a session, a service
//! credential, an organisation): after one of those this instance forgets
//! its organisation's kept callers (`auth::pulse`); after any other it only
//! moves the generations its audit entries moved, and the writer's next
//! request reads nothing before its answer. A 科室 entering a month writes
//! several times a minute: its caller's row stays kept through it.
//!
//! Both lists together name every mutation (the test below fails on a new
//! one until it is put in one of them); when in doubt, `FORGETS_CALLERS`.

/// Mutations whose services write no user, session, credential or
/// organisation row (runs, observations, entry sheets, claims, evidence).
pub const KEEPS_CALLERS: &[&str] = &[
    "openScoreRun",
    "recordObservation",
    "recordObservations",
    "correctObservation",
    "withdrawObservation",
    "withdrawObservations",
    "previewEntrySheet",
    "applyEntrySheet",
    "submitSection",
    "reopenSection",
    "publishRun",
    "amendRun",
    "fileClaim",
    "decideClaim",
    "uploadEvidence",
];

/// Every other mutation: sign-in and sessions, accounts, credentials, and
/// the administration the working day does not repeat (kept on the safe
/// side: the next request reads its caller once).
pub const FORGETS_CALLERS: &[&str] = &[
    "login",
    "refreshSession",
    "logout",
    "changePassword",
    "createUser",
    "updateUser",
    "resetPassword",
    "deactivateUser",
    "reactivateUser",
    "createServiceCredential",
    "revokeServiceCredential",
    "serviceToken",
    "assignIndicator",
    "unassignIndicator",
    "createDepartment",
    "renameDepartment",
    "deactivateDepartment",
    "reactivateDepartment",
    "createUnit",
    "renameUnit",
    "moveUnit",
    "deactivateUnit",
    "reactivateUnit",
    "previewUnitImport",
    "applyUnitImport",
    "createRubricVersionDraft",
    "updateRubricVersionDraft",
    "addDraftIndicator",
    "updateDraftIndicator",
    "removeDraftIndicator",
    "addDraftClause",
    "updateDraftClause",
    "removeDraftClause",
    "addDraftRule",
    "updateDraftRule",
    "removeDraftRule",
    "discardRubricVersionDraft",
    "publishRubricVersion",
    "createWebhookEndpoint",
    "disableWebhookEndpoint",
    "rotateWebhookSecret",
    "resendWebhookDelivery",
];

/// Whether a root field of a mutation leaves every caller's row as it was
/// (`__typename` does).
pub fn keeps_callers(field: &str) -> bool {
    field == "__typename" || KEEPS_CALLERS.contains(&field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutation_is_in_exactly_one_list() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let sdl = async_graphql::parser::parse_schema(include_str!("../../../schema.graphql")).unwrap();
        let mutation = sdl
            .definitions
            .iter()
            .find_map(|d| match d {
                TypeSystemDefinition::Type(t) if t.node.name.node == "Mutation" => match &t.node.kind {
                    TypeKind::Object(o) => Some(o),
                    _ => None,
                },
                _ => None,
            })
            .expect("schema.graphql has a Mutation type");
        let fields: Vec<&str> = mutation.fields.iter().map(|f| f.node.name.node.as_str()).collect();
        for f in &fields {
            let (keeps, forgets) = (KEEPS_CALLERS.contains(f), FORGETS_CALLERS.contains(f));
            assert!(keeps != forgets, "{f}: in {} of the two lists", if keeps { "both" } else { "neither" });
        }
        for f in KEEPS_CALLERS.iter().chain(FORGETS_CALLERS) {
            assert!(fields.contains(f), "{f} is no mutation of the schema");
        }
        assert!(!keeps_callers("login") && keeps_callers("recordObservation") && keeps_callers("__typename"));
    }
}
