//! The full permission matrix over HTTP (issue 5): every role of both
//! organisations × every section (and the sub-indicators departments are
//! assigned) × every action (read, record, correct, submit, approve a claim,
//! publish). The expected answer comes from the seed's own assignments,
//! written out here by hand, not from the policy code under test:
//!
//! - 城口: 秘书科 scores 党建 (1), 办公室 数字重庆 (6.2), 电教中心 资源管理 (6.5);
//! - 许昌: 秘书科 scores 日常工作 (1) and 加减分 (3), 学前教育科 重点任务 2.1;
//! - the admin everything; a unit user and an integration score nothing.

use std::collections::HashMap;

use kaohe_engine::rubric::RuleKind;
use kaohe_engine::{Facts, Rubric};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid, spawn_app_with, workspace_rubrics};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Admin,
    /// A department head owning these indicator codes.
    Dept(&'static [&'static str]),
    Unit,
    Integration,
}

struct Org {
    rubric_file: &'static str,
    unit: &'static str,
    periods: [&'static str; 3],
    logins: Vec<(&'static str, Role)>,
}

fn orgs() -> Vec<Org> {
    vec![
        Org {
            rubric_file: "chengkou-jxx-2026.toml",
            unit: "ck-jxx",
            periods: ["2027", "2028", "2029"],
            logins: vec![
                ("ck-admin", Role::Admin),
                ("ck-mishuke", Role::Dept(&["1"])),
                ("ck-bangongshi", Role::Dept(&["6.2"])),
                ("ck-dianjiao", Role::Dept(&["6.5"])),
                ("ck-jxx", Role::Unit),
                // No demo login: created by the admin as a service credential below.
                ("svc", Role::Integration),
            ],
        },
        Org {
            rubric_file: "xuchang-jyqs-2023.toml",
            unit: "xc-weidu",
            periods: ["2026-06", "2026-07", "2026-08"],
            logins: vec![
                ("xc-admin", Role::Admin),
                ("xc-mishuke", Role::Dept(&["1", "3"])),
                ("xc-xueqian", Role::Dept(&["2.1"])),
                ("xc-weidu", Role::Unit),
                ("xc-yuejiangping", Role::Integration),
            ],
        },
    ]
}

/// Valid facts for a rule, whatever its kind.
fn facts(kind: &RuleKind) -> Value {
    let mut f = Facts::default();
    match kind {
        RuleKind::PerCount { .. } => f.count = Some(1),
        RuleKind::Shortfall { target, .. } => {
            f.value = Some(Decimal::from(70));
            if target.is_none() {
                f.target = Some(Decimal::from(90));
            }
        }
        RuleKind::ShortfallBaseline { .. } => {
            f.value = Some(Decimal::from(60));
            f.baseline = Some(Decimal::from(65));
        }
        RuleKind::Flag { .. } | RuleKind::Veto => f.flag = Some(false),
        RuleKind::ByLevel { levels } | RuleKind::Award { levels } => f.level = Some(levels[0].key.clone()),
        RuleKind::Range { min, .. } => f.points = Some(*min),
        RuleKind::Rating { components } => {
            f.component = Some(components[0].key.clone());
            f.rate = Some(Decimal::from(90));
        }
        RuleKind::Direct { max } => f.points = Some(*max),
        RuleKind::Bracket { .. } | RuleKind::PerAmount { .. } => f.amount = Some(Decimal::from(100)),
    }
    let mut v = serde_json::to_value(f).unwrap();
    v.as_object_mut().unwrap().retain(|_, x| !x.is_null() && *x != json!(false));
    if matches!(kind, RuleKind::Flag { .. } | RuleKind::Veto) {
        v["flag"] = json!(false);
    }
    v
}

/// An area to score: an indicator code, the first rule under it, and that
/// rule's indicator path (nearest first).
struct Area {
    code: String,
    section: bool,
    rule: String,
    path: Vec<String>,
    facts: Value,
}

fn areas(rubric: &Rubric, assigned: &[&str]) -> Vec<Area> {
    let path_of = |mut at: Option<usize>| {
        let mut p = Vec::new();
        while let Some(i) = at {
            p.push(rubric.indicators[i].code.clone());
            at = rubric.indicators[i].parent;
        }
        p
    };
    rubric
        .indicators
        .iter()
        .filter(|i| i.depth == 0 || assigned.contains(&i.code.as_str()) || (i.depth == 1 && i.code.starts_with("6.")))
        .filter_map(|ind| {
            let rule = rubric.rules.iter().find(|r| path_of(Some(r.indicator)).contains(&ind.code))?;
            Some(Area {
                code: ind.code.clone(),
                section: ind.depth == 0,
                rule: rule.code.clone(),
                path: path_of(Some(rule.indicator)),
                facts: facts(&rule.kind),
            })
        })
        .collect()
}

fn may_score(role: Role, area: &Area) -> bool {
    match role {
        Role::Admin => true,
        Role::Dept(owned) => area.path.iter().any(|c| owned.contains(&c.as_str())),
        Role::Unit | Role::Integration => false,
    }
}

fn may_submit(role: Role, section: &str) -> bool {
    match role {
        Role::Admin => true,
        Role::Dept(owned) => owned.contains(&section),
        _ => false,
    }
}

/// Writes the policy does not grant are FORBIDDEN (reads of runs an
/// integration may not see are NOT_FOUND, below).
const REFUSED: &str = "FORBIDDEN";

/// How a refused action answers: FORBIDDEN where the caller may see the
/// object, NOT_FOUND where it may not (an integration sees no open run; a
/// unit user no observation of an open run): a hidden object is never told
/// apart from a missing one.
fn refusal(sees: bool) -> &'static str {
    if sees { REFUSED } else { "NOT_FOUND" }
}

struct Client<'a> {
    app: &'a TestApp,
    tokens: HashMap<&'static str, String>,
}

impl Client<'_> {
    async fn call(&self, who: &str, query: &str, variables: Value) -> Value {
        let r = self
            .app
            .client
            .post(format!("{}/graphql", self.app.address))
            .bearer_auth(&self.tokens[who])
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// Data of a call that must succeed.
    async fn ok(&self, who: &str, query: &str, variables: Value) -> Value {
        let v = self.call(who, query, variables).await;
        assert!(v.get("errors").is_none(), "{who}: {query}: {v:#}");
        v["data"].clone()
    }

    /// Asserts the call is allowed (succeeds) or refused with `denied`; returns the data.
    async fn expect(&self, who: &str, allowed: bool, denied: &str, what: &str, query: &str, vars: Value) -> Value {
        let v = self.call(who, query, vars).await;
        let code = v["errors"][0]["extensions"]["code"].as_str().unwrap_or("");
        if allowed {
            assert!(v.get("errors").is_none(), "{who} may {what}: {v:#}");
        } else {
            assert_eq!(code, denied, "{who} may not {what}: {v:#}");
        }
        v["data"].clone()
    }
}

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id version } }";
const CORRECT: &str = "mutation($i: CorrectObservationInput!) { correctObservation(input: $i) { id version } }";
const WITHDRAW: &str = "mutation($id: ID!, $v: Int!) { withdrawObservation(id: $id, expectedVersion: $v, reason: \"matrix reset\") { id } }";
const READ: &str =
    "query($r: ID!, $c: String!) { scoreRun(id: $r) { observations(indicatorCode: $c, first: 10) { totalCount } } }";
const FILE: &str = "mutation($i: FileClaimInput!) { fileClaim(input: $i) { id version } }";
const DECIDE: &str = "mutation($id: ID!, $v: Int) { decideClaim(id: $id, approve: true, reason: \"属实\", expectedVersion: $v) { status observation { id version } } }";
const SUBMIT: &str = "mutation($r: ID!, $s: String!) { submitSection(runId: $r, sectionCode: $s) { status } }";
const REOPEN: &str = "mutation($r: ID!, $s: String!) { reopenSection(runId: $r, sectionCode: $s) { status } }";
const VERSION: &str = "query($r: ID!) { scoreRun(id: $r) { version } }";
const PUBLISH: &str = "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { status } }";

async fn sign_in_all<'a>(app: &'a TestApp, org: &Org) -> Client<'a> {
    let mut tokens = HashMap::new();
    for &(user, role) in &org.logins {
        if role == Role::Integration && user == "svc" {
            continue;
        }
        app.sign_in(user).await;
        tokens.insert(user, app.token.lock().unwrap().clone().unwrap());
    }
    if org.logins.iter().any(|(u, _)| *u == "svc") {
        let admin = org.logins[0].0;
        let client = Client { app, tokens: tokens.clone() };
        let create =
            "mutation { createServiceCredential(name: \"月讲评系统\", scope: \"results:read_published\") { secret } }";
        let secret = client.ok(admin, create, json!({})).await["createServiceCredential"]["secret"].clone();
        let exchange = "mutation($s: String!) { serviceToken(secret: $s) { accessToken } }";
        let token = app.post(exchange, json!({ "s": secret })).await["data"]["serviceToken"]["accessToken"].clone();
        tokens.insert("svc", token.as_str().unwrap().to_string());
    }
    Client { app, tokens }
}

async fn check_org(app: &TestApp, org: &Org) {
    let text = std::fs::read_to_string(workspace_rubrics().join(org.rubric_file)).unwrap();
    let rubric = Rubric::from_toml(org.rubric_file, &text).unwrap();
    let assigned: Vec<&str> =
        org.logins.iter().flat_map(|(_, r)| if let Role::Dept(o) = r { o.to_vec() } else { vec![] }).collect();
    let areas = areas(&rubric, &assigned);
    assert!(areas.iter().filter(|a| a.section).count() >= 3, "every section is covered");

    let c = sign_in_all(app, org).await;
    let admin = org.logins[0].0;
    let unit_row =
        entity::unit::Entity::find().filter(entity::unit::Column::Code.eq(org.unit)).one(&app.db).await.unwrap();
    let unit = gid("Unit", unit_row.unwrap().id);
    let rubric_row = entity::rubric::Entity::find()
        .filter(entity::rubric::Column::Code.eq(rubric.code.as_str()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let version_row = entity::rubric_version::Entity::find()
        .filter(entity::rubric_version::Column::RubricId.eq(rubric_row.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let version = gid("RubricVersion", version_row.id);
    let mut runs = Vec::new();
    for p in org.periods {
        let input = json!({ "i": { "rubricVersionId": version, "period": p, "unitIds": [unit], "title": format!("矩阵 {p}") } });
        runs.push(c.ok(admin, OPEN, input).await["openScoreRun"]["id"].as_str().unwrap().to_string());
    }
    let (scoring, claims, lifecycle) = (&runs[0], &runs[1], &runs[2]);

    for area in &areas {
        let draft = json!({ "runId": scoring, "unitId": unit, "ruleCode": area.rule, "facts": area.facts });
        // The admin's observation in this area, for everyone to try to correct.
        let first = c.ok(admin, RECORD, json!({ "i": draft })).await["recordObservation"].clone();
        let (mut obs, mut obs_version) = (first["id"].as_str().unwrap().to_string(), first["version"].clone());
        for &(who, role) in &org.logins {
            let allowed = may_score(role, area);
            let what = format!("score {} ({})", area.code, area.rule);

            // read: staff see the area's observations; a unit its own (none while open).
            let read_ok = role != Role::Integration;
            c.expect(who, read_ok, "NOT_FOUND", "read", READ, json!({ "r": scoring, "c": area.code })).await;

            // record (then withdraw, so single-use rules can be recorded again), in
            // the claims run: in the scoring run the admin's observation above
            // already gives a direct score or a rating component, and a second
            // one is refused at the door (CONFLICT).
            let sees_run = role != Role::Integration;
            let refused = refusal(sees_run);
            let mut elsewhere = draft.clone();
            elsewhere["runId"] = json!(claims);
            let d =
                c.expect(who, allowed, refused, &format!("record: {what}"), RECORD, json!({ "i": elsewhere })).await;
            if allowed {
                let o = &d["recordObservation"];
                c.ok(admin, WITHDRAW, json!({ "id": o["id"], "v": o["version"] })).await;
            }

            // correct the admin's observation
            let fix = json!({ "i": { "id": obs, "expectedVersion": obs_version, "facts": area.facts, "reason": "复核更正" } });
            let sees_observation = sees_run && role != Role::Unit;
            let d = c.expect(who, allowed, refusal(sees_observation), &format!("correct: {what}"), CORRECT, fix).await;
            if allowed {
                obs = d["correctObservation"]["id"].as_str().unwrap().to_string();
                obs_version = d["correctObservation"]["version"].clone();
            }

            // approve a claim the unit files in this area
            let claim = json!({ "i": { "runId": claims, "unitId": unit, "ruleCode": area.rule, "facts": area.facts,
                "evidence": [{ "docNumber": "许教组〔2023〕8号" }] } });
            let filed = c.ok(org.unit, FILE, claim).await["fileClaim"].clone();
            let d = c
                .expect(
                    who,
                    allowed,
                    refused,
                    &format!("approve a claim: {what}"),
                    DECIDE,
                    json!({ "id": filed["id"], "v": filed["version"] }),
                )
                .await;
            if allowed {
                let o = &d["decideClaim"]["observation"];
                c.ok(admin, WITHDRAW, json!({ "id": o["id"], "v": o["version"] })).await;
            }
        }
        // The next area may start with the same rule (a section and its first
        // child): the admin's observation goes, so a direct score can be given again.
        c.ok(admin, WITHDRAW, json!({ "id": obs, "v": obs_version })).await;
    }

    // submit: the section's owner or the admin; reopened after each success.
    for area in areas.iter().filter(|a| a.section) {
        for &(who, role) in &org.logins {
            let allowed = may_submit(role, &area.code);
            let vars = json!({ "r": lifecycle, "s": area.code });
            let refused = refusal(role != Role::Integration);
            c.expect(who, allowed, refused, &format!("submit section {}", area.code), SUBMIT, vars.clone()).await;
            if allowed {
                c.ok(admin, REOPEN, vars).await;
            }
        }
    }

    // publish: the admin alone, last.
    for &(who, role) in org.logins.iter().rev() {
        let v = c.ok(admin, VERSION, json!({ "r": lifecycle })).await["scoreRun"]["version"].clone();
        let allowed = role == Role::Admin;
        let refused = refusal(role != Role::Integration);
        c.expect(who, allowed, refused, "publish", PUBLISH, json!({ "r": lifecycle, "v": v })).await;
    }
}

#[tokio::test]
async fn every_role_section_and_action_is_allowed_or_refused_as_the_seed_assigns() {
    let app = spawn_app_with(|s| s.limits.rate_budget = 100_000_000).await;
    for org in orgs() {
        check_org(&app, &org).await;
    }
}
