//! Rubric version drafts (考核细则草稿) over HTTP: copy a version into a
//! draft, edit it, publish it and score a run on it; build one from nothing;
//! the engine refuses what does not compile; who may edit and who may see.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_code, nodes, spawn_app_with};

async fn spawn() -> TestApp {
    spawn_app_with(|s| s.limits.rate_budget = 10_000_000).await
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or("")
}

fn d(v: &Value) -> rust_decimal::Decimal {
    v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}")).parse().unwrap()
}

const CREATE: &str = "mutation($i: CreateRubricVersionDraftInput!) { createRubricVersionDraft(input: $i) { id label status version regime scale } }";
const PUBLISH: &str = "mutation($id: ID!, $v: Int!) { publishRubricVersion(id: $id, expectedVersion: $v) { id status version publishedAt } }";
const ADD_INDICATOR: &str =
    "mutation($i: AddDraftIndicatorInput!) { addDraftIndicator(input: $i) { id rubricVersion { version } } }";
const UPDATE_INDICATOR: &str =
    "mutation($i: UpdateDraftIndicatorInput!) { updateDraftIndicator(input: $i) { id rubricVersion { version } } }";
const ADD_CLAUSE: &str =
    "mutation($i: AddDraftClauseInput!) { addDraftClause(input: $i) { id rubricVersion { version } } }";
const UPDATE_CLAUSE: &str =
    "mutation($i: UpdateDraftClauseInput!) { updateDraftClause(input: $i) { id rubricVersion { version } } }";
const ADD_RULE: &str = "mutation($i: AddDraftRuleInput!) { addDraftRule(input: $i) { id rubricVersion { version } } }";
const UPDATE_RULE: &str =
    "mutation($i: UpdateDraftRuleInput!) { updateDraftRule(input: $i) { id rubricVersion { version } } }";
const REMOVE_INDICATOR: &str = "mutation($id: ID!, $v: Int!, $c: Boolean) { removeDraftIndicator(id: $id, expectedVersion: $v, cascade: $c) { id rubricVersion { version } } }";
const VERSION: &str = "query($id: ID!) { rubricVersion(id: $id) { id label status version
    indicator(code: $code) { id maxPoints clauses { id no rules { id code kind effect params } } } } }";
const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id status version } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";

/// The rubric's id and its versions (id, label, status) as the caller sees them.
async fn rubric(app: &TestApp, org: &str) -> (String, Vec<(String, String, String)>) {
    let data = app
        .query_with(
            "query($c: String!) { organisation(code: $c) { rubrics(first: 1) { edges { node {
               id versions(first: 100) { edges { node { id label status } } } } } } } }",
            json!({ "c": org }),
        )
        .await;
    let r = nodes(&data["organisation"]["rubrics"])[0];
    let versions = nodes(&r["versions"])
        .into_iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            (s("id"), s("label"), s("status"))
        })
        .collect();
    (r["id"].as_str().unwrap().to_string(), versions)
}

fn labelled(versions: &[(String, String, String)], label: &str) -> String {
    versions.iter().find(|v| v.1 == label).unwrap_or_else(|| panic!("no version {label}")).0.clone()
}

/// One indicator of a version: its id, max points, and clauses with rules.
async fn indicator(app: &TestApp, version: &str, code: &str) -> Value {
    let q = VERSION.replace("$code", &format!("\"{code}\""));
    app.query_with(&q, json!({ "id": version })).await["rubricVersion"]["indicator"].clone()
}

async fn version_of(app: &TestApp, version: &str) -> i64 {
    let data = app.query_with("query($id: ID!) { rubricVersion(id: $id) { version } }", json!({ "id": version })).await;
    data["rubricVersion"]["version"].as_i64().unwrap()
}

/// Runs an edit that must succeed; returns the touched object's id and the draft's new version.
async fn edit(app: &TestApp, q: &str, input: Value) -> (String, i64) {
    let data = app.query_with(q, json!({ "i": input })).await;
    let out = data.as_object().unwrap().values().next().unwrap().clone();
    (out["id"].as_str().unwrap().to_string(), out["rubricVersion"]["version"].as_i64().unwrap())
}

async fn unit_id(app: &TestApp, org: &str, unit: &str) -> String {
    let data = app
        .query_with(
            "query($c: String!) { organisation(code: $c) { units(first: 100) { edges { node { id code } } } } }",
            json!({ "c": org }),
        )
        .await;
    let units = nodes(&data["organisation"]["units"]);
    units.iter().find(|u| u["code"] == unit).unwrap()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_copy_of_2023_is_edited_published_and_scores_the_new_points() {
    let app = spawn().await;
    app.sign_in("xc-admin").await;
    let (rubric_id, versions) = rubric(&app, "xuchang").await;
    let v2023 = labelled(&versions, "2023");
    let input = |key: &str| json!({ "i": { "rubricId": rubric_id, "label": "2024", "title": "2024年考核评分表", "copyFromVersionId": v2023, "idempotencyKey": key } });
    let draft = app.query_with(CREATE, input("draft-2024")).await["createRubricVersionDraft"].clone();
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["regime"], "MONTHLY", "header taken from the copied version");
    assert_eq!(d(&draft["scale"]), 100.into());
    let id = draft["id"].as_str().unwrap().to_string();
    // The same key returns the same draft; the same label with another key is a conflict.
    let again = app.query_with(CREATE, input("draft-2024")).await["createRubricVersionDraft"].clone();
    assert_eq!(again["id"], draft["id"]);
    expect_code(&app, CREATE, input("another"), "CONFLICT").await;
    expect_code(
        &app,
        CREATE,
        json!({ "i": { "rubricId": rubric_id, "label": "2023", "title": "x", "regime": "MONTHLY" } }),
        "CONFLICT",
    )
    .await;

    // The copy is deep: same tree and rules, new rows.
    let copied = indicator(&app, &id, "1.2").await;
    let original = indicator(&app, &v2023, "1.2").await;
    assert_ne!(copied["id"], original["id"]);
    assert_eq!(copied["clauses"][0]["rules"][0]["code"], "1.2-1");
    let rule = copied["clauses"][0]["rules"][0].clone();
    assert_eq!(rule["params"]["points"], "2");

    // 临时交办: 2.5 a time (was 2), out of 12 (was 10); 重点督办 13 (was 15) so 日常工作 stays 30.
    let mut v = draft["version"].as_i64().unwrap();
    let mut params = rule["params"].clone();
    params["points"] = json!("2.5");
    (_, v) = edit(&app, UPDATE_RULE, json!({ "id": rule["id"], "expectedVersion": v, "params": params })).await;
    let stale = json!({ "i": { "id": copied["id"], "expectedVersion": v - 1, "maxPoints": "12" } });
    expect_code(&app, UPDATE_INDICATOR, stale, "CONFLICT").await;
    (_, v) = edit(&app, UPDATE_INDICATOR, json!({ "id": copied["id"], "expectedVersion": v, "maxPoints": "12" })).await;
    let i13 = indicator(&app, &id, "1.3").await;
    (_, v) = edit(&app, UPDATE_INDICATOR, json!({ "id": i13["id"], "expectedVersion": v, "maxPoints": "13" })).await;
    assert_eq!(v, 4, "every edit bumps the draft's version");
    // The 2023 version is untouched.
    assert_eq!(d(&indicator(&app, &v2023, "1.2").await["maxPoints"]), 10.into());

    expect_code(&app, PUBLISH, json!({ "id": id, "v": v - 1 }), "CONFLICT").await;
    let published = app.query_with(PUBLISH, json!({ "id": id, "v": v })).await["publishRubricVersion"].clone();
    assert_eq!(published["status"], "PUBLISHED");
    assert!(published["publishedAt"].is_string());
    // Published is frozen: edits and a second publication are FROZEN.
    let v = published["version"].as_i64().unwrap();
    let frozen = json!({ "i": { "id": copied["id"], "expectedVersion": v, "maxPoints": "11" } });
    expect_code(&app, UPDATE_INDICATOR, frozen, "FROZEN").await;
    expect_code(&app, PUBLISH, json!({ "id": id, "v": v }), "FROZEN").await;

    // A run on the new version scores the new points: 12 − 2 × 2.5 = 7.
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    let open =
        json!({ "i": { "rubricVersionId": id, "period": "2026-04", "unitIds": [weidu], "title": "2026年4月考核" } });
    let run = app.query_with(OPEN, open).await["openScoreRun"].clone();
    let record = json!({ "i": { "runId": run["id"], "unitId": weidu, "ruleCode": "1.2-1", "facts": { "count": 2 } } });
    app.query_with(RECORD, record).await;
    let res = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { results(first: 10) { edges { node {
                explanation { code score rules { rule amount } } } } } } }",
            json!({ "r": run["id"] }),
        )
        .await;
    let explanation = res["scoreRun"]["results"]["edges"][0]["node"]["explanation"].as_array().unwrap().clone();
    let ind = |c: &str| explanation.iter().find(|i| i["code"] == c).unwrap().clone();
    assert_eq!(d(&ind("1.2")["score"]), "7".parse().unwrap());
    assert_eq!(d(&ind("1.2")["rules"][0]["amount"]), "5".parse().unwrap());
    assert_eq!(d(&ind("1.3")["score"]), 13.into());

    // Every change is in the audit log, and the chain still verifies.
    let draft_id = crate::helpers::db_id(&id).to_string();
    let rule_id = crate::helpers::db_id(rule["id"].as_str().unwrap()).to_string();
    let entries = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.is_in([
            "rubric_version.create_draft",
            "rule.update",
            "indicator.update",
            "rubric_version.publish",
        ]))
        .all(&app.db)
        .await
        .unwrap();
    let has = |action: &str, entity_id: &str| {
        entries.iter().any(|e| e.action == action && e.entity_id.as_deref() == Some(entity_id))
    };
    assert!(has("rubric_version.create_draft", &draft_id));
    assert!(has("rule.update", &rule_id));
    assert!(has("rubric_version.publish", &draft_id));
    assert_eq!(entries.iter().filter(|e| e.action == "indicator.update").count(), 2);
    let chain = app.query("{ verifyAuditChain { ok } }").await;
    assert_eq!(chain["verifyAuditChain"]["ok"], true);
}

#[tokio::test]
async fn an_empty_draft_is_built_indicator_by_indicator_and_published() {
    let app = spawn().await;
    app.sign_in("ck-admin").await;
    let (rubric_id, versions) = rubric(&app, "chengkou").await;
    let create =
        json!({ "i": { "rubricId": rubric_id, "label": "2027试行", "title": "2027年试行细则", "scale": "10" } });
    let body = expect_code(&app, CREATE, create.clone(), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("regime"), "{body}");
    let mut create = create;
    create["i"]["regime"] = json!("ANNUAL");
    create["i"]["bonusCap"] = json!("1");
    let draft = app.query_with(CREATE, create).await["createRubricVersionDraft"].clone();
    let id = draft["id"].as_str().unwrap().to_string();
    let mut v = draft["version"].as_i64().unwrap();

    // Publishing an empty draft lists what the engine says.
    let body = expect_code(&app, PUBLISH, json!({ "id": id, "v": v }), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("the rubric has no indicators"), "{body}");

    let add = |v: i64, extra: Value| {
        let mut i = json!({ "rubricVersionId": id, "expectedVersion": v });
        i.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        i
    };
    let (a, nv) = edit(&app, ADD_INDICATOR, add(v, json!({ "code": "A", "title": "教研", "maxPoints": "6" }))).await;
    v = nv;
    // Checked alone: a bad decimal, a duplicate code, an unknown parent, a weight below a section.
    for (extra, field) in [
        (json!({ "code": "B", "title": "x", "maxPoints": "abc" }), "maxPoints"),
        (json!({ "code": "A", "title": "x" }), "code"),
        (json!({ "code": "B", "title": "x", "parentId": crate::helpers::gid("Indicator", 1) }), "parentId"),
        (json!({ "code": "A.1", "title": "x", "parentId": a, "weight": "50" }), "weight"),
        (json!({ "code": "A 1", "title": "x" }), "code"),
    ] {
        let body = expect_code(&app, ADD_INDICATOR, json!({ "i": add(v, extra) }), "BAD_USER_INPUT").await;
        assert!(message(&body).contains(&format!("`{field}`")), "{body}");
    }
    assert_eq!(version_of(&app, &id).await, v, "a refused edit changes nothing");
    let (a1, nv) = edit(
        &app,
        ADD_INDICATOR,
        add(v, json!({ "code": "A.1", "title": "入校视导", "parentId": a, "maxPoints": "6", "department": "秘书科" })),
    )
    .await;
    v = nv;
    let (clause, nv) = edit(
        &app,
        ADD_CLAUSE,
        json!({ "indicatorId": a1, "expectedVersion": v, "no": "1", "text": "未完成听课任务的，每人次扣1分。" }),
    )
    .await;
    v = nv;
    // A clause goes on leaves only.
    let on_parent = json!({ "i": { "indicatorId": a, "expectedVersion": v, "no": "1", "text": "x" } });
    expect_code(&app, ADD_CLAUSE, on_parent, "BAD_USER_INPUT").await;
    // Rules: the kind must be one of the enum's and the params must parse for it.
    let rule = |v: i64, kind: &str, params: Value| json!({ "i": { "clauseId": clause, "expectedVersion": v, "kind": kind, "effect": "DEDUCT", "params": params } });
    let body = expect_code(&app, ADD_RULE, rule(v, "per_cnt", json!({ "points": "1" })), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("RuleKind"), "{body}");
    let body = expect_code(&app, ADD_RULE, rule(v, "PER_COUNT", json!({ "pts": "1" })), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("`params`") && message(&body).contains("pts"), "{body}");
    let body = expect_code(&app, ADD_RULE, rule(v, "PER_COUNT", json!({ "points": "x" })), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("`params`"), "{body}");
    let (_, nv) =
        edit(&app, ADD_RULE, rule(v, "PER_COUNT", json!({ "points": "1", "unit": "人次" }))["i"].clone()).await;
    v = nv;
    // A second rule without a key would reuse the code.
    let body = expect_code(&app, ADD_RULE, rule(v, "FLAG", json!({ "points": "1" })), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("`key`"), "{body}");
    // Renumbering the clause renames its rule.
    (_, v) = edit(&app, UPDATE_CLAUSE, json!({ "id": clause, "expectedVersion": v, "no": "2" })).await;
    assert_eq!(indicator(&app, &id, "A.1").await["clauses"][0]["rules"][0]["code"], "A.1-2");

    // Halfway: the base sections sum to 6, not 10; the engine says so and it stays a draft.
    let body = expect_code(&app, PUBLISH, json!({ "id": id, "v": v }), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("base sections sum to 6 points, the scale is 10"), "{body}");
    let check = app.query_with("query($id: ID!) { rubricVersion(id: $id) { status } }", json!({ "id": id })).await;
    assert_eq!(check["rubricVersion"]["status"], "DRAFT");

    let (b, nv) = edit(&app, ADD_INDICATOR, add(v, json!({ "code": "B", "title": "党建", "maxPoints": "4" }))).await;
    v = nv;
    let (bc, nv) = edit(
        &app,
        ADD_CLAUSE,
        json!({ "indicatorId": b, "expectedVersion": v, "no": "1", "text": "由党建考核结果折算。" }),
    )
    .await;
    v = nv;
    (_, v) = edit(&app, ADD_RULE, json!({ "clauseId": bc, "expectedVersion": v, "kind": "DIRECT" })).await;
    let (c, nv) = edit(&app, ADD_INDICATOR, add(v, json!({ "code": "C", "title": "加减分", "role": "ADJUST" }))).await;
    v = nv;
    let (cc, nv) = edit(
        &app,
        ADD_CLAUSE,
        json!({ "indicatorId": c, "expectedVersion": v, "no": "1", "text": "获市级表彰加0.5分。" }),
    )
    .await;
    v = nv;
    (_, v) = edit(
        &app,
        ADD_RULE,
        json!({ "clauseId": cc, "expectedVersion": v, "kind": "FLAG", "effect": "ADD", "params": { "points": "0.5" } }),
    )
    .await;

    // A section with an indicator below it is removed only with cascade.
    let (x, nv) = edit(&app, ADD_INDICATOR, add(v, json!({ "code": "X", "title": "临时" }))).await;
    v = nv;
    (_, v) = edit(&app, ADD_INDICATOR, add(v, json!({ "code": "X.1", "title": "临时下级", "parentId": x }))).await;
    let body = expect_code(&app, REMOVE_INDICATOR, json!({ "id": x, "v": v, "c": false }), "BAD_USER_INPUT").await;
    assert!(message(&body).contains("cascade"), "{body}");
    let removed = app.query_with(REMOVE_INDICATOR, json!({ "id": x, "v": v, "c": true })).await;
    v = removed["removeDraftIndicator"]["rubricVersion"]["version"].as_i64().unwrap();
    assert!(indicator(&app, &id, "X.1").await.is_null());

    let published = app.query_with(PUBLISH, json!({ "id": id, "v": v })).await["publishRubricVersion"].clone();
    assert_eq!(published["status"], "PUBLISHED");
    let tree = app
        .query_with(
            "query($id: ID!) { rubricVersion(id: $id) { baseMaxTotal bonusCap indicators { code depth department role } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(d(&tree["rubricVersion"]["baseMaxTotal"]), 10.into());
    let codes: Vec<&str> =
        tree["rubricVersion"]["indicators"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["A", "A.1", "B", "C"]);
    assert_eq!(tree["rubricVersion"]["indicators"][1]["depth"], 1);
    assert_eq!(tree["rubricVersion"]["indicators"][3]["role"], "ADJUST");

    // A run on it: 6 − 2 × 1 = 4 for A.1, and the 2026 version is still there.
    assert!(versions.iter().any(|v| v.1 == "2026"));
    let jxx = unit_id(&app, "chengkou", "ck-jxx").await;
    let open = json!({ "i": { "rubricVersionId": id, "period": "2027", "unitIds": [jxx], "title": "2027年试行" } });
    let run = app.query_with(OPEN, open).await["openScoreRun"].clone();
    app.query_with(
        RECORD,
        json!({ "i": { "runId": run["id"], "unitId": jxx, "ruleCode": "A.1-2", "facts": { "count": 2 } } }),
    )
    .await;
    let res = app
        .query_with(
            "query($r: ID!) { scoreRun(id: $r) { results(first: 10) { edges { node { base explanation { code score } } } } } }",
            json!({ "r": run["id"] }),
        )
        .await;
    let node = &res["scoreRun"]["results"]["edges"][0]["node"];
    let a1_score =
        node["explanation"].as_array().unwrap().iter().find(|i| i["code"] == "A.1").unwrap()["score"].clone();
    assert_eq!(d(&a1_score), 4.into());
}

#[tokio::test]
async fn a_draft_that_does_not_compile_is_refused_with_the_engines_problems() {
    let app = spawn().await;
    app.sign_in("xc-admin").await;
    let (rubric_id, versions) = rubric(&app, "xuchang").await;
    let create = json!({ "i": { "rubricId": rubric_id, "label": "2025", "title": "2025", "copyFromVersionId": labelled(&versions, "2023") } });
    let draft = app.query_with(CREATE, create).await["createRubricVersionDraft"].clone();
    let id = draft["id"].as_str().unwrap().to_string();
    let mut v = draft["version"].as_i64().unwrap();
    let s1 = indicator(&app, &id, "1").await;
    (_, v) = edit(&app, UPDATE_INDICATOR, json!({ "id": s1["id"], "expectedVersion": v, "weight": "40" })).await;
    let input =
        json!({ "rubricVersionId": id, "expectedVersion": v, "code": "1.4", "title": "新增", "parentId": s1["id"] });
    (_, v) = edit(&app, ADD_INDICATOR, input).await;
    let body = expect_code(&app, PUBLISH, json!({ "id": id, "v": v }), "BAD_USER_INPUT").await;
    let m = message(&body);
    assert!(m.contains("section weights sum to 110%, not 100%"), "{m}");
    assert!(m.contains("indicator 1.4: a leaf indicator needs at least one clause"), "{m}");
    assert!(m.contains("indicator 1.4: missing `max`"), "{m}");
    let check =
        app.query_with("query($id: ID!) { rubricVersion(id: $id) { status version } }", json!({ "id": id })).await;
    assert_eq!(check["rubricVersion"]["status"], "DRAFT");
    assert_eq!(check["rubricVersion"]["version"], v, "a refused publication changes nothing");
    // A run cannot be opened on a draft.
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    let open = json!({ "i": { "rubricVersionId": id, "period": "2026-05", "unitIds": [weidu], "title": "x" } });
    let body = expect_code(&app, OPEN, open, "BAD_USER_INPUT").await;
    assert!(message(&body).contains("published"), "{body}");
}

#[tokio::test]
async fn only_the_admin_edits_drafts_and_only_staff_see_them() {
    let app = spawn().await;
    app.sign_in("xc-admin").await;
    let (rubric_id, versions) = rubric(&app, "xuchang").await;
    let v2023 = labelled(&versions, "2023");
    let create = |label: &str| json!({ "i": { "rubricId": rubric_id, "label": label, "title": "草稿", "copyFromVersionId": v2023 } });
    let draft = app.query_with(CREATE, create("2024")).await["createRubricVersionDraft"].clone();
    let id = draft["id"].as_str().unwrap().to_string();
    let s1 = indicator(&app, &id, "1").await;
    let edit_title = json!({ "i": { "id": s1["id"], "expectedVersion": 1, "title": "改" } });
    // A published version is frozen, even for the admin.
    let published = indicator(&app, &v2023, "1").await;
    let body = json!({ "i": { "id": published["id"], "expectedVersion": 1, "title": "改" } });
    expect_code(&app, UPDATE_INDICATOR, body, "FROZEN").await;
    expect_code(&app, PUBLISH, json!({ "id": v2023, "v": 1 }), "FROZEN").await;
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let by_id = "query($id: ID!) { rubricVersion(id: $id) { id } }";

    // A department head sees the draft but may not edit it.
    app.sign_in("xc-mishuke").await;
    expect_code(&app, CREATE, create("2025"), "FORBIDDEN").await;
    expect_code(&app, UPDATE_INDICATOR, edit_title.clone(), "FORBIDDEN").await;
    expect_code(&app, PUBLISH, json!({ "id": id, "v": 1 }), "FORBIDDEN").await;
    app.query_with(by_id, json!({ "id": id })).await;
    assert!(rubric(&app, "xuchang").await.1.iter().any(|v| v.0 == id));

    // A unit user and an integration neither edit nor see it.
    for user in ["xc-weidu", "xc-yuejiangping"] {
        app.sign_in(user).await;
        expect_code(&app, CREATE, create("2025"), "FORBIDDEN").await;
        expect_code(&app, UPDATE_INDICATOR, edit_title.clone(), "NOT_FOUND").await;
        expect_code(&app, by_id, json!({ "id": id }), "NOT_FOUND").await;
        expect_code(&app, node, json!({ "id": id }), "NOT_FOUND").await;
        let listed = rubric(&app, "xuchang").await.1;
        assert!(!listed.iter().any(|v| v.0 == id), "{user} sees the draft in the list");
        assert!(listed.iter().any(|v| v.0 == v2023), "published versions stay public");
    }
    // Another organisation's admin: NOT_FOUND everywhere.
    app.sign_in("ck-admin").await;
    expect_code(&app, CREATE, create("2025"), "NOT_FOUND").await;
    expect_code(&app, UPDATE_INDICATOR, edit_title.clone(), "NOT_FOUND").await;
    expect_code(&app, by_id, json!({ "id": id }), "NOT_FOUND").await;
    assert!(!rubric(&app, "xuchang").await.1.iter().any(|v| v.0 == id));
    // Anonymous: UNAUTHENTICATED for writes, the draft does not exist for reads.
    *app.token.lock().unwrap() = None;
    expect_code(&app, CREATE, create("2025"), "UNAUTHENTICATED").await;
    expect_code(&app, UPDATE_INDICATOR, edit_title.clone(), "UNAUTHENTICATED").await;
    expect_code(&app, by_id, json!({ "id": id }), "NOT_FOUND").await;
    expect_code(&app, node, json!({ "id": id }), "NOT_FOUND").await;
    let listed = rubric(&app, "xuchang").await.1;
    assert!(!listed.iter().any(|v| v.0 == id));
    assert_eq!(listed.len(), 1);

    // Nothing of the refused attempts reached the draft.
    app.sign_in("xc-admin").await;
    assert_eq!(version_of(&app, &id).await, 1);
    let edited = app.query_with(UPDATE_INDICATOR, edit_title).await;
    assert_eq!(edited["updateDraftIndicator"]["rubricVersion"]["version"], 2);
}

const DISCARD: &str = "mutation($id: ID!, $v: Int!) { discardRubricVersionDraft(id: $id, expectedVersion: $v) }";

#[tokio::test]
async fn a_draft_is_discarded_whole_and_a_published_version_never() {
    let app = spawn().await;
    app.sign_in("xc-admin").await;
    let (rubric_id, versions) = rubric(&app, "xuchang").await;
    let v2023 = labelled(&versions, "2023");
    let input = json!({ "i": { "rubricId": rubric_id, "label": "2025", "title": "草稿", "copyFromVersionId": v2023 } });
    let draft = app.query_with(CREATE, input).await["createRubricVersionDraft"].clone();
    let id = draft["id"].as_str().unwrap().to_string();
    let v = draft["version"].as_i64().unwrap();
    let row_id = crate::helpers::db_id(&id);
    let count_indicators = || async {
        use sea_orm::PaginatorTrait;
        entity::indicator::Entity::find()
            .filter(entity::indicator::Column::RubricVersionId.eq(row_id))
            .count(&app.db)
            .await
            .unwrap()
    };
    assert!(count_indicators().await > 10, "the copy holds the whole tree");

    // Not the department head's to discard; a stale version is refused.
    app.sign_in("xc-mishuke").await;
    expect_code(&app, DISCARD, json!({ "id": id, "v": v }), "FORBIDDEN").await;
    app.sign_in("xc-admin").await;
    expect_code(&app, DISCARD, json!({ "id": id, "v": v + 1 }), "CONFLICT").await;
    let gone = app.query_with(DISCARD, json!({ "id": id, "v": v })).await;
    assert_eq!(gone["discardRubricVersionDraft"], id.as_str());
    assert_eq!(count_indicators().await, 0);
    let rules = {
        use sea_orm::PaginatorTrait;
        let q = entity::rule::Entity::find().filter(entity::rule::Column::RubricVersionId.eq(row_id));
        q.count(&app.db).await.unwrap()
    };
    assert_eq!(rules, 0, "rules of the discarded draft");
    expect_code(&app, "query($id: ID!) { rubricVersion(id: $id) { id } }", json!({ "id": id }), "NOT_FOUND").await;
    expect_code(&app, DISCARD, json!({ "id": id, "v": v + 1 }), "NOT_FOUND").await;
    let last = {
        use sea_orm::QueryOrder;
        let q = entity::audit_log::Entity::find().order_by_desc(entity::audit_log::Column::Id);
        q.one(&app.db).await.unwrap().unwrap()
    };
    assert_eq!(
        (last.action.as_str(), last.entity_id.as_deref()),
        ("rubric_version.discard", Some(&*row_id.to_string()))
    );
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);

    // The published 2023 is frozen: runs and results refer to it.
    let published = version_of(&app, &v2023).await;
    expect_code(&app, DISCARD, json!({ "id": v2023, "v": published }), "FROZEN").await;
    assert_eq!(rubric(&app, "xuchang").await.1.len(), versions.len());
}
