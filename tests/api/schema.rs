//! `schema.graphql` at the repository root is the schema clients build on.

use std::path::Path;

#[test]
fn schema_graphql_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let generated = kaohe_api::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "schema.graphql is out of date with the code.\n\
         Regenerate it with: UPDATE_SCHEMA=1 cargo test -p kaohe-api --test api schema\n\
         (or: cargo run -p kaohe-api -- schema > schema.graphql) and review the diff."
    );
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let schema = kaohe_api::graphql::build_schema(None);
    let res = schema
        .execute(
            "{ __schema { types { name kind description \
               fields { name description args { name description } } \
               enumValues { name description } } } }",
        )
        .await;
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    let data = res.data.into_json().unwrap();
    let builtin = ["String", "Int", "Float", "Boolean", "ID", "Decimal", "JSON", "DateTime"];
    let mut missing = Vec::new();
    let described = |v: &serde_json::Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(&t["description"]) {
            missing.push(name.to_string());
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            if !described(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(&a["description"]) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for e in t["enumValues"].as_array().into_iter().flatten() {
            if !described(&e["description"]) {
                missing.push(format!("{name}.{}", e["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "without description: {missing:?}");
}

/// The introspection queries of the usual tools, verbatim (`gate/tests/introspection/`).
const INTROSPECTION: [(&str, &str); 3] = [
    ("graphql-js 16", include_str!("../../gate/tests/introspection/graphql-js-16-default.graphql")),
    ("graphql-js 16, all options", include_str!("../../gate/tests/introspection/graphql-js-16-all-options.graphql")),
    ("python gql 3.5", include_str!("../../gate/tests/introspection/python-gql-3.5-default.graphql")),
];

#[tokio::test]
async fn the_usual_tools_read_the_schema_from_the_live_endpoint() {
    let app = crate::helpers::spawn_app().await;
    for (who, doc) in INTROSPECTION {
        // POST, as codegen, gql and GraphiQL send it …
        let body = app.post(doc, serde_json::json!({})).await;
        assert!(body.get("errors").is_none(), "{who}: {body:#}");
        let types = body["data"]["__schema"]["types"].as_array().unwrap_or_else(|| panic!("{who}: {body}"));
        assert!(types.iter().any(|t| t["name"] == "ScoreRun"), "{who}");
        // … and GET, as a browser may.
        let res = app.client.get(format!("{}/graphql", app.address)).query(&[("query", doc)]).send().await.unwrap();
        assert_eq!(res.status(), 200, "{who} over GET");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["data"]["__schema"]["queryType"]["name"] == "Query", "{who} over GET: {body}");
    }
}
