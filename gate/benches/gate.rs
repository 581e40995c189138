//! The gate's cost per request. Run: `cargo bench -p kaohe-gate --bench gate`.
//! Targets: each case under 100 µs.

use criterion::{Criterion, criterion_group, criterion_main};
use kaohe_gate::{Limits, check};
use std::hint::black_box;

pub fn fan_out(levels: usize) -> String {
    let mut doc = String::from("query { ...F0 }\n");
    for i in 0..levels {
        doc.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    doc.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
    doc
}

fn benches(c: &mut Criterion) {
    let limits = Limits { max_bytes: 64 * 1024, ..Limits::default() };
    let normal = r#"query Typical($run: ID!) {
      node(id: $run) { ... on ScoreRun { id period status
        sections(first: 20) { edges { node { code title maxPoints
          indicators(first: 50) { edges { node { code title maxPoints
            observations(first: 20) { totalCount edges { node { id rule facts status enteredAt } } } } } } } } } } }
    }"#;
    let fan = fan_out(30);
    let aliases: String =
        format!("{{ {} }}", (0..2000).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" "));
    c.bench_function("gate_normal_query", |b| b.iter(|| check(black_box(normal), None, None, &limits)));
    let parsed = async_graphql_parser::parse_query(normal).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("gate_normal_query_analyze_only", |b| {
        b.iter(|| kaohe_gate::analyze(black_box(&parsed), None, None, &limits))
    });
    c.bench_function("gate_fan_out_30_refused", |b| b.iter(|| check(black_box(&fan), None, None, &limits).is_err()));
    c.bench_function("gate_2000_aliases_refused", |b| {
        b.iter(|| check(black_box(&aliases), None, None, &limits).is_err())
    });
}

criterion_group!(gate, benches);
criterion_main!(gate);
