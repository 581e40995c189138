//! DataLoader batching, by counting statements: the 月讲评 ranking of 1,000
//! units with their names and section scores costs a handful of SQL
//! statements, not one per unit.

use serde_json::json;

use crate::helpers::spawn_app_with;

const UNITS: usize = 1_000;

#[tokio::test]
async fn a_ranking_of_1000_units_costs_a_handful_of_statements() {
    let app = spawn_app_with(|s| s.limits.rate_budget = 100_000_000).await;
    // The load script's data: 1,000 许昌 units in a published 2026-10 run.
    let ids = kaohe_api::bench_seed::seed(&app.db, &app.chain_key, UNITS).await.unwrap();
    let run = ids.run;
    app.sign_in("xc-admin").await;
    // The first signed-in request loads the policy; measure after it.
    app.query("{ __typename }").await;

    let ranking = "query($r: ID!) { scoreRun(id: $r) { ranking {
        rank finalScore base bonus penalty unit { id code name organisation { code } } sections { code score weighted } } } }";
    let before = app.statements.get();
    let data = app.query_with(ranking, json!({ "r": run })).await;
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
    let monthly = "{ monthlyRanking(organisationCode: \"xuchang\", period: \"2026-10\") { rank unit { name } } }";
    let before = app.statements.get();
    let pulled = app.query(monthly).await;
    let spent = app.statements.get() - before;
    assert_eq!(pulled["monthlyRanking"].as_array().unwrap().len(), UNITS);
    assert!(spent <= 12, "the monthly ranking of {UNITS} units took {spent} statements");
}
