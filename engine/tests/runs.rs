//! Run-level views: what-if, the year view of a monthly regime, and ranking a run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use kaohe_engine::whatif::{Change, what_if};
use kaohe_engine::year::year_view;
use kaohe_engine::{Period, Problem, UnitObservations, rank, score_units};

const MARCH: Period = Period::Month { year: 2026, month: 3 };

/// Three counties with full 重点任务 (70) and some 日常工作 deductions.
fn run() -> Vec<UnitObservations> {
    let mut o = Obs::new();
    let mut units = Vec::new();
    for (unit, late) in [("魏都区", 0), ("建安区", 1), ("禹州市", 1)] {
        // Every task at its full points: 7+8+7+9+9+7+9+7+7 = 70.
        let full = ["7", "8", "7", "9", "9", "7", "9", "7", "7"];
        let mut observations: Vec<_> =
            full.iter().enumerate().map(|(t, p)| o.points(&format!("2.{}-1", t + 1), p)).collect();
        observations.push(o.count("1.1-1", late));
        units.push(UnitObservations { unit: unit.into(), observations });
    }
    units
}

#[test]
fn a_run_ranks_with_shared_places() {
    let scores = score_units(&xuchang(), MARCH, &run()).unwrap();
    // 魏都区 30 + 70 = 100; the other two 29 + 70 = 99 each.
    let ranked = rank(scores.iter().map(|s| (s.unit.as_str(), s.final_score)));
    let got: Vec<(&str, u32, String)> =
        ranked.iter().map(|r| (r.unit.as_str(), r.rank, r.final_score.to_string())).collect();
    assert_eq!(got, vec![("魏都区", 1, "100".into()), ("建安区", 2, "99".into()), ("禹州市", 2, "99".into())]);
}

#[test]
fn what_if_an_approved_claim_changes_the_rank_without_touching_the_run() {
    let r = xuchang();
    let units = run();
    let mut o = Obs::new();
    let mut claim = o.level("3-①", "municipal"); // 市级现场会 +1
    claim.id = "claim-1".into();
    let rows = what_if(&r, MARCH, &units, &[Change::Add { unit: "建安区".into(), observation: claim }]).unwrap();
    let jianan = rows.iter().find(|r| r.unit == "建安区").unwrap();
    assert_eq!((jianan.rank_before, jianan.rank_after), (2, 1));
    assert_eq!(jianan.final_after - jianan.final_before, d("1"));
    let yuzhou = rows.iter().find(|r| r.unit == "禹州市").unwrap();
    assert_eq!((yuzhou.rank_before, yuzhou.rank_after), (2, 3));
    // Removing the late report of 禹州市 lifts it to 100 as well.
    let late_id = units[2].observations.last().unwrap().id.clone();
    let rows = what_if(&r, MARCH, &units, &[Change::Remove { unit: "禹州市".into(), observation: late_id }]).unwrap();
    assert_eq!(rows.iter().find(|r| r.unit == "禹州市").unwrap().rank_after, 1);
    // The input run is unchanged.
    assert_eq!(units, run());
    // Unknown ids and units are refused.
    let err = what_if(&r, MARCH, &units, &[Change::Remove { unit: "禹州市".into(), observation: "nope".into() }]);
    assert!(matches!(err.unwrap_err().problem, Problem::Conflict(_)));
    let err = what_if(&r, MARCH, &units, &[Change::Remove { unit: "长葛市".into(), observation: "x".into() }]);
    assert!(err.unwrap_err().to_string().contains("长葛市"));
}

#[test]
fn year_view_shows_missing_months_as_missing_and_averages_the_rest() {
    let r = xuchang();
    let units = run();
    let jan = score_units(&r, Period::Month { year: 2026, month: 1 }, &units).unwrap();
    let mar = score_units(&r, MARCH, &units[..2]).unwrap(); // 禹州市 not in March's run
    let rows = year_view(&[(1, &jan), (3, &mar)]);
    let yz = rows.iter().find(|r| r.unit == "禹州市").unwrap();
    assert_eq!(yz.months[0], Some(d("99")));
    assert_eq!(yz.months[1], None, "February had no run: missing, not zero");
    assert_eq!(yz.months[2], None);
    assert_eq!(yz.mean, Some(d("99")));
    let wd = rows.iter().find(|r| r.unit == "魏都区").unwrap();
    assert_eq!(wd.months_scored, 2);
    assert_eq!(wd.mean, Some(d("100")));
    let ja = rows.iter().find(|r| r.unit == "建安区").unwrap();
    assert_eq!(ja.mean, Some(d("99")));
}
