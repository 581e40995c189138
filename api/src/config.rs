//! Typed settings: defaults, then environment variables. No global state.
//! `Settings` derives `Debug` and may be logged: the database URL and the
//! sign-in secrets are types that print without their secret part.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kaohe_service::auth::settings::AuthSettings;
pub use kaohe_service::config::{ConfigError, num, sqlite_url};
use kaohe_service::secret::DatabaseUrl;

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`; default: the SQLite file `$DATA_DIR/kaohe.db` (created).
    /// Prints with its password hidden.
    pub database_url: DatabaseUrl,
    /// `BIND_ADDR`; default `127.0.0.1:8080`. Port 0 picks a free port.
    pub bind_addr: String,
    /// `DATA_DIR`; default `./data`.
    pub data_dir: PathBuf,
    /// `RUBRICS_DIR`; default the workspace's `rubrics/` folder.
    pub rubrics_dir: PathBuf,
    /// `LOG`: a tracing filter, default `info`.
    pub log: String,
    /// `SEED_DEMO`: create the two demo organisations (default `true`).
    pub seed_demo: bool,
    /// The request gate's limits (README, "Limits").
    pub limits: Limits,
    /// Browser origins (`https://host[:port]`) allowed to call the API from
    /// another site (CORS); none: same-origin only.
    pub cors_origins: Vec<String>,
    /// `AUDIT_KEY`: the key sealing the audit chain (at least 32 bytes);
    /// none: the one generated in `$DATA_DIR/audit-key`. Never printed.
    pub audit_key: Option<kaohe_service::audit::ChainKey>,
    /// Sign-in: token keys and lifetimes, sessions, password hashing.
    pub auth: AuthSettings,
    /// `LOG_FORMAT`: `human` (default) or `json` (one object per line).
    pub log_format: crate::telemetry::LogFormat,
    /// `METRICS_ADDR`: where `GET /metrics` is served (its own listener,
    /// never the API's); none (default): no metrics listener. A non-loopback
    /// address is refused unless `METRICS_ALLOW_REMOTE=true`.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `METRICS_MAX_OPERATIONS`: distinct operation names kept as metric
    /// labels (later ones count as `other`).
    pub metrics_max_operations: usize,
    /// Webhooks: delivery worker, retries, where deliveries may go.
    pub webhooks: kaohe_service::webhooks::WebhookSettings,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP/HTTP collector for spans (only
    /// with the `otel` cargo feature).
    pub otlp_endpoint: Option<String>,
}

/// Every limit of the request gate (README, "Limits", lists each with its
/// variable and the code a client sees).
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// `MAX_BODY_BYTES`: a JSON request body, refused (413) before it is read past this.
    pub max_body_bytes: usize,
    /// `MAX_BATCH`: operations in one batched (JSON array) request.
    pub max_batch: usize,
    /// `MAX_UPLOAD_BYTES`: one file of a multipart request.
    pub max_upload_bytes: usize,
    /// `MAX_UPLOAD_FILES`: files in one multipart request.
    pub max_upload_files: usize,
    /// `QUERY_MAX_BYTES`, `QUERY_MAX_NESTING`, `QUERY_MAX_FIELDS`, `QUERY_MAX_ALIASES`,
    /// `QUERY_MAX_DIRECTIVES`, `QUERY_MAX_DEPTH`, `QUERY_MAX_NODES`, `QUERY_DEFAULT_PAGE`.
    pub document: kaohe_gate::Limits,
    /// `RATE_BUDGET`: points a caller may spend at once (bucket size).
    pub rate_budget: u64,
    /// `RATE_REFILL_PER_HOUR`: points given back per hour.
    pub rate_refill_per_hour: u64,
    /// `RATE_MAX_KEYS`: callers tracked at once per instance.
    pub rate_max_keys: usize,
    /// `MAX_LOGINS_PER_REQUEST`: `login` fields in one request (aliases and batches counted).
    pub max_logins_per_request: u64,
    /// `REQUEST_TIMEOUT_MS`: execution time of one request, including waiting for admission.
    pub request_timeout: Duration,
    /// `EXPENSIVE_NODES`: operations that may touch more nodes than this are
    /// expensive (a ranking, a chain verification, a page of pages); a page
    /// of 100 rows with a few fields each is not (it was at 200: two such
    /// pages at a time, the CPU idle between their statements, issue 18).
    pub expensive_nodes: u64,
    /// `EXPENSIVE_CONCURRENCY`: expensive requests run at once per instance.
    pub expensive_concurrency: usize,
    /// `TRUSTED_PROXIES`: comma-separated proxy IPs whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Bytes of query answers one instance keeps (0: no response cache).
    pub response_cache_bytes: u64,
    /// How long a cached answer may be reused at most, even if no write
    /// came through the API (edits made by hand show after this).
    pub response_cache_ttl: Duration,
}

/// Points of a field answering every unit of a run at once (a ranking): as
/// many rows as a large county or city has units (1 000 / 100).
pub const RANKING_COST: u64 = 10;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 256 * 1024,
            // Apollo's BatchHttpLink sends up to 10.
            max_batch: 10,
            max_upload_bytes: 10 * 1024 * 1024,
            max_upload_files: 5,
            document: kaohe_gate::Limits {
                // Fields whose work does not show in their rows: points each.
                field_costs: vec![
                    ("verifyAuditChain".into(), crate::audit::VERIFY_COST),
                    // Every unit of a run, ranked (unpaged lists).
                    ("monthlyRanking".into(), RANKING_COST),
                    ("ranking".into(), RANKING_COST),
                    ("whatIf".into(), RANKING_COST),
                ],
                ..kaohe_gate::Limits::default()
            },
            // GitHub's 5 000 points an hour, with a burst of 1 000.
            rate_budget: 1_000,
            rate_refill_per_hour: 5_000,
            rate_max_keys: 100_000,
            max_logins_per_request: 1,
            request_timeout: Duration::from_millis(10_000),
            expensive_nodes: 1_000,
            expensive_concurrency: 2,
            trusted_proxies: Vec::new(),
            response_cache_bytes: 64 * 1024 * 1024,
            response_cache_ttl: Duration::from_secs(300),
        }
    }
}

impl Limits {
    /// Reads every limit from `get`, keeping the default of each one not set.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        let dl = &d.document;
        let document = kaohe_gate::Limits {
            max_bytes: num(get, "QUERY_MAX_BYTES", dl.max_bytes)?,
            max_nesting: num(get, "QUERY_MAX_NESTING", dl.max_nesting)?,
            max_fields: num(get, "QUERY_MAX_FIELDS", dl.max_fields)?,
            max_aliases: num(get, "QUERY_MAX_ALIASES", dl.max_aliases)?,
            max_directives: num(get, "QUERY_MAX_DIRECTIVES", dl.max_directives)?,
            max_depth: num(get, "QUERY_MAX_DEPTH", dl.max_depth)?,
            max_nodes: num(get, "QUERY_MAX_NODES", dl.max_nodes)?,
            default_page: num(get, "QUERY_DEFAULT_PAGE", dl.default_page)?,
            field_costs: dl.field_costs.clone(),
        };
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| ConfigError {
                        name: "TRUSTED_PROXIES",
                        message: format!("`{s}` is not an IP address"),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let limits = Limits {
            max_body_bytes: num(get, "MAX_BODY_BYTES", d.max_body_bytes)?,
            max_batch: num(get, "MAX_BATCH", d.max_batch)?,
            max_upload_bytes: num(get, "MAX_UPLOAD_BYTES", d.max_upload_bytes)?,
            max_upload_files: num(get, "MAX_UPLOAD_FILES", d.max_upload_files)?,
            document,
            rate_budget: num(get, "RATE_BUDGET", d.rate_budget)?,
            rate_refill_per_hour: num(get, "RATE_REFILL_PER_HOUR", d.rate_refill_per_hour)?,
            rate_max_keys: num(get, "RATE_MAX_KEYS", d.rate_max_keys)?,
            max_logins_per_request: num(get, "MAX_LOGINS_PER_REQUEST", d.max_logins_per_request)?,
            request_timeout: Duration::from_millis(num(get, "REQUEST_TIMEOUT_MS", 10_000)?),
            expensive_nodes: num(get, "EXPENSIVE_NODES", d.expensive_nodes)?,
            expensive_concurrency: num(get, "EXPENSIVE_CONCURRENCY", d.expensive_concurrency)?,
            trusted_proxies,
            response_cache_bytes: num::<u64>(get, "RESPONSE_CACHE_MB", d.response_cache_bytes >> 20)?
                .saturating_mul(1 << 20),
            response_cache_ttl: Duration::from_secs(num(
                get,
                "RESPONSE_CACHE_TTL_SECS",
                d.response_cache_ttl.as_secs(),
            )?),
        };
        for (name, v) in [
            ("MAX_BODY_BYTES", limits.max_body_bytes as u64),
            ("MAX_BATCH", limits.max_batch as u64),
            ("REQUEST_TIMEOUT_MS", limits.request_timeout.as_millis() as u64),
            ("EXPENSIVE_CONCURRENCY", limits.expensive_concurrency as u64),
            ("RATE_MAX_KEYS", limits.rate_max_keys as u64),
        ] {
            if v == 0 {
                return Err(ConfigError { name, message: "must be at least 1".into() });
            }
        }
        Ok(limits)
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds settings from any lookup (tests pass a map instead of touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let data_dir = get("DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = DatabaseUrl::from(get("DATABASE_URL").unwrap_or_else(|| sqlite_url(&data_dir)));
        if !(database_url.is_sqlite() || database_url.expose().starts_with("postgres")) {
            return Err(ConfigError { name: "DATABASE_URL", message: "must start with sqlite: or postgres://".into() });
        }
        let bind_addr = get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let rubrics_dir = get("RUBRICS_DIR").map(PathBuf::from).unwrap_or_else(default_rubrics_dir);
        let log = get("LOG").unwrap_or_else(|| "info".to_string());
        let seed_demo = match get("SEED_DEMO").as_deref() {
            None | Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                return Err(ConfigError { name: "SEED_DEMO", message: format!("`{other}` is not true/false") });
            }
        };
        let limits = Limits::from_lookup(&get)?;
        let cors_origins = match get("CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => {
                list.split(',').map(str::trim).filter(|o| !o.is_empty()).map(origin).collect::<Result<_, _>>()?
            }
        };
        let audit_key = get("AUDIT_KEY")
            .map(|k| kaohe_service::audit::ChainKey::new(k.as_bytes()))
            .transpose()
            .map_err(|e| ConfigError { name: "AUDIT_KEY", message: e.to_string() })?;
        let auth = AuthSettings::from_lookup(&get)?;
        let log_format = match get("LOG_FORMAT") {
            None => crate::telemetry::LogFormat::default(),
            Some(f) => crate::telemetry::LogFormat::parse(&f)
                .ok_or_else(|| ConfigError { name: "LOG_FORMAT", message: format!("`{f}` is not human or json") })?,
        };
        let allow_remote = match get("METRICS_ALLOW_REMOTE").as_deref().map(str::trim) {
            None | Some("0" | "false" | "no") => false,
            Some("1" | "true" | "yes") => true,
            Some(other) => {
                return Err(ConfigError {
                    name: "METRICS_ALLOW_REMOTE",
                    message: format!("`{other}` is not true/false"),
                });
            }
        };
        let metrics_addr = get("METRICS_ADDR").map(|a| metrics_addr(&a, allow_remote)).transpose()?;
        let webhooks = kaohe_service::webhooks::WebhookSettings::from_lookup(&get)?;
        Ok(Settings {
            database_url,
            bind_addr,
            data_dir,
            rubrics_dir,
            log,
            seed_demo,
            limits,
            cors_origins,
            audit_key,
            auth,
            log_format,
            metrics_addr,
            metrics_max_operations: num(&get, "METRICS_MAX_OPERATIONS", crate::metrics::DEFAULT_MAX_OPERATIONS)?,
            webhooks,
            otlp_endpoint: get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        })
    }

    /// True when the database is a SQLite file (or memory).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.is_sqlite()
    }

    /// True when `BIND_ADDR` is a loopback address (only this machine can connect).
    pub fn binds_loopback(&self) -> bool {
        let host = self.bind_addr.rsplit_once(':').map_or(self.bind_addr.as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Every problem of the settings `get` describes, each naming its
    /// variable (not only the first, as `from_lookup` answers): each
    /// variable refused is set aside in turn and the rest read again.
    pub fn problems(get: impl Fn(&str) -> Option<String>) -> (Option<Settings>, Vec<ConfigError>) {
        let mut set_aside: Vec<&'static str> = Vec::new();
        let mut problems = Vec::new();
        for _ in 0..64 {
            let lookup = |k: &str| if set_aside.contains(&k) { None } else { get(k) };
            match Settings::from_lookup(lookup) {
                Ok(s) => return (problems.is_empty().then_some(s), problems),
                Err(e) => {
                    if set_aside.contains(&e.name) {
                        problems.push(e);
                        return (None, problems);
                    }
                    set_aside.push(e.name);
                    problems.push(e);
                }
            }
        }
        (None, problems)
    }
}

/// `METRICS_ADDR`: `host:port` with an address (or `localhost`); a
/// non-loopback one only when allowed (metrics tell how the service is used).
fn metrics_addr(text: &str, allow_remote: bool) -> Result<std::net::SocketAddr, ConfigError> {
    let bad = |m: String| ConfigError { name: "METRICS_ADDR", message: m };
    let text = text.trim();
    let addr = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}").parse(),
        None => text.parse::<std::net::SocketAddr>(),
    }
    .map_err(|_| bad(format!("`{text}` is not address:port (e.g. 127.0.0.1:9464)")))?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(bad(format!(
            "{addr} is not a loopback address; metrics are served to this host only unless METRICS_ALLOW_REMOTE=true"
        )));
    }
    Ok(addr)
}

/// One CORS origin: `http(s)://host[:port]`, nothing after it (a browser's
/// `Origin` never has a path, so anything else could never match).
fn origin(text: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError { name: "CORS_ALLOWED_ORIGINS", message: format!("`{text}` {why}") };
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with https:// or http://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '*', ' ']) {
        return Err(bad("must be scheme://host[:port] with nothing after it"));
    }
    text.parse::<actix_web::http::Uri>().map_err(|_| bad("is not a valid origin"))?;
    Ok(text.to_string())
}

/// `./rubrics` if the current folder has one, else the workspace's `rubrics/`
/// (next to this crate's folder at build time).
fn default_rubrics_dir() -> PathBuf {
    let here = PathBuf::from("rubrics");
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("rubrics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = with(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.bind_addr, "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.database_url.expose(), "sqlite://data/kaohe.db?mode=rwc");
        assert!(s.rubrics_dir.ends_with("rubrics"));
        assert!(s.seed_demo);
    }

    #[test]
    fn environment_overrides_defaults() {
        let s = with(&[("DATA_DIR", "/srv/kaohe"), ("BIND_ADDR", "0.0.0.0:9000"), ("SEED_DEMO", "false")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.database_url.expose(), "sqlite:///srv/kaohe/kaohe.db?mode=rwc");
        assert_eq!(s.bind_addr, "0.0.0.0:9000");
        assert!(!s.seed_demo);
        let pg = with(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap_or_else(|e| panic!("{e}"));
        assert!(!pg.is_sqlite());
    }

    #[test]
    fn the_audit_key_comes_from_the_environment_and_never_prints() {
        assert!(with(&[]).unwrap().audit_key.is_none(), "generated in DATA_DIR by default");
        let key = "k".repeat(crate::audit::MIN_KEY_BYTES) + "-secret";
        let s = with(&[("AUDIT_KEY", &key)]).unwrap();
        assert!(s.audit_key.is_some());
        assert!(!format!("{s:?}").contains("-secret"));
        let short = with(&[("AUDIT_KEY", "short")]).err().unwrap();
        assert_eq!(short.name, "AUDIT_KEY");
        assert!(!short.to_string().contains("short"), "the refused value is not echoed: {short}");
    }

    #[test]
    fn every_problem_is_listed_and_loopback_is_told_apart() {
        let map: HashMap<&str, &str> =
            [("MAX_BATCH", "five"), ("SEED_DEMO", "maybe"), ("AUDIT_KEY", "short-secret")].into_iter().collect();
        let (settings, problems) = Settings::problems(|k| map.get(k).map(|v| v.to_string()));
        assert!(settings.is_none());
        let mut names: Vec<&str> = problems.iter().map(|p| p.name).collect();
        names.sort_unstable();
        assert_eq!(names, ["AUDIT_KEY", "MAX_BATCH", "SEED_DEMO"]);
        assert!(!problems.iter().any(|p| p.to_string().contains("short-secret")), "secrets are not echoed");
        let (ok, none) = Settings::problems(|_| None);
        assert!(ok.is_some() && none.is_empty());
        for (addr, loopback) in
            [("127.0.0.1:8080", true), ("localhost:80", true), ("[::1]:8080", true), ("0.0.0.0:8080", false)]
        {
            let s = with(&[("BIND_ADDR", addr)]).unwrap();
            assert_eq!(s.binds_loopback(), loopback, "{addr}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(with(&[("DATABASE_URL", "mysql://x")]).is_err());
        assert!(with(&[("SEED_DEMO", "maybe")]).is_err());
        assert!(with(&[("MAX_BATCH", "five")]).is_err());
        assert!(with(&[("REQUEST_TIMEOUT_MS", "0")]).is_err());
        assert!(with(&[("TRUSTED_PROXIES", "10.0.0.1, nope")]).is_err());
    }

    #[test]
    fn limits_come_from_the_environment() {
        let s = with(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.limits, Limits::default());
        let s = with(&[
            ("MAX_BATCH", "2"),
            ("QUERY_MAX_ALIASES", "7"),
            ("REQUEST_TIMEOUT_MS", "1500"),
            ("RATE_BUDGET", "1_000"),
            ("TRUSTED_PROXIES", "10.0.0.1, ::1"),
            ("RESPONSE_CACHE_MB", "0"),
            ("RESPONSE_CACHE_TTL_SECS", "30"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.limits.response_cache_bytes, 0, "0 turns the response cache off");
        assert_eq!(s.limits.response_cache_ttl, Duration::from_secs(30));
        assert_eq!(with(&[("RESPONSE_CACHE_MB", "8")]).unwrap().limits.response_cache_bytes, 8 << 20);
        assert_eq!(s.limits.max_batch, 2);
        assert_eq!(s.limits.document.max_aliases, 7);
        assert_eq!(s.limits.request_timeout, Duration::from_millis(1500));
        assert_eq!(s.limits.rate_budget, 1000);
        assert_eq!(s.limits.trusted_proxies.len(), 2);
    }

    #[test]
    fn secrets_never_print() {
        let s = with(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("JWT_SECRET", "correct-horse-battery-staple-0123456789"),
            ("JWT_PREVIOUS_SECRET", "an-older-secret-that-still-verifies-42"),
            ("DEMO_PASSWORD", "demo-pass-word-xyz"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let printed = format!("{s:?} {s:#?}");
        for secret in ["hunter2", "correct-horse", "an-older-secret", "demo-pass-word"] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
        assert!(printed.contains("postgres://u:***@h/db"), "the rest of the URL stays readable: {printed}");
        assert_eq!(s.database_url.expose(), "postgres://u:hunter2@h/db", "connecting still gets the password");
        assert_eq!(s.auth.secret.as_ref().map(|x| x.expose()), Some("correct-horse-battery-staple-0123456789"));
    }

    #[test]
    fn operations_settings_are_read_and_checked() {
        let s = with(&[]).unwrap();
        assert_eq!(
            (s.metrics_addr, s.log_format),
            (None, crate::telemetry::LogFormat::Human),
            "metrics off by default"
        );
        let s = with(&[("METRICS_ADDR", "127.0.0.1:9464"), ("LOG_FORMAT", "json")]).unwrap();
        assert_eq!(s.metrics_addr.map(|a| a.port()), Some(9464));
        assert_eq!(s.log_format, crate::telemetry::LogFormat::Json);
        assert!(with(&[("METRICS_ADDR", "localhost:9464")]).unwrap().metrics_addr.is_some());
        let refused = with(&[("METRICS_ADDR", "0.0.0.0:9464")]).err().unwrap();
        assert_eq!(refused.name, "METRICS_ADDR");
        assert!(with(&[("METRICS_ADDR", "0.0.0.0:9464"), ("METRICS_ALLOW_REMOTE", "true")]).is_ok());
        assert!(with(&[("METRICS_ADDR", "nowhere")]).is_err());
        assert!(with(&[("LOG_FORMAT", "xml")]).is_err());
    }

    #[test]
    fn cors_origins_are_checked_at_start() {
        assert!(with(&[]).unwrap().cors_origins.is_empty(), "same-origin only by default");
        let s = with(&[("CORS_ALLOWED_ORIGINS", "https://kaohe.example.cn, http://localhost:5173")]).unwrap();
        assert_eq!(s.cors_origins, ["https://kaohe.example.cn", "http://localhost:5173"]);
        for bad in ["*", "kaohe.example.cn", "https://kaohe.example.cn/", "https://a.cn/app", "ftp://a.cn"] {
            assert!(with(&[("CORS_ALLOWED_ORIGINS", bad)]).is_err(), "{bad} accepted");
        }
    }
}
