//! Request ids: every response carries `X-Request-Id`, every error body
//! `extensions.requestId`, and every log line of the request the same id
//! (the request span's `request_id`). The id is the client's
//! `X-Request-Id` when it is well-formed (1 to 64 characters of
//! `[A-Za-z0-9._-]`, e.g. a proxy's or the 月讲评 system's own), otherwise a
//! new UUID. Anything else a client sends there is never echoed.
//!
//! This middleware is the outermost one: it fixes the id, makes it the
//! request's task-local [`current`] id (so any refusal, wherever it is
//! built, can name it), runs the request under the application's log
//! dispatcher, and sets the header on every answer, errors included.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::instrument::WithSubscriber;

/// `X-Request-Id`.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-sent id kept.
pub const MAX_LEN: usize = 64;

/// The id of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl RequestId {
    /// The client's id if it is well-formed, else a new one.
    pub fn from_client(sent: Option<&str>) -> RequestId {
        match sent {
            Some(s) if well_formed(s) => RequestId(s.to_string()),
            _ => RequestId(uuid::Uuid::new_v4().to_string()),
        }
    }
}

/// 1..=64 characters of `[A-Za-z0-9._-]`.
pub fn well_formed(s: &str) -> bool {
    (1..=MAX_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being handled (`None` outside one).
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.0.clone()).ok()
}

/// Runs `work` (e.g. on another runtime) as part of request `id`.
pub async fn scope<F: Future>(id: Option<String>, work: F) -> F::Output {
    match id {
        Some(id) => CURRENT.scope(RequestId(id), work).await,
        None => work.await,
    }
}

/// Runs `f` as part of request `id` (outside the request's own task).
pub fn with_id<T>(id: Option<String>, f: impl FnOnce() -> T) -> T {
    match id {
        Some(id) => CURRENT.sync_scope(RequestId(id), f),
        None => f(),
    }
}

/// An error answered by actix itself (a panic, a failed middleware), with
/// the request's id set on its response.
#[derive(Debug)]
struct Identified {
    inner: actix_web::Error,
    id: String,
}

impl std::fmt::Display for Identified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl actix_web::ResponseError for Identified {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut res = self.inner.error_response();
        if let Ok(v) = HeaderValue::from_str(&self.id) {
            res.headers_mut().insert(HEADER.clone(), v);
        }
        res
    }
}

/// The application's log dispatcher (the one current when it was built).
#[derive(Clone)]
pub struct LogDispatch(pub tracing::Dispatch);

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let sent = req.headers().get(&HEADER).and_then(|v| v.to_str().ok());
    let id = RequestId::from_client(sent);
    req.extensions_mut().insert(id.clone());
    let dispatch = req.app_data::<web::Data<LogDispatch>>().map(|d| d.0.clone());
    // `next.call` starts the inner layers (the request span is made there):
    // inside the future, so under the application's dispatcher.
    let work = CURRENT.scope(id.clone(), async move { next.call(req).await });
    let outcome = match dispatch {
        Some(d) => work.with_subscriber(d).await,
        None => work.await,
    };
    // (The request is not cloned before routing: actix needs it unshared.)
    match outcome {
        Ok(res) => {
            let mut res = res.map_into_boxed_body();
            if let Ok(v) = HeaderValue::from_str(&id.0) {
                res.headers_mut().insert(HEADER.clone(), v);
            }
            Ok(res)
        }
        // An error actix answers itself: its response carries the header too.
        Err(inner) => Err(Identified { inner, id: id.0 }.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_well_formed() {
        assert_eq!(RequestId::from_client(Some("yjp-2026.03_0001")).0, "yjp-2026.03_0001");
        for bad in ["", "has space", "<script>", "中文", &"x".repeat(65), "a\nb"] {
            let id = RequestId::from_client(Some(bad)).0;
            assert_ne!(id, bad);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
        assert!(uuid::Uuid::parse_str(&RequestId::from_client(None).0).is_ok());
        assert!(well_formed(&"x".repeat(64)));
    }
}
