//! The response cache (`http::responses`): a query's answer is reused for the
//! same caller until any write lands, on this instance or another one sharing
//! the database; it never crosses callers; mutations, errors and the audit
//! chain check are never stored. Also: concurrent writers all land.

use entity::audit_log;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};

use std::time::Duration;

use crate::helpers::{TestApp, db_id, gid, spawn_app_as};
use crate::relay::{Relay, host_port, through};

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
const PAGE: &str = "query($r: ID!) { scoreRun(id: $r) { title status
    rubricVersion { sections { code children { code } } }
    observations(first: 50) { totalCount edges { node { id ruleCode facts { count points level flag } } } } } }";

/// POSTs to `address` with `token`; returns the `x-kaohe-cache` header and the body.
async fn post_at(
    app: &TestApp,
    address: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
    no_cache: bool,
) -> (Option<String>, Value) {
    let mut req = app.client.post(format!("{address}/graphql")).json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if no_cache {
        req = req.header("Cache-Control", "no-cache");
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let status = res.headers().get("x-kaohe-cache").map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap())
}

async fn post(app: &TestApp, query: &str, vars: Value) -> (Option<String>, Value) {
    let token = app.token.lock().unwrap().clone();
    post_at(app, &app.address, token.as_deref(), query, vars, false).await
}

/// A run of 许昌's rubric for 魏都区, opened by the admin (signed in after).
async fn open_run(app: &TestApp) -> (String, String) {
    let unit = entity::unit::Entity::find().all(&app.db).await.unwrap();
    let weidu = gid("Unit", unit.iter().find(|u| u.code == "xc-weidu").unwrap().id);
    let version = app.version_id("xuchang").await.unwrap();
    let input =
        json!({ "i": { "rubricVersionId": version, "period": "2026-07", "unitIds": [weidu], "title": "缓存" } });
    let run = app.query_with(OPEN, input).await["openScoreRun"]["id"].as_str().unwrap().to_string();
    (run, weidu)
}

fn record(run: &str, unit: &str, count: u32) -> Value {
    json!({ "i": { "runId": run, "unitId": unit, "ruleCode": "1.1-1", "facts": { "count": count } } })
}

#[tokio::test]
async fn an_answer_is_reused_until_a_write_and_never_across_callers() {
    // No policy version recheck inside the measures: a hit costs exactly the caller's row.
    let app = crate::helpers::spawn_app_with(|s| {
        s.limits.rate_budget = 10_000_000;
        s.auth.policy_recheck = std::time::Duration::from_secs(3600);
    })
    .await;
    app.sign_in("xc-admin").await;
    let (run, weidu) = open_run(&app).await;
    let vars = json!({ "r": run });

    let (status, first) = post(&app, PAGE, vars.clone()).await;
    assert_eq!(status.as_deref(), Some("miss"));
    assert_eq!(first["data"]["scoreRun"]["observations"]["totalCount"], 0);
    let before_hit = app.statements.get();
    let (status, again) = post(&app, PAGE, vars.clone()).await;
    let hit_cost = app.statements.get() - before_hit;
    assert_eq!(status.as_deref(), Some("hit"));
    assert_eq!(again["data"], first["data"]);
    assert!(again["extensions"]["cost"]["remaining"].as_u64() < first["extensions"]["cost"]["remaining"].as_u64());
    // One statement: the caller's row read with the generation (plus, once in
    // two seconds, the policy version); nothing of the page itself.
    assert!(hit_cost <= 2, "a cached answer cost {hit_cost} statements");
    let before_miss = app.statements.get();
    let token = app.token.lock().unwrap().clone();
    let (status, fresh) = post_at(&app, &app.address, token.as_deref(), PAGE, vars.clone(), true).await;
    assert_eq!(status.as_deref(), Some("bypass"));
    assert_eq!(fresh["data"], first["data"]);
    // At least the observations are read (the run and its version may be
    // kept per generation, `graphql::kept`).
    assert!(app.statements.get() - before_miss > hit_cost, "Cache-Control: no-cache runs the query");

    // A write: the next answer is computed again and shows it.
    let (status, _) = post(&app, RECORD, record(&run, &weidu, 2)).await;
    assert_eq!(status, None, "mutations are never cached");
    let (status, after) = post(&app, PAGE, vars.clone()).await;
    assert_eq!(status.as_deref(), Some("miss"));
    assert_eq!(after["data"]["scoreRun"]["observations"]["totalCount"], 1);
    assert_eq!(post(&app, PAGE, vars.clone()).await.0.as_deref(), Some("hit"));

    // The same text from the unit's own login is its own answer: the open
    // run's observations stay hidden from it, cached or not.
    app.sign_in("xc-weidu").await;
    for expected in ["miss", "hit"] {
        let (status, unit_view) = post(&app, PAGE, vars.clone()).await;
        assert_eq!(status.as_deref(), Some(expected));
        assert_eq!(unit_view["data"]["scoreRun"]["observations"]["totalCount"], 0, "{unit_view:#}");
    }

    // An answer with an error is not kept.
    let missing = json!({ "r": gid("ScoreRun", 987_654) });
    for _ in 0..2 {
        let (status, body) = post(&app, PAGE, missing.clone()).await;
        assert_eq!(status.as_deref(), Some("miss"));
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    }
}

/// A recording changes no caller's row: the writer's row stays kept (on
/// PostgreSQL; `graphql::writes`) and the entries it appended move its
/// generation before its answer leaves, so every next read, on the same
/// instance, shows the write without waiting for the notification.
#[tokio::test]
async fn a_writer_reads_each_of_its_own_writes_at_once() {
    let app = spawn_app_as("xc-admin").await;
    each_recording_is_read_at_once(&app, 5).await;
}

/// Opens a run; `recordings` times: the page cached, a recording, and the
/// page again, which must be computed afresh and show it.
async fn each_recording_is_read_at_once(app: &TestApp, recordings: u32) {
    let (run, weidu) = open_run(app).await;
    let vars = json!({ "r": run });
    for n in 1..=recordings {
        post(app, PAGE, vars.clone()).await;
        assert_eq!(post(app, PAGE, vars.clone()).await.0.as_deref(), Some("hit"));
        let (status, body) = post(app, RECORD, record(&run, &weidu, n)).await;
        assert!(status.is_none() && body.get("errors").is_none(), "{body:#}");
        let (status, after) = post(app, PAGE, vars.clone()).await;
        assert_eq!(status.as_deref(), Some("miss"), "recording {n}");
        assert_eq!(after["data"]["scoreRun"]["observations"]["totalCount"], n, "recording {n}");
    }
}

/// The same on PostgreSQL with every notification held back for two
/// seconds (a relay in front of the database): what moves the writer's
/// generation is its own instance taking in the entries it appended, not the
/// notification (which, unheld, usually arrives before the next request and
/// would hide a write forgotten).
#[tokio::test]
async fn on_postgresql_a_writer_reads_its_own_writes_before_their_notifications() {
    let fresh = crate::helpers::fresh().await;
    if fresh.settings.is_sqlite() {
        return;
    }
    let url = fresh.settings.database_url.expose().to_string();
    let relay = Relay::start(host_port(&url), Duration::from_secs(2)).await;
    let mut settings = fresh.settings.clone();
    settings.database_url = through(&url, relay.addr).into();
    settings.limits.rate_budget = 10_000_000;
    let app = crate::helpers::serve(settings).await;
    for _ in 0..100 {
        if app.auth.pulse.is_live() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.auth.pulse.is_live(), "the pulse listens through the relay");
    app.sign_in("xc-mishuke").await;
    let head = app.token.lock().unwrap().clone();
    app.sign_in("xc-admin").await;
    each_recording_is_read_at_once(&app, 3).await;
    // (That the writer's row stays kept meanwhile: `statements::a_recording_…`.)

    // A write that changes a caller (a deactivation) forgets the rows of its
    // organisation at once, its notification still held: the department
    // head's kept row is not used again.
    let me = "{ me { username } }";
    let probe = |token: Option<String>| {
        let req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(token.unwrap_or_default());
        async move {
            let res = req.json(&json!({ "query": me })).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = probe(head.clone()).await;
    assert_eq!((status, &body["data"]["me"]["username"]), (200, &json!("xc-mishuke")), "{body:#}");
    let user = entity::app_user::Entity::find()
        .filter(entity::app_user::Column::Username.eq("xc-mishuke"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let deactivate =
        "mutation($id: ID!, $v: Int!) { deactivateUser(id: $id, reason: \"离职\", expectedVersion: $v) { active } }";
    let v = app.query_with(deactivate, json!({ "id": gid("User", user.id), "v": user.version })).await;
    assert_eq!(v["deactivateUser"]["active"], false);
    let (status, refused) = probe(head).await;
    assert_eq!((status, &refused["errors"][0]["extensions"]["code"]), (401, &json!("UNAUTHENTICATED")), "{refused:#}");
}

#[tokio::test]
async fn a_query_batched_after_a_mutation_sees_it() {
    let app = spawn_app_as("xc-admin").await;
    let (run, weidu) = open_run(&app).await;
    let vars = json!({ "r": run });
    post(&app, PAGE, vars.clone()).await;
    assert_eq!(post(&app, PAGE, vars.clone()).await.0.as_deref(), Some("hit"), "cached with no observation");
    let token = app.token.lock().unwrap().clone().unwrap();
    let batch = json!([
        { "query": RECORD, "variables": record(&run, &weidu, 1) },
        { "query": PAGE, "variables": vars },
    ]);
    let res = app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).json(&batch).send().await;
    let res = res.unwrap();
    assert!(res.headers().get("x-kaohe-cache").is_none(), "a batch that writes is not cached");
    let answers: Value = res.json().await.unwrap();
    assert!(answers[0].get("errors").is_none(), "{answers:#}");
    assert_eq!(answers[1]["data"]["scoreRun"]["observations"]["totalCount"], 1, "the batch's own write");
}

#[tokio::test]
async fn get_answers_carry_an_etag_that_revalidates_until_a_write() {
    let app = spawn_app_as("xc-admin").await;
    let (run, weidu) = open_run(&app).await;
    let token = app.token.lock().unwrap().clone().unwrap();
    let vars = json!({ "r": run }).to_string();
    let get = |etag: Option<String>| {
        let mut req = app.client.get(format!("{}/graphql", app.address)).bearer_auth(&token);
        req = req.query(&[("query", PAGE), ("variables", vars.as_str())]);
        if let Some(t) = etag {
            req = req.header("If-None-Match", t);
        }
        req.send()
    };
    let first = get(None).await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.headers()["cache-control"], "private, no-cache");
    let same = get(Some(etag.clone())).await.unwrap();
    assert_eq!(same.status(), 304);
    assert_eq!(same.headers()["etag"], etag.as_str());
    assert!(same.bytes().await.unwrap().is_empty());
    // Another tag, or any write since: the answer again, with a new tag.
    assert_eq!(get(Some("W/\"0-0\"".into())).await.unwrap().status(), 200);
    app.query_with(RECORD, record(&run, &weidu, 1)).await;
    let changed = get(Some(etag.clone())).await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"], etag.as_str());
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["data"]["scoreRun"]["observations"]["totalCount"], 1);
    // An answer that is never stored has no tag to revalidate.
    let check = app.client.get(format!("{}/graphql", app.address)).bearer_auth(&token);
    let check = check.query(&[("query", "{ verifyAuditChain { ok } }")]).send().await.unwrap();
    assert_eq!(check.status(), 200);
    assert!(check.headers().get("etag").is_none());
}

#[tokio::test]
async fn a_tampered_chain_is_found_even_after_a_clean_check() {
    let app = spawn_app_as("xc-admin").await;
    let check = "{ verifyAuditChain { ok firstBrokenId } }";
    assert_eq!(app.query(check).await["verifyAuditChain"]["ok"], true);
    assert_eq!(app.query(check).await["verifyAuditChain"]["ok"], true);
    // Edited by hand: no write through the API, no new generation.
    let xuchang = entity::organisation::Entity::find()
        .filter(entity::organisation::Column::Code.eq("xuchang"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let first = audit_log::Entity::find()
        .filter(audit_log::Column::OrganisationId.eq(xuchang.id))
        .order_by_asc(audit_log::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut edited: audit_log::ActiveModel = first.clone().into();
    edited.after = Set(Some("{}".into()));
    edited.update(&app.db).await.unwrap();
    let found = app.query(check).await["verifyAuditChain"].clone();
    assert_eq!(found["ok"], false);
    assert_eq!(db_id(found["firstBrokenId"].as_str().unwrap()), first.id);
}

/// On PostgreSQL the other instance hears of the write with its
/// notification, sent at the commit; on SQLite (two servers on one file, not
/// a deployment we recommend) it sees it with its `data_version` watch,
/// within `pulse::WATCH` and never later than `pulse::WATCH_STALE`. Either
/// arrives in milliseconds, but on its own task: the writer's answer does not
/// wait for it, and a loaded machine may run the other instance's listener a
/// little later. So the other instance is asked until its answer is fresh,
/// for at most a second: well before `pulse::RECHECK` would read the caller
/// and generation again anyway (that path is not what this test shows).
#[tokio::test]
async fn a_write_through_another_instance_is_seen_within_the_pulse_delay() {
    let app = spawn_app_as("xc-admin").await;
    let (run, weidu) = open_run(&app).await;
    // A second server on the same database (and key file), as behind a load balancer.
    let other = kaohe_api::Application::build(app.settings.clone()).await.unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    let token = app.token.lock().unwrap().clone();
    let ask = || post_at(&app, &other_address, token.as_deref(), PAGE, json!({ "r": run }), false);

    assert_eq!(ask().await.0.as_deref(), Some("miss"));
    assert_eq!(ask().await.0.as_deref(), Some("hit"));
    app.query_with(RECORD, record(&run, &weidu, 3)).await;
    let wait = std::time::Duration::from_secs(1);
    assert!(kaohe_service::auth::pulse::RECHECK > 2 * wait);
    let deadline = std::time::Instant::now() + wait;
    let (status, seen) = loop {
        let (status, seen) = ask().await;
        if status.as_deref() == Some("miss") || std::time::Instant::now() > deadline {
            break (status, seen);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(status.as_deref(), Some("miss"), "the other instance still answers from before the write");
    assert_eq!(seen["data"]["scoreRun"]["observations"]["totalCount"], 1);
}

#[tokio::test]
async fn concurrent_writers_all_land_on_one_chain() {
    let app = spawn_app_as("xc-admin").await;
    let (run, weidu) = open_run(&app).await;
    let token = app.token.lock().unwrap().clone().unwrap();
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..8u32 {
        let mut vars = record(&run, &weidu, i + 1);
        vars["i"]["ruleCode"] = json!(if i % 2 == 0 { "1.1-1" } else { "1.2-1" });
        let req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(&token);
        writes.spawn(req.json(&json!({ "query": RECORD, "variables": vars })).send());
    }
    while let Some(sent) = writes.join_next().await {
        let body: Value = sent.unwrap().unwrap().json().await.unwrap();
        assert!(body.get("errors").is_none(), "a concurrent write failed: {body:#}");
    }
    let (_, page) = post(&app, PAGE, json!({ "r": run })).await;
    assert_eq!(page["data"]["scoreRun"]["observations"]["totalCount"], 8);
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);
}
