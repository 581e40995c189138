//! Webhooks on publication (Standard Webhooks): a receiver in the test
//! verifies every delivery with its own implementation of the signature,
//! checked against the specification's test vector.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use kaohe_api::Settings;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, build_logged, code, spawn_app_as, spawn_app_with};

// ------------------------------------------------------------------ receiver

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Call {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

#[derive(Default)]
struct State {
    calls: Mutex<Vec<Call>>,
    /// Statuses to answer, in order; then 200.
    answers: Mutex<VecDeque<u16>>,
    /// How long each answer takes (a slow receiver).
    delay: Mutex<Duration>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A tiny HTTP receiver on 127.0.0.1, port 0.
struct Receiver {
    url: String,
    state: Arc<State>,
}

async fn hook(state: web::Data<State>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        // A slow receiver, so that overlapping deliveries would show.
        tokio::time::sleep(delay).await;
    }
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    state.calls.lock().unwrap().push(Call { headers, body: body.to_vec() });
    let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("received")
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(State::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::from(state.clone());
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new().app_data(data.clone()).route("/hook", web::post().to(hook))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), state }
    }

    fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    fn answer(&self, statuses: &[u16]) {
        self.state.answers.lock().unwrap().extend(statuses);
    }

    /// Polls (with a deadline: the server is another task) until `n` calls arrived.
    async fn wait_for(&self, n: usize) -> Vec<Call> {
        until(&format!("{n} deliveries"), || async {
            let calls = self.calls();
            (calls.len() >= n).then_some(calls)
        })
        .await
    }
}

/// Polls `probe` every 20 ms until it answers, for at most 30 s.
async fn until<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The receiver's own check of a delivery, written from the Standard
/// Webhooks specification (not with the server's code): HMAC-SHA256 under
/// the base64 key after `whsec_`, over `{id}.{timestamp}.{body}`, any of the
/// space-separated `v1,` signatures, a timestamp within five minutes.
fn verify(secret: &str, id: &str, timestamp: &str, signatures: &str, body: &[u8], now: i64) -> bool {
    let Ok(key) = STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret)) else { return false };
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if (now - ts).abs() > 300 {
        return false;
    }
    signatures.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|sig| {
        let Ok(given) = STANDARD.decode(sig) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&given).is_ok()
    })
}

fn verify_call(secret: &str, call: &Call) -> bool {
    let h = |k: &str| call.headers.get(k).cloned().unwrap_or_default();
    verify(
        secret,
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        &call.body,
        chrono::Utc::now().timestamp(),
    )
}

#[test]
fn the_receivers_check_passes_the_specification_test_vector() {
    let (secret, id, ts, body) = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        br#"{"test": 2432232314}"#,
    );
    let sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert!(verify(secret, id, ts, sig, body, 1614265330));
    assert!(verify(secret, id, ts, &format!("v1,AAAA {sig}"), body, 1614265330), "any of several signatures");
    assert!(!verify(secret, id, ts, sig, br#"{"test": 2432232315}"#, 1614265330), "altered body");
    assert!(!verify(secret, "msg_other", ts, sig, body, 1614265330), "other id");
    assert!(!verify(secret, id, ts, sig, body, 1614265330 + 301), "too old");
    // The server's signer agrees with the vector too.
    assert_eq!(kaohe_api::webhooks::signature::sign(secret, id, 1614265330, body).as_deref(), Some(sig));
}

// ------------------------------------------------------------------ helpers

/// Webhook settings for tests: the receiver on 127.0.0.1 over http, a quick
/// poll and a short retry schedule (instead of 5 s … 10 h).
fn hooks(s: &mut Settings, deliver: bool, schedule: &str) {
    let vars: HashMap<&str, String> = HashMap::from([
        ("WEBHOOK_ALLOW_HTTP_HOSTS", "127.0.0.1, localhost".to_string()),
        ("WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8".to_string()),
        ("WEBHOOK_POLL_MS", "20".to_string()),
        ("WEBHOOK_RETRY_SCHEDULE", schedule.to_string()),
        ("WEBHOOK_TIMEOUT_MS", "5000".to_string()),
        ("WEBHOOK_DELIVERY", if deliver { "on" } else { "off" }.to_string()),
    ]);
    s.webhooks = kaohe_api::webhooks::WebhookSettings::from_lookup(&|k: &str| vars.get(k).cloned()).unwrap();
}

const ALL_EVENTS: &str = "[RUN_PUBLISHED, RUN_AMENDED, RUN_SUPERSEDED]";

/// Registers `url` for every event; answers (endpoint id, secret).
async fn register(app: &TestApp, url: &str) -> (String, String) {
    let q = format!(
        "mutation($u: String!) {{ createWebhookEndpoint(url: $u, events: {ALL_EVENTS}, description: \"月讲评\") {{
           secret endpoint {{ id url events active }} }} }}"
    );
    let d = app.query_with(&q, json!({ "u": url })).await;
    let e = &d["createWebhookEndpoint"];
    assert_eq!(e["endpoint"]["active"], true);
    (e["endpoint"]["id"].as_str().unwrap().to_string(), e["secret"].as_str().unwrap().to_string())
}

/// Amends the published 许昌 run and publishes the revision: three events
/// (`run.amended`, `run.published`, `run.superseded`). Answers (old, new).
async fn republish(app: &TestApp) -> (String, String) {
    let d = app
        .query(r#"{ scoreRuns(organisationCode: "xuchang", status: PUBLISHED, first: 1) { edges { node { id } } } }"#)
        .await;
    let old = d["scoreRuns"]["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let d = app
        .query_with("mutation($r: ID!) { amendRun(runId: $r, reason: \"更正一处录入\") { id } }", json!({ "r": old }))
        .await;
    let new = d["amendRun"]["id"].as_str().unwrap().to_string();
    let d = app
        .query_with("mutation($r: ID!) { publishRun(runId: $r, expectedVersion: 1) { status } }", json!({ "r": new }))
        .await;
    assert_eq!(d["publishRun"]["status"], "PUBLISHED");
    (old, new)
}

const DELIVERIES: &str = "{ webhookDeliveries(first: 50) { totalCount edges { node {
    id status attemptCount eventType messageId runId nextAttemptAt completedAt payload
    attempts { outcome statusCode error } } } } }";

async fn deliveries(app: &TestApp) -> Vec<Value> {
    let d = app.query(DELIVERIES).await;
    d["webhookDeliveries"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

fn body_of(call: &Call) -> Value {
    serde_json::from_slice(&call.body).unwrap()
}

// -------------------------------------------------------------------- tests

#[tokio::test]
async fn an_event_committed_before_a_stop_is_delivered_by_the_next_start() {
    let receiver = Receiver::start().await;
    // The first instance publishes but never sends: as if it stopped right after the commit.
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        hooks(s, false, "50ms");
    })
    .await;
    app.sign_in("xc-admin").await;
    let (_, secret) = register(&app, &receiver.url).await;
    let (old, new) = republish(&app).await;
    let pending = deliveries(&app).await;
    assert_eq!(pending.len(), 3, "{pending:?}");
    assert!(pending.iter().all(|d| d["status"] == "PENDING" && d["attemptCount"] == 0), "{pending:?}");
    assert!(receiver.calls().is_empty());

    // A new instance on the same database delivers what the first left.
    let mut settings = app.settings.clone();
    hooks(&mut settings, true, "50ms");
    let logs = kaohe_api::telemetry::Captured::default();
    let second = build_logged(&settings, &logs).await;
    let metrics = second.metrics_port().map(|p| format!("http://127.0.0.1:{p}/metrics")).unwrap();
    tokio::spawn(second.run_until_stopped());
    let calls = receiver.wait_for(3).await;
    let ids: std::collections::HashSet<&str> = calls.iter().map(|c| c.headers["webhook-id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "one message id per event");
    for c in &calls {
        assert!(verify_call(&secret, c), "signature does not verify: {c:?}");
        assert_eq!(c.headers["content-type"], "application/json");
    }
    let by_type: HashMap<String, Value> =
        calls.iter().map(body_of).map(|b| (b["type"].as_str().unwrap().to_string(), b)).collect();
    let published = &by_type["run.published"]["data"];
    assert_eq!(published["run"]["id"], json!(new));
    assert_eq!(published["run"]["revision"], 2);
    assert_eq!(published["run"]["replacesRunId"], json!(old));
    assert_eq!(published["run"]["period"], "2026-03");
    assert_eq!(published["organisation"]["code"], "xuchang");
    assert!(published["rubric"]["code"].is_string() && published["rubric"]["versionLabel"].is_string());
    assert_eq!(by_type["run.superseded"]["data"]["run"]["id"], json!(old));
    assert_eq!(by_type["run.superseded"]["data"]["run"]["supersededByRunId"], json!(new));
    assert_eq!(by_type["run.amended"]["data"]["run"]["id"], json!(new));
    assert_eq!(by_type["run.amended"]["data"]["ranking"]["runId"], json!(old), "the published one still stands");
    // No ranking in the payload; the query it names answers it (here as the admin).
    assert!(published.get("results").is_none() && published["ranking"].get("rows").is_none());
    let ranking = app
        .query_with(published["ranking"]["query"].as_str().unwrap(), published["ranking"]["variables"].clone())
        .await;
    assert_eq!(ranking["scoreRun"]["id"], json!(new));
    assert_eq!(ranking["scoreRun"]["ranking"].as_array().unwrap().len(), 7, "seven counties");
    let token = app.token.lock().unwrap().clone().unwrap();
    let csv_url = format!("{}{}", app.address, published["ranking"]["csv"].as_str().unwrap());
    let csv = app.client.get(csv_url).bearer_auth(token).send().await.unwrap();
    assert_eq!(csv.status(), 200);

    let done = until("deliveries settled", || async {
        let all = deliveries(&app).await;
        all.iter().all(|d| d["status"] == "SUCCEEDED").then_some(all)
    })
    .await;
    assert!(done.iter().all(|d| d["attemptCount"] == 1 && d["attempts"][0]["statusCode"] == 200), "{done:?}");
    let text = app.client.get(metrics).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("kaohe_webhook_attempts_total{outcome=\"succeeded\"} 3"), "{text}");
    assert!(text.contains("kaohe_webhook_deliveries_total{result=\"succeeded\"} 3"), "{text}");
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_can_be_resent() {
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503]);
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        hooks(s, true, "30ms,60ms");
    })
    .await;
    app.sign_in("xc-admin").await;
    let (endpoint, secret) = register(&app, &receiver.url).await;
    // Only run.published for this endpoint's twin: one delivery to follow.
    app.query_with("mutation($e: ID!) { disableWebhookEndpoint(id: $e) { active } }", json!({ "e": endpoint })).await;
    let q =
        "mutation($u: String!) { createWebhookEndpoint(url: $u, events: [RUN_PUBLISHED]) { secret endpoint { id } } }";
    let d = app.query_with(q, json!({ "u": receiver.url })).await;
    let secret2 = d["createWebhookEndpoint"]["secret"].as_str().unwrap().to_string();
    assert_ne!(secret, secret2);
    republish(&app).await;
    // 500, 503, then 200: three attempts of one message.
    let calls = receiver.wait_for(3).await;
    let id = &calls[0].headers["webhook-id"];
    assert!(calls.iter().all(|c| &c.headers["webhook-id"] == id && verify_call(&secret2, c)));
    assert!(calls.iter().all(|c| body_of(c)["type"] == "run.published"));
    let d = until("the delivery to succeed", || async {
        let all = deliveries(&app).await;
        all.into_iter().find(|d| d["status"] == "SUCCEEDED")
    })
    .await;
    assert_eq!(d["attemptCount"], 3);
    let outcomes: Vec<(&str, i64)> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].as_str().unwrap(), a["statusCode"].as_i64().unwrap()))
        .collect();
    assert_eq!(outcomes, [("succeeded", 200), ("http_error", 503), ("http_error", 500)], "newest first");

    // Past the last retry it fails for good; a resend starts again.
    receiver.answer(&[500, 500, 500]);
    republish(&app).await;
    let failed = until("the delivery to fail", || async {
        deliveries(&app).await.into_iter().find(|d| d["status"] == "FAILED")
    })
    .await;
    assert_eq!(failed["attemptCount"], 3, "the first attempt and two retries");
    assert!(failed["completedAt"].is_string());
    let before = receiver.calls().len();
    let r = app
        .query_with("mutation($d: ID!) { resendWebhookDelivery(id: $d) { status } }", json!({ "d": failed["id"] }))
        .await;
    assert_eq!(r["resendWebhookDelivery"]["status"], "PENDING");
    receiver.wait_for(before + 1).await;
    let again = until("the resent delivery to succeed", || async {
        deliveries(&app).await.into_iter().find(|d| d["id"] == failed["id"] && d["status"] == "SUCCEEDED")
    })
    .await;
    assert_eq!(again["attemptCount"], 4);
    // The disabled endpoint got nothing, and its deliveries were never made.
    assert!(deliveries(&app).await.iter().all(|d| d["status"] != "CANCELLED" || d["attemptCount"] == 0));
}

#[tokio::test]
async fn each_event_is_delivered_once_and_one_at_a_time_per_endpoint() {
    let receiver = Receiver::start().await;
    *receiver.state.delay.lock().unwrap() = Duration::from_millis(150);
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        hooks(s, true, "50ms");
    })
    .await;
    // On PostgreSQL a second instance shares the database and delivers too;
    // on SQLite one process owns the file, so one instance runs.
    let second = if app.is_sqlite() {
        None
    } else {
        let logs = kaohe_api::telemetry::Captured::default();
        let s = build_logged(&app.settings, &logs).await;
        tokio::spawn(s.run_until_stopped());
        Some(logs)
    };
    app.sign_in("xc-admin").await;
    let (_, secret) = register(&app, &receiver.url).await;
    republish(&app).await;
    republish(&app).await;
    let calls = receiver.wait_for(6).await;
    until("every delivery settled", || async {
        let all = deliveries(&app).await;
        (all.len() == 6 && all.iter().all(|d| d["status"] == "SUCCEEDED")).then_some(())
    })
    .await;
    let calls_now = receiver.calls();
    assert_eq!(calls_now.len(), 6, "each event once: {calls:?}");
    let ids: std::collections::HashSet<&str> = calls_now.iter().map(|c| c.headers["webhook-id"].as_str()).collect();
    assert_eq!(ids.len(), 6);
    assert!(calls_now.iter().all(|c| verify_call(&secret, c)));
    assert_eq!(receiver.state.max_in_flight.load(Ordering::SeqCst), 1, "never two at once to one endpoint");
    drop(second);
}

#[tokio::test]
async fn endpoints_that_point_inside_the_network_are_refused() {
    // Default settings: https only, public addresses only.
    let app = spawn_app_as("xc-admin").await;
    for url in [
        "http://yjp.example.cn/hook",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://192.168.1.10/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://user:secret@yjp.example.cn/hook",
        "file:///etc/passwd",
    ] {
        let q = format!("mutation {{ createWebhookEndpoint(url: \"{url}\", events: [RUN_PUBLISHED]) {{ secret }} }}");
        let body = app.post(&q, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{url}: {body}");
    }
    assert_eq!(app.query("{ webhookEndpoints(first: 10) { totalCount } }").await["webhookEndpoints"]["totalCount"], 0);

    // A name is checked where it resolves, before every attempt: `localhost`
    // may be reached over http here, but loopback is not an allowed network.
    let receiver = Receiver::start().await;
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        hooks(s, true, "1h");
        s.webhooks.allow_networks.clear();
    })
    .await;
    app.sign_in("xc-admin").await;
    let port = receiver.url.rsplit(':').next().unwrap().trim_end_matches("/hook").to_string();
    register(&app, &format!("http://localhost:{port}/hook")).await;
    republish(&app).await;
    let refused = until("refused attempts", || async {
        let all = deliveries(&app).await;
        let settled = |d: &Value| d["attempts"][0]["outcome"] == "refused" && d["status"] == "PENDING";
        (all.len() == 3 && all.iter().all(settled)).then_some(all)
    })
    .await;
    assert!(refused[0]["attempts"][0]["error"].as_str().unwrap().contains("not a public address"), "{refused:?}");
    assert!(refused.iter().all(|d| d["nextAttemptAt"].is_string()), "retried later, as the schedule says: {refused:?}");
    assert!(receiver.calls().is_empty(), "nothing reached the address");
}

#[tokio::test]
async fn only_the_admin_manages_its_own_organisations_webhooks() {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        hooks(s, true, "50ms");
    })
    .await;
    let create =
        "mutation($u: String!) { createWebhookEndpoint(url: $u, events: [RUN_PUBLISHED]) { secret endpoint { id } } }";
    // Anonymous: refused before anything is looked up.
    let body = app.post(create, json!({ "u": receiver.url })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    assert_eq!(code(&app.post("{ webhookEndpoints(first: 5) { totalCount } }", json!({})).await), "UNAUTHENTICATED");
    app.sign_in("xc-admin").await;
    let (endpoint, secret) = register(&app, &receiver.url).await;
    // The same idempotency key answers the same endpoint.
    let keyed = "mutation($u: String!) { createWebhookEndpoint(url: $u, events: [RUN_PUBLISHED], idempotencyKey: \"k1\") { secret endpoint { id } } }";
    let a = app.query_with(keyed, json!({ "u": receiver.url })).await;
    let b = app.query_with(keyed, json!({ "u": receiver.url })).await;
    assert_eq!(a, b);
    let list = app.query("{ webhookEndpoints(first: 10) { totalCount edges { node { id url events } } } }").await;
    assert_eq!(list["webhookEndpoints"]["totalCount"], 2);
    assert!(!list.to_string().contains(&secret), "secrets are never listed");

    // A department head of the same organisation: FORBIDDEN.
    app.sign_in("xc-mishuke").await;
    assert_eq!(code(&app.post(create, json!({ "u": receiver.url })).await), "FORBIDDEN");
    assert_eq!(code(&app.post("{ webhookEndpoints(first: 5) { totalCount } }", json!({})).await), "FORBIDDEN");
    let disable = "mutation($e: ID!) { disableWebhookEndpoint(id: $e) { active } }";
    assert_eq!(code(&app.post(disable, json!({ "e": endpoint })).await), "FORBIDDEN");
    // Another organisation's admin: the endpoint does not exist for it.
    app.sign_in("ck-admin").await;
    let body = app.post(disable, json!({ "e": endpoint })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let rotate =
        "mutation($e: ID!) { rotateWebhookSecret(id: $e) { secret endpoint { version previousSecretValidUntil } } }";
    assert_eq!(code(&app.post(rotate, json!({ "e": endpoint })).await), "NOT_FOUND");
    assert_eq!(app.query("{ webhookEndpoints(first: 5) { totalCount } }").await["webhookEndpoints"]["totalCount"], 0);

    // A rotation signs with both secrets for a day.
    app.sign_in("xc-admin").await;
    let r = app.query_with(rotate, json!({ "e": endpoint })).await;
    let new_secret = r["rotateWebhookSecret"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert!(r["rotateWebhookSecret"]["endpoint"]["previousSecretValidUntil"].is_string());
    republish(&app).await;
    let calls = receiver.wait_for(1).await;
    let c = calls
        .iter()
        .find(|c| body_of(c)["type"] == "run.published" && c.headers["webhook-signature"].contains(' '))
        .unwrap_or(&calls[0]);
    assert_eq!(c.headers["webhook-signature"].split(' ').count(), 2, "{c:?}");
    assert!(verify_call(&new_secret, c) && verify_call(&secret, c));
    // Disabling stops it; the audit log has every change, no secret.
    let d = app.query_with(disable, json!({ "e": endpoint })).await;
    assert_eq!(d["disableWebhookEndpoint"]["active"], false);
    let audit = app.query("{ auditLog(first: 100) { edges { node { action after } } } }").await.to_string();
    for action in ["webhook_endpoint.create", "webhook_endpoint.rotate_secret", "webhook_endpoint.disable"] {
        assert!(audit.contains(action), "{action} not audited");
    }
    assert!(!audit.contains(&secret) && !audit.contains(&new_secret), "a secret in the audit log");
}

#[tokio::test]
async fn a_delivery_whose_instance_stopped_mid_send_is_sent_again_after_its_lease() {
    // The server does not deliver; a worker of the test's own plays the
    // instances, at instants it chooses (no waiting for the lease).
    let receiver = Receiver::start().await;
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        hooks(s, false, "50ms");
    })
    .await;
    app.sign_in("xc-admin").await;
    register(&app, &receiver.url).await;
    republish(&app).await;
    let mut settings = app.settings.webhooks.clone();
    settings.deliver = true;
    let lease = settings.lease();
    let worker = kaohe_api::webhooks::worker::Worker::new(app.db.clone(), settings, None).unwrap();
    let now = chrono::Utc::now();
    // One instance claims the endpoint's oldest delivery, then stops before sending.
    let first = worker.claim(now, 10).await.unwrap();
    assert_eq!(first.len(), 1, "one delivery per endpoint at a time");
    let lost = first[0].delivery.id;
    // While its lease lasts, nobody else sends to that endpoint.
    assert!(worker.claim(now + chrono::Duration::seconds(1), 10).await.unwrap().is_empty());
    // After it, the same delivery is claimed again, the lost attempt recorded.
    let later = now + chrono::Duration::from_std(lease).unwrap() + chrono::Duration::seconds(1);
    let again = worker.claim(later, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery.id, lost);
    assert_eq!(again[0].delivery.attempts, 2);
    let job = again.into_iter().next().unwrap();
    worker.deliver(job).await;
    let calls = receiver.wait_for(1).await;
    assert_eq!(calls.len(), 1);
    let d =
        deliveries(&app).await.into_iter().find(|d| crate::helpers::db_id(d["id"].as_str().unwrap()) == lost).unwrap();
    assert_eq!(d["status"], "SUCCEEDED");
    let outcomes: Vec<&str> =
        d["attempts"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["succeeded", "interrupted"]);
}
