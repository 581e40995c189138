//! Who may reach the top-level fields at all, checked by the schema's one
//! extension (`nulls::SpecNulls`) before a resolver runs: one rule for every
//! field, present and future, instead of a check each service must remember
//! to make first.
//! - Every write but signing in needs a signed-in caller; an anonymous one is
//!   refused before anything is looked up, so the answer is the same whatever
//!   ids it names.
//! - A user signed in with a one-time password (a new account, a reset) gets
//!   FORBIDDEN for every top-level field but those below until it has chosen
//!   its own password (`changePassword`).

use async_graphql::extensions::{ExtensionContext, ResolveInfo};
use async_graphql::{PathSegment, ServerError};

use super::errors::IntoGql;
use crate::caller::{Caller, CallerRole};
use kaohe_service::ServiceError;

/// The mutations an anonymous caller may send: the ways to sign in and out.
const OPEN_TO_ANONYMOUS: [&str; 4] = ["login", "refreshSession", "logout", "serviceToken"];

/// What a caller signed in with a one-time password may still do: change
/// it, read its own account, refresh or end the session, sign in again.
const BEFORE_PASSWORD_CHANGE: [&str; 9] =
    ["changePassword", "me", "login", "refreshSession", "logout", "serviceToken", "__typename", "__schema", "__type"];

/// Why this field is refused, if it is (only top-level fields ever are).
pub(super) fn refusal(ctx: &ExtensionContext<'_>, info: &ResolveInfo<'_>) -> Option<ServerError> {
    if info.path_node.parent.is_some() || !matches!(info.parent_type, "Query" | "Mutation") {
        return None;
    }
    let caller = ctx.data::<Caller>().ok();
    let path = || vec![PathSegment::Field(info.alias.unwrap_or(info.name).to_string())];
    if info.parent_type == "Mutation"
        && !OPEN_TO_ANONYMOUS.contains(&info.name)
        && caller.is_none_or(|c| c.role == CallerRole::Anonymous)
    {
        let e = ServiceError::Unauthenticated.into_gql();
        let mut refused = ServerError::new(e.message, None);
        refused.extensions = e.extensions;
        refused.path = path();
        return Some(refused);
    }
    if !BEFORE_PASSWORD_CHANGE.contains(&info.name) && caller.is_some_and(|c| c.must_change_password) {
        let mut refused = ServerError::new(
            "change your one-time password first (`changePassword`); nothing else is answered until then",
            None,
        );
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", "FORBIDDEN");
        ext.set("reason", "PASSWORD_CHANGE_REQUIRED");
        refused.extensions = Some(ext);
        refused.path = path();
        return Some(refused);
    }
    None
}
