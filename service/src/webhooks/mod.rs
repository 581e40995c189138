//! Webhooks (推送): publications pushed to the systems that read them (the
//! city's 月讲评 system), as the Standard Webhooks specification describes
//! (svix implements it): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
//! under the endpoint's `whsec_` secret).
//!
//! - [`endpoints`]: an admin registers, lists, disables endpoints and
//!   rotates their secrets; deliveries are listed and re-sent. Every change
//!   is audited.
//! - [`outbox`]: the publishing transaction (`runs::lifecycle`) writes the
//!   event and one delivery per subscribed endpoint, so an event exists
//!   exactly when its publication committed: a crash never loses one, a
//!   rolled-back publication never sends one.
//! - [`worker`]: the delivery worker each instance runs. It claims one due
//!   delivery per endpoint under a lease (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL; on SQLite one process owns the file), sends it, records the
//!   attempt and schedules a retry on failure.
//! - [`address`]: where deliveries may go: `https`, or `http` to hosts
//!   allowed by name; never to loopback, private, link-local or other
//!   non-public addresses unless allowed (every resolved address is checked,
//!   and the connection uses exactly the checked ones).
//! - [`signature`]: secrets and signatures.

pub mod address;
pub mod endpoints;
pub mod outbox;
pub mod signature;
pub mod worker;

use std::time::Duration;

use crate::config::{ConfigError, num};

/// The events an endpoint may subscribe to.
// The names are the events' (`run.published`, …): each is about a run.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A revision of a run was published: its results are official.
    RunPublished,
    /// A published run is being amended: a new revision was opened (the
    /// published one stands until the revision is published).
    RunAmended,
    /// A published revision was replaced by a newer published one.
    RunSuperseded,
}

impl EventType {
    pub const ALL: [EventType; 3] = [EventType::RunPublished, EventType::RunAmended, EventType::RunSuperseded];

    /// The name in payloads and in the endpoint's list (`run.published`).
    pub fn name(self) -> &'static str {
        match self {
            EventType::RunPublished => "run.published",
            EventType::RunAmended => "run.amended",
            EventType::RunSuperseded => "run.superseded",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Delivery states.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
}

/// The retry schedule of svix (and so of the Standard Webhooks examples):
/// after the first attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h:
/// eight attempts over 27 h 35 min.
pub const DEFAULT_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Webhook settings (README, "Webhooks").
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookSettings {
    /// `WEBHOOK_DELIVERY` (`on`/`off`, default on): whether this instance runs
    /// the delivery worker. Events are written either way.
    pub deliver: bool,
    /// `WEBHOOK_TIMEOUT_MS` (10 000): one attempt, connection included.
    pub timeout: Duration,
    /// `WEBHOOK_RETRY_SCHEDULE`: the waits before each retry (`5s,5m,30m,2h,5h,10h,10h`).
    pub retry_schedule: Vec<Duration>,
    /// `WEBHOOK_POLL_MS` (1 000): how often the worker looks for due deliveries.
    pub poll: Duration,
    /// `WEBHOOK_CONCURRENCY` (4): deliveries in flight at once per instance
    /// (never two to one endpoint, on any instance).
    pub concurrency: usize,
    /// `WEBHOOK_ALLOW_HTTP_HOSTS`: host names (or addresses) that may be
    /// reached over plain `http`; every other endpoint must be `https`.
    pub allow_http_hosts: Vec<String>,
    /// `WEBHOOK_ALLOW_NETWORKS`: non-public networks (CIDR) deliveries may
    /// reach anyway, e.g. an intranet's `10.20.0.0/16`. None by default.
    pub allow_networks: Vec<ipnet::IpNet>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            deliver: true,
            timeout: Duration::from_secs(10),
            retry_schedule: DEFAULT_SCHEDULE.to_vec(),
            poll: Duration::from_secs(1),
            concurrency: 4,
            allow_http_hosts: Vec::new(),
            allow_networks: Vec::new(),
        }
    }
}

impl WebhookSettings {
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<WebhookSettings, ConfigError> {
        let d = WebhookSettings::default();
        let deliver = match get("WEBHOOK_DELIVERY").as_deref().map(str::trim) {
            None | Some("on" | "true" | "1" | "yes") => true,
            Some("off" | "false" | "0" | "no") => false,
            Some(other) => {
                return Err(ConfigError { name: "WEBHOOK_DELIVERY", message: format!("`{other}` is not on/off") });
            }
        };
        let retry_schedule = match get("WEBHOOK_RETRY_SCHEDULE") {
            None => d.retry_schedule,
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    duration(s).ok_or_else(|| ConfigError {
                        name: "WEBHOOK_RETRY_SCHEDULE",
                        message: format!("`{s}` is not a duration like 500ms, 5s, 5m or 2h"),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let allow_networks = match get("WEBHOOK_ALLOW_NETWORKS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<ipnet::IpNet>()
                        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| ConfigError {
                            name: "WEBHOOK_ALLOW_NETWORKS",
                            message: format!("`{s}` is not a network like 10.20.0.0/16"),
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let allow_http_hosts = get("WEBHOOK_ALLOW_HTTP_HOSTS")
            .map(|l| l.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
            .unwrap_or_default();
        let s = WebhookSettings {
            deliver,
            timeout: Duration::from_millis(num(get, "WEBHOOK_TIMEOUT_MS", d.timeout.as_millis() as u64)?),
            retry_schedule,
            poll: Duration::from_millis(num(get, "WEBHOOK_POLL_MS", d.poll.as_millis() as u64)?),
            concurrency: num(get, "WEBHOOK_CONCURRENCY", d.concurrency)?,
            allow_http_hosts,
            allow_networks,
        };
        for (name, zero) in [
            ("WEBHOOK_TIMEOUT_MS", s.timeout.is_zero()),
            ("WEBHOOK_POLL_MS", s.poll.is_zero()),
            ("WEBHOOK_CONCURRENCY", s.concurrency == 0),
        ] {
            if zero {
                return Err(ConfigError { name, message: "must be at least 1".into() });
            }
        }
        Ok(s)
    }

    /// How long a claimed delivery stays its instance's: the attempt's
    /// timeout and a margin. An instance that stops mid-send loses it after
    /// this, and another sends again (at least once).
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }

    /// The total time a delivery is retried for.
    pub fn retry_span(&self) -> Duration {
        self.retry_schedule.iter().sum()
    }
}

/// `500ms`, `5s`, `5m`, `2h` (or a bare number of seconds).
fn duration(text: &str) -> Option<Duration> {
    let (digits, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<WebhookSettings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        WebhookSettings::from_lookup(&|k: &str| map.get(k).cloned())
    }

    #[test]
    fn the_default_schedule_retries_for_more_than_a_day() {
        let s = with(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.retry_span() >= Duration::from_secs(24 * 3600), "{:?}", s.retry_span());
        assert_eq!(s.retry_schedule.len(), 7);
        // Each wait at least as long as the one before (exponential-ish, capped).
        assert!(s.retry_schedule.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn settings_are_read_and_checked() {
        let s = with(&[
            ("WEBHOOK_RETRY_SCHEDULE", "50ms, 1s,2m,1h"),
            ("WEBHOOK_ALLOW_NETWORKS", "10.20.0.0/16, 127.0.0.1"),
            ("WEBHOOK_ALLOW_HTTP_HOSTS", "Yuejiangping.intra, 127.0.0.1"),
            ("WEBHOOK_DELIVERY", "off"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.retry_schedule,
            [Duration::from_millis(50), Duration::from_secs(1), Duration::from_secs(120), Duration::from_secs(3600)]
        );
        assert_eq!(s.allow_networks.len(), 2);
        assert_eq!(s.allow_http_hosts, ["yuejiangping.intra", "127.0.0.1"]);
        assert!(!s.deliver);
        for (k, v) in [
            ("WEBHOOK_RETRY_SCHEDULE", "5 minutes"),
            ("WEBHOOK_ALLOW_NETWORKS", "intranet"),
            ("WEBHOOK_DELIVERY", "maybe"),
            ("WEBHOOK_CONCURRENCY", "0"),
        ] {
            assert!(with(&[(k, v)]).is_err(), "{k}={v} accepted");
        }
    }
}
