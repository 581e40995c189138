//! `POST /graphql` (`application/json`, a batch of at most `MAX_BATCH`, or
//! GraphQL multipart) and `GET /graphql` (GraphiQL without a query; queries
//! only with one). Every request passes the gate (`gate.rs`) first.

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::ParseRequestError;
use async_graphql::http::MultipartOptions;
use sea_orm::DatabaseConnection;
use serde::Deserialize;

use tracing::Instrument;
use tracing::instrument::WithSubscriber;

use super::client::ClientAddr;
use super::gate::{Gate, Refusal, code};
use super::graphiql;
use super::responses::{self, CACHE_STATUS, Cached, Hint, Responses};
use crate::auth::AuthState;
use crate::caller::Caller;
use crate::graphql::{KaoheSchema, Schemas, loader};
use crate::metrics::Metrics;

/// The caller of this request, from its bearer token (none: anonymous). A
/// token that does not verify is refused with 401, never read as anonymous.
pub(crate) async fn caller_of(
    req: &HttpRequest,
    db: &DatabaseConnection,
    auth: &AuthState,
) -> Result<Caller, HttpResponse> {
    let caller = caller_and_generation(req, db, auth).await?.0;
    if caller.must_change_password {
        let message = "change your one-time password first (`changePassword`)";
        return Err(Refusal::new(StatusCode::FORBIDDEN, "FORBIDDEN", message).into_response());
    }
    Ok(caller)
}

/// The caller, with the data generation read in the same statement (`None`
/// for an anonymous caller).
async fn caller_and_generation(
    req: &HttpRequest,
    db: &DatabaseConnection,
    auth: &AuthState,
) -> Result<(Caller, Option<i64>), HttpResponse> {
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("invalid"));
    let found = crate::auth::bearer::caller(db, auth, header, chrono::Utc::now()).await;
    let span = tracing::Span::current();
    match found {
        Ok((caller, generation)) => {
            span.record("caller.kind", tracing::field::debug(caller.role));
            if let Some(org) = caller.organisation_id {
                span.record("caller.organisation", org);
            }
            Ok((caller, generation))
        }
        Err(e) => {
            span.record("caller.kind", "refused");
            let code = e.code();
            if let Some(m) = req.app_data::<web::Data<Metrics>>() {
                m.refused(code);
            }
            let mut res = Refusal::new(StatusCode::UNAUTHORIZED, code, e.to_string()).into_response();
            // RFC 6750: the token sent was refused.
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(r#"Bearer realm="kaohe", error="invalid_token""#),
            );
            Err(res)
        }
    }
}

/// A refusal as the answer, counted in `kaohe_gate_refusals_total{code}`.
fn refuse(req: &HttpRequest, refusal: Refusal) -> HttpResponse {
    if let Some(m) = req.app_data::<web::Data<Metrics>>() {
        m.refused(refusal.code);
    }
    refusal.into_response()
}

enum Body {
    Json,
    Multipart,
}

pub async fn post(
    schema: web::Data<Schemas>,
    db: web::Data<DatabaseConnection>,
    gate: web::Data<Gate>,
    auth: web::Data<AuthState>,
    responses: web::Data<Responses>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let res = match read_post(&gate, &req, payload).await {
        // Boxed: the answer's future is tens of kilobytes, and actix moves the
        // handler's future by value (a memcpy of it each time: 13% of a computed
        // page's instructions under callgrind before).
        Ok((requests, batch)) => {
            Box::pin(answer(&schema, &db, &gate, &auth, &responses, &req, requests, batch, false)).await
        }
        Err(refusal) => refuse(&req, refusal),
    };
    negotiated(&req, res)
}

/// The media type of GraphQL-over-HTTP, answered to clients that accept it.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";

/// Whether the client accepts `application/graphql-response+json`.
fn wants_graphql_response(req: &HttpRequest) -> bool {
    req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let accepted = parts.next().is_some_and(|t| t.eq_ignore_ascii_case("application/graphql-response+json"));
            accepted && !parts.any(|p| p.replace(' ', "") == "q=0")
        })
    })
}

/// A JSON answer in the media type the client asked for.
fn negotiated(req: &HttpRequest, mut res: HttpResponse) -> HttpResponse {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json && wants_graphql_response(req) {
        res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(GRAPHQL_RESPONSE));
    }
    res
}

/// An error raised before execution (the document or its variables are
/// invalid, or the caller may not run it): the GraphQL spec says `data` is
/// then absent, and GraphQL-over-HTTP answers it with a 4xx status.
fn request_error(response: &async_graphql::Response) -> Option<StatusCode> {
    let before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if !before_execution {
        return None;
    }
    let unauthenticated = async_graphql::Value::from("UNAUTHENTICATED");
    let code = response.errors.first().and_then(|e| e.extensions.as_ref()).and_then(|x| x.get("code"));
    Some(if code == Some(&unauthenticated) { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST })
}

/// An executed operation's answer, without `data` for a request error.
fn serialise(response: &async_graphql::Response) -> Result<Vec<u8>, serde_json::Error> {
    if request_error(response).is_none() {
        return serde_json::to_vec(response);
    }
    let mut value = serde_json::to_value(response)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("data");
    }
    serde_json::to_vec(&value)
}

/// Reads a POST body within its cap and turns it into operations.
async fn read_post(
    gate: &Gate,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Vec<async_graphql::Request>, bool), Refusal> {
    let limits = gate.limits();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    let lower = content_type.to_ascii_lowercase();
    let kind = if lower.starts_with("application/json") {
        Body::Json
    } else if lower.starts_with("multipart/form-data") {
        Body::Multipart
    } else {
        // text/plain and form bodies are CSRF vectors: refuse them.
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json (or GraphQL multipart for uploads)",
        ));
    };
    let cap = match kind {
        Body::Json => limits.max_body_bytes,
        Body::Multipart => {
            limits.max_body_bytes.saturating_add(limits.max_upload_bytes.saturating_mul(limits.max_upload_files))
        }
    };
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {cap} bytes"),
        )
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let body = match payload.to_bytes_limited(cap).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "the request body could not be read",
            ));
        }
        Err(_) => return Err(too_large()),
    };
    let not_graphql = || {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "not a GraphQL request: expected {\"query\": …, \"variables\": …, \"operationName\": …}",
        )
    };
    let (requests, batch) = match kind {
        Body::Json => {
            if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                let list: Vec<async_graphql::Request> = serde_json::from_slice(&body).map_err(|_| not_graphql())?;
                (list, true)
            } else {
                (vec![serde_json::from_slice(&body).map_err(|_| not_graphql())?], false)
            }
        }
        Body::Multipart => {
            let options = MultipartOptions::default()
                .max_file_size(limits.max_upload_bytes)
                .max_num_files(limits.max_upload_files);
            let received = async_graphql::http::receive_batch_body(Some(&content_type), body.as_ref(), options)
                .await
                .map_err(|e| multipart_refusal(&e, limits.max_upload_bytes))?;
            let batch = matches!(received, async_graphql::BatchRequest::Batch(_));
            let list = received.cloned_requests();
            let files: usize = list.iter().map(|r| r.uploads.len()).sum();
            if files > limits.max_upload_files {
                return Err(Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::TOO_MANY_UPLOADS,
                    format!("the request carries {files} files; at most {}", limits.max_upload_files),
                ));
            }
            (list, batch)
        }
    };
    if requests.is_empty() {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "the batch is empty"));
    }
    if requests.len() > limits.max_batch {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            code::BATCH_TOO_LARGE,
            format!("the batch has {} operations; at most {} per request", requests.len(), limits.max_batch),
        ));
    }
    Ok((requests, batch))
}

/// Lets the multipart path take the requests out of a `BatchRequest`.
trait IntoRequests {
    fn cloned_requests(self) -> Vec<async_graphql::Request>;
}

impl IntoRequests for async_graphql::BatchRequest {
    fn cloned_requests(self) -> Vec<async_graphql::Request> {
        match self {
            async_graphql::BatchRequest::Single(r) => vec![r],
            async_graphql::BatchRequest::Batch(list) => list,
        }
    }
}

fn multipart_refusal(e: &ParseRequestError, max: usize) -> Refusal {
    let text = match e {
        ParseRequestError::InvalidMultipart(inner) => inner.to_string(),
        ParseRequestError::PayloadTooLarge => "exceeded".into(),
        _ => String::new(),
    };
    if text.contains("exceeded") {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::UPLOAD_TOO_LARGE,
            format!("a file (or part) of the multipart request is larger than {max} bytes"),
        )
    } else {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "not a GraphQL multipart request (operations, map, then files)",
        )
    }
}

#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    /// `{"persistedQuery": {"version": 1, "sha256Hash": …}}` (APQ).
    extensions: Option<String>,
}

pub async fn get(
    schema: web::Data<Schemas>,
    db: web::Data<DatabaseConnection>,
    gate: web::Data<Gate>,
    auth: web::Data<AuthState>,
    responses: web::Data<Responses>,
    req: HttpRequest,
) -> HttpResponse {
    let bad = |m: &str| refuse(&req, Refusal::new(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, m));
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(p) => p.into_inner(),
        Err(_) => return bad("bad query string"),
    };
    if params.query.is_none() && params.extensions.is_none() {
        return graphiql::page();
    }
    let mut request = async_graphql::Request::new(params.query.unwrap_or_default());
    if let Some(ext) = params.extensions {
        match serde_json::from_str::<async_graphql::Extensions>(&ext) {
            Ok(ext) => request.extensions = ext,
            Err(_) => return bad("extensions are not a JSON object"),
        }
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(_) => return bad("variables are not JSON"),
        }
    }
    let res = Box::pin(answer(&schema, &db, &gate, &auth, &responses, &req, vec![request], false, true)).await;
    negotiated(&req, res)
}

/// Passes the operations through the gate, answers the queries it holds
/// fresh answers for (`responses`), runs the others, and answers.
#[allow(clippy::too_many_arguments)]
async fn answer(
    schemas: &Schemas,
    db: &DatabaseConnection,
    gate: &Gate,
    auth: &web::Data<AuthState>,
    responses: &web::Data<Responses>,
    req: &HttpRequest,
    requests: Vec<async_graphql::Request>,
    batch: bool,
    queries_only: bool,
) -> HttpResponse {
    // The generation is read with the caller, before anything of the request runs.
    let (caller, generation) = match caller_and_generation(req, db, auth).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let client = ClientAddr::of(req, &gate.limits().trusted_proxies);
    let key = gate.key(&caller, &client);
    let per_request = (auth.clone().into_inner(), client);
    let mut pass = match gate.admit(requests, queries_only, &key) {
        Ok(pass) => pass,
        Err(refusal) => return refuse(req, refusal),
    };
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let labels: Vec<(String, &'static str)> = pass
        .names
        .iter()
        .zip(&pass.kinds)
        .map(|(name, kind)| {
            let label = metrics.as_ref().map(|m| m.operation_label(name.as_deref())).unwrap_or_default();
            (label, kind_name(*kind))
        })
        .collect();
    record_operations(&pass);
    let writes = pass.kinds.iter().any(|k| *k != kaohe_gate::OperationKind::Query);
    let writer = caller.organisation_id;
    let (appended, keeps_callers) = (caller.appended.clone(), pass.keeps_callers.iter().all(|k| *k));
    if let Some(m) = &metrics {
        m.charged(pass.cost);
    }
    let remaining = pass.remaining;
    let mut operations = std::mem::take(&mut pass.operations);
    let cost_limit = gate.limits().rate_budget;
    let costs: Vec<async_graphql::Value> =
        pass.costs.iter().zip(&pass.nodes).map(|(c, n)| cost_block(*c, *n, remaining, cost_limit)).collect();
    let cached = Cached::look_up(responses, db, &caller, generation, &operations, &pass, req).await;
    let status = cached.status();
    for (i, request) in operations.iter_mut().enumerate() {
        if cached.hits[i].is_none() && !pass.parsed[i] {
            gate.reuse_parsed(request);
        }
    }
    if let (Some(m), Some(_)) = (&metrics, status) {
        for (i, key) in cached.keys.iter().enumerate() {
            if key.is_some() {
                m.cache(match (&cached.hits[i], status) {
                    (Some(_), _) => "hit",
                    (None, Some("bypass")) => "bypass",
                    _ => "miss",
                });
            }
        }
    }
    let request_id = super::request_id::current();
    // One operation: its (key, generation) fixes the answer, so it can be an ETag.
    let etag = if batch { None } else { cached.etag(0) };
    if queries_only && etag.as_deref().is_some_and(|tag| responses::none_match(req, tag)) {
        // GET revalidation: the client holds this very answer.
        if let Some(m) = &metrics {
            for (label, kind) in &labels {
                m.operation(label, kind, "OK", std::time::Duration::ZERO);
            }
        }
        let mut res = HttpResponse::NotModified().finish();
        set_etag(&mut res, etag.as_deref());
        gate.headers(&mut res, remaining);
        return res;
    }
    let (mut res, stored) = if let Some(parts) = cached.all_hits() {
        // Every operation has a fresh answer: no execution, no expensive slot.
        if let Some(m) = &metrics {
            for (label, kind) in &labels {
                m.operation(label, kind, "OK", std::time::Duration::ZERO);
            }
        }
        let parts: Result<Vec<_>, _> =
            parts.iter().zip(&costs).map(|(d, cost)| assemble(d, &extensions(cost))).collect();
        match parts.and_then(|parts| join(parts, batch)) {
            Ok(bytes) => (HttpResponse::Ok().content_type("application/json").body(bytes), true),
            Err(e) => (internal(&e), false),
        }
    } else {
        let (strict, checked, db) = (schemas.strict.clone(), schemas.checked.clone(), gate.pool(&pass, db).clone());
        let validated = pass.validated.clone();
        let responses = responses.clone().into_inner();
        let run_metrics = metrics.clone();
        let run_id = request_id.clone();
        let run_labels = labels.clone();
        // Execution and serialisation both happen inside the gate's deadline.
        // Boxed where it is made: the wrappers below would each move it.
        let work = Box::pin(async move {
            let mut parts = Vec::with_capacity(operations.len());
            let mut stored = true;
            let mut rate_limited = false;
            let mut refused_before = None;
            let mut newly_valid = Vec::new();
            for (i, request) in operations.into_iter().enumerate() {
                let ext = extensions(&costs[i]);
                let started = std::time::Instant::now();
                let (label, kind) = &run_labels[i];
                if let Some(data) = &cached.hits[i] {
                    if let Some(m) = &run_metrics {
                        m.operation(label, kind, "OK", started.elapsed());
                    }
                    parts.push(assemble(data, &ext)?);
                    continue;
                }
                let hint = Arc::new(Hint::default());
                let splices = Arc::new(crate::graphql::written::Splices::default());
                // A batch that writes moves the generation while it runs: its
                // answers are written afresh.
                let request = match cached.generation {
                    Some(g) if !writes => request.data(crate::graphql::written::Generation(g)),
                    _ => request,
                };
                let request = request.data(splices.clone());
                let schema = if validated[i] { &checked } else { &strict };
                if let (true, Some(m)) = (validated[i], &run_metrics) {
                    m.validated_before();
                }
                let mut response = Box::pin(execute(schema, &db, &caller, &per_request, request, hint.clone())).await;
                if !validated[i] && passed_validation(&response) {
                    newly_valid.push(i);
                }
                if let Some(m) = &run_metrics {
                    m.operation(label, kind, outcome_code(&response), started.elapsed());
                    m.plain_answers(hint.plain_answers());
                }
                with_request_id(&mut response, run_id.as_deref());
                rate_limited |= refused_as_rate_limited(&response);
                refused_before = refused_before.or(request_error(&response));
                response.extensions.extend(ext);
                match (cached.keys[i], cached.generation) {
                    (Some(key), Some(generation)) if response.errors.is_empty() && hint.storable() => {
                        let data = Bytes::from(splices.splice(serde_json::to_vec(&response.data)?));
                        responses.put(key, generation, data.clone());
                        parts.push(assemble(&data, &response.extensions)?);
                    }
                    _ => {
                        stored = false;
                        parts.push(splices.splice(serialise(&response)?));
                    }
                }
            }
            Ok::<_, serde_json::Error>(((join(parts, batch)?, stored, rate_limited, refused_before), newly_valid))
        });
        // On the expensive requests' own thread too: the request's span, id and log dispatcher.
        let work = super::request_id::scope(
            request_id.clone(),
            work.instrument(tracing::Span::current()).with_current_subscriber(),
        );
        let ran = gate.run(&pass, work).await.map(|done| {
            done.map(|(answer, newly_valid)| {
                for i in newly_valid {
                    gate.validated(pass.texts[i]);
                }
                answer
            })
        });
        match ran {
            // A single operation refused as RATE_LIMITED is a 429, like the gate's refusals.
            Ok(Ok((bytes, _, true, _))) if !batch => (rate_limited_response(bytes), false),
            // GraphQL-over-HTTP: a request error is a 4xx for the clients of its media type.
            Ok(Ok((bytes, _, _, Some(status)))) if !batch && wants_graphql_response(req) => {
                let mut res = HttpResponse::build(status);
                if status == StatusCode::UNAUTHORIZED {
                    res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="kaohe""#));
                }
                (res.content_type("application/json").body(bytes), false)
            }
            Ok(Ok((bytes, stored, _, _))) => (HttpResponse::Ok().content_type("application/json").body(bytes), stored),
            Ok(Err(e)) => (internal(&e), false),
            Err(refusal) => {
                if let Some(m) = &metrics {
                    for (label, kind) in &labels {
                        m.operation(label, kind, refusal.code, std::time::Duration::ZERO);
                    }
                }
                (refuse(req, refusal), false)
            }
        }
    };
    if writes {
        // Before the answer leaves: this instance's next requests see the
        // generations the write moved (and, if it may have changed a caller's
        // row, read their callers again), not waiting for the notifications.
        auth.pulse.written(writer, appended.heard(), keeps_callers).await;
    }
    if stored {
        set_etag(&mut res, etag.as_deref());
    }
    if let Some(status) = status {
        res.headers_mut().insert(CACHE_STATUS.clone(), header::HeaderValue::from_static(status));
    }
    gate.headers(&mut res, remaining);
    res
}

/// `query`, `mutation`, `subscription`: the metrics' `type` label.
fn kind_name(kind: kaohe_gate::OperationKind) -> &'static str {
    match kind {
        kaohe_gate::OperationKind::Query => "query",
        kaohe_gate::OperationKind::Mutation => "mutation",
        kaohe_gate::OperationKind::Subscription => "subscription",
    }
}

/// The request span's `graphql.operation` (names, comma-separated; each
/// bounded) and `graphql.type`.
fn record_operations(pass: &super::gate::Pass) {
    let span = tracing::Span::current();
    let names: Vec<&str> =
        pass.names.iter().map(|n| n.as_deref().filter(|n| n.len() <= 64).unwrap_or("anonymous")).collect();
    let kinds: Vec<&str> = pass.kinds.iter().map(|k| kind_name(*k)).collect();
    span.record("graphql.operation", names.join(","));
    span.record("graphql.type", kinds.join(","));
}

/// `OK`, or the code of the response's first error.
fn outcome_code(response: &async_graphql::Response) -> &'static str {
    let Some(first) = response.errors.first() else { return "OK" };
    let code = first.extensions.as_ref().and_then(|x| x.get("code"));
    match code {
        Some(async_graphql::Value::String(c)) => crate::graphql::known_code(c),
        _ => "INTERNAL",
    }
}

/// Every error of an executed operation names the request (`extensions.requestId`).
fn with_request_id(response: &mut async_graphql::Response, id: Option<&str>) {
    let Some(id) = id else { return };
    for e in &mut response.errors {
        e.extensions.get_or_insert_with(Default::default).set("requestId", id);
    }
}

/// Whether a resolver refused the operation with `RATE_LIMITED` (today only
/// a login that found every password-hashing slot busy: `auth::passwords`).
fn refused_as_rate_limited(response: &async_graphql::Response) -> bool {
    let limited = async_graphql::Value::from(code::RATE_LIMITED);
    response.errors.iter().any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&limited))
}

/// Such an answer as HTTP 429 with `Retry-After` (a hashing slot frees
/// within one hash's time; a second is plenty).
fn rate_limited_response(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::TooManyRequests()
        .content_type("application/json")
        .insert_header((header::RETRY_AFTER, header::HeaderValue::from(1u64)))
        .body(bytes)
}

/// `ETag` of an answer that may be revalidated, with `Cache-Control: private,
/// no-cache` (a client may keep it, and asks again with `If-None-Match`).
fn set_etag(res: &mut HttpResponse, etag: Option<&str>) {
    if let Some(v) = etag.and_then(|t| header::HeaderValue::from_str(t).ok()) {
        res.headers_mut().insert(header::ETAG, v);
        res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-cache"));
    }
}

fn internal(e: &serde_json::Error) -> HttpResponse {
    tracing::error!(error = %e, "cannot serialise a response");
    Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error").into_response()
}

/// The `extensions` member of one operation's answer.
fn extensions(cost: &async_graphql::Value) -> std::collections::BTreeMap<String, async_graphql::Value> {
    std::collections::BTreeMap::from([("cost".to_string(), cost.clone())])
}

/// `{"data":…,"extensions":…}` around already serialised data: the same
/// bytes `serde_json` writes for an `async_graphql::Response` without errors.
fn assemble(
    data: &[u8],
    extensions: &std::collections::BTreeMap<String, async_graphql::Value>,
) -> Result<Vec<u8>, serde_json::Error> {
    let ext = serde_json::to_vec(extensions)?;
    let mut out = Vec::with_capacity(data.len() + ext.len() + 24);
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(data);
    if !extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        out.extend_from_slice(&ext);
    }
    out.push(b'}');
    Ok(out)
}

/// One answer, or a JSON array of them for a batch.
fn join(parts: Vec<Vec<u8>>, batch: bool) -> Result<Vec<u8>, serde_json::Error> {
    if !batch {
        return Ok(parts.into_iter().next().unwrap_or_else(|| b"null".to_vec()));
    }
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>() + 2);
    out.push(b'[');
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(p);
    }
    out.push(b']');
    Ok(out)
}

/// The `extensions.cost` block of one operation's response: the points
/// charged, the nodes it could touch, and the caller's budget.
fn cost_block(requested: u64, nodes: u64, remaining: u64, limit: u64) -> async_graphql::Value {
    let block = serde_json::json!({ "requested": requested, "nodes": nodes, "remaining": remaining, "limit": limit });
    async_graphql::Value::from_json(block).unwrap_or(async_graphql::Value::Null)
}

/// Whether `response` came from an operation that passed validation: no
/// error, or one inside a field (validation's errors are outside any field,
/// and with one nothing runs).
fn passed_validation(response: &async_graphql::Response) -> bool {
    response.errors.is_empty() || response.errors.iter().any(|e| !e.path.is_empty())
}

/// Runs one operation with the caller and its own batch loader.
async fn execute(
    schema: &KaoheSchema,
    db: &DatabaseConnection,
    caller: &Caller,
    (auth, client): &(Arc<AuthState>, ClientAddr),
    request: async_graphql::Request,
    hint: Arc<Hint>,
) -> async_graphql::Response {
    let loader = loader::for_request(db.clone(), caller.clone());
    // The parsed document travels with the request: the schema does not parse it again.
    let request =
        request.data(db.clone()).data(caller.clone()).data(loader).data(auth.clone()).data(*client).data(hint);
    schema.execute(request).await
}
