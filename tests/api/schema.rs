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
