//! Every clause class of the two seed rubrics, scored on the real rubric
//! files through `score_unit`, each expected figure worked out by hand from
//! the clause's Chinese text (quoted in the comment next to it).
//!
//! Seeds: `rubrics/sources/000_2cb7dc887d1183fb.txt` (城口 教师进修校 2026,
//! `rubrics/chengkou-jxx-2026.toml`) and `rubrics/sources/004_51e0645b2183daf2.txt`
//! (许昌 建设教育强市 monthly, `rubrics/xuchang-jyqs-2023.toml`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use common::*;
use kaohe_engine::explain::{Counted, Cut, IndicatorExplanation, RuleExplanation};
use kaohe_engine::{Facts, Grade, Observation, Period, Problem, Rubric, ScoreError, UnitResult, score_unit};

const Y2026: Period = Period::Year(2026);
const MARCH: Period = Period::Month { year: 2026, month: 3 };
const APRIL: Period = Period::Month { year: 2026, month: 4 };

fn run(r: &Rubric, period: Period, obs: &[Observation]) -> UnitResult {
    score_unit(r, period, "被考核单位", obs, true).unwrap_or_else(|e| panic!("{e}"))
}

/// 城口, year 2026, with the explanation.
fn ck(obs: &[Observation]) -> UnitResult {
    run(&chengkou(), Y2026, obs)
}

/// 许昌, month 2026-03, with the explanation.
fn xc(obs: &[Observation]) -> UnitResult {
    run(&xuchang(), MARCH, obs)
}

fn line(res: &UnitResult, code: &str) -> IndicatorExplanation {
    res.explanation
        .as_ref()
        .expect("explained")
        .indicators
        .iter()
        .find(|i| i.code == code)
        .unwrap_or_else(|| panic!("no indicator {code}"))
        .clone()
}

fn rule_line(res: &UnitResult, indicator: &str, rule: &str) -> RuleExplanation {
    line(res, indicator).rules.into_iter().find(|l| l.rule == rule).unwrap_or_else(|| panic!("no rule line {rule}"))
}

fn section_score(res: &UnitResult, code: &str) -> kaohe_engine::explain::SectionResult {
    res.score.sections.iter().find(|s| s.code == code).unwrap_or_else(|| panic!("no section {code}")).clone()
}

fn refused(r: &Rubric, period: Period, obs: &[Observation]) -> ScoreError {
    score_unit(r, period, "被考核单位", obs, true).expect_err("should be refused")
}

/// A by-level observation with a count.
fn lv(o: &mut Obs, rule: &str, level: &str, n: i64) -> Observation {
    o.make(rule, Facts { level: Some(level.into()), count: Some(n), ..Facts::default() })
}

fn flag_false(o: &mut Obs, rule: &str) -> Observation {
    o.make(rule, Facts { flag: Some(false), ..Facts::default() })
}

fn award(o: &mut Obs, level: &str, grade: Option<Grade>, special: bool, team_rank: Option<i64>) -> Observation {
    o.make(
        "8.1-1",
        Facts { level: Some(level.into()), grade, special_prize_awarded: special, team_rank, ..Facts::default() },
    )
}

/// 党建 20 and every 满意度 component at 100%: with nothing else observed the
/// base is the full 100 (20 + 35 + 15 + 3 + 4 + 8 + 15).
fn full_base(o: &mut Obs) -> Vec<Observation> {
    vec![
        o.points("1-1", "20"),
        o.rate("7-1", "leaders", "100"),
        o.rate("7-1", "groups", "100"),
        o.rate("7-1", "inspector", "100"),
        o.rate("7-1", "schools", "100"),
    ]
}

fn obs_amount(l: &RuleExplanation, id: &str) -> rust_decimal::Decimal {
    l.observations.iter().find(|x| x.observation == id).unwrap_or_else(|| panic!("no observation {id}")).amount
}

// ============================================================== 城口 (annual)

#[test]
fn chengkou_per_count_ruxiao_shidao() {
    let mut o = Obs::new();
    let obs = [
        // 2.1.1-1: "未完成听课任务的，每人次扣0.5分" — 2 人次 × 0.5 = 1
        o.count("2.1.1-1", 2),
        // 2.1.1-2: "未完成扣0.2分/人" — 3 人 × 0.2 = 0.6
        o.count("2.1.1-2", 3),
        // 2.1.1-3: "每缺1个学校扣0.5分" — 1 × 0.5 = 0.5
        o.count("2.1.1-3", 1),
        // 2.1.1-4: "扣0.5分/月" — 2 月 × 0.5 = 1
        o.count("2.1.1-4", 2),
        // 2.1.1-5: "扣0.5分/季度" — 1 季度 × 0.5 = 0.5
        o.count("2.1.1-5", 1),
    ];
    // 入校视导 (12): 12 − (1 + 0.6 + 0.5 + 1 + 0.5 = 3.6) = 8.4
    let res = ck(&obs);
    let l = line(&res, "2.1.1");
    assert_eq!(l.deducted, d("3.6"));
    assert_eq!(l.score, d("8.4"));
    let r1 = rule_line(&res, "2.1.1", "2.1.1-1");
    assert_eq!(r1.kind, "per_count");
    assert_eq!(r1.amount, d("1"));
    assert_eq!(r1.observations[0].formula, "2人次 × 0.5 = 1.0");
}

#[test]
fn chengkou_per_count_lettered_rules_of_one_clause() {
    let mut o = Obs::new();
    let obs = [
        // 4.1-2.5a: "教职工发表不当言论，每人次扣0.1分" — 2 × 0.1 = 0.2
        o.count("4.1-2.5a", 2),
        // 4.1-2.5d: "违规参与校外补课，每人次扣0.1分" — 1 × 0.1 = 0.1
        o.count("4.1-2.5d", 1),
        // 4.1-2.5h: "为打牌赌博提供条件每件次扣0.5分" — 1 × 0.5 = 0.5
        o.count("4.1-2.5h", 1),
        // 4.1-1.1: "可推动落实的关爱激励事项，差1项扣0.1分" — 3 × 0.1 = 0.3
        o.count("4.1-1.1", 3),
    ];
    // 激发内生动力 (2): groups 关心关爱 0.3 + 作风建设 0.8 (no group caps) → 2 − 1.1 = 0.9
    // 教师队伍建设 (3) = 0.9 + 提升业务能力 1 = 1.9
    let res = ck(&obs);
    assert_eq!(line(&res, "4.1").score, d("0.9"));
    assert_eq!(line(&res, "4").score, d("1.9"));
    assert_eq!(section_score(&res, "4").score, d("1.9"));
}

#[test]
fn chengkou_flags() {
    let mut o = Obs::new();
    let obs = [
        // 3.1-1: "未开发全县家庭教育课程扣1分" — 1
        o.flag("3.1-1"),
        // 3.1-2: "…全覆盖全周期培训课程的扣0.5分" — 0.5
        o.flag("3.1-2"),
        // 3.1-4: "未指导社区教育学校组建家庭教育指导队伍扣1分" — the condition does not hold: 0
        flag_false(&mut o, "3.1-4"),
        // 3.1-6: "…实施点对点帮扶和指导的扣0.5分" — 0.5
        o.flag("3.1-6"),
        // 3.1-7 (per count): "未每学期向县教委提交至少1个典型案例扣5分/个" — 1 × 5 = 5
        o.count("3.1-7", 1),
    ];
    // 协同育人 (15): 15 − (1 + 0.5 + 0 + 0.5 + 5 = 7) = 8; 社区教育 = 8
    let res = ck(&obs);
    assert_eq!(line(&res, "3.1").score, d("8"));
    assert_eq!(section_score(&res, "3").score, d("8"));

    let obs = [
        // 2.1.5-1c: "出现试题泄密或命题重大失误的扣2分" — 2
        o.flag("2.1.5-1c"),
        // 2.1.5-1e: "未按时组织中高考毕业年级质量分析会扣1分" — 1
        o.flag("2.1.5-1e"),
        // 2.1.5-1b: "在考试过程中每出现一次纠错扣0.5分" — 1 × 0.5
        o.count("2.1.5-1b", 1),
        // 4.1-2.1: "凡有缺席、迟到、早退或会风不正现象之一的扣0.2分" — one fixed 0.2
        o.flag("4.1-2.1"),
    ];
    // 命题研究和质量分析 (4): 4 − 3.5 = 0.5; 激发内生动力 (2): 2 − 0.2 = 1.8
    let res = ck(&obs);
    assert_eq!(line(&res, "2.1.5").score, d("0.5"));
    assert_eq!(line(&res, "4.1").score, d("1.8"));
}

#[test]
fn chengkou_shortfall_counts() {
    let mut o = Obs::new();
    let obs = [
        // 2.1.2-1: "未按照…推动本县研训改革扣1分" — 1
        o.flag("2.1.2-1"),
        // 2.1.2-2: "未每年组织5次市县级教研活动，每缺1次扣1分" — 3 held: (5 − 3) × 1 = 2
        o.value("2.1.2-2", "3"),
        // 2.1.2-4: "每年高中阶段开展不少于4次教学教研活动，每缺1次扣0.5分" — 1 held: 3 × 0.5 = 1.5
        o.value("2.1.2-4", "1"),
        // 2.1.3-1: "全年完成5个市级及以上一等奖任务，每差1个扣0.2分" — 2 won: 3 × 0.2 = 0.6
        o.value("2.1.3-1", "2"),
        // 3.1-3: "每年至少开展2次家庭教育大讲堂的每次扣0.5分" — none held: 2 × 0.5 = 1
        o.value("3.1-3", "0"),
    ];
    let res = ck(&obs);
    // 教研工作 (10): 10 − (1 + 2 + 1.5) = 5.5
    assert_eq!(line(&res, "2.1.2").score, d("5.5"));
    // 指导参赛 (1): 1 − 0.6 = 0.4
    assert_eq!(line(&res, "2.1.3").score, d("0.4"));
    // 协同育人 (15): 15 − 1 = 14
    assert_eq!(line(&res, "3.1").score, d("14"));
    // 教研工作 (30) = 12 + 5.5 + 0.4 + 3 + 4 = 24.9
    assert_eq!(line(&res, "2.1").score, d("24.9"));

    // Above the target earns nothing back: 6 活动 vs "5次" → 0 deducted → 10.
    let res = ck(&[o.value("2.1.2-2", "6")]);
    assert_eq!(line(&res, "2.1.2").score, d("10"));
}

#[test]
fn chengkou_shortfall_percent_whole_points() {
    let mut o = Obs::new();
    let obs = [
        // 2.1.2-5: "人数不低于85%，每低1个百分点扣0.1分" — 80.5%: 4.5 below → 4 whole × 0.1 = 0.4
        o.value("2.1.2-5", "80.5"),
        // 5-1: "完成市级下达的招生任务，低一个百分点扣0.5分" — 96.5% of 100%: 3.5 → 3 × 0.5 = 1.5
        o.value("5-1", "96.5"),
        // 5-4: "毕业率达到70%，低1个百分点扣0.1分" — 67%: 3 × 0.1 = 0.3
        o.value("5-4", "67"),
        // 5-3b: "出现严重考务工作事故扣2分" — 2
        o.flag("5-3b"),
    ];
    let res = ck(&obs);
    // 教研工作 (10): 10 − 0.4 = 9.6
    assert_eq!(line(&res, "2.1.2").score, d("9.6"));
    // 电大工作 (4): 4 − (1.5 + 0.3 + 2 = 3.8) = 0.2
    assert_eq!(line(&res, "5").score, d("0.2"));
    assert_eq!(section_score(&res, "5").score, d("0.2"));
}

#[test]
fn chengkou_shortfall_per_person_several_observations() {
    let mut o = Obs::new();
    let obs = [
        // 2.1.2-3a: "每年每位教研员深入教共体…不少于7次，每缺1次扣0.1分"
        // three researchers held 7, 5, 4 → 0 + 2 × 0.1 + 3 × 0.1 = 0.5
        o.value("2.1.2-3a", "7"),
        o.value("2.1.2-3a", "5"),
        o.value("2.1.2-3a", "4"),
        // 2.1.2-3b: "每年每位教研员深入义务教育阶段学校…不少于20次，每缺1次扣0.1分"
        // the same three held 18, 20, 25 → 2 × 0.1 + 0 + 0 (25 earns no credit) = 0.2
        o.value("2.1.2-3b", "18"),
        o.value("2.1.2-3b", "20"),
        o.value("2.1.2-3b", "25"),
        // 2.2-2: "每次县级培训结束后…综合满意度低于90%的每降低1个百分点扣0.1分"
        // three trainings: 87.5 (2.5 → 2 → 0.2), 92 (0), 88.9 (1.1 → 1 → 0.1) = 0.3
        o.value("2.2-2", "87.5"),
        o.value("2.2-2", "92"),
        o.value("2.2-2", "88.9"),
    ];
    let res = ck(&obs);
    let a = rule_line(&res, "2.1.2", "2.1.2-3a");
    assert_eq!(a.observations.len(), 3);
    assert_eq!(a.amount, d("0.5"));
    assert_eq!(rule_line(&res, "2.1.2", "2.1.2-3b").amount, d("0.2"));
    // 教研工作 (10): 10 − 0.7 = 9.3
    assert_eq!(line(&res, "2.1.2").score, d("9.3"));
    // 培训工作 (5): 5 − 0.3 = 4.7
    assert_eq!(line(&res, "2.2").score, d("4.7"));
}

#[test]
fn chengkou_shortfall_baseline_lianzhaoxian() {
    let mut o = Obs::new();
    // 2.1.4-1: "中考成绩上当年重庆市联招线的人数比例与上年相比，每下降1个百分点扣0.5分"
    // last year 43.5%, this year 40%: 3.5 points down → 3 whole × 0.5 = 1.5 → 质量捆绑 3 − 1.5 = 1.5
    let drop = o.make("2.1.4-1", Facts { value: Some(d("40")), baseline: Some(d("43.5")), ..Facts::default() });
    let res = ck(&[drop]);
    assert_eq!(line(&res, "2.1.4").score, d("1.5"));
    let rl = rule_line(&res, "2.1.4", "2.1.4-1");
    assert_eq!(rl.kind, "shortfall_baseline");
    assert_eq!(rl.observations[0].formula, "上期 43.5，本期 40，下降 3 × 0.5 = 1.5");
    // A rise (45% vs 43.5%) is no 下降: nothing deducted → 3.
    let rise = o.make("2.1.4-1", Facts { value: Some(d("45")), baseline: Some(d("43.5")), ..Facts::default() });
    assert_eq!(line(&ck(&[rise]), "2.1.4").score, d("3"));
}

#[test]
fn chengkou_shortfall_with_observed_target_xushi_jindu() {
    let mut o = Obs::new();
    let node = |o: &mut Obs, target: &str, value: &str| {
        o.make("6.4-1a", Facts { target: Some(d(target)), value: Some(d(value)), ..Facts::default() })
    };
    // 6.4-1a: "支出达序时进度的不扣分，差序时进度的每差1个百分点扣0.1分"
    // 6月30日: 序时进度 50%, 支出 46.5% → 3.5 → 3 × 0.1 = 0.3
    // 9月30日: 75% vs 75% → 达序时进度 → 0
    // 12月30日: 100% vs 98% → 2 × 0.1 = 0.2
    // 6.4-1b: "非正常结转结余资金被财政收回的…每个项目扣0.1分" — 1 × 0.1
    // 财务管理 (1): 1 − (0.3 + 0 + 0.2 + 0.1) = 0.4
    let obs = [node(&mut o, "50", "46.5"), node(&mut o, "75", "75"), node(&mut o, "100", "98"), o.count("6.4-1b", 1)];
    let res = ck(&obs);
    assert_eq!(line(&res, "6.4").score, d("0.4"));
    let rl = rule_line(&res, "6.4", "6.4-1a");
    assert_eq!(rl.amount, d("0.5"));
    assert_eq!(rl.observations[0].formula, "目标 50，实际 46.5，差 3 × 0.1 = 0.3");
    // Without the 序时进度 the observation is refused, naming the rule.
    let err = refused(&chengkou(), Y2026, &[o.value("6.4-1a", "46.5")]);
    assert_eq!(err.rule, "6.4-1a");
    assert!(matches!(err.problem, Problem::MissingFact { fact: "target", .. }));
}

#[test]
fn chengkou_by_level_daoshu_rankings() {
    let mut o = Obs::new();
    // 2.1.4-2: "有科目排全市倒数第一、第二、第三，每个科目分别扣1分、0.5分、0.3分"
    // 1 subject 倒数第一 (1) + 2 subjects 倒数第二 (2 × 0.5 = 1) + 1 subject 倒数第三 (0.3) = 2.3
    // 质量捆绑 (3): 3 − 2.3 = 0.7
    let obs = [lv(&mut o, "2.1.4-2", "last1", 1), lv(&mut o, "2.1.4-2", "last2", 2), lv(&mut o, "2.1.4-2", "last3", 1)];
    let res = ck(&obs);
    assert_eq!(line(&res, "2.1.4").score, d("0.7"));
    let rl = rule_line(&res, "2.1.4", "2.1.4-2");
    assert_eq!(rl.kind, "by_level");
    assert_eq!(rl.amount, d("2.3"));
    assert_eq!(rl.observations[1].formula, "全市倒数第二 0.5 × 2 = 1.0");
}

#[test]
fn chengkou_by_level_complaints_and_petitions() {
    let mut o = Obs::new();
    // 6.1-5b: "县教委接到投诉类来电来信的，每件次扣0.5分，有3人次及以上反映同一事件的，每件次扣1分"
    // 1 single (0.5) + 1 group (1) = 1.5 → 安全监管 (2): 0.5
    let res = ck(&[lv(&mut o, "6.1-5b", "single", 1), lv(&mut o, "6.1-5b", "group", 1)]);
    assert_eq!(line(&res, "6.1").score, d("0.5"));

    // 6.1-5c: "到县教委、县政府、到市、进京上访的，每件次分别扣2分、3分、8分、10分"
    // 6.1-5d: "到县教委、县政府、到市、进京集体上访（5人以上含5人）每件次分别扣4分、6分、16分、20分"
    // One 件次 each: the deduction is the tier's points; 安全监管 (2) is 扣完为止 at 0.
    for (rule, level, pts) in [
        ("6.1-5c", "county_edu", "2"),
        ("6.1-5c", "county_gov", "3"),
        ("6.1-5c", "city", "8"),
        ("6.1-5c", "beijing", "10"),
        ("6.1-5d", "county_edu", "4"),
        ("6.1-5d", "county_gov", "6"),
        ("6.1-5d", "city", "16"),
        ("6.1-5d", "beijing", "20"),
    ] {
        let l = line(&ck(&[lv(&mut o, rule, level, 1)]), "6.1");
        assert_eq!(l.deducted, d(pts), "{rule} {level}");
        assert_eq!(l.score, d("0"), "{rule} {level}");
        assert_eq!(l.raw, d("2") - d(pts), "{rule} {level}");
    }
    // 6.1-2b: "因物防设施…造成安全事件的，每件次扣0.5分，造成伤、亡的每件次扣1分、2分"
    // one 安全事件 (0.5) + one with 伤 (1) = 1.5 → 2 − 1.5 = 0.5
    let res = ck(&[lv(&mut o, "6.1-2b", "event", 1), lv(&mut o, "6.1-2b", "injury", 1)]);
    assert_eq!(line(&res, "6.1").score, d("0.5"));
}

#[test]
fn chengkou_range_within_and_outside() {
    let mut o = Obs::new();
    // 4.1-2.4: "形成负面影响或网络舆情的，视影响大小扣0.2—1分" — chosen 0.6 → 激发内生动力 2 − 0.6 = 1.4
    let res = ck(&[o.points("4.1-2.4", "0.6")]);
    assert_eq!(line(&res, "4.1").score, d("1.4"));
    assert_eq!(rule_line(&res, "4.1", "4.1-2.4").kind, "range");
    // Both ends of "0.2—1" are allowed: 0.2 → 1.8, 1 → 1.
    assert_eq!(line(&ck(&[o.points("4.1-2.4", "0.2")]), "4.1").score, d("1.8"));
    assert_eq!(line(&ck(&[o.points("4.1-2.4", "1")]), "4.1").score, d("1"));
    // Outside "0.2—1" (0.1, 1.5) is refused, naming the rule.
    for bad in ["0.1", "1.5"] {
        let err = refused(&chengkou(), Y2026, &[o.points("4.1-2.4", bad)]);
        assert_eq!(err.rule, "4.1-2.4");
        assert!(err.to_string().contains("4.1-2.4"), "{err}");
        assert!(
            matches!(err.problem, Problem::OutOfRange { fact: "points", min, max, .. }
                if min == d("0.2") && max == d("1")),
            "{err}"
        );
    }
}

#[test]
fn chengkou_veto_shizhan_yunyong() {
    let mut o = Obs::new();
    let obs = [
        // 6.2.2-1: "未按县教委规定完成…数据上传的并被县上通报的，每条扣0.1分" — 1 × 0.1 → 0.4
        o.count("6.2.2-1", 1),
        // 6.2.2-veto: "如因未及时处置引发重大事故的此项不得分" → 实战运用 0
        o.flag("6.2.2-veto"),
    ];
    let res = ck(&obs);
    let l = line(&res, "6.2.2");
    assert_eq!(l.score, d("0"));
    assert_eq!(l.raw, d("0.4"));
    assert!(
        l.cuts.iter().any(|c| matches!(c, Cut::Veto { rule, before } if rule == "6.2.2-veto" && *before == d("0.4"))),
        "{:?}",
        l.cuts
    );
    // "此项" is 实战运用 only: 建设 keeps 0.5 → 数字重庆 0.5; 行政管理 8 − 0.5 = 7.5
    assert_eq!(line(&res, "6.2.1").score, d("0.5"));
    assert_eq!(line(&res, "6.2").score, d("0.5"));
    assert_eq!(section_score(&res, "6").score, d("7.5"));
    // The veto not holding changes nothing: 0.5 − 0.1 = 0.4.
    let res = ck(&[o.count("6.2.2-1", 1), flag_false(&mut o, "6.2.2-veto")]);
    assert_eq!(line(&res, "6.2.2").score, d("0.4"));
}

#[test]
fn chengkou_rating_manyidu() {
    let mut o = Obs::new();
    // 7-1: "县教委领导（6分）、县教委各工作组（4分）、责任督学（1分）、各中小学、幼儿园（4分）"
    // 6 × 95% = 5.7, 4 × 87.5% = 3.5, 1 × 100% = 1, 4 × 92.5% = 3.7 → 13.9
    let obs = [
        o.rate("7-1", "leaders", "95"),
        o.rate("7-1", "groups", "87.5"),
        o.rate("7-1", "inspector", "100"),
        o.rate("7-1", "schools", "92.5"),
    ];
    let res = ck(&obs);
    assert_eq!(line(&res, "7").score, d("13.9"));
    assert_eq!(section_score(&res, "7").score, d("13.9"));
    // Only the leaders rated (100%): 6; the other components give nothing.
    assert_eq!(line(&ck(&[o.rate("7-1", "leaders", "100")]), "7").score, d("6"));
    // A component rated twice is a conflict, naming the rule.
    let err = refused(&chengkou(), Y2026, &[o.rate("7-1", "leaders", "90"), o.rate("7-1", "leaders", "80")]);
    assert_eq!(err.rule, "7-1");
    assert!(matches!(err.problem, Problem::AlreadyGiven { what: "rating component", .. }), "{err}");
}

#[test]
fn chengkou_direct_dangjian() {
    let mut o = Obs::new();
    // 1-1: "按照《2026年基层党组织党建工作实绩考核细则》考核。" (20分) — 秘书科 enters 17.5
    let res = ck(&[o.points("1-1", "17.5")]);
    assert_eq!(line(&res, "1").score, d("17.5"));
    assert_eq!(section_score(&res, "1").score, d("17.5"));
    assert_eq!(line(&res, "1").department.as_deref(), Some("秘书科"));
    // Above the 20 points: refused, naming the rule.
    let err = refused(&chengkou(), Y2026, &[o.points("1-1", "20.5")]);
    assert_eq!(err.rule, "1-1");
    assert!(err.to_string().contains("1-1"), "{err}");
    assert!(matches!(err.problem, Problem::OutOfRange { fact: "points", max, .. } if max == d("20")), "{err}");
}

#[test]
fn chengkou_award_grades() {
    let mut o = Obs::new();
    // 8.1-1: "获市委、市政府…表彰奖励的分别加…2分"; "获教育部、市教委、县教委…分别加2分、1分、0.5分";
    // "获一等奖、二等奖、三等奖分别按该项计分标准加计满分、2/3、1/3分，没有确定等级的按该项标准值计分"
    let a = award(&mut o, "city_edu", Some(Grade::First), false, None); // 市教委 1 × 1 = 1
    let b = award(&mut o, "city_party", Some(Grade::Second), false, None); // 市委 2 × 2/3 = 4/3
    let c = award(&mut o, "county_edu", Some(Grade::Third), false, None); // 县教委 0.5 × 1/3 = 1/6
    let e = award(&mut o, "moe", None, false, None); // 教育部 2, no grade → 2
    let ids = [a.id.clone(), b.id.clone(), c.id.clone(), e.id.clone()];
    let res = ck(&[a, b, c, e]);
    let rl = rule_line(&res, "8.1", "8.1-1");
    assert_eq!(rl.kind, "award");
    assert_eq!(obs_amount(&rl, &ids[0]), d("1"));
    assert_eq!(obs_amount(&rl, &ids[1]), d("4") / d("3"));
    assert_eq!(obs_amount(&rl, &ids[2]), d("0.5") / d("3"));
    assert_eq!(obs_amount(&rl, &ids[3]), d("2"));
    // 1 + 4/3 + 1/6 + 2 = 4.5
    assert_eq!(kaohe_engine::num::display(res.score.bonus), d("4.50"));
}

#[test]
fn chengkou_award_special_prize_remapping() {
    let mut o = Obs::new();
    // "有特等奖、一等奖、二等奖，计算时按本细则的一等奖、二等奖、三等奖加分，原三等奖及其他奖的不加分"
    // all 市教委 (1 分):
    let s = award(&mut o, "city_edu", Some(Grade::Special), false, None); // 特等 → 一等: 1
    let f = award(&mut o, "city_edu", Some(Grade::First), true, None); // 一等 → 二等: 2/3
    let t = award(&mut o, "city_edu", Some(Grade::Second), true, None); // 二等 → 三等: 1/3
    let x = award(&mut o, "city_edu", Some(Grade::Third), true, None); // 原三等奖: 0
    let y = award(&mut o, "city_edu", Some(Grade::Other), false, None); // 其他奖: 0
    let ids: Vec<String> = [&s, &f, &t, &x, &y].iter().map(|v| v.id.clone()).collect();
    let res = ck(&[s, f, t, x, y]);
    let rl = rule_line(&res, "8.1", "8.1-1");
    assert_eq!(obs_amount(&rl, &ids[0]), d("1"));
    assert_eq!(obs_amount(&rl, &ids[1]), d("2") / d("3"));
    assert_eq!(obs_amount(&rl, &ids[2]), d("1") / d("3"));
    assert_eq!(obs_amount(&rl, &ids[3]), d("0"));
    assert_eq!(obs_amount(&rl, &ids[4]), d("0"));
    // 1 + 2/3 + 1/3 = 2
    assert_eq!(kaohe_engine::num::display(res.score.bonus), d("2.00"));
}

#[test]
fn chengkou_award_team_rank_and_halving() {
    let mut o = Obs::new();
    // "团体总分取1-8名或1-6名的，1、2名视为一等奖，3、4名视为二等奖，其余视为三等奖"
    // 县委、县政府 1 分: rank 2 → 1, rank 3 → 2/3, rank 8 → 1/3
    let r2 = award(&mut o, "county_party", None, false, Some(2));
    let r3 = award(&mut o, "county_party", None, false, Some(3));
    let r8 = award(&mut o, "county_party", None, false, Some(8));
    // "教育行政管理部门的下级单位表彰奖励的折半加分": 县教委 0.5 一等, 下级单位 → 0.25
    let mut half = award(&mut o, "county_edu", Some(Grade::First), false, None);
    half.halve = Some("下级单位".into());
    let ids: Vec<String> = [&r2, &r3, &r8, &half].iter().map(|v| v.id.clone()).collect();
    let res = ck(&[r2, r3, r8, half]);
    let rl = rule_line(&res, "8.1", "8.1-1");
    assert_eq!(obs_amount(&rl, &ids[0]), d("1"));
    assert_eq!(obs_amount(&rl, &ids[1]), d("2") / d("3"));
    assert_eq!(obs_amount(&rl, &ids[2]), d("1") / d("3"));
    assert_eq!(obs_amount(&rl, &ids[3]), d("0.25"));
    let h = rl.observations.iter().find(|x| x.observation == ids[3]).unwrap();
    assert_eq!(h.halved.as_deref(), Some("下级单位"));
    // 1 + 2/3 + 1/3 + 0.25 = 2.25
    assert_eq!(kaohe_engine::num::display(res.score.bonus), d("2.25"));
    // 8.1-1 knows only "下级单位": "参加单位" (a 现场会 reason) is refused, naming the rule.
    let mut wrong = award(&mut o, "county_edu", None, false, None);
    wrong.halve = Some("参加单位".into());
    let err = refused(&chengkou(), Y2026, &[wrong]);
    assert_eq!(err.rule, "8.1-1");
    assert!(matches!(err.problem, Problem::Unknown { what: "halving reason", .. }));
}

#[test]
fn chengkou_bracket_per_amount_and_clause_cap() {
    let mut o = Obs::new();
    // 8.1-4a: "2000万以内项目加0.4分，2000万—5000万元项目加0.6分，5000万—10000万元项目加0.8分，10000万元以上项目加1分"
    // (shared end points read as inclusive upper bounds)
    for (amt, pts) in
        [("1500", "0.4"), ("2000", "0.4"), ("2000.5", "0.6"), ("5000", "0.6"), ("10000", "0.8"), ("10000.01", "1")]
    {
        let res = ck(&[o.amount("8.1-4a", amt)]);
        assert_eq!(line(&res, "8.1").added, d(pts), "{amt}万");
    }
    // 8.1-4b: "每争取5万元的资金或者物资加0.2分" — 14万: 2 whole blocks × 0.2 = 0.4; 4.99万: 0
    assert_eq!(line(&ck(&[o.amount("8.1-4b", "14")]), "8.1").added, d("0.4"));
    assert_eq!(line(&ck(&[o.amount("8.1-4b", "4.99")]), "8.1").added, d("0"));
    // 3000万 project 0.6 + 10万 2 × 0.2 = 0.4 → exactly 1, no cut
    let l = line(&ck(&[o.amount("8.1-4a", "3000"), o.amount("8.1-4b", "10")]), "8.1");
    assert_eq!(l.added, d("1"));
    assert!(l.cuts.is_empty(), "{:?}", l.cuts);
    // "总分值不超过1分": 12000万 project (1) + 15万 (3 × 0.2 = 0.6) = 1.6 → 1
    let res = ck(&[o.amount("8.1-4a", "12000"), o.amount("8.1-4b", "15")]);
    let l = line(&res, "8.1");
    assert_eq!(l.added, d("1"));
    assert!(
        l.cuts.iter().any(|c| matches!(c,
            Cut::ClauseCap { clause, limit, before, after, .. }
                if clause == "4" && *limit == d("1") && *before == d("1.6") && *after == d("1"))),
        "{:?}",
        l.cuts
    );
    assert_eq!(res.score.bonus, d("1"));
}

#[test]
fn chengkou_innovation_clause_cap() {
    let mut o = Obs::new();
    // 8.1-5: "国家级加1分、市级加0.5分、县级0.2分。总分值不超过1分。"
    // 1 + 0.5 + 0.2 = 1.7 → 1
    let res =
        ck(&[lv(&mut o, "8.1-5", "national", 1), lv(&mut o, "8.1-5", "city", 1), lv(&mut o, "8.1-5", "county", 1)]);
    let l = line(&res, "8.1");
    assert_eq!(l.added, d("1"));
    assert!(
        l.cuts.iter().any(|c| matches!(c,
            Cut::ClauseCap { clause, before, after, .. }
                if clause == "5" && *before == d("1.7") && *after == d("1"))),
        "{:?}",
        l.cuts
    );
    // Two 市级 = 1, at the cap exactly: no cut.
    let l = line(&ck(&[lv(&mut o, "8.1-5", "city", 2)]), "8.1");
    assert_eq!(l.added, d("1"));
    assert!(l.cuts.is_empty(), "{:?}", l.cuts);
}

#[test]
fn chengkou_information_group_cap_and_highest_only() {
    let mut o = Obs::new();
    let same = |o: &mut Obs, level: &str, work: &str| {
        let mut x = lv(o, "8.1-8(1)a", level, 1);
        x.work = Some(work.into());
        x
    };
    // 8(1)a: "新闻信息、经验类信息被县教委采纳分别加0.1分、0.2分…上报县委、县政府、市教委被采用的分别加0.3分、0.5分。
    //         （如同一信息被多次采用，只计最高分）"
    // info-A adopted by 县教委 (0.1), 县委县政府 (0.3) and 市教委 (0.5) → only 0.5
    let a1 = same(&mut o, "county_edu_news", "info-A");
    let a2 = same(&mut o, "county_gov", "info-A");
    let a3 = same(&mut o, "city_edu", "info-A");
    // info-B: 经验类信息 by 县教委 → 0.2
    let b = same(&mut o, "county_edu_experience", "info-B");
    let winner = a3.id.clone();
    let obs = vec![
        a1,
        a2,
        a3,
        b,
        // 8(1)b: "获得领导肯定性批示的额外加0.1分" — 2 × 0.1 = 0.2
        o.count("8.1-8(1)b", 2),
        // 8(2): "高质量专报类信息被县教委、市教委采用分别加0.3分、1分" — 市教委 1
        lv(&mut o, "8.1-8(2)", "city_edu", 1),
        // 8(3): "市级、国家级主流媒体每上稿1条分别加0.1分、0.2分" — 3 国家级 0.6 + 2 市级 0.2 = 0.8
        //       "其中第3项加分最高不超过0.5分" → 0.5
        lv(&mut o, "8.1-8(3)", "national", 3),
        lv(&mut o, "8.1-8(3)", "city", 2),
    ];
    // Group 8: 0.5 + 0.2 + 0.2 + 1 + 0.5 = 2.4; "第1-3项加分总分不超过2分" → 2
    let res = ck(&obs);
    let l = line(&res, "8.1");
    assert_eq!(l.added, d("2"));
    assert!(
        l.cuts.iter().any(|c| matches!(c,
            Cut::ClauseCap { clause, before, after, .. }
                if clause == "8(3)" && *before == d("0.8") && *after == d("0.5"))),
        "{:?}",
        l.cuts
    );
    assert!(
        l.cuts.iter().any(|c| matches!(c,
            Cut::GroupCap { group, limit, before, after, .. }
                if group == "8" && *limit == d("2") && *before == d("2.4") && *after == d("2"))),
        "{:?}",
        l.cuts
    );
    let rl = rule_line(&res, "8.1", "8.1-8(1)a");
    assert_eq!(rl.amount, d("0.7"), "0.5 (info-A) + 0.2 (info-B)");
    let superseded: Vec<_> =
        rl.observations.iter().filter(|x| matches!(&x.counted, Counted::Superseded { by } if *by == winner)).collect();
    assert_eq!(superseded.len(), 2);
    assert!(superseded.iter().all(|x| x.amount == d("0")));
    assert_eq!(res.score.bonus, d("2"));
}

#[test]
fn chengkou_bonus_limit_six() {
    let mut o = Obs::new();
    let mut obs = full_base(&mut o);
    // 8.1-1: "党中央、国务院…表彰奖励的…加3分", no grade → 2 × 3 = 6
    obs.push(o.make("8.1-1", Facts { level: Some("central".into()), count: Some(2), ..Facts::default() }));
    // 8.1-2: "全国级1分/次" — 1; "参加单位折半加分": a 市级 as 参加单位 0.5 / 2 = 0.25
    obs.push(lv(&mut o, "8.1-2", "national", 1));
    let mut part = lv(&mut o, "8.1-2", "city", 1);
    part.halve = Some("参加单位".into());
    obs.push(part);
    // 8.1-6(2): "在国家级…竞赛获奖每人（件）次分别加2分" — 2
    obs.push(lv(&mut o, "8.1-6(2)", "national", 1));
    // 8.1-3: "代表迎检…市级0.2分/次" — 0.2
    obs.push(lv(&mut o, "8.1-3", "city", 1));
    // 6 + 1 + 0.25 + 2 + 0.2 = 9.45 → 学校加分（6分）→ 6
    let res = ck(&obs);
    let l = line(&res, "8.1");
    assert_eq!(l.added, d("6"));
    assert!(
        l.cuts.iter().any(|c| matches!(c,
            Cut::BonusLimit { limit, before, after }
                if *limit == d("6") && *before == d("9.45") && *after == d("6"))),
        "{:?}",
        l.cuts
    );
    assert_eq!(res.score.bonus, d("6"));
    assert_eq!(res.score.base, d("100"));
    // Final = 100 + 6 = 106
    assert_eq!(res.score.final_score, d("106"));
}

#[test]
fn chengkou_penalties_reach_the_total() {
    let mut o = Obs::new();
    let mut obs = full_base(&mut o);
    // 8.2-1(1): "被教育部、市教委、县教委通报的分别扣2分、1分、0.5分" — 市教委 1
    obs.push(lv(&mut o, "8.2-1(1)", "city_edu", 1));
    // "另外有个人被通报的折半扣分": 市委、市政府 2 / 2 = 1
    let mut person = lv(&mut o, "8.2-1(1)", "city_party", 1);
    person.halve = Some("个人".into());
    obs.push(person);
    // "教育行政管理部门的下级单位通报的折半扣分": 县委、县政府 1 / 2 = 0.5
    let mut sub = lv(&mut o, "8.2-1(1)", "county_party", 1);
    sub.halve = Some("下级单位".into());
    obs.push(sub);
    // 8.2-1(2): "主要责任属于本单位的，扣1分" — 1
    obs.push(lv(&mut o, "8.2-1(2)", "main", 1));
    // 8.2-2: "代表迎检发现问题的…全国级2分/次" — 2
    obs.push(lv(&mut o, "8.2-2", "national", 1));
    // 8.1-3 bonus: "代表迎检…市级0.2分/次" — 0.2
    obs.push(lv(&mut o, "8.1-3", "city", 1));
    // penalty 1 + 1 + 0.5 + 1 + 2 = 5.5; final = 100 + 0.2 − 5.5 = 94.7
    let res = ck(&obs);
    assert_eq!(res.score.penalty, d("5.5"));
    assert_eq!(res.score.bonus, d("0.2"));
    assert_eq!(res.score.base, d("100"));
    assert_eq!(res.score.final_score, d("94.7"));
    // 加减分项 section: bonus − penalty = −5.3
    let s = section_score(&res, "8");
    assert_eq!(s.score, d("-5.3"));
    assert_eq!(s.penalty, d("5.5"));
    assert_eq!(line(&res, "8.2").deducted, d("5.5"));

    // 减分 have no printed cap: 3 × "党中央、国务院…扣3分" = 9 (more than the section's 6) → 100 − 9 = 91
    let mut obs = full_base(&mut o);
    obs.push(lv(&mut o, "8.2-1(1)", "central", 3));
    let res = ck(&obs);
    assert_eq!(res.score.penalty, d("9"));
    assert_eq!(res.score.final_score, d("91"));
}

#[test]
fn chengkou_floor_kou_wan_wei_zhi() {
    let mut o = Obs::new();
    // 6.1-5a: "县、市、国家批转的投诉类来电来信，每件次分别扣0.5分、1分、2分"
    // 1 市 + 1 国家 = 3 → 安全监管 2 − 3 = −1 → floor 0 (扣完为止)
    let res = ck(&[lv(&mut o, "6.1-5a", "city", 1), lv(&mut o, "6.1-5a", "national", 1)]);
    let l = line(&res, "6.1");
    assert_eq!(l.deducted, d("3"));
    assert_eq!(l.raw, d("-1"));
    assert_eq!(l.score, d("0"));
    assert!(
        l.cuts.iter().any(|c| matches!(c,
            Cut::Floor { before, after } if *before == d("-1") && *after == d("0"))),
        "{:?}",
        l.cuts
    );
    // The section sums the floored 0, not −1: 行政管理 = 0 + 1 + 2 + 1 + 1 + 1 = 6
    assert_eq!(section_score(&res, "6").score, d("6"));
}

#[test]
fn chengkou_section_six_and_departments() {
    let mut o = Obs::new();
    let obs = [
        // 6.1-3: "资料未按时上报或临时交办工作未落实，每次扣0.5分" — 2 × 0.5 = 1 → 安全监管 2 − 1 = 1
        o.count("6.1-3", 2),
        // 6.2.1-1: "未按时备案的单位扣0.2分" → 建设 0.5 − 0.2 = 0.3; 实战运用 0.5 → 数字重庆 0.8
        o.flag("6.2.1-1"),
        // 6.3.1-(5): "每退文1次扣0.2分" — 2 × 0.2 = 0.4 → 公文处理 1 − 0.4 = 0.6
        o.count("6.3.1-(5)", 2),
        // 6.3.2-(4)b: "迟到早退的每次扣0.1分" — 0.1 → 会务管理 0.5 − 0.1 = 0.4
        // 请示报告 0.5 → 行政效能 0.6 + 0.4 + 0.5 = 1.5
        o.count("6.3.2-(4)b", 1),
        // 6.4-2: "未按时报送的按次扣0.1分" — 0.1 → 财务管理 0.9
        o.count("6.4-2", 1),
        // 6.5-2: "未制定网络及数据安全突发事件应急预案的扣0.5分" → 资源管理 0.5
        o.flag("6.5-2"),
        // 6.6-3: "发现学校超概算实施项目，发现一次扣1分" → 规划建设 0
        o.count("6.6-3", 1),
    ];
    // 行政管理 (8) = 1 + 0.8 + 1.5 + 0.9 + 0.5 + 0 = 4.7
    let res = ck(&obs);
    assert_eq!(line(&res, "6.1").score, d("1"));
    assert_eq!(line(&res, "6.2").score, d("0.8"));
    assert_eq!(line(&res, "6.3").score, d("1.5"));
    assert_eq!(line(&res, "6.4").score, d("0.9"));
    assert_eq!(line(&res, "6.5").score, d("0.5"));
    assert_eq!(line(&res, "6.6").score, d("0"));
    let s = section_score(&res, "6");
    assert_eq!(s.score, d("4.7"));
    assert_eq!(s.weighted, d("4.7"), "城口 sections are not weighted");
    // base = 党建 0 + 35 + 15 + 3 + 4 + 4.7 + 满意度 0 = 61.7
    assert_eq!(res.score.base, d("61.7"));
    assert_eq!(res.score.final_score, d("61.7"));
    // 科室: 数字重庆 → 办公室 (建设 and 实战运用 inherit it), 资源管理 → 电教中心, 党建 → 秘书科.
    let dept = |code: &str| line(&res, code).department;
    assert_eq!(dept("6.2").as_deref(), Some("办公室"));
    assert_eq!(dept("6.2.1").as_deref(), Some("办公室"));
    assert_eq!(dept("6.2.2").as_deref(), Some("办公室"));
    assert_eq!(dept("6.5").as_deref(), Some("电教中心"));
    assert_eq!(dept("1").as_deref(), Some("秘书科"));
    assert_eq!(dept("6.1"), None);
}

// ============================================================== 许昌 (monthly)

#[test]
fn xuchang_daily_per_count_floors() {
    let mut o = Obs::new();
    let obs = [
        // 1.1-1: "逾期未报送，漏报一次扣减 1 分，扣完为止" — 6 late: 5 − 6 = −1 → 0 (not −1)
        o.count("1.1-1", 6),
        // 1.2-1: "没有按期完成的，一次扣减 2 分" — 3: 10 − 6 = 4
        o.count("1.2-1", 3),
        // 1.3-1: "没有按期整改的，一次扣减 3 分，扣完为止" — 6: 15 − 18 = −3 → 0
        o.count("1.3-1", 6),
    ];
    let res = xc(&obs);
    let l = line(&res, "1.1");
    assert_eq!(l.score, d("0"));
    assert_eq!(l.raw, d("-1"));
    assert!(l.cuts.iter().any(|c| matches!(c, Cut::Floor { before, .. } if *before == d("-1"))));
    assert_eq!(line(&res, "1.2").score, d("4"));
    assert_eq!(line(&res, "1.3").score, d("0"));
    // 日常工作 = 0 + 4 + 0 = 4; final = 4 (重点任务 not scored yet)
    assert_eq!(section_score(&res, "1").score, d("4"));
    assert_eq!(res.score.final_score, d("4"));
}

#[test]
fn xuchang_weighting_30_70() {
    let mut o = Obs::new();
    let mut obs = vec![
        // 平时考核 1 late: 5 − 1 = 4; 重点督办 1 overdue: 15 − 3 = 12; 临时交办 10 → 26 of 30
        o.count("1.1-1", 1),
        o.count("1.3-1", 1),
    ];
    // 重点任务 (direct, "根据每月实际完成情况进行评分"): 7 + 8 + 6.5 + 9 + 8.5 + 7 + 9 + 6 + 7 = 68 of 70
    for (task, p) in ["7", "8", "6.5", "9", "8.5", "7", "9", "6", "7"].iter().enumerate() {
        obs.push(o.points(&format!("2.{}-1", task + 1), p));
    }
    let res = xc(&obs);
    // "日常工作考核成绩占30%": 26 of 30 points × 30% of 100 = 26 — weighted equals score
    let daily = section_score(&res, "1");
    assert_eq!(daily.score, d("26"));
    assert_eq!(daily.weight, Some(d("30")));
    assert_eq!(daily.weighted, d("26"));
    // "重点任务考核成绩占70%": 68 of 70 × 70% of 100 = 68
    let tasks = section_score(&res, "2");
    assert_eq!(tasks.score, d("68"));
    assert_eq!(tasks.weighted, d("68"));
    assert_eq!(res.score.base, d("94"));
    assert_eq!(res.score.final_score, d("94"));
}

#[test]
fn xuchang_key_task_direct_above_max_refused() {
    let mut o = Obs::new();
    // 重点任务4 is "9 分": 9 is allowed.
    let res = xc(&[o.points("2.4-1", "9")]);
    assert_eq!(line(&res, "2.4").score, d("9"));
    assert_eq!(line(&res, "2.4").department.as_deref(), Some("发展规划科"));
    // 重点任务1 is "7 分": 7.5 is refused, naming the rule.
    let err = refused(&xuchang(), MARCH, &[o.points("2.1-1", "7.5")]);
    assert_eq!(err.rule, "2.1-1");
    assert!(err.to_string().contains("2.1-1"), "{err}");
    assert!(matches!(err.problem, Problem::OutOfRange { fact: "points", max, .. } if max == d("7")), "{err}");
    // Negative points are refused too.
    let err = refused(&xuchang(), MARCH, &[o.points("2.4-1", "-1")]);
    assert_eq!(err.rule, "2.4-1");
}

#[test]
fn xuchang_site_meeting_levels() {
    let mut o = Obs::new();
    // ①: "按市级计 1 分，省部级计 3 分，国家级计 5 分" — three different meetings: 1 + 3 + 5 = 9
    let res =
        xc(&[lv(&mut o, "3-①", "municipal", 1), lv(&mut o, "3-①", "provincial", 1), lv(&mut o, "3-①", "national", 1)]);
    assert_eq!(res.score.bonus, d("9"));
    // No bonus cap in the 办法: final = 日常工作 30 + 重点任务 0 + 9 = 39
    assert_eq!(res.score.final_score, d("39"));
    // Two 市级 meetings: 2 × 1 = 2
    assert_eq!(xc(&[lv(&mut o, "3-①", "municipal", 2)]).score.bonus, d("2"));
}

#[test]
fn xuchang_commendation_highest_only_and_criticism() {
    let mut o = Obs::new();
    let commend = |o: &mut Obs, level: &str, work: &str| {
        let mut x = lv(o, "3-②a", level, 1);
        x.work = Some(work.into());
        x
    };
    // ②a: "被市委、市政府和省级有关部门表彰奖励的每件（项）加 1 分";
    // "同一项工作获多级表彰奖励的，按最高级别加分，不重复计算":
    // work-1 by the city and the province → 1 (once); work-2 by the city → 1; bonus 2
    let c1 = commend(&mut o, "municipal", "work-1");
    let c2 = commend(&mut o, "provincial", "work-1");
    let c3 = commend(&mut o, "municipal", "work-2");
    // ②b: "相应工作被市委、市政府及以上层级单位通报批评的每件（项）扣 1 分" — 2 × 1 = 2
    let crit = o.count("3-②b", 2);
    let res = xc(&[c1, c2, c3, crit]);
    assert_eq!(res.score.bonus, d("2"));
    assert_eq!(res.score.penalty, d("2"));
    // final = 30 + 2 − 2 = 30
    assert_eq!(res.score.final_score, d("30"));
    let rl = rule_line(&res, "3", "3-②a");
    assert_eq!(rl.amount, d("2"));
    assert_eq!(rl.observations.iter().filter(|x| matches!(x.counted, Counted::Superseded { .. })).count(), 1);
    let b = rule_line(&res, "3", "3-②b");
    assert_eq!(b.amount, d("2"));
    assert_eq!(line(&res, "3").score, d("0"), "加减分项 = 2 − 2");
}

#[test]
fn xuchang_media_reports_and_exposure_tiers() {
    let mut o = Obs::new();
    let report = |o: &mut Obs, level: &str, work: &str| {
        let mut x = lv(o, "3-③a", level, 1);
        x.work = Some(work.into());
        x
    };
    let obs = [
        // ③a: "被国家级报道的每件（项）加 2 分，被省级新闻媒体、报刊、网站报道的每件（项）加 1 分"
        // story-1 national (2), story-2 provincial (1); story-1 also provincial → not counted again
        report(&mut o, "national", "story-1"),
        report(&mut o, "provincial", "story-2"),
        report(&mut o, "provincial", "story-1"),
        // ③b: "被中央及省市党委、政府及教育部的机关报刊…曝光…扣 2 分" — 2
        lv(&mut o, "3-③b", "central", 1),
        // "被省级新闻媒体曝光的每件（项）扣 1 分" — 1
        lv(&mut o, "3-③b", "provincial", 1),
        // "被市级新闻媒体曝光的每件（项）扣 0.5 分" — 2 × 0.5 = 1
        lv(&mut o, "3-③b", "municipal", 2),
    ];
    // bonus 2 + 1 = 3; penalty 2 + 1 + 1 = 4; final = 30 + 3 − 4 = 29
    let res = xc(&obs);
    assert_eq!(res.score.bonus, d("3"));
    assert_eq!(res.score.penalty, d("4"));
    assert_eq!(res.score.final_score, d("29"));
    let s = section_score(&res, "3");
    assert_eq!(s.score, d("-1"));
}

#[test]
fn xuchang_late_document_deferred_to_next_month() {
    let mut o = Obs::new();
    // 总则: "下发文件滞后的转到下月加分"
    // ②a 市级 表彰 (1) whose document is dated 2026-04-03: not counted in March.
    let mut late = lv(&mut o, "3-②a", "municipal", 1);
    late.document_date = NaiveDate::from_ymd_opt(2026, 4, 3);
    // ① 省部级 现场会 (3) documented on 2026-03-31: counted in March.
    let mut on_time = lv(&mut o, "3-①", "provincial", 1);
    on_time.document_date = NaiveDate::from_ymd_opt(2026, 3, 31);
    // March: bonus 3 only; final 30 + 3 = 33
    let res = xc(&[late.clone(), on_time]);
    assert_eq!(res.score.bonus, d("3"));
    assert_eq!(res.score.final_score, d("33"));
    assert_eq!(res.explanation.as_ref().unwrap().deferred, vec![late.id.clone()]);
    let rl = rule_line(&res, "3", "3-②a");
    assert_eq!(rl.observations[0].amount, d("0"));
    assert_eq!(rl.observations[0].counted, Counted::Deferred { to: APRIL });
    // April: the carried observation counts: bonus 1, final 30 + 1 = 31.
    let mut carried = late.clone();
    carried.carried_from = Some(MARCH);
    let res = run(&xuchang(), APRIL, &[carried]);
    assert_eq!(res.score.bonus, d("1"));
    assert_eq!(res.score.final_score, d("31"));
    let ex = res.explanation.as_ref().unwrap();
    assert!(ex.deferred.is_empty());
    let rl = rule_line(&res, "3", "3-②a");
    assert_eq!(rl.observations[0].counted, Counted::Counted);
    assert_eq!(rl.observations[0].carried_from, Some(MARCH));
}

#[test]
fn xuchang_carry_over_is_checked_and_a_document_date_needs_a_deferring_rule() {
    let mut o = Obs::new();
    let mut late = lv(&mut o, "3-②a", "municipal", 1);
    late.document_date = NaiveDate::from_ymd_opt(2026, 4, 8);
    // Where the deferred item goes: the period of its document.
    assert_eq!(kaohe_engine::deferred_to(&xuchang(), MARCH, &late), Some(APRIL));
    assert_eq!(kaohe_engine::deferred_to(&xuchang(), APRIL, &late), None);
    // Carried into April it counts; carried into March (not later than its
    // source) or with a document dated after the period, scoring refuses it.
    let mut carried = late.clone();
    carried.carried_from = Some(MARCH);
    assert!(kaohe_engine::check_unit(&xuchang(), APRIL, std::slice::from_ref(&carried)).is_ok());
    let err = refused(&xuchang(), MARCH, std::slice::from_ref(&carried));
    assert!(matches!(err.problem, Problem::NotCarried { .. }), "{err}");
    let mut too_early = carried.clone();
    too_early.document_date = NaiveDate::from_ymd_opt(2026, 5, 2);
    let err = refused(&xuchang(), APRIL, &[too_early]);
    assert!(matches!(err.problem, Problem::NotCarried { .. }), "{err}");
    assert_eq!(err.problem.field(), "documentDate");
    // 1.1-1 (平时考核, a deduction) never defers: a document date on it is refused at the door.
    let mut dated = lv(&mut o, "1.1-1", "x", 1);
    dated.facts = Facts { count: Some(1), ..Facts::default() };
    dated.document_date = NaiveDate::from_ymd_opt(2026, 3, 2);
    let err = kaohe_engine::check_observation(&xuchang(), &dated).unwrap_err();
    assert!(matches!(err.problem, Problem::NotApplicable { fact: "document_date", .. }), "{err}");
    assert_eq!(err.problem.field(), "documentDate");
}

#[test]
fn xuchang_unit_without_observations() {
    // "无此类情况的得满分": 日常工作 5 + 10 + 15 = 30; 重点任务 are direct scores, none given → 0
    let res = xc(&[]);
    assert_eq!(section_score(&res, "1").score, d("30"));
    assert_eq!(section_score(&res, "1").weighted, d("30"));
    assert_eq!(section_score(&res, "2").score, d("0"));
    assert_eq!(section_score(&res, "2").weighted, d("0"));
    assert_eq!(res.score.bonus, d("0"));
    assert_eq!(res.score.penalty, d("0"));
    assert_eq!(res.score.final_score, d("30"));
}

// ============================================================== refusals

#[test]
fn bad_observations_are_refused_naming_the_rule() {
    let mut o = Obs::new();
    let check = |r: &Rubric, period: Period, bad: Observation, valid: Observation, code: &str| {
        // A valid observation alongside does not let the bad one through.
        let err = refused(r, period, &[valid, bad]);
        assert_eq!(err.rule, code, "{err}");
        assert!(err.to_string().contains(code), "{err}");
        err.problem
    };
    let ck_r = chengkou();
    let xc_r = xuchang();
    // Negative count: "每人次扣0.5分" cannot take −1 人次.
    let p = check(&ck_r, Y2026, o.count("2.1.1-1", -1), o.count("2.1.1-3", 1), "2.1.1-1");
    assert!(matches!(p, Problem::Negative { fact: "count", .. }), "{p}");
    let p = check(&xc_r, MARCH, o.count("1.3-1", -2), o.count("1.1-1", 1), "1.3-1");
    assert!(matches!(p, Problem::Negative { fact: "count", .. }), "{p}");
    // Rate above 100 (满意度 is a percentage).
    let p = check(&ck_r, Y2026, o.rate("7-1", "schools", "100.5"), o.rate("7-1", "leaders", "90"), "7-1");
    assert!(matches!(p, Problem::OutOfRange { fact: "rate", .. }), "{p}");
    // A percentage value above 100 (专题讲座人数比例).
    let p = check(&ck_r, Y2026, o.value("2.1.2-5", "101"), o.count("2.1.1-3", 1), "2.1.2-5");
    assert!(matches!(p, Problem::OutOfRange { fact: "value", .. }), "{p}");
    // Unknown level: there is no 倒数第四; 许昌 ① has no 县级.
    let p = check(&ck_r, Y2026, lv(&mut o, "2.1.4-2", "last4", 1), lv(&mut o, "2.1.4-2", "last1", 1), "2.1.4-2");
    assert!(matches!(p, Problem::Unknown { what: "level", .. }), "{p}");
    let p = check(&xc_r, MARCH, lv(&mut o, "3-①", "county", 1), lv(&mut o, "3-①", "municipal", 1), "3-①");
    assert!(matches!(p, Problem::Unknown { what: "level", .. }), "{p}");
    // A rule code that does not exist in the version.
    let p = check(&ck_r, Y2026, o.count("9.9-1", 1), o.count("2.1.1-3", 1), "9.9-1");
    assert!(matches!(&p, Problem::UnknownRule { version } if version == "2026"), "{p}");
    let p = check(&xc_r, MARCH, o.points("2.10-1", "5"), o.points("2.1-1", "5"), "2.10-1");
    assert!(matches!(&p, Problem::UnknownRule { version } if version == "2023"), "{p}");
    // A direct score above max: 党建 20, 重点任务3 7.
    let p = check(&ck_r, Y2026, o.points("1-1", "21"), o.count("2.1.1-3", 1), "1-1");
    assert!(matches!(p, Problem::OutOfRange { fact: "points", .. }), "{p}");
    let p = check(&xc_r, MARCH, o.points("2.3-1", "8"), o.points("2.1-1", "7"), "2.3-1");
    assert!(matches!(p, Problem::OutOfRange { fact: "points", .. }), "{p}");
}
