//! Going live (issue 15), end to end from an empty data folder, with the
//! `kaohe` binary itself: `kaohe admin bootstrap` (once only) → the admin
//! signs in and changes its one-time password → a department head of 秘书科
//! and a unit user → 20 units imported from an .xlsx sheet → the head
//! records on 党建 and is refused on 研训一体化 → `kaohe backup` → `kaohe
//! restore` into another empty folder (and database) → the audit chain and
//! every evidence file verify, and the same queries answer the same.
//! Also `kaohe check-config`. On SQLite and, with `KAOHE_TEST_PG`, on
//! PostgreSQL (`pg_dump`/`pg_restore`).

use std::process::Command;

use kaohe_api::Settings;
use serde_json::{Value, json};

use crate::accounts::with_file;
use crate::helpers::{TestApp, code, fresh, nodes, serve, workspace_rubrics};

/// Runs `kaohe ARGS` with the settings of `s` as its environment.
fn kaohe(s: &Settings, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kaohe"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", s.database_url.expose())
        .env("DATA_DIR", &s.data_dir)
        .env("RUBRICS_DIR", &s.rubrics_dir)
        .env("SEED_DEMO", if s.seed_demo { "true" } else { "false" })
        .env("BIND_ADDR", &s.bind_addr)
        .env("LOG", "warn")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Production settings on a fresh database: no demo, only the 城口 rubric.
fn production(s: &mut Settings) {
    s.seed_demo = false;
    let rubrics = s.data_dir.parent().unwrap().join("rubrics-ck");
    std::fs::create_dir_all(&rubrics).unwrap();
    let file = "chengkou-jxx-2026.toml";
    std::fs::copy(workspace_rubrics().join(file), rubrics.join(file)).unwrap();
    s.rubrics_dir = rubrics;
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> bool {
    *app.token.lock().unwrap() = None;
    let v = app
        .post(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken mustChangePassword } }",
            json!({ "u": username, "p": password }),
        )
        .await;
    let token = v["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login {username}: {v}"));
    *app.token.lock().unwrap() = Some(token.to_string());
    v["data"]["login"]["mustChangePassword"] == true
}

async fn change_password(app: &TestApp, from: &str, to: &str) {
    app.query_with(
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { id } }",
        json!({ "c": from, "n": to }),
    )
    .await;
}

/// A sheet of 20 units: a county bureau and 19 schools under it.
fn sheet() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["单位代码", "单位名称", "单位类型", "上级单位代码"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for i in 1..=20u32 {
        let code = format!("ck-u{i:02}");
        let (name, kind, parent) = if i == 1 {
            ("城口县教育事业单位".to_string(), "county", "")
        } else {
            (format!("城口县第{i}小学"), "school", "ck-u01")
        };
        ws.write_string(i, 0, &code).unwrap();
        ws.write_string(i, 1, &name).unwrap();
        ws.write_string(i, 2, kind).unwrap();
        if !parent.is_empty() {
            ws.write_string(i, 3, parent).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// What must answer the same before the backup and after the restore.
async fn snapshot(app: &TestApp, run: &str) -> Value {
    let data = app
        .query_with(
            r#"query($run: ID!) {
                organisation(code: "chengkou") { name
                  departments(first: 10) { edges { node { name active } } }
                  units(first: 100) { totalCount edges { node { code name kind parent { code } } } } }
                users(first: 100) { totalCount edges { node { username role department { name } unit { code } mustChangePassword } } }
                scoreRun(id: $run) { status observations(first: 10) { totalCount edges { node { ruleCode facts { count points level flag } } } } }
                auditLog(first: 1) { totalCount edges { node { action hash } } }
                verifyAuditChain { ok entries }
            }"#,
            json!({ "run": run }),
        )
        .await;
    assert_eq!(data["verifyAuditChain"]["ok"], true, "{data}");
    data
}

#[tokio::test]
async fn from_an_empty_folder_to_a_restored_backup() {
    let mut first = fresh().await;
    production(&mut first.settings);
    let s = first.settings.clone();

    // 1. Bootstrap, once.
    let args = ["admin", "bootstrap", "--organisation", "chengkou", "--name", "城口县教委", "--username", "ck-root"];
    let (ok, out, err) = kaohe(&s, &args);
    assert!(ok, "{out}{err}");
    let password = out.lines().find_map(|l| l.trim().strip_prefix("one-time password: ")).unwrap().to_string();
    let (again, _, err) = kaohe(&s, &args);
    assert!(!again && err.contains("already exists"), "bootstrap runs once: {err}");

    // 2. The server starts without demo data; the admin changes its password.
    let app = serve(s.clone()).await;
    let orgs = app.query("{ organisations(first: 10) { edges { node { code } } } }").await;
    assert_eq!(nodes(&orgs["organisations"]).len(), 1, "no demo organisation: {orgs}");
    assert!(sign_in(&app, "ck-root", &password).await, "the one-time password must be changed");
    let v = app.post("{ users(first: 5) { totalCount } }", json!({})).await;
    assert_eq!(code(&v), "FORBIDDEN");
    change_password(&app, &password, "城口县教委督导室管理员密码").await;
    assert!(!sign_in(&app, "ck-root", "城口县教委督导室管理员密码").await);

    // 3. 秘书科, 20 units from an .xlsx sheet, a head and a unit user.
    let dept =
        app.query("mutation { createDepartment(name: \"秘书科\") { id } }").await["createDepartment"]["id"].clone();
    let bytes = sheet();
    let preview = with_file(
        &app,
        "mutation($f: Upload!) { previewUnitImport(file: $f) { id sha256 added errors { row message } } }",
        json!({ "f": null }),
        "城口县单位.xlsx",
        bytes,
    )
    .await;
    let p = &preview["data"]["previewUnitImport"];
    assert_eq!((p["added"].clone(), p["errors"].clone()), (json!(20), json!([])), "{preview}");
    let applied = app
        .query_with(
            "mutation($p: ID!, $s: String!) { applyUnitImport(previewId: $p, sha256: $s) { added units { id code } } }",
            json!({ "p": p["id"], "s": p["sha256"] }),
        )
        .await;
    assert_eq!(applied["applyUnitImport"]["added"], 20);
    let units: Vec<String> = applied["applyUnitImport"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().into())
        .collect();
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { oneTimePassword } }";
    let head = app
        .query_with(create, json!({ "i": { "username": "ck-msk", "displayName": "秘书科", "role": "DEPARTMENT_HEAD", "departmentId": dept } }))
        .await["createUser"]["oneTimePassword"]
        .as_str()
        .unwrap()
        .to_string();
    let unit_pw = app
        .query_with(
            create,
            json!({ "i": { "username": "ck-u02-user", "displayName": "第2小学", "role": "UNIT", "unitId": units[1] } }),
        )
        .await["createUser"]["oneTimePassword"]
        .as_str()
        .unwrap()
        .to_string();

    // 4. The admin opens a run; the head scores 党建 (its own) and not 研训一体化.
    let version = app.version_id("chengkou").await.unwrap();
    let open = json!({ "i": { "rubricVersionId": version, "period": "2026", "unitIds": &units[..3], "title": "2026年度督导考核" } });
    let run = app.query_with("mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }", open).await["openScoreRun"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sign_in(&app, "ck-msk", &head).await);
    change_password(&app, &head, "秘书科负责人的新密码二〇二六").await;
    let record = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
    let own = json!({ "i": { "runId": run, "unitId": units[0], "ruleCode": "1-1", "facts": { "points": "18.5" } } });
    app.query_with(record, own).await;
    let other = json!({ "i": { "runId": run, "unitId": units[0], "ruleCode": "2.1.1-1", "facts": { "count": 1 } } });
    assert_eq!(code(&app.post(record, other).await), "FORBIDDEN");
    // An evidence file, so that the backup carries one.
    let pdf = b"%PDF-1.4\n% kaohe backup test\n%%EOF\n".to_vec();
    let up = with_file(
        &app,
        "mutation($f: Upload!, $u: ID!) { uploadEvidence(input: { file: $f, unitId: $u }) { id sha256 } }",
        json!({ "f": null, "u": units[0] }),
        "党建.pdf",
        pdf,
    )
    .await;
    assert!(up["data"]["uploadEvidence"]["sha256"].is_string(), "{up}");
    assert!(sign_in(&app, "ck-u02-user", &unit_pw).await);
    change_password(&app, &unit_pw, "第二小学账号的登录密码2026").await;
    sign_in(&app, "ck-root", "城口县教委督导室管理员密码").await;
    let before = snapshot(&app, &run).await;
    assert_eq!(before["organisation"]["units"]["totalCount"], 20);
    assert_eq!(before["users"]["totalCount"], 3);

    // 5. A backup, taken while the server runs.
    let archive = s.data_dir.parent().unwrap().join("kaohe-backup.tar");
    let (ok, out, err) = kaohe(&s, &["backup", archive.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 evidence file(s)"), "{out}");
    let (ok, _, err) = kaohe(&s, &["backup", archive.to_str().unwrap()]);
    assert!(!ok && err.contains("never overwrites"), "{err}");

    // 6. Restored into another empty folder (and database), with the keys
    //    the operator kept apart from the backups.
    let mut second = fresh().await;
    production(&mut second.settings);
    let s2 = second.settings.clone();
    std::fs::create_dir_all(&s2.data_dir).unwrap();
    let (ok, _, err) = kaohe(&s2, &["restore", archive.to_str().unwrap()]);
    assert!(!ok && err.contains("audit key"), "without its key the log cannot be checked: {err}");
    let mut third = fresh().await;
    production(&mut third.settings);
    let s3 = third.settings.clone();
    std::fs::create_dir_all(&s3.data_dir).unwrap();
    for key in ["audit-key", "jwt-secret"] {
        std::fs::copy(s.data_dir.join(key), s3.data_dir.join(key)).unwrap();
    }
    let (ok, out, err) = kaohe(&s3, &["restore", archive.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("evidence: 1 file(s) checked, 0 missing, 0 altered"), "{out}");
    let (ok, _, err) = kaohe(&s3, &["restore", archive.to_str().unwrap()]);
    assert!(!ok && err.contains("empty"), "a restore never writes over data: {err}");
    let (ok, out, err) = kaohe(&s3, &["audit", "verify"]);
    assert!(ok, "{out}{err}");

    // 7. The restored server answers the same.
    let restored = serve(s3.clone()).await;
    sign_in(&restored, "ck-root", "城口县教委督导室管理员密码").await;
    let after = snapshot(&restored, &run).await;
    assert_eq!(after, before);
    sign_in(&restored, "ck-msk", "秘书科负责人的新密码二〇二六").await;
    let own = json!({ "i": { "runId": run, "unitId": units[1], "ruleCode": "1-1", "facts": { "points": "19" } } });
    restored.query_with(record, own).await;
    // The check the restore made finds a file altered since.
    let sha = up["data"]["uploadEvidence"]["sha256"].as_str().unwrap();
    std::fs::write(s3.data_dir.join("evidence").join(&sha[..2]).join(sha), b"%PDF-1.4 altered").unwrap();
    let check = kaohe_api::backup::verify_evidence(&restored.db, &s3.data_dir).await.unwrap();
    assert_eq!((check.checked, check.altered.len(), check.missing.len()), (1, 1, 0));
    drop((first, second, third));
}

#[test]
fn help_and_unknown_commands_never_start_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let run = |arg: &str| {
        Command::new(env!("CARGO_BIN_EXE_kaohe")).arg(arg).current_dir(dir.path()).env_clear().output().unwrap()
    };
    let help = run("--help");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("check-config"));
    let unknown = run("serve-please");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown command `serve-please`"));
    // Nothing was created where it ran (the server would have made ./data).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn check_config_lists_every_problem_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kaohe"))
        .arg("check-config")
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("RUBRICS_DIR", workspace_rubrics())
        .env("DATABASE_URL", format!("sqlite://{}/kaohe.db?mode=rwc", dir.path().display()))
        .env("MAX_BATCH", "five")
        .env("SEED_DEMO", "maybe")
        .env("AUDIT_KEY", "short-hunter2")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for name in ["MAX_BATCH", "SEED_DEMO", "AUDIT_KEY"] {
        assert!(err.contains(name), "{name} not listed: {err}");
    }
    assert!(!err.contains("hunter2"), "a secret printed: {err}");
    // Good settings on an empty folder pass, listing the settings with secrets hidden.
    let out = Command::new(env!("CARGO_BIN_EXE_kaohe"))
        .arg("check-config")
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("RUBRICS_DIR", workspace_rubrics())
        .env("DATABASE_URL", format!("sqlite://{}/kaohe.db?mode=rwc", dir.path().display()))
        .env("SEED_DEMO", "false")
        .env("BIND_ADDR", "0.0.0.0:8080")
        .env("JWT_SECRET", "a-long-enough-secret-for-hs256-hunter2-xyz")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("hunter2") && stdout.contains("***"), "{stdout}");
    // Demo data on a reachable address is a problem.
    let out = Command::new(env!("CARGO_BIN_EXE_kaohe"))
        .arg("check-config")
        .env_clear()
        .env("DATA_DIR", dir.path())
        .env("RUBRICS_DIR", workspace_rubrics())
        .env("DATABASE_URL", format!("sqlite://{}/kaohe.db?mode=rwc", dir.path().display()))
        .env("BIND_ADDR", "0.0.0.0:8080")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEED_DEMO"));
}

/// Starts `kaohe` on `bind`, reads its log until it listens, stops it;
/// answers the log lines up to then.
fn start_log(s: &Settings, bind: &str) -> Vec<String> {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaohe"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", s.database_url.expose())
        .env("DATA_DIR", &s.data_dir)
        .env("RUBRICS_DIR", &s.rubrics_dir)
        .env("SEED_DEMO", if s.seed_demo { "true" } else { "false" })
        .env("DEMO_PASSWORD", "demo-password-for-tests")
        .env("BIND_ADDR", bind)
        .env("LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let out = child.stdout.take().unwrap();
    for line in std::io::BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        let listening = line.contains("kaohe listening");
        lines.push(line);
        if listening {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    lines
}

#[tokio::test]
async fn every_start_warns_while_demo_accounts_exist_on_a_reachable_address() {
    let f = fresh().await;
    let warned = |lines: &[String]| lines.iter().any(|l| l.contains("WARN") && l.contains("demo accounts exist"));
    let log = start_log(&f.settings, "0.0.0.0:0");
    assert!(log.iter().any(|l| l.contains("kaohe listening")), "{log:#?}");
    assert!(warned(&log), "{log:#?}");
    // Again at the next start (the accounts exist, whatever SEED_DEMO says now) …
    let mut off = f.settings.clone();
    off.seed_demo = false;
    assert!(warned(&start_log(&off, "0.0.0.0:0")));
    // … but not on a loopback address, nor without demo accounts.
    assert!(!warned(&start_log(&f.settings, "127.0.0.1:0")));
    let mut empty = fresh().await;
    production(&mut empty.settings);
    let bootstrap =
        ["admin", "bootstrap", "--organisation", "chengkou", "--name", "城口县教委", "--username", "ck-root"];
    assert!(kaohe(&empty.settings, &bootstrap).0);
    let log = start_log(&empty.settings, "0.0.0.0:0");
    assert!(log.iter().any(|l| l.contains("kaohe listening")) && !warned(&log), "{log:#?}");
}
