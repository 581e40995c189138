//! Issue 16: data entry. What would break publishing is refused when it is
//! recorded (naming the existing observation by its global id); many
//! observations are recorded or withdrawn in one call, all or none; a bonus
//! whose document is issued late is carried into the period it belongs to,
//! once (the 许昌 clause worked by hand).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, db_id, expect_code, spawn_app_as};

async fn unit_ids(app: &TestApp, org: &str) -> Vec<(String, String)> {
    let data = app
        .query_with(
            "query($c: String!) { organisation(code: $c) { units(first: 100) { edges { node { id code } } } } }",
            json!({ "c": org }),
        )
        .await;
    data["organisation"]["units"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["node"]["code"].as_str().unwrap().to_string(), e["node"]["id"].as_str().unwrap().to_string()))
        .collect()
}

fn unit(units: &[(String, String)], code: &str) -> String {
    units.iter().find(|(c, _)| c == code).unwrap().1.clone()
}

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id status version } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id version status } }";
const RECORD_MANY: &str =
    "mutation($i: RecordObservationsInput!) { recordObservations(input: $i) { id status ruleCode } }";
const WITHDRAW_MANY: &str =
    "mutation($ids: [ID!]!, $r: String!) { withdrawObservations(ids: $ids, reason: $r) { id status } }";
const PUBLISH: &str =
    "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { id status version } }";
const AMEND: &str = "mutation($r: ID!, $c: Boolean!) { amendRun(runId: $r, reason: \"更正\", copyObservations: $c) { id status version } }";
const RUN: &str = "query($r: ID!) { scoreRun(id: $r) { id version status } }";
const OBSERVATIONS: &str =
    "query($r: ID!) { scoreRun(id: $r) { observations(status: ACTIVE, first: 100) { totalCount edges { node {
    id ruleCode documentDate unit { code }
    carriedFrom { runId period observationId } carriedInto { runId period observationId } } } } } }";
const RESULT: &str = "query($r: ID!) { scoreRun(id: $r) { results(first: 100) { edges { node {
    unit { code } rank finalScore bonus
    explanation { code rules { rule amount observations { observation amount counted deferredTo carriedFrom { runId period observationId } } } } } } } } }";

async fn open(app: &TestApp, period: &str, units: &[&str]) -> String {
    let version = app.version_id("xuchang").await.unwrap();
    let data = app
        .query_with(OPEN, json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": units, "title": format!("{period} 月讲评") } }))
        .await;
    data["openScoreRun"]["id"].as_str().unwrap().to_string()
}

async fn publish(app: &TestApp, run: &str) {
    let v = app.query_with(RUN, json!({ "r": run })).await["scoreRun"]["version"].as_i64().unwrap();
    app.query_with(PUBLISH, json!({ "r": run, "v": v })).await;
}

/// The nine 重点任务 at full marks (70), as bulk items for one unit.
fn full_tasks(unit: &str) -> Vec<Value> {
    ["7", "8", "7", "9", "9", "7", "9", "7", "7"]
        .iter()
        .enumerate()
        .map(|(i, p)| json!({ "unitId": unit, "ruleCode": format!("2.{}-1", i + 1), "facts": { "points": p } }))
        .collect()
}

async fn record_many(app: &TestApp, run: &str, items: Vec<Value>) -> Vec<Value> {
    let data = app.query_with(RECORD_MANY, json!({ "i": { "runId": run, "items": items } })).await;
    data["recordObservations"].as_array().unwrap().clone()
}

async fn result_of(app: &TestApp, run: &str, unit_code: &str) -> Value {
    let data = app.query_with(RESULT, json!({ "r": run })).await;
    data["scoreRun"]["results"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["unit"]["code"] == unit_code)
        .unwrap()
}

fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str().unwrap().parse().unwrap()
}

/// The explanation lines of one rule in a result.
fn lines<'a>(result: &'a Value, rule: &str) -> Vec<&'a Value> {
    result["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["rules"].as_array().unwrap())
        .filter(|r| r["rule"] == rule)
        .flat_map(|r| r["observations"].as_array().unwrap())
        .collect()
}

async fn observations(app: &TestApp, run: &str) -> Vec<Value> {
    let data = app.query_with(OBSERVATIONS, json!({ "r": run })).await;
    data["scoreRun"]["observations"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test]
async fn what_would_break_publishing_is_refused_when_recorded_naming_the_existing_one_by_global_id() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let fgw = unit(&units, "xc-fgw");
    let run = open(&app, "2026-05", &[&fgw]).await;
    let rec = |rule: &str, facts: Value, date: Option<&str>| json!({ "i": { "runId": run, "unitId": fgw, "ruleCode": rule, "facts": facts, "documentDate": date } });
    let first = app.query_with(RECORD, rec("2.1-1", json!({ "points": "6" }), None)).await["recordObservation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A second direct score for the same rule and unit: CONFLICT, naming the first by its global id.
    let body = expect_code(&app, RECORD, rec("2.1-1", json!({ "points": "5" }), None), "CONFLICT").await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&first), "{message}");
    assert!(!message.contains(&format!("observation {}", db_id(&first))), "a raw row number: {message}");
    // A document date on a rule that never defers (平时考核, a deduction).
    let body =
        expect_code(&app, RECORD, rec("1.1-1", json!({ "count": 1 }), Some("2026-05-03")), "BAD_USER_INPUT").await;
    assert_eq!(body["errors"][0]["extensions"]["rule"], "1.1-1");
    // On the 表彰 rule (it defers late documents) a document date is what it is for.
    app.query_with(RECORD, rec("3-②a", json!({ "level": "municipal" }), Some("2026-05-20"))).await;
    // Nothing refused was written: publishing works and counts the one direct score.
    publish(&app, &run).await;
    assert_eq!(dec(&result_of(&app, &run, "xc-fgw").await["finalScore"]), "37".parse().unwrap());

    // After amendRun copied the direct score, a second one is refused the same way.
    let rev =
        app.query_with(AMEND, json!({ "r": run, "c": true })).await["amendRun"]["id"].as_str().unwrap().to_string();
    let copied = observations(&app, &rev).await;
    let copy = copied.iter().find(|o| o["ruleCode"] == "2.1-1").unwrap()["id"].as_str().unwrap().to_string();
    let again = json!({ "i": { "runId": rev, "unitId": fgw, "ruleCode": "2.1-1", "facts": { "points": "7" } } });
    let body = expect_code(&app, RECORD, again, "CONFLICT").await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&copy), "{body}");
    publish(&app, &rev).await;
}

/// A recording is checked with the unit's stored observations of its own
/// rule when that rule is given once (a direct score, a rating component),
/// and with no other stored row: every one passed its own check when it was
/// recorded. So a unit whose month holds a row no recording would accept
/// today (two direct scores, written here by hand as an import might have)
/// still takes other observations, and a third direct score is still refused.
#[tokio::test]
async fn a_recording_is_checked_with_the_stored_observations_of_its_given_once_rule_only() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let fgw = unit(&units, "xc-fgw");
    let run = open(&app, "2026-07", &[&fgw]).await;
    let rec =
        |rule: &str, facts: Value| json!({ "i": { "runId": run, "unitId": fgw, "ruleCode": rule, "facts": facts } });
    let id = |v: Value| v["recordObservation"]["id"].as_str().unwrap().to_string();
    let direct = id(app.query_with(RECORD, rec("2.1-1", json!({ "points": "6" }))).await);
    let late = id(app.query_with(RECORD, rec("1.1-1", json!({ "count": 1 }))).await);
    let (d, l) = (db_id(&direct), db_id(&late));
    app.db
        .execute_unprepared(&format!(
            "UPDATE observation SET rule_id = (SELECT rule_id FROM observation WHERE id = {d}), \
             facts = (SELECT facts FROM observation WHERE id = {d}) WHERE id = {l}"
        ))
        .await
        .unwrap();
    // Another 平时考核 deduction lands (the two direct scores are not its rule's).
    app.query_with(RECORD, rec("1.1-1", json!({ "count": 2 }))).await;
    // A third direct score is refused, naming the first of the unit's two.
    let body = expect_code(&app, RECORD, rec("2.1-1", json!({ "points": "5" })), "CONFLICT").await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("direct score") && message.contains(&direct), "{message}");
    let active = observations(&app, &run).await;
    assert_eq!(active.len(), 3, "{active:?}");
}

#[tokio::test]
async fn record_observations_is_all_or_nothing_with_per_item_errors() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let (fgw, czj, rsj) = (unit(&units, "xc-fgw"), unit(&units, "xc-czj"), unit(&units, "xc-rsj"));
    let run = open(&app, "2026-06", &[&fgw, &czj]).await;
    let items = |extra: Vec<Value>| {
        let mut v = full_tasks(&fgw);
        v.extend(extra);
        json!({ "i": { "runId": run, "items": v } })
    };
    // Items 9..: a fact outside its range, a second direct score inside the
    // batch, an unknown rule, a unit the run does not assess, a bad id, a
    // document date on a rule that never defers.
    let bad = items(vec![
        json!({ "unitId": czj, "ruleCode": "2.1-1", "facts": { "points": "8" } }),
        json!({ "unitId": fgw, "ruleCode": "2.1-1", "facts": { "points": "1" } }),
        json!({ "unitId": czj, "ruleCode": "9.9-9", "facts": { "count": 1 } }),
        json!({ "unitId": rsj, "ruleCode": "1.1-1", "facts": { "count": 1 } }),
        json!({ "unitId": "nope", "ruleCode": "1.1-1", "facts": { "count": 1 } }),
        json!({ "unitId": czj, "ruleCode": "1.2-1", "facts": { "count": 1 }, "documentDate": "2026-06-01" }),
    ]);
    let body = expect_code(&app, RECORD_MANY, bad, "BAD_USER_INPUT").await;
    let refused: Vec<(u64, String)> = body["errors"][0]["extensions"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["index"].as_u64().unwrap(), i["field"].as_str().unwrap().to_string()))
        .collect();
    // Ids are checked first, alone.
    assert_eq!(refused, vec![(13, "unitId".to_string())], "{body}");
    let mut bad = items(vec![
        json!({ "unitId": czj, "ruleCode": "2.1-1", "facts": { "points": "8" } }),
        json!({ "unitId": fgw, "ruleCode": "2.1-1", "facts": { "points": "1" } }),
        json!({ "unitId": czj, "ruleCode": "9.9-9", "facts": { "count": 1 } }),
        json!({ "unitId": czj, "ruleCode": "1.2-1", "facts": { "count": 1 }, "documentDate": "2026-06-01" }),
    ]);
    let body = expect_code(&app, RECORD_MANY, bad.clone(), "BAD_USER_INPUT").await;
    let fields = |body: &Value| -> Vec<(u64, String, String)> {
        body["errors"][0]["extensions"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["index"].as_u64().unwrap(),
                    i["field"].as_str().unwrap().to_string(),
                    i["code"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The unknown rule is refused first (as recordObservation refuses it before anything else).
    assert_eq!(fields(&body), vec![(11, "ruleCode".into(), "BAD_USER_INPUT".into())], "{body}");
    bad["i"]["items"].as_array_mut().unwrap().remove(11);
    let body = expect_code(&app, RECORD_MANY, bad.clone(), "BAD_USER_INPUT").await;
    assert_eq!(
        fields(&body),
        vec![(9, "facts.points".into(), "BAD_USER_INPUT".into()), (11, "documentDate".into(), "BAD_USER_INPUT".into())],
        "{body}"
    );
    bad["i"]["items"].as_array_mut().unwrap().remove(11);
    bad["i"]["items"].as_array_mut().unwrap().remove(9);
    // Left: the nine tasks and a second 2.1-1 for the same unit (index 9), named by index.
    let body = expect_code(&app, RECORD_MANY, bad, "CONFLICT").await;
    assert_eq!(fields(&body), vec![(9, "ruleCode".into(), "CONFLICT".into())], "{body}");
    assert!(body["errors"][0]["extensions"]["items"][0]["message"].as_str().unwrap().contains("item 0"), "{body}");
    // Nothing of any refused call was written.
    assert!(observations(&app, &run).await.is_empty());
    // More than 500 items: refused whole.
    let many: Vec<Value> =
        (0..501).map(|_| json!({ "unitId": fgw, "ruleCode": "1.1-1", "facts": { "count": 1 } })).collect();
    expect_code(&app, RECORD_MANY, json!({ "i": { "runId": run, "items": many } }), "BAD_USER_INPUT").await;

    // All good: one call, one transaction; a retry with its key answers the same rows.
    let mut good = items(vec![json!({ "unitId": czj, "ruleCode": "1.1-1", "facts": { "count": 2 } })]);
    good["i"]["idempotencyKey"] = json!("june-batch-1");
    let rows = app.query_with(RECORD_MANY, good.clone()).await["recordObservations"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 10);
    let again = app.query_with(RECORD_MANY, good.clone()).await["recordObservations"].as_array().unwrap().clone();
    assert_eq!(rows, again);
    assert_eq!(observations(&app, &run).await.len(), 10);
    good["i"]["items"].as_array_mut().unwrap().pop();
    expect_code(&app, RECORD_MANY, good, "CONFLICT").await;
    // A batch of one is a batch: its retry answers its row too.
    let one = json!({ "i": { "runId": run, "idempotencyKey": "june-batch-one",
        "items": [{ "unitId": czj, "ruleCode": "1.1-1", "facts": { "count": 1 } }] } });
    let first = app.query_with(RECORD_MANY, one.clone()).await["recordObservations"].clone();
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(app.query_with(RECORD_MANY, one).await["recordObservations"], first);
    assert_eq!(observations(&app, &run).await.len(), 11);
    let out = app.query_with(WITHDRAW_MANY, json!({ "ids": [first[0]["id"]], "r": "试录" })).await;
    assert_eq!(out["withdrawObservations"][0]["status"], "WITHDRAWN");
    assert_eq!(observations(&app, &run).await.len(), 10);

    // A department head records only its own rules: each other item is FORBIDDEN by index.
    app.sign_in("xc-xueqian").await;
    let body = expect_code(
        &app,
        RECORD_MANY,
        json!({ "i": { "runId": run, "items": [
            { "unitId": czj, "ruleCode": "2.1-1", "facts": { "points": "7" } },
            { "unitId": czj, "ruleCode": "2.2-1", "facts": { "points": "7" } } ] } }),
        "FORBIDDEN",
    )
    .await;
    assert_eq!(fields(&body), vec![(1, "ruleCode".into(), "FORBIDDEN".into())]);
    app.sign_in("xc-admin").await;

    // Withdrawn in one call; a second time every item is a conflict, and nothing changes.
    let ids: Vec<String> = rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let out = app.query_with(WITHDRAW_MANY, json!({ "ids": ids[..3], "r": "录错批次" })).await;
    assert!(out["withdrawObservations"].as_array().unwrap().iter().all(|o| o["status"] == "WITHDRAWN"));
    let body = expect_code(&app, WITHDRAW_MANY, json!({ "ids": ids[2..5], "r": "再撤" }), "CONFLICT").await;
    assert_eq!(fields(&body), vec![(0, "ids".into(), "CONFLICT".into())]);
    assert_eq!(observations(&app, &run).await.len(), 7);

    // amendRun without copying: the revision starts empty.
    publish(&app, &run).await;
    let rev =
        app.query_with(AMEND, json!({ "r": run, "c": false })).await["amendRun"]["id"].as_str().unwrap().to_string();
    assert!(observations(&app, &rev).await.is_empty());
}

/// The 许昌 clause 「下发文件滞后的转到下月加分」 by hand: a 表彰 (市委、市政府, +1)
/// recorded in March with its document dated 2026-04-08 counts nothing in
/// March (deferred to 2026-04), and +1 in April: 禹州市, otherwise at full
/// marks, has 100 in March and 101 in April, first in April's ranking. It is
/// never counted twice, also when March is amended after April opened.
#[tokio::test]
async fn a_late_commendation_recorded_in_march_counts_once_in_april() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let yuzhou = unit(&units, "xc-yuzhou");
    // The demo seed published March for seven units; its revision starts empty.
    let seeded = app
        .query(r#"{ scoreRuns(organisationCode: "xuchang", period: "2026-03", first: 1) { edges { node { id } } } }"#)
        .await;
    let march1 = seeded["scoreRuns"]["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let march =
        app.query_with(AMEND, json!({ "r": march1, "c": false })).await["amendRun"]["id"].as_str().unwrap().to_string();
    let mut items = full_tasks(&yuzhou);
    items.push(json!({ "unitId": yuzhou, "ruleCode": "3-②a", "facts": { "level": "municipal" }, "documentDate": "2026-04-08", "note": "市政府表彰，文件4月8日印发" }));
    let rows = record_many(&app, &march, items).await;
    let commendation = rows.last().unwrap()["id"].as_str().unwrap().to_string();
    publish(&app, &march).await;
    let m = result_of(&app, &march, "xc-yuzhou").await;
    assert_eq!(dec(&m["finalScore"]), "100".parse().unwrap());
    let line = lines(&m, "3-②a");
    assert_eq!(line[0]["counted"], "deferred");
    assert_eq!(line[0]["deferredTo"], "2026-04");
    assert_eq!(line[0]["observation"], commendation.as_str());

    // April opens: the commendation is carried in, visibly.
    let jianan = unit(&units, "xc-jianan");
    let april = open(&app, "2026-04", &[&yuzhou, &jianan]).await;
    let carried: Vec<Value> =
        observations(&app, &april).await.into_iter().filter(|o| o["carriedFrom"].is_object()).collect();
    assert_eq!(carried.len(), 1, "{carried:?}");
    assert_eq!(carried[0]["carriedFrom"]["runId"], march.as_str());
    assert_eq!(carried[0]["carriedFrom"]["period"], "2026-03");
    assert_eq!(carried[0]["carriedFrom"]["observationId"], commendation.as_str());
    let carried_id = carried[0]["id"].as_str().unwrap().to_string();
    // March says where it went.
    let in_march = observations(&app, &march).await;
    let source = in_march.iter().find(|o| o["id"] == commendation.as_str()).unwrap();
    assert_eq!(source["carriedInto"]["period"], "2026-04");
    assert_eq!(source["carriedInto"]["observationId"], carried_id.as_str());
    // A carried row is changed at its source only.
    let body = expect_code(
        &app,
        "mutation($id: ID!) { withdrawObservation(id: $id, expectedVersion: 1, reason: \"x\") { id } }",
        json!({ "id": carried_id }),
        "CONFLICT",
    )
    .await;
    assert!(!body["errors"][0]["message"].as_str().unwrap().contains(&db_id(&carried_id).to_string()));

    let mut april_items = full_tasks(&yuzhou);
    april_items.extend(full_tasks(&jianan));
    record_many(&app, &april, april_items).await;
    // Live results already count it.
    assert_eq!(dec(&result_of(&app, &april, "xc-yuzhou").await["finalScore"]), "101".parse().unwrap());

    // March amended after April opened: the revision copies the deferred row
    // (same lineage); publishing it carries nothing new into April.
    let march3 =
        app.query_with(AMEND, json!({ "r": march, "c": true })).await["amendRun"]["id"].as_str().unwrap().to_string();
    publish(&app, &march3).await;
    let carried: Vec<Value> =
        observations(&app, &april).await.into_iter().filter(|o| o["carriedFrom"].is_object()).collect();
    assert_eq!(carried.len(), 1, "{carried:?}");
    let copy_in_march3 =
        observations(&app, &march3).await.into_iter().find(|o| o["ruleCode"] == "3-②a").unwrap()["id"].clone();
    // April's carried row now follows March's published revision.
    assert_eq!(carried[0]["carriedFrom"]["runId"], march3.as_str());
    assert_eq!(carried[0]["carriedFrom"]["observationId"], copy_in_march3);
    assert_eq!(dec(&result_of(&app, &march3, "xc-yuzhou").await["finalScore"]), "100".parse().unwrap());

    publish(&app, &april).await;
    let a = result_of(&app, &april, "xc-yuzhou").await;
    assert_eq!(dec(&a["finalScore"]), "101".parse().unwrap());
    assert_eq!(dec(&a["bonus"]), "1".parse().unwrap());
    let line = lines(&a, "3-②a");
    assert_eq!(line.len(), 1);
    assert_eq!(line[0]["counted"], "counted");
    assert_eq!(line[0]["carriedFrom"]["period"], "2026-03");
    // The 月讲评 ranking reflects it: 禹州市 first alone (101 vs 100).
    let ranking = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { ranking { rank finalScore unit { code } } } }",
            json!({ "r": april }),
        )
        .await;
    let rows = ranking["scoreRun"]["ranking"].as_array().unwrap();
    assert_eq!(rows[0]["unit"]["code"], "xc-yuzhou");
    assert_eq!((rows[0]["rank"].as_i64(), dec(&rows[0]["finalScore"])), (Some(1), "101".parse().unwrap()));
    assert_eq!((rows[1]["rank"].as_i64(), dec(&rows[1]["finalScore"])), (Some(2), "100".parse().unwrap()));

    // May: nothing more is carried (counted once, in April).
    let may = open(&app, "2026-05", &[&yuzhou]).await;
    assert!(observations(&app, &may).await.iter().all(|o| o["carriedFrom"].is_null()));
    // Amending March again after April is published carries nothing anywhere.
    let march4 =
        app.query_with(AMEND, json!({ "r": march3, "c": true })).await["amendRun"]["id"].as_str().unwrap().to_string();
    publish(&app, &march4).await;
    assert!(observations(&app, &may).await.iter().all(|o| o["carriedFrom"].is_null()));
    assert_eq!(dec(&result_of(&app, &march4, "xc-yuzhou").await["finalScore"]), "100".parse().unwrap());
}

/// A 表彰 recorded in March dated in April, when April is already published:
/// it lands in the next open period (May).
#[tokio::test]
async fn a_late_document_whose_period_is_published_lands_in_the_next_open_period() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let fgw = unit(&units, "xc-fgw");
    let june = open(&app, "2026-06", &[&fgw]).await;
    let july = open(&app, "2026-07", &[&fgw]).await;
    publish(&app, &july).await;
    let august = open(&app, "2026-08", &[&fgw]).await;
    record_many(
        &app,
        &june,
        vec![json!({ "unitId": fgw, "ruleCode": "3-①", "facts": { "level": "provincial" }, "documentDate": "2026-07-02" })],
    )
    .await;
    publish(&app, &june).await;
    // July is published: the 现场会 (+3) lands in August, the next open period.
    let carried: Vec<Value> =
        observations(&app, &august).await.into_iter().filter(|o| o["carriedFrom"].is_object()).collect();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0]["carriedFrom"]["period"], "2026-06");
    publish(&app, &august).await;
    assert_eq!(dec(&result_of(&app, &august, "xc-fgw").await["bonus"]), "3".parse().unwrap());
    assert_eq!(dec(&result_of(&app, &july, "xc-fgw").await["bonus"]), "0".parse().unwrap());
    assert_eq!(dec(&result_of(&app, &june, "xc-fgw").await["bonus"]), "0".parse().unwrap());
}

/// The annual worked example (城口 教师进修学校, 91.4) entered through the API,
/// counting calls: one observation per call, then all in one call.
#[tokio::test]
async fn the_annual_worked_example_takes_fewer_calls_in_bulk() {
    let app = spawn_app_as("ck-admin").await;
    let calls = std::sync::atomic::AtomicUsize::new(1); // the sign-in
    let q = |doc: &'static str, vars: Value| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let app = &app;
        async move { app.query_with(doc, vars).await }
    };
    let found = q(
        r#"{ scoreRuns(organisationCode: "chengkou", period: "2026", first: 1) { edges { node { id } } } }"#,
        json!({}),
    )
    .await;
    let run = found["scoreRuns"]["edges"][0]["node"]["id"].as_str().unwrap().to_string();
    let unit_q =
        q(r#"{ organisation(code: "chengkou") { units(first: 100) { edges { node { id code } } } } }"#, json!({}))
            .await;
    let jxx = unit_q["organisation"]["units"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["code"] == "ck-jxx")
        .unwrap()["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let items = vec![
        json!({ "unitId": jxx, "ruleCode": "1-1", "facts": { "points": "18.5" } }),
        json!({ "unitId": jxx, "ruleCode": "2.1.1-1", "facts": { "count": 3 } }),
        json!({ "unitId": jxx, "ruleCode": "2.1.1-3", "facts": { "count": 2 } }),
        json!({ "unitId": jxx, "ruleCode": "2.1.2-2", "facts": { "value": "3" } }),
        json!({ "unitId": jxx, "ruleCode": "2.1.2-5", "facts": { "value": "80" } }),
        json!({ "unitId": jxx, "ruleCode": "2.2-2", "facts": { "value": "87.5" } }),
        json!({ "unitId": jxx, "ruleCode": "7-1", "facts": { "component": "leaders", "rate": "90" } }),
        json!({ "unitId": jxx, "ruleCode": "7-1", "facts": { "component": "groups", "rate": "80" } }),
        json!({ "unitId": jxx, "ruleCode": "7-1", "facts": { "component": "inspector", "rate": "100" } }),
        json!({ "unitId": jxx, "ruleCode": "7-1", "facts": { "component": "schools", "rate": "75" } }),
        json!({ "unitId": jxx, "ruleCode": "8.1-2", "facts": { "level": "city" } }),
    ];
    let base = calls.load(std::sync::atomic::Ordering::Relaxed);
    let mut counted = Vec::new();
    let mut current = run.clone();
    for bulk in [false, true] {
        let before = calls.load(std::sync::atomic::Ordering::Relaxed);
        let rev = q(AMEND, json!({ "r": current, "c": false })).await["amendRun"]["id"].as_str().unwrap().to_string();
        if bulk {
            q(RECORD_MANY, json!({ "i": { "runId": rev, "items": items } })).await;
        } else {
            for it in &items {
                let mut i = it.clone();
                i["runId"] = json!(rev);
                q(RECORD, json!({ "i": i })).await;
            }
        }
        let v = q(RUN, json!({ "r": rev })).await["scoreRun"]["version"].as_i64().unwrap();
        q(PUBLISH, json!({ "r": rev, "v": v })).await;
        let res = q(RESULT, json!({ "r": rev })).await;
        let total = dec(&res["scoreRun"]["results"]["edges"][0]["node"]["finalScore"]);
        assert_eq!(total, "91.4".parse().unwrap());
        counted.push(base + calls.load(std::sync::atomic::Ordering::Relaxed) - before);
        current = rev;
    }
    // Sign-in, find the run and the unit, amend, record, read the version, publish, read the result.
    assert_eq!(counted, vec![3 + 1 + 11 + 3, 3 + 1 + 1 + 3], "calls single vs bulk");
    println!("annual worked example (91.4): {} calls one by one, {} in bulk", counted[0], counted[1]);
}

/// Arbitrary items (ids, rule codes, facts, dates) to `recordObservations`:
/// every answer is a GraphQL response whose every error carries a code.
#[tokio::test]
async fn arbitrary_items_to_record_observations_get_a_coded_answer() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let fgw = unit(&units, "xc-fgw");
    let run = open(&app, "2026-09", &[&fgw]).await;
    let id = prop_oneof![
        Just(json!(fgw.clone())),
        Just(json!(crate::helpers::gid("Unit", i64::MAX))),
        ".{0,12}".prop_map(Value::String),
    ];
    let rule = prop::sample::select(vec!["1.1-1", "2.1-1", "3-②a", "3-①", "9", "", "3-③b"]).prop_map(|s| json!(s));
    let num = prop_oneof![any::<i64>().prop_map(|n| json!(n)), Just(Value::Null), Just(json!(-1)),];
    let decimal = prop_oneof![
        any::<i32>().prop_map(|n| json!(n.to_string())),
        prop::sample::select(vec!["1e99", "-0", "7.0000001", "NaN", "", "8"]).prop_map(|s| json!(s)),
        Just(Value::Null),
    ];
    let level = prop_oneof![
        prop::sample::select(vec!["municipal", "provincial", "x"]).prop_map(|s| json!(s)),
        Just(Value::Null)
    ];
    let date = prop_oneof![
        prop::sample::select(vec!["2026-09-30", "2026-10-01", "2026-02-30", "x", "9999-12-31"]).prop_map(|s| json!(s)),
        Just(Value::Null),
    ];
    let item = (id, rule, num, decimal, level, date).prop_map(|(u, r, c, p, l, d)| {
        json!({ "unitId": u, "ruleCode": r, "facts": { "count": c, "points": p, "level": l }, "documentDate": d })
    });
    let items = prop::collection::vec(item, 0..6);
    let mut runner = TestRunner::deterministic();
    for _ in 0..40 {
        let v = items.new_tree(&mut runner).unwrap().current();
        let body = app.post(RECORD_MANY, json!({ "i": { "runId": run, "items": v } })).await;
        let coded =
            body["errors"].as_array().is_none_or(|errs| errs.iter().all(|e| e["extensions"]["code"].is_string()));
        assert!(coded && (body.get("data").is_some() || body.get("errors").is_some()), "{v:?}: {body}");
        if body.get("errors").is_some() {
            assert!(!code(&body).is_empty(), "{body}");
        }
    }
    publish(&app, &run).await;
}

/// Rule discovery: a rule by its code with a stable label, its clause and what
/// it takes; a clause-text search.
#[tokio::test]
async fn rules_are_found_by_code_and_by_clause_text_with_a_stable_label() {
    let app = spawn_app_as("xc-admin").await;
    let version = app.version_id("xuchang").await.unwrap();
    const RULE: &str = "query($v: ID!, $c: String!) { rubricVersion(id: $v) { rule(code: $c) {
        code displayLabel clauseNo clauseText indicatorCode facts unitOfMeasure minValue maxValue deferLate
        levels { key label points } components { key } grades } } }";
    let r = app.query_with(RULE, json!({ "v": version, "c": "3-②a" })).await["rubricVersion"]["rule"].clone();
    assert_eq!(r["clauseNo"], "②");
    assert!(r["clauseText"].as_str().unwrap().contains("表彰奖励"));
    assert_eq!(r["indicatorCode"], "3");
    assert_eq!(r["facts"], json!(["level", "count"]));
    assert_eq!(r["deferLate"], true);
    assert_eq!(
        r["levels"].as_array().unwrap().iter().map(|l| l["key"].clone()).collect::<Vec<_>>(),
        vec![json!("municipal"), json!("provincial")]
    );
    assert_eq!(r["displayLabel"], "3-②a 表彰奖励｜第②条｜level+count（件（项））｜市委、市政府 1 / 省级有关部门 1");
    // The same label on a second read (it is made from the published version only).
    let again = app.query_with(RULE, json!({ "v": version, "c": "3-②a" })).await["rubricVersion"]["rule"].clone();
    assert_eq!(again["displayLabel"], r["displayLabel"]);
    let direct = app.query_with(RULE, json!({ "v": version, "c": "2.4-1" })).await["rubricVersion"]["rule"].clone();
    assert_eq!((direct["unitOfMeasure"].as_str(), direct["maxValue"].as_str()), (Some("分"), Some("9")));
    assert!(app.query_with(RULE, json!({ "v": version, "c": "nope" })).await["rubricVersion"]["rule"].is_null());

    const SEARCH: &str =
        "query($v: ID!, $t: String!, $f: Int) { rubricVersion(id: $v) { searchRules(text: $t, first: $f) { code } } }";
    let found = app.query_with(SEARCH, json!({ "v": version, "t": "表彰", "f": 10 })).await;
    let codes: Vec<&str> =
        found["rubricVersion"]["searchRules"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    // Clause ② mentions 表彰奖励 (and its 通报批评 rule shares the clause).
    assert_eq!(codes, vec!["3-②a", "3-②b"]);
    let found = app.query_with(SEARCH, json!({ "v": version, "t": "寄宿制", "f": 10 })).await;
    assert_eq!(found["rubricVersion"]["searchRules"][0]["code"], "2.4-1");
    expect_code(&app, SEARCH, json!({ "v": version, "t": " ", "f": 10 }), "BAD_USER_INPUT").await;
    expect_code(&app, SEARCH, json!({ "v": version, "t": "表彰", "f": 0 }), "BAD_USER_INPUT").await;
    // Arbitrary text and sizes, and arbitrary codes: a coded answer every time.
    let mut runner = TestRunner::deterministic();
    let args = (".{0,120}", any::<i32>(), ".{0,20}");
    for _ in 0..40 {
        let (t, f, c) = args.new_tree(&mut runner).unwrap().current();
        for (q, vars) in [(SEARCH, json!({ "v": version, "t": t, "f": f })), (RULE, json!({ "v": version, "c": c }))] {
            // The gate may refuse a huge `first` before the schema sees it (400, coded).
            let token = app.token.lock().unwrap().clone().unwrap();
            let res = app
                .client
                .post(format!("{}/graphql", app.address))
                .bearer_auth(token)
                .json(&json!({ "query": q, "variables": vars }))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            let coded =
                body["errors"].as_array().is_none_or(|errs| errs.iter().all(|e| e["extensions"]["code"].is_string()));
            assert!(status < 500 && coded && (body.get("data").is_some() || body.get("errors").is_some()), "{body}");
        }
    }
}

/// A full batch (500 items over three units) in one call, timed: one
/// transaction with 500 rows, their unit check and 500 audit entries.
#[tokio::test]
async fn a_batch_of_500_observations_is_one_call() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let us: Vec<String> = ["xc-fgw", "xc-czj", "xc-rsj"].iter().map(|c| unit(&units, c)).collect();
    let refs: Vec<&str> = us.iter().map(String::as_str).collect();
    let run = open(&app, "2026-10", &refs).await;
    let items: Vec<Value> = (0..500)
        .map(|i| json!({ "unitId": us[i % 3], "ruleCode": "1.1-1", "facts": { "count": 1 }, "note": format!("第{i}次") }))
        .collect();
    let started = std::time::Instant::now();
    let rows = record_many(&app, &run, items).await;
    let took = started.elapsed();
    assert_eq!(rows.len(), 500);
    println!("recordObservations, 500 items: {took:?} ({})", if app.is_sqlite() { "SQLite" } else { "PostgreSQL" });
    // The 500 entries are chained each from the last, from the head read
    // under the write turn: the chain verifies, every entry on it.
    let chain = app.query("{ verifyAuditChain { ok entries firstBrokenId } }").await["verifyAuditChain"].clone();
    assert_eq!((chain["ok"].clone(), chain["firstBrokenId"].clone()), (json!(true), Value::Null), "{chain}");
    assert!(chain["entries"].as_u64().unwrap() >= 500, "{chain}");
    // 平时考核: 167 (or 166) late reports each; 扣完为止 at 5 points.
    publish(&app, &run).await;
    assert_eq!(dec(&result_of(&app, &run, "xc-fgw").await["finalScore"]), "25".parse().unwrap());
}

/// Approving a claim records an observation: it is refused at the door like
/// any recording (a second direct score for the unit), and the claim stays
/// pending. A claim's evidence date becomes its document date only on a rule
/// that defers late documents.
#[tokio::test]
async fn an_approved_claim_is_checked_at_the_door_too() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app, "xuchang").await;
    let weidu = unit(&units, "xc-weidu");
    let run = open(&app, "2026-11", &[&weidu]).await;
    app.query_with(
        RECORD,
        json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "2.1-1", "facts": { "points": "6" } } }),
    )
    .await;
    const FILE: &str = "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id status version } }";
    let file = |rule: &str, facts: Value| {
        json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": rule, "facts": facts,
            "evidence": [{ "docNumber": "许教组〔2026〕9号", "docDate": "2026-12-03" }] } })
    };
    app.sign_in("xc-weidu").await;
    let direct = app.query_with(FILE, file("2.1-1", json!({ "points": "7" }))).await["fileClaim"].clone();
    let late = app.query_with(FILE, file("3-②a", json!({ "level": "municipal" }))).await["fileClaim"].clone();
    app.sign_in("xc-admin").await;
    const DECIDE: &str =
        "mutation($c: ID!, $v: Int) { decideClaim(id: $c, approve: true, reason: \"属实\", expectedVersion: $v) {
        status observation { id documentDate } } }";
    expect_code(&app, DECIDE, json!({ "c": direct["id"], "v": direct["version"] }), "CONFLICT").await;
    let pending = app.query_with("query($c: ID!) { claim(id: $c) { status } }", json!({ "c": direct["id"] })).await;
    assert_eq!(pending["claim"]["status"], "PENDING");
    // The 表彰 rule defers: the evidence's date (December) is the document date, so it is deferred.
    let decided = app.query_with(DECIDE, json!({ "c": late["id"], "v": late["version"] })).await["decideClaim"].clone();
    assert_eq!(decided["observation"]["documentDate"], "2026-12-03");
    publish(&app, &run).await;
    let r = result_of(&app, &run, "xc-weidu").await;
    assert_eq!(lines(&r, "3-②a")[0]["deferredTo"], "2026-12");
}

/// Eight clients give the same direct score at once: the check runs inside
/// the organisation's write turn, so exactly one lands (on PostgreSQL too,
/// where transactions alone would let two pass the check side by side).
#[tokio::test]
async fn concurrent_second_direct_scores_are_refused_but_one() {
    let app = spawn_app_as("ck-admin").await;
    let version = app.version_id("chengkou").await.unwrap();
    let jxx = unit(&unit_ids(&app, "chengkou").await, "ck-jxx");
    let open = json!({ "i": { "rubricVersionId": version, "period": "2027", "unitIds": [jxx], "title": "2027年度" } });
    let run = app.query_with("mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }", open).await;
    let run = run["openScoreRun"]["id"].as_str().unwrap().to_string();
    let token = app.token.lock().unwrap().clone().unwrap();
    let record = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
    let vars = json!({ "i": { "runId": run, "unitId": jxx, "ruleCode": "1-1", "facts": { "points": "18" } } });
    let mut writes = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(&token);
        writes.spawn(req.json(&json!({ "query": record, "variables": vars })).send());
    }
    let (mut landed, mut refused) = (0, 0);
    while let Some(sent) = writes.join_next().await {
        let body: Value = sent.unwrap().unwrap().json().await.unwrap();
        match code(&body) {
            "" => landed += 1,
            "CONFLICT" => refused += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((landed, refused), (1, 7));
    let count = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { observations(first: 10, status: ACTIVE) { totalCount } } }",
            json!({ "r": run }),
        )
        .await;
    assert_eq!(count["scoreRun"]["observations"]["totalCount"], 1);
}
