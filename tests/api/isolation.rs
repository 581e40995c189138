//! Tenant isolation (issue 12): for every object kind, every way to reach it
//! (direct field, alias, `node`, `nodes`, the mutations taking its id, the
//! REST routes) and every kind of caller that may not see it (anonymous, a
//! unit user, an integration, department heads and admins of another
//! organisation), the answer for the hidden object is byte for byte the
//! answer for an id that does not exist: same HTTP status, same `errors`,
//! same `data`. The table is generated from the probes and the victims below;
//! adding a probe or a victim adds its rows.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, db_id, gid, nodes, spawn_app_with};

/// An id of each kind that exists nowhere.
const MISSING: i64 = 2_000_000_001;

/// Who calls: a name (as the victims' visibility lists use it) and a token.
struct Actor {
    name: &'static str,
    token: Option<String>,
}

/// How a probe reaches an object: a GraphQL document (with `$id`, and the
/// victim's other ids through `vars`), or a REST path (`{id}` replaced).
enum Reach {
    Graphql { doc: &'static str, mutation: bool },
    Rest(&'static str),
}

struct Probe {
    name: &'static str,
    /// The kind of object the probe names by `$id`.
    kind: &'static str,
    reach: Reach,
}

const fn q(name: &'static str, kind: &'static str, doc: &'static str) -> Probe {
    Probe { name, kind, reach: Reach::Graphql { doc, mutation: false } }
}

const fn m(name: &'static str, kind: &'static str, doc: &'static str) -> Probe {
    Probe { name, kind, reach: Reach::Graphql { doc, mutation: true } }
}

const fn rest(name: &'static str, kind: &'static str, path: &'static str) -> Probe {
    Probe { name, kind, reach: Reach::Rest(path) }
}

/// Every way to reach an object by id. `$unit` is a unit of the victim's
/// organisation that its run assesses, so a lookup is the only thing that can fail.
const PROBES: &[Probe] = &[
    // Any kind: the Node interface (async-graphql #1826 path) and `nodes`.
    q("node", "*", "query($id: ID!) { node(id: $id) { id } }"),
    q(
        "node fragment",
        "*",
        "query($id: ID!) { node(id: $id) { ... on ScoreRun { status } ... on Observation { facts { count points level flag } } ... on Claim { status } ... on Evidence { kind } ... on AuditEntry { action } ... on RubricVersion { status } } }",
    ),
    q("nodes", "*", "query($id: ID!) { nodes(ids: [$id]) { id } }"),
    // Score runs.
    q("scoreRun", "ScoreRun", "query($id: ID!) { scoreRun(id: $id) { id status } }"),
    q("scoreRun alias", "ScoreRun", "query($id: ID!) { a: scoreRun(id: $id) { id } b: scoreRun(id: $id) { period } }"),
    q(
        "scoreRun results",
        "ScoreRun",
        "query($id: ID!) { scoreRun(id: $id) { results(first: 5) { totalCount edges { node { finalScore } } } } }",
    ),
    q("auditLog by run", "ScoreRun", "query($id: ID!) { auditLog(runId: $id, first: 5) { totalCount } }"),
    m("publishRun", "ScoreRun", "mutation($id: ID!) { publishRun(runId: $id, expectedVersion: 1) { id } }"),
    m("amendRun", "ScoreRun", "mutation($id: ID!) { amendRun(runId: $id, reason: \"修订\") { id } }"),
    m("submitSection", "ScoreRun", "mutation($id: ID!) { submitSection(runId: $id, sectionCode: \"1\") { id } }"),
    m("reopenSection", "ScoreRun", "mutation($id: ID!) { reopenSection(runId: $id, sectionCode: \"1\") { id } }"),
    m(
        "recordObservation",
        "ScoreRun",
        "mutation($id: ID!, $unit: ID!) { recordObservation(input: { runId: $id, unitId: $unit, ruleCode: \"1.1-1\", facts: { count: 1 } }) { id facts { count points level flag } note } }",
    ),
    m(
        "recordObservation with a seed key",
        "ScoreRun",
        "mutation($id: ID!, $unit: ID!) { recordObservation(input: { runId: $id, unitId: $unit, ruleCode: \"1.1-1\", facts: { count: 1 }, idempotencyKey: \"seed:xuchang:2026-03:0\" }) { id facts { count points level flag } note } }",
    ),
    m(
        "fileClaim",
        "ScoreRun",
        "mutation($id: ID!, $unit: ID!) { fileClaim(input: { runId: $id, unitId: $unit, ruleCode: \"3-①\", facts: { level: \"municipal\" }, evidence: [{ docNumber: \"许教组〔2023〕8号\" }] }) { id } }",
    ),
    rest("export csv", "ScoreRun", "/runs/{id}/export.csv"),
    rest("export xlsx", "ScoreRun", "/runs/{id}/export.xlsx"),
    rest("entry sheet", "ScoreRun", "/runs/{id}/sections/1/entry.xlsx"),
    // Observations.
    m(
        "correctObservation",
        "Observation",
        "mutation($id: ID!) { correctObservation(input: { id: $id, expectedVersion: 1, facts: { count: 2 }, reason: \"更正\" }) { id } }",
    ),
    m(
        "withdrawObservation",
        "Observation",
        "mutation($id: ID!) { withdrawObservation(id: $id, expectedVersion: 1, reason: \"撤回\") { id } }",
    ),
    // Claims.
    q("claim", "Claim", "query($id: ID!) { claim(id: $id) { id status } }"),
    m("decideClaim", "Claim", "mutation($id: ID!) { decideClaim(id: $id, approve: true, reason: \"同意\") { id } }"),
    // Evidence.
    rest("evidence file", "Evidence", "/evidence/{id}/file"),
    // Rubric versions (drafts are staff-only).
    q("rubricVersion", "RubricVersion", "query($id: ID!) { rubricVersion(id: $id) { id status } }"),
    m(
        "updateRubricVersionDraft",
        "RubricVersion",
        "mutation($id: ID!) { updateRubricVersionDraft(input: { id: $id, expectedVersion: 1, title: \"改\" }) { id } }",
    ),
    m(
        "publishRubricVersion",
        "RubricVersion",
        "mutation($id: ID!) { publishRubricVersion(id: $id, expectedVersion: 1) { id } }",
    ),
    m(
        "discardRubricVersionDraft",
        "RubricVersion",
        "mutation($id: ID!) { discardRubricVersionDraft(id: $id, expectedVersion: 1) }",
    ),
    m(
        "addDraftIndicator",
        "RubricVersion",
        "mutation($id: ID!) { addDraftIndicator(input: { rubricVersionId: $id, expectedVersion: 1, code: \"9\", title: \"新\" }) { id } }",
    ),
    m(
        "openScoreRun",
        "RubricVersion",
        "mutation($id: ID!, $unit: ID!) { openScoreRun(input: { rubricVersionId: $id, period: \"2026-11\", unitIds: [$unit], title: \"11月\" }) { id } }",
    ),
    m(
        "assignIndicator",
        "RubricVersion",
        "mutation($id: ID!) { assignIndicator(rubricVersionId: $id, indicatorCode: \"1\", department: \"秘书科\") }",
    ),
    // A draft's indicators, clauses and rules.
    m(
        "updateDraftIndicator",
        "Indicator",
        "mutation($id: ID!) { updateDraftIndicator(input: { id: $id, expectedVersion: 1, title: \"改\" }) { id } }",
    ),
    m(
        "removeDraftIndicator",
        "Indicator",
        "mutation($id: ID!) { removeDraftIndicator(id: $id, expectedVersion: 1, cascade: true) { id } }",
    ),
    m(
        "addDraftClause",
        "Indicator",
        "mutation($id: ID!) { addDraftClause(input: { indicatorId: $id, expectedVersion: 1, no: \"9\", text: \"新\" }) { id } }",
    ),
    m(
        "updateDraftClause",
        "Clause",
        "mutation($id: ID!) { updateDraftClause(input: { id: $id, expectedVersion: 1, text: \"改\" }) { id } }",
    ),
    m(
        "removeDraftClause",
        "Clause",
        "mutation($id: ID!) { removeDraftClause(id: $id, expectedVersion: 1, cascade: true) { id } }",
    ),
    m(
        "addDraftRule",
        "Clause",
        "mutation($id: ID!) { addDraftRule(input: { clauseId: $id, expectedVersion: 1, kind: \"flag\", params: { points: \"1\" } }) { id } }",
    ),
    m(
        "updateDraftRule",
        "Rule",
        "mutation($id: ID!) { updateDraftRule(input: { id: $id, expectedVersion: 1, label: \"改\" }) { id } }",
    ),
    m("removeDraftRule", "Rule", "mutation($id: ID!) { removeDraftRule(id: $id, expectedVersion: 1) { id } }"),
    // Units (public reference data: compared for callers who may not write them).
    m("renameUnit", "Unit", "mutation($id: ID!) { renameUnit(id: $id, name: \"新名\", expectedVersion: 1) { id } }"),
    m("moveUnit", "Unit", "mutation($id: ID!) { moveUnit(id: $id, parentId: null, expectedVersion: 1) { id } }"),
    m(
        "deactivateUnit",
        "Unit",
        "mutation($id: ID!) { deactivateUnit(id: $id, reason: \"停用\", expectedVersion: 1) { id } }",
    ),
    m("reactivateUnit", "Unit", "mutation($id: ID!) { reactivateUnit(id: $id, expectedVersion: 1) { id } }"),
    q("auditLog by unit", "Unit", "query($id: ID!) { auditLog(unitId: $id, first: 5) { totalCount } }"),
    // Service credentials.
    m("revokeServiceCredential", "ServiceCredential", "mutation($id: ID!) { revokeServiceCredential(id: $id) }"),
    // Accounts.
    q("user", "User", "query($id: ID!) { user(id: $id) { id username } }"),
    q("user alias", "User", "query($id: ID!) { a: user(id: $id) { id } b: user(id: $id) { role } }"),
    m(
        "updateUser",
        "User",
        "mutation($id: ID!) { updateUser(input: { id: $id, expectedVersion: 1, displayName: \"改\" }) { id } }",
    ),
    m("resetPassword", "User", "mutation($id: ID!) { resetPassword(id: $id, expectedVersion: 1) { oneTimePassword } }"),
    m(
        "deactivateUser",
        "User",
        "mutation($id: ID!) { deactivateUser(id: $id, reason: \"离职\", expectedVersion: 1) { id } }",
    ),
    m("reactivateUser", "User", "mutation($id: ID!) { reactivateUser(id: $id, expectedVersion: 1) { id } }"),
    // Departments (public reference data, like units).
    m(
        "renameDepartment",
        "Department",
        "mutation($id: ID!) { renameDepartment(id: $id, name: \"新科\", expectedVersion: 1) { id } }",
    ),
    m(
        "deactivateDepartment",
        "Department",
        "mutation($id: ID!) { deactivateDepartment(id: $id, expectedVersion: 1) { id } }",
    ),
    m(
        "reactivateDepartment",
        "Department",
        "mutation($id: ID!) { reactivateDepartment(id: $id, expectedVersion: 1) { id } }",
    ),
    q("users by department", "Department", "query($id: ID!) { users(first: 5, departmentId: $id) { totalCount } }"),
    // Unit sheet previews.
    m(
        "applyUnitImport",
        "UnitImport",
        "mutation($id: ID!) { applyUnitImport(previewId: $id, sha256: \"0000000000000000000000000000000000000000000000000000000000000000\") { added } }",
    ),
];

/// An object of 许昌 and who may see it (everybody else must not be able to
/// tell it from a missing id).
struct Victim {
    what: &'static str,
    kind: &'static str,
    id: String,
    /// A unit the victim's run assesses (for probes that need one).
    unit: String,
    /// Callers who see it: "*" everybody (public reference data), "xc-staff"
    /// 许昌's admin and department heads, or a caller's name.
    seen_by: &'static [&'static str],
}

impl Victim {
    fn seen_by(&self, actor: &str) -> bool {
        self.seen_by.iter().any(|s| {
            *s == "*" || *s == actor || (*s == "xc-staff" && matches!(actor, "xc-admin" | "xc-mishuke" | "xc-xueqian"))
        })
    }
}

async fn send_graphql(app: &TestApp, token: Option<&str>, doc: &str, vars: &Value) -> (u16, Value) {
    // One request id for both probes: an answer names its request, and
    // otherwise the two must not differ in anything.
    let mut req = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-request-id", "isolation-probe")
        .json(&json!({ "query": doc, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("an HTTP answer, not a dropped connection");
    let status = res.status().as_u16();
    let mut body: Value = res.json().await.unwrap();
    // The cost block carries the caller's remaining budget, which moves between requests.
    if let Some(o) = body.as_object_mut() {
        o.remove("extensions");
    }
    // Fields resolve concurrently: errors come in the order they finished.
    if let Some(errors) = body["errors"].as_array_mut() {
        errors.sort_by_key(|e| e["path"].to_string());
    }
    (status, body)
}

async fn send_rest(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut req = app.client.get(format!("{}{path}", app.address)).header("x-request-id", "isolation-probe");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("an HTTP answer, not a dropped connection");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn token_of(app: &TestApp, user: &str) -> String {
    app.sign_in(user).await;
    app.token.lock().unwrap().clone().unwrap()
}

async fn multipart_upload(app: &TestApp, token: &str, unit: &str) -> String {
    let doc = "mutation($i: UploadEvidenceInput!) { uploadEvidence(input: $i) { id } }";
    let operations = json!({ "query": doc, "variables": { "i": { "file": null, "unitId": unit } } });
    let file =
        Part::bytes(b"%PDF-1.4\n% isolation\n%%EOF\n".to_vec()).file_name("a.pdf").mime_str("application/pdf").unwrap();
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.i.file"] }).to_string())
        .part("0", file);
    let res =
        app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).multipart(form).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    body["data"]["uploadEvidence"]["id"].as_str().unwrap_or_else(|| panic!("upload: {body}")).to_string()
}

/// 许昌's objects of every kind, made by its own staff.
async fn victims(app: &TestApp) -> Vec<Victim> {
    app.sign_in("xc-admin").await;
    let units =
        app.query(r#"{ organisation(code: "xuchang") { units(first: 20) { edges { node { id code } } } } }"#).await;
    let unit = |code: &str| {
        nodes(&units["organisation"]["units"]).into_iter().find(|u| u["code"] == code).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (weidu, jianan) = (unit("xc-weidu"), unit("xc-jianan"));
    let version = app.version_id("xuchang").await.unwrap();
    let open = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }";
    let open_run = |period: &str, units: Vec<&String>| json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": units, "title": period } });
    let run_both = app.query_with(open, open_run("2026-06", vec![&weidu, &jianan])).await["openScoreRun"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run_jianan = app.query_with(open, open_run("2026-07", vec![&jianan])).await["openScoreRun"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
    let mut obs = Vec::new();
    for u in [&weidu, &jianan] {
        let i = json!({ "i": { "runId": run_both, "unitId": u, "ruleCode": "1.1-1", "facts": { "count": 1 } } });
        obs.push(app.query_with(record, i).await["recordObservation"]["id"].as_str().unwrap().to_string());
    }
    let published = app
        .query(
            r#"{ scoreRuns(organisationCode: "xuchang", period: "2026-03", first: 1) { edges { node { id
            observations(first: 100) { edges { node { id unit { code } } } } } } } }"#,
        )
        .await;
    let pub_run = nodes(&published["scoreRuns"])[0].clone();
    let pub_other_obs = nodes(&pub_run["observations"]).into_iter().find(|o| o["unit"]["code"] != "xc-weidu").unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let claim = json!({ "i": { "runId": run_both, "unitId": jianan, "ruleCode": "3-①", "facts": { "level": "municipal" },
        "evidence": [{ "docNumber": "许教组〔2023〕8号" }] } });
    let claim =
        app.query_with("mutation($i: FileClaimInput!) { fileClaim(input: $i) { id } }", claim).await["fileClaim"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let token = app.token.lock().unwrap().clone().unwrap();
    let evidence = multipart_upload(app, &token, &jianan).await;
    let rubric =
        app.query(r#"{ organisation(code: "xuchang") { rubrics(first: 1) { edges { node { id } } } } }"#).await;
    let rubric = nodes(&rubric["organisation"]["rubrics"])[0]["id"].as_str().unwrap().to_string();
    let draft =
        json!({ "i": { "rubricId": rubric, "label": "2027", "title": "2027草稿", "copyFromVersionId": version } });
    let draft = app
        .query_with(
            "mutation($i: CreateRubricVersionDraftInput!) { createRubricVersionDraft(input: $i) { id } }",
            draft,
        )
        .await["createRubricVersionDraft"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tree = app
        .query_with(
            "query($id: ID!) { rubricVersion(id: $id) { indicators { id clauses { id rules { id } } } } }",
            json!({ "id": draft }),
        )
        .await;
    let leaf = tree["rubricVersion"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["clauses"].as_array().is_some_and(|c| c.iter().any(|c| !c["rules"].as_array().unwrap().is_empty())))
        .unwrap()
        .clone();
    let clause =
        leaf["clauses"].as_array().unwrap().iter().find(|c| !c["rules"].as_array().unwrap().is_empty()).unwrap();
    let credential = app
        .query(r#"mutation { createServiceCredential(name: "看板", scope: "results:read_published") { credential { id } } }"#)
        .await["createServiceCredential"]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let audit = app.query("{ auditLog(first: 1) { edges { node { id } } } }").await;
    let audit = nodes(&audit["auditLog"])[0]["id"].as_str().unwrap().to_string();
    let users = app.query("{ users(first: 100) { edges { node { id username } } } }").await;
    let user = |name: &str| {
        nodes(&users["users"]).into_iter().find(|u| u["username"] == name).unwrap()["id"].as_str().unwrap().to_string()
    };
    let (head, unit_user) = (user("xc-mishuke"), user("xc-weidu"));
    let depts = app
        .query(r#"{ organisation(code: "xuchang") { departments(first: 100) { edges { node { id name } } } } }"#)
        .await;
    let department = nodes(&depts["organisation"]["departments"]).into_iter().find(|d| d["name"] == "秘书科").unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sheet = "code,name,kind\nxc-new,新单位,county\n";
    let preview = crate::accounts::with_file(
        app,
        "mutation($f: Upload!) { previewUnitImport(file: $f) { id } }",
        json!({ "f": null }),
        "units.csv",
        sheet.as_bytes().to_vec(),
    )
    .await["data"]["previewUnitImport"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let id = |v: &Value| v.as_str().unwrap().to_string();
    let w = weidu.clone();
    vec![
        Victim {
            what: "published run",
            kind: "ScoreRun",
            id: id(&pub_run["id"]),
            unit: w.clone(),
            seen_by: &["xc-staff", "xc-weidu", "xc-yuejiangping"],
        },
        Victim {
            what: "open run assessing 魏都区",
            kind: "ScoreRun",
            id: run_both.clone(),
            unit: w.clone(),
            seen_by: &["xc-staff", "xc-weidu"],
        },
        Victim {
            what: "open run not assessing 魏都区",
            kind: "ScoreRun",
            id: run_jianan,
            unit: jianan.clone(),
            seen_by: &["xc-staff"],
        },
        Victim {
            what: "魏都区's observation, run open",
            kind: "Observation",
            id: obs[0].clone(),
            unit: w.clone(),
            seen_by: &["xc-staff"],
        },
        Victim {
            what: "建安区's observation, run open",
            kind: "Observation",
            id: obs[1].clone(),
            unit: w.clone(),
            seen_by: &["xc-staff"],
        },
        Victim {
            what: "another unit's observation, run published",
            kind: "Observation",
            id: pub_other_obs,
            unit: w.clone(),
            seen_by: &["xc-staff"],
        },
        Victim { what: "建安区's claim", kind: "Claim", id: claim, unit: w.clone(), seen_by: &["xc-staff"] },
        Victim {
            what: "建安区's evidence", kind: "Evidence", id: evidence, unit: w.clone(), seen_by: &["xc-staff"]
        },
        Victim { what: "draft version", kind: "RubricVersion", id: draft, unit: w.clone(), seen_by: &["xc-staff"] },
        Victim {
            what: "published version",
            kind: "RubricVersion",
            id: version.clone(),
            unit: w.clone(),
            seen_by: &["*"],
        },
        Victim {
            what: "draft indicator",
            kind: "Indicator",
            id: id(&leaf["id"]),
            unit: w.clone(),
            seen_by: &["xc-staff"],
        },
        Victim { what: "draft clause", kind: "Clause", id: id(&clause["id"]), unit: w.clone(), seen_by: &["xc-staff"] },
        Victim {
            what: "draft rule",
            kind: "Rule",
            id: id(&clause["rules"][0]["id"]),
            unit: w.clone(),
            seen_by: &["xc-staff"],
        },
        Victim { what: "unit 建安区", kind: "Unit", id: jianan, unit: w.clone(), seen_by: &["*"] },
        Victim {
            what: "service credential",
            kind: "ServiceCredential",
            id: credential,
            unit: w.clone(),
            seen_by: &["xc-admin"],
        },
        Victim { what: "audit entry", kind: "AuditEntry", id: audit, unit: w.clone(), seen_by: &["xc-staff"] },
        Victim { what: "秘书科's head", kind: "User", id: head, unit: w.clone(), seen_by: &["xc-staff"] },
        Victim {
            what: "魏都区's account",
            kind: "User",
            id: unit_user,
            unit: w.clone(),
            seen_by: &["xc-admin", "xc-weidu"],
        },
        Victim { what: "department 秘书科", kind: "Department", id: department, unit: w.clone(), seen_by: &["*"] },
        Victim { what: "unit sheet preview", kind: "UnitImport", id: preview, unit: w, seen_by: &["xc-admin"] },
    ]
}

/// Who probes: nobody, 城口's roles, and 许昌's users who see only part of it.
async fn actors(app: &TestApp) -> Vec<Actor> {
    let mut out = vec![Actor { name: "anonymous", token: None }];
    for name in ["ck-admin", "ck-mishuke", "ck-jxx", "xc-weidu", "xc-yuejiangping", "xc-xueqian"] {
        out.push(Actor { name, token: Some(token_of(app, name).await) });
    }
    // 城口's own integration, as a service credential.
    app.sign_in("ck-admin").await;
    let secret = app
        .query(r#"mutation { createServiceCredential(name: "看板", scope: "results:read_published") { secret } }"#)
        .await["createServiceCredential"]["secret"]
        .clone();
    let exchange = "mutation($s: String!) { serviceToken(secret: $s) { accessToken } }";
    let token = app.post(exchange, json!({ "s": secret })).await["data"]["serviceToken"]["accessToken"].clone();
    out.push(Actor { name: "ck-integration", token: token.as_str().map(str::to_string) });
    out
}

#[tokio::test]
async fn a_hidden_object_answers_exactly_as_a_missing_one_for_every_probe_and_caller() {
    let app = spawn_app_with(|s| s.limits.rate_budget = 100_000_000).await;
    let victims = victims(&app).await;
    let actors = actors(&app).await;
    let mut rows = 0;
    let mut differences = Vec::new();
    for actor in &actors {
        for victim in &victims {
            for probe in PROBES.iter().filter(|p| p.kind == "*" || p.kind == victim.kind) {
                let mutation = !matches!(probe.reach, Reach::Graphql { mutation: false, .. });
                // Compared where the caller may not see the object; an anonymous
                // caller is refused every write before anything is looked up.
                if victim.seen_by(actor.name) && !(actor.token.is_none() && mutation) {
                    continue;
                }
                let missing = gid(victim.kind, MISSING);
                let token = actor.token.as_deref();
                let (hidden, absent) = match &probe.reach {
                    Reach::Graphql { doc, .. } => {
                        let vars = |id: &str| {
                            let mut v = json!({ "id": id });
                            if doc.contains("$unit") {
                                v["unit"] = json!(victim.unit);
                            }
                            v
                        };
                        (
                            send_graphql(&app, token, doc, &vars(&victim.id)).await,
                            send_graphql(&app, token, doc, &vars(&missing)).await,
                        )
                    }
                    Reach::Rest(path) => (
                        send_rest(&app, token, &path.replace("{id}", &victim.id)).await,
                        send_rest(&app, token, &path.replace("{id}", &missing)).await,
                    ),
                };
                rows += 1;
                if hidden != absent {
                    differences.push(format!(
                        "{} × {} ({}) × {}:\n  hidden:  {} {}\n  missing: {} {}",
                        actor.name,
                        victim.what,
                        db_id(&victim.id),
                        probe.name,
                        hidden.0,
                        hidden.1,
                        absent.0,
                        absent.1
                    ));
                }
            }
        }
    }
    assert!(rows > 500, "the table has {rows} rows");
    assert!(differences.is_empty(), "{} of {rows} rows differ:\n{}", differences.len(), differences.join("\n"));
}
