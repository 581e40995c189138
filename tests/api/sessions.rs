//! Sign-in sessions (issue 12, defect 8): an access token ends with its
//! session (logout, a replayed refresh token, the absolute lifetime), old
//! sign-in rows are pruned, key-file algorithms never fall back to a secret.

use chrono::{Duration, Utc};
use entity::{app_user, login_failure, refresh_token, user_session};
use kaohe_api::auth::settings::JwtAlgorithm;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, fresh, spawn_app, spawn_app_with};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }";
const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
const LOGOUT: &str = "mutation($t: String!) { logout(refreshToken: $t) }";

struct Tokens {
    access: String,
    refresh: String,
}

fn tokens(v: &Value, field: &str) -> Tokens {
    let s = &v["data"][field];
    let access = s["accessToken"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
    Tokens { access, refresh: s["refreshToken"].as_str().unwrap().to_string() }
}

async fn sign_in(app: &TestApp, username: &str) -> Tokens {
    tokens(&app.post(LOGIN, json!({ "u": username, "p": "a-long-test-password" })).await, "login")
}

/// The status of a request made with `access` (401 once its session has ended).
async fn status_with(app: &TestApp, access: &str) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(access)
        .json(&json!({ "query": "{ organisations(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn assert_ended(app: &TestApp, access: &str) {
    let (status, v) = status_with(app, access).await;
    assert_eq!((status, code(&v)), (401, "UNAUTHENTICATED"), "{v}");
}

fn session_of(app: &TestApp, access: &str) -> i64 {
    app.auth.keys.verify(access).unwrap().sid.expect("a user's token names its session")
}

#[tokio::test]
async fn logout_ends_the_access_tokens_of_its_session_at_once() {
    let app = spawn_app().await;
    app.set_password("ck-mishuke", "a-long-test-password").await;
    let laptop = sign_in(&app, "ck-mishuke").await;
    let phone = sign_in(&app, "ck-mishuke").await;
    assert_ne!(session_of(&app, &laptop.access), session_of(&app, &phone.access));
    assert_eq!(status_with(&app, &laptop.access).await.0, 200);
    let v = app.post(LOGOUT, json!({ "t": laptop.refresh })).await;
    assert_eq!(v["data"]["logout"], true, "{v}");
    // The access token has minutes to live, but its session has ended.
    assert_ended(&app, &laptop.access).await;
    // The user's other session goes on.
    assert_eq!(status_with(&app, &phone.access).await.0, 200);
}

#[tokio::test]
async fn a_replayed_refresh_token_ends_every_access_token_of_the_session() {
    let app = spawn_app().await;
    app.set_password("xc-admin", "a-long-test-password").await;
    let first = sign_in(&app, "xc-admin").await;
    let second = tokens(&app.post(REFRESH, json!({ "t": first.refresh })).await, "refreshSession");
    assert_eq!(session_of(&app, &first.access), session_of(&app, &second.access), "one session");
    assert_eq!(status_with(&app, &second.access).await.0, 200);
    // The spent token comes back (a thief's copy): the session ends.
    assert_eq!(code(&app.post(REFRESH, json!({ "t": first.refresh })).await), "UNAUTHENTICATED");
    assert_ended(&app, &first.access).await;
    assert_ended(&app, &second.access).await;
    assert_eq!(code(&app.post(REFRESH, json!({ "t": second.refresh })).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_session_ends_after_its_absolute_lifetime() {
    let app = spawn_app_with(|s| s.auth.session_max_lifetime_secs = 3600).await;
    app.set_password("ck-admin", "a-long-test-password").await;
    let s = sign_in(&app, "ck-admin").await;
    // Refreshed within the hour: fine, and the new refresh token is fresh.
    let s = tokens(&app.post(REFRESH, json!({ "t": s.refresh })).await, "refreshSession");
    assert_eq!(status_with(&app, &s.access).await.0, 200);
    // The sign-in is now 61 minutes old (moved back rather than waited for).
    user_session::Entity::update_many()
        .col_expr(user_session::Column::StartedAt, Expr::value(Utc::now() - Duration::minutes(61)))
        .filter(user_session::Column::Id.eq(session_of(&app, &s.access)))
        .exec(&app.db)
        .await
        .unwrap();
    assert!(crate::helpers::within_pulse(|| async { status_with(&app, &s.access).await.0 == 401 }).await);
    assert_ended(&app, &s.access).await;
    assert_eq!(code(&app.post(REFRESH, json!({ "t": s.refresh })).await), "UNAUTHENTICATED");
    // Signing in again starts a new session.
    let again = sign_in(&app, "ck-admin").await;
    assert_eq!(status_with(&app, &again.access).await.0, 200);
}

#[tokio::test]
async fn a_user_token_without_a_live_session_is_refused_and_service_tokens_need_none() {
    let app = spawn_app().await;
    app.set_password("ck-jxx", "a-long-test-password").await;
    let s = sign_in(&app, "ck-jxx").await;
    let claims = app.auth.keys.verify(&s.access).unwrap();
    let now = Utc::now().timestamp();
    // Well signed, but naming no session (as tokens made before sessions did) …
    let bare = app.auth.keys.issue(&claims.sub, claims.org, &claims.role, now).unwrap();
    assert_ended(&app, &bare).await;
    // … or another user's session.
    app.set_password("ck-admin", "a-long-test-password").await;
    let other = session_of(&app, &sign_in(&app, "ck-admin").await.access);
    let borrowed = app.auth.keys.issue_in_session(&claims.sub, claims.org, &claims.role, Some(other), now).unwrap();
    assert_ended(&app, &borrowed).await;
    // A service credential's token has no session and works (revocation stops it: auth.rs).
    let svc = app_user::Entity::find().filter(app_user::Column::Username.eq("ck-admin")).one(&app.db).await.unwrap();
    let org = svc.unwrap().organisation_id;
    let cred = entity::service_credential::ActiveModel {
        organisation_id: Set(org),
        name: Set("月讲评系统".into()),
        scope: Set("results:read_published".into()),
        secret_hash: Set(kaohe_auth::refresh::digest("khs_test")),
        created_by: Set(None),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let svc_token = app.auth.keys.issue(&format!("svc:{}", cred.id), org, "service", now).unwrap();
    assert_eq!(status_with(&app, &svc_token).await.0, 200);
}

#[tokio::test]
async fn logins_prune_old_failures_spent_tokens_and_ended_sessions() {
    let app = spawn_app().await;
    app.set_password("xc-xueqian", "a-long-test-password").await;
    let user = app_user::Entity::find().filter(app_user::Column::Username.eq("xc-xueqian")).one(&app.db).await;
    let user_id = user.unwrap().unwrap().id;
    let now = Utc::now();
    // Rows as an instance running for a while leaves them.
    for (at, ip) in [(now - Duration::hours(2), "203.0.113.1"), (now - Duration::minutes(2), "203.0.113.2")] {
        login_failure::ActiveModel {
            username: Set("xc-xueqian".into()),
            ip: Set(ip.into()),
            at: Set(at),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let ended = user_session::ActiveModel {
        user_id: Set(user_id),
        family: Set("ended-family".into()),
        started_at: Set(now - Duration::days(3)),
        ended_at: Set(Some(now - Duration::days(2))),
        end_reason: Set(Some("logout".into())),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    for (hash, family, expires) in
        [("h-ended", "ended-family", now + Duration::days(5)), ("h-expired", "abandoned", now - Duration::days(1))]
    {
        refresh_token::ActiveModel {
            user_id: Set(user_id),
            token_hash: Set(hash.into()),
            family: Set(family.into()),
            issued_at: Set(now - Duration::days(15)),
            expires_at: Set(expires),
            revoked_at: Set(Some(now - Duration::days(2))),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }

    let s = sign_in(&app, "xc-xueqian").await;
    assert_eq!(status_with(&app, &s.access).await.0, 200);

    let failures: Vec<String> =
        login_failure::Entity::find().all(&app.db).await.unwrap().into_iter().map(|f| f.ip).collect();
    assert_eq!(failures, ["203.0.113.2"], "only the failure inside the lockout window is left");
    let tokens = refresh_token::Entity::find().filter(refresh_token::Column::UserId.eq(user_id)).count(&app.db);
    assert_eq!(tokens.await.unwrap(), 1, "only the new session's token is left");
    assert!(user_session::Entity::find_by_id(ended.id).one(&app.db).await.unwrap().is_none());
}

#[tokio::test]
async fn a_key_file_algorithm_without_its_files_refuses_to_start() {
    for algorithm in [JwtAlgorithm::Rs256, JwtAlgorithm::EdDsa] {
        let mut fresh = fresh().await;
        fresh.settings.auth.algorithm = algorithm;
        // A secret set alongside is no way around it.
        fresh.settings.auth.secret = Some("0123456789abcdef0123456789abcdef".into());
        let e = match kaohe_api::Application::build(fresh.settings.clone()).await {
            Ok(_) => panic!("{algorithm:?} started without key files"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("JWT_PRIVATE_KEY_FILE"), "{e}");
        assert!(!e.contains("0123456789abcdef"), "{e}");
        assert!(!fresh.settings.data_dir.join("jwt-secret").exists(), "no HS256 secret was made instead");
    }
}
