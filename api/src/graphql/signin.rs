//! Every write but signing in needs a signed-in caller, and an anonymous one
//! is refused before its resolver runs: nothing is looked up, so the answer
//! is the same whatever ids it names (one rule for every mutation, present
//! and future, instead of a check each service must remember to make first).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, ServerError, ServerResult, Value};

use super::errors::IntoGql;
use crate::caller::{Caller, CallerRole};
use kaohe_service::ServiceError;

/// The mutations an anonymous caller may send: the ways to sign in and out.
const OPEN_TO_ANONYMOUS: [&str; 4] = ["login", "refreshSession", "logout", "serviceToken"];

pub struct SignInForWrites;

impl ExtensionFactory for SignInForWrites {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SignInForWritesExtension)
    }
}

struct SignInForWritesExtension;

#[async_trait::async_trait]
impl Extension for SignInForWritesExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type == "Mutation"
            && !OPEN_TO_ANONYMOUS.contains(&info.name)
            && ctx.data::<Caller>().map_or(true, |c| c.role == CallerRole::Anonymous)
        {
            let e = ServiceError::Unauthenticated.into_gql();
            let mut refused = ServerError::new(e.message, None);
            refused.extensions = e.extensions;
            refused.path = vec![PathSegment::Field(info.alias.unwrap_or(info.name).to_string())];
            return Err(refused);
        }
        next.run(ctx, info).await
    }
}

/// What a caller signed in with a one-time password may still do: change
/// it, read its own account, refresh or end the session, sign in again.
const BEFORE_PASSWORD_CHANGE: [&str; 9] =
    ["changePassword", "me", "login", "refreshSession", "logout", "serviceToken", "__typename", "__schema", "__type"];

/// A user signed in with a one-time password (a new account, a reset) gets
/// FORBIDDEN for every top-level field but those above until it has chosen
/// its own password (`changePassword`).
pub struct PasswordChangeFirst;

impl ExtensionFactory for PasswordChangeFirst {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PasswordChangeFirstExtension)
    }
}

struct PasswordChangeFirstExtension;

#[async_trait::async_trait]
impl Extension for PasswordChangeFirstExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if matches!(info.parent_type, "Query" | "Mutation")
            && !BEFORE_PASSWORD_CHANGE.contains(&info.name)
            && ctx.data::<Caller>().is_ok_and(|c| c.must_change_password)
        {
            let mut refused = ServerError::new(
                "change your one-time password first (`changePassword`); nothing else is answered until then",
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "FORBIDDEN");
            ext.set("reason", "PASSWORD_CHANGE_REQUIRED");
            refused.extensions = Some(ext);
            refused.path = vec![PathSegment::Field(info.alias.unwrap_or(info.name).to_string())];
            return Err(refused);
        }
        next.run(ctx, info).await
    }
}
