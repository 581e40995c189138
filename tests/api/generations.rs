//! Per-organisation data generations and write turns (issue 18): one
//! bureau's writes of its own data (observations, runs …) leave every other
//! bureau's cached answers in place, while a write of data every bureau may
//! read (a unit) reaches all of them at once, on every instance; on
//! PostgreSQL writers of different organisations do not wait for each other,
//! and a shared write waits for every organisation's writers.

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid, spawn_app_as};

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
const CREATE_UNIT: &str = "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }";
/// 城口's own data (its runs) and 许昌's public reference data (its units).
const OWN: &str = "{ scoreRuns(organisationCode: \"chengkou\", first: 20) { totalCount edges { node { id title } } } }";
const PUBLIC: &str =
    "{ organisation(code: \"xuchang\") { units(first: 100) { totalCount edges { node { code name } } } } }";

/// POSTs with `token` to `address`; the `x-kaohe-cache` header and the body (no errors).
async fn ask(app: &TestApp, address: &str, token: &str, query: &str, vars: Value) -> (String, Value) {
    let res = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let status = res.headers().get("x-kaohe-cache").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body:#}");
    (status, body["data"].clone())
}

/// Asks until the answer is computed again: at once on the instance that
/// wrote; another instance hears of the write through the pulse
/// (`auth::pulse`: PostgreSQL's notification, SQLite's `data_version`
/// watch), within its delay and never later than `pulse::RECHECK`.
async fn recomputed(app: &TestApp, address: &str, token: &str, query: &str) -> (String, Value) {
    let last = std::sync::Mutex::new((String::new(), Value::Null));
    crate::helpers::within_pulse(|| async {
        let answer = ask(app, address, token, query, json!({})).await;
        let done = answer.0 != "hit";
        *last.lock().unwrap() = answer;
        done
    })
    .await;
    last.into_inner().unwrap()
}

fn token(app: &TestApp) -> String {
    app.token.lock().unwrap().clone().unwrap()
}

/// A 2026-07 run of 许昌's rubric over 魏都区, opened by the signed-in 许昌 admin.
async fn open_xuchang_run(app: &TestApp, period: &str) -> (String, String) {
    let units = entity::unit::Entity::find().all(&app.db).await.unwrap();
    let weidu = gid("Unit", units.iter().find(|u| u.code == "xc-weidu").unwrap().id);
    let version = app.version_id("xuchang").await.unwrap();
    let input = json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": [weidu], "title": "代际" } });
    let run = app.query_with(OPEN, input).await["openScoreRun"]["id"].as_str().unwrap().to_string();
    (run, weidu)
}

fn record(run: &str, unit: &str, count: u32) -> Value {
    json!({ "i": { "runId": run, "unitId": unit, "ruleCode": "1.1-1", "facts": { "count": count } } })
}

#[tokio::test]
async fn another_bureaus_own_writes_leave_answers_cached_and_shared_writes_reach_every_instance() {
    let app = spawn_app_as("ck-admin").await;
    let chengkou = token(&app);
    app.sign_in("xc-admin").await;
    let xuchang = token(&app);
    let (run, weidu) = open_xuchang_run(&app, "2026-07").await;
    // A second instance on the same database, as behind a load balancer.
    let other = kaohe_api::Application::build(app.settings.clone()).await.unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    let here = app.address.clone();

    for address in [&here, &other_address] {
        for query in [OWN, PUBLIC] {
            assert_eq!(ask(&app, address, &chengkou, query, json!({})).await.0, "miss");
            assert_eq!(ask(&app, address, &chengkou, query, json!({})).await.0, "hit");
        }
    }
    let xuchang_runs = "{ scoreRuns(organisationCode: \"xuchang\", first: 20) { totalCount } }";
    assert_eq!(ask(&app, &here, &xuchang, xuchang_runs, json!({})).await.0, "miss");

    // 许昌 writes its own data: 城口's answers stay cached on both instances…
    app.query_with(RECORD, record(&run, &weidu, 1)).await;
    open_xuchang_run(&app, "2026-08").await;
    for address in [&here, &other_address] {
        for query in [OWN, PUBLIC] {
            assert_eq!(ask(&app, address, &chengkou, query, json!({})).await.0, "hit", "{query} at {address}");
        }
    }
    // …while 许昌's own answers follow its writes.
    let (status, runs) = ask(&app, &here, &xuchang, xuchang_runs, json!({})).await;
    assert_eq!(status, "miss");

    // 许昌 adds a unit: reference data every bureau reads. 城口's answers
    // are computed again on both instances and show it.
    let before = ask(&app, &here, &chengkou, PUBLIC, json!({})).await.1["organisation"]["units"]["totalCount"].clone();
    let unit = json!({ "i": { "organisationCode": "xuchang", "code": "xc-new", "name": "新单位", "kind": "county" } });
    app.query_with(CREATE_UNIT, unit).await;
    for address in [&here, &other_address] {
        let (status, seen) = recomputed(&app, address, &chengkou, PUBLIC).await;
        assert_eq!(status, "miss", "{address}");
        assert_eq!(seen["organisation"]["units"]["totalCount"], before.as_i64().unwrap() + 1);
        assert_eq!(ask(&app, address, &chengkou, OWN, json!({})).await.0, "miss");
    }
    assert_eq!(runs["scoreRuns"]["totalCount"].as_i64().map(|n| n >= 2), Some(true));
    // Every chain is still whole.
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);
}

#[tokio::test]
async fn on_postgresql_writers_of_different_organisations_do_not_wait_for_each_other() {
    let app = spawn_app_as("ck-admin").await;
    if app.settings.is_sqlite() {
        // SQLite has one writer at a time (BEGIN IMMEDIATE): nothing to show.
        return;
    }
    let chengkou = token(&app);
    app.sign_in("xc-admin").await;
    let (run, weidu) = open_xuchang_run(&app, "2026-07").await;
    let xuchang_id = entity::organisation::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.code == "xuchang")
        .unwrap()
        .id;

    // Someone holds 许昌's write turn.
    let held = kaohe_api::db::begin_organisation_write(&app.db, xuchang_id).await.unwrap();
    // 城口 writes its own data meanwhile: it does not wait (it would wait out
    // the request timeout and fail if the turn were the whole database's).
    let ck_version = app.version_id("chengkou").await.unwrap();
    let units = entity::unit::Entity::find().all(&app.db).await.unwrap();
    let jxx = gid("Unit", units.iter().find(|u| u.code == "ck-jxx").unwrap().id);
    let open = json!({ "i": { "rubricVersionId": ck_version, "period": "2027", "unitIds": [jxx], "title": "并行" } });
    let (_, opened) = ask(&app, &app.address, &chengkou, OPEN, open).await;
    assert!(opened["openScoreRun"]["id"].is_string());
    // Nor to record an observation and withdraw it (a withdrawal took the
    // whole database's turn until 2026-12-03).
    let entry = json!({ "i": { "runId": opened["openScoreRun"]["id"], "unitId": jxx, "ruleCode": "2.1.1-1",
        "facts": { "count": 1 } } });
    let (_, recorded) = ask(&app, &app.address, &chengkou, RECORD, entry).await;
    let withdraw =
        "mutation($id: ID!) { withdrawObservation(id: $id, expectedVersion: 1, reason: \"录错\") { status } }";
    let (_, withdrawn) =
        ask(&app, &app.address, &chengkou, withdraw, json!({ "id": recorded["recordObservation"]["id"] })).await;
    assert_eq!(withdrawn["withdrawObservation"]["status"], "WITHDRAWN");

    // A 许昌 write, and a unit of 城口 (shared: it needs the whole database),
    // both wait for the held turn.
    let xc_write = {
        let req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(token(&app));
        tokio::spawn(req.json(&json!({ "query": RECORD, "variables": record(&run, &weidu, 2) })).send())
    };
    let shared_write = {
        let unit =
            json!({ "i": { "organisationCode": "chengkou", "code": "ck-new", "name": "新单位", "kind": "school" } });
        let req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(&chengkou);
        tokio::spawn(req.json(&json!({ "query": CREATE_UNIT, "variables": unit })).send())
    };
    // Neither has landed while the turn is held (a waiting shared write also
    // goes before any organisation's later writers: none starves it).
    let ck_units = "{ organisation(code: \"chengkou\") { units(first: 100) { totalCount } } }";
    let (_, again) = ask(&app, &app.address, &chengkou, ck_units, json!({})).await;
    let units_while_held = again["organisation"]["units"]["totalCount"].as_i64().unwrap();
    assert!(!xc_write.is_finished(), "a write of the organisation whose turn is held waits");
    held.commit().await.unwrap();
    for sent in [xc_write, shared_write] {
        let body: Value = sent.await.unwrap().unwrap().json().await.unwrap();
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    let (_, after) = ask(&app, &app.address, &chengkou, ck_units, json!({})).await;
    assert_eq!(after["organisation"]["units"]["totalCount"].as_i64().unwrap(), units_while_held + 1);
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);
}

/// `{ me { … } }` with `token` at `address`: the HTTP status.
async fn status_at(app: &TestApp, address: &str, token: &str) -> u16 {
    let res = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { username } }" }))
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn a_deactivated_login_stops_on_every_instance_within_the_pulse_delay() {
    let app = spawn_app_as("xc-mishuke").await;
    let clerk = token(&app);
    let other = kaohe_api::Application::build(app.settings.clone()).await.unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    // The clerk works on the other instance, which keeps its row (PostgreSQL).
    for _ in 0..3 {
        assert_eq!(status_at(&app, &other_address, &clerk).await, 200);
    }
    let id: i64 = entity::app_user::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "xc-mishuke")
        .map(|u| u.id)
        .unwrap();
    let version = entity::app_user::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().version;
    app.sign_in("xc-admin").await;
    let deactivate =
        "mutation($id: ID!, $v: Int!) { deactivateUser(id: $id, reason: \"离职\", expectedVersion: $v) { active } }";
    let done = app.query_with(deactivate, json!({ "id": gid("User", id), "v": version })).await;
    assert_eq!(done["deactivateUser"]["active"], false);
    // At once on the instance that wrote; on the other, as soon as the
    // notification arrives: well before the re-check would have found it.
    assert_eq!(status_at(&app, &app.address, &clerk).await, 401);
    let started = std::time::Instant::now();
    let stopped = crate::helpers::within_pulse(|| async { status_at(&app, &other_address, &clerk).await == 401 });
    assert!(stopped.await);
    assert!(started.elapsed() < kaohe_service::auth::pulse::RECHECK, "took {:?}", started.elapsed());
}
