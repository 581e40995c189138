//! Per-caller cost budgets: a leaky bucket per key (user, credential or IP),
//! in the spirit of GitHub's and Shopify's points-per-hour limits. Each
//! operation is charged its computed cost; the bucket refills continuously.
//!
//! Kept in each instance's memory (see README): several instances each grant
//! the full budget. The clock is passed in, so tests drive time.
//! (`governor` does the same arithmetic but does not report the remaining
//! budget, which clients need.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Budget settings: `capacity` points, refilled at `per_second` points a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    pub capacity: u64,
    pub per_second: f64,
    /// Most keys tracked at once; beyond that, full buckets are forgotten first.
    pub max_keys: usize,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        // 50,000 points an hour with a burst of 10,000.
        BudgetConfig { capacity: 10_000, per_second: 50_000.0 / 3600.0, max_keys: 100_000 }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// The outcome of a charge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Charge {
    /// Charged; this many points remain.
    Granted { remaining: u64 },
    /// Refused; the cost fits again after `retry_after`.
    Refused { remaining: u64, retry_after: Duration },
}

/// Budgets for all callers of one instance.
#[derive(Debug)]
pub struct Budgets {
    config: BudgetConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Budgets {
    pub fn new(config: BudgetConfig) -> Self {
        Budgets { config, buckets: Mutex::new(HashMap::new()) }
    }

    pub fn config(&self) -> BudgetConfig {
        self.config
    }

    /// Charges `cost` points to `key` at time `now`. A cost above the whole
    /// capacity can never be granted.
    pub fn charge(&self, key: &str, cost: u64, now: Instant) -> Charge {
        let c = self.config;
        let cap = c.capacity as f64;
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= c.max_keys && !map.contains_key(key) {
            // Forget the buckets that have refilled anyway; if none, the oldest.
            map.retain(|_, b| refill(b, now, c.per_second, cap) < cap);
            if map.len() >= c.max_keys
                && let Some(oldest) = map.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let bucket = map.entry(key.to_string()).or_insert(Bucket { level: cap, at: now });
        let level = refill(bucket, now, c.per_second, cap);
        bucket.level = level;
        bucket.at = now;
        let cost_f = cost as f64;
        if cost_f <= level {
            bucket.level = level - cost_f;
            Charge::Granted { remaining: bucket.level.floor() as u64 }
        } else {
            let missing = cost_f - level;
            let secs = if c.per_second > 0.0 && cost_f <= cap { missing / c.per_second } else { f64::MAX };
            let retry_after = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
            Charge::Refused { remaining: level.floor() as u64, retry_after }
        }
    }
}

fn refill(b: &Bucket, now: Instant, per_second: f64, cap: f64) -> f64 {
    let dt = now.saturating_duration_since(b.at).as_secs_f64();
    (b.level + dt * per_second).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(capacity: u64, per_second: f64, max_keys: usize) -> Budgets {
        Budgets::new(BudgetConfig { capacity, per_second, max_keys })
    }

    #[test]
    fn charges_until_empty_then_refills_with_time() {
        let b = budgets(100, 10.0, 10);
        let t0 = Instant::now();
        assert_eq!(b.charge("u", 60, t0), Charge::Granted { remaining: 40 });
        match b.charge("u", 60, t0) {
            Charge::Refused { remaining: 40, retry_after } => assert_eq!(retry_after, Duration::from_secs(2)),
            other => panic!("{other:?}"),
        }
        assert_eq!(b.charge("u", 60, t0 + Duration::from_secs(2)), Charge::Granted { remaining: 0 });
        // Other callers have their own bucket.
        assert_eq!(b.charge("v", 1, t0), Charge::Granted { remaining: 99 });
    }

    #[test]
    fn never_refills_above_capacity_and_huge_costs_never_pass() {
        let b = budgets(100, 10.0, 10);
        let t0 = Instant::now();
        assert_eq!(b.charge("u", 1, t0 + Duration::from_secs(3600)), Charge::Granted { remaining: 99 });
        assert!(matches!(b.charge("u", 1000, t0), Charge::Refused { retry_after: Duration::MAX, .. }));
    }

    #[test]
    fn the_number_of_tracked_keys_is_bounded() {
        let b = budgets(10, 1.0, 3);
        let t0 = Instant::now();
        for (i, k) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            b.charge(k, 5, t0 + Duration::from_millis(i as u64));
        }
        assert!(b.buckets.lock().unwrap().len() <= 3);
    }
}
