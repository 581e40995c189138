//! Who reads what (issue 5): staff read their organisation's runs; a unit
//! user only runs assessing its unit, and its own observations and result
//! once published; an integration only published results. Hidden objects
//! asked for by id — directly, through `node` (the interface path of
//! async-graphql #1826) or `nodes` — are NOT_FOUND, never the object.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_code, gid, spawn_app_with};

async fn unit_gid(app: &TestApp, code: &str) -> String {
    let u = entity::unit::Entity::find().filter(entity::unit::Column::Code.eq(code)).one(&app.db).await.unwrap();
    gid("Unit", u.unwrap().id)
}

async fn version_gid(app: &TestApp, rubric_code: &str) -> String {
    let r = entity::rubric::Entity::find()
        .filter(entity::rubric::Column::Code.eq(rubric_code))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let v = entity::rubric_version::Entity::find()
        .filter(entity::rubric_version::Column::RubricId.eq(r.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    gid("RubricVersion", v.id)
}

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id version } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
const RUN: &str = "query($r: ID!) { scoreRun(id: $r) { id status
    units(first: 100) { totalCount edges { node { code } } }
    observations(first: 100) { totalCount edges { node { id unit { code } } } }
    results(first: 100) { totalCount edges { node { unit { code } rank finalScore } } }
    ranking { unit { code } rank } } }";
const NODE_OBS: &str =
    "query($id: ID!) { node(id: $id) { id ... on Observation { facts { count points } unit { code } } } }";
const NODE_RUN: &str = "query($id: ID!) { node(id: $id) { id ... on ScoreRun { status } } }";

fn codes(conn: &Value) -> Vec<String> {
    conn["edges"].as_array().unwrap().iter().map(|e| e["node"]["unit"]["code"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn each_role_reads_only_what_the_policy_grants() {
    let app = spawn_app_with(|s| s.limits.rate_budget = 10_000_000).await;
    let (weidu, jianan) = (unit_gid(&app, "xc-weidu").await, unit_gid(&app, "xc-jianan").await);
    let version = version_gid(&app, "xuchang-jyqs").await;

    // The admin opens a run for two units and records for both.
    app.sign_in("xc-admin").await;
    let input = json!({ "i": { "rubricVersionId": version, "period": "2026-05", "unitIds": [weidu, jianan], "title": "2026年5月" } });
    let run = app.query_with(OPEN, input).await["openScoreRun"].clone();
    let run_id = run["id"].as_str().unwrap().to_string();
    let mut obs = Vec::new();
    for u in [&weidu, &jianan] {
        let rec = json!({ "i": { "runId": run_id, "unitId": u, "ruleCode": "1.1-1", "facts": { "count": 1 } } });
        obs.push(app.query_with(RECORD, rec).await["recordObservation"]["id"].as_str().unwrap().to_string());
    }
    let (own_obs, other_obs) = (obs[0].clone(), obs[1].clone());
    let staff = app.query_with(RUN, json!({ "r": run_id })).await["scoreRun"].clone();
    assert_eq!(staff["observations"]["totalCount"], 2);
    // By department, as the policy assigns: 秘书科 scores 日常工作 (1.1-1), 学前教育科 does not.
    let by_dept =
        "query($r: ID!, $d: String!) { scoreRun(id: $r) { observations(department: $d, first: 10) { totalCount } } }";
    for (dept, n) in [("秘书科", 2), ("学前教育科", 0)] {
        let got = app.query_with(by_dept, json!({ "r": run_id, "d": dept })).await;
        assert_eq!(got["scoreRun"]["observations"]["totalCount"], n, "{dept}");
    }
    // A claim for each unit: the admin files 建安区's, 魏都区's user its own below.
    let claim = |u: &str| {
        json!({ "i": { "runId": run_id, "unitId": u, "ruleCode": "3-③b",
        "facts": { "level": "municipal" }, "evidence": [{ "docNumber": "许教组〔2023〕8号" }] } })
    };
    let file = "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id } }";
    app.query_with(file, claim(&jianan)).await;
    assert_eq!(staff["results"]["totalCount"], 2, "staff see live results of an open run");

    // 魏都区's user, while the run is open: the run, its own unit, nothing scored.
    app.sign_in("xc-weidu").await;
    app.query_with(file, claim(&weidu)).await;
    let claims =
        "query($r: ID!) { scoreRun(id: $r) { claims(first: 10) { totalCount edges { node { unit { code } } } } } }";
    let mine = app.query_with(claims, json!({ "r": run_id })).await["scoreRun"]["claims"].clone();
    assert_eq!(codes(&mine), ["xc-weidu"], "a unit lists its own claims only");
    let open = app.query_with(RUN, json!({ "r": run_id })).await["scoreRun"].clone();
    assert_eq!(open["units"]["totalCount"], 1);
    assert_eq!(open["units"]["edges"][0]["node"]["code"], "xc-weidu");
    assert_eq!(open["observations"]["totalCount"], 0, "unpublished observations are invisible to units");
    assert_eq!(open["results"]["totalCount"], 0, "unpublished results are invisible to units");
    assert_eq!(open["ranking"], json!([]));
    for id in [&own_obs, &other_obs] {
        expect_code(&app, NODE_OBS, json!({ "id": id }), "NOT_FOUND").await;
    }
    expect_code(&app, "{ auditLog(first: 10) { totalCount } }", json!({}), "FORBIDDEN").await;
    expect_code(&app, "{ verifyAuditChain { ok } }", json!({}), "FORBIDDEN").await;
    let what_if = "query($r: ID!) { scoreRun(id: $r) { whatIf(changes: []) { finalAfter } } }";
    expect_code(&app, what_if, json!({ "r": run_id }), "FORBIDDEN").await;

    // The integration: an open run does not exist for it.
    app.sign_in("xc-yuejiangping").await;
    expect_code(&app, RUN, json!({ "r": run_id }), "NOT_FOUND").await;
    expect_code(&app, NODE_RUN, json!({ "id": run_id }), "NOT_FOUND").await;
    let listed = app.query("{ scoreRuns(first: 100) { edges { node { id status } } } }").await;
    let listed = listed["scoreRuns"]["edges"].as_array().unwrap().clone();
    assert!(!listed.is_empty(), "the seeded published run is listed");
    assert!(listed.iter().all(|e| e["node"]["status"] == "PUBLISHED"), "{listed:?}");

    // Published: the unit sees its own row and observations, nobody else's.
    app.sign_in("xc-admin").await;
    let v = app.query_with("query($r: ID!) { scoreRun(id: $r) { version } }", json!({ "r": run_id })).await;
    let publish = "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { status } }";
    app.query_with(publish, json!({ "r": run_id, "v": v["scoreRun"]["version"] })).await;
    let all = app.query_with(claims, json!({ "r": run_id })).await;
    assert_eq!(all["scoreRun"]["claims"]["totalCount"], 2, "staff list every claim");

    app.sign_in("xc-weidu").await;
    let done = app.query_with(RUN, json!({ "r": run_id })).await["scoreRun"].clone();
    assert_eq!(codes(&done["observations"]), ["xc-weidu"]);
    assert_eq!(codes(&done["results"]), ["xc-weidu"]);
    assert_eq!(done["ranking"].as_array().unwrap().len(), 1);
    let own = app.query_with(NODE_OBS, json!({ "id": own_obs })).await;
    assert_eq!(own["node"]["unit"]["code"], "xc-weidu");
    expect_code(&app, NODE_OBS, json!({ "id": other_obs }), "NOT_FOUND").await;
    // `nodes` answers null where the caller may not look.
    let both =
        app.query_with("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": [own_obs, other_obs] })).await;
    assert_eq!(both["nodes"][0]["id"], own_obs.as_str());
    assert!(both["nodes"][1].is_null(), "{both}");
    let monthly = "{ monthlyRanking(organisationCode: \"xuchang\", period: \"2026-05\") { unit { code } rank } }";
    let rows = app.query(monthly).await["monthlyRanking"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "a unit sees its own ranking row only: {rows:?}");
    let token = app.token.lock().unwrap().clone().unwrap();
    let export =
        app.client.get(format!("{}/runs/{run_id}/export.csv", app.address)).bearer_auth(token).send().await.unwrap();
    assert_eq!(export.status(), 403, "the report lists every unit");

    // The integration: every published row, but no observation.
    app.sign_in("xc-yuejiangping").await;
    let pulled = app
        .query_with("query($r: ID!) { scoreRun(id: $r) { ranking { unit { code } } } }", json!({ "r": run_id }))
        .await;
    assert_eq!(pulled["scoreRun"]["ranking"].as_array().unwrap().len(), 2);
    assert_eq!(app.query(monthly).await["monthlyRanking"].as_array().unwrap().len(), 2);
    let obs_q = "query($r: ID!) { scoreRun(id: $r) { observations(first: 10) { totalCount } } }";
    expect_code(&app, obs_q, json!({ "r": run_id }), "FORBIDDEN").await;
    expect_code(&app, NODE_OBS, json!({ "id": own_obs }), "NOT_FOUND").await;
    expect_code(&app, "{ auditLog(first: 10) { totalCount } }", json!({}), "FORBIDDEN").await;
    expect_code(&app, claims, json!({ "r": run_id }), "FORBIDDEN").await;

    // Another organisation: nothing of 许昌's exists.
    app.sign_in("ck-admin").await;
    expect_code(&app, RUN, json!({ "r": run_id }), "NOT_FOUND").await;
    expect_code(&app, NODE_RUN, json!({ "id": run_id }), "NOT_FOUND").await;
    expect_code(&app, NODE_OBS, json!({ "id": own_obs }), "NOT_FOUND").await;
    let audit = app.query("{ auditLog(first: 100) { edges { node { runId } } } }").await;
    assert!(
        audit["auditLog"]["edges"].as_array().unwrap().iter().all(|e| e["node"]["runId"] != run_id.as_str()),
        "another organisation's audit entries stay hidden"
    );

    // Anonymous: runs need a sign-in; published reference data does not.
    *app.token.lock().unwrap() = None;
    expect_code(&app, NODE_RUN, json!({ "id": run_id }), "UNAUTHENTICATED").await;
    expect_code(&app, "{ scoreRuns(first: 5) { totalCount } }", json!({}), "UNAUTHENTICATED").await;
    let unit =
        app.query_with("query($id: ID!) { node(id: $id) { ... on Unit { code } } }", json!({ "id": weidu })).await;
    assert_eq!(unit["node"]["code"], "xc-weidu");
}

#[tokio::test]
async fn node_refuses_ids_of_other_apis_and_other_kinds() {
    let app = spawn_app_with(|_| {}).await;
    expect_code(&app, r#"{ node(id: "42") { id } }"#, json!({}), "BAD_USER_INPUT").await;
    // An indicator is fetched through its version, not by `node`.
    expect_code(
        &app,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": gid("Indicator", 1) }),
        "BAD_USER_INPUT",
    )
    .await;
    let too_many: Vec<String> = (1..=101).map(|n| gid("Unit", n)).collect();
    expect_code(&app, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": too_many }), "BAD_USER_INPUT")
        .await;
    // Every kind `node` serves gives back the id it was asked for.
    let org = app.query(r#"{ organisation(code: "xuchang") { id } }"#).await["organisation"]["id"].clone();
    let back = app.query_with("query($id: ID!) { node(id: $id) { __typename id } }", json!({ "id": org })).await;
    assert_eq!(back["node"]["__typename"], "Organisation");
    assert_eq!(back["node"]["id"], org);
}

#[tokio::test]
async fn a_claims_observation_follows_the_callers_read_rules() {
    let app = spawn_app_with(|s| s.limits.rate_budget = 10_000_000).await;
    let weidu = unit_gid(&app, "xc-weidu").await;
    let version = version_gid(&app, "xuchang-jyqs").await;
    app.sign_in("xc-admin").await;
    let input = json!({ "i": { "rubricVersionId": version, "period": "2026-08", "unitIds": [weidu], "title": "8月" } });
    let run = app.query_with(OPEN, input).await["openScoreRun"]["id"].as_str().unwrap().to_string();
    app.sign_in("xc-weidu").await;
    let file = json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "3-③b", "facts": { "level": "municipal" },
        "evidence": [{ "docNumber": "许教组〔2023〕8号" }] } });
    let claim = app.query_with("mutation($i: FileClaimInput!) { fileClaim(input: $i) { id } }", file).await;
    let claim = claim["fileClaim"]["id"].as_str().unwrap().to_string();
    app.sign_in("xc-admin").await;
    let decide = "mutation($id: ID!) { decideClaim(id: $id, approve: true, reason: \"属实\") { observation { id } } }";
    let made = app.query_with(decide, json!({ "id": claim })).await["decideClaim"]["observation"]["id"].clone();
    assert!(made.is_string(), "the approval made an observation");
    // The unit sees its claim, but not the observation while the run is open.
    app.sign_in("xc-weidu").await;
    let q = "query($id: ID!) { claim(id: $id) { status observation { id } } }";
    let seen = app.query_with(q, json!({ "id": claim })).await;
    assert_eq!(seen["claim"]["status"], "APPROVED");
    assert!(seen["claim"]["observation"].is_null(), "{seen}");
}
