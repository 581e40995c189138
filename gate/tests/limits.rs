//! Each limit of the gate, on the documents that abuse it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kaohe_gate::{GateError, Limits, OperationKind, check};

fn fan_out(levels: usize) -> String {
    let mut doc = String::from("query { ...F0 }\n");
    for i in 0..levels {
        doc.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    doc.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
    doc
}

fn refuse(doc: &str) -> GateError {
    check(doc, None, None, &Limits::default()).expect_err("the gate let it through")
}

#[test]
fn a_normal_query_passes_with_its_nodes_and_points() {
    let a = check("{ units(first: 10) { edges { node { id name } } } }", None, None, &Limits::default()).unwrap();
    assert_eq!(a.kind, OperationKind::Query);
    // units (1) + 10 × (edges 1 + node 1 + id 1 + name 1) = 41
    assert_eq!(a.nodes, 41);
    // 10 rows: under 100 rows is one point, the least an operation costs.
    assert_eq!(a.cost, 1);
    assert_eq!(a.fields, 5);
    assert_eq!(a.depth, 4);
    assert_eq!(check("{ __typename }", None, None, &Limits::default()).unwrap().cost, 1);
}

#[test]
fn page_sizes_from_variables_multiply_nodes_and_rows() {
    let vars = serde_json::json!({ "n": 50 });
    let doc = "query Q($n: Int!) { units(first: $n) { edges { node { id } } } }";
    let a = check(doc, None, Some(&vars), &Limits::default()).unwrap();
    assert_eq!(a.nodes, 1 + 50 * 3);
    assert_eq!(a.cost, 1);
    // GitHub's example: 100 repositories × 50 issues × 60 labels
    // = 100 + 5 000 + 300 000 rows → 3 051 points. Here: 100 runs × 20
    // results × 10 observations = 100 + 2 000 + 20 000 rows = 221 points.
    let doc = "{ runs(first: 100) { results(first: 20) { observations(first: 10) { id } } } }";
    let limits = Limits { max_nodes: u64::MAX, ..Limits::default() };
    let a = check(doc, None, None, &limits).unwrap();
    assert_eq!(a.cost, (100 + 100 * 20 + 100 * 20 * 10_u64).div_ceil(100));
    // Nested connections multiply: 100 × 100 × 3 fields > the nodes limit.
    let doc = "{ a(first: 100) { b(first: 100) { c d e } } }";
    assert!(matches!(refuse(doc), GateError::TooManyNodes { .. }));
}

#[test]
fn a_list_of_ids_counts_each_id_as_a_row() {
    let one = check("{ nodes(ids: [\"a\"]) { id } }", None, None, &Limits::default()).unwrap();
    assert_eq!(one.nodes, 1 + 1);
    assert_eq!(one.cost, 1);
    let ids: Vec<String> = (0..100).map(|i| format!("\"{i}\"")).collect();
    let doc = format!(
        "{{ nodes(ids: [{}]) {{ ... on ScoreRun {{ results(first: 10) {{ edges {{ node {{ rank }} }} }} }} }} }}",
        ids.join(",")
    );
    let many = check(&doc, None, None, &Limits::default()).unwrap();
    // 100 × (results 1 + 10 × 3) + nodes 1
    assert_eq!(many.nodes, 100 * 31 + 1);
    // 100 ids + 100 × 10 results = 1 100 rows
    assert_eq!(many.cost, 11);
    let vars = serde_json::json!({ "ids": ["a", "b", "c"] });
    let doc = "query Q($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    assert_eq!(check(doc, None, Some(&vars), &Limits::default()).unwrap().nodes, 1 + 3);
}

#[test]
fn named_fields_cost_their_own_points_through_aliases_and_fragments() {
    let limits = Limits { field_costs: vec![("verify".into(), 100)], ..Limits::default() };
    let cost = |doc: &str| check(doc, None, None, &limits).unwrap().cost;
    assert_eq!(cost("{ verify { ok } }"), 100);
    assert_eq!(cost("{ a: verify { ok } b: verify { ok } }"), 200);
    assert_eq!(cost("{ ...F } fragment F on Query { verify { ok } }"), 100);
    // Under a connection it is charged once per row of the page (2 rows: 1 point).
    assert_eq!(cost("{ items(first: 2) { verify { ok } } }"), 1 + 2 * 100);
    assert_eq!(check("{ verify { ok } }", None, None, &Limits::default()).unwrap().cost, 1);
    // A point stands for 100 rows, so 100 nodes: the nodes limit bounds it too.
    assert_eq!(check("{ verify { ok } }", None, None, &limits).unwrap().nodes, 100 * 100 + 1);
    let many = "{ a: verify { ok } b: verify { ok } c: verify { ok } }";
    assert!(matches!(check(many, None, None, &limits), Err(GateError::TooManyNodes { nodes: 30_003, .. })));
}

#[test]
fn fragment_fan_out_is_refused_at_every_depth() {
    for levels in [20, 24, 30, 60] {
        let e = refuse(&fan_out(levels));
        assert!(matches!(e, GateError::TooManyFields { .. } | GateError::TooManyNodes { .. }), "{levels}: {e:?}");
        assert_eq!(e.code(), "QUERY_TOO_COMPLEX");
    }
}

#[test]
fn fragment_cycles_and_unknown_fragments() {
    let e = refuse("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
    assert!(matches!(e, GateError::FragmentCycle(_)), "{e:?}");
    assert_eq!(e.code(), "QUERY_TOO_COMPLEX");
    assert!(matches!(refuse("{ ...Nope }"), GateError::UnknownFragment(_)));
}

#[test]
fn unused_fragments_are_bounded_too() {
    let doc = fan_out(30).replacen("query { ...F0 }", "query { __typename }", 1);
    assert_eq!(refuse(&doc).code(), "QUERY_TOO_COMPLEX");
}

#[test]
fn aliases_and_directives() {
    let aliases = format!("{{ {} }}", (0..2000).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" "));
    let limits = Limits { max_bytes: 64 * 1024, ..Limits::default() };
    let e = check(&aliases, None, None, &limits).unwrap_err();
    assert!(matches!(e, GateError::TooManyAliases { .. }), "{e:?}");
    let dirs = format!("{{ __typename {} }}", "@include(if: true) ".repeat(40));
    assert!(matches!(refuse(&dirs), GateError::TooManyDirectives { .. }));
}

#[test]
fn length_nesting_and_depth() {
    let long = format!("{{ __typename {} }}", " ".repeat(20_000));
    let e = refuse(&long);
    assert_eq!(e.code(), "QUERY_TOO_LARGE");
    let nested = format!("{}{}", "{ a ".repeat(200), "}".repeat(200));
    assert!(matches!(refuse(&nested), GateError::TooNested { .. }));
    let deep = format!("{}x{}", "{ a ".repeat(20), " }".repeat(20));
    assert!(matches!(refuse(&deep), GateError::TooDeep { .. }));
    // Brackets inside strings and comments do not count.
    let doc = "{ a(s: \"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\") # {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n }";
    assert!(check(doc, None, None, &Limits::default()).is_ok());
}

#[test]
fn operations_are_chosen_by_name_and_kinds_reported() {
    let doc = "query A { __typename } mutation B { logout }";
    assert_eq!(check(doc, Some("B"), None, &Limits::default()).unwrap().kind, OperationKind::Mutation);
    assert_eq!(check(doc, Some("A"), None, &Limits::default()).unwrap().kind, OperationKind::Query);
    assert!(matches!(check(doc, None, None, &Limits::default()), Err(GateError::OperationNameRequired)));
    assert!(matches!(check(doc, Some("C"), None, &Limits::default()), Err(GateError::UnknownOperation(_))));
    assert_eq!(refuse("{ unclosed").code(), "GRAPHQL_PARSE_FAILED");
}

#[test]
fn login_attempts_are_counted_through_aliases_and_fragments() {
    let doc = r#"mutation { a: login(u: "x", p: "1") { token } b: login(u: "x", p: "2") { token } ...L }
                 fragment L on Mutation { c: login(u: "x", p: "3") { token } }"#;
    assert_eq!(check(doc, None, None, &Limits::default()).unwrap().logins, 3);
}

#[test]
fn fan_out_is_refused_before_parsing() {
    for levels in [11, 20, 30, 60] {
        let e = kaohe_gate::prescan(&fan_out(levels), &Limits::default()).expect_err("prescan let it through");
        assert!(matches!(e, GateError::TooManyFields { .. }), "{levels}: {e:?}");
    }
    // Ordinary documents, spreads inside strings and comments, and inline fragments pass.
    let ok = [
        "{ organisations { ...O } } fragment O on Organisation { code ... on Organisation { name } }",
        "query Q($a: String = \"...F ...F\") { __typename } # ...F ...F",
        &fan_out(9),
    ];
    for doc in ok {
        kaohe_gate::prescan(doc, &Limits::default()).unwrap_or_else(|e| panic!("{doc}: {e:?}"));
    }
    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    assert!(matches!(kaohe_gate::prescan(cycle, &Limits::default()), Err(GateError::FragmentCycle(_))));
}

const INTROSPECTION: [(&str, &str); 3] = [
    ("graphql-js 16", include_str!("introspection/graphql-js-16-default.graphql")),
    ("graphql-js 16, all options", include_str!("introspection/graphql-js-16-all-options.graphql")),
    ("python gql 3.5", include_str!("introspection/python-gql-3.5-default.graphql")),
];

#[test]
fn the_standard_introspection_queries_are_admitted_by_their_own_shape() {
    for (who, doc) in INTROSPECTION {
        let a = check(doc, None, None, &Limits::default()).unwrap_or_else(|e| panic!("{who}: {e}"));
        assert!(a.introspection, "{who}");
        assert!(a.depth > Limits::default().max_depth, "{who} is deeper than a data query may be");
        assert!(a.nodes < 1_000, "{who} touches {} nodes", a.nodes);
        assert_eq!(a.cost, 1, "{who}");
    }
    // A data query as deep is still refused.
    let deep = "{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }";
    assert!(matches!(refuse(deep), GateError::TooDeep { .. }));
    // Mixing data into an introspection document gives it the data limits.
    let schema = "__schema { types { fields { args { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }";
    assert!(check(&format!("{{ {schema} }}"), None, None, &Limits::default()).is_ok());
    let mixed = format!("{{ units(first: 1) {{ edges {{ node {{ id }} }} }} {schema} }}");
    assert!(matches!(refuse(&mixed), GateError::TooDeep { .. }));
}

#[test]
fn re_entering_the_schema_through_type_references_is_refused() {
    let ok = "{ __type(name: \"Query\") { fields { name type { name fields { name } } } } }";
    assert!(check(ok, None, None, &Limits::default()).is_ok());
    for doc in [
        "{ __schema { types { fields { type { fields { name } } } } } }",
        "{ __type(name: \"Query\") { fields { type { fields { type { fields { name } } } } } } }",
        "{ __schema { types { possibleTypes { fields { args { name } } } } } }",
        "query { ...S } fragment S on Query { __schema { types { fields { type { ofType { fields { name } } } } } } }",
    ] {
        assert!(matches!(refuse(doc), GateError::IntrospectionTooDeep { .. }), "{doc}");
    }
}
