//! Idempotency keys (issue 12, defect 1): authorized first, exactly as the
//! same call without a key; scoped to (organisation, caller); a retry with
//! the same parameters answers the first result; other parameters (or
//! another operation) are CONFLICT naming the key.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, expect_code, nodes, spawn_app_with};

const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id facts { count points level flag } note } }";
const FILE: &str = "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id } }";

async fn observations(app: &TestApp) -> u64 {
    entity::observation::Entity::find().count(&app.db).await.unwrap()
}

/// 许昌's published seed run (its observations were recorded under keys
/// `seed:xuchang:2026-03:N`), a new open run and 魏都区's id.
async fn setup() -> (TestApp, String, String, String) {
    let app = spawn_app_with(|s| s.limits.rate_budget = 10_000_000).await;
    app.sign_in("xc-admin").await;
    let runs = app.query(r#"{ scoreRuns(organisationCode: "xuchang", first: 5) { edges { node { id period units(first: 10) { edges { node { id code } } } } } } }"#).await;
    let seed = nodes(&runs["scoreRuns"]).into_iter().find(|r| r["period"] == "2026-03").unwrap().clone();
    let weidu = nodes(&seed["units"]).into_iter().find(|u| u["code"] == "xc-weidu").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let version = app.version_id("xuchang").await.unwrap();
    let open = json!({ "i": { "rubricVersionId": version, "period": "2026-04", "unitIds": [weidu], "title": "4月" } });
    let run = app.query_with("mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }", open).await;
    (app, seed["id"].as_str().unwrap().to_string(), run["openScoreRun"]["id"].as_str().unwrap().to_string(), weidu)
}

fn record(run: &str, unit: &str, count: i64, key: &str) -> Value {
    json!({ "i": { "runId": run, "unitId": unit, "ruleCode": "1.1-1", "facts": { "count": count }, "idempotencyKey": key } })
}

#[tokio::test]
async fn a_key_never_reveals_another_callers_record() {
    let (app, seed, _, weidu) = setup().await;
    let before = observations(&app).await;
    // The seed's key, with no sign-in: refused before anything is looked up (it
    // used to answer 200 with the seeded observation, facts and note).
    *app.token.lock().unwrap() = None;
    let anon = expect_code(&app, RECORD, record(&seed, &weidu, 1, "seed:xuchang:2026-03:0"), "UNAUTHENTICATED").await;
    assert!(anon["data"].is_null(), "{anon}");
    // Another organisation's admin: the run does not exist for it.
    app.sign_in("ck-admin").await;
    let other = expect_code(&app, RECORD, record(&seed, &weidu, 1, "seed:xuchang:2026-03:0"), "NOT_FOUND").await;
    assert!(other["data"].is_null(), "{other}");
    // 许昌's integration sees the published run but may not record: FORBIDDEN, no data.
    app.sign_in("xc-yuejiangping").await;
    let integration = expect_code(&app, RECORD, record(&seed, &weidu, 1, "seed:xuchang:2026-03:0"), "FORBIDDEN").await;
    assert!(integration["data"].is_null(), "{integration}");
    assert_eq!(observations(&app).await, before);
}

#[tokio::test]
async fn a_retry_answers_the_first_result_and_a_changed_retry_is_a_conflict() {
    let (app, _, run, weidu) = setup().await;
    let before = observations(&app).await;
    let first = app.query_with(RECORD, record(&run, &weidu, 2, "retry-1")).await["recordObservation"].clone();
    let again = app.query_with(RECORD, record(&run, &weidu, 2, "retry-1")).await["recordObservation"].clone();
    assert_eq!(first, again, "the same key and parameters answer the first record");
    assert_eq!(observations(&app).await, before + 1);

    // The same key with other facts: refused, naming the key, nothing recorded.
    let changed = expect_code(&app, RECORD, record(&run, &weidu, 3, "retry-1"), "CONFLICT").await;
    let message = changed["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("`retry-1`"), "{message}");
    assert_eq!(observations(&app).await, before + 1);

    // The same key for another operation is another request too.
    let claim = json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "3-①", "facts": { "level": "municipal" },
        "evidence": [{ "docNumber": "许教组〔2023〕8号" }], "idempotencyKey": "retry-1" } });
    expect_code(&app, FILE, claim, "CONFLICT").await;

    // Keys belong to their caller: 秘书科's head uses the same text for its own record.
    app.sign_in("xc-mishuke").await;
    let own = app.query_with(RECORD, record(&run, &weidu, 2, "retry-1")).await["recordObservation"].clone();
    assert_ne!(own["id"], first["id"]);
    assert_eq!(observations(&app).await, before + 2);

    // After publication a retry still answers the first record, not FROZEN.
    app.sign_in("xc-admin").await;
    let v = app.query_with("query($r: ID!) { scoreRun(id: $r) { version } }", json!({ "r": run })).await;
    let publish = "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { status } }";
    app.query_with(publish, json!({ "r": run, "v": v["scoreRun"]["version"] })).await;
    let late = app.post(RECORD, record(&run, &weidu, 2, "retry-1")).await;
    assert_eq!(late["data"]["recordObservation"], first, "{late}");
    // A new key on the published run is FROZEN as usual.
    let fresh = app.post(RECORD, record(&run, &weidu, 2, "retry-2")).await;
    assert_eq!(code(&fresh), "FROZEN", "{fresh}");
}
