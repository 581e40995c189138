//! Arbitrary arguments to every list and lookup (issue 12, defect 3): the
//! fields and their argument types are read from the live schema, values are
//! drawn by proptest strategies (cursors, ids, numbers, decimals, dates,
//! enum names, plain text), and every answer must be a GraphQL response, not
//! a 5xx or a dropped connection, whose every error carries `extensions.code`.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid, nodes, spawn_app_as};

/// Values drawn for each field.
const CASES: usize = 24;

/// A field to fuzz: where it hangs (a prefix that opens its parent object),
/// its name, its arguments (name, GraphQL type) and what to select of it.
struct Target {
    open: String,
    close: &'static str,
    name: String,
    args: Vec<(String, String)>,
    selection: &'static str,
}

/// The named type inside `[X!]!` and the like.
fn named(t: &Value) -> (&str, &str) {
    let mut t = t;
    while t["ofType"].is_object() {
        t = &t["ofType"];
    }
    (t["name"].as_str().unwrap_or(""), t["kind"].as_str().unwrap_or(""))
}

/// The type as written in a variable definition.
fn written(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", written(&t["ofType"])),
        Some("LIST") => format!("[{}]", written(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("String").to_string(),
    }
}

const TYPES: &str = "{ __schema { types { name kind enumValues { name } fields { name
    args { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

fn id_strategy() -> BoxedStrategy<Value> {
    let kinds = prop::sample::select(vec![
        "ScoreRun",
        "Observation",
        "Claim",
        "Unit",
        "Organisation",
        "Evidence",
        "AuditEntry",
        "RubricVersion",
        "Nope",
    ]);
    prop_oneof![
        (kinds.clone(), any::<i64>()).prop_map(|(k, n)| json!(gid(k, n))),
        (kinds, prop::sample::select(vec![0i64, 1, 2, 3, i64::MAX, i64::MIN, -1])).prop_map(|(k, n)| json!(gid(k, n))),
        ".{0,40}".prop_map(Value::String),
        any::<u64>().prop_map(|n| json!(n.to_string())),
    ]
    .boxed()
}

fn cursor_strategy() -> BoxedStrategy<Value> {
    use base64::Engine;
    let b64 = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    prop_oneof![
        any::<u64>().prop_map(move |n| json!(b64(format!("c1:{n}")))),
        any::<i64>().prop_map(move |n| json!(b64(format!("c1:{n}")))),
        any::<u64>().prop_map(|n| json!(format!("o:{n}"))),
        ".{0,30}".prop_map(move |s| json!(b64(s))),
        ".{0,30}".prop_map(Value::String),
        Just(Value::Null),
    ]
    .boxed()
}

fn value_strategy(type_name: &str, arg: &str, enums: &[String]) -> BoxedStrategy<Value> {
    let text = ".{0,24}".prop_map(Value::String).boxed();
    match type_name {
        "ID" => id_strategy(),
        "String" if matches!(arg, "after" | "before") => cursor_strategy(),
        "String" => prop_oneof![
            text,
            prop::sample::select(vec!["xuchang", "chengkou", "2026-03", "2026", "1", "秘书科", "%", "_", "'", "\\"])
                .prop_map(|s| json!(s)),
        ]
        .boxed(),
        "Int" => prop_oneof![
            any::<i32>().prop_map(|n| json!(n)),
            prop::sample::select(vec![0, 1, 100, 101, -1, i32::MAX, i32::MIN]).prop_map(|n| json!(n)),
            any::<i64>().prop_map(|n| json!(n)),
        ]
        .boxed(),
        "Boolean" => any::<bool>().prop_map(|b| json!(b)).boxed(),
        "Decimal" => prop_oneof![
            text,
            prop::sample::select(vec![
                "1e999",
                "NaN",
                "-0",
                "0.000000000000000000000000000001",
                "79228162514264337593543950336",
                "1,5",
                ""
            ])
            .prop_map(|s| json!(s)),
            any::<f64>().prop_map(|f| json!(f.to_string())),
        ]
        .boxed(),
        "DateTime" | "NaiveDate" | "Date" => prop_oneof![
            text,
            prop::sample::select(vec![
                "2026-02-30",
                "2026-13-01",
                "0000-01-01",
                "9999-12-31T23:59:59Z",
                "2026-03-01T00:00:00+25:00",
                "+275760-09-13T00:00:00Z"
            ])
            .prop_map(|s| json!(s)),
        ]
        .boxed(),
        _ if !enums.is_empty() => {
            prop_oneof![prop::sample::select(enums.to_vec()).prop_map(Value::String), text].boxed()
        }
        _ => text,
    }
}

async fn send(app: &TestApp, doc: &str, vars: &Value) -> Result<(u16, Value), String> {
    let mut req = app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": doc, "variables": vars }));
    if let Some(t) = app.token.lock().unwrap().clone() {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| format!("no answer: {e}"))?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(|e| format!("body: {e}"))?;
    let body = serde_json::from_str(&text).map_err(|_| format!("{status}: not JSON: {text}"))?;
    Ok((status, body))
}

#[tokio::test]
async fn arbitrary_arguments_to_every_list_and_lookup_get_a_coded_answer() {
    let app = spawn_app_as("xc-admin").await;
    let schema = app.query(TYPES).await;
    let types = schema["__schema"]["types"].as_array().unwrap().clone();
    let type_of = |name: &str| types.iter().find(|t| t["name"] == name).cloned().unwrap_or(Value::Null);
    let run = app.query(r#"{ scoreRuns(organisationCode: "xuchang", first: 1) { edges { node { id } } } }"#).await;
    let run = nodes(&run["scoreRuns"])[0]["id"].as_str().unwrap().to_string();

    // Fields with arguments: on Query, and on the objects a known id opens.
    let parents = [
        ("Query", String::new(), ""),
        ("Organisation", r#"organisation(code: "xuchang") {"#.to_string(), "}"),
        ("ScoreRun", format!(r#"scoreRun(id: "{run}") {{"#), "}"),
    ];
    let mut targets = Vec::new();
    for (parent, open, close) in &parents {
        for f in type_of(parent)["fields"].as_array().unwrap() {
            let args: Vec<(String, String)> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["name"].as_str().unwrap().to_string(), written(&a["type"])))
                .collect();
            let (ret, kind) = named(&f["type"]);
            // Inputs objects are the mutations' business; lookups and lists take scalars.
            let takes_objects = f["args"].as_array().unwrap().iter().any(|a| named(&a["type"]).1 == "INPUT_OBJECT");
            if args.is_empty() || takes_objects {
                continue;
            }
            let selection = match kind {
                "OBJECT" | "INTERFACE" | "UNION" if ret.ends_with("Connection") => {
                    "{ totalCount pageInfo { endCursor } }"
                }
                "OBJECT" | "INTERFACE" | "UNION" => "{ __typename }",
                _ => "",
            };
            targets.push(Target {
                open: open.clone(),
                close,
                name: f["name"].as_str().unwrap().to_string(),
                args,
                selection,
            });
        }
    }
    assert!(targets.len() >= 15, "fields with arguments found: {}", targets.len());

    let mut runner = TestRunner::deterministic();
    let mut failures = Vec::new();
    let mut sent = 0;
    for t in &targets {
        let defs: Vec<String> = t.args.iter().map(|(n, ty)| format!("${n}: {ty}")).collect();
        let uses: Vec<String> = t.args.iter().map(|(n, _)| format!("{n}: ${n}")).collect();
        let doc = format!(
            "query({}) {{ {} {}({}) {} {} }}",
            defs.join(", "),
            t.open,
            t.name,
            uses.join(", "),
            t.selection,
            t.close
        );
        let strategies: Vec<(String, BoxedStrategy<Value>)> = t
            .args
            .iter()
            .map(|(n, ty)| {
                let base = ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
                let enums: Vec<String> = type_of(base)["enumValues"]
                    .as_array()
                    .map(|v| v.iter().filter_map(|e| e["name"].as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                let one = value_strategy(base, n, &enums);
                let s = if ty.starts_with('[') {
                    prop::collection::vec(one, 0..4).prop_map(Value::Array).boxed()
                } else {
                    one
                };
                (n.clone(), s)
            })
            .collect();
        for _ in 0..CASES {
            let mut vars = json!({});
            for (n, s) in &strategies {
                vars[n] = s.new_tree(&mut runner).unwrap().current();
            }
            sent += 1;
            match send(&app, &doc, &vars).await {
                Err(e) => failures.push(format!("{doc} {vars}: {e}")),
                Ok((status, body)) => {
                    let uncoded = body["errors"]
                        .as_array()
                        .is_some_and(|errs| errs.iter().any(|e| e["extensions"]["code"].as_str().is_none()));
                    let shaped = body.get("data").is_some() || body.get("errors").is_some();
                    if status >= 500 || uncoded || !shaped {
                        failures.push(format!("{doc} {vars}: {status} {body}"));
                    }
                }
            }
        }
    }
    assert!(sent >= 15 * CASES, "{sent} requests");
    failures.truncate(30);
    assert!(failures.is_empty(), "{} failures, the first:\n{}", failures.len(), failures.join("\n"));
}
