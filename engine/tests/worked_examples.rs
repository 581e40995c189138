//! The worked examples of DOMAIN.md, exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use kaohe_engine::{Period, score_unit};

#[test]
fn monthly_xuchang_county_march_is_88_5() {
    let r = xuchang();
    let mut o = Obs::new();
    let mut obs = vec![
        // 平时考核: one report late → 5 − 1 = 4.
        o.count("1.1-1", 1),
        // 重点督办: two overdue 督办单 → 15 − 2 × 3 = 9. (临时交办: none → 10.)
        o.count("1.3-1", 2),
    ];
    // 重点任务: the departments award 62 of 70 (6+7+6+8+8+6+8+6+7).
    for (task, p) in ["6", "7", "6", "8", "8", "6", "8", "6", "7"].iter().enumerate() {
        obs.push(o.points(&format!("2.{}-1", task + 1), p));
    }
    // A 省部级 现场会: +3.
    obs.push(o.level("3-①", "provincial"));
    // The same work commended by the city (+1) and the province (+1): only the highest counts.
    let mut city = o.level("3-②a", "municipal");
    city.work = Some("same-work".into());
    let mut province = o.level("3-②a", "provincial");
    province.work = Some("same-work".into());
    obs.extend([city, province]);
    // One 市级 media exposure: −0.5.
    obs.push(o.level("3-③b", "municipal"));

    let res = score_unit(&r, Period::Month { year: 2026, month: 3 }, "魏都区", &obs, true).unwrap();
    let s = &res.score;
    assert_eq!(s.sections[0].score, d("23"), "日常工作 23 of 30");
    assert_eq!(s.sections[0].weighted, d("23"), "30 points weighted 30% of 100");
    assert_eq!(s.sections[1].score, d("62"));
    assert_eq!(s.sections[1].weighted, d("62"));
    assert_eq!(s.bonus, d("4"), "3 + 1");
    assert_eq!(s.penalty, d("0.5"));
    assert_eq!(s.final_score, d("88.5"));

    // The explanation shows the superseded commendation.
    let ex = res.explanation.unwrap();
    let adj = ex.indicators.iter().find(|i| i.code == "3").unwrap();
    let commend = adj.rules.iter().find(|l| l.rule == "3-②a").unwrap();
    assert_eq!(commend.amount, d("1"));
    assert_eq!(commend.observations.iter().filter(|o| o.amount > d("0")).count(), 1);
}

#[test]
fn annual_chengkou_worked_example() {
    let r = chengkou();
    let mut o = Obs::new();
    let obs = vec![
        // 入校视导 (12): 3 researchers missed their quota 3 × 0.5 = 1.5; 2 schools not visited 2 × 0.5 = 1.0 → 9.5
        o.count("2.1.1-1", 3),
        o.count("2.1.1-3", 2),
        // 教研工作 (10): 3 of 5 教研活动 (2 × 1 = 2); lecture rate 80% vs 85% (5 × 0.1 = 0.5) → 7.5
        o.value("2.1.2-2", "3"),
        o.value("2.1.2-5", "80"),
        // 培训工作 (5): satisfaction 87.5% vs 90% → 2 whole points → 0.2 → 4.8
        o.value("2.2-2", "87.5"),
        // 满意度 (15): 6×0.9 + 4×0.8 + 1×1 + 4×0.75 = 12.6
        o.rate("7-1", "leaders", "90"),
        o.rate("7-1", "groups", "80"),
        o.rate("7-1", "inspector", "100"),
        o.rate("7-1", "schools", "75"),
        // 党建 scored by its own rubric: 18.5 of 20.
        o.points("1-1", "18.5"),
        // A 市级 现场会 organised: +0.5.
        o.level("8.1-2", "city"),
    ];
    let res = score_unit(&r, Period::Year(2026), "城口县教师进修学校", &obs, true).unwrap();
    let ex = res.explanation.as_ref().unwrap();
    let score = |code: &str| ex.indicators.iter().find(|i| i.code == code).unwrap().score;
    assert_eq!(score("2.1.1"), d("9.5"));
    assert_eq!(score("2.1.2"), d("7.5"));
    assert_eq!(score("2.2"), d("4.8"));
    assert_eq!(score("7"), d("12.6"));
    // 研训一体化 = 9.5 + 7.5 + 1 + 3 + 4 + 4.8 = 29.8
    assert_eq!(score("2"), d("29.8"));
    // base = 18.5 + 29.8 + 15 + 3 + 4 + 8 + 12.6 = 90.9; bonus 0.5
    assert_eq!(res.score.base, d("90.9"));
    assert_eq!(res.score.bonus, d("0.5"));
    assert_eq!(res.score.final_score, d("91.4"));
}
