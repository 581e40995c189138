//! HTTP: the one place that lists every route, and the handlers.

mod export;
pub mod gate;
mod graphiql;
mod graphql;
mod health;

use actix_web::web;

pub use gate::Gate;

/// Every route of the server. Request bodies are read by the GraphQL handler
/// itself, within `MAX_BODY_BYTES` (see `gate`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/graphql").route(web::post().to(graphql::post)).route(web::get().to(graphql::get)))
        .route("/graphiql/{file}", web::get().to(graphiql::asset))
        .route("/runs/{id}/export.{format}", web::get().to(export::run_export))
        .route("/healthz", web::get().to(health::healthz));
}

/// A GraphQL-shaped error body for refusals made before the schema runs.
pub(crate) fn refusal(status: actix_web::http::StatusCode, code: &str, message: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status).json(serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// Logs each request's method, path, status and duration (never its body).
pub async fn log_request(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    tracing::info!(%method, %path, status, ms = started.elapsed().as_millis() as u64, "request");
    res
}
