//! Scoring benchmarks (criterion). Run: `cargo bench -p kaohe-engine --bench scoring`.
//!
//! - annual_one_unit_1000_obs: the full 城口 annual rubric, one unit, 1,000 observations, with explanation;
//! - province_monthly: 10,000 units × the 许昌 monthly rubric × 20 observations, totals and ranking;
//! - province_bare_sum: the same observations' numbers summed in a bare loop (the floor to compare with).

use criterion::{Criterion, criterion_group, criterion_main};
use kaohe_engine::rubric::RuleKind;
use kaohe_engine::{Facts, Observation, Period, Rubric, UnitObservations, rank, score_unit, score_units};
use rust_decimal::Decimal;
use std::hint::black_box;

fn rubric(name: &str) -> Rubric {
    let path = format!("{}/../rubrics/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Rubric::from_toml(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Valid facts for the rule at `i`, varied by `n`.
fn facts(r: &Rubric, i: usize, n: u32) -> Facts {
    let mut f = Facts::default();
    let small = Decimal::from(n % 3);
    match &r.rules[i].kind {
        RuleKind::PerCount { .. } => f.count = Some(i64::from(n % 3)),
        RuleKind::Shortfall { target, .. } => {
            f.value = Some(Decimal::from(60 + n % 40));
            if target.is_none() {
                f.target = Some(Decimal::from(90));
            }
        }
        RuleKind::ShortfallBaseline { .. } => {
            f.value = Some(Decimal::from(60 + n % 10));
            f.baseline = Some(Decimal::from(65));
        }
        RuleKind::Flag { .. } => f.flag = Some(n.is_multiple_of(2)),
        RuleKind::Veto => f.flag = Some(false),
        RuleKind::ByLevel { levels } | RuleKind::Award { levels } => {
            f.level = Some(levels[n as usize % levels.len()].key.clone());
        }
        RuleKind::Range { min, .. } => f.points = Some(*min),
        RuleKind::Rating { components } => {
            f.component = Some(components[n as usize % components.len()].key.clone());
            f.rate = Some(Decimal::from(80 + n % 20));
        }
        RuleKind::Direct { max } => f.points = Some((*max - small).max(Decimal::ZERO)),
        RuleKind::Bracket { .. } | RuleKind::PerAmount { .. } => f.amount = Some(Decimal::from(100 * (n % 50))),
    }
    f
}

fn single_use(r: &Rubric, i: usize) -> bool {
    matches!(r.rules[i].kind, RuleKind::Direct { .. } | RuleKind::Rating { .. })
}

fn annual_observations(r: &Rubric) -> Vec<Observation> {
    let mut obs = Vec::with_capacity(1000);
    let mut i = 0u32;
    while obs.len() < 1000 {
        let ri = (i as usize * 7) % r.rules.len();
        i += 1;
        if single_use(r, ri) {
            continue;
        }
        obs.push(Observation::new(format!("a{i}"), r.rules[ri].code.clone(), facts(r, ri, i)));
    }
    obs
}

fn province(r: &Rubric) -> Vec<UnitObservations> {
    // Per unit: each direct task once, the rest spread over the other rules.
    let direct: Vec<usize> = (0..r.rules.len()).filter(|&i| single_use(r, i)).collect();
    let other: Vec<usize> = (0..r.rules.len()).filter(|&i| !single_use(r, i)).collect();
    (0..10_000u32)
        .map(|u| {
            let mut observations = Vec::with_capacity(20);
            for (k, &ri) in direct.iter().enumerate() {
                observations.push(Observation::new(
                    format!("{u}-d{k}"),
                    r.rules[ri].code.clone(),
                    facts(r, ri, u + k as u32),
                ));
            }
            let mut k = 0u32;
            while observations.len() < 20 {
                let ri = other[(u + k) as usize % other.len()];
                observations.push(Observation::new(
                    format!("{u}-o{k}"),
                    r.rules[ri].code.clone(),
                    facts(r, ri, u * 31 + k),
                ));
                k += 1;
            }
            UnitObservations { unit: format!("unit-{u:05}"), observations }
        })
        .collect()
}

/// The floor: touch every observation once and sum its number.
fn bare_sum(units: &[UnitObservations]) -> Decimal {
    let mut total = Decimal::ZERO;
    for u in units {
        for o in &u.observations {
            let f = &o.facts;
            total +=
                f.points.or(f.value).or(f.rate).or(f.amount).unwrap_or_else(|| Decimal::from(f.count.unwrap_or(1)));
        }
    }
    total
}

fn benches(c: &mut Criterion) {
    let year = Period::Year(2026);
    let annual = rubric("chengkou-jxx-2026.toml");
    let obs = annual_observations(&annual);
    c.bench_function("annual_one_unit_1000_obs_explained", |b| {
        b.iter(|| score_unit(black_box(&annual), year, "u", black_box(&obs), true).map(|r| r.score.final_score))
    });
    c.bench_function("annual_one_unit_1000_obs_totals", |b| {
        b.iter(|| score_unit(black_box(&annual), year, "u", black_box(&obs), false).map(|r| r.score.final_score))
    });

    let monthly = rubric("xuchang-jyqs-2023.toml");
    let units = province(&monthly);
    let march = Period::Month { year: 2026, month: 3 };
    let mut g = c.benchmark_group("province_10000_units_20_obs");
    g.sample_size(20);
    g.bench_function("totals_and_ranking", |b| {
        b.iter(|| {
            let scores = score_units(black_box(&monthly), march, black_box(&units)).unwrap_or_default();
            rank(scores.iter().map(|s| (s.unit.as_str(), s.final_score))).len()
        })
    });
    g.bench_function("bare_sum_baseline", |b| b.iter(|| bare_sum(black_box(&units))));
    g.finish();
}

criterion_group!(scoring, benches);
criterion_main!(scoring);
