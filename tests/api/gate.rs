//! The request gate, over HTTP against the real server: one test per limit,
//! asserting the status and `extensions.code` (README, "Limits").

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid, spawn_app, spawn_app_as, spawn_app_with};

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
    }

    /// A refusal: the expected status and code, a GraphQL-shaped body, no
    /// internal detail.
    fn refused(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        assert!(self.body["errors"][0]["message"].is_string(), "{}", self.body);
        assert!(self.body.get("data").is_none(), "{}", self.body);
        no_internals(&self.body);
    }
}

/// No internal error text, SQL or stack in a response.
fn no_internals(body: &Value) {
    let text = body.to_string().to_lowercase();
    for leak in ["select ", "sqlx", "sqlite", "postgres", "panicked", "stack backtrace", ".rs:", "internal error"] {
        assert!(!text.contains(leak), "`{leak}` in {body}");
    }
}

async fn send(app: &TestApp, body: impl Into<reqwest::Body>, content_type: &str) -> Answer {
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Answer { status, headers, body }
}

async fn post(app: &TestApp, query: &str) -> Answer {
    send(app, json!({ "query": query }).to_string(), "application/json").await
}

fn fan_out(levels: usize) -> String {
    let mut q = String::from("query { ...F0 }\n");
    for i in 0..levels {
        q.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    q.push_str(&format!("fragment F{levels} on Query {{ organisations(first: 1) {{ totalCount }} }}\n"));
    q
}

fn aliases(n: usize) -> String {
    format!("{{ {} }}", (0..n).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" "))
}

#[tokio::test]
async fn a_body_over_the_cap_is_413_before_it_is_read() {
    let app = spawn_app().await;
    let big = json!({ "query": format!("{{ __typename }} #{}", "x".repeat(300 * 1024)) }).to_string();
    send(&app, big, "application/json").await.refused(413, "PAYLOAD_TOO_LARGE");
    // A declared length over the cap is refused on the header alone.
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .header("content-length", (10 * 1024 * 1024).to_string())
        .body("{}")
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), 413);
    }
}

#[tokio::test]
async fn only_json_and_multipart_posts_are_accepted() {
    let app = spawn_app().await;
    let q = r#"{"query":"{ __typename }"}"#;
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/graphql"] {
        send(&app, q, ct).await.refused(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let ok = send(&app, q, "application/json; charset=utf-8").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn batches_are_capped_and_each_operation_is_charged() {
    let app = spawn_app().await;
    let one = json!({ "query": r#"{ organisation(code: "chengkou") { code } }"# });
    let five = Value::Array(vec![one.clone(); 5]).to_string();
    let ok = send(&app, five, "application/json").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let list = ok.body.as_array().unwrap();
    assert_eq!(list.len(), 5);
    for r in list {
        assert_eq!(r["data"]["organisation"]["code"], "chengkou");
        assert_eq!(r["extensions"]["cost"]["requested"], 1);
        assert_eq!(r["extensions"]["cost"]["nodes"], 2);
    }
    // Five operations of 1 point each: 5 points charged.
    let budget = kaohe_api::config::Limits::default().rate_budget;
    assert_eq!(list[0]["extensions"]["cost"]["remaining"], budget - 5);
    assert_eq!(ok.headers["x-ratelimit-remaining"], (budget - 5).to_string().as_str());

    let over = Value::Array(vec![one; kaohe_api::config::Limits::default().max_batch + 1]).to_string();
    send(&app, over, "application/json").await.refused(400, "BATCH_TOO_LARGE");
    // One bad operation refuses the batch, with the gate's code.
    let bad = json!([{ "query": "{ __typename }" }, { "query": fan_out(30) }]).to_string();
    send(&app, bad, "application/json").await.refused(400, "QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn mutations_over_get_are_refused() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", r#"mutation { login(user: "a", password: "b") { token } }"#)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_document_over_the_length_cap_is_query_too_large() {
    let app = spawn_app().await;
    let long = format!("{{ __typename }} #{}", "x".repeat(20 * 1024));
    post(&app, &long).await.refused(400, "QUERY_TOO_LARGE");
}

#[tokio::test]
async fn fragment_fan_out_of_20_24_and_30_levels_is_refused_by_the_gate() {
    let app = spawn_app().await;
    for levels in [20, 24, 30] {
        let started = Instant::now();
        let a = post(&app, &fan_out(levels)).await;
        // Without the gate the 30-level document validates for minutes.
        assert!(started.elapsed() < Duration::from_secs(1), "{levels}: {:?}", started.elapsed());
        a.refused(400, "QUERY_TOO_COMPLEX");
        assert!(a.body["errors"][0]["message"].as_str().unwrap().contains("expands to"), "{}", a.body);
    }
}

#[tokio::test]
async fn two_thousand_aliases_are_refused() {
    // With the default length cap the document is already too long.
    let app = spawn_app().await;
    post(&app, &aliases(2000)).await.refused(400, "QUERY_TOO_LARGE");
    // With room for its text, the alias cap refuses it.
    let app = spawn_app_with(|s| s.limits.document.max_bytes = 64 * 1024).await;
    let a = post(&app, &aliases(2000)).await;
    a.refused(400, "QUERY_TOO_COMPLEX");
    assert!(a.body["errors"][0]["message"].as_str().unwrap().contains("aliases"), "{}", a.body);
    // 30 aliases pass.
    let ok = post(&app, &aliases(30)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"]["a29"], "Query");
}

#[tokio::test]
async fn directives_fields_depth_nesting_and_cost_are_capped() {
    let app = spawn_app().await;
    let cases = [
        (format!("{{ __typename {} }}", "@include(if: true) ".repeat(40)), "directives"),
        (format!("{{ organisations(first: 1) {{ edges {{ node {{ {} }} }} }} }}", "code ".repeat(1001)), "fields"),
        (format!("{{ unit(id: \"x\") {}code{} }}", "{ parent ".repeat(13), " }".repeat(13)), "levels deep"),
        (format!("{}{}", "{ a ".repeat(40), "}".repeat(40)), "brackets"),
        ("{ a(first: 100) { b(first: 100) { c d e } } }".to_string(), "nodes"),
        ("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_string(), "spreads itself"),
    ];
    for (doc, word) in cases {
        let a = post(&app, &doc).await;
        a.refused(400, "QUERY_TOO_COMPLEX");
        assert!(a.body["errors"][0]["message"].as_str().unwrap().contains(word), "{word}: {}", a.body);
    }
    post(&app, "{ unclosed").await.refused(400, "GRAPHQL_PARSE_FAILED");
}

#[tokio::test]
async fn the_cost_budget_is_charged_reported_and_refused_with_429() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 10;
        s.limits.rate_refill_per_hour = 1;
    })
    .await;
    let q = r#"{ organisation(code: "chengkou") { code } }"#; // 1 point, 2 nodes
    for i in 1..=10u64 {
        let a = post(&app, q).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(
            a.body["extensions"]["cost"],
            json!({ "requested": 1, "nodes": 2, "remaining": 10 - i, "limit": 10 })
        );
        assert_eq!(a.headers["x-ratelimit-remaining"], (10 - i).to_string().as_str());
    }
    let a = post(&app, q).await;
    a.refused(429, "RATE_LIMITED");
    assert!(a.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(a.headers["x-ratelimit-remaining"], "0");
    // X-Forwarded-For from an untrusted peer is ignored: still the same caller.
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 1;
        s.limits.rate_refill_per_hour = 1;
        s.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let ask = |ip: &'static str| {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("x-forwarded-for", format!("{ip}, 127.0.0.1"))
            .json(&json!({ "query": r#"{ organisation(code: "chengkou") { code } }"# }))
            .send()
    };
    assert_eq!(ask("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(ask("198.51.100.1").await.unwrap().status(), 429);
    // Another client behind the same proxy has its own budget.
    assert_eq!(ask("198.51.100.2").await.unwrap().status(), 200);
}

#[tokio::test]
async fn more_than_one_login_per_request_is_refused() {
    let app = spawn_app().await;
    let two =
        r#"mutation { a: login(user: "x", password: "1") { token } b: login(user: "x", password: "2") { token } }"#;
    post(&app, two).await.refused(429, "TOO_MANY_LOGIN_ATTEMPTS");
    let via_fragment = r#"mutation { login(user: "x", password: "1") { token } ...L }
        fragment L on Mutation { again: login(user: "x", password: "2") { token } }"#;
    post(&app, via_fragment).await.refused(429, "TOO_MANY_LOGIN_ATTEMPTS");
    let one = json!({ "query": r#"mutation { login(user: "x", password: "1") { token } }"# });
    let batch = Value::Array(vec![one; 2]).to_string();
    send(&app, batch, "application/json").await.refused(429, "TOO_MANY_LOGIN_ATTEMPTS");
}

/// The largest list query the limits allow on the seed data: 30 aliases of a
/// rubric version's whole indicator tree.
fn expensive(version: &str) -> String {
    let one = format!(
        r#"rubricVersion(id: "{version}") {{ indicators {{ code title maxPoints parent {{ code }}
           clauses {{ no text cap rules {{ code kind label params cap halving }} }}
           children {{ code clauses {{ text rules {{ params }} }} }} }} }}"#
    );
    format!("{{ {} }}", (0..30).map(|i| format!("v{i}: {one}")).collect::<Vec<_>>().join(" "))
}

#[tokio::test]
async fn a_request_over_its_time_answers_timeout() {
    let app = spawn_app_with(|s| s.limits.request_timeout = Duration::from_millis(1)).await;
    let whole = "{ organisations(first: 2) { edges { node { rubrics(first: 10) { edges { node {
        versions(first: 10) { edges { node { indicators { clauses { text } } } } } } } } } } } }";
    post(&app, whole).await.refused(504, "TIMEOUT");
}

#[tokio::test]
async fn cheap_queries_do_not_queue_behind_16_expensive_ones() {
    // A budget for 17 expensive queries from one client, and time for all of
    // them to finish on a slow, busy machine (the timeout has its own test).
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 100_000;
        s.limits.request_timeout = Duration::from_secs(300);
        // The largest tree document the seed allows is expensive at this bound.
        s.limits.expensive_nodes = 200;
    })
    .await;
    let version = app.version_id("chengkou").await.unwrap();
    let doc = expensive(&version);
    // It passes the gate, and is expensive.
    let alone = Instant::now();
    let first = post(&app, &doc).await;
    let alone = alone.elapsed();
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.get("errors").is_none(), "{}", first.body);
    let nodes = first.body["extensions"]["cost"]["nodes"].as_u64().unwrap();
    assert!(nodes > app.settings.limits.expensive_nodes, "nodes {nodes}");

    let started = Instant::now();
    let mut heavy = Vec::new();
    for _ in 0..16 {
        let client = app.client.clone();
        let url = format!("{}/graphql", app.address);
        let body = json!({ "query": doc });
        heavy.push(tokio::spawn(async move {
            // Each one runs: the same text would otherwise be answered from the response cache.
            let res = client.post(url).header("Cache-Control", "no-cache").json(&body).send().await.unwrap();
            (res.status(), Instant::now())
        }));
    }
    // The expensive ones hold every expensive slot (the rest queue) before the cheap ones go.
    let waiting = Instant::now();
    while app.gate.expensive_running() < app.settings.limits.expensive_concurrency {
        assert!(waiting.elapsed() < Duration::from_secs(10), "the expensive requests never started");
        tokio::task::yield_now().await;
    }
    let mut cheap = Vec::new();
    for q in [
        "{ __typename }",
        "{ organisations(first: 2) { edges { node { code name rubrics(first: 2) { edges { node {
           code currentVersion { label baseMaxTotal } } } } } } } }",
    ] {
        for _ in 0..3 {
            let t = Instant::now();
            let a = post(&app, q).await;
            assert_eq!(a.status, 200, "{}", a.body);
            assert!(a.body.get("errors").is_none(), "{}", a.body);
            cheap.push(t.elapsed());
        }
    }
    let cheap_done = Instant::now();
    let mut statuses = Vec::new();
    for h in heavy {
        statuses.push(h.await.unwrap());
    }
    let heavy_wall = started.elapsed();
    eprintln!("one expensive query alone {alone:?}; 16 together {heavy_wall:?}; cheap answers {cheap:?}");
    assert!(statuses.iter().all(|(s, _)| *s == 200), "{statuses:?}");
    // Not a stopwatch (the machine's speed varies): the cheap queries must
    // not have queued behind the expensive ones, so when all six were
    // answered most of the sixteen (two run at a time) were still pending.
    let pending = statuses.iter().filter(|(_, done)| *done > cheap_done).count();
    assert!(pending >= 8, "only {pending} of 16 expensive queries were still pending ({cheap:?}, {heavy_wall:?})");
}

pub(crate) fn multipart(files: &[(&str, usize)]) -> (String, Vec<u8>) {
    let boundary = "kaohe-boundary-7";
    let vars: serde_json::Map<String, Value> = files.iter().map(|(n, _)| (n.to_string(), Value::Null)).collect();
    let operations = json!({ "query": "{ __typename }", "variables": vars });
    let map: serde_json::Map<String, Value> =
        files.iter().map(|(n, _)| (n.to_string(), json!([format!("variables.{n}")]))).collect();
    let mut body = Vec::new();
    let mut part = |headers: &str, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("Content-Disposition: form-data; name=\"operations\"", operations.to_string().as_bytes());
    part("Content-Disposition: form-data; name=\"map\"", Value::Object(map).to_string().as_bytes());
    for (name, size) in files {
        part(
            &format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{name}.txt\"\r\nContent-Type: text/plain"
            ),
            &vec![b'x'; *size],
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn multipart_file_size_and_count_are_capped() {
    let app = spawn_app_with(|s| {
        s.limits.max_upload_bytes = 1024;
        s.limits.max_upload_files = 2;
    })
    .await;
    let (ct, body) = multipart(&[("f0", 10)]);
    let ok = send(&app, body, &ct).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"]["__typename"], "Query");

    let (ct, body) = multipart(&[("f0", 2048)]);
    send(&app, body, &ct).await.refused(413, "UPLOAD_TOO_LARGE");

    let (ct, body) = multipart(&[("f0", 1), ("f1", 1), ("f2", 1)]);
    send(&app, body, &ct).await.refused(413, "TOO_MANY_UPLOADS");

    send(&app, "--nope--", "multipart/form-data; boundary=zzz").await.refused(400, "BAD_USER_INPUT");
}

#[tokio::test]
async fn nodes_is_charged_per_id() {
    let app = spawn_app().await;
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let cost = |n: usize| {
        let ids: Vec<String> = (1..=n as i64).map(|i| gid("Organisation", i)).collect();
        let app = &app;
        async move {
            let cost = &app.post(q, json!({ "ids": ids })).await["extensions"]["cost"];
            (cost["requested"].as_u64(), cost["nodes"].as_u64())
        }
    };
    assert_eq!(cost(1).await, (Some(1), Some(2)));
    assert_eq!(cost(100).await, (Some(1), Some(101)));
    // Rows add up: a page of 100 and 100 ids are 200 rows, 2 points.
    let q = "query($ids: [ID!]!) { organisations(first: 100) { edges { node { id } } } nodes(ids: $ids) { id } }";
    let ids: Vec<String> = (1..=100).map(|i| gid("Organisation", i)).collect();
    let body = app.post(q, json!({ "ids": ids })).await;
    assert_eq!(body["extensions"]["cost"]["requested"], 2, "{body}");
}

/// An operation that validated clean here runs again without validating
/// (the metric counts it) and answers the same; one that failed validation,
/// or the same text with other variables, is validated afresh every time.
#[tokio::test]
async fn only_operations_that_validated_clean_skip_validation_and_answer_the_same() {
    let app = spawn_app_as("xc-admin").await;
    let post = |query: &'static str, variables: Value| {
        let req = app.client.post(format!("{}/graphql", app.address)).header("Cache-Control", "no-cache");
        let req = req.bearer_auth(app.token.lock().unwrap().clone().unwrap_or_default());
        async move {
            let res = req.json(&json!({ "query": query, "variables": variables })).send().await.unwrap();
            res.json::<Value>().await.unwrap()
        }
    };
    let skipped = |m: &std::collections::HashMap<String, f64>| {
        m.get("kaohe_graphql_validated_before_total{}").copied().unwrap_or(0.0)
    };
    let valid = "query Orgs($n: Int) { organisations(first: $n) { totalCount edges { node { code } } } }";
    let before = skipped(&crate::operations::scrape(&app).await);
    let first = post(valid, json!({ "n": 2 })).await;
    assert!(first.get("errors").is_none(), "{first}");
    let again = post(valid, json!({ "n": 2 })).await;
    assert_eq!(again["data"], first["data"]);
    assert_eq!(skipped(&crate::operations::scrape(&app).await) - before, 1.0, "the repeat skips validation");

    // Validation's refusals stay, however often they are sent.
    let unused = "query Unused($x: Int) { organisations(first: 1) { totalCount } }";
    let mut refusals = Vec::new();
    for _ in 0..3 {
        let body = post(unused, json!({})).await;
        assert!(body["data"].is_null(), "{body}");
        let mut errors = body["errors"].clone();
        errors[0]["extensions"].as_object_mut().unwrap().remove("requestId");
        refusals.push(errors);
    }
    assert!(refusals[0][0]["message"].as_str().unwrap().contains("$x"), "{}", refusals[0]);
    assert!(refusals.iter().all(|r| *r == refusals[0]), "{refusals:?}");
    // The clean text with other variables is another operation: validated again.
    let other = post(valid, json!({ "n": 1 })).await;
    assert!(other.get("errors").is_none(), "{other}");
    assert_eq!(other["data"]["organisations"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(skipped(&crate::operations::scrape(&app).await) - before, 1.0, "nothing else skipped validation");
}
