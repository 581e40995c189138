//! The one place service errors become GraphQL errors: the message a client
//! may read and `extensions.code` (plus `extensions.rule` for an engine
//! refusal naming its rule).

use async_graphql::ErrorExtensions;
use kaohe_service::ServiceError;
use kaohe_service::auth::AuthError;

/// Every code an error may carry, as a bounded metric label (`OTHER` for
/// anything else, which never happens: `codes::give_code` gives each a code).
pub fn known_code(code: &str) -> &'static str {
    const MORE: [&str; 4] = ["ACCOUNT_LOCKED", "GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED", "INTERNAL"];
    ServiceError::CODES
        .iter()
        .chain(crate::http::gate::CODES.iter())
        .chain(MORE.iter())
        .find(|c| **c == code)
        .copied()
        .unwrap_or("OTHER")
}

/// A service error as a GraphQL error.
pub trait IntoGql {
    fn into_gql(self) -> async_graphql::Error;
}

impl IntoGql for ServiceError {
    fn into_gql(self) -> async_graphql::Error {
        gql_error(&self)
    }
}

/// A service error (also one shared by a batch loader) as a GraphQL error.
pub fn gql_error(e: &ServiceError) -> async_graphql::Error {
    let code = e.code();
    let rule = e.rule().map(str::to_string);
    // A request of many: each refused item with its index, field and code.
    let items = match e {
        ServiceError::Items { items, .. } => Some(async_graphql::Value::List(
            items
                .iter()
                .map(|i| {
                    let mut m = async_graphql::indexmap::IndexMap::new();
                    m.insert(async_graphql::Name::new("index"), async_graphql::Value::from(i.index as u64));
                    m.insert(async_graphql::Name::new("field"), async_graphql::Value::from(i.field.as_str()));
                    m.insert(async_graphql::Name::new("code"), async_graphql::Value::from(i.code));
                    m.insert(async_graphql::Name::new("message"), async_graphql::Value::from(i.message.as_str()));
                    async_graphql::Value::Object(m)
                })
                .collect(),
        )),
        _ => None,
    };
    async_graphql::Error::new(e.public_message()).extend_with(|_, x| {
        x.set("code", code);
        if let Some(rule) = &rule {
            x.set("rule", rule.as_str());
        }
        if let Some(items) = &items {
            x.set("items", items.clone());
        }
    })
}

impl IntoGql for AuthError {
    fn into_gql(self) -> async_graphql::Error {
        match &self {
            AuthError::Internal(e) => tracing::error!(error = %e, "sign-in failed"),
            AuthError::Hashing(e) => tracing::error!(error = %e, "password hashing failed"),
            AuthError::Token(e) => tracing::error!(error = %e, "signing a token failed"),
            _ => {}
        }
        let code = self.code();
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| e.set("code", code))
    }
}

/// Lets resolvers write `service(...).await.gql()?`.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, ServiceError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(ServiceError::into_gql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_reach_clients_as_a_code_and_nothing_else() {
        let e = ServiceError::from(sea_orm::DbErr::Custom("SELECT secret FROM x".into())).into_gql();
        assert_eq!(e.message, "internal error");
        let ext = format!("{:?}", e.extensions);
        assert!(ext.contains("INTERNAL"), "{ext}");
        assert!(!ext.contains("secret"));
        let refused = ServiceError::InvalidObservation { rule: "1.1-1".into(), message: "no".into() }.into_gql();
        assert!(format!("{:?}", refused.extensions).contains("1.1-1"));
    }
}
