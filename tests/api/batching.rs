//! DataLoader batching, by counting statements: the 月讲评 ranking of 1,000
//! units with their names and section scores costs a handful of SQL
//! statements, not one per unit.

use chrono::Utc;
use entity::unit;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::helpers::{gid, spawn_app_with};

const UNITS: usize = 1_000;

#[tokio::test]
async fn a_ranking_of_1000_units_costs_a_handful_of_statements() {
    let app = spawn_app_with(|s| s.limits.rate_budget = 100_000_000).await;
    let org = entity::organisation::Entity::find()
        .filter(entity::organisation::Column::Code.eq("xuchang"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now();
    let rows: Vec<unit::ActiveModel> = (0..UNITS)
        .map(|i| unit::ActiveModel {
            organisation_id: Set(org.id),
            parent_id: Set(None),
            code: Set(format!("load-{i:04}")),
            name: Set(format!("测试单位{i:04}")),
            kind: Set("county".into()),
            attributes: Set("{}".into()),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(200) {
        unit::Entity::insert_many(chunk.to_vec()).exec(&app.db).await.unwrap();
    }
    let ids: Vec<String> = unit::Entity::find()
        .filter(unit::Column::Code.starts_with("load-"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| gid("Unit", u.id))
        .collect();
    assert_eq!(ids.len(), UNITS);

    app.sign_in("xc-admin").await;
    let version = app.version_id("xuchang").await.unwrap();
    let open = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id version } }";
    let input = json!({ "i": { "rubricVersionId": version, "period": "2026-09", "unitIds": ids, "title": "千单位" } });
    let run = app.query_with(open, input).await["openScoreRun"].clone();
    let record = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
    for (n, u) in ids.iter().take(3).enumerate() {
        let facts = json!({ "count": n + 1 });
        app.query_with(
            record,
            json!({ "i": { "runId": run["id"], "unitId": u, "ruleCode": "1.1-1", "facts": facts } }),
        )
        .await;
    }
    let v = app.query_with("query($r: ID!) { scoreRun(id: $r) { version } }", json!({ "r": run["id"] })).await;
    let publish = "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { status } }";
    app.query_with(publish, json!({ "r": run["id"], "v": v["scoreRun"]["version"] })).await;

    let ranking = "query($r: ID!) { scoreRun(id: $r) { ranking {
        rank finalScore base bonus penalty unit { id code name organisation { code } } sections { code score weighted } } } }";
    let before = app.statements.get();
    let data = app.query_with(ranking, json!({ "r": run["id"] })).await;
    let spent = app.statements.get() - before;
    let rows = data["scoreRun"]["ranking"].as_array().unwrap();
    assert_eq!(rows.len(), UNITS);
    assert!(
        rows.iter()
            .all(|r| r["unit"]["organisation"]["code"] == "xuchang" && r["sections"].as_array().unwrap().len() == 3)
    );
    assert_eq!(rows[0]["rank"], 1);
    // The caller and its organisation, the run, its results, the units (one
    // batch), their organisation (one batch), and now and then the policy's
    // version check: 7 to 9 whatever the unit count (one per unit would be 1,000+).
    assert!(spent <= 12, "the ranking of {UNITS} units took {spent} statements");

    // The same through the integration's pull.
    let monthly = "{ monthlyRanking(organisationCode: \"xuchang\", period: \"2026-09\") { rank unit { name } } }";
    let before = app.statements.get();
    let pulled = app.query(monthly).await;
    let spent = app.statements.get() - before;
    assert_eq!(pulled["monthlyRanking"].as_array().unwrap().len(), UNITS);
    assert!(spent <= 12, "the monthly ranking of {UNITS} units took {spent} statements");
}
