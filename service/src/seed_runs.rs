//! One published demo run per regime, so a newcomer sees real results at once:
//! 城口 2026 (annual) for 城口县教师进修学校 and 许昌 2026-03 (monthly) for its
//! units. Entered through the same service calls as the API (engine-checked,
//! audited). Idempotent: a run opened under its seed key is never redone.

use kaohe_engine::Facts;
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;

use crate::audit::ChainKey;
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::paging::Page;
use crate::runs::lifecycle::{self, OpenRun};
use crate::runs::observations::{self, ObservationDraft, RecordObservation};

/// One seeded observation: unit code, rule code, facts, same-work key.
struct Seeded {
    unit: &'static str,
    rule: &'static str,
    facts: Facts,
    work: Option<&'static str>,
}

fn dec(s: &str) -> Option<Decimal> {
    s.parse().ok()
}

fn count(unit: &'static str, rule: &'static str, n: i64) -> Seeded {
    Seeded { unit, rule, facts: Facts { count: Some(n), ..Facts::default() }, work: None }
}
fn value(unit: &'static str, rule: &'static str, v: &str) -> Seeded {
    Seeded { unit, rule, facts: Facts { value: dec(v), ..Facts::default() }, work: None }
}
fn points(unit: &'static str, rule: &'static str, p: &str) -> Seeded {
    Seeded { unit, rule, facts: Facts { points: dec(p), ..Facts::default() }, work: None }
}
fn level(unit: &'static str, rule: &'static str, l: &str) -> Seeded {
    Seeded { unit, rule, facts: Facts { level: Some(l.into()), ..Facts::default() }, work: None }
}
fn rate(unit: &'static str, component: &str, r: &str) -> Seeded {
    Seeded {
        unit,
        rule: "7-1",
        facts: Facts { component: Some(component.into()), rate: dec(r), ..Facts::default() },
        work: None,
    }
}

fn chengkou() -> Vec<Seeded> {
    let u = "ck-jxx";
    vec![
        points(u, "1-1", "18.5"),
        count(u, "2.1.1-1", 3),
        count(u, "2.1.1-3", 2),
        value(u, "2.1.2-2", "3"),
        value(u, "2.1.2-5", "80"),
        value(u, "2.2-2", "87.5"),
        rate(u, "leaders", "90"),
        rate(u, "groups", "80"),
        rate(u, "inspector", "100"),
        rate(u, "schools", "75"),
        level(u, "8.1-2", "city"),
    ]
}

fn xuchang() -> Vec<Seeded> {
    // (unit, late reports, overdue 督办单, 重点任务 points of the 9 tasks)
    let plan: [(&'static str, i64, i64, [&str; 9]); 7] = [
        ("xc-weidu", 1, 2, ["6", "7", "6", "8", "8", "6", "8", "6", "7"]),
        ("xc-jianan", 0, 1, ["7", "7", "6", "8", "9", "6", "8", "7", "7"]),
        ("xc-dongcheng", 2, 0, ["6", "6", "6", "7", "8", "6", "7", "6", "6"]),
        ("xc-yuzhou", 0, 0, ["7", "8", "7", "9", "9", "7", "9", "7", "7"]),
        ("xc-changge", 1, 1, ["6", "7", "7", "8", "8", "6", "8", "6", "6"]),
        ("xc-yanling", 0, 2, ["5", "6", "6", "7", "7", "6", "7", "6", "6"]),
        ("xc-xiangcheng", 1, 0, ["6", "7", "6", "8", "8", "7", "8", "6", "7"]),
    ];
    let mut out = Vec::new();
    for (unit, late, overdue, tasks) in plan {
        if late > 0 {
            out.push(count(unit, "1.1-1", late));
        }
        if overdue > 0 {
            out.push(count(unit, "1.3-1", overdue));
        }
        for (i, p) in tasks.iter().enumerate() {
            let rule: &'static str =
                ["2.1-1", "2.2-1", "2.3-1", "2.4-1", "2.5-1", "2.6-1", "2.7-1", "2.8-1", "2.9-1"][i];
            out.push(points(unit, rule, p));
        }
    }
    // 魏都区: the worked example's bonus and penalty (final 88.5).
    out.push(level("xc-weidu", "3-①", "provincial"));
    for l in ["municipal", "provincial"] {
        let mut s = level("xc-weidu", "3-②a", l);
        s.work = Some("weidu-commendation");
        out.push(s);
    }
    out.push(level("xc-weidu", "3-③b", "municipal"));
    out.push(level("xc-yuzhou", "3-③b", "municipal"));
    out
}

/// Opens, fills and publishes the demo runs that are missing.
pub async fn seed_demo_runs(db: &DatabaseConnection, chain_key: &ChainKey) -> Result<usize, ServiceError> {
    let caller = Caller::system();
    let mut added = 0;
    for (org, period, title, key, obs) in [
        ("chengkou", "2026", "2026年度督导考核 (示例)", "seed:chengkou:2026", chengkou()),
        ("xuchang", "2026-03", "2026年3月建设教育强市考核 (示例)", "seed:xuchang:2026-03", xuchang()),
    ] {
        let organisation = crate::organisation::by_code(db, &caller, org).await?;
        let mut version = None;
        // The demo organisations have one rubric each.
        let rubrics = crate::rubric::query::list(db, &caller, organisation.id, Page::first(100)).await?;
        for r in rubrics.rows {
            if let Some(v) = crate::rubric::query::current_version(db, &caller, r.id).await? {
                version = Some(v);
            }
        }
        let Some(version) = version else {
            tracing::info!(org, "no published rubric: demo run not seeded");
            continue;
        };
        let codes: Vec<&str> = obs.iter().map(|s| s.unit).collect();
        let units = crate::unit::by_codes(db, &caller, organisation.id, &codes).await?;
        let id_of = |code: &str| units.iter().find(|u| u.code == code).map(|u| u.id);
        let mut unit_ids: Vec<i64> = Vec::new();
        for s in &obs {
            if let Some(id) = id_of(s.unit)
                && !unit_ids.contains(&id)
            {
                unit_ids.push(id);
            }
        }
        let existing = crate::runs::query::runs(
            db,
            &caller,
            crate::runs::query::RunFilter { organisation_code: Some(org.into()), ..Default::default() },
            Page::first(100),
        )
        .await?;
        if existing.rows.iter().any(|r| r.idempotency_key.as_deref() == Some(key) || r.period == period) {
            continue;
        }
        let run = lifecycle::open(
            db,
            chain_key,
            &caller,
            OpenRun {
                rubric_version_id: version.id,
                period: period.into(),
                unit_ids,
                title: title.into(),
                idempotency_key: Some(key.into()),
            },
        )
        .await?;
        let rubric = crate::rubric::rebuild::rubric_of_version(db, &caller, version.id).await?;
        for (i, s) in obs.into_iter().enumerate() {
            let Some(unit_id) = id_of(s.unit) else { continue };
            observations::record_with_rubric(
                db,
                chain_key,
                &caller,
                &rubric,
                RecordObservation {
                    run_id: run.id,
                    unit_id,
                    rule_code: s.rule.into(),
                    draft: ObservationDraft {
                        facts: s.facts,
                        work_key: s.work.map(str::to_string),
                        halve: None,
                        document_date: None,
                        note: Some("示例数据".into()),
                        evidence: Vec::new(),
                        evidence_ids: Vec::new(),
                    },
                    idempotency_key: Some(format!("{key}:{i}")),
                },
            )
            .await?;
        }
        lifecycle::publish(db, chain_key, &caller, run.id, run.version).await?;
        added += 1;
    }
    Ok(added)
}
