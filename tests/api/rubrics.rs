use kaohe_api::Caller;
use kaohe_api::rubric::rebuild::rubric_of_version;
use kaohe_engine::Rubric;
use serde_json::{Value, json};

use crate::helpers::{db_id, spawn_app, workspace_rubrics};

const TREE: &str = r#"
query($id: ID!) {
  rubricVersion(id: $id) {
    label status regime scale bonusCap source baseMaxTotal ruleCount
    rubric { code }
    sections {
      code title depth maxPoints weight role department
      children {
        code title depth maxPoints department note
        parent { code }
        children { code maxPoints }
        clauses { no text cap group informational rules { code kind effect label params cap halving highestOnly deferLate } }
      }
    }
    indicators { code clauses { no rules { code } } }
  }
}"#;

fn compiled(file: &str) -> Result<Rubric, String> {
    let text = std::fs::read_to_string(workspace_rubrics().join(file)).map_err(|e| e.to_string())?;
    Rubric::from_toml(file, &text).map_err(|e| e.to_string())
}

#[tokio::test]
async fn xuchang_monthly_version_sums_to_100_with_weighted_sections() {
    let app = spawn_app().await;
    let id = app.version_id("xuchang").await.expect("xuchang version");
    let v = app.query_with(TREE, json!({ "id": id })).await["rubricVersion"].clone();
    assert_eq!(v["status"], "PUBLISHED");
    assert_eq!(v["regime"], "MONTHLY");
    assert_eq!(v["scale"], "100");
    assert_eq!(v["baseMaxTotal"], "100");
    assert_eq!(v["rubric"]["code"], "xuchang-jyqs");
    let sections = v["sections"].as_array().unwrap();
    let first = &sections[0];
    assert_eq!(first["code"], "1");
    assert_eq!(first["title"], "日常工作考核");
    assert_eq!(first["maxPoints"], "30");
    assert_eq!(first["weight"], "30");
    assert_eq!(first["role"], "BASE");
    assert_eq!(first["department"], "秘书科");
    let weights: Vec<&Value> = sections.iter().filter(|s| s["role"] == "BASE").map(|s| &s["weight"]).collect();
    assert_eq!(weights, [&json!("30"), &json!("70")]);

    // 1.1 平时考核: 5 points, one per-count rule of 1 point, department inherited.
    let daily = &first["children"][0];
    assert_eq!(daily["code"], "1.1");
    assert_eq!(daily["parent"]["code"], "1");
    assert_eq!(daily["maxPoints"], "5");
    assert_eq!(daily["department"], "秘书科");
    let clause = &daily["clauses"][0];
    assert!(clause["text"].as_str().unwrap().contains("逾期未报送"));
    let rule = &clause["rules"][0];
    assert_eq!(rule["code"], "1.1-1");
    assert_eq!(rule["kind"], "PER_COUNT");
    assert_eq!(rule["effect"], "DEDUCT");
    assert_eq!(rule["params"]["kind"], "per_count");
    assert_eq!(rule["params"]["points"], "1");

    // Every indicator, clause and rule of the file is served.
    let file = compiled("xuchang-jyqs-2023.toml").expect("xuchang file validates");
    let indicators = v["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), file.indicators.len());
    let clauses: usize = indicators.iter().map(|i| i["clauses"].as_array().unwrap().len()).sum();
    let file_clauses: usize = file.indicators.iter().map(|i| i.clauses.len()).sum();
    assert_eq!(clauses, file_clauses);
    let rules: usize = indicators
        .iter()
        .flat_map(|i| i["clauses"].as_array().unwrap())
        .map(|c| c["rules"].as_array().unwrap().len())
        .sum();
    assert_eq!(rules, file.rules.len());
    assert_eq!(v["ruleCount"], json!(file.rules.len()));
}

#[tokio::test]
async fn chengkou_loads() {
    let file = compiled("chengkou-jxx-2026.toml").expect("rubrics/chengkou-jxx-2026.toml validates");
    let app = spawn_app().await;
    let id = app.version_id("chengkou").await.expect("chengkou version");
    let v = app.query_with(TREE, json!({ "id": id })).await["rubricVersion"].clone();
    assert_eq!(v["regime"], "ANNUAL");
    assert_eq!(v["baseMaxTotal"], "100");
    assert_eq!(v["bonusCap"], json!(file.bonus_cap.map(|c| c.to_string())));
    assert_eq!(v["ruleCount"], json!(file.rules.len()));
    let round = rubric_of_version(&app.db, &Caller::system(), db_id(&id)).await.unwrap();
    assert_eq!(round.indicators, file.indicators);
    assert_eq!(round.rules, file.rules);
}

#[tokio::test]
async fn a_stored_version_rebuilds_into_the_same_engine_rubric() {
    let app = spawn_app().await;
    let id = db_id(&app.version_id("xuchang").await.unwrap());
    let round = rubric_of_version(&app.db, &Caller::system(), id).await.unwrap();
    let file = compiled("xuchang-jyqs-2023.toml").unwrap();
    assert_eq!(round.indicators, file.indicators, "indicators and clauses");
    assert_eq!(round.rules, file.rules, "rules");
    assert_eq!(round.sections, file.sections);
    assert_eq!(
        (&round.code, &round.version, &round.organisation, round.scale, round.bonus_cap, round.regime),
        (&file.code, &file.version, &file.organisation, file.scale, file.bonus_cap, file.regime)
    );
}

#[tokio::test]
async fn a_bad_rubric_file_stops_the_start_naming_file_and_indicator() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(workspace_rubrics().join("xuchang-jyqs-2023.toml")).unwrap();
    // 1.1 平时考核 claims 6 points: its parent's children no longer sum to 30.
    let broken = text.replacen("title = \"平时考核\"\nmax = 5", "title = \"平时考核\"\nmax = 6", 1);
    assert_ne!(broken, text, "the fixture edit must apply");
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let rubrics = dir.path().to_path_buf();
    let (settings, _keep) = {
        let fresh = crate::helpers::fresh().await;
        let mut s = fresh.settings.clone();
        s.rubrics_dir = rubrics;
        (s, fresh)
    };
    let err = match kaohe_api::Application::build(settings).await {
        Ok(_) => panic!("a bad rubric must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("broken.toml"), "{err}");
    assert!(err.contains("indicator 1"), "{err}");
}

#[tokio::test]
async fn an_unknown_rule_kind_is_refused() {
    let app_dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(workspace_rubrics().join("xuchang-jyqs-2023.toml")).unwrap();
    let broken = text.replacen("kind = \"per_count\"", "kind = \"per_person\"", 1);
    std::fs::write(app_dir.path().join("bad-kind.toml"), broken).unwrap();
    let err = kaohe_api::rubric::load::read_dir(app_dir.path()).err().unwrap().to_string();
    assert!(err.contains("bad-kind.toml"), "{err}");
    assert!(err.contains("per_person"), "{err}");
}
