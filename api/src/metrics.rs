//! Metrics in the Prometheus text format, served on their own listener
//! (`METRICS_ADDR`, off by default, loopback unless `METRICS_ALLOW_REMOTE`),
//! never on the API's port. One registry per application (no global
//! recorder), so every instance, and every test's server, counts its own.
//!
//! Label values are bounded: routes are the route patterns; operation names
//! are the first `METRICS_MAX_OPERATIONS` (100) distinct names this instance
//! saw (letters, digits and `_`, at most 64), every later or odd one is
//! `other` and an unnamed one `anonymous`; codes are the API's error codes.
//! The names are listed in README, "Operating kaohe".

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use kaohe_service::metrics::ServiceMetrics;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseConnection, DbBackend};

/// Latency buckets, in seconds.
const LATENCY: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Operation names kept as labels by default.
pub const DEFAULT_MAX_OPERATIONS: usize = 100;

pub struct Metrics {
    registry: Registry,
    pub service: ServiceMetrics,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    operations: IntCounterVec,
    operation_duration: HistogramVec,
    gate_refusals: IntCounterVec,
    cost: IntCounter,
    cache: IntCounterVec,
    logins: IntCounterVec,
    runs_published: IntCounter,
    plain_answers: IntCounter,
    validated_before: IntCounter,
    pool: IntGaugeVec,
    names: OperationNames,
    pools: Mutex<Vec<(&'static str, DatabaseConnection)>>,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, prometheus::Error> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Result<HistogramVec, prometheus::Error> {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY.to_vec()), labels)?;
    registry.register(Box::new(h.clone()))?;
    Ok(h)
}

impl Metrics {
    pub fn new(max_operations: usize) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let service = ServiceMetrics::register(&registry)?;
        let r = &registry;
        let cost = IntCounter::new("kaohe_gate_cost_points_total", "Cost points charged to callers' budgets.")?;
        registry.register(Box::new(cost.clone()))?;
        let runs_published = IntCounter::new("kaohe_runs_published_total", "Score runs published through the API.")?;
        registry.register(Box::new(runs_published.clone()))?;
        let plain_answers = IntCounter::new(
            "kaohe_graphql_plain_answers_total",
            "Long lists and pages written by the plain path (graphql::plain) instead of field by field.",
        )?;
        registry.register(Box::new(plain_answers.clone()))?;
        let validated_before = IntCounter::new(
            "kaohe_graphql_validated_before_total",
            "Operations run without validating again: the same text, name and variables validated clean here before.",
        )?;
        registry.register(Box::new(validated_before.clone()))?;
        let pool = IntGaugeVec::new(
            Opts::new("kaohe_db_pool_connections", "Database pool connections by pool and state (in_use, idle)."),
            &["pool", "state"],
        )?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Metrics {
            service,
            http_requests: counter(
                r,
                "kaohe_http_requests_total",
                "HTTP requests by route, method and status.",
                &["route", "method", "status"],
            )?,
            http_duration: histogram(
                r,
                "kaohe_http_request_duration_seconds",
                "HTTP request latency by route.",
                &["route"],
            )?,
            operations: counter(
                r,
                "kaohe_graphql_operations_total",
                "GraphQL operations run or answered from the cache, by name, type and outcome code (OK or the first error's code).",
                &["operation", "type", "code"],
            )?,
            operation_duration: histogram(
                r,
                "kaohe_graphql_operation_duration_seconds",
                "GraphQL operation latency by name and type.",
                &["operation", "type"],
            )?,
            gate_refusals: counter(
                r,
                "kaohe_gate_refusals_total",
                "Requests refused before running, by code.",
                &["code"],
            )?,
            cost,
            cache: counter(
                r,
                "kaohe_response_cache_total",
                "Response cache look-ups by result (hit, miss, bypass).",
                &["result"],
            )?,
            logins: counter(
                r,
                "kaohe_logins_total",
                "Sign-ins by outcome (succeeded, failed, locked, rate_limited, error).",
                &["outcome"],
            )?,
            runs_published,
            plain_answers,
            validated_before,
            pool,
            names: OperationNames::new(max_operations),
            pools: Mutex::new(Vec::new()),
            registry,
        })
    }

    /// A database pool whose connections are reported (`main`, `expensive`).
    pub fn watch_pool(&self, name: &'static str, db: &DatabaseConnection) {
        if let Ok(mut pools) = self.pools.lock() {
            pools.push((name, db.clone()));
        }
    }

    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.http_requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.http_duration.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    /// The label of an operation name (bounded; see the module).
    pub fn operation_label(&self, name: Option<&str>) -> String {
        self.names.label(name)
    }

    pub fn operation(&self, label: &str, kind: &str, code: &str, elapsed: Duration) {
        self.operations.with_label_values(&[label, kind, code]).inc();
        self.operation_duration.with_label_values(&[label, kind]).observe(elapsed.as_secs_f64());
    }

    pub fn refused(&self, code: &str) {
        self.gate_refusals.with_label_values(&[code]).inc();
    }

    pub fn charged(&self, points: u64) {
        self.cost.inc_by(points);
    }

    pub fn cache(&self, result: &str) {
        self.cache.with_label_values(&[result]).inc();
    }

    pub fn login(&self, outcome: &str) {
        self.logins.with_label_values(&[outcome]).inc();
    }

    pub fn run_published(&self) {
        self.runs_published.inc();
    }

    pub fn validated_before(&self) {
        self.validated_before.inc();
    }

    pub fn plain_answers(&self, n: u64) {
        self.plain_answers.inc_by(n);
    }

    /// The text exposition of every metric, pool gauges read now.
    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        if let Ok(pools) = self.pools.lock() {
            for (name, db) in pools.iter() {
                let (size, idle) = pool_stats(db);
                self.pool.with_label_values(&[name, "in_use"]).set(size.saturating_sub(idle));
                self.pool.with_label_values(&[name, "idle"]).set(idle);
            }
        }
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(out)
    }
}

/// (connections open, of which idle).
fn pool_stats(db: &DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (i64::from(p.size()), i64::try_from(p.num_idle()).unwrap_or(i64::MAX))
        }
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (i64::from(p.size()), i64::try_from(p.num_idle()).unwrap_or(i64::MAX))
        }
        _ => (0, 0),
    }
}

/// Operation names as labels: the first `max` distinct valid names seen.
struct OperationNames {
    max: usize,
    seen: Mutex<HashSet<String>>,
}

impl OperationNames {
    fn new(max: usize) -> OperationNames {
        OperationNames { max, seen: Mutex::new(HashSet::new()) }
    }

    fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else { return "anonymous".into() };
        let valid = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return "other".into();
        }
        let Ok(mut seen) = self.seen.lock() else { return "other".into() };
        if seen.contains(name) {
            return name.to_string();
        }
        if seen.len() < self.max {
            seen.insert(name.to_string());
            return name.to_string();
        }
        "other".into()
    }
}

/// `GET /metrics` of the metrics listener.
pub async fn scrape(metrics: web::Data<Metrics>) -> HttpResponse {
    match metrics.render() {
        Ok(body) => HttpResponse::Ok().content_type(prometheus::TEXT_FORMAT).body(body),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        let names = OperationNames::new(2);
        assert_eq!(names.label(Some("Ranking")), "Ranking");
        assert_eq!(names.label(Some("Runs")), "Runs");
        assert_eq!(names.label(Some("Third")), "other", "past the first two");
        assert_eq!(names.label(Some("Ranking")), "Ranking", "a known name stays");
        assert_eq!(names.label(None), "anonymous");
        assert_eq!(names.label(Some("bad name{}")), "other");
        assert_eq!(names.label(Some(&"x".repeat(65))), "other");
    }
}
