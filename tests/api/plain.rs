//! The plain path of long lists (`graphql::plain`, issue 18) answers exactly
//! what async-graphql's own path answers: the same selection is asked as
//! is (plain path) and with its first field given once more at the end
//! (the same field twice merges into one answer, and a response key given
//! twice sends the list down the normal path, by design), and the two
//! `data` texts must be equal byte for byte, key order included, over
//! selections proptest draws: any subset of the fields, aliases,
//! `__typename`, named and inline fragments, `@skip`/`@include` with
//! literals and variables.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

const ENTRY: [&str; 9] =
    ["rank", "unitName", "finalScore", "base", "bonus", "penalty", "runId", "revision", "publishedAt"];
const UNIT: [&str; 7] = ["id", "code", "name", "kind", "active", "version", "updatedAt"];
const SECTION: [&str; 9] = ["code", "title", "role", "max", "score", "weight", "weighted", "bonus", "penalty"];

/// One field of a drawn selection.
#[derive(Clone, Debug)]
struct Drawn {
    name: String,
    alias: Option<String>,
    /// `@skip`/`@include`: (directive, literal or the variable `$yes`/`$no`).
    directive: Option<(&'static str, &'static str)>,
    sub: Vec<Drawn>,
    /// Wrapped in an inline fragment (`... on Type { }`) or not.
    inline: bool,
}

fn leaf(names: &'static [&'static str]) -> impl Strategy<Value = Drawn> {
    let directive = prop::option::weighted(
        0.25,
        prop::sample::select(vec![
            ("skip", "true"),
            ("skip", "false"),
            ("include", "true"),
            ("include", "false"),
            ("skip", "$yes"),
            ("include", "$yes"),
            ("include", "$no"),
        ]),
    );
    (prop::sample::select(names.to_vec()), prop::option::weighted(0.2, "[a-z]{1,3}"), directive, any::<bool>())
        .prop_map(|(name, alias, directive, inline)| Drawn {
            name: name.to_string(),
            alias: alias.map(|a| format!("a_{a}")),
            directive,
            sub: vec![],
            inline: inline && name.len() % 3 == 0,
        })
}

fn selection() -> impl Strategy<Value = Vec<Drawn>> {
    let typename = Just(Drawn { name: "__typename".into(), alias: None, directive: None, sub: vec![], inline: false });
    let unit = prop::collection::vec(leaf(&UNIT), 1..5).prop_map(|sub| Drawn {
        name: "unit".into(),
        alias: None,
        directive: None,
        sub,
        inline: false,
    });
    let sections = (prop::collection::vec(leaf(&SECTION), 1..6), any::<bool>()).prop_map(|(sub, tn)| Drawn {
        name: "sections".into(),
        alias: tn.then(|| "parts".to_string()),
        directive: None,
        sub,
        inline: false,
    });
    prop::collection::vec(prop_oneof![4 => leaf(&ENTRY), 1 => unit, 1 => sections, 1 => typename], 1..9)
}

/// Each field's text, once per response key (a response key given twice
/// keeps its first).
fn items(fields: &[Drawn], type_name: &str) -> Vec<String> {
    items_typed(fields, type_name, &type_of)
}

/// The same, with the types of object fields' selections told by `types`.
fn items_typed(fields: &[Drawn], type_name: &str, types: &dyn Fn(&str) -> &'static str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in fields {
        let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
        if !seen.insert(key) {
            continue;
        }
        let mut text = String::new();
        if let Some(a) = &f.alias {
            text.push_str(&format!("{a}: "));
        }
        text.push_str(&f.name);
        if let Some((d, v)) = f.directive {
            text.push_str(&format!(" @{d}(if: {v})"));
        }
        if !f.sub.is_empty() {
            text.push_str(&format!(" {{ {} }}", items_typed(&f.sub, types(&f.name), types).join(" ")));
        }
        if f.inline {
            text = format!("... on {type_name} {{ {text} }}");
        }
        out.push(text);
    }
    out
}

/// The type of an object field's selection.
fn type_of(field: &str) -> &'static str {
    match field {
        "unit" | "node" => "Unit",
        "sections" => "SectionResult",
        "pageInfo" => "PageInfo",
        "edges" => "UnitEdge",
        _ => "Organisation",
    }
}

/// The raw `data` text of an answer (it is written first).
async fn data_text(app: &TestApp, query: &str) -> String {
    answer_text(app, query, false).await
}

/// [`data_text`], computed (`Cache-Control: no-cache`) when `computed`.
async fn answer_text(app: &TestApp, query: &str, computed: bool) -> String {
    let token = app.token.lock().unwrap().clone().unwrap();
    let mut req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(token);
    if computed {
        req = req.header("Cache-Control", "no-cache");
    }
    let res = req.json(&json!({ "query": query, "variables": { "yes": true, "no": false } })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(body.get("errors").is_none(), "{query}\n{body:#}");
    text.split(",\"extensions\"").next().unwrap().to_string()
}

/// How many lists or pages the plain path wrote for `query` (computed:
/// `Cache-Control: no-cache`), by the server's own metric.
async fn written_plain(app: &TestApp, query: &str) -> f64 {
    const KEY: &str = "kaohe_graphql_plain_answers_total{}";
    let before = crate::operations::scrape(app).await.get(KEY).copied().unwrap_or(0.0);
    let token = app.token.lock().unwrap().clone().unwrap();
    let res =
        app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).header("Cache-Control", "no-cache");
    let body: Value = res.json(&json!({ "query": query })).send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body:#}");
    crate::operations::scrape(app).await.get(KEY).copied().unwrap_or(0.0) - before
}

/// The operation's head: declares only the variables the selection uses
/// (an unused one is a validation error).
fn head(sel: &str) -> String {
    let mut defs = vec![];
    if sel.contains("$yes") {
        defs.push("$yes: Boolean!");
    }
    if sel.contains("$no") {
        defs.push("$no: Boolean = false");
    }
    if defs.is_empty() { "query".into() } else { format!("query({})", defs.join(", ")) }
}

#[tokio::test]
async fn the_plain_path_answers_exactly_as_the_normal_path() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 1_000_000;
        s.limits.rate_refill_per_hour = 1_000_000;
    })
    .await;
    app.sign_in("xc-admin").await;
    let ranking = "monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\")";
    // The demo month has rows, with units and sections.
    let first = data_text(&app, &format!("{{ {ranking} {{ rank unit {{ code }} sections {{ code }} }} }}")).await;
    assert!(first.contains("\"sections\":[{"), "{first}");

    let mut runner = TestRunner::deterministic();
    let strategy = selection();
    for case in 0..64 {
        let drawn = strategy.new_tree(&mut runner).unwrap().current();
        let parts = items(&drawn, "RankingEntry");
        let sel = parts.join(" ");
        let again = format!("{sel} {}", parts[0]);
        let fragment = if case % 4 == 0 { "...F" } else { "" };
        let defs = if fragment.is_empty() { String::new() } else { "fragment F on RankingEntry { rank base }".into() };
        let vars = head(&sel);
        let plain = format!("{vars} {{ {ranking} {{ {sel} {fragment} }} }} {defs}");
        let normal = format!("{vars} {{ {ranking} {{ {again} {fragment} }} }} {defs}");
        assert_eq!(data_text(&app, &plain).await, data_text(&app, &normal).await, "{plain}");
    }
    // The plain path is taken (the server's metric), and the forced normal path is not.
    let asked = format!("{{ {ranking} {{ rank unit {{ code }} }} }}");
    assert_eq!(written_plain(&app, &asked).await, 1.0);
    assert_eq!(written_plain(&app, &format!("{{ {ranking} {{ rank unit {{ code }} rank }} }}")).await, 0.0);
    // And through a run's own ranking.
    let sel = "rank unit { id name } sections { code role max weight } publishedAt __typename";
    let run = "scoreRuns(organisationCode: \"xuchang\", first: 1, status: PUBLISHED) { edges { node { ranking";
    assert_eq!(
        data_text(&app, &format!("{{ {run} {{ {sel} }} }} }} }} }}")).await,
        data_text(&app, &format!("{{ {run} {{ {sel} rank }} }} }} }} }}")).await
    );
}

const PAGE_INFO: [&str; 4] = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"];
const LISTED_UNIT: [&str; 6] = ["id", "code", "name", "kind", "active", "version"];
const ORGANISATION: [&str; 3] = ["id", "code", "name"];

fn object(name: &'static str, sub: impl Strategy<Value = Vec<Drawn>>) -> impl Strategy<Value = Drawn> {
    (sub, prop::option::weighted(0.2, "[a-z]{1,3}")).prop_map(move |(sub, alias)| Drawn {
        name: name.into(),
        alias: alias.map(|a| format!("b_{a}")),
        directive: None,
        sub,
        inline: false,
    })
}

/// A selection of a page of units: what the plain path of
/// `Organisation.units` writes (`plain::page`).
fn page_selection() -> impl Strategy<Value = Vec<Drawn>> {
    let typename =
        || Just(Drawn { name: "__typename".into(), alias: None, directive: None, sub: vec![], inline: false });
    let organisation =
        object("organisation", prop::collection::vec(prop_oneof![4 => leaf(&ORGANISATION), 1 => typename()], 1..4));
    let node = object(
        "node",
        prop::collection::vec(prop_oneof![5 => leaf(&LISTED_UNIT), 1 => organisation, 1 => typename()], 1..6),
    );
    let edges =
        object("edges", prop::collection::vec(prop_oneof![1 => leaf(&["cursor"]), 3 => node, 1 => typename()], 1..4));
    let info = object("pageInfo", prop::collection::vec(leaf(&PAGE_INFO), 1..5));
    prop::collection::vec(prop_oneof![2 => leaf(&["totalCount"]), 1 => info, 3 => edges, 1 => typename()], 1..5)
}

#[tokio::test]
async fn a_page_of_units_is_written_plain_exactly_as_the_normal_path_writes_it() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 1_000_000;
        s.limits.rate_refill_per_hour = 1_000_000;
    })
    .await;
    app.sign_in("xc-admin").await;
    let mut runner = TestRunner::deterministic();
    let strategy = page_selection();
    for case in 0..64 {
        let drawn = strategy.new_tree(&mut runner).unwrap().current();
        let parts = items(&drawn, "UnitConnection");
        let sel = parts.join(" ");
        // Pages from the start, in the middle, at the end, past the end.
        let args = ["first: 3", "first: 4, after: \"YzE6Mw\"", "first: 100", "first: 2, after: \"YzE6OTk\""][case % 4];
        let filter = if case % 5 == 0 { ", kind: \"county\"" } else { "" };
        let units = format!("units({args}{filter})");
        let vars = head(&sel);
        let plain = format!("{vars} {{ organisation(code: \"xuchang\") {{ {units} {{ {sel} }} }} }}");
        let normal = format!("{vars} {{ organisation(code: \"xuchang\") {{ {units} {{ {sel} {} }} }} }}", parts[0]);
        assert_eq!(data_text(&app, &plain).await, data_text(&app, &normal).await, "{plain}");
    }
    // The plain path is taken (the server's metric), and not for a selection
    // it does not write.
    let page = "{ organisation(code: \"xuchang\") { units(first: 5) { totalCount edges { node { code organisation { name } } } } } }";
    assert_eq!(written_plain(&app, page).await, 1.0);
    let twice = "{ organisation(code: \"xuchang\") { units(first: 5) { totalCount totalCount } } }";
    assert_eq!(written_plain(&app, twice).await, 0.0);
    let parent = "{ organisation(code: \"xuchang\") { units(first: 5) { edges { node { parent { code } } } } } }";
    assert_eq!(written_plain(&app, parent).await, 0.0);
    // A field the short columns do not hold reads whole rows (the same answer
    // as ever), and a unit's attributes are there.
    let whole = data_text(
        &app,
        "{ organisation(code: \"xuchang\") { units(first: 2) { edges { node { code attributes updatedAt } } } } }",
    )
    .await;
    assert!(whole.contains("\"attributes\":{"), "{whole}");
}

/// A computed ranking is written once per data generation (`graphql::written`):
/// asked again it is the very same text, and a write that changes what it
/// shows (a unit renamed) shows in the next answer, computed or not.
#[tokio::test]
async fn a_written_ranking_follows_the_generation() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 1_000_000;
        s.limits.rate_refill_per_hour = 1_000_000;
    })
    .await;
    app.sign_in("xc-admin").await;
    let ranking = "{ monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") { rank unitName unit { id name version } } }";
    let computed = |app: &TestApp| {
        let token = app.token.lock().unwrap().clone().unwrap();
        let req =
            app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).header("Cache-Control", "no-cache");
        async move {
            let text = req.json(&json!({ "query": ranking })).send().await.unwrap().text().await.unwrap();
            text.split(",\"extensions\"").next().unwrap().to_string()
        }
    };
    let first = computed(&app).await;
    assert!(first.starts_with("{\"data\":{\"monthlyRanking\":[{\"rank\":"), "{first}");
    assert_eq!(computed(&app).await, first);
    // Both paths agree on the bytes (the first field again: the normal path).
    let normal = "{ monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") { rank unitName unit { id name version } rank } }";
    assert_eq!(data_text(&app, normal).await, first);

    // Two written lists in one answer, each in its place.
    let both = "{ a: monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") { rank unitName }
        b: monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") { unitName } }";
    let written: Value = serde_json::from_str(&format!("{}}}", data_text(&app, both).await)).unwrap();
    let again = "{ a: monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") { rank unitName rank }
        b: monthlyRanking(organisationCode: \"xuchang\", period: \"2026-03\") { unitName unitName } }";
    let normal_both: Value = serde_json::from_str(&format!("{}}}", data_text(&app, again).await)).unwrap();
    assert_eq!(written, normal_both);
    assert!(written["data"]["b"][0]["unitName"].is_string(), "{written}");

    let body: Value = serde_json::from_str(&format!("{first}}}")).unwrap();
    let unit = &body["data"]["monthlyRanking"][0]["unit"];
    let renamed = app
        .post(
            "mutation($id: ID!, $v: Int!) { renameUnit(id: $id, name: \"改名后的单位\", expectedVersion: $v) { name } }",
            json!({ "id": unit["id"], "v": unit["version"] }),
        )
        .await;
    assert!(renamed.get("errors").is_none(), "{renamed}");
    let after = computed(&app).await;
    assert!(after.contains("改名后的单位"), "{after}");
    assert_ne!(after, first);
}

const OBSERVATION: [&str; 10] =
    ["id", "version", "status", "ruleCode", "workKey", "halve", "documentDate", "note", "supersedesId", "enteredAt"];
const FACTS: [&str; 13] = [
    "count",
    "value",
    "target",
    "baseline",
    "flag",
    "level",
    "grade",
    "specialPrizeAwarded",
    "teamRank",
    "component",
    "rate",
    "points",
    "amount",
];
const INDICATOR: [&str; 9] = ["id", "code", "title", "depth", "maxPoints", "weight", "role", "department", "note"];
const GROUP: [&str; 4] = ["key", "title", "text", "cap"];

/// The types of a department head's page's object fields.
fn page_types(field: &str) -> &'static str {
    match field {
        "node" => "Observation",
        "edges" => "ObservationEdge",
        "facts" => "Facts",
        "pageInfo" => "PageInfo",
        "groups" => "IndicatorGroup",
        _ => "Indicator",
    }
}

/// A selection of a page of observations (`ObservationIn::page`).
fn observation_selection() -> impl Strategy<Value = Vec<Drawn>> {
    let typename =
        || Just(Drawn { name: "__typename".into(), alias: None, directive: None, sub: vec![], inline: false });
    let facts = object("facts", prop::collection::vec(prop_oneof![4 => leaf(&FACTS), 1 => typename()], 1..6));
    let node =
        object("node", prop::collection::vec(prop_oneof![6 => leaf(&OBSERVATION), 1 => facts, 1 => typename()], 1..7));
    let edges =
        object("edges", prop::collection::vec(prop_oneof![1 => leaf(&["cursor"]), 3 => node, 1 => typename()], 1..4));
    let info = object("pageInfo", prop::collection::vec(leaf(&PAGE_INFO), 1..5));
    prop::collection::vec(prop_oneof![2 => leaf(&["totalCount"]), 1 => info, 3 => edges, 1 => typename()], 1..5)
}

/// A selection of indicators (`sections`, `indicators`): fields, children,
/// a parent and groups, two levels deep.
fn indicator_selection() -> impl Strategy<Value = Vec<Drawn>> {
    let typename =
        || Just(Drawn { name: "__typename".into(), alias: None, directive: None, sub: vec![], inline: false });
    let groups = || object("groups", prop::collection::vec(leaf(&GROUP), 1..4));
    let parent = object("parent", prop::collection::vec(leaf(&INDICATOR), 1..3));
    let children = object(
        "children",
        prop::collection::vec(prop_oneof![4 => leaf(&INDICATOR), 1 => groups(), 1 => typename()], 1..5),
    );
    prop::collection::vec(
        prop_oneof![5 => leaf(&INDICATOR), 2 => children, 1 => parent, 1 => groups(), 1 => typename()],
        1..7,
    )
}

/// A department head's page (a run's rubric tree and one unit's
/// observations) is written plain exactly as the normal path writes it.
#[tokio::test]
async fn a_department_heads_page_is_written_plain_exactly_as_the_normal_path_writes_it() {
    let app = spawn_app_with(|s| {
        s.limits.rate_budget = 1_000_000;
        s.limits.rate_refill_per_hour = 1_000_000;
    })
    .await;
    app.sign_in("xc-admin").await;
    let found = app
        .post(
            "{ scoreRuns(organisationCode: \"xuchang\", first: 1, status: PUBLISHED) { edges { node { id observations(first: 1) { edges { node { unit { id } } } } } } } }",
            json!({}),
        )
        .await;
    let run = found["data"]["scoreRuns"]["edges"][0]["node"].clone();
    let unit = run["observations"]["edges"][0]["node"]["unit"]["id"].as_str().expect("an observation").to_string();
    let run = run["id"].as_str().unwrap().to_string();

    let mut runner = TestRunner::deterministic();
    let pages = observation_selection();
    for case in 0..48 {
        let parts = items_typed(&pages.new_tree(&mut runner).unwrap().current(), "ObservationConnection", &page_types);
        let sel = parts.join(" ");
        let args = ["first: 3", "first: 2, after: \"YzE6MQ\"", "first: 100", "first: 2, after: \"YzE6OTk5\""][case % 4];
        let filter = if case % 3 == 0 { format!(", unitId: \"{unit}\"") } else { String::new() };
        let vars = head(&sel);
        let asked =
            |s: &str| format!("{vars} {{ scoreRun(id: \"{run}\") {{ observations({args}{filter}) {{ {s} }} }} }}");
        let plain = asked(&sel);
        let normal = asked(&format!("{sel} {}", parts[0]));
        assert_eq!(data_text(&app, &plain).await, data_text(&app, &normal).await, "{plain}");
    }
    let tree = indicator_selection();
    for case in 0..32 {
        let parts = items_typed(&tree.new_tree(&mut runner).unwrap().current(), "Indicator", &page_types);
        let sel = parts.join(" ");
        let list = if case % 2 == 0 { "sections" } else { "indicators" };
        let vars = head(&sel);
        let asked =
            |s: &str| format!("{vars} {{ scoreRun(id: \"{run}\") {{ rubricVersion {{ {list} {{ {s} }} }} }} }}");
        let plain = asked(&sel);
        let normal = asked(&format!("{sel} {}", parts[0]));
        let written = data_text(&app, &plain).await;
        assert_eq!(written, data_text(&app, &normal).await, "{plain}");
        // Computed again: the list written once and kept with the frozen
        // tree (`VersionTree::derived`, per selection) is the same.
        assert_eq!(answer_text(&app, &plain, true).await, written, "{plain}");
    }
    // The plain path is taken for the page as the bench asks it (the
    // sections, each one's children, and the observations), and not for a
    // field it does not write.
    let page = format!(
        "{{ scoreRun(id: \"{run}\") {{ rubricVersion {{ sections {{ code children {{ code }} }} }}
           observations(unitId: \"{unit}\", first: 50) {{ totalCount edges {{ node {{ id ruleCode facts {{ count }} }} }} }} }} }}"
    );
    assert_eq!(written_plain(&app, &page).await, 2.0);
    let evidence = format!(
        "{{ scoreRun(id: \"{run}\") {{ observations(first: 5) {{ edges {{ node {{ evidence {{ id }} }} }} }} }} }}"
    );
    assert_eq!(written_plain(&app, &evidence).await, 0.0);
    let clauses = format!("{{ scoreRun(id: \"{run}\") {{ rubricVersion {{ sections {{ clauses {{ no }} }} }} }} }}");
    assert_eq!(written_plain(&app, &clauses).await, 0.0);
}
