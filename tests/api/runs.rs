//! A real run through the API, over HTTP: open, observe, claim, submit,
//! publish, read results and ranking, amend, audit. Figures are the worked
//! examples of DOMAIN.md, computed by hand.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, db_id, expect_code, gid, spawn_app_as};

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

fn unit<'a>(units: &'a [(String, String)], code: &str) -> &'a str {
    &units.iter().find(|(c, _)| c == code).unwrap().1
}

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id status revision version period } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id version status } }";
const PUBLISH: &str =
    "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { id status version publishedAt } }";
const RESULTS: &str = "query($r: ID!) { scoreRun(id: $r) { status results(first: 100) { totalCount edges { node {
    unit { code } rank finalScore base bonus penalty
    sections { code score weighted }
    explanation { code score rules { rule amount observations { observation formula amount } } } } } } } }";

async fn record(app: &TestApp, run: &str, unit: &str, rule: &str, facts: Value) -> Value {
    let data = app
        .query_with(RECORD, json!({ "i": { "runId": run, "unitId": unit, "ruleCode": rule, "facts": facts } }))
        .await;
    data["recordObservation"].clone()
}

fn d(v: &Value) -> rust_decimal::Decimal {
    v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}")).parse().unwrap()
}

#[tokio::test]
async fn annual_chengkou_run_from_opening_to_amendment() {
    let app = spawn_app_as("ck-admin").await;
    let version = app.version_id("chengkou").await.expect("城口 rubric loaded");
    let units = unit_ids(&app, "chengkou").await;
    let jxx = unit(&units, "ck-jxx").to_string();

    // A monthly period on an annual regime is refused.
    let open = |period: &str, key: &str| json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": [jxx], "title": "2027年度督导考核", "idempotencyKey": key } });
    expect_code(&app, OPEN, open("2027-03", "k0"), "BAD_USER_INPUT").await;
    // The demo seed holds the published 2026 run: a second run for it is a conflict.
    expect_code(&app, OPEN, open("2026", "k1"), "CONFLICT").await;
    // The same rubric applied to 2027 (the seed's 2026 run stays as it is).
    let run = app.query_with(OPEN, open("2027", "ck-2027")).await["openScoreRun"].clone();
    assert_eq!(run["status"], "OPEN");
    let run_id = run["id"].as_str().unwrap().to_string();
    // The same idempotency key opens nothing new.
    let again = app.query_with(OPEN, open("2027", "ck-2027")).await["openScoreRun"].clone();
    assert_eq!(again["id"], run["id"]);

    // Several departments' sections: 党建 (秘书科), 研训一体化, 满意度.
    record(&app, &run_id, &jxx, "1-1", json!({ "points": "18.5" })).await;
    // Entered wrong first (5 people), corrected to 3 with a reason.
    let wrong = record(&app, &run_id, &jxx, "2.1.1-1", json!({ "count": 5 })).await;
    record(&app, &run_id, &jxx, "2.1.1-3", json!({ "count": 2 })).await;
    record(&app, &run_id, &jxx, "2.1.2-2", json!({ "value": "3" })).await;
    record(&app, &run_id, &jxx, "2.1.2-5", json!({ "value": "80" })).await;
    record(&app, &run_id, &jxx, "2.2-2", json!({ "value": "87.5" })).await;
    let mut satisfaction = Vec::new();
    for (c, r) in [("leaders", "90"), ("groups", "80"), ("inspector", "100"), ("schools", "75")] {
        satisfaction.push(record(&app, &run_id, &jxx, "7-1", json!({ "component": c, "rate": r })).await);
    }

    // A bad observation is refused by the engine, naming the rule.
    let bad = json!({ "i": { "runId": run_id, "unitId": jxx, "ruleCode": "2.1.1-1", "facts": { "value": "3" } } });
    let body = expect_code(&app, RECORD, bad, "BAD_USER_INPUT").await;
    assert_eq!(body["errors"][0]["extensions"]["rule"], "2.1.1-1", "{body:#}");
    let unknown = json!({ "i": { "runId": run_id, "unitId": jxx, "ruleCode": "99-9", "facts": { "count": 1 } } });
    let body = expect_code(&app, RECORD, unknown, "BAD_USER_INPUT").await;
    assert_eq!(body["errors"][0]["extensions"]["rule"], "99-9");

    // Correct: reason required; stale version → CONFLICT; the old row is kept.
    const CORRECT: &str =
        "mutation($i: CorrectObservationInput!) { correctObservation(input: $i) { id status version supersedesId } }";
    let correction = |v: i64, reason: &str| json!({ "i": { "id": wrong["id"], "expectedVersion": v, "facts": { "count": 3 }, "reason": reason } });
    expect_code(&app, CORRECT, correction(1, "  "), "BAD_USER_INPUT").await;
    expect_code(&app, CORRECT, correction(7, "听课记录复核"), "CONFLICT").await;
    let fixed = app.query_with(CORRECT, correction(1, "听课记录复核: 3 人")).await["correctObservation"].clone();
    assert_eq!(fixed["supersedesId"], wrong["id"]);
    // Correcting the same old version again is a conflict (someone already did).
    expect_code(&app, CORRECT, correction(1, "again"), "CONFLICT").await;
    let old = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { observations(status: SUPERSEDED, first: 10) { totalCount edges { node { id version } } } } }",
            json!({ "r": run_id }),
        )
        .await;
    assert_eq!(old["scoreRun"]["observations"]["totalCount"], 1);
    assert_eq!(old["scoreRun"]["observations"]["edges"][0]["node"]["id"], wrong["id"]);

    // A bonus claim (申报) with a document reference; approved, it counts.
    let claim = app
        .query_with(
            "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id status evidence { docNumber docDate } } }",
            json!({ "i": { "runId": run_id, "unitId": jxx, "ruleCode": "8.1-2", "facts": { "level": "city" },
                "evidence": [{ "docNumber": "城教发〔2026〕12号", "docDate": "2026-05-10" }] } }),
        )
        .await["fileClaim"]
        .clone();
    assert_eq!(claim["status"], "PENDING");
    assert_eq!(claim["evidence"][0]["docNumber"], "城教发〔2026〕12号");
    const DECIDE: &str = "mutation($c: ID!, $r: String!) { decideClaim(id: $c, approve: true, reason: $r) { status observation { id evidence { docNumber } } } }";
    let decided = app.query_with(DECIDE, json!({ "c": claim["id"], "r": "材料齐全" })).await["decideClaim"].clone();
    assert_eq!(decided["status"], "APPROVED");
    assert_eq!(decided["observation"]["evidence"][0]["docNumber"], "城教发〔2026〕12号");
    expect_code(&app, DECIDE, json!({ "c": claim["id"], "r": "again" }), "CONFLICT").await;

    // 满意度 submitted: a write to it is FROZEN until the office reopens it.
    const SUBMIT: &str =
        "mutation($r: ID!, $s: String!) { submitSection(runId: $r, sectionCode: $s) { status sectionCode } }";
    let sub = app.query_with(SUBMIT, json!({ "r": run_id, "s": "7" })).await;
    assert_eq!(sub["submitSection"]["status"], "SUBMITTED");
    let frozen = json!({ "i": { "runId": run_id, "unitId": jxx, "ruleCode": "7-1", "facts": { "component": "leaders", "rate": "95" } } });
    expect_code(&app, RECORD, frozen.clone(), "FROZEN").await;
    // So is correcting one of its rows (checked inside the write turn).
    let fix = json!({ "i": { "id": satisfaction[0]["id"], "expectedVersion": 1,
        "facts": { "component": "leaders", "rate": "91" }, "reason": "复核" } });
    expect_code(&app, CORRECT, fix, "FROZEN").await;
    // And withdrawing one (its section read in the turn's one statement).
    const WITHDRAW_ONE: &str =
        "mutation($id: ID!) { withdrawObservation(id: $id, expectedVersion: 1, reason: \"撤回\") { status } }";
    expect_code(&app, WITHDRAW_ONE, json!({ "id": satisfaction[0]["id"] }), "FROZEN").await;
    app.query_with(
        "mutation($r: ID!, $s: String!) { reopenSection(runId: $r, sectionCode: $s) { status } }",
        json!({ "r": run_id, "s": "7" }),
    )
    .await;
    app.query_with(SUBMIT, json!({ "r": run_id, "s": "7" })).await;

    // Live results while open: the worked example, 91.4.
    let live = app.query_with(RESULTS, json!({ "r": run_id })).await;
    assert_eq!(d(&live["scoreRun"]["results"]["edges"][0]["node"]["finalScore"]), "91.4".parse().unwrap());

    // Publish: stale version → CONFLICT; then published and frozen.
    let current = app.query_with("query($r: ID!) { scoreRun(id: $r) { version } }", json!({ "r": run_id })).await;
    let v = current["scoreRun"]["version"].as_i64().unwrap();
    expect_code(&app, PUBLISH, json!({ "r": run_id, "v": v + 1 }), "CONFLICT").await;
    let published = app.query_with(PUBLISH, json!({ "r": run_id, "v": v })).await["publishRun"].clone();
    assert_eq!(published["status"], "PUBLISHED");
    expect_code(&app, PUBLISH, json!({ "r": run_id, "v": v + 1 }), "FROZEN").await;
    let any_write = json!({ "i": { "runId": run_id, "unitId": jxx, "ruleCode": "2.1.1-3", "facts": { "count": 1 } } });
    expect_code(&app, RECORD, any_write, "FROZEN").await;
    expect_code(&app, WITHDRAW_ONE, json!({ "id": satisfaction[0]["id"] }), "FROZEN").await;

    let res = app.query_with(RESULTS, json!({ "r": run_id })).await;
    let r = &res["scoreRun"]["results"]["edges"][0]["node"];
    assert_eq!(r["unit"]["code"], "ck-jxx");
    assert_eq!(r["rank"], 1);
    // base = 18.5 + 29.8 + 15 + 3 + 4 + 8 + 12.6 = 90.9; bonus 0.5 (市级现场会); final 91.4.
    assert_eq!(d(&r["base"]), "90.9".parse().unwrap());
    assert_eq!(d(&r["bonus"]), "0.5".parse().unwrap());
    assert_eq!(d(&r["penalty"]), "0".parse().unwrap());
    assert_eq!(d(&r["finalScore"]), "91.4".parse().unwrap());
    let ind = |c: &str| r["explanation"].as_array().unwrap().iter().find(|i| i["code"] == c).unwrap().clone();
    assert_eq!(d(&ind("2.1.1")["score"]), "9.5".parse().unwrap());
    assert_eq!(d(&ind("2.1.2")["score"]), "7.5".parse().unwrap());
    assert_eq!(d(&ind("2.2")["score"]), "4.8".parse().unwrap());
    assert_eq!(d(&ind("7")["score"]), "12.6".parse().unwrap());
    let quota = ind("2.1.1")["rules"].as_array().unwrap().iter().find(|l| l["rule"] == "2.1.1-1").unwrap().clone();
    assert_eq!(d(&quota["amount"]), "1.5".parse().unwrap());
    assert_eq!(quota["observations"][0]["observation"], fixed["id"], "the correction counts, not the old row");
    // The stored section rows carry exact decimals.
    let sec = r["sections"].as_array().unwrap().iter().find(|s| s["code"] == "2").unwrap().clone();
    assert_eq!(d(&sec["score"]), "29.8".parse().unwrap());

    // Amend: a new revision, linked; the old one stays readable.
    const AMEND: &str = "mutation($r: ID!, $why: String!) { amendRun(runId: $r, reason: $why) { id revision status version replaces { id status } } }";
    expect_code(&app, AMEND, json!({ "r": run_id, "why": "" }), "BAD_USER_INPUT").await;
    let amended =
        app.query_with(AMEND, json!({ "r": run_id, "why": "复核: 培训满意度更正" })).await["amendRun"].clone();
    assert_eq!(amended["revision"], 2);
    assert_eq!(amended["status"], "OPEN");
    assert_eq!(amended["replaces"]["id"], run_id.as_str());
    assert_eq!(amended["replaces"]["status"], "PUBLISHED");
    let new_id = amended["id"].as_str().unwrap().to_string();
    expect_code(&app, AMEND, json!({ "r": run_id, "why": "twice" }), "CONFLICT").await;
    // Training satisfaction re-surveyed: 90% → no deduction (+0.2).
    let copied = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { observations(indicatorCode: \"2.2\", status: ACTIVE, first: 10) { totalCount edges { node { id version } } } } }",
            json!({ "r": new_id }),
        )
        .await;
    let training = copied["scoreRun"]["observations"]["edges"][0]["node"].clone();
    app.query_with(
        CORRECT,
        json!({ "i": { "id": training["id"], "expectedVersion": training["version"], "facts": { "value": "90" }, "reason": "满意度复测" } }),
    )
    .await;
    let v2 = amended["version"].as_i64().unwrap();
    app.query_with(PUBLISH, json!({ "r": new_id, "v": v2 })).await;
    let new_res = app.query_with(RESULTS, json!({ "r": new_id })).await;
    assert_eq!(d(&new_res["scoreRun"]["results"]["edges"][0]["node"]["finalScore"]), "91.6".parse().unwrap());
    let old_res = app.query_with(RESULTS, json!({ "r": run_id })).await;
    assert_eq!(old_res["scoreRun"]["status"], "SUPERSEDED");
    assert_eq!(d(&old_res["scoreRun"]["results"]["edges"][0]["node"]["finalScore"]), "91.4".parse().unwrap());

    // The audit log: by run and by unit; the chain verifies, and a tampered row is found.
    let log = app
        .query_with(
            "query($r: ID!, $u: ID!) { byRun: auditLog(runId: $r, first: 100) { totalCount edges { node { id action } } }
               byUnit: auditLog(unitId: $u, first: 100) { totalCount }
               verifyAuditChain { ok entries firstBrokenId } }",
            json!({ "r": run_id, "u": jxx }),
        )
        .await;
    let actions: Vec<&str> =
        log["byRun"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["action"].as_str().unwrap()).collect();
    for a in [
        "score_run.open",
        "observation.record",
        "observation.correct",
        "claim.file",
        "claim.approve",
        "section.submit",
        "section.reopen",
        "score_run.publish",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(log["byUnit"]["totalCount"].as_i64().unwrap() >= 12);
    assert_eq!(log["verifyAuditChain"]["ok"], true, "{log:#}");
    let victim_id = log["byRun"]["edges"][3]["node"]["id"].as_str().unwrap().to_string();
    let victim = db_id(&victim_id);
    app.db
        .execute_unprepared(&format!(
            "UPDATE audit_log SET after = '{{\"facts\":{{\"count\":0}}}}' WHERE id = {victim}"
        ))
        .await
        .unwrap();
    let check = app.query("{ verifyAuditChain { ok firstBrokenId } }").await;
    assert_eq!(check["verifyAuditChain"]["ok"], false);
    assert_eq!(check["verifyAuditChain"]["firstBrokenId"], victim_id);
}

#[tokio::test]
async fn monthly_xuchang_run_ranks_with_shared_ranks_and_pages() {
    let app = spawn_app_as("xc-admin").await;
    let version = app.version_id("xuchang").await.expect("许昌 rubric loaded");
    let units = unit_ids(&app, "xuchang").await;
    let (weidu, jianan, dongcheng) = (
        unit(&units, "xc-weidu").to_string(),
        unit(&units, "xc-jianan").to_string(),
        unit(&units, "xc-dongcheng").to_string(),
    );
    let open = |period: &str| json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": [weidu, jianan, dongcheng], "title": "2026年4月月讲评" } });
    expect_code(&app, OPEN, open("2026"), "BAD_USER_INPUT").await;
    let run = app.query_with(OPEN, open("2026-04")).await["openScoreRun"].clone();
    let run_id = run["id"].as_str().unwrap().to_string();
    // A unit of another organisation cannot be assessed here.
    let ck = unit_ids(&app, "chengkou").await;
    let foreign =
        json!({ "i": { "rubricVersionId": version, "period": "2026-05", "unitIds": [ck[0].1], "title": "x" } });
    expect_code(&app, OPEN, foreign, "BAD_USER_INPUT").await;

    // 魏都区 and 建安区: the worked example (88.5) each; 东城区: nothing recorded (30 + 0).
    for u in [&weidu, &jianan] {
        record(&app, &run_id, u, "1.1-1", json!({ "count": 1 })).await;
        record(&app, &run_id, u, "1.3-1", json!({ "count": 2 })).await;
        for (task, p) in ["6", "7", "6", "8", "8", "6", "8", "6", "7"].iter().enumerate() {
            record(&app, &run_id, u, &format!("2.{}-1", task + 1), json!({ "points": p })).await;
        }
        record(&app, &run_id, u, "3-①", json!({ "level": "provincial" })).await;
        for level in ["municipal", "provincial"] {
            app.query_with(
                RECORD,
                json!({ "i": { "runId": run_id, "unitId": u, "ruleCode": "3-②a", "facts": { "level": level }, "workKey": "same-work" } }),
            )
            .await;
        }
        record(&app, &run_id, u, "3-③b", json!({ "level": "municipal" })).await;
    }

    // Paging: `first` is required and capped.
    const PAGE: &str = "query($r: ID!, $f: Int!, $a: String) { scoreRun(id: $r) { results(first: $f, after: $a) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { unit { code } rank finalScore } } } } }";
    expect_code(&app, PAGE, json!({ "r": run_id, "f": 0 }), "BAD_USER_INPUT").await;
    expect_code(&app, PAGE, json!({ "r": run_id, "f": 101 }), "BAD_USER_INPUT").await;
    let p1 = app.query_with(PAGE, json!({ "r": run_id, "f": 2 })).await;
    let c1 = &p1["scoreRun"]["results"];
    assert_eq!(c1["totalCount"], 3);
    assert_eq!(c1["pageInfo"]["hasNextPage"], true);
    let p2 = app.query_with(PAGE, json!({ "r": run_id, "f": 2, "a": c1["pageInfo"]["endCursor"] })).await;
    let c2 = &p2["scoreRun"]["results"];
    assert_eq!(c2["edges"].as_array().unwrap().len(), 1);
    assert_eq!(c2["pageInfo"]["hasNextPage"], false);
    assert_eq!(c2["edges"][0]["node"]["unit"]["code"], "xc-dongcheng");

    // What-if: withdrawing 建安区's penalty would put it first alone; nothing is saved.
    let obs = app
        .query_with(
            "query($r: ID!, $u: ID!) { scoreRun(id: $r) { observations(unitId: $u, indicatorCode: \"3\", first: 10) { edges { node { id ruleCode } } } } }",
            json!({ "r": run_id, "u": jianan }),
        )
        .await;
    let penalty = obs["scoreRun"]["observations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["ruleCode"] == "3-③b")
        .unwrap()["node"]["id"]
        .clone();
    let wi = app
        .query_with(
            "query($r: ID!, $o: ID!) { scoreRun(id: $r) { whatIf(changes: [{ removeObservationId: $o }]) { unit { code } finalBefore rankBefore finalAfter rankAfter } } }",
            json!({ "r": run_id, "o": penalty }),
        )
        .await;
    let row =
        wi["scoreRun"]["whatIf"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == "xc-jianan").unwrap().clone();
    assert_eq!((row["rankBefore"].as_i64(), row["rankAfter"].as_i64()), (Some(1), Some(1)));
    assert_eq!(d(&row["finalAfter"]), "89".parse().unwrap());

    let v = run["version"].as_i64().unwrap();
    app.query_with(PUBLISH, json!({ "r": run_id, "v": v })).await;
    let ranking = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { ranking { rank unit { code } finalScore bonus penalty sections { code weighted } } } }",
            json!({ "r": run_id }),
        )
        .await;
    let rows = ranking["scoreRun"]["ranking"].as_array().unwrap();
    let ranks: Vec<i64> = rows.iter().map(|r| r["rank"].as_i64().unwrap()).collect();
    assert_eq!(ranks, [1, 1, 3], "ties share a rank");
    assert_eq!(d(&rows[0]["finalScore"]), "88.5".parse().unwrap());
    assert_eq!(d(&rows[0]["sections"][0]["weighted"]), "23".parse().unwrap());
    assert_eq!(d(&rows[0]["sections"][1]["weighted"]), "62".parse().unwrap());
    assert_eq!(d(&rows[0]["bonus"]), "4".parse().unwrap());
    assert_eq!(d(&rows[0]["penalty"]), "0.5".parse().unwrap());
    assert_eq!(d(&rows[2]["finalScore"]), "30".parse().unwrap());

    // 月讲评: the period's published ranking, incrementally.
    const MONTHLY: &str = "query($s: DateTime) { monthlyRanking(organisationCode: \"xuchang\", period: \"2026-04\", updatedSince: $s) { rank unitName finalScore revision } }";
    let all = app.query_with(MONTHLY, json!({})).await;
    assert_eq!(all["monthlyRanking"].as_array().unwrap().len(), 3);
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    let none = app.query_with(MONTHLY, json!({ "s": later })).await;
    assert_eq!(none["monthlyRanking"].as_array().unwrap().len(), 0);

    // The 月讲评 export: CSV (BOM, Chinese headers, one row per unit) and a real .xlsx.
    let token = app.token.lock().unwrap().clone().unwrap();
    // Exports need a signed-in caller of the run's organisation.
    let anonymous = app.client.get(format!("{}/runs/{run_id}/export.csv", app.address)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let csv =
        app.client.get(format!("{}/runs/{run_id}/export.csv", app.address)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let disposition = csv.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let text = String::from_utf8(csv.bytes().await.unwrap().to_vec()).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark for Excel");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 3, "{text}");
    assert!(lines[0].starts_with("排名,被考核单位,1 "), "{}", lines[0]);
    assert!(lines[0].ends_with("加分,减分,最终得分"), "{}", lines[0]);
    assert!(lines[1].ends_with("4.00,0.50,88.50"), "{}", lines[1]);
    assert!(lines[3].starts_with("3,东城区,30.00,0.00"), "{}", lines[3]);
    let xlsx =
        app.client.get(format!("{}/runs/{run_id}/export.xlsx", app.address)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip");
    let missing = app
        .client
        .get(format!("{}/runs/{}/export.csv", app.address, gid("ScoreRun", 999_999)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Runs list with filters and a validated `first`.
    let list = app
        .query(
            "{ scoreRuns(organisationCode: \"xuchang\", period: \"2026-04\", status: PUBLISHED, first: 10) { totalCount edges { node { id } } } }",
        )
        .await;
    assert_eq!(list["scoreRuns"]["totalCount"], 1);
    expect_code(&app, "{ scoreRuns(first: 1000) { totalCount } }", json!({}), "BAD_USER_INPUT").await;
    // A connection costs `first` × its children: nested pages of 100 are refused
    // up front, by the gate, before the schema runs anything.
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ scoreRuns(first: 100) { edges { node { results(first: 100) { edges { node { rank finalScore } } } } } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let heavy: Value = res.json().await.unwrap();
    assert_eq!(heavy["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{heavy:#}");
}

#[tokio::test]
async fn the_demo_seed_holds_one_published_run_per_regime() {
    let app = spawn_app_as("ck-admin").await;
    const SEEDED: &str = "query($o: String!) { scoreRuns(organisationCode: $o, status: PUBLISHED, first: 2) {
        totalCount edges { node { period results(first: 100) { totalCount edges { node { unit { code } rank finalScore } } } } } } }";
    let ck = app.query_with(SEEDED, json!({ "o": "chengkou" })).await;
    let runs = &ck["scoreRuns"];
    assert_eq!(runs["totalCount"], 1);
    assert_eq!(runs["edges"][0]["node"]["period"], "2026");
    let r = &runs["edges"][0]["node"]["results"]["edges"][0]["node"];
    assert_eq!(d(&r["finalScore"]), "91.4".parse().unwrap(), "the annual worked example");
    // Runs are read by their own organisation: 许昌's admin reads 许昌's run.
    let refused = app.post(SEEDED, json!({ "o": "xuchang" })).await;
    assert_eq!(code(&refused), "NOT_FOUND", "{refused}");
    app.sign_in("xc-admin").await;
    let xc = app.query_with(SEEDED, json!({ "o": "xuchang" })).await;
    let run = &xc["scoreRuns"]["edges"][0]["node"];
    assert_eq!(run["period"], "2026-03");
    assert_eq!(run["results"]["totalCount"], 7);
    let weidu =
        run["results"]["edges"].as_array().unwrap().iter().find(|e| e["node"]["unit"]["code"] == "xc-weidu").unwrap();
    assert_eq!(d(&weidu["node"]["finalScore"]), "88.5".parse().unwrap(), "the monthly worked example");
    let chain = app.query("{ verifyAuditChain { ok } }").await;
    assert_eq!(chain["verifyAuditChain"]["ok"], true);
}

#[tokio::test]
async fn concurrent_writes_on_one_version_conflict_and_keys_are_idempotent() {
    let app = spawn_app_as("xc-admin").await;
    let version = app.version_id("xuchang").await.expect("许昌 rubric loaded");
    let units = unit_ids(&app, "xuchang").await;
    let weidu = unit(&units, "xc-weidu").to_string();
    let run = app
        .query_with(
            OPEN,
            json!({ "i": { "rubricVersionId": version, "period": "2026-06", "unitIds": [weidu], "title": "6月" } }),
        )
        .await["openScoreRun"]
        .clone();
    let run_id = run["id"].as_str().unwrap().to_string();
    // The same idempotency key twice records one observation.
    let keyed = json!({ "i": { "runId": run_id, "unitId": weidu, "ruleCode": "1.1-1", "facts": { "count": 1 }, "idempotencyKey": "obs-1" } });
    let a = app.query_with(RECORD, keyed.clone()).await["recordObservation"]["id"].clone();
    let b = app.query_with(RECORD, keyed).await["recordObservation"]["id"].clone();
    assert_eq!(a, b);

    // Two corrections of the same version at once: exactly one wins, the other is a CONFLICT.
    const CORRECT: &str = "mutation($i: CorrectObservationInput!) { correctObservation(input: $i) { id } }";
    let fix = |n: i64| json!({ "i": { "id": a, "expectedVersion": 1, "facts": { "count": n }, "reason": "复核" } });
    let (x, y) = tokio::join!(app.post(CORRECT, fix(2)), app.post(CORRECT, fix(3)));
    let codes = [code(&x).to_string(), code(&y).to_string()];
    assert_eq!(codes.iter().filter(|c| c.is_empty()).count(), 1, "{x:#} {y:#}");
    assert_eq!(codes.iter().filter(|c| *c == "CONFLICT").count(), 1, "{x:#} {y:#}");
    let active = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { observations(status: ACTIVE, first: 10) { totalCount edges { node { id version } } } } }",
            json!({ "r": run_id }),
        )
        .await;
    assert_eq!(active["scoreRun"]["observations"]["totalCount"], 1);

    // Withdraw (reason required, version checked), and a rejected claim does not count.
    let current = active["scoreRun"]["observations"]["edges"][0]["node"].clone();
    const WITHDRAW: &str = "mutation($id: ID!, $v: Int!, $r: String!) { withdrawObservation(id: $id, expectedVersion: $v, reason: $r) { status } }";
    expect_code(&app, WITHDRAW, json!({ "id": current["id"], "v": 9, "r": "错录" }), "CONFLICT").await;
    let w = app.query_with(WITHDRAW, json!({ "id": current["id"], "v": current["version"], "r": "错录" })).await;
    assert_eq!(w["withdrawObservation"]["status"], "WITHDRAWN");
    let claim = app
        .query_with(
            "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id } }",
            json!({ "i": { "runId": run_id, "unitId": weidu, "ruleCode": "3-①", "facts": { "level": "provincial" },
                "evidence": [{ "docNumber": "许教组〔2023〕8号", "url": "https://example.org/doc" }] } }),
        )
        .await["fileClaim"]["id"]
        .clone();
    let rejected = app
        .query_with(
            "mutation($c: ID!) { decideClaim(id: $c, approve: false, reason: \"材料不全\") { status observation { id } } }",
            json!({ "c": claim }),
        )
        .await;
    assert_eq!(rejected["decideClaim"]["status"], "REJECTED");
    assert!(rejected["decideClaim"]["observation"].is_null());
    let res = app.query_with(RESULTS, json!({ "r": run_id })).await;
    let r = &res["scoreRun"]["results"]["edges"][0]["node"];
    assert_eq!(d(&r["bonus"]), "0".parse().unwrap());
    assert_eq!(d(&r["sections"][0]["score"]), "30".parse().unwrap(), "the withdrawn late report no longer counts");
}

/// Department heads score only their sections; units, integrations, other
/// organisations and anonymous callers score nothing.
#[tokio::test]
async fn scoring_is_locked_down_by_department() {
    let app = spawn_app_as("ck-admin").await;
    let version = app.version_id("chengkou").await.unwrap();
    let units = unit_ids(&app, "chengkou").await;
    let jxx = unit(&units, "ck-jxx").to_string();
    let run = app
        .query_with(
            OPEN,
            json!({ "i": { "rubricVersionId": version, "period": "2028", "unitIds": [jxx], "title": "权限" } }),
        )
        .await["openScoreRun"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rec =
        |rule: &str, facts: Value| json!({ "i": { "runId": run, "unitId": jxx, "ruleCode": rule, "facts": facts } });
    let flag = json!({ "flag": true });

    // 秘书科 scores 党建 and nothing else.
    app.sign_in("ck-mishuke").await;
    assert!(
        app.post(RECORD, rec("1-1", json!({ "points": "18" }))).await["data"]["recordObservation"]["id"].is_string()
    );
    expect_code(&app, RECORD, rec("2.1.1-1", json!({ "count": 1 })), "FORBIDDEN").await;
    expect_code(&app, RECORD, rec("6.2.1-1", flag.clone()), "FORBIDDEN").await;
    // … may submit its own section only, and may neither open nor publish runs.
    let submit = "mutation($r: ID!, $s: String!) { submitSection(runId: $r, sectionCode: $s) { status } }";
    expect_code(&app, submit, json!({ "r": run, "s": "2" }), "FORBIDDEN").await;
    let v = app.post(submit, json!({ "r": run, "s": "1" })).await;
    assert_eq!(v["data"]["submitSection"]["status"], "SUBMITTED", "{v}");
    expect_code(&app, PUBLISH, json!({ "r": run, "v": 1 }), "FORBIDDEN").await;
    let other = json!({ "i": { "rubricVersionId": version, "period": "2029", "unitIds": [jxx], "title": "x" } });
    expect_code(&app, OPEN, other, "FORBIDDEN").await;

    // 办公室 scores 数字重庆 (6.2 and below), 电教中心 资源管理 (6.5).
    app.sign_in("ck-bangongshi").await;
    assert!(app.post(RECORD, rec("6.2.1-1", flag.clone())).await["data"]["recordObservation"]["id"].is_string());
    expect_code(&app, RECORD, rec("6.5-2", flag.clone()), "FORBIDDEN").await;
    app.sign_in("ck-dianjiao").await;
    assert!(app.post(RECORD, rec("6.5-2", flag.clone())).await["data"]["recordObservation"]["id"].is_string());
    expect_code(&app, RECORD, rec("6.2.1-1", flag.clone()), "FORBIDDEN").await;

    // A unit user never scores; another organisation's admin does not see the run.
    app.sign_in("ck-jxx").await;
    expect_code(&app, RECORD, rec("6.5-2", flag.clone()), "FORBIDDEN").await;
    app.sign_in("xc-admin").await;
    expect_code(&app, RECORD, rec("1-1", json!({ "points": "1" })), "NOT_FOUND").await;
    // … nor read it, by id or in a list.
    let by_id = "query($r: ID!) { scoreRun(id: $r) { id } }";
    expect_code(&app, by_id, json!({ "r": run }), "NOT_FOUND").await;
    let list = app.query("{ scoreRuns(first: 100) { edges { node { id } } } }").await;
    let ids: Vec<&str> =
        list["scoreRuns"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&run.as_str()), "another organisation's run listed: {ids:?}");
    // Nobody signed in: UNAUTHENTICATED, for writes and run reads alike.
    *app.token.lock().unwrap() = None;
    expect_code(&app, RECORD, rec("1-1", json!({ "points": "1" })), "UNAUTHENTICATED").await;
    expect_code(&app, by_id, json!({ "r": run }), "UNAUTHENTICATED").await;
}

/// A unit files claims for itself only.
#[tokio::test]
async fn units_file_claims_for_themselves_only() {
    let app = spawn_app_as("xc-admin").await;
    let version = app.version_id("xuchang").await.unwrap();
    let units = unit_ids(&app, "xuchang").await;
    let (weidu, jianan) = (unit(&units, "xc-weidu").to_string(), unit(&units, "xc-jianan").to_string());
    let open =
        json!({ "i": { "rubricVersionId": version, "period": "2026-09", "unitIds": [weidu, jianan], "title": "9月" } });
    let run = app.query_with(OPEN, open).await["openScoreRun"]["id"].as_str().unwrap().to_string();
    const FILE: &str = "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id status } }";
    let claim = |unit: &str| {
        json!({ "i": { "runId": run, "unitId": unit, "ruleCode": "3-①", "facts": { "level": "municipal" },
            "evidence": [{ "docNumber": "许教组〔2026〕3号", "docDate": "2026-09-10" }] } })
    };
    app.sign_in("xc-weidu").await;
    let v = app.post(FILE, claim(&weidu)).await;
    assert_eq!(v["data"]["fileClaim"]["status"], "PENDING", "{v}");
    expect_code(&app, FILE, claim(&jianan), "FORBIDDEN").await;
    // The 月讲评 integration reads published results; an open run does not exist for it.
    app.sign_in("xc-yuejiangping").await;
    expect_code(&app, FILE, claim(&weidu), "NOT_FOUND").await;
    let rec = json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "1.1-1", "facts": { "count": 1 } } });
    expect_code(&app, RECORD, rec, "NOT_FOUND").await;
}

/// A run this server keeps for its recordings (`runs::kept`: open, read once
/// by its organisation's staff) answers every later recording as a fresh
/// read would: a caller of another organisation gets the NOT_FOUND of a run
/// that does not exist, and once another server has published it, FROZEN,
/// also for facts that do not check (the kept status is confirmed before a
/// refusal it would have preceded).
#[tokio::test]
async fn a_kept_run_answers_recordings_as_a_fresh_read_would() {
    let app = spawn_app_as("ck-admin").await;
    let (run, jxx) = crate::accounts::open_ck_run(&app).await;
    let item = |run: &str, facts: Value| json!({ "i": { "runId": run, "unitId": jxx, "ruleCode": "2.1.1-1", "facts": facts } });
    let recorded = record(&app, &run, &jxx, "2.1.1-1", json!({ "count": 1 })).await;
    assert_eq!(recorded["status"], "ACTIVE", "the first recording reads the run and keeps it");
    record(&app, &run, &jxx, "2.1.1-1", json!({ "count": 1 })).await;

    app.sign_in("xc-mishuke").await;
    let hidden = expect_code(&app, RECORD, item(&run, json!({ "count": 1 })), "NOT_FOUND").await;
    let missing = expect_code(&app, RECORD, item(&gid("ScoreRun", 999_999), json!({ "count": 1 })), "NOT_FOUND").await;
    assert_eq!(hidden["errors"][0]["message"], missing["errors"][0]["message"]);
    assert_eq!(hidden["errors"][0]["path"], missing["errors"][0]["path"]);

    // Bad facts are refused before the write turn: while the run is open,
    // for what they are.
    app.sign_in("ck-admin").await;
    let bad = json!({ "count": -1 });
    let invalid = expect_code(&app, RECORD, item(&run, bad.clone()), "BAD_USER_INPUT").await;
    let message = invalid["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("2.1.1-1"), "the engine's refusal, naming the rule: {message}");

    // Published by another server (this one never heard of it).
    app.db
        .execute_unprepared(&format!("UPDATE score_run SET status = 'published' WHERE id = {}", db_id(&run)))
        .await
        .unwrap();
    let frozen = expect_code(&app, RECORD, item(&run, json!({ "count": 1 })), "FROZEN").await;
    let refused = expect_code(&app, RECORD, item(&run, bad), "FROZEN").await;
    assert_eq!(frozen["errors"][0]["message"], refused["errors"][0]["message"]);
    let rows = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { observations(first: 10) { totalCount } } }",
            json!({ "r": run }),
        )
        .await;
    assert_eq!(rows["scoreRun"]["observations"]["totalCount"], 2, "nothing written after the publication");
}
