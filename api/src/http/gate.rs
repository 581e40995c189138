//! The request gate: every GraphQL request passes here before async-graphql
//! parses or validates it (see SECURITY-NOTES and README, "Limits").
//!
//! Per operation: `kaohe_gate::prescan` on the raw text, one parse (kept in
//! the request with `set_parsed_query`, so the schema does not parse again),
//! `kaohe_gate::analyze` (expanded fields, aliases, directives, depth, cost,
//! `login` fields); a text admitted before with the same operation name and
//! variables is admitted again from memory, unparsed, and if it runs it is
//! given the tree parsed the first time (`Gate::reuse_parsed`). Per request:
//! login attempts, the caller's cost budget, admission (expensive requests
//! share a small semaphore; cheap ones never wait for it) and an execution
//! timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use kaohe_gate::budget::{BudgetConfig, Budgets, Charge};
use kaohe_gate::{GateError, OperationKind};
use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;

use super::client::ClientAddr;
use crate::caller::Caller;
use crate::config::Limits;

/// Codes of the refusals made by the HTTP layer and the gate (besides
/// `kaohe_gate::GateError::code`).
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    pub const UPLOAD_TOO_LARGE: &str = "UPLOAD_TOO_LARGE";
    pub const TOO_MANY_UPLOADS: &str = "TOO_MANY_UPLOADS";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const TOO_MANY_LOGIN_ATTEMPTS: &str = "TOO_MANY_LOGIN_ATTEMPTS";
    pub const TIMEOUT: &str = "TIMEOUT";
}

/// Every code the gate and the HTTP layer may answer with.
pub const CODES: [&str; 14] = [
    super::persisted::PERSISTED_QUERY_NOT_FOUND,
    super::persisted::PERSISTED_QUERY_NOT_SUPPORTED,
    code::BAD_USER_INPUT,
    code::PAYLOAD_TOO_LARGE,
    code::UNSUPPORTED_MEDIA_TYPE,
    code::BATCH_TOO_LARGE,
    code::UPLOAD_TOO_LARGE,
    code::TOO_MANY_UPLOADS,
    "QUERY_TOO_LARGE",
    code::QUERY_TOO_COMPLEX,
    "GRAPHQL_PARSE_FAILED",
    code::RATE_LIMITED,
    code::TOO_MANY_LOGIN_ATTEMPTS,
    code::TIMEOUT,
];

/// The gate of one instance: limits, cost budgets (in this instance's memory)
/// and the admission semaphore for expensive requests.
pub struct Gate {
    limits: Limits,
    budgets: Budgets,
    expensive: Semaphore,
    runtime: Expensive,
    /// The database pool of expensive requests.
    expensive_db: DatabaseConnection,
    /// What admission found for texts seen before (see [`first_look`]).
    admitted: quick_cache::sync::Cache<TextKey, Admitted>,
    /// Automatic persisted queries (`persisted.rs`).
    persisted: super::persisted::Persisted,
    /// Parsed documents by text, for operations admitted from memory that
    /// run: the schema would parse them again (see [`Gate::reuse_parsed`]).
    parsed: quick_cache::sync::Cache<String, Arc<ExecutableDocument>, ByText>,
    /// Operations (text, name, variables) that passed the schema's validation
    /// here: they may run on the schema that skips it (`graphql::Schemas`).
    validated: quick_cache::sync::Cache<TextKey, ()>,
}

/// Bytes of parsed documents kept, weighed by their text (an AST holds
/// about ten times its text).
const PARSED_BYTES: u64 = 16 << 20;

#[derive(Clone)]
struct ByText;

impl quick_cache::Weighter<String, Arc<ExecutableDocument>> for ByText {
    fn weight(&self, text: &String, _: &Arc<ExecutableDocument>) -> u64 {
        (text.len() as u64).saturating_mul(10).saturating_add(256)
    }
}

/// The runtime on which expensive requests execute: one thread per slot
/// (`EXPENSIVE_CONCURRENCY`), at most one per core, so that two slots
/// compute at once where there are two cores (one thread left a computed
/// ranking on one core of two, issue 18); HTTP workers never run them.
struct Expensive(Option<tokio::runtime::Runtime>);

impl Expensive {
    fn new(slots: usize) -> Expensive {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(slots.clamp(1, cores))
            .thread_name("kaohe-expensive")
            .enable_all()
            .build();
        match rt {
            Ok(rt) => Expensive(Some(rt)),
            Err(e) => {
                tracing::warn!(error = %e, "no runtime for expensive requests; they run on the HTTP workers");
                Expensive(None)
            }
        }
    }

    fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.0.as_ref().map(tokio::runtime::Runtime::handle)
    }
}

impl Drop for Expensive {
    fn drop(&mut self) {
        // Dropping a runtime inside another one would panic.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A request refused before (or instead of) running, as a GraphQL-shaped body.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<Duration>,
    pub remaining: Option<u64>,
}

impl Refusal {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { status, code, message: message.into(), retry_after: None, remaining: None }
    }

    fn gate(e: &GateError) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, e.code(), e.to_string())
    }

    pub fn into_response(self) -> HttpResponse {
        let mut res = super::refusal(self.status, self.code, &self.message);
        let headers = res.headers_mut();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
        }
        if let Some(remaining) = self.remaining {
            headers.insert(REMAINING.clone(), header::HeaderValue::from(remaining));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            headers.insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        }
        res
    }
}

pub(crate) static REMAINING: header::HeaderName = header::HeaderName::from_static("x-ratelimit-remaining");
pub(crate) static LIMIT: header::HeaderName = header::HeaderName::from_static("x-ratelimit-limit");

/// A request that passed every check: run it within `deadline`.
pub struct Pass {
    /// The operations, each with its parsed document inside.
    pub operations: Vec<async_graphql::Request>,
    /// The cost of each operation.
    pub costs: Vec<u64>,
    /// The nodes each operation may touch (its size, not charged).
    pub nodes: Vec<u64>,
    /// The kind of each operation (only queries' answers may be cached).
    pub kinds: Vec<OperationKind>,
    /// Each operation's [`TextKey`]: its text, name and variables.
    pub texts: Vec<TextKey>,
    /// Whether each operation selects only `__typename`, `__schema` or
    /// `__type` (its answer depends on no data).
    pub meta_only: Vec<bool>,
    /// Whether each operation leaves every caller's row as it was: a query,
    /// or a mutation of only `graphql::writes::KEEPS_CALLERS` fields.
    pub keeps_callers: Vec<bool>,
    /// The name of each operation run: the one asked for, or the document's
    /// only operation's (`None`: anonymous).
    pub names: Vec<Option<String>>,
    /// Whether each operation was parsed by admission (else it was admitted
    /// from memory, unparsed).
    pub parsed: Vec<bool>,
    /// Whether each operation validated clean here before ([`Gate::validated`]).
    pub validated: Vec<bool>,
    /// The whole request's cost, charged to the caller's budget.
    pub cost: u64,
    pub remaining: u64,
    pub expensive: bool,
    pub deadline: Instant,
}

/// A SHA-256 of an operation's text, operation name and variables: the same
/// key is the same document, so the same admission (and, for one caller,
/// the same answer: `responses`).
pub type TextKey = [u8; 32];

/// Distinct operation texts whose admission is remembered per instance.
const ADMITTED_TEXTS: usize = 10_000;

fn text_key(request: &async_graphql::Request, variables: Option<&serde_json::Value>) -> TextKey {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut put = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    put(request.query.as_bytes());
    put(request.operation_name.as_deref().unwrap_or("").as_bytes());
    put(variables.map(|v| v.to_string()).unwrap_or_default().as_bytes());
    h.finalize().into()
}

/// What admission learns of a document: the same text, name and variables
/// always give the same, so a repeated request skips the parse and the
/// analysis (if it runs, the schema gets the kept tree: `Gate::reuse_parsed`).
#[derive(Clone)]
struct Admitted {
    analysis: kaohe_gate::Analysis,
    only_queries: bool,
    meta_only: bool,
    keeps_callers: bool,
    name: Option<String>,
}

/// The checks of a text not seen before: `prescan`, one parse (kept in the
/// request), the GET rule, `analyze`. Refusals are not remembered.
fn first_look(
    request: &mut async_graphql::Request,
    variables: Option<&serde_json::Value>,
    limits: &kaohe_gate::Limits,
    queries_only: bool,
) -> Result<Admitted, Refusal> {
    kaohe_gate::prescan(&request.query, limits).map_err(|e| Refusal::gate(&e))?;
    let operation = request.operation_name.clone();
    let doc: &ExecutableDocument =
        request.parsed_query().map_err(|e| Refusal::gate(&GateError::Syntax(e.message.clone())))?;
    let only_queries = doc.operations.iter().all(|(_, op)| op.node.ty == OperationType::Query);
    // Over GET that is the answer, before anything else is found wrong.
    if queries_only && !only_queries {
        return Err(get_refused());
    }
    let analysis = kaohe_gate::analyze(doc, operation.as_deref(), variables, limits).map_err(|e| Refusal::gate(&e))?;
    let meta_only = doc.operations.iter().all(|(_, op)| {
        op.node.selection_set.node.items.iter().all(|s| match &s.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            _ => false,
        })
    });
    // Every operation of the document, whichever runs; a fragment at the
    // root is not looked into (it counts as changing callers).
    let keeps_callers = doc.operations.iter().all(|(_, op)| match op.node.ty {
        OperationType::Query => true,
        OperationType::Mutation => op.node.selection_set.node.items.iter().all(|s| match &s.node {
            Selection::Field(f) => crate::graphql::writes::keeps_callers(&f.node.name.node),
            _ => false,
        }),
        OperationType::Subscription => false,
    });
    let name = operation.or_else(|| {
        let mut ops = doc.operations.iter();
        match (ops.next(), ops.next()) {
            (Some((name, _)), None) => name.map(|n| n.to_string()),
            _ => None,
        }
    });
    Ok(Admitted { analysis, only_queries, meta_only, keeps_callers, name })
}

impl Gate {
    pub fn new(limits: Limits, expensive_db: DatabaseConnection) -> Gate {
        let budgets = Budgets::new(BudgetConfig {
            capacity: limits.rate_budget,
            per_second: limits.rate_refill_per_hour as f64 / 3600.0,
            max_keys: limits.rate_max_keys,
        });
        let expensive = Semaphore::new(limits.expensive_concurrency);
        let admitted = quick_cache::sync::Cache::new(ADMITTED_TEXTS);
        let persisted = super::persisted::Persisted::default();
        let runtime = Expensive::new(limits.expensive_concurrency);
        let parsed = quick_cache::sync::Cache::with_weighter(1024, PARSED_BYTES, ByText);
        let validated = quick_cache::sync::Cache::new(ADMITTED_TEXTS);
        Gate { limits, budgets, expensive, runtime, expensive_db, admitted, persisted, parsed, validated }
    }

    /// Remembers that an operation passed validation (its answer had no
    /// error outside a field: see `graphql::passed_validation`).
    pub fn validated(&self, text: TextKey) {
        self.validated.insert(text, ());
    }

    /// Gives an operation admitted from memory the document parsed when its
    /// text was first seen (a clone of the tree costs a fraction of a parse).
    pub fn reuse_parsed(&self, request: &mut async_graphql::Request) {
        if let Some(doc) = self.parsed.get(request.query.as_str()) {
            request.set_parsed_query(ExecutableDocument::clone(&doc));
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Expensive requests holding a slot now.
    pub fn expensive_running(&self) -> usize {
        self.limits.expensive_concurrency.saturating_sub(self.expensive.available_permits())
    }

    /// The pool a request runs on: expensive requests have their own.
    pub fn pool<'a>(&'a self, pass: &Pass, main: &'a DatabaseConnection) -> &'a DatabaseConnection {
        if pass.expensive { &self.expensive_db } else { main }
    }

    /// Checks every operation, then login attempts and the caller's budget.
    /// `queries_only` refuses mutations and subscriptions (GET).
    pub fn admit(&self, requests: Vec<async_graphql::Request>, queries_only: bool, key: &str) -> Result<Pass, Refusal> {
        let started = Instant::now();
        let limits = &self.limits.document;
        let mut operations = Vec::with_capacity(requests.len());
        let mut costs = Vec::with_capacity(requests.len());
        let mut sizes = Vec::with_capacity(requests.len());
        let mut kinds = Vec::with_capacity(requests.len());
        let mut texts = Vec::with_capacity(requests.len());
        let mut meta_only = Vec::with_capacity(requests.len());
        let mut keeps_callers = Vec::with_capacity(requests.len());
        let mut names = Vec::with_capacity(requests.len());
        let mut parsed = Vec::with_capacity(requests.len());
        let mut validated = Vec::with_capacity(requests.len());
        let (mut total, mut logins, mut nodes) = (0u64, 0u64, 0u64);
        for mut request in requests {
            let persisted = self.persisted.resolve(&mut request)?;
            let variables = serde_json::to_value(&request.variables).ok();
            let text = text_key(&request, variables.as_ref());
            let admitted = match self.admitted.get(&text) {
                Some(a) => {
                    parsed.push(false);
                    a
                }
                None => {
                    let a = first_look(&mut request, variables.as_ref(), limits, queries_only)?;
                    self.admitted.insert(text, a.clone());
                    let text = request.query.clone();
                    if let Ok(doc) = request.parsed_query() {
                        self.parsed.insert(text, Arc::new(doc.clone()));
                    }
                    parsed.push(true);
                    a
                }
            };
            // Over GET, a document holding any mutation or subscription is refused,
            // whichever operation it names.
            if queries_only && (!admitted.only_queries || admitted.analysis.kind != OperationKind::Query) {
                return Err(get_refused());
            }
            if let super::persisted::Use::Register(hash) = persisted {
                self.persisted.register(hash, &mut request);
            }
            let analysis = &admitted.analysis;
            total = total.saturating_add(analysis.cost);
            nodes = nodes.saturating_add(analysis.nodes);
            logins = logins.saturating_add(analysis.logins);
            costs.push(analysis.cost);
            sizes.push(analysis.nodes);
            kinds.push(analysis.kind);
            validated.push(self.validated.get(&text).is_some());
            texts.push(text);
            meta_only.push(admitted.meta_only);
            keeps_callers.push(admitted.keeps_callers);
            names.push(admitted.name.clone());
            operations.push(request);
        }
        if logins > self.limits.max_logins_per_request {
            return Err(Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::TOO_MANY_LOGIN_ATTEMPTS,
                format!(
                    "the request makes {logins} login attempts; at most {} per request",
                    self.limits.max_logins_per_request
                ),
            ));
        }
        if total > self.limits.rate_budget {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                code::QUERY_TOO_COMPLEX,
                format!("the request costs {total} points, more than the whole budget of {}", self.limits.rate_budget),
            ));
        }
        let remaining = match self.budgets.charge(key, total, started) {
            Charge::Granted { remaining } => remaining,
            Charge::Refused { remaining, retry_after } => {
                return Err(Refusal {
                    retry_after: Some(retry_after),
                    remaining: Some(remaining),
                    ..Refusal::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        code::RATE_LIMITED,
                        format!(
                            "the request costs {total} points and {remaining} remain; retry in {} s",
                            retry_after.as_secs().max(1)
                        ),
                    )
                });
            }
        };
        tracing::debug!(cost = total, us = started.elapsed().as_micros() as u64, "admitted");
        Ok(Pass {
            operations,
            costs,
            nodes: sizes,
            kinds,
            texts,
            meta_only,
            keeps_callers,
            names,
            parsed,
            validated,
            cost: total,
            remaining,
            expensive: nodes > self.limits.expensive_nodes,
            deadline: started + self.limits.request_timeout,
        })
    }

    /// Runs `work` within the request's deadline. A cheap request runs at
    /// once on the HTTP worker; an expensive one first waits (within the same
    /// deadline) for one of the few expensive slots, then runs on the
    /// expensive requests' own thread, so it never holds up an HTTP worker.
    pub async fn run<T: Send + 'static>(
        &self,
        pass: &Pass,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Refusal> {
        let deadline = tokio::time::Instant::from_std(pass.deadline);
        let timed_out = || {
            Refusal::new(
                StatusCode::GATEWAY_TIMEOUT,
                code::TIMEOUT,
                format!("the request did not finish within {} ms", self.limits.request_timeout.as_millis()),
            )
        };
        if !pass.expensive {
            return tokio::time::timeout_at(deadline, work).await.map_err(|_| timed_out());
        }
        let _permit = match tokio::time::timeout_at(deadline, self.expensive.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => return Err(timed_out()),
        };
        let Some(runtime) = self.runtime.handle() else {
            return tokio::time::timeout_at(deadline, work).await.map_err(|_| timed_out());
        };
        let mut task = runtime.spawn(work);
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "an expensive request failed");
                Err(Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error"))
            }
            Err(_) => {
                task.abort();
                Err(timed_out())
            }
        }
    }

    /// The rate-limit headers of an answered request.
    pub fn headers(&self, res: &mut HttpResponse, remaining: u64) {
        let h = res.headers_mut();
        h.insert(REMAINING.clone(), header::HeaderValue::from(remaining));
        h.insert(LIMIT.clone(), header::HeaderValue::from(self.limits.rate_budget));
    }

    /// The budget key of a request: the user when signed in, else the
    /// client's address (`ClientAddr`: behind `TRUSTED_PROXIES`, the
    /// forwarded client; an IPv6 client by its /64).
    pub fn key(&self, caller: &Caller, client: &ClientAddr) -> String {
        match caller.user_id() {
            Some(id) => format!("user:{id}"),
            None => format!("ip:{}", client.key()),
        }
    }
}

fn get_refused() -> Refusal {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::BAD_USER_INPUT,
        "only queries may run over GET; send mutations with POST",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_code_is_documented_in_the_readme() {
        let readme = include_str!("../../../README.md");
        for code in CODES {
            assert!(readme.contains(&format!("`{code}`")), "README.md does not document {code}");
        }
    }

    #[test]
    fn refusals_carry_retry_after_in_whole_seconds() {
        let r = Refusal {
            retry_after: Some(Duration::from_millis(1500)),
            remaining: Some(3),
            ..Refusal::new(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED, "x")
        };
        let res = r.into_response();
        assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("2"));
        assert_eq!(res.headers().get("x-ratelimit-remaining").and_then(|v| v.to_str().ok()), Some("3"));
    }
}
