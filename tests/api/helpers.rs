//! `spawn_app()`: the real server, its own database, an HTTP client.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use kaohe_api::telemetry::{Captured, LogFormat};
use kaohe_api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tracing::instrument::WithSubscriber;

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    /// The test's own pool on the app's database.
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    /// Bearer token sent by `post` once `sign_in` was called.
    pub token: std::sync::Mutex<Option<String>>,
    /// Statements the server (and `db` above) sent to the database.
    pub statements: kaohe_api::db::StatementCounter,
    /// The key the server seals the audit chain with (generated in its `DATA_DIR`).
    pub chain_key: kaohe_api::audit::ChainKey,
    /// The server's sign-in state (e.g. to hold its password-hashing slots).
    pub auth: std::sync::Arc<kaohe_api::auth::AuthState>,
    /// The server's request gate (to watch its expensive slots).
    pub gate: actix_web::web::Data<kaohe_api::http::Gate>,
    /// `http://127.0.0.1:<port>` of the server's metrics listener.
    pub metrics_address: Option<String>,
    /// Everything the server logged (JSON lines); printed when a test fails
    /// and `TEST_LOG=1` is set.
    pub logs: Captured,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

/// The workspace's `rubrics/` folder.
pub fn workspace_rubrics() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rubrics")
}

/// The rubric files the tests load: every `*.toml` of `rubrics/`, each of
/// which must validate (a broken one fails the test that starts the server).
fn copy_rubrics(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(workspace_rubrics()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = kaohe_engine::Rubric::from_toml(&name, &text) {
            panic!("rubrics/{name} does not validate: {e}");
        }
        std::fs::write(to.join(&name), text).unwrap();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_suffix() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A PostgreSQL database created for one test, dropped when the test ends.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async: use a thread with its own small runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (server, _) = base.rsplit_once('/').unwrap();
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Settings for a fresh database and a free port; the rubrics folder holds
/// the workspace rubrics.
async fn fresh_settings(dir: &Path) -> (Settings, Option<PgDatabase>) {
    let rubrics = dir.join("rubrics");
    copy_rubrics(&rubrics);
    let (database_url, pg) = match std::env::var("KAOHE_TEST_PG").ok().filter(|s| !s.is_empty()) {
        Some(admin_url) => {
            let name = format!("kaohe_t_{}", unique_suffix());
            let admin = Database::connect(&admin_url).await.expect("KAOHE_TEST_PG reachable");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await.unwrap();
            (with_database(&admin_url, &name), Some(PgDatabase { admin_url, name }))
        }
        None => (kaohe_api::config::sqlite_url(&dir.join("data")), None),
    };
    let settings = Settings {
        database_url: database_url.into(),
        bind_addr: "127.0.0.1:0".into(),
        data_dir: dir.join("data"),
        rubrics_dir: rubrics,
        log: "warn".into(),
        seed_demo: true,
        limits: Default::default(),
        cors_origins: Vec::new(),
        audit_key: None,
        auth: Default::default(),
        log_format: LogFormat::Json,
        // Every test server has its metrics listener, on a port of its own.
        metrics_addr: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        metrics_max_operations: kaohe_api::metrics::DEFAULT_MAX_OPERATIONS,
        webhooks: Default::default(),
        otlp_endpoint: None,
    };
    (settings, pg)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A scenario of many requests from one address: a budget that fits (the
/// gate's budget has its own tests), signed in as `user`.
pub async fn spawn_app_as(user: &str) -> TestApp {
    let app = spawn_app_with(|s| s.limits.rate_budget = 10_000_000).await;
    app.sign_in(user).await;
    app
}

/// Starts the app after `adjust` changed its settings (e.g. its rubrics folder).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (mut settings, pg) = fresh_settings(dir.path()).await;
    adjust(&mut settings);
    let logs = Captured::default();
    let app = build_logged(&settings, &logs).await;
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
    let db = app.db().clone();
    let statements = app.statements();
    let chain_key = app.chain_key().clone();
    let auth = app.auth();
    let gate = app.gate();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        settings,
        db,
        client: reqwest::Client::new(),
        token: Default::default(),
        statements,
        chain_key,
        auth,
        gate,
        metrics_address,
        logs,
        _dir: Some(dir),
        _pg: pg,
    }
}

/// Starts the app on settings whose database and folders the test keeps
/// (e.g. a `Fresh`, or a folder a backup was restored into).
pub async fn serve(settings: Settings) -> TestApp {
    let logs = Captured::default();
    let app = build_logged(&settings, &logs).await;
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
    let (db, statements, chain_key, auth) = (app.db().clone(), app.statements(), app.chain_key().clone(), app.auth());
    let gate = app.gate();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        settings,
        db,
        client: reqwest::Client::new(),
        token: Default::default(),
        statements,
        chain_key,
        auth,
        gate,
        metrics_address,
        logs,
        _dir: None,
        _pg: None,
    }
}

/// The log filter of test servers: warnings and errors (with their
/// request's span), everything from `info` with `TEST_LOG=1`, and every SQL
/// statement with `TEST_LOG=sql` (shown when a test fails).
pub fn test_log_filter() -> &'static str {
    match std::env::var("TEST_LOG").as_deref() {
        Ok("1") => "info,sqlx=warn",
        Ok("sql") => "warn,kaohe::sql=trace",
        _ => "warn",
    }
}

/// Builds the application with its logs going to `logs` (JSON lines): a
/// dispatcher of its own, so tests running side by side keep theirs apart.
pub async fn build_logged(settings: &Settings, logs: &Captured) -> Application {
    let dispatch = kaohe_api::telemetry::dispatch(test_log_filter(), LogFormat::Json, logs.clone(), false);
    Application::build(settings.clone()).with_subscriber(dispatch).await.unwrap_or_else(|e| panic!("{e}"))
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() && std::env::var("TEST_LOG").is_ok_and(|v| v == "1" || v == "sql") {
            eprintln!("---- server logs ({}) ----\n{}---- end of server logs ----", self.address, self.logs.text());
        }
    }
}

/// A fresh database (and folder) for tests that build the app themselves;
/// both go away when it is dropped.
pub struct Fresh {
    pub settings: Settings,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

pub async fn fresh() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let (settings, pg) = fresh_settings(dir.path()).await;
    Fresh { settings, _dir: dir, _pg: pg }
}

impl TestApp {
    pub fn is_sqlite(&self) -> bool {
        self.settings.is_sqlite()
    }

    /// POSTs a query; returns the whole JSON response (data and errors).
    pub async fn post(&self, query: &str, variables: Value) -> Value {
        let mut req = self.client.post(format!("{}/graphql", self.address));
        if let Some(token) = self.token.lock().unwrap().clone() {
            req = req.bearer_auth(token);
        }
        let res = req.json(&json!({ "query": query, "variables": variables })).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "POST /graphql status: {body}");
        body
    }

    /// POSTs a query that must succeed; returns `data`.
    pub async fn query(&self, query: &str) -> Value {
        self.query_with(query, json!({})).await
    }

    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        let body = self.post(query, variables).await;
        assert!(body.get("errors").is_none(), "errors: {body:#}");
        body["data"].clone()
    }

    /// The id of the newest version of an organisation's rubric.
    pub async fn version_id(&self, org: &str) -> Option<String> {
        let data = self
            .query_with(
                "query($c: String!) { organisation(code: $c) { rubrics(first: 1) { edges { node {
                   versions(first: 100) { edges { node { id } } } } } } } }",
                json!({ "c": org }),
            )
            .await;
        let versions = &data["organisation"]["rubrics"]["edges"][0]["node"]["versions"]["edges"];
        versions.as_array()?.last()?["node"]["id"].as_str().map(str::to_string)
    }

    /// Gives a demo login a known password, directly in the database.
    pub async fn set_password(&self, username: &str, password: &str) {
        use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
        let user = entity::app_user::Entity::find()
            .filter(entity::app_user::Column::Username.eq(username))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no demo login {username}"));
        let mut active: entity::app_user::ActiveModel = user.into();
        active.password_hash = Set(Some(kaohe_auth::password::hash(password).unwrap()));
        active.update(&self.db).await.unwrap();
    }

    /// Signs in as a demo login (its password set here), so that `post`
    /// sends its token from now on.
    pub async fn sign_in(&self, username: &str) {
        self.set_password(username, "test-password-123").await;
        *self.token.lock().unwrap() = None;
        let v = self
            .post(
                "mutation($u: String!) { login(username: $u, password: \"test-password-123\") { accessToken } }",
                json!({ "u": username }),
            )
            .await;
        let token = v["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {v}"));
        *self.token.lock().unwrap() = Some(token.to_string());
    }
}

/// The global id the API gives a row (`base64url("Kind:n")`).
pub fn gid(kind: &str, n: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{n}"))
}

/// The row id inside a global id.
pub fn db_id(id: &str) -> i64 {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).expect("a global id");
    let text = String::from_utf8(raw).expect("utf-8");
    text.split_once(':').expect("Kind:n").1.parse().expect("a number")
}

/// The `extensions.code` of a response's first error ("" if none).
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// POSTs a query that must fail with `expected`; returns the whole response.
pub async fn expect_code(app: &TestApp, q: &str, vars: Value, expected: &str) -> Value {
    let body = app.post(q, vars).await;
    assert_eq!(code(&body), expected, "{q}: {body:#}");
    body
}

/// The nodes of a connection (`edges { node }`).
pub fn nodes(conn: &Value) -> Vec<&Value> {
    conn["edges"].as_array().map(|edges| edges.iter().map(|e| &e["node"]).collect()).unwrap_or_default()
}

/// Waits until `done` holds, at most the pulse's re-check bound and a
/// second: an edit made straight in the database reaches a PostgreSQL
/// server through its pulse (`auth::pulse`), within the notification delay,
/// not at the very next statement as on SQLite. Returns whether it held.
pub async fn within_pulse<F, Fut>(mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + kaohe_service::auth::pulse::RECHECK + std::time::Duration::from_secs(1);
    loop {
        if done().await {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::task::yield_now().await;
    }
}
