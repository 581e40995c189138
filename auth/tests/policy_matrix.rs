//! The seed policy of `policies/`: every role × every indicator of both seed
//! rubrics × every action, against an expectation written from the seeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kaohe_auth::policy::{Line, Policy, parse};

const MODEL: &str = include_str!("../../policies/model.conf");
const SEED: &str = include_str!("../../policies/policy.csv");
const ACTIONS: [&str; 6] = ["read", "record", "correct", "submit", "approve_claim", "publish"];
const SCORE: [&str; 4] = ["record", "correct", "submit", "approve_claim"];
const CHENGKOU_DEPTS: [&str; 4] = ["秘书科", "办公室", "电教中心", "督导室(考核办)"];
/// 许昌: 秘书科, then the lead departments of 重点任务 1–9 in order.
const XUCHANG_DEPTS: [&str; 10] = [
    "秘书科",
    "学前教育科",
    "基础教育科",
    "教学研究室",
    "发展规划科",
    "教育督导科",
    "职业教育与成人教育科",
    "财务科",
    "教师工作科",
    "安全稳定科",
];

/// Indicator codes of a rubric file, read straight from its `code = "…"` lines.
fn codes(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!("{}/../rubrics/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut in_ind = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_ind = l == "[[indicator]]";
        } else if in_ind && let Some(c) = l.strip_prefix("code = \"") {
            out.push(c.trim_end_matches('"').to_string());
            in_ind = false;
        }
    }
    out
}

fn ancestors(code: &str) -> Vec<String> {
    let parts: Vec<&str> = code.split('.').collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join(".")).collect()
}

/// Who owns a 城口 indicator, from the seed's 科室 column (the rest: 督导室).
fn chengkou_owner(code: &str) -> &'static str {
    let a = ancestors(code);
    if a.iter().any(|c| c == "1") {
        "秘书科"
    } else if a.iter().any(|c| c == "6.2") {
        "办公室"
    } else if a.iter().any(|c| c == "6.5") {
        "电教中心"
    } else if code == "6" {
        "" // the section itself mixes owners: only the admin scores it whole
    } else {
        "督导室(考核办)"
    }
}

fn xuchang_owner(code: &str) -> &'static str {
    let tasks = &XUCHANG_DEPTS[1..];
    match code {
        "2" => "",
        c if c.starts_with("2.") => tasks[c[2..].parse::<usize>().unwrap() - 1],
        _ => "秘书科",
    }
}

async fn policy() -> Policy {
    let mut lines = parse(SEED).unwrap();
    let members = [
        ("user:admin-ck", "role:admin", "chengkou"),
        ("user:admin-xc", "role:admin", "xuchang"),
        ("user:unit-ck", "role:unit", "chengkou"),
        ("svc:yuejiangping", "role:integration", "xuchang"),
    ];
    for (m, r, d) in members {
        lines.push(Line::Member { member: m.into(), role: r.into(), dom: d.into() });
    }
    for (org, depts) in [("chengkou", &CHENGKOU_DEPTS[..]), ("xuchang", &XUCHANG_DEPTS[..])] {
        for d in depts {
            let user = format!("user:{org}-{d}");
            lines.push(Line::Member { member: user.clone(), role: format!("dept:{d}"), dom: org.into() });
            lines.push(Line::Member { member: user, role: "role:scorer".into(), dom: org.into() });
        }
    }
    Policy::new(MODEL, &lines).await.unwrap()
}

fn check(p: &Policy, org: &str, rubric: &str, file: &str, owner: fn(&str) -> &'static str, depts: &[&str]) -> usize {
    let (admin, other) =
        if org == "chengkou" { ("user:admin-ck", "user:admin-xc") } else { ("user:admin-xc", "user:admin-ck") };
    let mut checked = 0;
    for code in codes(file) {
        let path = ancestors(&code);
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        for act in ACTIONS {
            let may = |sub: &str| p.allows_on_indicator(sub, org, rubric, &path, act);
            // Admin: everything in its own organisation, nothing in the other.
            assert!(may(admin), "{org} admin {code} {act}");
            assert!(!may(other), "cross-tenant admin {code} {act}");
            for d in depts {
                let expected = SCORE.contains(&act) && owner(&code) == *d;
                assert_eq!(may(&format!("user:{org}-{d}")), expected, "{org} {d} {code} {act}");
                checked += 1;
            }
            // Units and integrations never score nor publish.
            assert!(!may("user:unit-ck"), "unit {code} {act}");
            assert!(!may("svc:yuejiangping"), "integration {code} {act}");
        }
    }
    checked
}

#[tokio::test]
async fn every_role_section_and_action_of_both_seeds() {
    let p = policy().await;
    let n = check(&p, "chengkou", "chengkou-jxx", "chengkou-jxx-2026.toml", chengkou_owner, &CHENGKOU_DEPTS);
    assert_eq!(n, 31 * 6 * 4, "31 indicators × 6 actions × 4 departments");
    check(&p, "xuchang", "xuchang-jyqs", "xuchang-jyqs-2023.toml", xuchang_owner, &XUCHANG_DEPTS);
    // A department name in another organisation is another department.
    assert!(!p.allows_on_indicator("user:xuchang-秘书科", "chengkou", "chengkou-jxx", &["1"], "record"));
    // Resources.
    assert!(p.allows("svc:yuejiangping", "xuchang", "results", "read_published"));
    assert!(!p.allows("svc:yuejiangping", "chengkou", "results", "read_published"));
    assert!(p.allows("user:unit-ck", "chengkou", "claims", "file"));
    assert!(!p.allows("user:unit-ck", "chengkou", "runs", "publish"));
}
