//! One observation against one rule: the points it is worth, before caps.
//!
//! Amounts are magnitudes (≥ 0); the rule's effect gives the sign. Every
//! refusal names the fact at fault; the caller adds the rule and observation.

use rust_decimal::Decimal;

use crate::error::Problem;
use crate::observation::{Facts, Grade};
use crate::rubric::{Level, Measure, RuleKind};

/// The worth of one observation; `formula` is filled only when explaining.
pub(crate) struct Worth {
    pub amount: Decimal,
    pub veto: bool,
    pub formula: String,
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

fn need<T: Copy>(v: &Option<T>, kind: &'static str, fact: &'static str) -> Result<T, Problem> {
    v.ok_or(Problem::MissingFact { kind, fact })
}

fn non_negative(fact: &'static str, value: Decimal) -> Result<Decimal, Problem> {
    if value.is_sign_negative() && !value.is_zero() { Err(Problem::Negative { fact, value }) } else { Ok(value) }
}

fn count(facts: &Facts, kind: &'static str, default: Option<i64>) -> Result<Decimal, Problem> {
    let c = match (facts.count, default) {
        (Some(c), _) => c,
        (None, Some(d)) => d,
        (None, None) => {
            return Err(Problem::MissingFact { kind, fact: "count" });
        }
    };
    if c < 0 {
        return Err(Problem::Negative { fact: "count", value: Decimal::from(c) });
    }
    Ok(Decimal::from(c))
}

fn in_range(fact: &'static str, value: Decimal, min: Decimal, max: Decimal) -> Result<Decimal, Problem> {
    if value < min || value > max { Err(Problem::OutOfRange { fact, value, min, max }) } else { Ok(value) }
}

fn measured(fact: &'static str, value: Decimal, measure: Measure) -> Result<Decimal, Problem> {
    match measure {
        Measure::Percent => in_range(fact, value, Decimal::ZERO, HUNDRED),
        Measure::Count => non_negative(fact, value),
    }
}

fn level<'a>(levels: &'a [Level], facts: &Facts, kind: &'static str) -> Result<&'a Level, Problem> {
    let key = facts.level.as_deref().ok_or(Problem::MissingFact { kind, fact: "level" })?;
    levels.iter().find(|l| l.key == key).ok_or_else(|| Problem::Unknown {
        what: "level",
        given: key.to_string(),
        known: levels.iter().map(|l| format!("{} ({})", l.key, l.label)).collect::<Vec<_>>().join(", "),
    })
}

/// Whole steps of a shortfall (每低1个百分点 = per full step) unless proportional.
fn steps(deficit: Decimal, step: Decimal, proportional: bool) -> Decimal {
    if deficit <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let s = deficit / step;
    if proportional { s } else { s.floor() }
}

/// Grade fraction of an award as (numerator, denominator) and its wording.
fn award_fraction(facts: &Facts) -> Result<(i64, i64, &'static str), Problem> {
    if facts.team_rank.is_some() && facts.grade.is_some() {
        return Err(Problem::Conflict("give either `grade` or `team_rank`, not both".into()));
    }
    if let Some(rank) = facts.team_rank {
        if rank < 1 {
            return Err(Problem::OutOfRange {
                fact: "team_rank",
                value: Decimal::from(rank),
                min: Decimal::ONE,
                max: Decimal::from(i64::MAX),
            });
        }
        // 团体总分: 1、2名视为一等奖，3、4名视为二等奖，其余视为三等奖.
        return Ok(match rank {
            1 | 2 => (1, 1, "团体总分第1、2名视为一等奖 ×1"),
            3 | 4 => (2, 3, "团体总分第3、4名视为二等奖 ×2/3"),
            _ => (1, 3, "团体总分其余名次视为三等奖 ×1/3"),
        });
    }
    let special = facts.special_prize_awarded || facts.grade == Some(Grade::Special);
    Ok(match (facts.grade, special) {
        (None, _) => (1, 1, "没有确定等级，按标准值 ×1"),
        // 有特等奖时: 特等→一等, 一等→二等, 二等→三等, 原三等奖及其他奖不加分.
        (Some(Grade::Special), _) => (1, 1, "特等奖按一等奖 ×1"),
        (Some(Grade::First), true) => (2, 3, "有特等奖，一等奖按二等奖 ×2/3"),
        (Some(Grade::Second), true) => (1, 3, "有特等奖，二等奖按三等奖 ×1/3"),
        (Some(Grade::Third), true) => (0, 1, "有特等奖，原三等奖不加分 ×0"),
        (Some(Grade::First), false) => (1, 1, "一等奖 ×1"),
        (Some(Grade::Second), false) => (2, 3, "二等奖 ×2/3"),
        (Some(Grade::Third), false) => (1, 3, "三等奖 ×1/3"),
        (Some(Grade::Other), _) => (0, 1, "其他奖不加分 ×0"),
    })
}

/// Scores one observation's facts against a rule kind.
pub(crate) fn worth(kind: &RuleKind, facts: &Facts, explain: bool) -> Result<Worth, Problem> {
    let name = kind.name();
    let mut veto = false;
    let (amount, formula) = match kind {
        RuleKind::PerCount { points, unit } => {
            let n = count(facts, name, None)?;
            let a = n * points;
            (a, explain.then(|| format!("{n}{} × {points} = {a}", unit.as_deref().unwrap_or(""))))
        }
        RuleKind::Shortfall { points, target, step, proportional, measure } => {
            let actual = measured("value", need(&facts.value, name, "value")?, *measure)?;
            let target = match target {
                Some(t) => *t,
                None => measured("target", need(&facts.target, name, "target")?, *measure)?,
            };
            let s = steps(target - actual, *step, *proportional);
            let a = s * points;
            (a, explain.then(|| format!("目标 {target}，实际 {actual}，差 {s} × {points} = {a}")))
        }
        RuleKind::ShortfallBaseline { points, step, proportional, measure } => {
            let actual = measured("value", need(&facts.value, name, "value")?, *measure)?;
            let base = measured("baseline", need(&facts.baseline, name, "baseline")?, *measure)?;
            let s = steps(base - actual, *step, *proportional);
            let a = s * points;
            (a, explain.then(|| format!("上期 {base}，本期 {actual}，下降 {s} × {points} = {a}")))
        }
        RuleKind::Flag { points } => {
            let f = need(&facts.flag, name, "flag")?;
            let a = if f { *points } else { Decimal::ZERO };
            (a, explain.then(|| if f { format!("情形成立 {a}") } else { "情形不成立 0".to_string() }))
        }
        RuleKind::ByLevel { levels } => {
            let l = level(levels, facts, name)?;
            let n = count(facts, name, Some(1))?;
            let a = n * l.points;
            (a, explain.then(|| format!("{} {} × {n} = {a}", l.label, l.points)))
        }
        RuleKind::Award { levels } => {
            let l = level(levels, facts, name)?;
            let n = count(facts, name, Some(1))?;
            let (num, den, why) = award_fraction(facts)?;
            let a = l.points * Decimal::from(num) * n / Decimal::from(den);
            (a, explain.then(|| format!("{} {}，{why}，× {n} = {a}", l.label, l.points)))
        }
        RuleKind::Range { min, max } => {
            let p = in_range("points", need(&facts.points, name, "points")?, *min, *max)?;
            (p, explain.then(|| format!("酌定 {p}（{min}—{max}）")))
        }
        RuleKind::Rating { components } => {
            let key = facts.component.as_deref().ok_or(Problem::MissingFact { kind: name, fact: "component" })?;
            let c = components.iter().find(|c| c.key == key).ok_or_else(|| Problem::Unknown {
                what: "component",
                given: key.to_string(),
                known: components.iter().map(|c| format!("{} ({})", c.key, c.label)).collect::<Vec<_>>().join(", "),
            })?;
            let rate = in_range("rate", need(&facts.rate, name, "rate")?, Decimal::ZERO, HUNDRED)?;
            let a = c.weight * rate / HUNDRED;
            (a, explain.then(|| format!("{} {} × {rate}% = {a}", c.label, c.weight)))
        }
        RuleKind::Direct { max } => {
            let p = in_range("points", need(&facts.points, name, "points")?, Decimal::ZERO, *max)?;
            (p, explain.then(|| format!("评定 {p}（满分 {max}）")))
        }
        RuleKind::Bracket { brackets, unit } => {
            let amt = non_negative("amount", need(&facts.amount, name, "amount")?)?;
            let b = brackets.iter().find(|b| b.upto.is_none_or(|u| amt <= u));
            let a = if amt.is_zero() { Decimal::ZERO } else { b.map_or(Decimal::ZERO, |b| b.points) };
            (a, explain.then(|| format!("{amt}{} 档 {a}", unit.as_deref().unwrap_or(""))))
        }
        RuleKind::PerAmount { block, points, unit } => {
            let amt = non_negative("amount", need(&facts.amount, name, "amount")?)?;
            let blocks = (amt / block).floor();
            let a = blocks * points;
            let u = unit.as_deref().unwrap_or("");
            (a, explain.then(|| format!("{amt}{u} ÷ {block}{u} = {blocks} 份 × {points} = {a}")))
        }
        RuleKind::Veto => {
            veto = need(&facts.flag, name, "flag")?;
            (Decimal::ZERO, explain.then(|| if veto { "此项不得分".into() } else { "情形不成立".into() }))
        }
    };
    Ok(Worth { amount, veto, formula: formula.unwrap_or_default() })
}
