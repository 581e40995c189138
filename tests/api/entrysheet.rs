//! Issue 16 item 4: the Excel round trip. A section's entry sheet is
//! downloaded, filled in another workbook (read with calamine, written with
//! rust_xlsxwriter, the hidden ids sheet reproduced), previewed (what each
//! cell would do, errors by cell, section totals from the engine) and applied
//! in one transaction; the results equal recording the same facts one by one.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::accounts::with_file;
use crate::helpers::{TestApp, code, gid, spawn_app_as};

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id status version } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id version status } }";
const PREVIEW: &str = "mutation($r: ID!, $f: Upload!) { previewEntrySheet(runId: $r, file: $f) {
    id sha256 runVersion sectionCode recorded corrected withdrawn unchanged
    cells { cell unitId ruleCode action observationId facts { count level points } previousFacts { count level points } }
    errors { sheet cell message } totals { unitCode sectionCode before after } } }";
const APPLY: &str = "mutation($p: ID!, $v: Int!) { applyEntrySheet(previewId: $p, expectedRunVersion: $v) {
    recorded corrected withdrawn run { version } observations { id ruleCode } } }";
const RUN: &str = "query($r: ID!) { scoreRun(id: $r) { version } }";
const RESULTS: &str = "query($r: ID!) { scoreRun(id: $r) { results(first: 100) { edges { node {
    unit { code } finalScore sections { code score } } } } } }";
const ACTIVE: &str = "query($r: ID!) { scoreRun(id: $r) { observations(status: ACTIVE, first: 100) { edges { node {
    ruleCode unit { code } facts { count level points } } } } } }";
const AUDIT: &str = "query($r: ID!) { auditLog(runId: $r, first: 100) { edges { node { action after } } } }";

async fn unit_ids(app: &TestApp) -> BTreeMap<String, String> {
    let data = app
        .query_with(
            "{ organisation(code: \"xuchang\") { units(first: 100) { edges { node { id code } } } } }",
            json!({}),
        )
        .await;
    data["organisation"]["units"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["node"]["code"].as_str().unwrap().to_string(), e["node"]["id"].as_str().unwrap().to_string()))
        .collect()
}

async fn open(app: &TestApp, period: &str, units: &[&str]) -> String {
    let version = app.version_id("xuchang").await.unwrap();
    let i =
        json!({ "rubricVersionId": version, "period": period, "unitIds": units, "title": format!("{period} 月讲评") });
    app.query_with(OPEN, json!({ "i": i })).await["openScoreRun"]["id"].as_str().unwrap().to_string()
}

async fn record(app: &TestApp, run: &str, unit: &str, rule: &str, facts: Value) {
    app.query_with(RECORD, json!({ "i": { "runId": run, "unitId": unit, "ruleCode": rule, "facts": facts } })).await;
}

async fn version(app: &TestApp, run: &str) -> i64 {
    app.query_with(RUN, json!({ "r": run })).await["scoreRun"]["version"].as_i64().unwrap()
}

/// GET a section's entry sheet with the signed-in caller's token.
async fn download(app: &TestApp, run: &str, section: &str) -> (u16, Vec<u8>) {
    let mut req = app.client.get(format!("{}/runs/{run}/sections/{section}/entry.xlsx", app.address));
    if let Some(token) = app.token.lock().unwrap().clone() {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// A refusal's body without its request id (which every response has its own of).
fn refusal(body: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    v["errors"][0]["extensions"].as_object_mut().unwrap().remove("requestId");
    v
}

/// A workbook as read: (sheet name, cells as text) for each sheet, in order.
type Book = Vec<(String, Vec<Vec<String>>)>;

fn read(bytes: &[u8]) -> Book {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).unwrap();
            let (r0, c0) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
            let mut grid = vec![Vec::new(); r0];
            for line in range.rows() {
                let mut cells = vec![String::new(); c0];
                cells.extend(line.iter().map(|d| match d {
                    Data::Empty => String::new(),
                    Data::Float(f) => f.to_string(),
                    other => other.to_string(),
                }));
                grid.push(cells);
            }
            (n, grid)
        })
        .collect()
}

/// Writes a workbook again (the second sheet hidden), with `edits` to the
/// first: (cell such as `C7`, new text; a number when it reads as one).
fn write(book: &Book, edits: &[(&str, &str)]) -> Vec<u8> {
    let mut out = rust_xlsxwriter::Workbook::new();
    for (i, (name, grid)) in book.iter().enumerate() {
        let mut grid = grid.clone();
        if i == 0 {
            for (cell, text) in edits {
                let letters: String = cell.chars().take_while(|c| c.is_ascii_uppercase()).collect();
                let col = letters.bytes().fold(0usize, |a, b| a * 26 + (b - b'A' + 1) as usize) - 1;
                let row: usize = cell[letters.len()..].parse::<usize>().unwrap() - 1;
                while grid.len() <= row {
                    grid.push(Vec::new());
                }
                while grid[row].len() <= col {
                    grid[row].push(String::new());
                }
                grid[row][col] = text.to_string();
            }
        }
        let sheet = out.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, line) in grid.iter().enumerate() {
            for (c, text) in line.iter().enumerate() {
                if text.is_empty() {
                    continue;
                }
                // Ids stay text; figures typed in the first sheet are numbers.
                match text.parse::<f64>() {
                    Ok(n) if i == 0 && r > 0 && c > 1 => sheet.write_number(r as u32, c as u16, n).unwrap(),
                    _ => sheet.write_string(r as u32, c as u16, text).unwrap(),
                };
            }
        }
        if i > 0 {
            sheet.set_hidden(true);
        }
    }
    out.save_to_buffer().unwrap()
}

async fn preview(app: &TestApp, run: &str, bytes: Vec<u8>) -> Value {
    with_file(app, PREVIEW, json!({ "r": run, "f": null }), "entry.xlsx", bytes).await
}

/// (unit code, rule code) → facts of the run's active observations.
async fn active(app: &TestApp, run: &str) -> BTreeMap<(String, String), Value> {
    let data = app.query_with(ACTIVE, json!({ "r": run })).await;
    data["scoreRun"]["observations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            ((n["unit"]["code"].as_str().unwrap().into(), n["ruleCode"].as_str().unwrap().into()), n["facts"].clone())
        })
        .collect()
}

/// unit code → (final score, section 3's score).
async fn results(app: &TestApp, run: &str) -> BTreeMap<String, (String, String)> {
    let data = app.query_with(RESULTS, json!({ "r": run })).await;
    data["scoreRun"]["results"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            let s3 = n["sections"].as_array().unwrap().iter().find(|s| s["code"] == "3").unwrap()["score"].clone();
            (n["unit"]["code"].as_str().unwrap().into(), (n["finalScore"].to_string(), s3.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn a_sheet_round_trips_with_errors_by_cell_then_applies_once_as_recording_one_by_one() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app).await;
    let (jianan, weidu, yuzhou) = (&units["xc-jianan"], &units["xc-weidu"], &units["xc-yuzhou"]);
    let run = open(&app, "2026-05", &[jianan, weidu, yuzhou]).await;
    record(&app, &run, weidu, "3-②b", json!({ "count": 2 })).await;
    record(&app, &run, jianan, "3-②b", json!({ "count": 1 })).await;
    record(&app, &run, yuzhou, "3-③b", json!({ "level": "municipal" })).await;

    let (status, bytes) = download(&app, &run, "3").await;
    assert_eq!(status, 200);
    let book = read(&bytes);
    assert_eq!(book.len(), 2, "the visible sheet and the hidden ids");
    let (name, grid) = &book[0];
    assert!(name.starts_with("3 "), "{name}");
    assert_eq!(grid[0][..7], ["被考核单位", "单位代码", "3-①", "3-②a", "3-②b", "3-③a", "3-③b"]);
    // Units by code: xc-jianan (row 2), xc-weidu (row 3), xc-yuzhou (row 4).
    assert_eq!(grid[1][1], "xc-jianan");
    assert_eq!(grid[2][4], "2", "current values are filled in");
    assert_eq!(grid[3][6], "市级新闻媒体", "levels by label");
    let ids = &book[1].1;
    assert_eq!(ids[0][0], "kaohe-entry-sheet");
    assert_eq!(ids[0][2], run, "the run by its global id");
    assert_eq!(ids[2][0], *jianan, "units by global id, in the visible sheet's order");

    // A level that is not one of the rule's: an error naming the cell.
    let fill = |d4: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("C2", "省部级"), ("E2", ""), ("E3", "3"), ("D4", d4)]
    };
    let v = preview(&app, &run, write(&book, &fill("县级"))).await;
    let p = &v["data"]["previewEntrySheet"];
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(p["errors"][0]["cell"], "D4");
    assert_eq!(p["errors"][0]["message"], "D4: 等级 must be one of 市委、市政府, 省级有关部门");
    let refused = app.post(APPLY, json!({ "p": p["id"], "v": p["runVersion"] })).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "a sheet with errors applies nothing: {refused}");

    let filled = write(&book, &fill("市委、市政府"));
    let v = preview(&app, &run, filled.clone()).await;
    let p = v["data"]["previewEntrySheet"].clone();
    assert_eq!(p["errors"], json!([]), "{v:#}");
    let cells: Vec<(&str, &str)> = p["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cell"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        cells,
        [("C2", "RECORD"), ("E2", "WITHDRAW"), ("E3", "CORRECT"), ("D4", "RECORD"), ("G4", "UNCHANGED")],
        "{p:#}"
    );
    assert_eq!((p["recorded"].clone(), p["corrected"].clone(), p["withdrawn"].clone()), (json!(2), json!(1), json!(1)));
    let sha = p["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);

    // A stale expected version: CONFLICT, nothing applied.
    let stale = app.post(APPLY, json!({ "p": p["id"], "v": p["runVersion"].as_i64().unwrap() + 1 })).await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    let applied = app.query_with(APPLY, json!({ "p": p["id"], "v": p["runVersion"] })).await;
    let a = &applied["applyEntrySheet"];
    assert_eq!((a["recorded"].clone(), a["corrected"].clone(), a["withdrawn"].clone()), (json!(2), json!(1), json!(1)));
    assert_eq!(a["run"]["version"].as_i64(), Some(p["runVersion"].as_i64().unwrap() + 1), "applying bumps the run");
    // The same preview again: CONFLICT, never applied twice.
    let again = app.post(APPLY, json!({ "p": p["id"], "v": a["run"]["version"] })).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");

    // One audit entry, carrying the file's SHA-256.
    let log = app.query_with(AUDIT, json!({ "r": run })).await;
    let entries: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "score_run.entry_sheet")
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["after"]["sha256"], sha.as_str());

    // The preview's totals are the live results' section scores.
    let after = results(&app, &run).await;
    for t in p["totals"].as_array().unwrap() {
        let unit = t["unitCode"].as_str().unwrap();
        assert_eq!(after[unit].1, t["after"].to_string(), "{unit}: {t}");
    }

    // The same facts recorded one by one in another run give the same results.
    let twin = open(&app, "2026-06", &[jianan, weidu, yuzhou]).await;
    record(&app, &twin, weidu, "3-②b", json!({ "count": 3 })).await;
    record(&app, &twin, yuzhou, "3-③b", json!({ "level": "municipal" })).await;
    record(&app, &twin, jianan, "3-①", json!({ "level": "provincial" })).await;
    record(&app, &twin, yuzhou, "3-②a", json!({ "level": "municipal" })).await;
    assert_eq!(active(&app, &run).await, active(&app, &twin).await);
    assert_eq!(after, results(&app, &twin).await);

    // Downloaded again, the sheet shows what is recorded; unchanged, it changes nothing.
    let (_, bytes) = download(&app, &run, "3").await;
    let again = read(&bytes);
    assert_eq!(again[0].1[1][2], "省部级");
    assert_eq!(again[0].1[2][4], "3");
    let v = preview(&app, &run, write(&again, &[])).await;
    let p = &v["data"]["previewEntrySheet"];
    assert_eq!((p["recorded"].clone(), p["corrected"].clone(), p["withdrawn"].clone()), (json!(0), json!(0), json!(0)));
    // A sheet made before a change is stale where it changes what moved.
    let old = write(&book, &[("E3", "5")]);
    let v = preview(&app, &run, old).await;
    let errors = v["data"]["previewEntrySheet"]["errors"].as_array().unwrap().clone();
    assert!(
        errors.iter().any(|e| e["cell"] == "E3" && e["message"].as_str().unwrap().contains("download it again")),
        "{v:#}"
    );
}

#[tokio::test]
async fn what_the_caller_may_not_score_or_see_is_the_same_404_as_a_missing_one() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app).await;
    let run = open(&app, "2026-05", &[&units["xc-jianan"], &units["xc-weidu"]]).await;
    let missing_run = gid("ScoreRun", 999_999);
    let (status, missing) = download(&app, &missing_run, "3").await;
    assert_eq!(status, 404);
    let missing = refusal(&missing);
    assert_eq!(missing["errors"][0]["message"], "entry sheet not found");
    let (status, no_section) = download(&app, &run, "99").await;
    assert_eq!((status, refusal(&no_section)), (404, missing.clone()), "a missing section answers as a missing run");

    // 学前教育科 scores 2.1 only: its sheet of section 2 has that one column.
    app.sign_in("xc-xueqian").await;
    let (status, bytes) = download(&app, &run, "2").await;
    assert_eq!(status, 200);
    let book = read(&bytes);
    assert_eq!(book[0].1[0][2..], ["2.1-1"]);
    // 秘书科 scores nothing in section 2: the same 404.
    app.sign_in("xc-mishuke").await;
    let (status, body) = download(&app, &run, "2").await;
    assert_eq!((status, refusal(&body)), (404, missing.clone()));
    // Another organisation's admin: the same 404, and previewing is NOT_FOUND as for a missing run.
    app.sign_in("ck-admin").await;
    let (status, body) = download(&app, &run, "3").await;
    assert_eq!((status, refusal(&body)), (404, missing.clone()));
    let theirs = preview(&app, &run, bytes.clone()).await;
    let none = preview(&app, &missing_run, bytes).await;
    assert_eq!(code(&theirs), "NOT_FOUND", "{theirs}");
    assert_eq!(theirs["errors"][0]["message"], none["errors"][0]["message"]);
    // Anonymous: sign in first.
    *app.token.lock().unwrap() = None;
    assert_eq!(download(&app, &run, "3").await.0, 401);
}

#[tokio::test]
async fn garbage_uploads_are_bad_user_input_never_a_panic_or_500() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app).await;
    let run = open(&app, "2026-05", &[&units["xc-jianan"], &units["xc-weidu"]]).await;
    let other = open(&app, "2026-06", &[&units["xc-jianan"]]).await;
    let (_, good) = download(&app, &run, "3").await;
    let book = read(&good);
    let mut runner = TestRunner::deterministic();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let bytes = proptest::collection::vec(any::<u8>(), 0..3000);
    for _ in 0..8 {
        cases.push(("random bytes".into(), bytes.new_tree(&mut runner).unwrap().current()));
    }
    let cut = 0..good.len();
    for _ in 0..8 {
        let n = cut.new_tree(&mut runner).unwrap().current();
        cases.push((format!("truncated at {n}"), good[..n].to_vec()));
    }
    // Valid workbooks whose hidden sheet is wrong.
    let with_ids = |edit: &dyn Fn(&mut Vec<Vec<String>>)| {
        let mut b = book.clone();
        edit(&mut b[1].1);
        write(&b, &[])
    };
    cases.push(("no ids sheet".into(), write(&book[..1].to_vec(), &[])));
    cases.push(("another marker".into(), with_ids(&|g| g[0][0] = "hello".into())));
    cases.push(("another run".into(), with_ids(&|g| g[0][2] = other.clone())));
    cases.push(("a foreign unit".into(), with_ids(&|g| g[2][0] = gid("Unit", 999_999))));
    cases.push(("a unit twice".into(), with_ids(&|g| g[3][0] = g[2][0].clone())));
    cases.push(("a rule of another section".into(), with_ids(&|g| g[1][2] = format!("{} level", gid("Rule", 1)))));
    cases.push(("a rule id of another kind".into(), with_ids(&|g| g[1][2] = format!("{} level", gid("Unit", 1)))));
    cases.push(("a fact the rule does not take".into(), with_ids(&|g| g[1][2] = g[1][2].replace("level", "rate"))));
    cases.push(("no section".into(), with_ids(&|g| g[0][4] = "99".into())));
    let names = proptest::collection::vec(any::<char>(), 0..20);
    for _ in 0..4 {
        let junk: String =
            names.new_tree(&mut runner).unwrap().current().into_iter().filter(|c| !c.is_control()).collect();
        let junk = format!("x{junk}");
        cases.push((format!("junk ids {junk:?}"), with_ids(&|g| g[2][0] = junk.clone())));
    }
    for (what, bytes) in cases {
        let v = preview(&app, &run, bytes).await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{what}: {v}");
    }
    // Still serving.
    assert_eq!(version(&app, &run).await, 1);
}

/// Issue 16 item 4's volume: 1,000 units × the nine 重点任务 of a 许昌
/// month, previewed and applied in one go (9,000 observations). Prints the
/// times (the benchmark figures of the README): run with
/// `cargo test -p kaohe-api --test api entrysheet::a_thousand -- --nocapture`.
#[tokio::test]
async fn a_thousand_units_by_nine_rules_preview_and_apply_in_one_go() {
    let app = spawn_app_as("xc-admin").await;
    let mut csv = String::from("code,name,kind,parent code\n");
    for i in 0..1000 {
        csv.push_str(&format!("bench-{i:04},区县{i},county,\n"));
    }
    let unit_preview = "mutation($f: Upload!) { previewUnitImport(file: $f) { id sha256 } }";
    let v = with_file(&app, unit_preview, json!({ "f": null }), "u.csv", csv.into_bytes()).await;
    let p = &v["data"]["previewUnitImport"];
    app.query_with(
        "mutation($p: ID, $s: String!) { applyUnitImport(previewId: $p, sha256: $s) { added } }",
        json!({ "p": p["id"], "s": p["sha256"] }),
    )
    .await;
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .query_with(
                "query($a: String) { organisation(code: \"xuchang\") { units(first: 100, after: $a, search: \"bench-\") {
                   edges { node { id } } pageInfo { hasNextPage endCursor } } } }",
                json!({ "a": after }),
            )
            .await;
        let u = &page["organisation"]["units"];
        ids.extend(u["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap().to_string()));
        if u["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = u["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(ids.len(), 1000);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let run = open(&app, "2026-05", &refs).await;
    let t = std::time::Instant::now();
    let (status, bytes) = download(&app, &run, "2").await;
    assert_eq!(status, 200);
    let downloaded = t.elapsed();
    let book = read(&bytes);
    let mut edits = Vec::new();
    for r in 2..=1001 {
        for c in ["C", "D", "E", "F", "G", "H", "I", "J", "K"] {
            edits.push((format!("{c}{r}"), "6".to_string()));
        }
    }
    let edits: Vec<(&str, &str)> = edits.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let filled = write(&book, &edits);
    let t = std::time::Instant::now();
    let v = preview(&app, &run, filled).await;
    let previewed = t.elapsed();
    let p = &v["data"]["previewEntrySheet"];
    assert_eq!(p["recorded"], 9000, "{}", &v.to_string()[..500.min(v.to_string().len())]);
    let t = std::time::Instant::now();
    let a = app.query_with(APPLY, json!({ "p": p["id"], "v": p["runVersion"] })).await;
    let applied = t.elapsed();
    assert_eq!(a["applyEntrySheet"]["recorded"], 9000);
    println!(
        "entry sheet bench ({}): download {downloaded:?}, preview {previewed:?}, apply {applied:?}, preview+apply {:?}",
        if app.is_sqlite() { "SQLite" } else { "PostgreSQL" },
        previewed + applied
    );
}

#[tokio::test]
async fn a_department_applies_its_own_section_all_or_nothing_and_a_change_since_the_preview_is_a_conflict() {
    let app = spawn_app_as("xc-admin").await;
    let units = unit_ids(&app).await;
    let (jianan, weidu) = (&units["xc-jianan"], &units["xc-weidu"]);
    let run = open(&app, "2026-05", &[jianan, weidu]).await;
    let (_, admin_sheet) = download(&app, &run, "2").await;

    // 秘书科 scores section 1 (平时考核 1 per 次, 临时交办 2, 重点督办 3).
    app.sign_in("xc-mishuke").await;
    let (status, bytes) = download(&app, &run, "1").await;
    assert_eq!(status, 200);
    let book = read(&bytes);
    assert_eq!(book[0].1[0][2..], ["1.1-1", "1.2-1", "1.3-1"]);
    let v = preview(&app, &run, write(&book, &[("C2", "1"), ("E3", "2"), ("D3", "1.5"), ("D2", "x")])).await;
    let p = &v["data"]["previewEntrySheet"];
    let errors: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(errors, ["D2: 数量 must be a number (got `x`)", "D3: 数量 must be a whole number (got 1.5)"], "{v:#}");

    // Rows sorted, added or columns moved would put values on another unit or rule.
    let moved = [("B2", "xc-weidu"), ("B3", "xc-jianan"), ("C4", "1"), ("D1", "1.3-1")];
    let v = preview(&app, &run, write(&book, &moved)).await;
    let cells: Vec<&str> = v["data"]["previewEntrySheet"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cell"].as_str().unwrap())
        .collect();
    assert_eq!(cells, ["D1", "C4"], "a moved column stops the plan; an added row is named: {v:#}");
    let v = preview(&app, &run, write(&book, &moved[..3])).await;
    let cells: Vec<&str> = v["data"]["previewEntrySheet"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cell"].as_str().unwrap())
        .collect();
    assert_eq!(cells, ["B2", "B3", "C4"], "{v:#}");

    let v = preview(&app, &run, write(&book, &[("C2", "1"), ("E3", "2")])).await;
    let p = v["data"]["previewEntrySheet"].clone();
    assert_eq!(p["errors"], json!([]), "{v:#}");
    let totals: Vec<(&str, &str, &str)> = p["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["unitCode"].as_str().unwrap(), t["before"].as_str().unwrap(), t["after"].as_str().unwrap()))
        .collect();
    assert_eq!(totals, [("xc-jianan", "30", "29"), ("xc-weidu", "30", "24")], "engine totals of section 1");

    // Someone records one of the sheet's cells meanwhile: the apply is refused whole.
    record(&app, &run, jianan, "1.1-1", json!({ "count": 2 })).await;
    let v = app.post(APPLY, json!({ "p": p["id"], "v": p["runVersion"] })).await;
    assert_eq!(code(&v), "CONFLICT", "{v}");
    assert_eq!(active(&app, &run).await.len(), 1, "nothing of the sheet was applied");

    // Another caller cannot apply someone's preview (it does not exist for them).
    let fresh = preview(&app, &run, write(&read(&download(&app, &run, "1").await.1), &[("E3", "2")])).await;
    let fresh = fresh["data"]["previewEntrySheet"].clone();
    assert_eq!(fresh["errors"], json!([]), "{fresh:#}");
    app.sign_in("xc-admin").await;
    let v = app.post(APPLY, json!({ "p": fresh["id"], "v": fresh["runVersion"] })).await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    app.sign_in("xc-mishuke").await;
    let a = app.query_with(APPLY, json!({ "p": fresh["id"], "v": fresh["runVersion"] })).await;
    assert_eq!(a["applyEntrySheet"]["recorded"], 1);

    // The admin's sheet of section 2 changed where 秘书科 may not score: refused by cell.
    let v = preview(&app, &run, write(&read(&admin_sheet), &[("C2", "5")])).await;
    let errors = &v["data"]["previewEntrySheet"]["errors"];
    assert_eq!(errors[0]["message"], "C2: rule 2.1-1: not allowed", "{v:#}");

    // A submitted section takes no sheet.
    let submit = "mutation($r: ID!, $s: String!) { submitSection(runId: $r, sectionCode: $s) { status } }";
    app.query_with(submit, json!({ "r": run, "s": "1" })).await;
    let v = preview(&app, &run, write(&book, &[("C3", "1")])).await;
    assert_eq!(code(&v), "FROZEN", "{v}");
}
