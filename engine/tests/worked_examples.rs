//! The worked examples of DOMAIN.md, exactly.

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
    for (task, p) in ["6", "7", "6", "8", "8", "6", "8", "6", "7"]
        .iter()
        .enumerate()
    {
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

    let res = score_unit(
        &r,
        Period::Month {
            year: 2026,
            month: 3,
        },
        "魏都区",
        &obs,
        true,
    )
    .unwrap();
    let s = &res.score;
    assert_eq!(s.sections[0].score, d("23"), "日常工作 23 of 30");
    assert_eq!(
        s.sections[0].weighted,
        d("23"),
        "30 points weighted 30% of 100"
    );
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
    assert_eq!(
        commend
            .observations
            .iter()
            .filter(|o| o.amount > d("0"))
            .count(),
        1
    );
}
