//! Password hashing (issue 12, defect 6): pinned argon2id parameters, stale
//! hashes replaced at the next login, and a bounded number of hashes at once
//! (a login over the bound is 429 `RATE_LIMITED`, counted as no failure).

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use entity::{app_user, login_failure};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app, spawn_app_with};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

async fn stored_hash(app: &TestApp, username: &str) -> String {
    let user = app_user::Entity::find().filter(app_user::Column::Username.eq(username)).one(&app.db).await.unwrap();
    user.unwrap().password_hash.unwrap()
}

async fn login(app: &TestApp, username: &str, password: &str) -> (u16, Option<String>, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": LOGIN, "variables": { "u": username, "p": password } }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, retry_after, res.json().await.unwrap())
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_replaced_at_login() {
    let app = spawn_app().await;
    for (algorithm, m, t) in [(argon2::Algorithm::Argon2id, 4096, 1), (argon2::Algorithm::Argon2i, 19_456, 2)] {
        let params = argon2::Params::new(m, t, 1, None).unwrap();
        let weak = argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
            .hash_password(b"an-old-password-1", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let user = app_user::Entity::find().filter(app_user::Column::Username.eq("ck-bangongshi")).one(&app.db).await;
        let mut user: app_user::ActiveModel = user.unwrap().unwrap().into();
        user.password_hash = Set(Some(weak.clone()));
        user.update(&app.db).await.unwrap();

        let (_, _, v) = login(&app, "ck-bangongshi", "an-old-password-1").await;
        assert!(v["data"]["login"]["accessToken"].is_string(), "{v}");
        let now = stored_hash(&app, "ck-bangongshi").await;
        assert_ne!(now, weak);
        assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
        // The new hash is of the same password, and stays put.
        let (_, _, v) = login(&app, "ck-bangongshi", "an-old-password-1").await;
        assert!(v["data"]["login"]["accessToken"].is_string(), "{v}");
        assert_eq!(stored_hash(&app, "ck-bangongshi").await, now);
    }
    // A wrong password over a weak hash changes nothing.
    let params = argon2::Params::new(4096, 1, 1, None).unwrap();
    let weak = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(b"pw-of-dianjiao", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    let user = app_user::Entity::find().filter(app_user::Column::Username.eq("ck-dianjiao")).one(&app.db).await;
    let mut user: app_user::ActiveModel = user.unwrap().unwrap().into();
    user.password_hash = Set(Some(weak.clone()));
    user.update(&app.db).await.unwrap();
    let (_, _, v) = login(&app, "ck-dianjiao", "not-it").await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    assert_eq!(stored_hash(&app, "ck-dianjiao").await, weak);
}

#[tokio::test]
async fn logins_over_the_hashing_bound_are_refused_with_429_and_count_nothing() {
    let app = spawn_app_with(|s| {
        s.auth.password_hash_concurrency = 1;
        s.auth.password_hash_wait = std::time::Duration::ZERO;
    })
    .await;
    app.set_password("xc-mishuke", "right-password-123").await;
    // Another login holds the only hashing slot.
    let held = app.auth.passwords.slot().await.unwrap();
    for password in ["right-password-123", "wrong"] {
        let (status, retry_after, v) = login(&app, "xc-mishuke", password).await;
        assert_eq!((status, code(&v)), (429, "RATE_LIMITED"), "{v}");
        assert_eq!(retry_after.as_deref(), Some("1"));
    }
    let failures = login_failure::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(failures, 0, "a refused login is not a failed one");
    drop(held);
    let (status, _, v) = login(&app, "xc-mishuke", "right-password-123").await;
    assert_eq!(status, 200);
    assert!(v["data"]["login"]["accessToken"].is_string(), "{v}");
}
