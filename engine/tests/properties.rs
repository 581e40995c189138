//! Properties that must hold for any valid observations (proptest).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use kaohe_engine::num::display;
use kaohe_engine::rubric::{Effect, Role, RuleKind};
use kaohe_engine::{Facts, Grade, Observation, Period, Rubric, check_unit, given_once, rank, score_unit};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashSet;

const MARCH: Period = Period::Month { year: 2026, month: 3 };

fn rubrics() -> Vec<Rubric> {
    let fixture = Rubric::from_toml("all-kinds.toml", include_str!("fixtures/all-kinds.toml")).unwrap();
    let mut list = vec![fixture, xuchang()];
    if std::path::Path::new(&format!("{}/../rubrics/chengkou-jxx-2026.toml", env!("CARGO_MANIFEST_DIR"))).exists() {
        list.push(chengkou());
    }
    list
}

/// Raw randomness for one observation; `make` turns it into valid facts for
/// whichever rule it lands on.
type Seed = (usize, u32, u32, bool, u8);

fn frac(x: u32, max: Decimal) -> Decimal {
    // x in 0..=10000 → a value in [0, max] with up to 4 decimals.
    (max * Decimal::from(x) / Decimal::from(10000)).round_dp(4)
}

fn make(r: &Rubric, i: usize, (ri, n, x, b, k): Seed, used: &mut HashSet<(usize, String)>) -> Option<Observation> {
    let idx = ri % r.rules.len();
    let rule = &r.rules[idx];
    let mut f = Facts::default();
    let hundred = Decimal::ONE_HUNDRED;
    match &rule.kind {
        RuleKind::PerCount { .. } => f.count = Some(i64::from(n % 6)),
        RuleKind::Shortfall { target, .. } => {
            f.value = Some(frac(x, hundred));
            if target.is_none() {
                f.target = Some(frac(n % 10001, hundred));
            }
        }
        RuleKind::ShortfallBaseline { .. } => {
            f.value = Some(frac(x, hundred));
            f.baseline = Some(frac(n % 10001, hundred));
        }
        RuleKind::Flag { .. } | RuleKind::Veto => f.flag = Some(b),
        RuleKind::ByLevel { levels } => {
            f.level = Some(levels[k as usize % levels.len()].key.clone());
            f.count = Some(i64::from(n % 3));
        }
        RuleKind::Award { levels } => {
            f.level = Some(levels[k as usize % levels.len()].key.clone());
            let grades = [None, Some(Grade::Special), Some(Grade::First), Some(Grade::Second), Some(Grade::Third)];
            f.grade = grades[n as usize % grades.len()];
            f.special_prize_awarded = b;
        }
        RuleKind::Range { min, max } => f.points = Some(min + frac(x, max - min)),
        RuleKind::Rating { components } => {
            let c = &components[k as usize % components.len()];
            if !used.insert((idx, c.key.clone())) {
                return None;
            }
            f.component = Some(c.key.clone());
            f.rate = Some(frac(x, hundred));
        }
        RuleKind::Direct { max } => {
            if !used.insert((idx, String::new())) {
                return None;
            }
            f.points = Some(frac(x, *max));
        }
        RuleKind::Bracket { .. } | RuleKind::PerAmount { .. } => f.amount = Some(frac(x, Decimal::from(20000))),
    }
    let mut o = Observation::new(format!("p{i:04}"), rule.code.clone(), f);
    if !rule.halving.is_empty() && b {
        o.halve = Some(rule.halving[k as usize % rule.halving.len()].clone());
    }
    if rule.highest_only {
        o.work = Some(format!("w{}", k % 3));
    }
    if rule.defer_late && k % 4 == 0 {
        o.document_date = chrono::NaiveDate::from_ymd_opt(2026, 4, 1);
    }
    Some(o)
}

fn build(r: &Rubric, seeds: &[Seed]) -> Vec<Observation> {
    let mut used = HashSet::new();
    seeds.iter().enumerate().filter_map(|(i, s)| make(r, i, *s, &mut used)).collect()
}

fn seeds() -> impl Strategy<Value = (usize, Vec<Seed>)> {
    (0usize..3, prop::collection::vec((any::<usize>(), any::<u32>(), 0u32..=10000, any::<bool>(), any::<u8>()), 0..40))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn indicators_stay_within_their_points_and_bonus_within_its_cap((which, s) in seeds()) {
        let rs = rubrics();
        let r = &rs[which % rs.len()];
        let res = score_unit(r, MARCH, "u", &build(r, &s), true).unwrap();
        for line in res.explanation.unwrap().indicators {
            let ind = r.indicator(&line.code).unwrap();
            if ind.role == Role::Base {
                prop_assert!(line.score >= Decimal::ZERO, "{} {}", line.code, line.score);
                prop_assert!(line.score <= ind.max.unwrap(), "{} {}", line.code, line.score);
            } else if let Some(m) = ind.max {
                prop_assert!(line.added <= m);
            }
        }
        if let Some(cap) = r.bonus_cap {
            prop_assert!(res.score.bonus <= cap);
        }
        prop_assert!(res.score.penalty >= Decimal::ZERO);
    }

    #[test]
    fn order_of_observations_does_not_matter((which, s) in seeds(), rot in any::<usize>()) {
        let rs = rubrics();
        let r = &rs[which % rs.len()];
        let obs = build(r, &s);
        let mut shuffled = obs.clone();
        shuffled.reverse();
        if !shuffled.is_empty() {
            let k = rot % shuffled.len();
            shuffled.rotate_left(k);
        }
        let a = score_unit(r, MARCH, "u", &obs, true).unwrap();
        let b = score_unit(r, MARCH, "u", &shuffled, true).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn a_deduction_never_raises_and_a_bonus_never_lowers((which, s) in seeds(), extra in (any::<usize>(), any::<u32>(), 0u32..=10000, any::<bool>(), any::<u8>())) {
        let rs = rubrics();
        let r = &rs[which % rs.len()];
        let mut obs = build(r, &s);
        let before = score_unit(r, MARCH, "u", &obs, false).unwrap().score;
        let mut used: HashSet<(usize, String)> = HashSet::new();
        // Mark single-use slots already taken so `make` skips them.
        for o in &obs {
            let idx = r.rule_index(&o.rule).unwrap();
            used.insert((idx, o.facts.component.clone().unwrap_or_default()));
        }
        let Some(mut added) = make(r, 9999, extra, &mut used) else { return Ok(()) };
        added.id = "zzzz".into();
        let effect = r.rule(&added.rule).unwrap().effect;
        obs.push(added);
        let after = score_unit(r, MARCH, "u", &obs, false).unwrap().score;
        match effect {
            Effect::Deduct => prop_assert!(after.final_score <= before.final_score),
            Effect::Add => prop_assert!(after.final_score >= before.final_score),
        }
        for (a, b) in after.sections.iter().zip(&before.sections) {
            match effect {
                Effect::Deduct => prop_assert!(a.score <= b.score && a.bonus == b.bonus),
                Effect::Add => prop_assert!(a.score >= b.score && a.penalty == b.penalty),
            }
        }
    }

    /// What recording relies on to read only a unit's observations of rules
    /// given once: stored observations that pass together, checked with new
    /// ones (some given twice, some spoilt), answer exactly as those stored
    /// observations of the new ones' given-once rules do, error for error.
    #[test]
    fn a_new_observation_is_checked_with_its_given_once_rules_alone((which, s) in seeds(), more in seeds()) {
        let rs = rubrics();
        let r = &rs[which % rs.len()];
        let stored = build(r, &s);
        prop_assert!(check_unit(r, MARCH, &stored).is_ok());
        let mut new = build(r, &more.1[..more.1.len().min(4)]);
        for (i, o) in new.iter_mut().enumerate() {
            o.id = format!("item-{i}");
            if more.0 == 2 && i % 2 == 1 {
                o.halve = Some("not a reason".into());
            }
        }
        let once: HashSet<&str> = new.iter().filter(|o| given_once(r, &o.rule)).map(|o| o.rule.as_str()).collect();
        let whole: Vec<Observation> = stored.iter().chain(&new).cloned().collect();
        let narrow: Vec<Observation> =
            stored.iter().filter(|o| once.contains(o.rule.as_str())).chain(&new).cloned().collect();
        prop_assert_eq!(check_unit(r, MARCH, &whole), check_unit(r, MARCH, &narrow));
    }

    #[test]
    fn ranking_follows_the_final_scores(finals in prop::collection::vec(0u32..=100_000, 1..60)) {
        let units: Vec<(String, Decimal)> = finals.iter().enumerate()
            .map(|(i, f)| (format!("u{i}"), Decimal::new(i64::from(*f), 3))).collect();
        let ranked = rank(units.iter().map(|(u, f)| (u.as_str(), *f)));
        prop_assert_eq!(ranked.len(), units.len());
        for r in &ranked {
            let shown = display(r.final_score);
            let better = units.iter().filter(|(_, f)| display(*f) > shown).count();
            prop_assert_eq!(r.rank as usize, better + 1);
        }
        for w in ranked.windows(2) {
            prop_assert!(display(w[0].final_score) >= display(w[1].final_score));
        }
    }

    #[test]
    fn display_rounding_moves_a_total_by_at_most_half_a_cent((which, s) in seeds()) {
        let rs = rubrics();
        let r = &rs[which % rs.len()];
        let sc = score_unit(r, MARCH, "u", &build(r, &s), false).unwrap().score;
        let half = Decimal::new(5, 3);
        for v in [sc.final_score, sc.base, sc.bonus, sc.penalty] {
            prop_assert!((display(v) - v).abs() <= half);
        }
    }
}
