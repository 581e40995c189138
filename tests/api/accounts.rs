//! Accounts (issue 15) over HTTP: the admin creates users who must change
//! their one-time password first; who may administer and see accounts; a
//! reset or a deactivation ends every session at once; a department head
//! moved to another department scores the new one's sections from the next
//! request; departments; `myPermissions`; unit sheets (CSV) previewed and
//! applied.

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, expect_code, gid, nodes, spawn_app_as};

const CREATE: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { oneTimePassword user { id username displayName role active mustChangePassword version department { name } unit { code } } } }";
const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken mustChangePassword } }";
const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { id mustChangePassword version } }";
const UPDATE: &str = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { id version role department { name } } }";
const RESET: &str = "mutation($id: ID!, $v: Int!) { resetPassword(id: $id, expectedVersion: $v) { oneTimePassword user { version mustChangePassword } } }";
const DEACTIVATE: &str = "mutation($id: ID!, $v: Int!) { deactivateUser(id: $id, reason: \"离职\", expectedVersion: $v) { id active version } }";
const REACTIVATE: &str =
    "mutation($id: ID!, $v: Int!) { reactivateUser(id: $id, expectedVersion: $v) { id active version } }";

/// The id of a department of an organisation, by name.
pub async fn department_id(app: &TestApp, org: &str, name: &str) -> String {
    let data = app
        .query_with(
            "query($o: String!) { organisation(code: $o) { departments(first: 100) { edges { node { id name } } } } }",
            json!({ "o": org }),
        )
        .await;
    nodes(&data["organisation"]["departments"]).into_iter().find(|d| d["name"] == name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The id of a unit of an organisation, by code.
async fn unit_id(app: &TestApp, org: &str, unit: &str) -> String {
    let data = app
        .query_with(
            "query($o: String!, $s: String!) { organisation(code: $o) { units(first: 10, search: $s) { edges { node { id code } } } } }",
            json!({ "o": org, "s": unit }),
        )
        .await;
    nodes(&data["organisation"]["units"]).into_iter().find(|u| u["code"] == unit).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Sends a document with a given token (or none).
async fn as_token(app: &TestApp, token: Option<&str>, doc: &str, vars: Value) -> (u16, Value) {
    let mut req = app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": doc, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Signs in; answers (access token, mustChangePassword).
async fn login(app: &TestApp, username: &str, password: &str) -> (String, bool) {
    let (_, v) = as_token(app, None, LOGIN, json!({ "u": username, "p": password })).await;
    let l = &v["data"]["login"];
    (
        l["accessToken"].as_str().unwrap_or_else(|| panic!("login {username}: {v}")).to_string(),
        l["mustChangePassword"] == true,
    )
}

/// Creates a user as the signed-in admin; answers (id, one-time password).
async fn create_user(app: &TestApp, input: Value) -> (String, String) {
    let v = app.query_with(CREATE, json!({ "i": input })).await;
    let c = &v["createUser"];
    (c["user"]["id"].as_str().unwrap().to_string(), c["oneTimePassword"].as_str().unwrap_or_default().to_string())
}

/// A new user signs in with its one-time password and picks its own; answers its token.
async fn first_sign_in(app: &TestApp, username: &str, one_time: &str, own: &str) -> String {
    let (token, must) = login(app, username, one_time).await;
    assert!(must, "a one-time password must be changed");
    let (_, v) = as_token(app, Some(&token), CHANGE, json!({ "c": one_time, "n": own })).await;
    assert_eq!(v["data"]["changePassword"]["mustChangePassword"], false, "{v}");
    token
}

/// An open 城口 run on 城口县教师进修学校 (2027), opened by the signed-in admin.
pub(crate) async fn open_ck_run(app: &TestApp) -> (String, String) {
    let version = app.version_id("chengkou").await.unwrap();
    let jxx = unit_id(app, "chengkou", "ck-jxx").await;
    let open = json!({ "i": { "rubricVersionId": version, "period": "2027", "unitIds": [jxx], "title": "2027年度" } });
    let run = app.query_with("mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }", open).await;
    (run["openScoreRun"]["id"].as_str().unwrap().to_string(), jxx)
}

const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";

fn record(run: &str, unit: &str, rule: &str) -> Value {
    let facts = if rule == "1-1" { json!({ "points": "18" }) } else { json!({ "count": 1 }) };
    json!({ "i": { "runId": run, "unitId": unit, "ruleCode": rule, "facts": facts } })
}

#[tokio::test]
async fn a_new_user_must_change_its_one_time_password_before_anything_else() {
    let app = spawn_app_as("ck-admin").await;
    let mishuke = department_id(&app, "chengkou", "秘书科").await;
    let v = app
        .query_with(
            CREATE,
            json!({ "i": { "username": " ｃｋ－ｚｈａｎｇｓａｎ ", "displayName": "张三", "role": "DEPARTMENT_HEAD", "departmentId": mishuke } }),
        )
        .await;
    let created = &v["createUser"];
    assert_eq!(created["user"]["username"], "ck-zhangsan", "NFKC-normalised and trimmed");
    assert_eq!(created["user"]["role"], "DEPARTMENT_HEAD");
    assert_eq!(created["user"]["department"]["name"], "秘书科");
    assert_eq!(created["user"]["mustChangePassword"], true);
    let one_time = created["oneTimePassword"].as_str().unwrap().to_string();
    assert!(one_time.chars().count() >= 12, "{one_time}");
    // The one-time password is never stored or logged as such.
    let audit = app.query("{ auditLog(first: 5) { edges { node { action after } } } }").await;
    assert!(!audit.to_string().contains(&one_time));
    assert!(!audit.to_string().contains("argon2"));

    // Signing in works, and says the password must change.
    let (token, must) = login(&app, "ｃｋ－ｚｈａｎｇｓａｎ", &one_time).await;
    assert!(must, "full-width forms sign in as the same account");
    let t = Some(token.as_str());
    // Everything else is FORBIDDEN until then, queries and mutations alike …
    for doc in ["{ organisations(first: 1) { totalCount } }", "{ users(first: 5) { totalCount } }"] {
        let (_, v) = as_token(&app, t, doc, json!({})).await;
        assert_eq!(code(&v), "FORBIDDEN", "{doc}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["reason"], "PASSWORD_CHANGE_REQUIRED");
    }
    let (_, v) = as_token(&app, t, "mutation { createDepartment(name: \"x\") { id } }", json!({})).await;
    assert_eq!(code(&v), "FORBIDDEN");
    // … and the REST routes too.
    let res = app
        .client
        .get(format!("{}/runs/{}/export.csv", app.address, gid("ScoreRun", 1)))
        .bearer_auth(&token)
        .send()
        .await;
    assert_eq!(res.unwrap().status().as_u16(), 403);
    // `me` answers.
    let (_, v) = as_token(&app, t, "{ me { username mustChangePassword } }", json!({})).await;
    assert_eq!(v["data"]["me"], json!({ "username": "ck-zhangsan", "mustChangePassword": true }));
    // The policy: long enough, not common, not the username; the current password right.
    for (current, new, why) in [
        (one_time.as_str(), "short-pw", "at least 12"),
        (one_time.as_str(), "Unbelievable", "most common"),
        (one_time.as_str(), "ck-zhangsan", "at least 12"),
        (one_time.as_str(), one_time.as_str(), "differ"),
        ("wrong-current-password", "a-good-new-passphrase", "current password is wrong"),
    ] {
        let (_, v) = as_token(&app, t, CHANGE, json!({ "c": current, "n": new })).await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{new}: {v}");
        assert!(v["errors"][0]["message"].as_str().unwrap().contains(why), "{v}");
    }
    let (_, v) = as_token(&app, t, CHANGE, json!({ "c": one_time, "n": "党建工作考核二〇二六年度" })).await;
    assert_eq!(v["data"]["changePassword"]["mustChangePassword"], false, "{v}");
    // The same token now reads everything a head reads.
    let (_, v) = as_token(&app, t, "{ organisations(first: 1) { totalCount } }", json!({})).await;
    assert!(v.get("errors").is_none(), "{v}");
    // The old password no longer signs in; the new one does, without the flag.
    let (_, v) = as_token(&app, None, LOGIN, json!({ "u": "ck-zhangsan", "p": one_time })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    let (_, must) = login(&app, "ck-zhangsan", "党建工作考核二〇二六年度").await;
    assert!(!must);

    // A username taken is CONFLICT; a given initial password must meet the policy.
    let dup = json!({ "i": { "username": "ck-zhangsan", "displayName": "重名", "role": "DEPARTMENT_HEAD", "departmentId": mishuke } });
    expect_code(&app, CREATE, dup, "CONFLICT").await;
    let weak = json!({ "i": { "username": "ck-lisi", "displayName": "李四", "role": "ADMIN", "initialPassword": "qwertyuiop" } });
    expect_code(&app, CREATE, weak, "BAD_USER_INPUT").await;
    let given = json!({ "i": { "username": "ck-lisi", "displayName": "李四", "role": "ADMIN", "initialPassword": "chosen by the admin 2026" } });
    let v = app.query_with(CREATE, given).await;
    assert_eq!(v["createUser"]["oneTimePassword"], Value::Null);
    assert!(login(&app, "ck-lisi", "chosen by the admin 2026").await.1, "still changed at first sign-in");
    // Placement: a head needs a department, a unit user a unit of the organisation.
    let no_dept = json!({ "i": { "username": "ck-wangwu", "displayName": "王五", "role": "DEPARTMENT_HEAD" } });
    expect_code(&app, CREATE, no_dept, "BAD_USER_INPUT").await;
    app.sign_in("xc-admin").await;
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    app.sign_in("ck-admin").await;
    let foreign = json!({ "i": { "username": "ck-wangwu", "displayName": "王五", "role": "UNIT", "unitId": weidu } });
    let v = expect_code(&app, CREATE, foreign, "BAD_USER_INPUT").await;
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("does not exist"), "{v}");
}

#[tokio::test]
async fn who_may_administer_and_see_accounts() {
    let app = spawn_app_as("ck-admin").await;
    let mishuke = department_id(&app, "chengkou", "秘书科").await;
    let jxx = unit_id(&app, "chengkou", "ck-jxx").await;
    let (head, _) = create_user(
        &app,
        json!({ "username": "ck-head2", "displayName": "秘书科二", "role": "DEPARTMENT_HEAD", "departmentId": mishuke }),
    )
    .await;
    let (unit_user, _) =
        create_user(&app, json!({ "username": "ck-jxx2", "displayName": "进修校二", "role": "UNIT", "unitId": jxx }))
            .await;
    let list = "query($r: UserRole) { users(first: 100, role: $r) { totalCount edges { node { username role } } } }";
    let names = |v: &Value| -> Vec<String> {
        nodes(&v["users"]).iter().map(|n| n["username"].as_str().unwrap().to_string()).collect()
    };
    // The admin: every account of 城口, none of 许昌.
    let all = names(&app.query_with(list, json!({})).await);
    assert!(all.contains(&"ck-jxx2".to_string()) && all.contains(&"ck-admin".to_string()));
    assert!(all.iter().all(|n| n.starts_with("ck-")), "{all:?}");
    let heads = names(&app.query_with(list, json!({ "r": "DEPARTMENT_HEAD" })).await);
    assert_eq!(heads, ["ck-mishuke", "ck-bangongshi", "ck-dianjiao", "ck-head2"]);
    let search = app.query("{ users(first: 5, search: \"jxx\") { edges { node { username } } } }").await;
    assert_eq!(names(&search), ["ck-jxx", "ck-jxx2"]);
    // A department head: the heads of its organisation; a unit user: itself.
    app.sign_in("ck-mishuke").await;
    let seen = names(&app.query_with(list, json!({})).await);
    assert_eq!(seen, ["ck-mishuke", "ck-bangongshi", "ck-dianjiao", "ck-head2"]);
    app.query_with("query($id: ID!) { user(id: $id) { username } }", json!({ "id": head })).await;
    expect_code(&app, "query($id: ID!) { user(id: $id) { username } }", json!({ "id": unit_user }), "NOT_FOUND").await;
    // It sees a peer, so changing it is FORBIDDEN; one it cannot see is NOT_FOUND.
    expect_code(&app, RESET, json!({ "id": head, "v": 1 }), "FORBIDDEN").await;
    expect_code(&app, RESET, json!({ "id": unit_user, "v": 1 }), "NOT_FOUND").await;
    let mk = json!({ "i": { "username": "ck-x", "displayName": "x", "role": "ADMIN" } });
    expect_code(&app, CREATE, mk.clone(), "FORBIDDEN").await;
    app.sign_in("ck-jxx").await;
    assert_eq!(names(&app.query_with(list, json!({})).await), ["ck-jxx"]);
    expect_code(&app, CREATE, mk.clone(), "FORBIDDEN").await;
    app.sign_in("xc-yuejiangping").await;
    assert_eq!(names(&app.query_with(list, json!({})).await), ["xc-yuejiangping"]);
    // Another organisation's admin: NOT_FOUND for every account of 城口.
    app.sign_in("xc-admin").await;
    for id in [&head, &unit_user] {
        expect_code(&app, "query($id: ID!) { user(id: $id) { id } }", json!({ "id": id }), "NOT_FOUND").await;
        expect_code(&app, RESET, json!({ "id": id, "v": 1 }), "NOT_FOUND").await;
        expect_code(&app, DEACTIVATE, json!({ "id": id, "v": 1 }), "NOT_FOUND").await;
        let up = json!({ "i": { "id": id, "expectedVersion": 1, "displayName": "改" } });
        expect_code(&app, UPDATE, up, "NOT_FOUND").await;
    }
    // Anonymous callers: UNAUTHENTICATED before anything is looked up.
    *app.token.lock().unwrap() = None;
    expect_code(&app, RESET, json!({ "id": head, "v": 1 }), "UNAUTHENTICATED").await;
    expect_code(&app, list, json!({}), "UNAUTHENTICATED").await;
    // The admin may not lock itself out.
    app.sign_in("ck-admin").await;
    let me = app.query("{ me { id version } }").await["me"].clone();
    expect_code(&app, DEACTIVATE, json!({ "id": me["id"], "v": me["version"] }), "BAD_USER_INPUT").await;
    let demote = json!({ "i": { "id": me["id"], "expectedVersion": me["version"], "role": "INTEGRATION", "departmentId": null } });
    expect_code(&app, UPDATE, demote, "BAD_USER_INPUT").await;
    // A stale version is CONFLICT.
    let rename = json!({ "i": { "id": head, "expectedVersion": 1, "displayName": "秘书科负责人" } });
    assert_eq!(app.query_with(UPDATE, rename.clone()).await["updateUser"]["version"], 2);
    expect_code(&app, UPDATE, rename, "CONFLICT").await;
}

#[tokio::test]
async fn a_reset_or_a_deactivation_ends_every_session_at_once() {
    let app = spawn_app_as("ck-admin").await;
    let jxx = unit_id(&app, "chengkou", "ck-jxx").await;
    let (id, one_time) =
        create_user(&app, json!({ "username": "ck-jxx3", "displayName": "进修校三", "role": "UNIT", "unitId": jxx }))
            .await;
    let token = first_sign_in(&app, "ck-jxx3", &one_time, "进修学校的账号密码2026").await;
    let (laptop, _) = login(&app, "ck-jxx3", "进修学校的账号密码2026").await;
    let probe = "{ me { username } }";
    for t in [&token, &laptop] {
        assert_eq!(as_token(&app, Some(t), probe, json!({})).await.0, 200);
    }
    let v = app.query_with(RESET, json!({ "id": id, "v": 2 })).await;
    assert_eq!(v["resetPassword"]["user"]["mustChangePassword"], true);
    let new_one = v["resetPassword"]["oneTimePassword"].as_str().unwrap().to_string();
    for t in [&token, &laptop] {
        let (status, v) = as_token(&app, Some(t), probe, json!({})).await;
        assert_eq!((status, code(&v)), (401, "UNAUTHENTICATED"), "{v}");
    }
    // The old password is gone; the new one-time one must be changed again.
    let (_, v) = as_token(&app, None, LOGIN, json!({ "u": "ck-jxx3", "p": "进修学校的账号密码2026" })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    let token = first_sign_in(&app, "ck-jxx3", &new_one, "又一个足够长的密码abc").await;
    // Deactivation: the session ends at once, and sign-in is refused.
    let user = app.query_with("query($id: ID!) { user(id: $id) { version } }", json!({ "id": id })).await;
    let v = app.query_with(DEACTIVATE, json!({ "id": id, "v": user["user"]["version"] })).await;
    assert_eq!(v["deactivateUser"]["active"], false);
    let (status, _) = as_token(&app, Some(&token), probe, json!({})).await;
    assert_eq!(status, 401);
    let (_, v) = as_token(&app, None, LOGIN, json!({ "u": "ck-jxx3", "p": "又一个足够长的密码abc" })).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    expect_code(&app, DEACTIVATE, json!({ "id": id, "v": v_of(&app, &id).await }), "CONFLICT").await;
    let v = app.query_with(REACTIVATE, json!({ "id": id, "v": v_of(&app, &id).await })).await;
    assert_eq!(v["reactivateUser"]["active"], true);
    login(&app, "ck-jxx3", "又一个足够长的密码abc").await;
    // Both are in the audit log, without any password.
    let log = app.query("{ auditLog(first: 20) { edges { node { action after } } } }").await;
    let actions: Vec<&str> = nodes(&log["auditLog"]).iter().map(|n| n["action"].as_str().unwrap()).collect();
    for a in ["user.create", "user.change_password", "user.reset_password", "user.deactivate", "user.reactivate"] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    assert!(!log.to_string().contains(&new_one));
}

async fn v_of(app: &TestApp, id: &str) -> Value {
    app.query_with("query($id: ID!) { user(id: $id) { version } }", json!({ "id": id })).await["user"]["version"]
        .clone()
}

#[tokio::test]
async fn a_department_head_moved_to_another_department_scores_its_sections_from_the_next_request() {
    let app = spawn_app_as("ck-admin").await;
    let (run, jxx) = open_ck_run(&app).await;
    let mishuke = department_id(&app, "chengkou", "秘书科").await;
    let duban = department_id(&app, "chengkou", "督导室(考核办)").await;
    let (id, one_time) = create_user(
        &app,
        json!({ "username": "ck-mover", "displayName": "调岗", "role": "DEPARTMENT_HEAD", "departmentId": mishuke }),
    )
    .await;
    let token = first_sign_in(&app, "ck-mover", &one_time, "调岗之前的密码2026年").await;
    let t = Some(token.as_str());
    // 秘书科 scores 党建 (1), not 研训一体化 (2, the assessment office's).
    let (_, v) = as_token(&app, t, RECORD, record(&run, &jxx, "1-1")).await;
    assert!(v.get("errors").is_none(), "{v}");
    let (_, v) = as_token(&app, t, RECORD, record(&run, &jxx, "2.1.1-1")).await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    // Moved to 督导室(考核办): the same token, the next request.
    let moved = json!({ "i": { "id": id, "expectedVersion": 2, "departmentId": duban } });
    assert_eq!(app.query_with(UPDATE, moved).await["updateUser"]["department"]["name"], "督导室(考核办)");
    let (_, v) = as_token(&app, t, RECORD, record(&run, &jxx, "1-1")).await;
    assert_eq!(code(&v), "FORBIDDEN", "the old section is gone: {v}");
    let (_, v) = as_token(&app, t, RECORD, record(&run, &jxx, "2.1.1-1")).await;
    assert!(v.get("errors").is_none(), "the new section is there: {v}");
    // Its permissions say so too.
    let (_, v) =
        as_token(&app, t, "{ myPermissions { canAdministerUsers canSeeUsers canUploadEvidence } }", json!({})).await;
    assert_eq!(
        v["data"]["myPermissions"],
        json!({ "canAdministerUsers": false, "canSeeUsers": true, "canUploadEvidence": true })
    );
}

#[tokio::test]
async fn departments_are_created_renamed_and_deactivated_by_the_admin_only() {
    let app = spawn_app_as("ck-admin").await;
    let (run, jxx) = open_ck_run(&app).await;
    let create = "mutation($n: String!) { createDepartment(name: $n) { id name active version } }";
    let d = app.query_with(create, json!({ "n": "教研室" })).await["createDepartment"].clone();
    assert_eq!((d["active"].clone(), d["version"].clone()), (json!(true), json!(1)));
    expect_code(&app, create, json!({ "n": "教研室" }), "CONFLICT").await;
    expect_code(&app, create, json!({ "n": "a, b" }), "BAD_USER_INPUT").await;
    // Renaming 秘书科 keeps its sections with it (the policy lines follow).
    let mishuke = department_id(&app, "chengkou", "秘书科").await;
    let rename = "mutation($id: ID!, $n: String!, $v: Int!) { renameDepartment(id: $id, name: $n, expectedVersion: $v) { name version } }";
    let r = app.query_with(rename, json!({ "id": mishuke, "n": "党建办", "v": 1 })).await;
    assert_eq!(r["renameDepartment"], json!({ "name": "党建办", "version": 2 }));
    expect_code(&app, rename, json!({ "id": mishuke, "n": "又改", "v": 1 }), "CONFLICT").await;
    app.sign_in("ck-mishuke").await;
    app.query_with(RECORD, record(&run, &jxx, "1-1")).await;
    // Heads, units and another organisation may not.
    expect_code(&app, create, json!({ "n": "新科" }), "FORBIDDEN").await;
    expect_code(&app, rename, json!({ "id": mishuke, "n": "x", "v": 2 }), "FORBIDDEN").await;
    app.sign_in("xc-admin").await;
    expect_code(&app, rename, json!({ "id": mishuke, "n": "x", "v": 2 }), "NOT_FOUND").await;
    // A department with active members cannot be deactivated; an empty one can.
    app.sign_in("ck-admin").await;
    let deactivate =
        "mutation($id: ID!, $v: Int!) { deactivateDepartment(id: $id, expectedVersion: $v) { active version } }";
    expect_code(&app, deactivate, json!({ "id": mishuke, "v": 2 }), "CONFLICT").await;
    let v = app.query_with(deactivate, json!({ "id": d["id"], "v": 1 })).await;
    assert_eq!(v["deactivateDepartment"], json!({ "active": false, "version": 2 }));
    // Nobody new goes into it.
    let head = json!({ "i": { "username": "ck-jys", "displayName": "教研", "role": "DEPARTMENT_HEAD", "departmentId": d["id"] } });
    expect_code(&app, CREATE, head, "BAD_USER_INPUT").await;
    let perms = app.query("{ myPermissions { canAdministerUsers canAdministerDepartments canAdministerUnits canAdministerOrganisation } }").await;
    assert!(perms["myPermissions"].as_object().unwrap().values().all(|v| v == true), "{perms}");
}

const PREVIEW: &str = "mutation($f: Upload!) { previewUnitImport(file: $f) { id sha256 added changed unchanged rows { row code action changes } errors { row column message } } }";
const APPLY: &str = "mutation($p: ID, $f: Upload, $s: String!) { applyUnitImport(previewId: $p, file: $f, sha256: $s) { added changed unchanged units { code name parent { code } } } }";

/// Sends a multipart request with one file at `variables.f`.
pub async fn with_file(app: &TestApp, doc: &str, vars: Value, name: &str, bytes: Vec<u8>) -> Value {
    use reqwest::multipart::{Form, Part};
    let ops = json!({ "query": doc, "variables": vars });
    let form = Form::new()
        .text("operations", ops.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", Part::bytes(bytes).file_name(name.to_string()));
    let mut req = app.client.post(format!("{}/graphql", app.address)).multipart(form);
    if let Some(t) = app.token.lock().unwrap().clone() {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_unit_sheet_is_previewed_with_its_errors_then_applied_once() {
    let app = spawn_app_as("ck-admin").await;
    let bad = "code,name,kind,parent code\nck-a1,甲校,school,ck-nowhere\nck a2,乙校,school,\nck-jxx,城口县教师进修学校,county,\n";
    let v = with_file(&app, PREVIEW, json!({ "f": null }), "units.csv", bad.as_bytes().to_vec()).await;
    let p = &v["data"]["previewUnitImport"];
    let errors: Vec<(i64, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(2, "parent code"), (3, "code"), (4, "kind")], "{v}");
    let apply = json!({ "p": p["id"], "s": p["sha256"] });
    let v = app.post(APPLY, apply).await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "a sheet with errors changes nothing: {v}");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("row 2, column parent code"), "{v}");

    let good = "\u{feff}单位代码,单位名称,单位类型,上级单位代码\nck-b2,乙小学,school,ck-b1\nck-b1,甲中学,school,\nck-jxx,城口县教师进修学校(新),teacher_training_school,\n";
    let bytes = good.as_bytes().to_vec();
    let v = with_file(&app, PREVIEW, json!({ "f": null }), "units.csv", bytes.clone()).await;
    let p = v["data"]["previewUnitImport"].clone();
    assert_eq!(
        (p["added"].clone(), p["changed"].clone(), p["unchanged"].clone()),
        (json!(2), json!(1), json!(0)),
        "{v}"
    );
    assert_eq!(p["rows"][2]["changes"][0], "name: 城口县教师进修学校 → 城口县教师进修学校(新)");
    // A sha256 that is not the preview's is refused.
    let wrong = json!({ "p": p["id"], "s": "0".repeat(64) });
    expect_code(&app, APPLY, wrong, "BAD_USER_INPUT").await;
    let v = app.query_with(APPLY, json!({ "p": p["id"], "s": p["sha256"] })).await;
    let a = &v["applyUnitImport"];
    assert_eq!((a["added"].clone(), a["changed"].clone()), (json!(2), json!(1)));
    assert_eq!(a["units"][0], json!({ "code": "ck-b2", "name": "乙小学", "parent": { "code": "ck-b1" } }));
    // The same file again (sent as a file, with its sha256): nothing changes.
    let v = with_file(&app, APPLY, json!({ "f": null, "s": p["sha256"] }), "units.csv", bytes).await;
    assert_eq!(v["data"]["applyUnitImport"]["added"], 0, "{v}");
    assert_eq!(v["data"]["applyUnitImport"]["changed"], 0);
    assert_eq!(v["data"]["applyUnitImport"]["unchanged"], 3);
    // Each unit added has its history, like createUnit.
    let jxx = unit_id(&app, "chengkou", "ck-jxx").await;
    let h = app
        .query_with(
            "query($id: ID!) { unit(id: $id) { version history(first: 5) { edges { node { change reason } } } } }",
            json!({ "id": jxx }),
        )
        .await;
    assert_eq!(h["unit"]["version"], 2);
    assert_eq!(nodes(&h["unit"]["history"]).last().unwrap()["change"], "RENAMED");
    // Only the admin imports; another organisation's preview id is NOT_FOUND.
    app.sign_in("ck-mishuke").await;
    let v = with_file(&app, PREVIEW, json!({ "f": null }), "units.csv", good.as_bytes().to_vec()).await;
    assert_eq!(code(&v), "FORBIDDEN");
    app.sign_in("xc-admin").await;
    expect_code(&app, APPLY, json!({ "p": p["id"], "s": p["sha256"] }), "NOT_FOUND").await;
}

#[tokio::test]
async fn every_account_and_department_mutation_is_the_admins_alone() {
    let app = spawn_app_as("ck-admin").await;
    let mishuke = department_id(&app, "chengkou", "秘书科").await;
    let users = app.query("{ users(first: 100) { edges { node { id username version } } } }").await;
    let user = |name: &str| nodes(&users["users"]).into_iter().find(|u| u["username"] == name).unwrap().clone();
    // 城口's integration, as a service credential.
    let secret = app
        .query(r#"mutation { createServiceCredential(name: "看板", scope: "results:read_published") { secret } }"#)
        .await["createServiceCredential"]["secret"]
        .clone();
    let exchange = "mutation($s: String!) { serviceToken(secret: $s) { accessToken } }";
    let service = app.post(exchange, json!({ "s": secret })).await["data"]["serviceToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    // Each caller, on an account it can see (itself, or a peer head), and on departments.
    let mut callers = Vec::new();
    for name in ["ck-mishuke", "ck-jxx"] {
        app.sign_in(name).await;
        callers.push((name, app.token.lock().unwrap().clone().unwrap()));
    }
    callers.push(("ck-integration", service));
    let head = user("ck-bangongshi");
    let own = |name: &str| if name == "ck-jxx" { user("ck-jxx") } else { head.clone() };
    for (name, token) in &callers {
        let target = own(name);
        let (id, v) = (target["id"].clone(), target["version"].clone());
        let cases = [
            (CREATE, json!({ "i": { "username": "ck-new", "displayName": "新", "role": "ADMIN" } })),
            (UPDATE, json!({ "i": { "id": id, "expectedVersion": v, "displayName": "改" } })),
            (RESET, json!({ "id": id, "v": v })),
            (DEACTIVATE, json!({ "id": id, "v": v })),
            (REACTIVATE, json!({ "id": id, "v": v })),
            ("mutation { createDepartment(name: \"新科\") { id } }", json!({})),
            (
                "mutation($id: ID!) { renameDepartment(id: $id, name: \"新名\", expectedVersion: 1) { id } }",
                json!({ "id": mishuke }),
            ),
            (
                "mutation($id: ID!) { deactivateDepartment(id: $id, expectedVersion: 1) { id } }",
                json!({ "id": mishuke }),
            ),
            (
                "mutation($id: ID!) { reactivateDepartment(id: $id, expectedVersion: 1) { id } }",
                json!({ "id": mishuke }),
            ),
        ];
        for (doc, vars) in cases {
            let (_, body) = as_token(&app, Some(token), doc, vars).await;
            // A service credential sees no account at all: those are NOT_FOUND to it.
            let expected = if *name == "ck-integration" && [UPDATE, RESET, DEACTIVATE, REACTIVATE].contains(&doc) {
                "NOT_FOUND"
            } else {
                "FORBIDDEN"
            };
            assert_eq!(code(&body), expected, "{name}: {doc}: {body}");
        }
        let (_, body) = as_token(&app, Some(token), CHANGE, json!({ "c": "x", "n": "y" })).await;
        let expected = if *name == "ck-integration" { "FORBIDDEN" } else { "BAD_USER_INPUT" };
        assert_eq!(code(&body), expected, "{name}: changePassword: {body}");
        let (_, body) = as_token(
            &app,
            Some(token),
            "{ myPermissions { canAdministerUsers canAdministerDepartments canAdministerUnits } }",
            json!({}),
        )
        .await;
        assert!(body["data"]["myPermissions"].as_object().unwrap().values().all(|v| v == false), "{name}: {body}");
    }
}
