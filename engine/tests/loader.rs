//! The rubric loader refuses broken files with a message naming the file, the
//! indicator code and what is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kaohe_engine::Rubric;

const HEADER: &str = r#"
[rubric]
code = "t"
title = "t"
version = "1"
organisation = "test"
regime = "annual"
scale = 10
"#;

/// A valid two-level rubric; each test breaks one thing in it.
const GOOD: &str = r#"
[[indicator]]
code = "1"
title = "section"
max = 10

[[indicator]]
code = "1.1"
parent = "1"
title = "leaf a"
max = 6
[[indicator.clause]]
no = "1"
text = "每次扣1分"
[[indicator.clause.rule]]
kind = "per_count"
effect = "deduct"
points = 1

[[indicator]]
code = "1.2"
parent = "1"
title = "leaf b"
max = 4
[[indicator.clause]]
no = "1"
text = "未完成扣0.5分"
[[indicator.clause.rule]]
kind = "flag"
effect = "deduct"
points = 0.5
"#;

fn load(body: &str) -> Result<Rubric, String> {
    Rubric::from_toml("broken.toml", &format!("{HEADER}{body}")).map_err(|e| e.to_string())
}

fn refused(body: &str, indicator: &str, words: &str) {
    let err = load(body).expect_err("the loader accepted a broken file");
    assert!(err.contains("broken.toml"), "no file name in: {err}");
    assert!(err.contains(&format!("indicator {indicator}")), "no indicator {indicator} in: {err}");
    assert!(err.contains(words), "expected `{words}` in: {err}");
}

#[test]
fn the_good_file_loads() {
    let r = load(GOOD).unwrap();
    assert_eq!(r.rules.len(), 2);
    assert_eq!(r.rule("1.1-1").unwrap().kind.name(), "per_count");
}

#[test]
fn children_not_summing_to_the_parent() {
    refused(&GOOD.replace("max = 4", "max = 3"), "1:", "children's points sum to 9, not to the indicator's 10");
}

#[test]
fn unknown_rule_kind() {
    refused(&GOOD.replace("kind = \"flag\"", "kind = \"flagg\""), "1.2", "unknown variant `flagg`");
}

#[test]
fn missing_parameter() {
    refused(&GOOD.replace("points = 0.5\n", ""), "1.2", "missing field `points`");
    let levels = GOOD.replace(
        "kind = \"flag\"\neffect = \"deduct\"\npoints = 0.5",
        "kind = \"by_level\"\neffect = \"deduct\"\nlevels = []",
    );
    refused(&levels, "1.2", "missing parameter `levels`");
}

#[test]
fn negative_points() {
    refused(&GOOD.replace("points = 0.5", "points = -0.5"), "1.2", "points is negative (-0.5)");
    refused(&GOOD.replace("max = 6", "max = -6"), "1.1", "max is negative");
}

#[test]
fn duplicate_codes() {
    refused(&GOOD.replace("code = \"1.2\"", "code = \"1.1\""), "1.1", "duplicate indicator code");
}

#[test]
fn misspelt_field_and_unknown_parent_and_bad_number() {
    refused(&GOOD.replace("points = 0.5", "pionts = 0.5"), "1.2", "unknown field `pionts`");
    refused(
        &GOOD.replace("parent = \"1\"\ntitle = \"leaf b\"", "parent = \"9\"\ntitle = \"leaf b\""),
        "1.2",
        "unknown parent `9`",
    );
    refused(&GOOD.replace("points = 0.5", "points = \"half\""), "1.2", "`half` is not a number");
}

#[test]
fn clause_without_machine_form() {
    let body = GOOD.replace("[[indicator.clause.rule]]\nkind = \"flag\"\neffect = \"deduct\"\npoints = 0.5\n", "");
    refused(&body, "1.2", "clause 1 has no rule");
}

#[test]
fn mixed_effects_in_a_base_indicator() {
    let body = GOOD.replace("effect = \"deduct\"\npoints = 0.5", "effect = \"add\"\npoints = 0.5").replace(
        "text = \"未完成扣0.5分\"",
        "text = \"x\"\n[[indicator.clause.rule]]\nkind = \"flag\"\neffect = \"deduct\"\npoints = 1",
    );
    refused(&body, "1.2", "cannot mix deductions with awarded points");
}

#[test]
fn section_totals_must_match_the_scale() {
    let err = load(&GOOD.replace("max = 10", "max = 11").replace("max = 6", "max = 7")).unwrap_err();
    assert!(err.contains("base sections sum to 11 points, the scale is 10"), "{err}");
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let body = GOOD.replace("points = 0.5", "points = -0.5").replace("points = 1\n", "points = -1\n");
    let err = load(&body).unwrap_err();
    assert_eq!(err.lines().count(), 2, "{err}");
}

#[test]
fn not_toml_at_all() {
    let err = Rubric::from_toml("broken.toml", "[rubric\ncode=").unwrap_err().to_string();
    assert!(err.starts_with("broken.toml: not valid TOML"), "{err}");
}
