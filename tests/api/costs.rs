//! The cost model against real use (README, "Costs of typical queries"): the
//! documents our users send, their points on the live server, and an hour of
//! use replayed against the default budget.

use std::time::{Duration, Instant};

use kaohe_api::config::Limits;
use kaohe_gate::budget::{BudgetConfig, Budgets, Charge};
use serde_json::{Value, json};

use crate::helpers::*;

/// A department head's page: a run → its sections and indicators (three
/// levels) → one unit's observations.
pub const DEPARTMENT_PAGE: &str = "query Page($r: ID!, $u: ID!) { scoreRun(id: $r) { title status period
  rubricVersion { label sections { code title maxPoints weight
    children { code title maxPoints department children { code title maxPoints department } } } }
  observations(unitId: $u, first: 100) { totalCount edges { node { id ruleCode status facts { count points level flag } note enteredAt
    evidence { id } } } } } }";

/// The 月讲评 pull: the period's published ranking.
pub const RANKING: &str = "query Ranking { monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") {
  rank finalScore base bonus penalty unitName unit { code name } sections { code score weighted } } }";

/// A results page of 100 units with their section figures.
pub const RESULTS_PAGE: &str = "query Results($r: ID!) { scoreRun(id: $r) { results(first: 100) { totalCount
  edges { cursor node { rank unitName finalScore base bonus penalty sections { code score weighted } } } } } }";

/// Entering one observation of a month.
pub const ENTRY: &str = "mutation Entry($r: ID!, $u: ID!) { recordObservation(input: { runId: $r, unitId: $u,
  ruleCode: \"no-such-rule\", facts: {} }) { id status } }";

fn cost(body: &Value) -> (u64, u64) {
    let c = &body["extensions"]["cost"];
    (c["requested"].as_u64().unwrap(), c["nodes"].as_u64().unwrap())
}

/// Replays `times` charges of `points`, evenly spread over `over`, against
/// the default budget; answers how many were refused.
fn refused_over(points: u64, times: u32, over: Duration) -> u32 {
    let l = Limits::default();
    let budgets = Budgets::new(BudgetConfig {
        capacity: l.rate_budget,
        per_second: l.rate_refill_per_hour as f64 / 3600.0,
        max_keys: 10,
    });
    let t0 = Instant::now();
    (0..times)
        .filter(|i| {
            let at = t0 + over / times * *i;
            matches!(budgets.charge("user:1", points, at), Charge::Refused { .. })
        })
        .count() as u32
}

#[tokio::test]
async fn typical_use_fits_the_default_budget_and_abuse_does_not() {
    let app = spawn_app().await;
    app.sign_in("xc-mishuke").await;
    let runs = app
        .query(r#"{ scoreRuns(organisationCode: "xuchang", period: "2026-03", first: 1) { edges { node { id units(first: 1) { edges { node { id } } } } } } }"#)
        .await;
    let run = &runs["scoreRuns"]["edges"][0]["node"];
    let (r, u) = (run["id"].as_str().unwrap(), run["units"]["edges"][0]["node"]["id"].as_str().unwrap());
    let vars = json!({ "r": r, "u": u });

    let page = app.post(DEPARTMENT_PAGE, vars.clone()).await;
    assert!(page.get("errors").is_none(), "{page}");
    assert!(!page["data"]["scoreRun"]["rubricVersion"]["sections"].as_array().unwrap().is_empty());
    let (page_points, page_nodes) = cost(&page);
    // 100 observation rows: 1 point, where the old model charged every field (its nodes).
    assert_eq!(page_points, 1, "{page}");
    assert!(page_nodes > 800, "the old model's figure for this page: {page_nodes}");

    let results = app.post(RESULTS_PAGE, vars.clone()).await;
    assert!(results.get("errors").is_none(), "{results}");
    assert_eq!(cost(&results).0, 1);

    app.sign_in("xc-yuejiangping").await;
    let ranking = app.post(RANKING, json!({})).await;
    assert!(ranking.get("errors").is_none(), "{ranking}");
    assert!(!ranking["data"]["monthlyRanking"].as_array().unwrap().is_empty());
    let ranking_points = cost(&ranking).0;
    assert_eq!(ranking_points, kaohe_api::config::RANKING_COST);

    eprintln!(
        "costs (points, nodes = the old model's cost): page {:?}, results {:?}, ranking {:?}",
        cost(&page),
        cost(&results),
        cost(&ranking)
    );
    // A mutation costs its one point whether or not it is accepted.
    app.sign_in("xc-mishuke").await;
    let entry = app.post(ENTRY, vars).await;
    assert_eq!(cost(&entry).0, 1, "{entry}");

    // An hour of use against the default budget: the department head loads
    // the page 300 times, the integration pulls the ranking every minute
    // (two hours of it), and both can do it in a burst too.
    assert_eq!(refused_over(page_points, 300, Duration::from_secs(3600)), 0);
    assert_eq!(refused_over(page_points, 300, Duration::from_secs(60)), 0, "300 loads within a minute");
    assert_eq!(refused_over(ranking_points, 120, Duration::from_secs(7200)), 0);
    assert_eq!(refused_over(ranking_points + page_points, 360, Duration::from_secs(3600)), 0);
    // Pulling the ranking every second is not what the budget is for.
    assert!(refused_over(ranking_points, 3600, Duration::from_secs(3600)) > 2000);
}

#[tokio::test]
async fn abusive_documents_stay_refused_and_a_scraper_runs_dry() {
    let app = spawn_app().await;
    // Pages of pages: 100 × 100 × 100 rows, refused before anything runs.
    let nested = "{ organisations(first: 100) { edges { node { units(first: 100) { edges { node {
        id name } } } rubrics(first: 100) { edges { node { id } } } } } } }";
    let res =
        app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": nested })).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    // The largest document the nodes limit admits costs hundreds of points,
    // so a client repeating it is refused within the burst.
    let big =
        "{ organisations(first: 100) { edges { node { units(first: 40) { edges { node { id name code } } } } } } }";
    let first = app.post(big, json!({})).await;
    let (points, nodes) = cost(&first);
    assert!(nodes <= Limits::default().document.max_nodes, "{first}");
    assert_eq!(points, (100 + 100 * 40_u64).div_ceil(100), "{first}");
    let mut answered = 1u64;
    loop {
        let res =
            app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": big })).send().await.unwrap();
        let body: Value = res.json().await.unwrap();
        if code(&body) == "RATE_LIMITED" {
            break;
        }
        answered += 1;
        assert!(answered <= 100, "a scraper is refused within its burst: {body}");
    }
    assert_eq!(answered, Limits::default().rate_budget / points);
}
