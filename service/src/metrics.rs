//! The services' metrics (Prometheus), registered in the application's own
//! registry (one per instance; tests run many side by side): database
//! statements and webhook deliveries. The API adds its HTTP metrics to the
//! same registry and serves it on `METRICS_ADDR` (README, "Operating kaohe").

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Buckets of database statement durations, in seconds.
pub const DB_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Clone)]
pub struct ServiceMetrics {
    /// `kaohe_db_statement_duration_seconds{pool, kind, outcome}`.
    pub db_statements: HistogramVec,
    /// `kaohe_webhook_attempts_total{outcome}`: succeeded, http_error,
    /// timeout, network, refused.
    pub webhook_attempts: IntCounterVec,
    /// `kaohe_webhook_deliveries_total{result}`: succeeded, or failed after
    /// the whole retry schedule.
    pub webhook_deliveries: IntCounterVec,
}

impl ServiceMetrics {
    pub fn register(registry: &Registry) -> Result<ServiceMetrics, prometheus::Error> {
        let db_statements = HistogramVec::new(
            HistogramOpts::new("kaohe_db_statement_duration_seconds", "Database statements by pool, kind and outcome.")
                .buckets(DB_BUCKETS.to_vec()),
            &["pool", "kind", "outcome"],
        )?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new("kaohe_webhook_attempts_total", "Webhook delivery attempts by outcome."),
            &["outcome"],
        )?;
        let webhook_deliveries = IntCounterVec::new(
            Opts::new("kaohe_webhook_deliveries_total", "Webhook deliveries settled, by result."),
            &["result"],
        )?;
        registry.register(Box::new(db_statements.clone()))?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        registry.register(Box::new(webhook_deliveries.clone()))?;
        Ok(ServiceMetrics { db_statements, webhook_attempts, webhook_deliveries })
    }
}

/// The kind of a statement, from its first word (a bounded label).
pub fn statement_kind(sql: &str) -> &'static str {
    let word = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    match word.to_ascii_lowercase().as_str() {
        "select" | "with" => "select",
        "insert" => "insert",
        "update" => "update",
        "delete" => "delete",
        "begin" | "commit" | "rollback" | "savepoint" | "release" => "transaction",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn statement_kinds_are_a_small_set() {
        assert_eq!(super::statement_kind("  SELECT 1"), "select");
        assert_eq!(super::statement_kind("INSERT INTO x"), "insert");
        assert_eq!(super::statement_kind("PRAGMA foo"), "other");
        assert_eq!(super::statement_kind(""), "other");
    }
}
