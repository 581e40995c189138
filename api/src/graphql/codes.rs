//! Every error in `errors[]` carries `extensions.code`, also those that
//! async-graphql itself makes before or around our resolvers (a document
//! that does not validate, a variable of the wrong type, a scalar that does
//! not parse). Codes as Apollo Server names them; given in the request hook
//! of the schema's one extension (`nulls::SpecNulls`).

use async_graphql::{ErrorExtensionValues, ServerError};

/// A document async-graphql refused to run (unknown field, missing variable…).
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// A value the client sent that does not fit its type.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// A document over the schema's own depth limit (the gate bounds the rest).
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";

/// The code of an error async-graphql made (ours always have one).
fn code_of(e: &ServerError) -> &'static str {
    let m = e.message.as_str();
    if m.starts_with("Failed to parse")
        || m.starts_with("Invalid value for argument")
        || m.contains("Variable \"")
        // A variable the document declares but the request does not give.
        || (m.starts_with("Variable ") && m.ends_with(" is not defined."))
    {
        BAD_USER_INPUT
    } else if m.starts_with("Query is too complex") || m.starts_with("Query is nested too deep") {
        QUERY_TOO_COMPLEX
    } else if e.path.is_empty() {
        GRAPHQL_VALIDATION_FAILED
    } else {
        tracing::error!(message = %e.message, "an error without a code reached the response");
        "INTERNAL"
    }
}

pub(super) fn give_code(e: &mut ServerError) {
    if e.extensions.as_ref().is_some_and(|x| x.get("code").is_some()) {
        return;
    }
    let code = code_of(e);
    if code == "INTERNAL" {
        // Its text may carry a cause; clients get the generic message.
        e.message = "internal error".into();
    }
    e.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(message: &str, path: bool) -> String {
        let mut e = ServerError::new(message, None);
        if path {
            e.path = vec![async_graphql::PathSegment::Field("x".into())];
        }
        give_code(&mut e);
        format!("{:?}", e.extensions)
    }

    #[test]
    fn errors_async_graphql_makes_get_apollo_codes() {
        assert!(coded("Unknown field \"nope\" on type \"Query\".", false).contains(GRAPHQL_VALIDATION_FAILED));
        assert!(coded("Failed to parse \"Decimal\": invalid", true).contains(BAD_USER_INPUT));
        assert!(coded("Invalid value for argument \"status\"", false).contains(BAD_USER_INPUT));
        assert!(coded("Query is too complex.", false).contains(QUERY_TOO_COMPLEX));
        assert!(coded("Variable c is not defined.", true).contains(BAD_USER_INPUT));
        assert!(coded("Data `Foo` does not exist.", true).contains("INTERNAL"));
    }
}
