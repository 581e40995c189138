//! Operating kaohe: request ids on every answer and every error, the log
//! line of an internal error, readiness, and the metrics listener.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{gid, spawn_app, spawn_app_as};

/// `X-Request-Id` of a response.
fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", res.status(), res.url()))
        .to_string()
}

/// Sends `req`, checks its `X-Request-Id` and that every error of a JSON
/// body names it; answers (status, id, body).
async fn send(req: reqwest::RequestBuilder) -> (u16, String, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let id = request_id(&res);
    let is_json = res.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json"));
    let body: Value = if is_json { res.json().await.unwrap() } else { Value::Null };
    let bodies = match &body {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    for b in bodies {
        for e in b["errors"].as_array().into_iter().flatten() {
            assert_eq!(e["extensions"]["requestId"], json!(id), "error without the request's id: {e}");
            assert!(e["extensions"]["code"].is_string(), "{e}");
        }
    }
    (status, id, body)
}

#[tokio::test]
async fn every_answer_carries_its_request_id_and_every_error_names_it() {
    let app = spawn_app_as("xc-admin").await;
    let token = app.token.lock().unwrap().clone().unwrap();
    let url = |p: &str| format!("{}{p}", app.address);
    let c = &app.client;
    let run = app
        .query(r#"{ scoreRuns(organisationCode: "xuchang", first: 1) { edges { node { id } } } }"#)
        .await["scoreRuns"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Answers that succeed.
    let ok = [
        c.post(url("/graphql")).json(&json!({ "query": "{ __typename }" })),
        c.get(url("/graphql")).query(&[("query", "{ __typename }")]),
        c.get(url("/graphql")),
        c.get(url("/graphiql/start.js")),
        c.get(url(&format!("/runs/{run}/export.csv"))).bearer_auth(&token),
        c.get(url("/healthz")),
        c.get(url("/readyz")),
    ];
    for req in ok {
        let (status, id, _) = send(req).await;
        assert_eq!(status, 200, "{id}");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "a generated id is a UUID: {id}");
    }

    // Refusals of every kind, each error naming the request.
    let refused = [
        (c.post(url("/graphql")).header("content-type", "text/plain").body("{}"), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (c.post(url("/graphql")).json(&json!({ "query": "{ nope" })), 400, "GRAPHQL_PARSE_FAILED"),
        (
            c.post(url("/graphql")).bearer_auth("not.a.token").json(&json!({ "query": "{ __typename }" })),
            401,
            "UNAUTHENTICATED",
        ),
        (c.get(url("/graphql")).query(&[("query", "mutation { logout(refreshToken: \"x\") }")]), 405, "BAD_USER_INPUT"),
        (c.get(url(&format!("/evidence/{}/file", gid("Evidence", 999_999)))).bearer_auth(&token), 404, "NOT_FOUND"),
        (c.get(url("/runs/not-an-id/export.csv")).bearer_auth(&token), 400, "BAD_USER_INPUT"),
        (c.get(url(&format!("/runs/{run}/export.csv"))), 401, "UNAUTHENTICATED"),
        // An error from a resolver, and one from async-graphql's validation.
        (
            c.post(url("/graphql")).json(&json!({ "query": r#"{ organisation(code: "nowhere") { name } }"# })),
            200,
            "NOT_FOUND",
        ),
        (c.post(url("/graphql")).json(&json!({ "query": "{ nope }" })), 200, "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (req, want_status, want_code) in refused {
        let (status, id, body) = send(req).await;
        assert_eq!(
            (status, body["errors"][0]["extensions"]["code"].as_str()),
            (want_status, Some(want_code)),
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["requestId"], json!(id));
    }
    // In a batch, each operation's errors.
    let (_, id, body) = send(c.post(url("/graphql")).json(&json!([
        { "query": "{ __typename }" },
        { "query": r#"{ organisation(code: "nowhere") { name } }"# },
    ])))
    .await;
    assert_eq!(body[1]["errors"][0]["extensions"]["requestId"], json!(id));
    // A route that does not exist still says which request it was.
    let res = c.get(url("/nowhere")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    request_id(&res);

    // A well-formed id from the client is kept; anything else is replaced.
    let (_, id, _) = send(c.get(url("/healthz")).header("x-request-id", "yjp-2026.03_pull-0001")).await;
    assert_eq!(id, "yjp-2026.03_pull-0001");
    let (_, id, body) = send(
        c.post(url("/graphql"))
            .header("x-request-id", "yjp-pull-0002")
            .json(&json!({ "query": r#"{ organisation(code: "nowhere") { name } }"# })),
    )
    .await;
    assert_eq!(
        (id.as_str(), &body["errors"][0]["extensions"]["requestId"]),
        ("yjp-pull-0002", &json!("yjp-pull-0002"))
    );
    for bad in ["has space", "<b>", &"x".repeat(65)] {
        let (_, id, _) = send(c.get(url("/healthz")).header("x-request-id", bad)).await;
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} kept as {id:?}");
    }
}

#[tokio::test]
async fn an_internal_error_is_logged_with_the_request_id_the_client_sees() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    let sent = format!("internal-{}", std::process::id());
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-request-id", &sent)
        .json(&json!({ "query": "{ organisations(first: 10) { edges { node { code } } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&res), sent);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], json!(sent));
    assert_eq!(body["errors"][0]["message"], "internal error");

    // The server's log (LOG_FORMAT=json): one JSON object per line; the
    // internal error's line carries the same id, in its request span.
    let logs = app.logs.text();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {l}")))
        .collect();
    let internal = lines
        .iter()
        .find(|l| l["level"] == "ERROR" && l["fields"]["message"] == "internal error")
        .unwrap_or_else(|| panic!("no internal error logged: {logs}"));
    let spans = internal["spans"].as_array().unwrap_or_else(|| panic!("no spans: {logs}"));
    assert!(spans.iter().any(|s| s["request_id"] == json!(sent)), "{internal}");
    assert!(spans.iter().any(|s| s["http.route"] == "/graphql"), "{internal}");
    // Nothing of the query's text, variables or tokens in the request span.
    assert!(!internal.to_string().contains("organisations(first"), "{internal}");
}

#[tokio::test]
async fn readiness_is_separate_from_liveness() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    for check in ["database", "migrations", "rubrics", "policy"] {
        assert_eq!(body["checks"][check], "ok", "{body}");
    }
    // The newest migration unrecorded under the running server: alive, but
    // not ready. (Forgetting its row, not running its `down`: schema changes
    // under a busy server are not what this checks.)
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let newest = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT version, applied_at FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let version: String = newest.try_get("", "version").unwrap();
    let applied_at: i64 = newest.try_get("", "applied_at").unwrap();
    let sql = |s: String| Statement::from_string(backend, s);
    app.db.execute_raw(sql(format!("DELETE FROM seaql_migrations WHERE version = '{version}'"))).await.unwrap();
    let res = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["migrations"], "pending", "{body}");
    let res = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 200, "liveness does not depend on readiness");
    app.db
        .execute_raw(sql(format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{version}', {applied_at})"
        )))
        .await
        .unwrap();
    let res = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// One scrape of the metrics listener: every sample by name and labels.
pub(crate) async fn scrape(app: &crate::helpers::TestApp) -> HashMap<String, f64> {
    let url = format!("{}/metrics", app.metrics_address.as_deref().expect("a metrics listener"));
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).unwrap();
    let mut out = HashMap::new();
    for s in parsed.samples {
        let mut labels: Vec<(String, String)> = s.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        labels.sort();
        let labels: Vec<String> = labels.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => {
                out.insert(format!("{}{{{}}}", s.metric, labels.join(",")), v);
            }
            prometheus_parse::Value::Histogram(buckets) => {
                // The +Inf bucket counts every observation.
                let count = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
                out.insert(format!("{}_count{{{}}}", s.metric, labels.join(",")), count);
            }
            prometheus_parse::Value::Summary(_) => {}
        }
    }
    out
}

fn delta(before: &HashMap<String, f64>, after: &HashMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_exactly_the_requests_made() {
    let app = spawn_app_as("xc-admin").await;
    // Not on the API's port.
    let res = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let before = scrape(&app).await;
    let mut charged = 0u64;
    // Three runs of one named query: computed once, then answered from the cache.
    for _ in 0..3 {
        let body = app.post("query Orgs { organisations(first: 2) { totalCount } }", json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
        charged += body["extensions"]["cost"]["requested"].as_u64().unwrap();
    }
    // A failed and a refused sign-in attempt (anonymous), and one refused request.
    let anon = |q: &str| app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": q }));
    let body: Value =
        anon(r#"mutation SignIn { login(username: "xc-admin", password: "wrong-password") { accessToken } }"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    charged += body["extensions"]["cost"]["requested"].as_u64().unwrap();
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    // One publication: amend the seeded 许昌 run, publish the revision.
    let list = app
        .post(
            r#"{ scoreRuns(organisationCode: "xuchang", status: PUBLISHED, first: 1) { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    charged += list["extensions"]["cost"]["requested"].as_u64().unwrap();
    let run = list["data"]["scoreRuns"]["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let amend = app
        .post("mutation Amend($r: ID!) { amendRun(runId: $r, reason: \"更正\") { id version } }", json!({ "r": run }))
        .await;
    charged += amend["extensions"]["cost"]["requested"].as_u64().unwrap();
    let revision = amend["data"]["amendRun"]["id"].as_str().unwrap().to_string();
    let publish = app
        .post(
            "mutation Publish($r: ID!) { publishRun(runId: $r, expectedVersion: 1) { status } }",
            json!({ "r": revision }),
        )
        .await;
    assert_eq!(publish["data"]["publishRun"]["status"], "PUBLISHED", "{publish}");
    charged += publish["extensions"]["cost"]["requested"].as_u64().unwrap();

    let after = scrape(&app).await;
    let d = |k: &str| delta(&before, &after, k);
    assert_eq!(d("kaohe_graphql_operations_total{code=OK,operation=Orgs,type=query}"), 3.0);
    assert_eq!(d("kaohe_graphql_operations_total{code=UNAUTHENTICATED,operation=SignIn,type=mutation}"), 1.0);
    assert_eq!(d("kaohe_graphql_operations_total{code=OK,operation=Amend,type=mutation}"), 1.0);
    assert_eq!(d("kaohe_graphql_operations_total{code=OK,operation=Publish,type=mutation}"), 1.0);
    assert_eq!(d("kaohe_response_cache_total{result=miss}"), 2.0, "Orgs once, and the run list");
    assert_eq!(d("kaohe_response_cache_total{result=hit}"), 2.0);
    assert_eq!(d("kaohe_logins_total{outcome=failed}"), 1.0);
    assert_eq!(d("kaohe_logins_total{outcome=succeeded}"), 0.0);
    assert_eq!(d("kaohe_gate_refusals_total{code=UNSUPPORTED_MEDIA_TYPE}"), 1.0);
    assert_eq!(d("kaohe_runs_published_total{}"), 1.0);
    assert_eq!(d("kaohe_gate_cost_points_total{}"), charged as f64, "cost charged");
    assert_eq!(d("kaohe_http_requests_total{method=POST,route=/graphql,status=200}"), 7.0);
    assert_eq!(d("kaohe_http_requests_total{method=POST,route=/graphql,status=415}"), 1.0);
    assert!(after.contains_key("kaohe_db_pool_connections{pool=main,state=idle}"), "{after:?}");
    assert!(after.contains_key("kaohe_db_pool_connections{pool=main,state=in_use}"));
    let statements: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with("kaohe_db_statement_duration_seconds_count{"))
        .map(|(_, v)| *v)
        .sum();
    assert!(statements > 0.0, "statement durations observed");
}
