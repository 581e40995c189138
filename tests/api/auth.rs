//! Sign-in over HTTP: login, bearer tokens, refresh rotation, logout, lockout,
//! and forged tokens refused with 401 UNAUTHENTICATED.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use entity::app_user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken expiresIn } }";

async fn set_password(app: &TestApp, username: &str, password: &str) {
    app.set_password(username, password).await;
}

async fn with_token(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn login_use_refresh_and_logout() {
    let app = spawn_app().await;
    set_password(&app, "ck-mishuke", "correct horse battery").await;
    let v = app.post(LOGIN, json!({ "u": "ck-mishuke", "p": "correct horse battery" })).await;
    let s = &v["data"]["login"];
    let access = s["accessToken"].as_str().unwrap().to_string();
    let refresh = s["refreshToken"].as_str().unwrap().to_string();
    assert_eq!(s["expiresIn"], 900);
    let (status, v) = with_token(&app, &access, "{ organisations(first: 10) { edges { node { code } } } }").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["organisations"]["edges"][0]["node"]["code"], "chengkou", "{v}");

    let rot = "mutation($t: String!) { refreshSession(refreshToken: $t) { refreshToken } }";
    let v = app.post(rot, json!({ "t": refresh })).await;
    let next = v["data"]["refreshSession"]["refreshToken"].as_str().unwrap().to_string();
    // The spent token replayed: refused, and the whole sign-in ends.
    let v = app.post(rot, json!({ "t": refresh })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    let v = app.post(rot, json!({ "t": next })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "reuse revoked the family");

    let v = app.post(LOGIN, json!({ "u": "ck-mishuke", "p": "correct horse battery" })).await;
    let r2 = v["data"]["login"]["refreshToken"].as_str().unwrap().to_string();
    let v = app.post("mutation($t: String!) { logout(refreshToken: $t) }", json!({ "t": r2 })).await;
    assert_eq!(v["data"]["logout"], true);
    let v = app.post(rot, json!({ "t": r2 })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
}

#[tokio::test]
async fn wrong_passwords_then_lock() {
    let app = spawn_app().await;
    set_password(&app, "xc-mishuke", "right-password-123").await;
    for _ in 0..5 {
        let v = app.post(LOGIN, json!({ "u": "xc-mishuke", "p": "nope" })).await;
        assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("invalid username or password"));
    }
    let v = app.post(LOGIN, json!({ "u": "xc-mishuke", "p": "right-password-123" })).await;
    assert_eq!(code(&v), "ACCOUNT_LOCKED", "{v}");
    // Unknown accounts answer exactly like wrong passwords.
    let v = app.post(LOGIN, json!({ "u": "nobody-here", "p": "x" })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
}

#[tokio::test]
async fn forged_and_broken_tokens_are_401() {
    let app = spawn_app().await;
    set_password(&app, "ck-admin", "admin-password-123").await;
    let v = app.post(LOGIN, json!({ "u": "ck-admin", "p": "admin-password-123" })).await;
    let good = v["data"]["login"]["accessToken"].as_str().unwrap().to_string();
    let parts: Vec<&str> = good.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    payload["org"] = json!(99);
    let altered = format!("{}.{}.{}", parts[0], B64.encode(payload.to_string()), parts[2]);
    let none = format!("{}.{}.", B64.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    for bad in [altered, none, "garbage".to_string(), format!("{}.{}.AAAA", parts[0], parts[1])] {
        let (status, v) = with_token(&app, &bad, "{ __typename }").await;
        assert_eq!(status, 401, "{bad}: {v}");
        assert_eq!(code(&v), "UNAUTHENTICATED");
    }
    // A deactivated user's token stops working at once.
    let user =
        app_user::Entity::find().filter(app_user::Column::Username.eq("ck-admin")).one(&app.db).await.unwrap().unwrap();
    let mut active: app_user::ActiveModel = user.into();
    active.active = sea_orm::Set(false);
    sea_orm::ActiveModelTrait::update(active, &app.db).await.unwrap();
    let refused = crate::helpers::within_pulse(|| async { with_token(&app, &good, "{ __typename }").await.0 == 401 });
    assert!(refused.await);
}

async fn login_as(app: &TestApp, username: &str) -> String {
    set_password(app, username, "a-long-test-password").await;
    let v = app.post(LOGIN, json!({ "u": username, "p": "a-long-test-password" })).await;
    v["data"]["login"]["accessToken"].as_str().unwrap().to_string()
}

async fn as_user(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

#[tokio::test]
async fn service_credentials_created_once_exchanged_and_revoked() {
    let app = spawn_app().await;
    let admin = login_as(&app, "xc-admin").await;
    let create = "mutation { createServiceCredential(name: \"月讲评系统\", scope: \"results:read_published\") { credential { id name } secret } }";
    let v = as_user(&app, &admin, create, json!({})).await;
    let id = v["data"]["createServiceCredential"]["credential"]["id"].as_str().unwrap().to_string();
    let secret = v["data"]["createServiceCredential"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("khs_"));

    let exchange = "mutation($s: String!) { serviceToken(secret: $s) { accessToken expiresIn } }";
    let v = app.post(exchange, json!({ "s": secret })).await;
    let token = v["data"]["serviceToken"]["accessToken"].as_str().unwrap().to_string();
    let (status, _) = with_token(&app, &token, "{ __typename }").await;
    assert_eq!(status, 200);

    // Only admins create; another organisation's admin cannot revoke it.
    let head = login_as(&app, "xc-mishuke").await;
    assert_eq!(code(&as_user(&app, &head, create, json!({})).await), "FORBIDDEN");
    assert_eq!(code(&app.post(create, json!({})).await), "UNAUTHENTICATED");
    let other = login_as(&app, "ck-admin").await;
    let revoke = "mutation($id: ID!) { revokeServiceCredential(id: $id) }";
    assert_eq!(code(&as_user(&app, &other, revoke, json!({ "id": id })).await), "NOT_FOUND");

    // Revoked: no new tokens, and the issued one stops at once.
    let v = as_user(&app, &admin, revoke, json!({ "id": id })).await;
    assert_eq!(v["data"]["revokeServiceCredential"], true, "{v}");
    assert_eq!(code(&app.post(exchange, json!({ "s": secret })).await), "UNAUTHENTICATED");
    let (status, _) = with_token(&app, &token, "{ __typename }").await;
    assert_eq!(status, 401);
    assert_eq!(code(&app.post(exchange, json!({ "s": "khs_guess" })).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn my_permissions_follow_the_policy() {
    let app = spawn_app().await;
    let ck = app.version_id("chengkou").await.unwrap();
    let q = "query($v: ID!) { rubricVersion(id: $v) { myPermissions { canOpenRuns canPublish canEditRubrics canAdministerUnits canUploadEvidence indicators { code record submit approveClaim } } } }";
    let perms = |v: &Value| v["data"]["rubricVersion"]["myPermissions"].clone();
    let may = |p: &Value, code: &str| {
        let i = p["indicators"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone();
        (i["record"].as_bool().unwrap(), i["submit"].as_bool().unwrap())
    };
    // 秘书科 scores 党建 (1), nothing else; cannot publish.
    let t = login_as(&app, "ck-mishuke").await;
    let p = perms(&as_user(&app, &t, q, json!({ "v": ck })).await);
    assert_eq!(may(&p, "1"), (true, true));
    assert_eq!(may(&p, "2.1.1"), (false, false));
    assert_eq!(may(&p, "6.2.1"), (false, false));
    assert_eq!(p["canPublish"], false);
    let admin_flags =
        |p: &Value| [&p["canEditRubrics"], &p["canAdministerUnits"], &p["canUploadEvidence"]].map(|v| v.as_bool());
    assert_eq!(admin_flags(&p), [Some(false), Some(false), Some(true)], "a department uploads, nothing more");
    // 办公室 scores 数字重庆 (6.2 and its children), not the rest of 行政管理.
    let t = login_as(&app, "ck-bangongshi").await;
    let p = perms(&as_user(&app, &t, q, json!({ "v": ck })).await);
    assert_eq!(may(&p, "6.2.1"), (true, true));
    assert_eq!(may(&p, "6.2.2"), (true, true));
    assert_eq!(may(&p, "6.1"), (false, false));
    // The admin may do everything in its organisation …
    let t = login_as(&app, "ck-admin").await;
    let p = perms(&as_user(&app, &t, q, json!({ "v": ck })).await);
    assert_eq!((p["canPublish"].as_bool(), p["canOpenRuns"].as_bool()), (Some(true), Some(true)));
    assert_eq!(admin_flags(&p), [Some(true); 3]);
    assert!(p["indicators"].as_array().unwrap().iter().all(|i| i["record"] == true));
    // … and nothing in another; anonymous callers nothing at all.
    let t = login_as(&app, "xc-admin").await;
    let p = perms(&as_user(&app, &t, q, json!({ "v": ck })).await);
    assert_eq!(p["canPublish"], false);
    assert_eq!(admin_flags(&p), [Some(false); 3]);
    assert!(p["indicators"].as_array().unwrap().iter().all(|i| i["record"] == false));
    let p = perms(&app.post(q, json!({ "v": ck })).await);
    assert!(p["indicators"].as_array().unwrap().iter().all(|i| i["record"] == false && i["approveClaim"] == false));
}

#[tokio::test]
async fn a_policy_change_on_one_instance_is_enforced_by_another() {
    let a = spawn_app().await;
    let (url, data) = (a.settings.database_url.clone(), a.settings.data_dir.clone());
    // A second server on the same database (and the same generated JWT secret),
    // asking for the stored policy's version on every request.
    let b = crate::helpers::spawn_app_with(move |s| {
        s.database_url = url;
        s.data_dir = data;
        s.auth.policy_recheck = std::time::Duration::ZERO;
    })
    .await;
    let ck = a.version_id("chengkou").await.unwrap();
    let head = login_as(&a, "ck-mishuke").await;
    let admin = login_as(&a, "ck-admin").await;
    let q = "query($v: ID!) { rubricVersion(id: $v) { myPermissions { indicators { code record } } } }";
    let record_2 = |v: Value| {
        v["data"]["rubricVersion"]["myPermissions"]["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "2.1.1")
            .map(|i| i["record"].as_bool().unwrap())
    };
    assert_eq!(record_2(as_user(&b, &head, q, json!({ "v": ck })).await), Some(false));
    // On A, the admin assigns 研训一体化 (2) to 秘书科; a department head may not.
    let assign =
        "mutation($v: ID!) { assignIndicator(rubricVersionId: $v, indicatorCode: \"2\", department: \"秘书科\") }";
    assert_eq!(code(&as_user(&a, &head, assign, json!({ "v": ck })).await), "FORBIDDEN");
    let v = as_user(&a, &admin, assign, json!({ "v": ck })).await;
    assert_eq!(v["data"]["assignIndicator"], "p, dept:秘书科, chengkou, chengkou-jxx/2, score", "{v}");
    // B enforces it from its next request (within POLICY_RECHECK_MS in general).
    assert_eq!(record_2(as_user(&b, &head, q, json!({ "v": ck })).await), Some(true), "instance B saw the change");
    // The change is in the audit log; bad input is refused.
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("policy.assign"))
        .all(&a.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    let bad =
        "mutation($v: ID!) { assignIndicator(rubricVersionId: $v, indicatorCode: \"2\", department: \"不存在科\") }";
    assert_eq!(code(&as_user(&a, &admin, bad, json!({ "v": ck })).await), "BAD_USER_INPUT");
    let xc = a.version_id("xuchang").await.unwrap();
    assert_eq!(
        code(&as_user(&a, &admin, assign, json!({ "v": xc })).await),
        "NOT_FOUND",
        "another organisation's version"
    );
}

#[tokio::test]
async fn many_login_attempts_in_one_request_are_refused_whole() {
    let app = spawn_app().await;
    set_password(&app, "xc-xueqian", "the-right-one-123").await;
    let refused = |body: Value| {
        let app = &app;
        async move {
            let res = app.client.post(format!("{}/graphql", app.address)).json(&body).send().await.unwrap();
            let status = res.status().as_u16();
            let v: Value = res.json().await.unwrap();
            (status, code(&v).to_string())
        }
    };
    // A batch of five attempts: not one password is checked.
    let attempt = json!({ "query": LOGIN, "variables": { "u": "xc-xueqian", "p": "wrong" } });
    let batch = Value::Array(vec![attempt; 5]);
    assert_eq!(refused(batch).await, (429, "TOO_MANY_LOGIN_ATTEMPTS".to_string()));
    // Two aliased logins in one operation, and one hidden in a fragment.
    let two = "mutation { a: login(username: \"xc-xueqian\", password: \"x\") { expiresIn } b: login(username: \"xc-xueqian\", password: \"y\") { expiresIn } }";
    assert_eq!(refused(json!({ "query": two })).await, (429, "TOO_MANY_LOGIN_ATTEMPTS".to_string()));
    let frag = "mutation { login(username: \"xc-xueqian\", password: \"x\") { expiresIn } ...L } fragment L on Mutation { b: login(username: \"xc-xueqian\", password: \"y\") { expiresIn } }";
    assert_eq!(refused(json!({ "query": frag })).await, (429, "TOO_MANY_LOGIN_ATTEMPTS".to_string()));
    // Nothing was counted against the account: the right password still works.
    let v = app.post(LOGIN, json!({ "u": "xc-xueqian", "p": "the-right-one-123" })).await;
    assert!(v["data"]["login"]["accessToken"].is_string(), "{v}");
}
