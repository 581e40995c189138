//! The client contract over HTTP: the README's error table walked code by
//! code, one malformed document of each kind, GraphQL-over-HTTP media types
//! and status codes, `WWW-Authenticate`, batches of 10, persisted queries.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn send_with(app: &TestApp, body: impl Into<reqwest::Body>, content_type: &str, accept: Option<&str>) -> Answer {
    let mut req = app.client.post(format!("{}/graphql", app.address)).header("content-type", content_type).body(body);
    if let Some(token) = app.token.lock().unwrap().clone() {
        req = req.bearer_auth(token);
    }
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Answer { status, headers, body }
}

async fn send_json(app: &TestApp, body: Value) -> Answer {
    send_with(app, body.to_string(), "application/json", None).await
}

async fn doc(app: &TestApp, query: &str, variables: Value) -> Answer {
    send_json(app, json!({ "query": query, "variables": variables })).await
}

/// Every code the README's "Error codes" table names.
fn documented_codes() -> BTreeSet<String> {
    let readme = include_str!("../../README.md");
    let table = readme.split("## Error codes").nth(1).unwrap().split("\n## ").next().unwrap();
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let first = l.split('|').nth(1).unwrap();
            first.split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>()
        })
        .collect()
}

fn codes_of(body: &Value) -> Vec<String> {
    let list = match body {
        Value::Array(items) => items.iter().flat_map(|b| b["errors"].as_array().cloned().unwrap_or_default()).collect(),
        _ => body["errors"].as_array().cloned().unwrap_or_default(),
    };
    list.iter().filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn every_code_of_the_readme_table_is_answered_by_a_real_request() {
    let documented = documented_codes();
    assert!(documented.len() >= 20, "{documented:?}");
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut saw = |code: &str, a: &Answer| {
        assert!(codes_of(&a.body).iter().any(|c| c == code), "expected {code}: {} {}", a.status, a.body);
        seen.insert(code.to_string());
    };

    let app = spawn_app_with(|s| {
        s.limits.max_upload_bytes = 1024;
        s.limits.max_upload_files = 2;
    })
    .await;
    saw("BAD_USER_INPUT", &doc(&app, r#"{ rubricVersion(id: "abc") { label } }"#, json!({})).await);
    let big = format!(r#"{{"query":"{{ __typename }}","pad":"{}"}}"#, "x".repeat(300 * 1024));
    saw("PAYLOAD_TOO_LARGE", &send_with(&app, big, "application/json", None).await);
    saw("UNSUPPORTED_MEDIA_TYPE", &send_with(&app, r#"{"query":"{ __typename }"}"#, "text/plain", None).await);
    let eleven = Value::Array(vec![json!({ "query": "{ __typename }" }); 11]);
    saw("BATCH_TOO_LARGE", &send_json(&app, eleven).await);
    let (ct, body) = crate::gate::multipart(&[("f0", 2048)]);
    saw("UPLOAD_TOO_LARGE", &send_with(&app, body, &ct, None).await);
    let (ct, body) = crate::gate::multipart(&[("f0", 1), ("f1", 1), ("f2", 1)]);
    saw("TOO_MANY_UPLOADS", &send_with(&app, body, &ct, None).await);
    saw("QUERY_TOO_LARGE", &doc(&app, &format!("{{ __typename {} }}", " ".repeat(17 * 1024)), json!({})).await);
    let deep = "{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }";
    saw("QUERY_TOO_COMPLEX", &doc(&app, deep, json!({})).await);
    saw("GRAPHQL_PARSE_FAILED", &doc(&app, "{ unclosed", json!({})).await);
    saw("GRAPHQL_VALIDATION_FAILED", &doc(&app, "{ noSuchField }", json!({})).await);
    let hash_only = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "a".repeat(64) } } });
    saw("PERSISTED_QUERY_NOT_FOUND", &send_json(&app, hash_only).await);
    let v2 = json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": "a".repeat(64) } } });
    saw("PERSISTED_QUERY_NOT_SUPPORTED", &send_json(&app, v2).await);
    let two_logins = r#"mutation { a: login(username: "x", password: "1") { accessToken } b: login(username: "x", password: "2") { accessToken } }"#;
    saw("TOO_MANY_LOGIN_ATTEMPTS", &doc(&app, two_logins, json!({})).await);
    let missing = gid("RubricVersion", 999_999);
    saw(
        "NOT_FOUND",
        &doc(&app, "query($id: ID!) { rubricVersion(id: $id) { label } }", json!({ "id": missing })).await,
    );
    saw("UNAUTHENTICATED", &doc(&app, r#"mutation { createDepartment(name: "x") { id } }"#, json!({})).await);
    const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
    app.set_password("xc-weidu", "right-password-123").await;
    for _ in 0..5 {
        doc(&app, LOGIN, json!({ "u": "xc-weidu", "p": "wrong" })).await;
    }
    saw("ACCOUNT_LOCKED", &doc(&app, LOGIN, json!({ "u": "xc-weidu", "p": "right-password-123" })).await);

    app.sign_in("xc-admin").await;
    let runs = app
        .query(r#"{ scoreRuns(organisationCode: "xuchang", status: PUBLISHED, first: 1) { edges { node { id } } } }"#)
        .await;
    let run = runs["scoreRuns"]["edges"][0]["node"]["id"].clone();
    let publish = "mutation($r: ID!) { publishRun(runId: $r, expectedVersion: 1) { status } }";
    saw("FROZEN", &doc(&app, publish, json!({ "r": run })).await);
    app.sign_in("xc-yuejiangping").await;
    let observations = "query($r: ID!) { scoreRun(id: $r) { observations(first: 1) { totalCount } } }";
    saw("FORBIDDEN", &doc(&app, observations, json!({ "r": run })).await);
    app.sign_in("xc-admin").await;
    let create = "mutation($n: String!) { createDepartment(name: $n) { id } }";
    doc(&app, create, json!({ "n": "合同科" })).await;
    saw("CONFLICT", &doc(&app, create, json!({ "n": "合同科" })).await);

    let limited = spawn_app_with(|s| {
        s.limits.rate_budget = 1;
        s.limits.rate_refill_per_hour = 1;
    })
    .await;
    doc(&limited, "{ __typename }", json!({})).await;
    saw("RATE_LIMITED", &doc(&limited, "{ __typename }", json!({})).await);

    let slow = spawn_app_with(|s| s.limits.request_timeout = Duration::from_millis(1)).await;
    let whole = "{ organisations(first: 2) { edges { node { rubrics(first: 10) { edges { node {
        versions(first: 10) { edges { node { indicators { clauses { text } } } } } } } } } } } }";
    saw("TIMEOUT", &doc(&slow, whole, json!({})).await);

    // INTERNAL: the pool closed under the server (errors.rs checks the message).
    app.db.clone().close().await.unwrap();
    saw("INTERNAL", &doc(&app, "{ organisations(first: 1) { totalCount } }", json!({})).await);

    let unanswered: Vec<_> = documented.difference(&seen).collect();
    assert!(unanswered.is_empty(), "documented codes no test request produced: {unanswered:?}");
}

#[tokio::test]
async fn each_kind_of_malformed_document_has_its_code() {
    let app = spawn_app().await;
    let cases: [(&str, Value, &str); 12] = [
        ("{ unclosed", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("query { ...Missing }", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("query A { __typename } query B { __typename }", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("{ organisation(nope: 1) { code } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("query($c: String!) { organisation(code: $c) { code } }", json!({}), "BAD_USER_INPUT"),
        ("query($c: String!) { organisation(code: $c) { code } }", json!({ "c": 5 }), "BAD_USER_INPUT"),
        ("query($n: Int!) { organisations(first: $n) { totalCount } }", json!({ "n": "ten" }), "BAD_USER_INPUT"),
        ("{ organisations(first: 1) { edges { node { code { deeper } } } } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("{ organisations(first: 1) { edges } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("subscription { nothing }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("{ organisations(first: 1, after: \"o:5\") { totalCount } }", json!({}), "BAD_USER_INPUT"),
    ];
    for (query, variables, expected) in cases {
        let a = doc(&app, query, variables).await;
        assert_eq!(codes_of(&a.body).first().map(String::as_str), Some(expected), "{query}: {}", a.body);
        for e in a.body["errors"].as_array().unwrap() {
            assert!(e["extensions"]["code"].is_string(), "an error without a code: {e}");
        }
    }
    // Decimal "abc" where a Decimal goes.
    app.sign_in("xc-admin").await;
    let whatif = "query($r: ID!) { scoreRun(id: $r) { whatIf(changes: [{ unitId: $r, ruleCode: \"x\", points: \"abc\" }]) { rank } } }";
    let a = doc(&app, whatif, json!({ "r": gid("ScoreRun", 1) })).await;
    let codes = codes_of(&a.body);
    assert!(codes.iter().all(|c| c == "BAD_USER_INPUT" || c == "GRAPHQL_VALIDATION_FAILED"), "{}", a.body);
    assert!(!codes.is_empty(), "{}", a.body);
}

#[tokio::test]
async fn graphql_over_http_media_type_and_status_codes() {
    let app = spawn_app().await;
    const ACCEPT: &str = "application/graphql-response+json, application/json;q=0.9";
    let accept = Some(ACCEPT);
    let ok = send_with(&app, json!({ "query": "{ __typename }" }).to_string(), "application/json", accept).await;
    assert_eq!(ok.status, 200);
    assert!(ok.headers["content-type"].to_str().unwrap().starts_with("application/graphql-response+json"));
    // A document that does not validate: 400, and no `data` (it never ran).
    let bad = send_with(&app, json!({ "query": "{ noSuchField }" }).to_string(), "application/json", accept).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.get("data").is_none(), "{}", bad.body);
    assert_eq!(codes_of(&bad.body), ["GRAPHQL_VALIDATION_FAILED"]);
    // A field error: 200, data present with the field null.
    let field = send_with(
        &app,
        json!({ "query": r#"{ organisation(code: "nope") { code } }"# }).to_string(),
        "application/json",
        accept,
    )
    .await;
    assert_eq!(field.status, 200);
    assert_eq!(field.body["data"], json!({ "organisation": null }));
    // The legacy media type keeps 200 for a request error, as the spec allows.
    let legacy = send_with(&app, json!({ "query": "{ noSuchField }" }).to_string(), "application/json", None).await;
    assert_eq!(legacy.status, 200);
    assert!(legacy.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    // Gate refusals take the asked media type too.
    let parse = send_with(&app, json!({ "query": "{" }).to_string(), "application/json", accept).await;
    assert_eq!(parse.status, 400);
    assert!(parse.headers["content-type"].to_str().unwrap().starts_with("application/graphql-response+json"));
    // A token that does not verify: 401 with the scheme to use, in the asked media type.
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth("not.a.token")
        .header("accept", ACCEPT)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/graphql-response+json"));
}

#[tokio::test]
async fn a_401_names_the_bearer_scheme() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth("not.a.token")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.starts_with("Bearer realm=\"kaohe\""), "{challenge}");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let export =
        app.client.get(format!("{}/runs/{}/export.csv", app.address, gid("ScoreRun", 1))).send().await.unwrap();
    assert_eq!(export.status(), 401);
    assert_eq!(export.headers()["www-authenticate"], "Bearer realm=\"kaohe\"");
}

#[tokio::test]
async fn a_batch_of_ten_is_answered() {
    let app = spawn_app().await;
    let ten = Value::Array((0..10).map(|i| json!({ "query": format!("{{ n{i}: __typename }}") })).collect());
    let a = send_json(&app, ten).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let list = a.body.as_array().unwrap();
    assert_eq!(list.len(), 10);
    assert_eq!(list[9]["data"]["n9"], "Query");
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol() {
    let app = spawn_app().await;
    let text = "query Orgs($n: Int!) { organisations(first: $n) { totalCount edges { node { code } } } }";
    let hash = hex::encode(Sha256::digest(text));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    // 1. The hash alone: not known yet.
    let first = send_json(&app, json!({ "extensions": ext, "variables": { "n": 2 } })).await;
    assert_eq!(codes_of(&first.body), ["PERSISTED_QUERY_NOT_FOUND"], "{}", first.body);
    assert_eq!(first.body["errors"][0]["message"], "PersistedQueryNotFound");
    // 2. The text with its hash: answered and registered.
    let second = send_json(&app, json!({ "query": text, "extensions": ext, "variables": { "n": 2 } })).await;
    assert_eq!(second.status, 200);
    let expected = second.body["data"].clone();
    assert!(expected["organisations"]["totalCount"].as_u64().unwrap() >= 2, "{}", second.body);
    // 3. The hash alone, over POST and over a short GET.
    let third = send_json(&app, json!({ "extensions": ext, "variables": { "n": 2 } })).await;
    assert_eq!(third.body["data"], expected, "{}", third.body);
    let url = format!(
        "{}/graphql?operationName=Orgs&variables={}&extensions={}",
        app.address,
        urlencode(&json!({ "n": 2 }).to_string()),
        urlencode(&ext.to_string())
    );
    assert!(url.len() < 300, "{url}");
    let get: Value = app.client.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(get["data"], expected, "{get}");
    // A text that does not match its hash is refused, and not stored.
    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
    let a = send_json(&app, json!({ "query": "{ __typename }", "extensions": wrong })).await;
    assert_eq!((a.status, codes_of(&a.body)), (400, vec!["BAD_USER_INPUT".to_string()]));
    let a = send_json(&app, json!({ "extensions": wrong })).await;
    assert_eq!(codes_of(&a.body), ["PERSISTED_QUERY_NOT_FOUND"]);
    // A document the gate refuses is never registered.
    let deep = "{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }";
    let deep_ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hex::encode(Sha256::digest(deep)) } });
    let a = send_json(&app, json!({ "query": deep, "extensions": deep_ext })).await;
    assert_eq!(codes_of(&a.body), ["QUERY_TOO_COMPLEX"]);
    let a = send_json(&app, json!({ "extensions": deep_ext })).await;
    assert_eq!(codes_of(&a.body), ["PERSISTED_QUERY_NOT_FOUND"]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An object's keys come in the order its selection set asks them (the
/// spec's CollectFields), whichever field finished first: `units` awaits the
/// database, `name` and `code` do not (async-graphql 7.2.1 answered them
/// first; `vendor/README.md`). Both computed and from the response cache.
#[tokio::test]
async fn fields_are_answered_in_the_order_asked() {
    let app = spawn_app_as("xc-admin").await;
    let query = "{ organisation(code: \"xuchang\") { units(first: 3) { edges { node { code } } } name code } }";
    // Forty computed (which field finishes first varies with timing), then
    // three from the response cache.
    for fresh in std::iter::repeat_n(true, 40).chain([false; 3]) {
        let token = app.token.lock().unwrap().clone().unwrap();
        let mut req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(token);
        if fresh {
            req = req.header("Cache-Control", "no-cache");
        }
        let text = req.json(&json!({ "query": query })).send().await.unwrap().text().await.unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key} in {text}"));
        // The organisation's own `code` is the last one (the units' come first).
        let code = text.rfind("\"code\":").unwrap();
        assert!(at("units") < at("name") && at("name") < code, "keys out of the asked order: {text}");
        // And the root's own keys: `data` only (no errors).
        assert!(text.starts_with("{\"data\":{\"organisation\":{\"units\":"), "{text}");
    }
}
