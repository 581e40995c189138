//! Every rule kind and modifier, on a small fixture rubric, with the expected
//! figure worked out by hand in each comment.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use kaohe_engine::explain::{Counted, Cut};
use kaohe_engine::{Facts, Grade, Observation, Period, Problem, Rubric, UnitResult, score_unit};

const MARCH: Period = Period::Month { year: 2026, month: 3 };

fn fixture() -> Rubric {
    let text = include_str!("fixtures/all-kinds.toml");
    Rubric::from_toml("all-kinds.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn score(obs: &[Observation]) -> UnitResult {
    score_unit(&fixture(), MARCH, "u", obs, true).unwrap_or_else(|e| panic!("{e}"))
}

fn indicator(res: &UnitResult, code: &str) -> kaohe_engine::explain::IndicatorExplanation {
    res.explanation.as_ref().unwrap().indicators.iter().find(|i| i.code == code).unwrap().clone()
}

fn problem(obs: Observation) -> Problem {
    score_unit(&fixture(), MARCH, "u", &[obs], false).unwrap_err().problem
}

#[test]
fn nothing_observed_scores_full_deductions_and_zero_awards() {
    let res = score(&[]);
    // A: 5 + 5 full; A.3 rating and B direct start at zero.
    assert_eq!(indicator(&res, "A").score, d("10"));
    assert_eq!(indicator(&res, "B").score, d("0"));
    assert_eq!(res.score.final_score, d("10"));
}

#[test]
fn per_count_shortfall_flag_range() {
    let mut o = Obs::new();
    let obs = [
        o.count("A.1-1", 3),      // 3 × 0.5 = 1.5
        o.value("A.1-2", "3"),    // (5 − 3) × 1 = 2
        o.value("A.1-3", "80.5"), // 85 − 80.5 = 4.5 → 4 whole points × 0.1 = 0.4
        o.points("A.1-5", "0.3"), // chosen 0.3
    ];
    // A.1 = 5 − 1.5 − 2 − 0.4 − 0.3 = 0.8
    assert_eq!(indicator(&score(&obs), "A.1").score, d("0.8"));
}

#[test]
fn deductions_stop_at_zero_and_the_cut_is_explained() {
    let mut o = Obs::new();
    let obs = [o.count("A.1-1", 8), o.flag("A.1-4")]; // 4 + 1 = 5 → 0; one more:
    assert_eq!(indicator(&score(&obs), "A.1").score, d("0"));
    let obs = [o.count("A.1-1", 9), o.flag("A.1-4")]; // 4.5 + 1 = 5.5 → floor at 0
    let line = indicator(&score(&obs), "A.1");
    assert_eq!(line.score, d("0"));
    assert_eq!(line.raw, d("-0.5"));
    assert!(line.cuts.iter().any(|c| matches!(c, Cut::Floor { .. })));
}

#[test]
fn veto_zeroes_the_indicator() {
    let mut o = Obs::new();
    let line = indicator(&score(&[o.flag("A.1-6")]), "A.1");
    assert_eq!(line.score, d("0"));
    assert!(matches!(line.cuts.last(), Some(Cut::Veto { .. })));
    // A veto flag that does not hold changes nothing.
    let no = o.make("A.1-6", Facts { flag: Some(false), ..Facts::default() });
    assert_eq!(indicator(&score(&[no]), "A.1").score, d("5"));
}

#[test]
fn baseline_observation_target_and_levels() {
    let mut o = Obs::new();
    let base = o.make("A.2-1", Facts { value: Some(d("40")), baseline: Some(d("43.5")), ..Facts::default() });
    let sched = o.make("A.2-2", Facts { value: Some(d("70")), target: Some(d("75")), ..Facts::default() });
    let obs = [base, sched, o.level("A.2-3", "last2")];
    // 3.5 → 3 points × 0.5 = 1.5; (75 − 70) × 0.1 = 0.5; 倒数第二 0.5 → 5 − 2.5 = 2.5
    assert_eq!(indicator(&score(&obs), "A.2").score, d("2.5"));
}

#[test]
fn rating_is_rate_times_weight() {
    let mut o = Obs::new();
    let obs = [o.rate("A.3-1", "leaders", "90"), o.rate("A.3-1", "schools", "75")];
    // 6 × 0.9 + 4 × 0.75 = 5.4 + 3 = 8.4
    assert_eq!(indicator(&score(&obs), "A.3").score, d("8.4"));
}

#[test]
fn direct_and_its_limits() {
    let mut o = Obs::new();
    assert_eq!(indicator(&score(&[o.points("B-1", "62.5")]), "B").score, d("62.5"));
    assert!(matches!(problem(o.points("B-1", "80.01")), Problem::OutOfRange { .. }));
    assert!(matches!(problem(o.points("B-1", "-1")), Problem::OutOfRange { .. }));
    let two = [o.points("B-1", "1"), o.points("B-1", "2")];
    let err = score_unit(&fixture(), MARCH, "u", &two, false).unwrap_err();
    assert!(matches!(&err.problem, Problem::AlreadyGiven { existing, .. } if *existing == two[0].id), "{err}");
    assert_eq!(err.observation, two[1].id);
    assert_eq!(err.problem.field(), "ruleCode");
    // The same refusal, before scoring, from the unit check the service runs at the door.
    let door = kaohe_engine::check_unit(&fixture(), MARCH, &two).unwrap_err();
    assert_eq!(door, err);
}

#[test]
fn award_grades_and_their_remapping() {
    let mut o = Obs::new();
    let mut award = |grade: Option<Grade>, special: bool, team_rank: Option<i64>| {
        let f = Facts {
            level: Some("nation".into()),
            grade,
            special_prize_awarded: special,
            team_rank,
            ..Facts::default()
        };
        indicator(&score(&[o.make("C-1", f)]), "C").added
    };
    let third = d("3") / d("3");
    // 国家级 3 points: 一等 ×1, 二等 ×2/3, 三等 ×1/3, no grade ×1.
    assert_eq!(award(Some(Grade::First), false, None), d("3"));
    assert_eq!(award(Some(Grade::Second), false, None), d("2"));
    assert_eq!(award(Some(Grade::Third), false, None), third);
    assert_eq!(award(None, false, None), d("3"));
    // With a 特等奖: 特等→一等 (3), 一等→二等 (2), 二等→三等 (1), 三等 → 0.
    assert_eq!(award(Some(Grade::Special), false, None), d("3"));
    assert_eq!(award(Some(Grade::First), true, None), d("2"));
    assert_eq!(award(Some(Grade::Second), true, None), d("1"));
    assert_eq!(award(Some(Grade::Third), true, None), d("0"));
    // 团体总分: 1–2 一等, 3–4 二等, rest 三等.
    assert_eq!(award(None, false, Some(2)), d("3"));
    assert_eq!(award(None, false, Some(4)), d("2"));
    assert_eq!(award(None, false, Some(6)), d("1"));
}

#[test]
fn awards_at_city_level_keep_exact_thirds() {
    let mut o = Obs::new();
    let f = |g| Facts { level: Some("city".into()), grade: Some(g), ..Facts::default() };
    // 1 × 2/3 + 1 × 1/3 = 1 exactly when shown (28-digit decimals, display rounding).
    let res = score(&[o.make("C-1", f(Grade::Second)), o.make("C-1", f(Grade::Third))]);
    assert_eq!(kaohe_engine::num::display(indicator(&res, "C").added), d("1.00"));
}

#[test]
fn halving_only_for_the_reasons_the_rule_allows() {
    let mut o = Obs::new();
    let mut part = o.level("C-2", "city");
    part.halve = Some("参加单位".into());
    // 市级现场会 0.5, 参加单位折半 → 0.25
    assert_eq!(indicator(&score(&[part.clone()]), "C").added, d("0.25"));
    part.halve = Some("下级单位".into());
    assert!(matches!(problem(part), Problem::Unknown { what: "halving reason", .. }));
    let mut person = o.level("C-5", "city");
    person.halve = Some("个人".into());
    // 个人被通报 折半: 1 / 2 = 0.5 penalty
    assert_eq!(score(&[person]).score.penalty, d("0.5"));
}

#[test]
fn bracket_per_amount_and_clause_cap() {
    let mut o = Obs::new();
    // 2000万 is inside "2000万以内" → 0.4; 4999 → 0.6; 20000 → 1.
    for (amt, pts) in [("2000", "0.4"), ("4999", "0.6"), ("20000", "1")] {
        assert_eq!(indicator(&score(&[o.amount("C-3a", amt)]), "C").added, d(pts), "{amt}");
    }
    // 每争取5万元加0.2分: 14万 → 2 blocks → 0.4
    assert_eq!(indicator(&score(&[o.amount("C-3b", "14")]), "C").added, d("0.4"));
    // 0.6 + 0.4 × 3 (15万) = 1.8 → clause cap 1
    let res = score(&[o.amount("C-3a", "3000"), o.amount("C-3b", "15")]);
    let line = indicator(&res, "C");
    assert_eq!(line.added, d("1"));
    assert!(line.cuts.iter().any(|c| matches!(c, Cut::ClauseCap { clause, .. } if clause == "3")));
}

#[test]
fn group_cap_rule_cap_and_highest_only() {
    let mut o = Obs::new();
    let mut a = o.level("C-g1", "county");
    a.work = Some("info-7".into());
    let mut b = o.level("C-g1", "city");
    b.work = Some("info-7".into());
    let c = o.level("C-g1", "city"); // other work: counts
    // media: 4 × 国家级 0.2 = 0.8 → clause cap 0.5
    let media: Vec<_> = (0..4).map(|_| o.level("C-g2", "nation")).collect();
    let mut obs = vec![a, b, c];
    obs.extend(media);
    // g1: same work → max(0.3, 1) = 1, plus 1 = 2; g2: 0.5. Group: 2.5 → cap 2.
    let res = score(&obs);
    let line = indicator(&res, "C");
    assert_eq!(line.added, d("2"));
    assert!(line.cuts.iter().any(|c| matches!(c, Cut::GroupCap { .. })));
    let sup =
        line.rules.iter().flat_map(|r| &r.observations).filter(|l| matches!(l.counted, Counted::Superseded { .. }));
    assert_eq!(sup.count(), 1);
}

#[test]
fn late_documents_move_to_the_next_month() {
    let mut o = Obs::new();
    let mut late = o.level("C-4", "city");
    late.document_date = chrono::NaiveDate::from_ymd_opt(2026, 4, 2);
    let res = score(&[late.clone()]);
    assert_eq!(res.score.bonus, d("0"));
    let ex = res.explanation.unwrap();
    assert_eq!(ex.deferred, vec![late.id.clone()]);
    // In April it counts.
    let april = score_unit(&fixture(), Period::Month { year: 2026, month: 4 }, "u", &[late.clone()], false).unwrap();
    assert_eq!(april.score.bonus, d("1"));
    // A document within March counts in March.
    late.document_date = chrono::NaiveDate::from_ymd_opt(2026, 3, 31);
    assert_eq!(score(&[late]).score.bonus, d("1"));
}

#[test]
fn bonus_cap_and_penalties_reach_the_total() {
    let mut o = Obs::new();
    // 3 × 国家级一等 = 9 → capped at 6; one 市级 通报 −1.
    let mut obs: Vec<_> = (0..3).map(|_| o.level("C-1", "nation")).collect();
    obs.push(o.level("C-5", "city"));
    let res = score(&obs);
    assert_eq!(res.score.bonus_before_cap, d("9"));
    assert_eq!(res.score.bonus, d("6"));
    assert_eq!(res.score.penalty, d("1"));
    // base 10 (A full) + 6 − 1
    assert_eq!(res.score.final_score, d("15"));
    assert!(res.explanation.unwrap().cuts.iter().any(|c| matches!(c, Cut::BonusCap { .. })));
}

#[test]
fn bad_input_is_refused_naming_the_rule() {
    let mut o = Obs::new();
    let neg = o.count("A.1-1", -1);
    let err = score_unit(&fixture(), MARCH, "u", &[neg], false).unwrap_err();
    assert_eq!(err.rule, "A.1-1");
    assert!(err.to_string().contains("A.1-1"), "{err}");
    assert!(matches!(err.problem, Problem::Negative { .. }));
    assert!(matches!(problem(o.value("A.1-3", "100.5")), Problem::OutOfRange { fact: "value", .. }));
    assert!(matches!(problem(o.rate("A.3-1", "leaders", "101")), Problem::OutOfRange { fact: "rate", .. }));
    assert!(matches!(problem(o.level("A.2-3", "last9")), Problem::Unknown { what: "level", .. }));
    assert!(matches!(problem(o.rate("A.3-1", "parents", "90")), Problem::Unknown { what: "component", .. }));
    assert!(matches!(problem(o.points("A.1-5", "1.5")), Problem::OutOfRange { fact: "points", .. }));
    assert!(matches!(problem(o.points("A.1-5", "0.1")), Problem::OutOfRange { .. }));
    assert!(matches!(problem(o.count("Z-1", 1)), Problem::UnknownRule { .. }));
    assert!(matches!(problem(o.make("A.1-1", Facts::default())), Problem::MissingFact { fact: "count", .. }));
}

#[test]
fn explanation_carries_text_formula_and_evidence() {
    let mut o = Obs::new();
    let mut ob = o.count("A.1-1", 3);
    ob.evidence = vec!["ev-1".into()];
    let res = score(&[ob]);
    let line = indicator(&res, "A.1");
    let rule = &line.rules[0];
    assert_eq!(rule.text, "每人次扣0.5分");
    assert_eq!(rule.amount, d("1.5"));
    assert_eq!(rule.observations[0].formula, "3人次 × 0.5 = 1.5");
    assert_eq!(rule.observations[0].evidence, vec!["ev-1".to_string()]);
    assert_eq!(line.deducted, d("1.5"));
    assert_eq!(line.score, d("3.5"));
}
