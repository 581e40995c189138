use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn queries_run_over_get_but_mutations_are_refused() {
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.address);
    let res = app
        .client
        .get(&url)
        .query(&[("query", "{ organisations(first: 10) { edges { node { code } } } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["organisations"]["edges"][0]["node"]["code"], "chengkou");

    for doc in
        ["mutation { x }", "query A { organisations(first: 1) { totalCount } } mutation B { x }", "subscription { x }"]
    {
        let res = app.client.get(&url).query(&[("query", doc), ("operationName", "A")]).send().await.unwrap();
        assert_eq!(res.status(), 405, "{doc}");
        assert_eq!(res.headers()["allow"], "POST");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(body.get("data").is_none());
    }
    // A mutation admitted over POST is remembered by the gate; the same text
    // over GET is still refused, not admitted from memory.
    let logout = r#"mutation { logout(refreshToken: "not-a-token") }"#;
    let posted = app.client.post(&url).json(&json!({ "query": logout })).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    let res = app.client.get(&url).query(&[("query", logout)]).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn non_json_batched_and_oversized_posts_are_refused() {
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.address);
    let q = r#"{"query":"{ organisations(first: 1) { totalCount } }"}"#;
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let res = app.client.post(&url).header("content-type", ct).body(q).send().await.unwrap();
        assert_eq!(res.status(), 415, "{ct}");
    }
    let res = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(format!("[{}]", [q; 11].join(",")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BATCH_TOO_LARGE");
    let big = json!({ "query": format!("{{ organisations(first: 1) {{ totalCount }} }} #{}", "x".repeat(300 * 1024)) });
    let res = app.client.post(&url).json(&big).send().await.unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn a_fragment_fan_out_bomb_is_refused_before_validation() {
    let app = spawn_app().await;
    let mut q = String::from("query { ...F0 }\n");
    for i in 0..24 {
        q.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    q.push_str("fragment F24 on Query { organisations(first: 1) { totalCount } }\n");
    let started = Instant::now();
    let res = app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": q })).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("expands to"), "{body}");
}

#[tokio::test]
async fn queries_nested_too_deep_are_refused() {
    let app = spawn_app().await;
    let mut inner = String::from("code");
    for _ in 0..20 {
        inner = format!("code children {{ {inner} }}");
    }
    let q = format!(
        "{{ organisations(first: 1) {{ edges {{ node {{ rubrics(first: 1) {{ edges {{ node {{
           versions(first: 1) {{ edges {{ node {{ sections {{ {inner} }} }} }} }} }} }} }} }} }} }} }}"
    );
    let res = app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": q })).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("levels deep"), "{body}");
}

#[tokio::test]
async fn browsers_of_allowed_origins_only_get_cors_headers() {
    let front = "https://kaohe-front.example.cn";
    let app = crate::helpers::spawn_app_with(|s| s.cors_origins = vec![front.to_string()]).await;
    let url = format!("{}/graphql", app.address);
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let ok = preflight(front).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], front);
    assert!(ok.headers().get("access-control-allow-credentials").is_none(), "bearer tokens, no cookies");
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let q = json!({ "query": "{ organisations(first: 1) { totalCount } }" });
    let res = app.client.post(&url).header("Origin", front).json(&q).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], front);
    let exposed = res.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    for h in ["x-ratelimit-remaining", "x-kaohe-cache", "retry-after"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    let foreign = app.client.post(&url).header("Origin", "https://evil.example.com").json(&q).send().await.unwrap();
    // Answered (there is no cookie to abuse), but without the header the
    // browser keeps the answer from that page; its JSON POST would not even
    // pass the preflight above.
    assert_eq!(foreign.status(), 200);
    assert!(foreign.headers().get("access-control-allow-origin").is_none());

    // Without CORS_ALLOWED_ORIGINS no CORS header is ever sent (same origin only),
    // and a same-origin request carrying Origin is still answered.
    let plain = spawn_app().await;
    let res = plain.client.post(format!("{}/graphql", plain.address)).header("Origin", front).json(&q).send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
