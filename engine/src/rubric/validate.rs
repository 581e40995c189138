//! Turns a rubric file into a [`Rubric`], refusing it with every problem found.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use rust_decimal::Decimal;

use super::file::{Effect, GroupFile, IndicatorFile, KindFile, Role, RubricFile, RuleFile};
use super::{
    Bracket, Clause, Component, Group, Indicator, Level, Rubric, RubricError, RubricErrors, Rule, RuleKind, Start,
};

struct Problems<'a> {
    file: &'a str,
    list: Vec<RubricError>,
}

impl Problems<'_> {
    fn add(&mut self, indicator: Option<&str>, message: impl Into<String>) {
        self.list.push(RubricError {
            file: self.file.to_string(),
            indicator: indicator.map(str::to_string),
            message: message.into(),
        });
    }
}

pub(super) fn compile(name: &str, text: &str) -> Result<Rubric, RubricErrors> {
    let mut p = Problems { file: name, list: Vec::new() };
    let file = match parse(text, &mut p) {
        Some(f) => f,
        None => return Err(RubricErrors(p.list)),
    };
    finish(file, p)
}

pub(super) fn compile_file(name: &str, file: RubricFile) -> Result<Rubric, RubricErrors> {
    finish(file, Problems { file: name, list: Vec::new() })
}

fn finish(file: RubricFile, mut p: Problems) -> Result<Rubric, RubricErrors> {
    let rubric = build(file, &mut p);
    if p.list.is_empty() {
        if let Some(r) = rubric {
            return Ok(r);
        }
        p.add(None, "rubric could not be built");
    }
    Err(RubricErrors(p.list))
}

/// Parses indicator by indicator so a format error names its indicator code.
fn parse(text: &str, p: &mut Problems) -> Option<RubricFile> {
    let mut table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            p.add(None, format!("not valid TOML: {}", e.message()));
            return None;
        }
    };
    let raw_indicators = match table.remove("indicator") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a,
        Some(_) => {
            p.add(None, "`indicator` must be an array of tables ([[indicator]])");
            return None;
        }
    };
    let header = match toml::Value::Table(table).try_into::<RubricFile>() {
        Ok(f) => Some(f.rubric),
        Err(e) => {
            p.add(None, format!("[rubric]: {}", e.message()));
            None
        }
    };
    let mut indicators = Vec::with_capacity(raw_indicators.len());
    for (i, raw) in raw_indicators.into_iter().enumerate() {
        let code = raw
            .get("code")
            .and_then(|c| c.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{} (no code)", i + 1));
        match raw.try_into::<IndicatorFile>() {
            Ok(ind) => indicators.push(ind),
            Err(e) => p.add(Some(&code), e.message().to_string()),
        }
    }
    match header {
        Some(rubric) if p.list.is_empty() => Some(RubricFile { rubric, indicators }),
        _ => None,
    }
}

fn non_negative(p: &mut Problems, code: &str, what: &str, v: Decimal) {
    if v.is_sign_negative() && !v.is_zero() {
        p.add(Some(code), format!("{what} is negative ({v})"));
    }
}

fn positive(p: &mut Problems, code: &str, what: &str, v: Decimal) {
    if v <= Decimal::ZERO {
        p.add(Some(code), format!("{what} must be greater than 0 (found {v})"));
    }
}

fn build(file: RubricFile, p: &mut Problems) -> Option<Rubric> {
    let h = file.rubric;
    positive(p, "-", "[rubric] scale", h.scale);
    if let Some(c) = h.bonus_cap {
        non_negative(p, "-", "[rubric] bonus_cap", c);
    }
    // Index codes first so parents may be referenced in any order.
    let mut index: HashMap<String, usize> = HashMap::default();
    for (i, ind) in file.indicators.iter().enumerate() {
        if ind.code.trim().is_empty() {
            p.add(None, format!("indicator #{} has an empty code", i + 1));
        } else if index.insert(ind.code.clone(), i).is_some() {
            p.add(Some(&ind.code), "duplicate indicator code");
        }
    }
    if file.indicators.is_empty() {
        p.add(None, "the rubric has no indicators");
        return None;
    }
    let parent_of: Vec<Option<usize>> = file
        .indicators
        .iter()
        .map(|ind| match &ind.parent {
            None => None,
            Some(pc) => match index.get(pc) {
                Some(&pi) => Some(pi),
                None => {
                    p.add(Some(&ind.code), format!("unknown parent `{pc}`"));
                    None
                }
            },
        })
        .collect();
    // Order parents before children; detect cycles.
    let n = file.indicators.len();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut depth = vec![usize::MAX; n];
    for start in 0..n {
        let mut chain = Vec::new();
        let mut cur = Some(start);
        while let Some(c) = cur {
            if depth[c] != usize::MAX {
                break;
            }
            if chain.contains(&c) {
                p.add(Some(&file.indicators[c].code), "indicator is its own ancestor (cycle)");
                return None;
            }
            chain.push(c);
            cur = parent_of[c];
        }
        for &c in chain.iter().rev() {
            depth[c] = parent_of[c].map_or(0, |pi| depth[pi] + 1);
            order.push(c);
        }
    }
    let new_pos: HashMap<usize, usize> = order.iter().enumerate().map(|(pos, &old)| (old, pos)).collect();

    let mut indicators: Vec<Indicator> = Vec::with_capacity(n);
    let mut rules: Vec<Rule> = Vec::new();
    let mut rule_index: HashMap<String, usize> = HashMap::default();
    let mut sections = Vec::new();
    let mut by_old = file.indicators.into_iter().map(Some).collect::<Vec<_>>();
    for &old in &order {
        let Some(f) = by_old[old].take() else {
            continue;
        };
        let pos = indicators.len();
        let parent = parent_of[old].map(|pi| new_pos[&pi]);
        let (section, inherited_role, inherited_dept) = match parent {
            None => (pos, f.role.unwrap_or_default(), None),
            Some(pi) => {
                let pa: &Indicator = &indicators[pi];
                (pa.section, pa.role, pa.department.clone())
            }
        };
        if parent.is_some() && (f.role.is_some() || f.weight.is_some()) {
            p.add(Some(&f.code), "`role` and `weight` belong on sections (indicators without a parent)");
        }
        if let Some(m) = f.max {
            non_negative(p, &f.code, "max", m);
        }
        if let Some(w) = f.weight {
            positive(p, &f.code, "weight", w);
        }
        let groups = build_groups(&f, p);
        let mut ind = Indicator {
            code: f.code.clone(),
            title: f.title.clone(),
            parent,
            children: Vec::new(),
            depth: depth[old],
            section,
            max: f.max,
            department: f.department.clone().or(inherited_dept),
            role: inherited_role,
            weight: f.weight,
            note: f.note.clone(),
            groups,
            clauses: Vec::new(),
            rules: Vec::new(),
            start: Start::Zero,
        };
        build_clauses(&f, pos, &mut ind, &mut rules, &mut rule_index, p);
        if let Some(pi) = parent {
            indicators[pi].children.push(pos);
        } else {
            sections.push(pos);
        }
        indicators.push(ind);
    }
    check_tree(&mut indicators, &rules, p);
    check_sections(&h.scale, &indicators, &sections, p);

    let indicator_index = indicators.iter().enumerate().map(|(i, ind)| (ind.code.clone(), i)).collect();
    Some(Rubric {
        code: h.code,
        title: h.title,
        version: h.version,
        organisation: h.organisation,
        regime: h.regime,
        source: h.source,
        scale: h.scale,
        bonus_cap: h.bonus_cap,
        indicators,
        rules,
        sections,
        indicator_index,
        rule_index,
    })
}

fn build_groups(f: &IndicatorFile, p: &mut Problems) -> Vec<Group> {
    let mut seen = HashSet::new();
    f.groups
        .iter()
        .map(|g: &GroupFile| {
            if !seen.insert(g.key.clone()) {
                p.add(Some(&f.code), format!("duplicate group key `{}`", g.key));
            }
            if let Some(c) = g.cap {
                non_negative(p, &f.code, &format!("cap of group {}", g.key), c);
            }
            Group { key: g.key.clone(), title: g.title.clone(), text: g.text.clone(), cap: g.cap }
        })
        .collect()
}

fn build_clauses(
    f: &IndicatorFile,
    pos: usize,
    ind: &mut Indicator,
    rules: &mut Vec<Rule>,
    rule_index: &mut HashMap<String, usize>,
    p: &mut Problems,
) {
    let mut seen_no = HashSet::new();
    for (ci, c) in f.clauses.iter().enumerate() {
        if !seen_no.insert(c.no.clone()) {
            p.add(Some(&f.code), format!("duplicate clause number `{}`", c.no));
        }
        if c.text.trim().is_empty() {
            p.add(Some(&f.code), format!("clause {} has no text", c.no));
        }
        let group = match &c.group {
            None => None,
            Some(k) => {
                let g = ind.groups.iter().position(|g| &g.key == k);
                if g.is_none() {
                    p.add(Some(&f.code), format!("clause {} names unknown group `{k}`", c.no));
                }
                g
            }
        };
        if let Some(cap) = c.cap {
            non_negative(p, &f.code, &format!("cap of clause {}", c.no), cap);
        }
        match (c.rules.is_empty(), c.informational) {
            (true, false) => p.add(
                Some(&f.code),
                format!("clause {} has no rule (mark it `informational = true` if it scores nothing)", c.no),
            ),
            (false, true) => p.add(Some(&f.code), format!("clause {} is informational but has rules", c.no)),
            _ => {}
        }
        let mut clause = Clause {
            no: c.no.clone(),
            group,
            text: c.text.clone(),
            cap: c.cap,
            informational: c.informational,
            rules: Vec::new(),
        };
        for (ri, r) in c.rules.iter().enumerate() {
            let suffix = match (&r.key, c.rules.len()) {
                (Some(k), _) => k.clone(),
                (None, 1) => String::new(),
                (None, _) => letter(ri),
            };
            let code = format!("{}-{}{}", f.code, c.no, suffix);
            let Some((effect, kind)) = build_kind(r, &f.code, &code, f.max, p) else {
                continue;
            };
            for h in &r.halving {
                if h.trim().is_empty() {
                    p.add(Some(&f.code), format!("rule {code}: empty halving reason"));
                }
            }
            if let Some(cap) = r.cap {
                non_negative(p, &f.code, &format!("cap of rule {code}"), cap);
            }
            let idx = rules.len();
            if rule_index.insert(code.clone(), idx).is_some() {
                p.add(Some(&f.code), format!("duplicate rule code `{code}`"));
            }
            rules.push(Rule {
                code,
                indicator: pos,
                clause: ci,
                label: r.label.clone(),
                effect,
                kind,
                cap: r.cap,
                halving: r.halving.clone(),
                highest_only: r.highest_only,
                defer_late: r.defer_late,
            });
            clause.rules.push(idx);
            ind.rules.push(idx);
        }
        ind.clauses.push(clause);
    }
}

fn letter(i: usize) -> String {
    let mut s = String::new();
    let mut n = i;
    loop {
        s.insert(0, (b'a' + (n % 26) as u8) as char);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s
}

fn levels(p: &mut Problems, ind: &str, code: &str, raw: &[super::file::LevelFile]) -> Vec<Level> {
    if raw.is_empty() {
        p.add(Some(ind), format!("rule {code}: missing parameter `levels`"));
    }
    let mut seen = HashSet::new();
    raw.iter()
        .map(|l| {
            if !seen.insert(l.key.clone()) {
                p.add(Some(ind), format!("rule {code}: duplicate level `{}`", l.key));
            }
            non_negative(p, ind, &format!("rule {code}: points of level {}", l.key), l.points);
            Level { key: l.key.clone(), label: l.label.clone(), points: l.points }
        })
        .collect()
}

fn build_kind(
    r: &RuleFile,
    ind: &str,
    code: &str,
    ind_max: Option<Decimal>,
    p: &mut Problems,
) -> Option<(Effect, RuleKind)> {
    let pts = |p: &mut Problems, v: Decimal| non_negative(p, ind, &format!("rule {code}: points"), v);
    Some(match &r.kind {
        KindFile::PerCount { effect, points, unit } => {
            pts(p, *points);
            (*effect, RuleKind::PerCount { points: *points, unit: unit.clone() })
        }
        KindFile::Shortfall { effect, points, target, step, proportional, measure } => {
            pts(p, *points);
            positive(p, ind, &format!("rule {code}: step"), *step);
            if let Some(t) = target {
                non_negative(p, ind, &format!("rule {code}: target"), *t);
            }
            let shortfall = RuleKind::Shortfall {
                points: *points,
                target: *target,
                step: *step,
                proportional: *proportional,
                measure: *measure,
            };
            (*effect, shortfall)
        }
        KindFile::ShortfallBaseline { effect, points, step, proportional, measure } => {
            pts(p, *points);
            positive(p, ind, &format!("rule {code}: step"), *step);
            let kind = RuleKind::ShortfallBaseline {
                points: *points,
                step: *step,
                proportional: *proportional,
                measure: *measure,
            };
            (*effect, kind)
        }
        KindFile::Flag { effect, points } => {
            pts(p, *points);
            (*effect, RuleKind::Flag { points: *points })
        }
        KindFile::ByLevel { effect, levels: l } => (*effect, RuleKind::ByLevel { levels: levels(p, ind, code, l) }),
        KindFile::Award { effect, levels: l } => (*effect, RuleKind::Award { levels: levels(p, ind, code, l) }),
        KindFile::Range { effect, min, max } => {
            non_negative(p, ind, &format!("rule {code}: min"), *min);
            if min > max {
                p.add(Some(ind), format!("rule {code}: range min {min} is above max {max}"));
            }
            (*effect, RuleKind::Range { min: *min, max: *max })
        }
        KindFile::Rating { components } => {
            if components.is_empty() {
                p.add(Some(ind), format!("rule {code}: missing parameter `components`"));
            }
            let mut seen = HashSet::new();
            let comps: Vec<Component> = components
                .iter()
                .map(|c| {
                    if !seen.insert(c.key.clone()) {
                        p.add(Some(ind), format!("rule {code}: duplicate component `{}`", c.key));
                    }
                    non_negative(p, ind, &format!("rule {code}: weight of {}", c.key), c.weight);
                    Component { key: c.key.clone(), label: c.label.clone(), weight: c.weight }
                })
                .collect();
            let total: Decimal = comps.iter().map(|c| c.weight).sum();
            if let Some(m) = ind_max
                && total != m
            {
                p.add(Some(ind), format!("rule {code}: component weights sum to {total}, indicator max is {m}"));
            }
            (Effect::Add, RuleKind::Rating { components: comps })
        }
        KindFile::Direct { max } => {
            let m = match (max, ind_max) {
                (Some(m), Some(im)) if *m > im => {
                    p.add(Some(ind), format!("rule {code}: direct max {m} is above the indicator max {im}"));
                    *m
                }
                (Some(m), _) => *m,
                (None, Some(im)) => im,
                (None, None) => {
                    p.add(Some(ind), format!("rule {code}: missing parameter `max` (the indicator has none)"));
                    Decimal::ZERO
                }
            };
            non_negative(p, ind, &format!("rule {code}: max"), m);
            (Effect::Add, RuleKind::Direct { max: m })
        }
        KindFile::Bracket { effect, brackets, unit } => {
            if brackets.is_empty() {
                p.add(Some(ind), format!("rule {code}: missing parameter `brackets`"));
            }
            let mut prev: Option<Decimal> = None;
            for (i, b) in brackets.iter().enumerate() {
                pts(p, b.points);
                match (b.upto, i + 1 == brackets.len()) {
                    (None, false) => p.add(Some(ind), format!("rule {code}: only the last bracket may omit `upto`")),
                    (Some(u), _) => {
                        if prev.is_some_and(|pv| u <= pv) {
                            p.add(Some(ind), format!("rule {code}: brackets must rise (upto {u})"));
                        }
                        prev = Some(u);
                    }
                    (None, true) => {}
                }
            }
            let list = brackets.iter().map(|b| Bracket { upto: b.upto, points: b.points }).collect();
            (*effect, RuleKind::Bracket { brackets: list, unit: unit.clone() })
        }
        KindFile::PerAmount { effect, block, points, unit } => {
            pts(p, *points);
            positive(p, ind, &format!("rule {code}: block"), *block);
            (*effect, RuleKind::PerAmount { block: *block, points: *points, unit: unit.clone() })
        }
        KindFile::Veto => (Effect::Deduct, RuleKind::Veto),
    })
}

/// Tree-wide checks: leaves have rules, children sum to parents, and a base
/// indicator does not mix deductions with awarded points.
fn check_tree(indicators: &mut [Indicator], rules: &[Rule], p: &mut Problems) {
    for i in 0..indicators.len() {
        let ind = &indicators[i];
        let code = ind.code.clone();
        let has_children = !ind.children.is_empty();
        if has_children && !ind.clauses.is_empty() {
            p.add(Some(&code), "an indicator has either children or clauses, not both");
        }
        if !has_children && ind.clauses.is_empty() {
            p.add(Some(&code), "a leaf indicator needs at least one clause");
        }
        if ind.role == Role::Base && ind.max.is_none() {
            p.add(Some(&code), "missing `max` (分值)");
        }
        if has_children
            && ind.role == Role::Base
            && let Some(m) = ind.max
        {
            let kids: Vec<Option<Decimal>> = ind.children.iter().map(|&c| indicators[c].max).collect();
            if kids.iter().all(Option::is_some) {
                let sum: Decimal = kids.iter().flatten().sum();
                if sum != m {
                    p.add(Some(&code), format!("children's points sum to {sum}, not to the indicator's {m}"));
                }
            }
        }
        if ind.role == Role::Adjust
            && let (Some(m), Some(pi)) = (ind.max, ind.parent)
            && let Some(pm) = indicators[pi].max
            && m > pm
        {
            p.add(Some(&code), format!("max {m} is above the parent's {pm}"));
        }
        let adds = ind.rules.iter().any(|&r| rules[r].effect == Effect::Add);
        let deducts = ind.rules.iter().any(|&r| rules[r].effect == Effect::Deduct && rules[r].kind != RuleKind::Veto);
        if ind.role == Role::Base && adds && deducts {
            p.add(Some(&code), "a base indicator cannot mix deductions with awarded points");
        }
        let start = if ind.role == Role::Base && !adds { Start::Max } else { Start::Zero };
        indicators[i].start = start;
    }
}

fn check_sections(scale: &Decimal, indicators: &[Indicator], sections: &[usize], p: &mut Problems) {
    let base: Vec<&Indicator> = sections.iter().map(|&s| &indicators[s]).filter(|s| s.role == Role::Base).collect();
    let weighted = base.iter().filter(|s| s.weight.is_some()).count();
    if weighted > 0 && weighted < base.len() {
        p.add(None, "either every base section has a `weight` or none has");
    }
    if weighted > 0 {
        let total: Decimal = base.iter().filter_map(|s| s.weight).sum();
        if total != Decimal::ONE_HUNDRED {
            p.add(None, format!("section weights sum to {total}%, not 100%"));
        }
    } else {
        let total: Decimal = base.iter().filter_map(|s| s.max).sum();
        if &total != scale {
            p.add(None, format!("base sections sum to {total} points, the scale is {scale}"));
        }
    }
}
