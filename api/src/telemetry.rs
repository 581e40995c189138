//! Logs (and, with the `otel` feature, traces): the subscriber the binary
//! installs. `LOG` is the filter; `LOG_FORMAT=json` writes one JSON object
//! per line (for log collectors), each with its spans' fields (the request's
//! `request_id` among them); the default is the human format. With the
//! `otel` cargo feature and `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also
//! exported over OTLP (HTTP/protobuf) and a W3C `traceparent` from the client
//! becomes the request span's parent.

use std::io::Write;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// `LOG_FORMAT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (default).
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Option<LogFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "human" | "text" | "pretty" | "" => Some(LogFormat::Human),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// A dispatcher writing `filter`ed events in `format` to `writer` (tests
/// pass a buffer; the binary standard output). `colour`: the human format's
/// ANSI colours, for a terminal only (a file or a journal would keep the
/// escape codes).
pub fn dispatch<W>(filter: &str, format: LogFormat, writer: W, colour: bool) -> tracing::Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Human => tracing::Dispatch::new(
            registry.with(tracing_subscriber::fmt::layer().with_ansi(colour).with_writer(writer)),
        ),
        LogFormat::Json => tracing::Dispatch::new(registry.with(
            tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(true).with_writer(writer),
        )),
    }
}

/// Colours on standard output: only for a terminal, and not when `NO_COLOR`
/// is set (no-color.org).
fn colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none()
}

/// Installs the process-wide subscriber of the binary. Answers a guard that
/// flushes exported spans when dropped (`otel`).
pub fn init(settings: &crate::Settings) -> Guard {
    #[cfg(feature = "otel")]
    if let Some(endpoint) = &settings.otlp_endpoint {
        match otel::init(&settings.log, settings.log_format, endpoint) {
            Ok(guard) => return guard,
            Err(e) => eprintln!("kaohe: OpenTelemetry export not started: {e}"),
        }
    }
    #[cfg(not(feature = "otel"))]
    if settings.otlp_endpoint.is_some() {
        eprintln!(
            "kaohe: OTEL_EXPORTER_OTLP_ENDPOINT is set but this build has no `otel` feature; spans are not exported"
        );
    }
    let d = dispatch(&settings.log, settings.log_format, std::io::stdout, colour());
    if tracing::dispatcher::set_global_default(d).is_err() {
        let _ = writeln!(std::io::stderr(), "kaohe: a log subscriber was already installed");
    }
    Guard(None)
}

/// Flushes exported spans when the binary ends.
pub struct Guard(#[allow(dead_code)] Option<Provider>);

#[cfg(feature = "otel")]
type Provider = opentelemetry_sdk::trace::SdkTracerProvider;
#[cfg(not(feature = "otel"))]
type Provider = ();

impl Drop for Guard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("kaohe: exporting the last spans failed: {e}");
        }
    }
}

/// With `otel`: the remote parent of a request (W3C `traceparent`), and the
/// trace id on the span. Without: nothing.
pub fn link_remote_parent(headers: &actix_web::http::header::HeaderMap, span: &tracing::Span) {
    #[cfg(feature = "otel")]
    otel::link(headers, span);
    #[cfg(not(feature = "otel"))]
    let _ = (headers, span);
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::propagation::Extractor;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt;

    use super::{Guard, LogFormat};

    pub fn init(filter: &str, format: LogFormat, endpoint: &str) -> Result<Guard, Box<dyn std::error::Error>> {
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(endpoint).build()?;
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(opentelemetry_sdk::Resource::builder().with_service_name("kaohe").build())
            .build();
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
        let tracer = provider.tracer("kaohe");
        opentelemetry::global::set_tracer_provider(provider.clone());
        let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
        let otel = tracing_opentelemetry::layer().with_tracer(tracer);
        let registry = tracing_subscriber::registry().with(filter).with(otel);
        let d = match format {
            LogFormat::Human => {
                tracing::Dispatch::new(registry.with(tracing_subscriber::fmt::layer().with_ansi(super::colour())))
            }
            LogFormat::Json => tracing::Dispatch::new(registry.with(tracing_subscriber::fmt::layer().json())),
        };
        tracing::dispatcher::set_global_default(d)?;
        Ok(Guard(Some(provider)))
    }

    struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }

        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }

    pub fn link(headers: &actix_web::http::header::HeaderMap, span: &tracing::Span) {
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
        let _ = span.set_parent(parent);
        use opentelemetry::trace::TraceContextExt;
        let trace_id = span.context().span().span_context().trace_id();
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// A writer into a shared buffer (tests capture a server's logs with it).
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::{Captured, LogFormat, dispatch};

    fn written(colour: bool) -> String {
        let logs = Captured::default();
        let d = dispatch("info", LogFormat::Human, logs.clone(), colour);
        tracing::dispatcher::with_default(&d, || {
            let span = tracing::info_span!("request", request_id = "r-1");
            span.in_scope(|| tracing::warn!(unit = 7, "slow"));
        });
        logs.text()
    }

    #[test]
    fn the_human_format_colours_only_when_asked() {
        let plain = written(false);
        assert!(plain.contains("request_id") && plain.contains("slow"), "{plain}");
        assert!(!plain.contains('\u{1b}'), "escape codes in a plain log: {plain:?}");
        let coloured = written(true);
        assert!(coloured.contains('\u{1b}'), "no colour when asked: {coloured:?}");
    }
}
