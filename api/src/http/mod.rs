//! HTTP: the one place that lists every route, and the handlers.

pub mod client;
mod entry_sheet;
mod evidence;
mod export;
pub mod gate;
mod graphiql;
mod graphql;
pub mod health;
mod panics;
pub mod persisted;
pub mod request_id;
pub mod responses;
pub mod trace;

use actix_web::web;

pub use client::ClientAddr;
pub use gate::Gate;
pub use panics::catch_panic;
pub use responses::Responses;

/// Every route of the server. Request bodies are read by the GraphQL handler
/// itself, within `MAX_BODY_BYTES` (see `gate`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/graphql").route(web::post().to(graphql::post)).route(web::get().to(graphql::get)))
        .route("/graphiql/{file}", web::get().to(graphiql::asset))
        .route("/runs/{id}/export.{format}", web::get().to(export::run_export))
        .route("/runs/{id}/sections/{code}/entry.xlsx", web::get().to(entry_sheet::download))
        .route("/evidence/{id}/file", web::get().to(evidence::download))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}

/// Cross-origin access for the browser clients of `CORS_ALLOWED_ORIGINS`
/// (none: the middleware is off and browsers keep to the same origin).
/// Bearer tokens, not cookies: no credentials mode. The gate's and the
/// cache's headers are readable by those clients.
pub fn cors(origins: &[String]) -> actix_web::middleware::Condition<actix_cors::Cors> {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::CACHE_CONTROL,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            request_id::HEADER.clone(),
            header::ETAG,
            gate::LIMIT.clone(),
            gate::REMAINING.clone(),
            responses::CACHE_STATUS.clone(),
        ])
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    actix_web::middleware::Condition::new(!origins.is_empty(), cors)
}

/// A GraphQL-shaped error body for refusals made before the schema runs,
/// with the request's id (`extensions.requestId`). Every refusal is counted
/// (`kaohe_gate_refusals_total{code}`) by the handler that answers it.
pub(crate) fn refusal(status: actix_web::http::StatusCode, code: &str, message: &str) -> actix_web::HttpResponse {
    let mut extensions = serde_json::json!({ "code": code });
    if let Some(id) = request_id::current() {
        extensions["requestId"] = serde_json::Value::String(id);
    }
    let mut res = actix_web::HttpResponse::build(status);
    if status == actix_web::http::StatusCode::UNAUTHORIZED {
        // RFC 6750: a 401 names the scheme it wants (a refused token adds
        // `error="invalid_token"` where it is refused).
        res.insert_header((actix_web::http::header::WWW_AUTHENTICATE, r#"Bearer realm="kaohe""#));
    }
    res.json(serde_json::json!({
        "errors": [{ "message": message, "extensions": extensions }]
    }))
}

/// The row id of a global id in a URL path, if it is of `kind` (else BAD_USER_INPUT).
pub(crate) fn path_id(raw: String, kind: crate::graphql::IdKind) -> Result<i64, crate::error::ServiceError> {
    match crate::graphql::ids::decode(&async_graphql::ID(raw)) {
        Some((k, n)) if k == kind => Ok(n),
        _ => Err(crate::error::ServiceError::BadUserInput(format!("not a {} id", kind.name()))),
    }
}

/// A service error outside GraphQL (downloads, exports): its HTTP status and
/// the same `extensions.code` and message GraphQL would give (internal causes
/// are logged, never sent).
pub(crate) fn api_refusal(e: crate::error::ServiceError) -> actix_web::HttpResponse {
    use crate::error::ServiceError;
    use actix_web::http::StatusCode;
    let status = match &e {
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Forbidden => StatusCode::FORBIDDEN,
        ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ServiceError::BadUserInput(_) | ServiceError::InvalidObservation { .. } | ServiceError::Items { .. } => {
            StatusCode::BAD_REQUEST
        }
        ServiceError::Conflict(_) | ServiceError::Frozen(_) => StatusCode::CONFLICT,
        ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let code = e.code();
    refusal(status, code, &e.public_message())
}
