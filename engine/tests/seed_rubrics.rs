//! The seed rubrics in `rubrics/` load, and every clause is the seed's own text.
//!
//! Seeds: `../shared/seeds/000_2cb7dc887d1183fb.txt` (城口 教师进修校 2026,
//! rubric `chengkou-jxx-2026.toml`) and `004_51e0645b2183daf2.txt` (许昌
//! 教育强市 monthly, rubric `xuchang-jyqs-2023.toml`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

// A failed lookup here is a failed test; `expect` names what was missing.

use kaohe_engine::Rubric;
use kaohe_engine::rubric::{Effect, Measure, RuleKind};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const CHENGKOU: &str = "chengkou-jxx-2026.toml";
const XUCHANG: &str = "xuchang-jyqs-2023.toml";
const CHENGKOU_SEED: &str = "000_2cb7dc887d1183fb.txt";
const XUCHANG_SEED: &str = "004_51e0645b2183daf2.txt";

fn load(name: &str) -> Rubric {
    let path = format!("{}/../rubrics/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Rubric::from_toml(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// The shared seeds folder: `../../shared/seeds` from this crate in the main
/// checkout, further up from a `git worktree` (e.g. `/work/wt/<name>/engine`).
fn seeds_dir() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .skip(1)
        .map(|a| a.join("shared").join("seeds"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| panic!("no shared/seeds folder above {}", here.display()))
}

fn seed(name: &str) -> String {
    let path = seeds_dir().join(name).display().to_string();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!text.contains(CUT), "{path} contains the cut mark {CUT}");
    text
}

/// The text with every whitespace character removed (the seeds break lines
/// and put stray spaces inside sentences; the comparison ignores them).
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every piece of the document's own text a rubric keeps: clause texts,
/// group titles and texts, indicator notes. `(where, text)`.
fn kept_texts(r: &Rubric) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for ind in &r.indicators {
        if let Some(n) = &ind.note {
            out.push((format!("{} note", ind.code), n.clone()));
        }
        for g in &ind.groups {
            out.push((format!("{} group {} title", ind.code, g.key), g.title.clone()));
            if let Some(t) = &g.text {
                out.push((format!("{} group {} text", ind.code, g.key), t.clone()));
            }
        }
        for c in &ind.clauses {
            out.push((format!("{} clause {}", ind.code, c.no), c.text.clone()));
        }
    }
    out
}

fn clause_count(r: &Rubric) -> usize {
    r.indicators.iter().map(|i| i.clauses.len()).sum()
}

// ------------------------------------------------------------------ loading

#[test]
fn xuchang_loads() {
    let r = load(XUCHANG);
    assert_eq!(r.base_max(), rust_decimal::Decimal::ONE_HUNDRED);
    assert_eq!(r.rules.len(), 3 + 9 + 5);
}

#[test]
fn both_rubrics_load_with_100_base_points() {
    let c = load(CHENGKOU);
    assert_eq!(c.code, "chengkou-jxx");
    assert_eq!(c.version, "2026");
    assert_eq!(c.organisation, "chengkou");
    assert_eq!(c.scale, Decimal::ONE_HUNDRED);
    assert_eq!(c.base_max(), Decimal::ONE_HUNDRED);
    assert_eq!(c.bonus_cap, Some(dec!(6)));
    // 31 indicators (8 sections, 23 leaves); 131 rules over 98 clauses.
    assert_eq!(c.indicators.len(), 31);
    assert_eq!(c.rules.len(), 131);
    let x = load(XUCHANG);
    assert_eq!(x.base_max(), Decimal::ONE_HUNDRED);
}

// ------------------------------------------------------------------ verbatim

fn assert_verbatim(rubric: &str, seed_name: &str) {
    let r = load(rubric);
    let s = squash(&seed(seed_name));
    let missing: Vec<String> =
        kept_texts(&r).into_iter().filter(|(_, t)| !s.contains(&squash(t))).map(|(w, t)| format!("{w}: {t}")).collect();
    assert!(missing.is_empty(), "{rubric}: not verbatim in {seed_name}:\n{}", missing.join("\n"));
}

#[test]
fn chengkou_texts_are_verbatim() {
    assert_verbatim(CHENGKOU, CHENGKOU_SEED);
}

#[test]
fn xuchang_texts_are_verbatim() {
    // The 评分表 writes 每件（项） with full-width brackets where the 办法's
    // body writes 每件(项); clause texts follow the 评分表, and match the seed
    // as it is.
    assert_verbatim(XUCHANG, XUCHANG_SEED);
}

// ------------------------------------------------------------------ clause counts

/// Clause counts per leaf indicator of 城口, counted by hand from the seed.
const CHENGKOU_CLAUSES: &[(&str, usize)] = &[
    ("1", 1),     // 党建: the single sentence "按照《…》考核。"
    ("2.1.1", 5), // 入校视导: items 1.–5.
    ("2.1.2", 5), // 教研工作: items 1.–5.
    ("2.1.3", 1), // 指导参赛: one unnumbered sentence
    ("2.1.4", 3), // 质量捆绑: items 1.–3.
    ("2.1.5", 1), // 命题研究和质量分析: one unnumbered paragraph (5 rules)
    ("2.2", 4),   // 培训工作: items 1.–4. (1. and 2. share a line)
    ("3.1", 7),   // 协同育人: items 1.–7.
    ("4.1", 8),   // 激发内生动力: 1.关心关爱教师 1.–3., 2.加强作风建设 1.–5.
    ("4.2", 3),   // 提升业务能力: items 1.–3.
    ("5", 4),     // 电大工作: items 1.–4.
    ("6.1", 5),   // 安全监管: items 1.–5.
    ("6.2.1", 2), // 数字重庆 建设: items 1.–2.
    ("6.2.2", 6), // 实战运用: items 1.–5. + "如因未及时处置…此项不得分。"
    ("6.3.1", 5), // 公文处理: （1）–（5）
    ("6.3.2", 4), // 会务管理: （1）–（4）
    ("6.3.3", 2), // 请示报告: （1）–（2）
    ("6.4", 7),   // 财务管理: items 1.–7.
    ("6.5", 5),   // 资源管理: items 1.–5.
    ("6.6", 3),   // 规划建设: items 1.–3. (1. and 2. share a line)
    ("7", 1),     // 满意度: the single sentence
    ("8.1", 13),  // 学校加分: 1.–5., 6.(1)–(4), 7., 8.(1)–(3)
    ("8.2", 3),   // 学校减分: 1.(1)–(2), 2.
];

/// Clause counts per leaf indicator of 许昌, counted by hand from the 评分表.
const XUCHANG_CLAUSES: &[(&str, usize)] = &[
    ("1.1", 1), // 平时考核: one 考核标准 cell
    ("1.2", 1), // 临时交办: one 考核标准 cell
    ("1.3", 1), // 重点督办: one 考核标准 cell
    ("2.1", 1), // 重点任务 1
    ("2.2", 1), // 重点任务 2
    ("2.3", 1), // 重点任务 3
    ("2.4", 1), // 重点任务 4
    ("2.5", 1), // 重点任务 5
    ("2.6", 1), // 重点任务 6
    ("2.7", 1), // 重点任务 7
    ("2.8", 1), // 重点任务 8
    ("2.9", 1), // 重点任务 9
    ("3", 4),   // 加减分项目: ①②③ + the body's general provision "所有奖励加分…"
];

fn assert_clause_counts(rubric: &str, table: &[(&str, usize)], total: usize) {
    let r = load(rubric);
    let leaves: Vec<&str> = r.indicators.iter().filter(|i| i.children.is_empty()).map(|i| i.code.as_str()).collect();
    let listed: Vec<&str> = table.iter().map(|(c, _)| *c).collect();
    let mut a = leaves.clone();
    let mut b = listed.clone();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "{rubric}: leaf indicators differ from the table");
    for (code, n) in table {
        let ind = r.indicator(code).unwrap_or_else(|| panic!("{rubric}: no indicator {code}"));
        let nos: Vec<&str> = ind.clauses.iter().map(|c| c.no.as_str()).collect();
        assert_eq!(ind.clauses.len(), *n, "{rubric} {code}: clauses {nos:?}");
    }
    assert_eq!(table.iter().map(|(_, n)| n).sum::<usize>(), total);
    assert_eq!(clause_count(&r), total, "{rubric}: total clauses");
}

#[test]
fn chengkou_clause_counts() {
    assert_clause_counts(CHENGKOU, CHENGKOU_CLAUSES, 98);
}

#[test]
fn xuchang_clause_counts() {
    assert_clause_counts(XUCHANG, XUCHANG_CLAUSES, 16);
}

// ------------------------------------------------------------------ coverage

/// What is left of `part` (whitespace removed) once everything the rubric
/// accounts for is taken out, in this order:
/// 1. each clause text, group text and note, once (longest first), and each
///    must be found;
/// 2. `furniture`: table headings and cells that score nothing, each
///    justified where it is listed (longest first, everywhere);
/// 3. the rubric's title, indicator titles (with their printed points,
///    "党建（20分）"), group titles and departments, everywhere;
/// 4. an indicator's points printed in a cell of their own ("5 分").
///
/// Each removal leaves a [`CUT`] mark so that cells joined by removing the
/// whitespace stay apart.
fn residue(r: &Rubric, part: &str, furniture: &[&str]) -> String {
    let mut rest = part.to_string();
    let mut texts: Vec<(String, String)> = Vec::new();
    for ind in &r.indicators {
        if let Some(n) = &ind.note {
            texts.push((format!("{} note", ind.code), squash(n)));
        }
        for g in &ind.groups {
            if let Some(t) = &g.text {
                texts.push((format!("{} group {}", ind.code, g.key), squash(t)));
            }
        }
        for c in &ind.clauses {
            texts.push((format!("{} clause {}", ind.code, c.no), squash(&c.text)));
        }
    }
    texts.sort_by_key(|(_, t)| std::cmp::Reverse(t.chars().count()));
    for (w, t) in &texts {
        assert!(rest.contains(t.as_str()), "{}: {w} not found: {t}", r.code);
        rest = rest.replacen(t.as_str(), CUT, 1);
    }
    let mut furniture: Vec<String> = furniture.iter().map(|f| squash(f)).collect();
    furniture.sort_by_key(|f| std::cmp::Reverse(f.chars().count()));
    for f in &furniture {
        rest = rest.replace(f.as_str(), CUT);
    }
    // Titles with their printed points ("党建（20分）") first, then bare
    // titles, longest first (a title may contain a shorter title).
    let mut names: Vec<String> = vec![squash(&r.title)];
    let mut figures: Vec<String> = Vec::new();
    for ind in &r.indicators {
        let title = squash(&ind.title);
        if let Some(m) = ind.max {
            names.push(format!("{title}（{}分）", m.normalize()));
            figures.push(format!("{}分", m.normalize()));
        }
        names.push(title);
        names.extend(ind.groups.iter().map(|g| squash(&g.title)));
        names.extend(ind.department.iter().map(|d| squash(d)));
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    for n in names.iter().filter(|n| !n.is_empty()) {
        rest = rest.replace(n.as_str(), CUT);
    }
    // Point figures printed in a cell of their own ("5 分"): only right after
    // something already taken out, never inside a sentence ("全国级2分/次",
    // "（6分）") nor the tail of another number ("0.5分").
    figures.sort_by_key(|f| std::cmp::Reverse(f.chars().count()));
    for f in &figures {
        rest = remove_standalone(&rest, f);
    }
    rest
}

/// Marks where something was taken out of a seed (the seeds have no "|").
const CUT: &str = "|";

/// `text` without the occurrences of `figure` that directly follow a [`CUT`].
fn remove_standalone(text: &str, figure: &str) -> String {
    text.replace(&format!("{CUT}{figure}"), CUT)
}

/// The scoring markers found in a residue: "扣" (a deduction), "加" (a
/// bonus), "每" (a per-unit rate) and "分" (a point figure). Every scoring
/// sentence of both seeds has at least one of them, so a clause left out of
/// the rubric leaves one behind.
fn markers(rest: &str) -> Vec<char> {
    ['扣', '加', '每', '分'].into_iter().filter(|m| rest.contains(*m)).collect()
}

/// A residue is clean when it holds no scoring marker.
fn assert_clean(rubric: &str, rest: &str) {
    let bad = markers(rest);
    assert!(bad.is_empty(), "{rubric}: seed text not covered by the rubric (contains {bad:?}):\n{rest}");
}

/// Furniture of the 城口 seed.
const CHENGKOU_FURNITURE: &[&str] = &[
    // The table's header row: 指标考核细则 | 分值 | 科室.
    "指标考核细则",
    "分值",
    "科室",
    // A word-processor bookmark left in the text.
    "[bookmark: _GoBack]",
];

#[test]
fn chengkou_covers_the_whole_seed() {
    let r = load(CHENGKOU);
    let s = squash(&seed(CHENGKOU_SEED));
    let rest = residue(&r, &s, CHENGKOU_FURNITURE);
    assert_clean(CHENGKOU, &rest);
}

/// The coverage check has teeth: dropping any single scoring clause from the
/// 城口 rubric leaves a marker in the residue. The one clause without a
/// marker, 党建's "按照《…》考核。", is guarded by the clause counts instead.
#[test]
fn chengkou_coverage_catches_each_missing_clause() {
    let r = load(CHENGKOU);
    let s = squash(&seed(CHENGKOU_SEED));
    let mut unnoticed = Vec::new();
    for i in 0..r.indicators.len() {
        for c in 0..r.indicators[i].clauses.len() {
            let mut cut = r.clone();
            let gone = cut.indicators[i].clauses.remove(c);
            let rest = residue(&cut, &s, CHENGKOU_FURNITURE);
            if markers(&rest).is_empty() {
                unnoticed.push(format!("{}/{}", r.indicators[i].code, gone.no));
            }
        }
    }
    assert_eq!(unnoticed, vec!["1/1".to_string()]);
}

/// The part of the 许昌 seed the rubric covers. The 办法's body repeats the
/// table's standards with small differences; the rubric follows the 评分表,
/// which starts at the second occurrence of its title (the first is in the
/// body's 附件 line), plus the body's general provision on bonus evidence
/// (section 六, "所有奖励加分…"), kept as an informational clause.
fn xuchang_part() -> String {
    let s = squash(&seed(XUCHANG_SEED));
    let title = "建设教育强市加快推进教育优质均衡发展任务考核评分表";
    let first = s.find(title).expect("评分表 title");
    let after = first + title.len();
    let second = after + s[after..].find(title).expect("second 评分表 title");
    let start = s.find("所有奖励加分").expect("所有奖励加分");
    let end = start + s[start..].find("汇总运用。").expect("汇总运用。") + "汇总运用。".len();
    format!("{}{CUT}{}", &s[second..], &s[start..end])
}

/// Furniture of the 许昌 评分表.
const XUCHANG_FURNITURE: &[&str] = &[
    // Header row of the 评分表.
    "考核项目与权重",
    "考核内容",
    "考核标准",
    "考核分值",
    "考核对象",
    "组织实施",
    "考核时间节点",
    // 考核对象 cell.
    "各县(市、区) 市直各有关单位",
    // 组织实施 cells.
    "市委教育工作领导小组 秘书组秘书科组织实施",
    "市教育局各业务牵头科室组织实施，根据具体工作组织市直各有关单位参加",
    // 考核时间节点 cells.
    "每月考核",
    // The 考核标准 cell shared by the 9 重点任务: they are `direct` rules
    // scored by the departments, and "扣完为止" is what the engine does to
    // every base indicator (the rubric says so in a comment).
    "按照时间节点，由市教育局各业务牵头科室细化年度任务，并根据每月实际完成情况进行评分，扣完为止。",
];

#[test]
fn xuchang_covers_the_score_table() {
    let r = load(XUCHANG);
    let rest = residue(&r, &xuchang_part(), XUCHANG_FURNITURE);
    assert_clean(XUCHANG, &rest);
}

/// Dropping any scoring clause of the 许昌 rubric leaves a marker behind. The
/// nine 重点任务 (2.1–2.9) are task descriptions scored `direct`, most with
/// no marker of their own; the clause counts guard them.
#[test]
fn xuchang_coverage_catches_each_missing_clause() {
    let r = load(XUCHANG);
    let part = xuchang_part();
    let mut unnoticed = Vec::new();
    for i in 0..r.indicators.len() {
        for c in 0..r.indicators[i].clauses.len() {
            let mut cut = r.clone();
            let gone = cut.indicators[i].clauses.remove(c);
            if markers(&residue(&cut, &part, XUCHANG_FURNITURE)).is_empty() {
                unnoticed.push(format!("{}/{}", r.indicators[i].code, gone.no));
            }
        }
    }
    assert!(unnoticed.iter().all(|u| u.starts_with("2.")), "clauses whose absence goes unnoticed: {unnoticed:?}");
}

// ------------------------------------------------------------------ machine forms

#[test]
fn chengkou_machine_forms() {
    let r = load(CHENGKOU);

    // 专题讲座 rate: ≥ 85%, 0.1 per whole percentage point below.
    let rule = r.rule("2.1.2-5").expect("rule 2.1.2-5");
    assert_eq!(rule.effect, Effect::Deduct);
    match &rule.kind {
        RuleKind::Shortfall { points, target, step, proportional, measure } => {
            assert_eq!(*points, dec!(0.1));
            assert_eq!(*target, Some(dec!(85)));
            assert_eq!(*step, Decimal::ONE);
            assert!(!proportional);
            assert_eq!(*measure, Measure::Percent);
        }
        k => panic!("2.1.2-5 is {}", k.name()),
    }

    // 满意度: 县教委领导 6, 工作组 4, 责任督学 1, 中小学幼儿园 4.
    let rule = r.rule("7-1").expect("rule 7-1");
    match &rule.kind {
        RuleKind::Rating { components } => {
            let w: Vec<(&str, Decimal)> = components.iter().map(|c| (c.key.as_str(), c.weight)).collect();
            assert_eq!(
                w,
                vec![("leaders", dec!(6)), ("groups", dec!(4)), ("inspector", dec!(1)), ("schools", dec!(4)),]
            );
        }
        k => panic!("7-1 is {}", k.name()),
    }

    // 招商引资: clause cap 1, a bracket and a per-amount rule.
    let ind = r.indicator("8.1").expect("8.1");
    let clause = ind.clauses.iter().find(|c| c.no == "4").expect("8.1 clause 4");
    assert_eq!(clause.cap, Some(dec!(1)));
    let kinds: Vec<&str> = clause.rules.iter().map(|&i| r.rules[i].kind.name()).collect();
    assert_eq!(kinds, vec!["bracket", "per_amount"]);
    match &r.rule("8.1-4a").expect("8.1-4a").kind {
        RuleKind::Bracket { brackets, unit } => {
            let b: Vec<(Option<Decimal>, Decimal)> = brackets.iter().map(|b| (b.upto, b.points)).collect();
            assert_eq!(
                b,
                vec![
                    (Some(dec!(2000)), dec!(0.4)),
                    (Some(dec!(5000)), dec!(0.6)),
                    (Some(dec!(10000)), dec!(0.8)),
                    (None, dec!(1)),
                ]
            );
            assert_eq!(unit.as_deref(), Some("万元"));
        }
        k => panic!("8.1-4a is {}", k.name()),
    }
    match &r.rule("8.1-4b").expect("8.1-4b").kind {
        RuleKind::PerAmount { block, points, unit } => {
            assert_eq!((*block, *points), (dec!(5), dec!(0.2)));
            assert_eq!(unit.as_deref(), Some("万元"));
        }
        k => panic!("8.1-4b is {}", k.name()),
    }

    // 信息加分: group cap 2, item (3) capped at 0.5, item (1) highest only.
    let g = ind.groups.iter().find(|g| g.key == "8").expect("group 8");
    assert_eq!(g.cap, Some(dec!(2)));
    let c83 = ind.clauses.iter().find(|c| c.no == "8(3)").expect("8(3)");
    assert_eq!(c83.cap, Some(dec!(0.5)));
    assert!(r.rule("8.1-8(1)a").expect("8.1-8(1)a").highest_only);
    assert!(!r.rule("8.1-8(1)b").expect("8.1-8(1)b").highest_only);

    // Halving reasons.
    assert_eq!(r.rule("8.1-1").expect("8.1-1").halving, vec!["下级单位"]);
    assert_eq!(r.rule("8.1-2").expect("8.1-2").halving, vec!["参加单位"]);
    assert_eq!(r.rule("8.2-1(1)").expect("8.2-1(1)").halving, vec!["下级单位", "个人"]);

    // 实战运用 has a veto rule.
    let ind = r.indicator("6.2.2").expect("6.2.2");
    assert!(ind.rules.iter().any(|&i| matches!(r.rules[i].kind, RuleKind::Veto)), "6.2.2 has no veto rule");

    // 师德十条禁令: one labelled rule per listed behaviour.
    let ind = r.indicator("4.1").expect("4.1");
    let c25 = ind.clauses.iter().find(|c| c.no == "2.5").expect("2.5");
    assert_eq!(c25.rules.len(), 9);
    assert!(c25.rules.iter().all(|&i| r.rules[i].label.is_some()));

    // Departments: set on 党建, 数字重庆, 资源管理; inherited below.
    let dept = |code: &str| r.indicator(code).unwrap_or_else(|| panic!("no {code}")).department.clone();
    assert_eq!(dept("1").as_deref(), Some("秘书科"));
    assert_eq!(dept("6.5").as_deref(), Some("电教中心"));
    assert_eq!(dept("6.2.1").as_deref(), Some("办公室"));
    assert_eq!(dept("6.2.2").as_deref(), Some("办公室"));
    assert_eq!(dept("6.1"), None);

    // 质量捆绑's points are derived (30 − 12 − 10 − 1 − 4).
    assert_eq!(r.indicator("2.1.4").and_then(|i| i.max), Some(dec!(3)));
    // 学校减分 has no cap.
    assert_eq!(r.indicator("8.2").and_then(|i| i.max), None);
}
