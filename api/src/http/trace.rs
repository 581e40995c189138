//! The request span (tracing-actix-web's `TracingLogger` with our own root
//! span). Its fields are chosen, not taken from the default builder, which
//! logs the whole query string (a GET `/graphql` carries its variables
//! there) and believes any `X-Forwarded-For`:
//!
//! `request_id`, `http.method`, `http.route` (the route's pattern),
//! `http.target` (the path alone), `http.status_code`, `client.address` (as
//! `http::ClientAddr` reads it, behind `TRUSTED_PROXIES` only),
//! `graphql.operation` and `graphql.type` (recorded by the GraphQL handler),
//! `caller.kind` and `caller.organisation` (recorded once the caller is
//! known), and OpenTelemetry's `otel.*` and `trace_id`. Never a token, a
//! password, a query's variables or an observation's facts.
//!
//! When the request ends, one `request` line is logged with its status and
//! duration, and the HTTP metrics move.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage, web};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::RootSpanBuilder;

use super::client::ClientAddr;
use super::gate::Gate;
use super::request_id::RequestId;
use crate::metrics::Metrics;

/// When the request started (kept in its extensions for the duration).
#[derive(Clone, Copy)]
struct Started(Instant);

pub struct KaoheRootSpan;

impl RootSpanBuilder for KaoheRootSpan {
    fn on_request_start(req: &ServiceRequest) -> Span {
        req.extensions_mut().insert(Started(Instant::now()));
        let id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let method = req.method().as_str().to_string();
        let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
        let trusted = req.app_data::<web::Data<Gate>>().map(|g| g.limits().trusted_proxies.clone()).unwrap_or_default();
        let client = ClientAddr::of(req.request(), &trusted).0.map(|ip| ip.to_string()).unwrap_or_default();
        // At ERROR level: enabled whatever `LOG` says, so an error's line always
        // carries its request's id.
        let span = tracing::error_span!(
            "HTTP request",
            request_id = %id,
            http.method = %method,
            http.route = %route,
            http.target = %req.path(),
            http.status_code = Empty,
            client.address = %client,
            graphql.operation = Empty,
            graphql.type = Empty,
            caller.kind = Empty,
            caller.organisation = Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            trace_id = Empty,
        );
        crate::telemetry::link_remote_parent(req.headers(), &span);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let res = match outcome {
            Ok(res) => res,
            Err(e) => {
                let status = e.as_response_error().status_code().as_u16();
                span.record("http.status_code", status);
                tracing::warn!(status, "request failed");
                return;
            }
        };
        let status = res.status().as_u16();
        span.record("http.status_code", status);
        span.record("otel.status_code", if status >= 500 { "ERROR" } else { "OK" });
        let req = res.request();
        let elapsed = req.extensions().get::<Started>().map(|s| s.0.elapsed());
        let ms = elapsed.map(|d| d.as_secs_f64() * 1000.0).unwrap_or_default();
        if status >= 500 {
            tracing::error!(status, ms, "request");
        } else {
            tracing::info!(status, ms, "request");
        }
        if let (Some(metrics), Some(elapsed)) = (req.app_data::<web::Data<Metrics>>(), elapsed) {
            let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
            metrics.http_request(&route, req.method().as_str(), status, elapsed);
        }
    }
}
