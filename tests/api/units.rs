//! Unit administration (被考核单位管理) and the reference lists as pages, over
//! HTTP: create, rename, move, deactivate, reactivate with versions, history
//! and audit entries; who may do it; what runs and published results make of
//! it; cursors, totals and filters.

use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_code, nodes, spawn_app, spawn_app_as};

const UNIT: &str = "id code name kind active version attributes parent { code } organisation { code }";
const CREATE: &str = "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id code name kind active version attributes parent { code } organisation { code } } }";
const RENAME: &str = "mutation($id: ID!, $n: String!, $v: Int!) { renameUnit(id: $id, name: $n, expectedVersion: $v) { id name version } }";
const MOVE: &str = "mutation($id: ID!, $p: ID, $v: Int!) { moveUnit(id: $id, parentId: $p, expectedVersion: $v) { id version parent { code } } }";
const DEACTIVATE: &str = "mutation($id: ID!, $r: String!, $v: Int!) { deactivateUnit(id: $id, reason: $r, expectedVersion: $v) { id active version } }";
const REACTIVATE: &str =
    "mutation($id: ID!, $v: Int!) { reactivateUnit(id: $id, expectedVersion: $v) { id active version } }";
const HISTORY: &str = "query($id: ID!, $after: String) { unit(id: $id) { history(first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { change nameBefore nameAfter parentBeforeId parentAfterId activeBefore activeAfter version reason actor at } } } } }";

/// The id of a unit of an organisation, by code.
async fn unit_id(app: &TestApp, org: &str, unit_code: &str) -> String {
    let data = app
        .query_with(
            "query($o: String!, $s: String!) { organisation(code: $o) { units(search: $s, first: 10) { edges { node { id code } } } } }",
            json!({ "o": org, "s": unit_code }),
        )
        .await;
    let list = nodes(&data["organisation"]["units"]);
    list.iter().find(|u| u["code"] == unit_code).unwrap_or_else(|| panic!("no unit {unit_code}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn create(app: &TestApp, input: Value) -> Value {
    app.query_with(CREATE, json!({ "i": input })).await["createUnit"].clone()
}

/// Every history row of a unit, following the cursors two by two.
async fn history(app: &TestApp, id: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.query_with(HISTORY, json!({ "id": id, "after": after })).await;
        let h = &data["unit"]["history"];
        rows.extend(nodes(h).into_iter().cloned());
        assert!(h["totalCount"].as_u64().unwrap() as usize >= rows.len());
        if h["pageInfo"]["hasNextPage"] != true {
            assert_eq!(h["totalCount"], rows.len());
            return rows;
        }
        after = h["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn the_admin_creates_renames_moves_deactivates_and_reactivates_a_unit() {
    let app = spawn_app_as("xc-admin").await;
    let new = json!({ "organisationCode": "xuchang", "code": "xc-xinqu", "name": "新区", "kind": "county",
                      "attributes": { "pilot": true }, "idempotencyKey": "create-xinqu" });
    let u = create(&app, new.clone()).await;
    assert_eq!(
        (u["code"].clone(), u["name"].clone(), u["active"].clone()),
        (json!("xc-xinqu"), json!("新区"), json!(true))
    );
    assert_eq!((u["version"].clone(), u["attributes"]["pilot"].clone()), (json!(1), json!(true)));
    assert_eq!(u["organisation"]["code"], "xuchang");
    let id = u["id"].as_str().unwrap().to_string();
    // The same key again: the same unit, nothing new.
    assert_eq!(create(&app, new.clone()).await["id"], u["id"]);
    // The same code without the key: CONFLICT.
    let mut again = new.clone();
    again["idempotencyKey"] = json!("another key");
    expect_code(&app, CREATE, json!({ "i": again }), "CONFLICT").await;
    // A school under it, the organisation given by id this time.
    let org_id = app.query(r#"{ organisation(code: "xuchang") { id } }"#).await["organisation"]["id"].clone();
    let school = create(
        &app,
        json!({ "organisationId": org_id, "code": "xc-xinqu-1z", "name": "新区一中", "kind": "school", "parentId": id }),
    )
    .await;
    assert_eq!(school["parent"]["code"], "xc-xinqu");
    assert_eq!(school["attributes"], json!({}));
    let school_id = school["id"].as_str().unwrap().to_string();
    for bad in [
        json!({ "organisationCode": "xuchang", "code": "has space", "name": "x", "kind": "school" }),
        json!({ "organisationCode": "xuchang", "code": "xc-ok", "name": "  ", "kind": "school" }),
        json!({ "organisationCode": "xuchang", "code": "xc-ok", "name": "x", "kind": "school", "attributes": [1] }),
        json!({ "code": "xc-ok", "name": "x", "kind": "school" }),
    ] {
        expect_code(&app, CREATE, json!({ "i": bad }), "BAD_USER_INPUT").await;
    }

    // Rename: version 1 → 2; the old version is stale.
    let r = app.query_with(RENAME, json!({ "id": id, "n": "新区(示范区)", "v": 1 })).await;
    assert_eq!(
        (r["renameUnit"]["name"].clone(), r["renameUnit"]["version"].clone()),
        (json!("新区(示范区)"), json!(2))
    );
    expect_code(&app, RENAME, json!({ "id": id, "n": "别名", "v": 1 }), "CONFLICT").await;

    // Move under 魏都区, then back to the top level.
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    let m = app.query_with(MOVE, json!({ "id": id, "p": weidu, "v": 2 })).await;
    assert_eq!(
        (m["moveUnit"]["parent"]["code"].clone(), m["moveUnit"]["version"].clone()),
        (json!("xc-weidu"), json!(3))
    );
    // 魏都区 under the school below it, or the unit under itself: a cycle.
    let cycle = expect_code(&app, MOVE, json!({ "id": weidu, "p": school_id, "v": 1 }), "BAD_USER_INPUT").await;
    assert!(cycle["errors"][0]["message"].as_str().unwrap().contains("cycle"), "{cycle}");
    expect_code(&app, MOVE, json!({ "id": id, "p": id, "v": 3 }), "BAD_USER_INPUT").await;
    // Under another organisation's unit: refused.
    let ck_jxx = unit_id(&app, "chengkou", "ck-jxx").await;
    let cross = expect_code(&app, MOVE, json!({ "id": id, "p": ck_jxx, "v": 3 }), "BAD_USER_INPUT").await;
    assert!(cross["errors"][0]["message"].as_str().unwrap().contains("another organisation"), "{cross}");
    // A forgotten parentId moves nothing.
    expect_code(
        &app,
        "mutation($id: ID!) { moveUnit(id: $id, expectedVersion: 3) { id } }",
        json!({ "id": id }),
        "BAD_USER_INPUT",
    )
    .await;
    let m = app.query_with(MOVE, json!({ "id": id, "p": null, "v": 3 })).await;
    assert!(m["moveUnit"]["parent"].is_null());
    assert_eq!(m["moveUnit"]["version"], 4);

    // Deactivate (a reason is required), then reactivate.
    expect_code(&app, DEACTIVATE, json!({ "id": id, "r": " ", "v": 4 }), "BAD_USER_INPUT").await;
    let d = app.query_with(DEACTIVATE, json!({ "id": id, "r": "区划调整撤并", "v": 4 })).await;
    assert_eq!(
        (d["deactivateUnit"]["active"].clone(), d["deactivateUnit"]["version"].clone()),
        (json!(false), json!(5))
    );
    expect_code(&app, DEACTIVATE, json!({ "id": id, "r": "again", "v": 5 }), "CONFLICT").await;
    // Nothing new goes under a deactivated unit.
    let under = json!({ "organisationCode": "xuchang", "code": "xc-xinqu-2z", "name": "新区二中", "kind": "school", "parentId": id });
    expect_code(&app, CREATE, json!({ "i": under }), "BAD_USER_INPUT").await;
    expect_code(&app, REACTIVATE, json!({ "id": id, "v": 4 }), "CONFLICT").await;
    let a = app.query_with(REACTIVATE, json!({ "id": id, "v": 5 })).await;
    assert_eq!(
        (a["reactivateUnit"]["active"].clone(), a["reactivateUnit"]["version"].clone()),
        (json!(true), json!(6))
    );

    // One history row per change, in order, page by page.
    let rows = history(&app, &id).await;
    let changes: Vec<&str> = rows.iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["CREATED", "RENAMED", "MOVED", "MOVED", "DEACTIVATED", "REACTIVATED"]);
    let versions: Vec<i64> = rows.iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    assert!(rows[0]["nameBefore"].is_null() && rows[0]["activeBefore"].is_null());
    assert_eq!((rows[1]["nameBefore"].clone(), rows[1]["nameAfter"].clone()), (json!("新区"), json!("新区(示范区)")));
    assert_eq!((rows[2]["parentBeforeId"].clone(), rows[2]["parentAfterId"].clone()), (Value::Null, json!(weidu)));
    assert_eq!((rows[3]["parentBeforeId"].clone(), rows[3]["parentAfterId"].clone()), (json!(weidu), Value::Null));
    assert_eq!((rows[4]["activeBefore"].clone(), rows[4]["activeAfter"].clone()), (json!(true), json!(false)));
    assert_eq!(rows[4]["reason"], "区划调整撤并");
    assert!(rows.iter().all(|r| r["actor"].as_str().unwrap().contains("xc-admin")));

    // The audit log finds every change by the unit, and the chain holds.
    let audit = app
        .query_with(
            "query($u: ID!) { auditLog(unitId: $u, first: 100) { totalCount edges { node { action entity entityId unitId after } } } }",
            json!({ "u": id }),
        )
        .await;
    let entries = nodes(&audit["auditLog"]);
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["unit.create", "unit.rename", "unit.move", "unit.move", "unit.deactivate", "unit.reactivate"]);
    assert!(entries.iter().all(|e| e["entity"] == "unit" && e["unitId"] == json!(id)));
    assert_eq!(entries[4]["after"]["reason"], "区划调整撤并");
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);
}

#[tokio::test]
async fn a_deactivated_unit_joins_no_new_run_and_published_results_keep_the_old_name() {
    let app = spawn_app_as("xc-admin").await;
    // The demo's published 2026-03 run scores 魏都区.
    const RUN: &str = r#"{ scoreRuns(organisationCode: "xuchang", period: "2026-03", first: 1) { edges { node {
        id rubricVersion { id } units(first: 100) { totalCount edges { node { code name } } }
        results(first: 100) { edges { node { unitName unit { code name } } } }
        ranking { unitName unit { code } } } } } }"#;
    let before = app.query(RUN).await;
    let run = &before["scoreRuns"]["edges"][0]["node"];
    let version = run["rubricVersion"]["id"].as_str().unwrap().to_string();
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    let jianan = unit_id(&app, "xuchang", "xc-jianan").await;

    app.query_with(RENAME, json!({ "id": weidu, "n": "魏都区(新)", "v": 1 })).await;
    app.query_with(DEACTIVATE, json!({ "id": weidu, "r": "示例: 停止考核", "v": 2 })).await;

    let after = app.query(RUN).await;
    let run = &after["scoreRuns"]["edges"][0]["node"];
    // Still assessed in the run it was part of, with its stored result.
    let units = nodes(&run["units"]);
    assert!(units.iter().any(|u| u["code"] == "xc-weidu" && u["name"] == "魏都区(新)"));
    let result = nodes(&run["results"]).into_iter().find(|r| r["unit"]["code"] == "xc-weidu").unwrap().clone();
    assert_eq!(result["unitName"], "魏都区", "the published result keeps the name it was scored under");
    assert_eq!(result["unit"]["name"], "魏都区(新)");
    let ranked = run["ranking"].as_array().unwrap().iter().find(|r| r["unit"]["code"] == "xc-weidu").unwrap();
    assert_eq!(ranked["unitName"], "魏都区");

    // A new run cannot take it; the error names the unit.
    const OPEN: &str =
        "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id units(first: 10) { totalCount } } }";
    let input = |units: Vec<&str>| json!({ "i": { "rubricVersionId": version, "period": "2026-05", "unitIds": units, "title": "5月" } });
    let refused = expect_code(&app, OPEN, input(vec![&weidu, &jianan]), "BAD_USER_INPUT").await;
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("魏都区(新)") && message.contains("xc-weidu"), "{message}");
    let opened = app.query_with(OPEN, input(vec![&jianan])).await;
    assert_eq!(opened["openScoreRun"]["units"]["totalCount"], 1);
    // Reactivated, it can join runs again.
    app.query_with(REACTIVATE, json!({ "id": weidu, "v": 3 })).await;
    let mut again = input(vec![&weidu]);
    again["i"]["period"] = json!("2026-06");
    app.query_with(OPEN, again).await;
}

#[tokio::test]
async fn only_the_organisations_admin_administers_its_units() {
    let app = spawn_app_as("xc-admin").await;
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    let new = json!({ "i": { "organisationCode": "xuchang", "code": "xc-neo", "name": "X", "kind": "county" } });
    let rename = json!({ "id": weidu, "n": "改名", "v": 1 });
    let deactivate = json!({ "id": weidu, "r": "r", "v": 1 });
    let staff_history = "query($id: ID!) { unit(id: $id) { history(first: 5) { totalCount } } }";

    *app.token.lock().unwrap() = None;
    expect_code(&app, CREATE, new.clone(), "UNAUTHENTICATED").await;
    expect_code(&app, RENAME, rename.clone(), "UNAUTHENTICATED").await;
    expect_code(&app, staff_history, json!({ "id": weidu }), "UNAUTHENTICATED").await;
    // A department head, a unit user and an integration: FORBIDDEN.
    for who in ["xc-mishuke", "xc-weidu", "xc-yuejiangping"] {
        app.sign_in(who).await;
        expect_code(&app, CREATE, new.clone(), "FORBIDDEN").await;
        expect_code(&app, RENAME, rename.clone(), "FORBIDDEN").await;
        expect_code(&app, DEACTIVATE, deactivate.clone(), "FORBIDDEN").await;
        expect_code(&app, REACTIVATE, json!({ "id": weidu, "v": 1 }), "FORBIDDEN").await;
        expect_code(&app, MOVE, json!({ "id": weidu, "p": null, "v": 1 }), "FORBIDDEN").await;
    }
    // The history is for staff: the department head reads it, the unit user does not.
    app.sign_in("xc-mishuke").await;
    app.query_with(staff_history, json!({ "id": weidu })).await;
    app.sign_in("xc-weidu").await;
    expect_code(&app, staff_history, json!({ "id": weidu }), "FORBIDDEN").await;
    // Another organisation's admin: the units do not exist for it.
    app.sign_in("ck-admin").await;
    expect_code(&app, CREATE, new.clone(), "NOT_FOUND").await;
    expect_code(&app, RENAME, rename.clone(), "NOT_FOUND").await;
    expect_code(&app, DEACTIVATE, deactivate.clone(), "NOT_FOUND").await;
    expect_code(&app, staff_history, json!({ "id": weidu }), "NOT_FOUND").await;
    // Nothing changed.
    let one =
        app.query_with(&format!("query($id: ID!) {{ unit(id: $id) {{ {UNIT} }} }}"), json!({ "id": weidu })).await;
    assert_eq!((one["unit"]["name"].clone(), one["unit"]["version"].clone()), (json!("魏都区"), json!(1)));
    app.sign_in("xc-admin").await;
    let created =
        app.query(r#"{ organisation(code: "xuchang") { units(search: "xc-neo", first: 5) { totalCount } } }"#).await;
    assert_eq!(created["organisation"]["units"]["totalCount"], 0);
}

#[tokio::test]
async fn reference_lists_page_with_cursors_and_totals() {
    let app = spawn_app_as("xc-admin").await;
    // Organisations one by one.
    let q = "query($a: String) { organisations(first: 1, after: $a) { totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { code } } } }";
    let p1 = app.query_with(q, json!({ "a": null })).await["organisations"].clone();
    assert_eq!((p1["totalCount"].clone(), p1["pageInfo"]["hasNextPage"].clone()), (json!(2), json!(true)));
    assert_eq!(p1["edges"][0]["node"]["code"], "chengkou");
    let p2 = app.query_with(q, json!({ "a": p1["pageInfo"]["endCursor"] })).await["organisations"].clone();
    assert_eq!(p2["edges"][0]["node"]["code"], "xuchang");
    assert_eq!(
        (p2["pageInfo"]["hasNextPage"].clone(), p2["pageInfo"]["hasPreviousPage"].clone()),
        (json!(false), json!(true))
    );

    // 许昌's ten units, four at a time: 4 + 4 + 2, in creation order, no repeats.
    let q = r#"query($a: String) { organisation(code: "xuchang") { units(first: 4, after: $a) { totalCount
        pageInfo { hasNextPage endCursor } edges { node { code } } } } }"#;
    let (mut seen, mut after, mut sizes) = (Vec::new(), Value::Null, Vec::new());
    loop {
        let page = app.query_with(q, json!({ "a": after })).await["organisation"]["units"].clone();
        assert_eq!(page["totalCount"], 10);
        sizes.push(page["edges"].as_array().unwrap().len());
        seen.extend(nodes(&page).iter().map(|u| u["code"].as_str().unwrap().to_string()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(seen.first().map(String::as_str), Some("xc-weidu"));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);

    // Departments and rubric versions are pages too.
    let d = app
        .query(r#"{ organisation(code: "xuchang") { departments(first: 3) { totalCount edges { node { name } } } } }"#)
        .await;
    assert_eq!(d["organisation"]["departments"]["totalCount"], 10);
    assert_eq!(nodes(&d["organisation"]["departments"]).len(), 3);

    // `first` is required and capped, on every list.
    for doc in [
        "{ organisations(first: 0) { totalCount } }",
        "{ organisations(first: 101) { totalCount } }",
        r#"{ organisation(code: "xuchang") { departments(first: 0) { totalCount } } }"#,
        r#"{ organisation(code: "xuchang") { units(first: 101) { totalCount } } }"#,
        r#"{ organisation(code: "xuchang") { rubrics(first: 0) { totalCount } } }"#,
        r#"{ organisation(code: "xuchang") { rubrics(first: 1) { edges { node { versions(first: 101) { totalCount } } } } } }"#,
        r#"{ organisation(code: "xuchang") { units(first: 1) { edges { node { children(first: 0) { totalCount } } } } } }"#,
        r#"{ organisation(code: "xuchang") { units(first: 1) { edges { node { history(first: 101) { totalCount } } } } } }"#,
        r#"{ organisation(code: "xuchang") { units(first: 1, after: "not a cursor") { totalCount } } }"#,
    ] {
        expect_code(&app, doc, json!({}), "BAD_USER_INPUT").await;
    }
    let missing = app.post("{ organisations { totalCount } }", json!({})).await;
    assert!(missing["errors"][0]["message"].as_str().unwrap().contains("first"), "{missing}");
}

#[tokio::test]
async fn units_filter_by_kind_state_parent_and_text() {
    let app = spawn_app_as("xc-admin").await;
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    for (code, name, parent) in
        [("xc-a_b", "百分之百%达标校", Some(&weidu)), ("xc-axb", "实验学校", Some(&weidu)), ("xc-c", "其他学校", None)]
    {
        create(
            &app,
            json!({ "organisationCode": "xuchang", "code": code, "name": name, "kind": "school", "parentId": parent }),
        )
        .await;
    }
    let c = unit_id(&app, "xuchang", "xc-c").await;
    app.query_with(DEACTIVATE, json!({ "id": c, "r": "停办", "v": 1 })).await;

    let q = r#"query($k: String, $a: Boolean, $p: ID, $s: String) { organisation(code: "xuchang") {
        units(kind: $k, active: $a, parentId: $p, search: $s, first: 100) { totalCount edges { node { code } } } } }"#;
    let codes = |vars: Value| {
        let app = &app;
        async move {
            let data = app.query_with(q, vars).await;
            let units = &data["organisation"]["units"];
            let list: Vec<String> = nodes(units).iter().map(|u| u["code"].as_str().unwrap().to_string()).collect();
            assert_eq!(units["totalCount"], list.len());
            list
        }
    };
    assert_eq!(codes(json!({ "k": "school" })).await, ["xc-a_b", "xc-axb", "xc-c"]);
    assert_eq!(codes(json!({ "k": "county" })).await.len(), 7);
    assert_eq!(codes(json!({ "a": false })).await, ["xc-c"]);
    assert_eq!(codes(json!({ "a": true, "k": "school" })).await, ["xc-a_b", "xc-axb"]);
    assert_eq!(codes(json!({ "p": weidu })).await, ["xc-a_b", "xc-axb"]);
    // Text in the name or the code; `_` and `%` match only themselves.
    assert_eq!(codes(json!({ "s": "区" })).await, ["xc-weidu", "xc-jianan", "xc-dongcheng"]);
    assert_eq!(codes(json!({ "s": "XC-WEI" })).await, ["xc-weidu"]);
    assert_eq!(codes(json!({ "s": "a_b" })).await, ["xc-a_b"]);
    assert_eq!(codes(json!({ "s": "%" })).await, ["xc-a_b"]);
    assert_eq!(codes(json!({ "s": "!" })).await, Vec::<String>::new());
    assert_eq!(codes(json!({ "s": "学校", "k": "school", "a": true })).await, ["xc-axb"]);

    // A unit's children are a page of the same rows.
    let ch = app
        .query_with(
            "query($id: ID!) { unit(id: $id) { children(first: 1) { totalCount pageInfo { hasNextPage } edges { node { code parent { code } } } } } }",
            json!({ "id": weidu }),
        )
        .await;
    let children = &ch["unit"]["children"];
    assert_eq!((children["totalCount"].clone(), children["pageInfo"]["hasNextPage"].clone()), (json!(2), json!(true)));
    assert_eq!(children["edges"][0]["node"]["parent"]["code"], "xc-weidu");
}

#[tokio::test]
async fn cursors_that_this_api_did_not_make_are_refused_without_a_panic() {
    let app = spawn_app().await;
    let q = "query($a: String) { organisations(first: 1, after: $a) { totalCount edges { node { code } } } }";
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    // Offsets that do not fit (once panicked inside sea-query, or wrapped to page 1).
    for after in [
        "o:9223372036854775807".to_string(),
        "o:18446744073709551615".to_string(),
        b64("c1:9223372036854775807"),
        b64("c1:18446744073709551615"),
        b64("c1:-1"),
        "o:0".to_string(),
        "garbage".to_string(),
    ] {
        expect_code(&app, q, json!({ "a": after }), "BAD_USER_INPUT").await;
    }
    // The cursors the API hands out still page.
    let p1 = app.query_with(q, json!({ "a": null })).await;
    assert_eq!(p1["organisations"]["totalCount"], 2);
}
