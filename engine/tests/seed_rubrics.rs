//! The seed rubrics in `rubrics/` load, and every clause is the seed's own text.

use kaohe_engine::Rubric;

fn load(name: &str) -> Rubric {
    let path = format!("{}/../rubrics/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Rubric::from_toml(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn xuchang_loads() {
    let r = load("xuchang-jyqs-2023.toml");
    assert_eq!(r.base_max(), rust_decimal::Decimal::ONE_HUNDRED);
    assert_eq!(r.rules.len(), 3 + 9 + 5);
}
