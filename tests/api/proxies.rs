//! Behind trusted proxies (issue 12, defect 5): the login-failure counters
//! and the cost budget key on the same client address, the forwarded one,
//! and a garbage hop in `X-Forwarded-For` never makes the proxy the client.

use entity::login_failure;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app_with};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

/// A login sent by the proxy (the test's peer, 127.0.0.1) for `forwarded_for`.
async fn login_via_proxy(app: &TestApp, forwarded_for: &str, username: &str, password: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": LOGIN, "variables": { "u": username, "p": password } }))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn failed_logins_behind_a_proxy_lock_their_client_not_everyone() {
    let app = spawn_app_with(|s| s.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.set_password("ck-mishuke", "right-password-123").await;
    // 30 failures (the per-client lock) from one client, each on another
    // account so that no account lock is involved; half of them arrive with
    // an unparsable right-most hop, which must not hide the client.
    for i in 0..30 {
        let xff = if i % 2 == 0 { "203.0.113.5" } else { "203.0.113.5, not-an-address" };
        let (status, v) = login_via_proxy(&app, xff, &format!("nobody-{i}"), "guess").await;
        assert_eq!((status.as_u16(), code(&v)), (200, "UNAUTHENTICATED"), "attempt {i}: {v}");
    }
    let counted =
        login_failure::Entity::find().filter(login_failure::Column::Ip.eq("203.0.113.5")).count(&app.db).await.unwrap();
    assert_eq!(counted, 30, "every failure is counted against the forwarded client");

    // Another client behind the same proxy signs in.
    let (_, v) = login_via_proxy(&app, "198.51.100.20", "ck-mishuke", "right-password-123").await;
    assert!(v["data"]["login"]["accessToken"].is_string(), "{v}");
    // The client that failed 30 times is locked, whatever garbage it adds.
    for xff in ["203.0.113.5", "203.0.113.5, junk", "10.9.9.9, 203.0.113.5"] {
        let (_, v) = login_via_proxy(&app, xff, "ck-mishuke", "right-password-123").await;
        assert_eq!(code(&v), "ACCOUNT_LOCKED", "{xff}: {v}");
    }
}

#[tokio::test]
async fn a_garbage_hop_does_not_make_the_proxy_the_budget_key() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 1;
        s.limits.rate_refill_per_hour = 1;
        s.limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let ask = |xff: &'static str| {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("x-forwarded-for", xff)
            .json(&json!({ "query": r#"{ organisation(code: "chengkou") { code } }"# }))
            .send()
    };
    assert_eq!(ask("198.51.100.1, junk").await.unwrap().status(), 200);
    assert_eq!(ask("198.51.100.1").await.unwrap().status(), 429, "the same client, garbage or not");
    // Another client with a garbage hop still has a budget of its own.
    assert_eq!(ask("198.51.100.2, junk").await.unwrap().status(), 200);
    assert_eq!(ask("junk, 198.51.100.3, unknown").await.unwrap().status(), 200);
}
