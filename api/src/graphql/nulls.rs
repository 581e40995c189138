//! Null propagation as the GraphQL specification has it (§6.4.4, "Handling
//! Field Errors"), which async-graphql 7 does not do: it leaves a field that
//! raised an error out of `data` altogether (and answers `data: null` when
//! that was the only field). Here, per request:
//! - a **nullable** field whose resolver fails answers `null`, its error kept;
//! - a **non-null** field's failure makes its nearest nullable ancestor field
//!   `null`, and reaching the root makes `data` itself `null`.
//!
//! (A list item is not a field: a failure inside a nullable item nulls the
//! nearest nullable field around the list.)
//!
//! This is the schema's **one** extension: it also refuses the top-level
//! fields a caller may not reach (`signin`) and codes every error (`codes`).
//! async-graphql runs every registered extension's `resolve` hook around
//! every field (a boxed future each), so one extension with a cheap path for
//! the field that succeeds keeps a 30,000-field ranking fast: nothing is
//! allocated or locked unless some field has failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextResolve, ResolveInfo};
use async_graphql::{Response, ServerError, ServerResult, Value};

pub struct SpecNulls;

impl ExtensionFactory for SpecNulls {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SpecNullsExtension::default())
    }
}

/// One request's bookkeeping (an extension is made per request).
#[derive(Default)]
struct SpecNullsExtension {
    /// Set once a non-null field has failed: until then a succeeding
    /// nullable field has nothing to absorb and takes no lock.
    any_failed: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Errors of nullable fields, answered as `null`: added to the response here.
    nulled: Vec<ServerError>,
    /// Paths of non-null fields that failed and no nullable field has
    /// absorbed yet (their errors async-graphql keeps).
    failed: Vec<Vec<String>>,
}

impl SpecNullsExtension {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another field's hook panicked; its data is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn starts_with(path: &[String], prefix: &[String]) -> bool {
    path.len() > prefix.len() && path[..prefix.len()] == *prefix
}

#[async_trait::async_trait]
impl Extension for SpecNullsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let state = std::mem::take(&mut *self.state());
        if !state.failed.is_empty() {
            // A non-null field failed with no nullable field above it to absorb
            // the null: nothing of `data` stands.
            response.data = Value::Null;
        }
        response.errors.extend(state.nulled);
        for e in &mut response.errors {
            super::codes::give_code(e);
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !info.return_type.ends_with('!');
        let path_node = info.path_node;
        let outcome = match super::signin::refusal(ctx, &info) {
            Some(refused) => Err(refused),
            None => next.run(ctx, info).await,
        };
        match outcome {
            Ok(value) => {
                if nullable && self.any_failed.load(Ordering::Acquire) {
                    let path = path_node.to_string_vec();
                    let mut state = self.state();
                    let before = state.failed.len();
                    state.failed.retain(|p| !starts_with(p, &path));
                    if state.failed.len() < before {
                        // A non-null field below failed: this is its nearest nullable ancestor.
                        return Ok(None);
                    }
                }
                Ok(value)
            }
            Err(e) if nullable => {
                self.state().nulled.push(e);
                Ok(None)
            }
            Err(e) => {
                let path = path_node.to_string_vec();
                self.state().failed.push(path);
                self.any_failed.store(true, Ordering::Release);
                Err(e)
            }
        }
    }
}
