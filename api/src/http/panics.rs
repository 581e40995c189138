//! The last line of defence: a handler that panics answers 500 `INTERNAL`
//! (and the panic is logged) instead of dropping the client's connection.
//! Inputs are validated before they reach anything that may panic; this is
//! for the defect nobody has found yet.

use std::panic::AssertUnwindSafe;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use futures_util::FutureExt;

/// What a panic becomes: an error actix answers with our error body, naming
/// the request (the request itself is gone with the panic, so no response
/// can be built on it).
#[derive(Debug, thiserror::Error)]
#[error("internal error")]
struct Panicked {
    request_id: Option<String>,
}

impl actix_web::ResponseError for Panicked {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let id = self.request_id.clone();
        super::request_id::with_id(id, || {
            super::refusal(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error")
        })
    }
}

/// A panic becomes a 500 `INTERNAL` answer with its `extensions.requestId`
/// (the panic is logged in the request's span, so the log line carries the
/// same id).
pub async fn catch_panic<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let (method, path) = (req.method().clone(), req.path().to_string());
    let request_id = super::request_id::current();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(%method, %path, panic = %what, "a request handler panicked");
            Err(Panicked { request_id }.into())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use actix_web::{App, test, web};

    async fn boom() -> &'static str {
        let offsets: Vec<u64> = Vec::new();
        if offsets.is_empty() {
            panic!("index out of range");
        }
        "unreachable"
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_500_internal() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(super::catch_panic))
                .wrap(actix_web::middleware::from_fn(crate::http::request_id::middleware))
                .route("/boom", web::get().to(boom))
                .route("/fine", web::get().to(|| async { "ok" })),
        )
        .await;
        // The dispatcher answers a service error with its `error_response`:
        // the request-id layer outside gives it the header, the body names it.
        let err = test::try_call_service(
            &app,
            test::TestRequest::get().uri("/boom").insert_header(("x-request-id", "boom-1")).to_request(),
        )
        .await
        .err()
        .unwrap();
        let res = err.error_response();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers().get("x-request-id").unwrap(), "boom-1");
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
        assert_eq!(body["errors"][0]["message"], "internal error");
        assert_eq!(body["errors"][0]["extensions"]["requestId"], "boom-1");
        let res = test::call_service(&app, test::TestRequest::get().uri("/fine").to_request()).await;
        assert_eq!(res.status(), 200);
    }
}
