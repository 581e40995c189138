//! Evidence files (佐证材料附件) over HTTP: GraphQL multipart uploads, the type
//! read from the bytes, storage by content hash, attaching by id, and the
//! download route with its headers and read rules.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, db_id, spawn_app_with};

const UPLOAD: &str = "mutation($i: UploadEvidenceInput!) { uploadEvidence(input: $i) {
    id kind sha256 size mediaType filename docNumber downloadUrl } }";
const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }";
const FILE_CLAIM: &str = "mutation($i: FileClaimInput!) { fileClaim(input: $i) {
    id status evidence { id kind sha256 filename downloadUrl } } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) {
    id version evidence { id kind } } }";

/// A small but real PDF (what a scanner or WPS would send).
fn pdf(text: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n\
         % {text}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    .into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
    }

    fn evidence(&self) -> &Value {
        assert!(self.body.get("errors").is_none(), "{:#}", self.body);
        &self.body["data"]["uploadEvidence"]
    }
}

/// `uploadEvidence` as a GraphQL multipart request (operations, map, file),
/// with the signed-in user's token; `extra` adds input fields.
async fn upload(app: &TestApp, unit: &str, name: &str, bytes: Vec<u8>, extra: Value) -> Answer {
    let mut input = json!({ "file": null, "unitId": unit });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    let operations = json!({ "query": UPLOAD, "variables": { "i": input } });
    // The client's content type claims PDF whatever the bytes are: it is not trusted.
    let file = Part::bytes(bytes).file_name(name.to_string()).mime_str("application/pdf").unwrap();
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.i.file"] }).to_string())
        .part("0", file);
    let mut req = app.client.post(format!("{}/graphql", app.address)).multipart(form);
    if let Some(token) = app.token.lock().unwrap().clone() {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    Answer { status, body: res.json().await.unwrap() }
}

/// `GET` a download URL with the signed-in user's token (none: anonymous).
async fn download(app: &TestApp, url: &str) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{url}", app.address));
    if let Some(token) = app.token.lock().unwrap().clone() {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// Every file under `DATA_DIR/evidence`, temporary ones included.
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut out = Vec::new();
    walk(&app.settings.data_dir.join("evidence"), &mut out);
    out
}

async fn evidence_rows(app: &TestApp) -> usize {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::evidence::Entity::find().count(&app.db).await.unwrap() as usize
}

async fn unit_id(app: &TestApp, org: &str, code: &str) -> String {
    let data = app
        .query_with(
            "query($c: String!, $s: String!) { organisation(code: $c) { units(search: $s, first: 10) { edges { node { id code } } } } }",
            json!({ "c": org, "s": code }),
        )
        .await;
    let units = data["organisation"]["units"]["edges"].as_array().unwrap();
    units.iter().find(|u| u["node"]["code"] == code).unwrap()["node"]["id"].as_str().unwrap().to_string()
}

/// A 许昌 app with an open September run assessing 魏都区 and 建安区.
async fn xuchang_run() -> (TestApp, String, String, String) {
    let app = spawn_app_with(|s| s.limits.rate_budget = 10_000_000).await;
    app.sign_in("xc-admin").await;
    let version = app.version_id("xuchang").await.unwrap();
    let (weidu, jianan) = (unit_id(&app, "xuchang", "xc-weidu").await, unit_id(&app, "xuchang", "xc-jianan").await);
    let open =
        json!({ "i": { "rubricVersionId": version, "period": "2026-09", "unitIds": [weidu, jianan], "title": "9月" } });
    let run = app.query_with(OPEN, open).await["openScoreRun"]["id"].as_str().unwrap().to_string();
    (app, run, weidu, jianan)
}

fn claim(run: &str, unit: &str, evidence_ids: &[&Value]) -> Value {
    json!({ "i": { "runId": run, "unitId": unit, "ruleCode": "3-①", "facts": { "level": "municipal" },
        "evidenceIds": evidence_ids } })
}

#[tokio::test]
async fn a_unit_uploads_a_pdf_files_a_claim_with_it_and_the_admin_downloads_the_same_bytes() {
    let (app, run, weidu, _) = xuchang_run().await;
    app.sign_in("xc-weidu").await;
    let bytes = pdf("魏都区 2026年9月 获奖文件");
    let up = upload(
        &app,
        &weidu,
        "C:\\扫描件\\获奖\u{202E}文件.pdf",
        bytes.clone(),
        json!({ "docNumber": "许教组〔2026〕3号", "docDate": "2026-09-05" }),
    )
    .await;
    assert_eq!(up.status, 200);
    let ev = up.evidence().clone();
    assert_eq!(ev["kind"], "file");
    assert_eq!(ev["sha256"], sha256(&bytes));
    assert_eq!(ev["size"], bytes.len());
    assert_eq!(ev["mediaType"], "application/pdf");
    assert_eq!(ev["filename"], "获奖文件.pdf", "path and direction override removed");
    assert_eq!(ev["docNumber"], "许教组〔2026〕3号");
    let url = ev["downloadUrl"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/evidence/{}/file", ev["id"].as_str().unwrap()));

    // Filed with the upload alone (no reference): the claim carries the file.
    let filed = app.query_with(FILE_CLAIM, claim(&run, &weidu, &[&ev["id"]])).await["fileClaim"].clone();
    assert_eq!(filed["status"], "PENDING");
    assert_eq!(filed["evidence"][0]["id"], ev["id"]);
    assert_eq!(filed["evidence"][0]["sha256"], sha256(&bytes));
    // Neither a reference nor an upload: refused.
    let none = app.post(FILE_CLAIM, claim(&run, &weidu, &[])).await;
    assert_eq!(none["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{none}");

    // The unit reads its own file back.
    let own = download(&app, &url).await;
    assert_eq!(own.status(), 200);
    assert_eq!(own.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // The admin downloads it: same bytes, same hash, served as an attachment.
    app.sign_in("xc-admin").await;
    let res = download(&app, &url).await;
    assert_eq!(res.status(), 200);
    let header = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("cache-control"), "private, no-store");
    let disposition = header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''%E8%8E%B7%E5%A5%96%E6%96%87%E4%BB%B6.pdf"), "{disposition}");
    let got = res.bytes().await.unwrap();
    assert_eq!(got.as_ref(), bytes.as_slice());
    assert_eq!(sha256(&got), ev["sha256"].as_str().unwrap());

    // Approved, the claim's file backs the observation (dated by the file's
    // document date); the upload is audited.
    let decided = app
        .query_with(
            "mutation($c: ID!) { decideClaim(id: $c, approve: true, reason: \"材料齐全\") {
                observation { documentDate evidence { id } } } }",
            json!({ "c": filed["id"] }),
        )
        .await;
    assert_eq!(decided["decideClaim"]["observation"]["evidence"][0]["id"], ev["id"]);
    assert_eq!(decided["decideClaim"]["observation"]["documentDate"], "2026-09-05");
    let audit = app
        .query_with(
            "query($u: ID!) { auditLog(unitId: $u, first: 100) { edges { node { action entityId } } } }",
            json!({ "u": weidu }),
        )
        .await;
    let uploads: Vec<&Value> = audit["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "evidence.upload")
        .collect();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0]["node"]["entityId"], db_id(ev["id"].as_str().unwrap()).to_string());
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let (app, _, weidu, jianan) = xuchang_run().await;
    let bytes = pdf("one document");
    let a = upload(&app, &weidu, "a.pdf", bytes.clone(), json!({})).await.evidence().clone();
    // The same bytes again for the same unit: the item already stored.
    let b = upload(&app, &weidu, "b.pdf", bytes.clone(), json!({})).await.evidence().clone();
    assert_eq!(b["id"], a["id"]);
    assert_eq!(b["filename"], "a.pdf");
    // Another document number, or another unit: a new item over the same stored bytes.
    let c = upload(&app, &weidu, "c.pdf", bytes.clone(), json!({ "docNumber": "许教组〔2026〕9号" })).await;
    let d = upload(&app, &jianan, "d.pdf", bytes.clone(), json!({})).await;
    assert_ne!(c.evidence()["id"], a["id"]);
    assert_ne!(d.evidence()["id"], c.evidence()["id"]);
    assert_eq!(d.evidence()["sha256"], a["sha256"]);
    assert_eq!(evidence_rows(&app).await, 3);
    let files = stored_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    let sha = sha256(&bytes);
    assert!(files[0].ends_with(format!("{}/{sha}", &sha[..2])), "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), bytes);

    // An idempotency key returns its item; used again for other bytes, a CONFLICT.
    let key = json!({ "idempotencyKey": "scan-7" });
    let k1 = upload(&app, &weidu, "k.pdf", pdf("keyed"), key.clone()).await.evidence().clone();
    let k2 = upload(&app, &weidu, "k.pdf", pdf("keyed"), key.clone()).await.evidence().clone();
    assert_eq!(k1["id"], k2["id"]);
    assert_eq!(upload(&app, &weidu, "k.pdf", pdf("other"), key).await.code(), "CONFLICT");
}

#[tokio::test]
async fn files_that_are_not_what_they_claim_are_refused_and_nothing_is_stored() {
    let (app, _, weidu, _) = xuchang_run().await;
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(4096, 0);
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>".to_vec();
    let text = "这是一个文本文件，不是PDF".as_bytes().to_vec();
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0not an office document at all, only a zip".to_vec();
    for (bytes, named) in [
        (elf, Some("application/x-executable")),
        (html, Some("text/html")),
        (text, None),
        (zip, Some("application/zip")),
    ] {
        let a = upload(&app, &weidu, "佐证材料.pdf", bytes, json!({})).await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{:#}", a.body);
        let message = a.body["errors"][0]["message"].as_str().unwrap();
        match named {
            Some(t) => assert!(message.contains(t), "{message}"),
            None => assert!(message.contains("not recognised"), "{message}"),
        }
    }
    assert_eq!(evidence_rows(&app).await, 0);
    assert!(stored_files(&app).is_empty());
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_nothing_is_stored() {
    let app = spawn_app_with(|s| s.limits.max_upload_bytes = 2048).await;
    app.sign_in("xc-weidu").await;
    let weidu = unit_id(&app, "xuchang", "xc-weidu").await;
    let mut big = pdf("big");
    big.resize(4096, b' ');
    let a = upload(&app, &weidu, "big.pdf", big, json!({})).await;
    assert_eq!((a.status, a.code()), (413, "UPLOAD_TOO_LARGE"), "{:#}", a.body);
    assert_eq!(evidence_rows(&app).await, 0);
    assert!(stored_files(&app).is_empty());
    // Under the limit, the same route stores it.
    assert_eq!(upload(&app, &weidu, "small.pdf", pdf("small"), json!({})).await.evidence()["kind"], "file");
}

#[tokio::test]
async fn uploads_are_for_the_callers_own_units_and_downloads_for_the_organisation() {
    let (app, run, weidu, jianan) = xuchang_run().await;
    let ck_jxx = unit_id(&app, "chengkou", "ck-jxx").await;
    let bytes = pdf("scoped");
    // Anonymous: UNAUTHENTICATED.
    *app.token.lock().unwrap() = None;
    assert_eq!(upload(&app, &weidu, "a.pdf", bytes.clone(), json!({})).await.code(), "UNAUTHENTICATED");
    // A unit user: its own unit only; another organisation's unit does not exist for it.
    app.sign_in("xc-weidu").await;
    assert_eq!(upload(&app, &jianan, "a.pdf", bytes.clone(), json!({})).await.code(), "FORBIDDEN");
    assert_eq!(upload(&app, &ck_jxx, "a.pdf", bytes.clone(), json!({})).await.code(), "NOT_FOUND");
    let own = upload(&app, &weidu, "a.pdf", bytes.clone(), json!({})).await.evidence().clone();
    // The integration uploads nothing.
    app.sign_in("xc-yuejiangping").await;
    assert_eq!(upload(&app, &weidu, "a.pdf", bytes.clone(), json!({})).await.code(), "FORBIDDEN");
    assert_eq!(evidence_rows(&app).await, 1);

    // A department head uploads for the units it scores and attaches the
    // file to an observation it records (秘书科: 日常工作); a file of another
    // unit is refused, another organisation's does not exist.
    app.sign_in("xc-mishuke").await;
    let theirs = upload(&app, &weidu, "通报.pdf", pdf("通报"), json!({})).await.evidence().clone();
    let other_unit = upload(&app, &jianan, "建安.pdf", pdf("建安"), json!({})).await.evidence().clone();
    let rec = |ids: Vec<&Value>| json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "1.1-1", "facts": { "count": 1 }, "evidenceIds": ids } });
    let o =
        app.query_with(RECORD, rec(vec![&theirs["id"], &own["id"], &theirs["id"]])).await["recordObservation"].clone();
    assert_eq!(o["evidence"].as_array().unwrap().len(), 2, "duplicates dropped: {o}");
    assert_eq!(
        app.post(RECORD, rec(vec![&other_unit["id"]])).await["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    // Correcting with a file it already has keeps one link per file.
    const CORRECT: &str =
        "mutation($i: CorrectObservationInput!) { correctObservation(input: $i) { evidence { id } } }";
    let fix = json!({ "i": { "id": o["id"], "expectedVersion": o["version"], "facts": { "count": 2 },
        "reason": "复核", "evidenceIds": [theirs["id"]] } });
    assert_eq!(app.query_with(CORRECT, fix).await["correctObservation"]["evidence"].as_array().unwrap().len(), 2);

    // 城口's admin: 许昌's evidence is NOT_FOUND, for attaching and downloading.
    app.sign_in("ck-admin").await;
    let url = own["downloadUrl"].as_str().unwrap();
    let res = download(&app, url).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let ck_version = app.version_id("chengkou").await.unwrap();
    let ck_run = app
        .query_with(
            OPEN,
            json!({ "i": { "rubricVersionId": ck_version, "period": "2027", "unitIds": [ck_jxx], "title": "2027" } }),
        )
        .await["openScoreRun"]["id"]
        .clone();
    let foreign = json!({ "i": { "runId": ck_run, "unitId": ck_jxx, "ruleCode": "8.1-2", "facts": { "level": "city" },
        "evidenceIds": [own["id"]] } });
    assert_eq!(app.post(FILE_CLAIM, foreign).await["errors"][0]["extensions"]["code"], "NOT_FOUND");
    // Anonymous: 401. A reference has no file; a malformed id is a 400.
    *app.token.lock().unwrap() = None;
    assert_eq!(download(&app, url).await.status(), 401);
    app.sign_in("xc-admin").await;
    let refs = app
        .query_with(
            FILE_CLAIM,
            json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "3-①", "facts": { "level": "municipal" },
                "evidence": [{ "docNumber": "许教组〔2026〕3号" }] } }),
        )
        .await;
    let reference = &refs["fileClaim"]["evidence"][0];
    assert!(reference["downloadUrl"].is_null());
    assert_eq!(download(&app, &format!("/evidence/{}/file", reference["id"].as_str().unwrap())).await.status(), 404);
    assert_eq!(download(&app, &format!("/evidence/{run}/file")).await.status(), 400);
    assert_eq!(download(&app, url).await.status(), 200);
}

#[tokio::test]
async fn an_office_workbook_is_accepted_as_xlsx() {
    let (app, run, weidu, _) = xuchang_run().await;
    let res = download(&app, &format!("/runs/{run}/export.xlsx")).await;
    assert_eq!(res.status(), 200);
    let workbook = res.bytes().await.unwrap().to_vec();
    let ev = upload(&app, &weidu, "9月排名", workbook, json!({})).await.evidence().clone();
    assert_eq!(ev["mediaType"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(ev["filename"], "9月排名.xlsx", "the detected type's extension is added");
}

#[tokio::test]
async fn a_database_seeded_before_uploads_gets_the_department_heads_right() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app_with(|_| {}).await;
    let scorer_uploads = || {
        entity::casbin_rule::Entity::find()
            .filter(entity::casbin_rule::Column::V0.eq("role:scorer"))
            .filter(entity::casbin_rule::Column::V2.eq("evidence"))
            .filter(entity::casbin_rule::Column::V3.eq("upload"))
    };
    let version = || async { entity::policy_state::Entity::find_by_id(1).one(&app.db).await.unwrap().unwrap().version };
    // The seed grants it (one line per organisation); remove the lines, as
    // in a database seeded before, and run the uploads migration again.
    assert_eq!(scorer_uploads().all(&app.db).await.unwrap().len(), 2);
    entity::casbin_rule::Entity::delete_many()
        .filter(entity::casbin_rule::Column::V0.eq("role:scorer"))
        .filter(entity::casbin_rule::Column::V2.eq("evidence"))
        .exec(&app.db)
        .await
        .unwrap();
    let all = Migrator::migrations();
    let at = all.iter().position(|m| m.name() == "m20261123_000020_evidence_uploads").unwrap();
    // Down and up again on one connection of its own: on SQLite a pooled
    // connection that has run nothing since another one dropped a column
    // still has it in its copy of the schema, and preparing the `ADD COLUMN`
    // there fails as a duplicate (seen once in CI; a deployment only ever
    // migrates up, at startup).
    let mut one = sea_orm::ConnectOptions::new(app.settings.database_url.expose());
    one.max_connections(1).sqlx_logging(false);
    let one = sea_orm::Database::connect(one).await.unwrap();
    Migrator::down(&one, Some((all.len() - at) as u32)).await.unwrap();
    let before = version().await;
    Migrator::up(&one, None).await.unwrap();
    one.close().await.unwrap();
    let lines = scorer_uploads().all(&app.db).await.unwrap();
    let mut domains: Vec<String> = lines.into_iter().map(|l| l.v1).collect();
    domains.sort();
    assert_eq!(domains, ["chengkou", "xuchang"]);
    assert_eq!(version().await, before + 1, "every instance reloads the policy");
}

#[tokio::test]
async fn what_staff_attach_to_an_open_run_reaches_the_unit_only_once_published() {
    let (app, run, weidu, _) = xuchang_run().await;
    // The admin uploads a 通报 about 魏都区 and records a deduction with it.
    let up = upload(&app, &weidu, "通报.pdf", pdf("通报"), json!({ "docNumber": "许教督〔2026〕3号" })).await;
    let id = up.evidence()["id"].clone();
    let record = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
    let rec = json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "1.1-1", "facts": { "count": 1 }, "evidenceIds": [id] } });
    app.query_with(record, rec).await;
    let node = "query($id: ID!) { node(id: $id) { ... on Evidence { filename } } }";

    app.sign_in("xc-weidu").await;
    let hidden = app.post(node, json!({ "id": id })).await;
    assert_eq!(hidden["errors"][0]["extensions"]["code"], "NOT_FOUND", "{hidden}");
    let url = format!("/evidence/{}/file", id.as_str().unwrap());
    assert_eq!(download(&app, &url).await.status(), 404);

    app.sign_in("xc-admin").await;
    let v = app.query_with("query($r: ID!) { scoreRun(id: $r) { version } }", json!({ "r": run })).await;
    let publish = "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { status } }";
    app.query_with(publish, json!({ "r": run, "v": v["scoreRun"]["version"] })).await;

    app.sign_in("xc-weidu").await;
    let shown = app.query_with(node, json!({ "id": id })).await;
    assert_eq!(shown["node"]["filename"], "通报.pdf");
    assert_eq!(download(&app, &url).await.status(), 200);
}
