//! Scores a unit's observations against a rubric version, exactly.
//!
//! Order of work, for each unit:
//! 1. each observation → its worth (rules.rs), halved if allowed, deferred if
//!    its document is dated after the period (下发文件滞后的转到下月);
//! 2. same work at several levels: only the highest counts (只计最高分);
//! 3. per rule, clause and group: sum, then cap;
//! 4. per indicator: start at max and deduct, or start at 0 and add; floor 0,
//!    ceiling max (扣完为止), veto; parents sum their children;
//! 5. sections: weight base sections; adjustments become bonus (capped) and
//!    penalty (reaching the total); final = base + bonus − penalty.
//!
//! All arithmetic is `rust_decimal`; nothing is rounded here.

mod rules;

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::error::{Problem, ScoreError};
use crate::explain::{
    Counted, Cut, Explanation, IndicatorExplanation, ObservationExplanation, RuleExplanation, SectionResult,
    UnitResult, UnitTotals,
};
use crate::observation::{Facts, Observation};
use crate::period::Period;
use crate::rubric::{Effect, Role, Rubric, RuleKind, Start};

/// One unit's observations, as a run hands them to the scorer.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitObservations {
    pub unit: String,
    pub observations: Vec<Observation>,
}

/// Scores one unit. With `explain`, the result carries the full 扣分明细.
pub fn score_unit(
    rubric: &Rubric,
    period: Period,
    unit: &str,
    observations: &[Observation],
    explain: bool,
) -> Result<UnitResult, ScoreError> {
    Scorer::new(rubric, period).unit(unit, observations, explain)
}

/// Scores every unit of a run (totals only, no explanation), in input order.
pub fn score_units(rubric: &Rubric, period: Period, units: &[UnitObservations]) -> Result<Vec<UnitTotals>, ScoreError> {
    let mut scorer = Scorer::new(rubric, period);
    units.iter().map(|u| scorer.unit(&u.unit, &u.observations, false).map(|r| r.score)).collect()
}

/// Checks an observation against the rubric without scoring a unit: the rule
/// exists and its facts are valid for the rule's kind.
pub fn check_observation(rubric: &Rubric, observation: &Observation) -> Result<(), ScoreError> {
    let err = |problem| ScoreError { observation: observation.id.clone(), rule: observation.rule.clone(), problem };
    let rule =
        rubric.rule(&observation.rule).ok_or_else(|| err(Problem::UnknownRule { version: rubric.version.clone() }))?;
    rules::worth(&rule.kind, &observation.facts, false).map_err(err)?;
    check_halving(rule, observation).map_err(err)?;
    if observation.document_date.is_some() && !rule.defer_late {
        return Err(err(Problem::NotApplicable {
            fact: "document_date",
            why: "this rule never defers (only a bonus whose document is issued late, 下发文件滞后, moves to a later period)",
        }));
    }
    Ok(())
}

/// Checks a unit's observations together as scoring would take them, without
/// scoring: each one's facts, and what only shows across observations (a
/// direct score or a rating component given twice, a carried observation that
/// does not belong in the period). What passes here never makes scoring fail.
pub fn check_unit(rubric: &Rubric, period: Period, observations: &[Observation]) -> Result<(), ScoreError> {
    Scorer::new(rubric, period).evaluate(observations, false).map(|_| ())
}

/// Whether a unit's observations of this rule are checked with each other,
/// beyond each one alone: a direct score is given once per unit, a rating
/// component once per unit. Nothing else [`check_unit`] refuses depends on
/// another observation, so observations that pass it together still pass
/// with a new one exactly when the new one passes with those of its own rule
/// that are given once: a recording reads only those, not the whole month.
pub fn given_once(rubric: &Rubric, rule_code: &str) -> bool {
    rubric.rule(rule_code).is_some_and(|r| once_per_unit(&r.kind, &Facts::default()).is_some())
}

/// What an observation of `kind` is given once per unit under: a direct
/// score once (`Some(None)`), a rating once per component; `None` for every
/// other kind (any number of them).
fn once_per_unit<'f>(kind: &RuleKind, facts: &'f Facts) -> Option<Option<&'f str>> {
    match kind {
        RuleKind::Direct { .. } => Some(None),
        RuleKind::Rating { .. } => Some(facts.component.as_deref()),
        _ => None,
    }
}

/// The period a deferred observation moves to (下发文件滞后的转到下月): the
/// period of its document's date when the rule defers late documents and the
/// date falls after `period`; `None` when it counts in `period`.
pub fn deferred_to(rubric: &Rubric, period: Period, observation: &Observation) -> Option<Period> {
    let rule = rubric.rule(&observation.rule)?;
    match observation.document_date {
        Some(d) if rule.defer_late && d > period.last_day() => Some(period.containing(d)),
        _ => None,
    }
}

fn check_halving(rule: &crate::rubric::Rule, o: &Observation) -> Result<(), Problem> {
    match &o.halve {
        Some(h) if !rule.halving.contains(h) => Err(Problem::Unknown {
            what: "halving reason",
            given: h.clone(),
            known: if rule.halving.is_empty() { "(this rule is never halved)".into() } else { rule.halving.join(", ") },
        }),
        _ => Ok(()),
    }
}

/// One evaluated observation.
struct Eval<'o> {
    obs: &'o Observation,
    rule: usize,
    amount: Decimal,
    veto: bool,
    counted: Counted,
    formula: String,
}

/// Reusable buffers, so scoring 10,000 units allocates little.
struct Scorer<'r> {
    rubric: &'r Rubric,
    period: Period,
    period_end: chrono::NaiveDate,
    rule_sum: Vec<Decimal>,
    rule_veto: Vec<bool>,
    touched: Vec<bool>,
    ind_add: Vec<Decimal>,
    ind_ded: Vec<Decimal>,
    ind_score: Vec<Decimal>,
}

impl<'r> Scorer<'r> {
    fn new(rubric: &'r Rubric, period: Period) -> Self {
        let (nr, ni) = (rubric.rules.len(), rubric.indicators.len());
        Scorer {
            rubric,
            period,
            period_end: period.last_day(),
            rule_sum: vec![Decimal::ZERO; nr],
            rule_veto: vec![false; nr],
            touched: vec![false; nr],
            ind_add: vec![Decimal::ZERO; ni],
            ind_ded: vec![Decimal::ZERO; ni],
            ind_score: vec![Decimal::ZERO; ni],
        }
    }

    fn unit(&mut self, unit: &str, observations: &[Observation], explain: bool) -> Result<UnitResult, ScoreError> {
        let mut evals = self.evaluate(observations, explain)?;
        self.highest_only(&mut evals);
        self.rule_sum.fill(Decimal::ZERO);
        self.rule_veto.fill(false);
        self.touched.fill(false);
        for e in &evals {
            self.rule_sum[e.rule] += e.amount;
            self.rule_veto[e.rule] |= e.veto;
            self.touched[e.rule] = true;
        }
        let mut lines: Vec<Option<IndicatorExplanation>> = Vec::new();
        if explain {
            lines = self.rubric.indicators.iter().map(|_| None).collect();
        }
        // Children come after parents: walk backwards so children are done first.
        for i in (0..self.rubric.indicators.len()).rev() {
            let line = self.indicator(i, explain, &evals);
            if let Some(l) = line {
                lines[i] = Some(l);
            }
        }
        let (score, cuts) = self.totals(unit);
        let explanation = explain.then(|| Explanation {
            rubric: self.rubric.code.clone(),
            version: self.rubric.version.clone(),
            period: self.period,
            unit: unit.to_string(),
            indicators: lines.into_iter().flatten().collect(),
            cuts,
            deferred: {
                let mut ids: Vec<String> = evals
                    .iter()
                    .filter(|e| matches!(e.counted, Counted::Deferred { .. }))
                    .map(|e| e.obs.id.clone())
                    .collect();
                ids.sort();
                ids
            },
        });
        Ok(UnitResult { score, explanation })
    }

    /// Step 1: worth of each observation, halving and deferral.
    fn evaluate<'o>(&self, observations: &'o [Observation], explain: bool) -> Result<Vec<Eval<'o>>, ScoreError> {
        let period_end = self.period_end;
        // Few per unit: a vector beats a hash map here.
        let mut seen_single: Vec<((usize, Option<&str>), &str)> = Vec::with_capacity(observations.len());
        let mut evals = Vec::with_capacity(observations.len());
        for o in observations {
            let err = |problem| ScoreError { observation: o.id.clone(), rule: o.rule.clone(), problem };
            let ri = self
                .rubric
                .rule_index(&o.rule)
                .ok_or_else(|| err(Problem::UnknownRule { version: self.rubric.version.clone() }))?;
            let rule = &self.rubric.rules[ri];
            let w = rules::worth(&rule.kind, &o.facts, explain).map_err(err)?;
            check_halving(rule, o).map_err(err)?;
            // A direct score, or a rating component, is given once per unit.
            let single = once_per_unit(&rule.kind, &o.facts).map(|component| (ri, component));
            if let Some(key) = single
                && let Some(&(_, first)) = seen_single.iter().find(|(k, _)| *k == key)
            {
                return Err(err(Problem::AlreadyGiven {
                    existing: first.to_string(),
                    what: if key.1.is_some() { "rating component" } else { "direct score" },
                }));
            }
            if let Some(key) = single {
                seen_single.push((key, &o.id));
            }
            let mut amount = w.amount;
            let mut formula = w.formula;
            if o.halve.is_some() {
                amount /= Decimal::TWO;
                if explain {
                    formula = format!("{formula}，{}折半 = {amount}", o.halve.as_deref().unwrap_or_default());
                }
            }
            if let Some(from) = o.carried_from {
                // Carried here from an earlier period: its document is dated in
                // (or before) this one, or it would still be deferred.
                let why = if from >= self.period {
                    Some("it comes from a period that is not earlier")
                } else if !rule.defer_late {
                    Some("the rule never defers")
                } else if o.document_date.is_none_or(|d| d > period_end) {
                    Some("its document is dated after the period")
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(err(Problem::NotCarried { period: self.period.to_string(), why }));
                }
            }
            let mut counted = Counted::Counted;
            if rule.defer_late
                && let Some(d) = o.document_date
                && d > period_end
            {
                counted = Counted::Deferred { to: self.period.containing(d) };
                amount = Decimal::ZERO;
            }
            evals.push(Eval { obs: o, rule: ri, amount, veto: w.veto, counted, formula });
        }
        Ok(evals)
    }

    /// Step 2: for rules marked highest-only, the same work (same indicator,
    /// same `work` key) counts once, at its highest worth. Ties keep the
    /// smallest observation id, so input order never matters.
    fn highest_only(&self, evals: &mut [Eval<'_>]) {
        let mut best: HashMap<(usize, &str), usize> = HashMap::new();
        for (i, e) in evals.iter().enumerate() {
            let rule = &self.rubric.rules[e.rule];
            let (true, Some(work), Counted::Counted) = (rule.highest_only, e.obs.work.as_deref(), &e.counted) else {
                continue;
            };
            let key = (rule.indicator, work);
            match best.get(&key) {
                Some(&b)
                    if (evals[b].amount, std::cmp::Reverse(&evals[b].obs.id))
                        >= (e.amount, std::cmp::Reverse(&e.obs.id)) => {}
                _ => {
                    best.insert(key, i);
                }
            }
        }
        if best.is_empty() {
            return;
        }
        let winners: HashMap<(usize, &str), (usize, String)> =
            best.into_iter().map(|(k, i)| (k, (i, evals[i].obs.id.clone()))).collect();
        for (i, e) in evals.iter_mut().enumerate() {
            let rule = &self.rubric.rules[e.rule];
            let (true, Some(work)) = (rule.highest_only, e.obs.work.as_deref()) else {
                continue;
            };
            if let Some((w, by)) = winners.get(&(rule.indicator, work))
                && *w != i
                && e.counted == Counted::Counted
            {
                e.counted = Counted::Superseded { by: by.clone() };
                e.amount = Decimal::ZERO;
            }
        }
    }

    /// Steps 3–4 for one indicator; returns its explanation line if asked.
    fn indicator(&mut self, i: usize, explain: bool, evals: &[Eval<'_>]) -> Option<IndicatorExplanation> {
        let ind = &self.rubric.indicators[i];
        let mut cuts = Vec::new();
        let (mut add, mut ded) = (Decimal::ZERO, Decimal::ZERO);
        let mut child_score = Decimal::ZERO;
        let mut veto: Option<String> = None;
        let mut rule_lines = Vec::new();
        if ind.children.is_empty() {
            // Per clause (after rule caps), then per group.
            let mut group_sums = vec![(Decimal::ZERO, Decimal::ZERO); ind.groups.len()];
            for c in &ind.clauses {
                let (mut ca, mut cd) = (Decimal::ZERO, Decimal::ZERO);
                for &r in &c.rules {
                    let rule = &self.rubric.rules[r];
                    if self.rule_veto[r] && veto.is_none() {
                        veto = Some(rule.code.clone());
                    }
                    let before = self.rule_sum[r];
                    let amount = cap(before, rule.cap);
                    if explain && amount != before {
                        let limit = rule.cap.unwrap_or_default();
                        cuts.push(Cut::RuleCap { rule: rule.code.clone(), limit, before, after: amount });
                    }
                    match rule.effect {
                        Effect::Add => ca += amount,
                        Effect::Deduct => cd += amount,
                    }
                    if explain && self.touched[r] {
                        rule_lines.push(self.rule_line(r, before, amount, evals));
                    }
                }
                for (effect, sum) in [(Effect::Add, &mut ca), (Effect::Deduct, &mut cd)] {
                    let capped = cap(*sum, c.cap);
                    if explain && capped != *sum {
                        let limit = c.cap.unwrap_or_default();
                        cuts.push(Cut::ClauseCap { clause: c.no.clone(), effect, limit, before: *sum, after: capped });
                    }
                    *sum = capped;
                }
                match c.group {
                    Some(g) => {
                        group_sums[g].0 += ca;
                        group_sums[g].1 += cd;
                    }
                    None => {
                        add += ca;
                        ded += cd;
                    }
                }
            }
            for (g, (ga, gd)) in ind.groups.iter().zip(group_sums) {
                for (effect, sum, total) in [(Effect::Add, ga, &mut add), (Effect::Deduct, gd, &mut ded)] {
                    let capped = cap(sum, g.cap);
                    if explain && capped != sum {
                        let limit = g.cap.unwrap_or_default();
                        cuts.push(Cut::GroupCap { group: g.key.clone(), effect, limit, before: sum, after: capped });
                    }
                    *total += capped;
                }
            }
        } else {
            for &c in &ind.children {
                add += self.ind_add[c];
                ded += self.ind_ded[c];
                child_score += self.ind_score[c];
            }
        }
        let (score, raw) = match ind.role {
            Role::Base => {
                let raw = match (ind.children.is_empty(), ind.start) {
                    (false, _) => child_score,
                    (true, Start::Max) => ind.max.unwrap_or_default() - ded,
                    (true, Start::Zero) => add,
                };
                let max = ind.max.unwrap_or_default();
                let mut score = raw;
                if score < Decimal::ZERO {
                    score = Decimal::ZERO;
                    if explain {
                        cuts.push(Cut::Floor { before: raw, after: score });
                    }
                } else if score > max {
                    score = max;
                    if explain {
                        cuts.push(Cut::Ceiling { limit: max, before: raw, after: score });
                    }
                }
                if let Some(rule) = veto {
                    if explain {
                        cuts.push(Cut::Veto { rule, before: score });
                    }
                    score = Decimal::ZERO;
                }
                (score, raw)
            }
            Role::Adjust => {
                let capped = cap(add, ind.max);
                if explain && capped != add {
                    cuts.push(Cut::BonusLimit { limit: ind.max.unwrap_or_default(), before: add, after: capped });
                }
                add = capped;
                (add - ded, add - ded)
            }
        };
        let (added, deducted) = (add, ded);
        self.ind_add[i] = added;
        self.ind_ded[i] = deducted;
        self.ind_score[i] = score;
        explain.then(|| IndicatorExplanation {
            code: ind.code.clone(),
            title: ind.title.clone(),
            parent: ind.parent.map(|p| self.rubric.indicators[p].code.clone()),
            depth: ind.depth,
            max: ind.max,
            department: ind.department.clone(),
            score,
            added,
            deducted,
            raw,
            cuts,
            rules: rule_lines,
        })
    }

    fn rule_line(&self, r: usize, before: Decimal, amount: Decimal, evals: &[Eval<'_>]) -> RuleExplanation {
        let rule = &self.rubric.rules[r];
        let clause = self.rubric.clause_of(rule);
        let mut observations: Vec<ObservationExplanation> = evals
            .iter()
            .filter(|e| e.rule == r)
            .map(|e| ObservationExplanation {
                observation: e.obs.id.clone(),
                formula: e.formula.clone(),
                amount: e.amount,
                halved: e.obs.halve.clone(),
                counted: e.counted.clone(),
                carried_from: e.obs.carried_from,
                evidence: e.obs.evidence.clone(),
            })
            .collect();
        observations.sort_by(|a, b| a.observation.cmp(&b.observation));
        RuleExplanation {
            rule: rule.code.clone(),
            kind: rule.kind.name(),
            effect: rule.effect,
            label: rule.label.clone(),
            clause: clause.no.clone(),
            text: clause.text.clone(),
            before_cap: before,
            amount,
            observations,
        }
    }

    /// Step 5: sections, weights, bonus cap, final.
    fn totals(&self, unit: &str) -> (UnitTotals, Vec<Cut>) {
        let r = self.rubric;
        let (mut base, mut bonus, mut penalty) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let mut sections = Vec::with_capacity(r.sections.len());
        for &s in &r.sections {
            let ind = &r.indicators[s];
            let score = self.ind_score[s];
            let (weighted, b, p) = match ind.role {
                Role::Base => {
                    let weighted = match (ind.weight, ind.max) {
                        // Multiply before dividing: exact whenever weight × scale = max.
                        (Some(w), Some(m)) if !m.is_zero() => score * w * r.scale / (m * Decimal::ONE_HUNDRED),
                        (Some(_), _) => Decimal::ZERO,
                        (None, _) => score,
                    };
                    (weighted, Decimal::ZERO, Decimal::ZERO)
                }
                Role::Adjust => (Decimal::ZERO, self.ind_add[s], self.ind_ded[s]),
            };
            base += weighted;
            bonus += b;
            penalty += p;
            sections.push(SectionResult {
                code: ind.code.clone(),
                role: ind.role,
                max: ind.max,
                score,
                weight: ind.weight,
                weighted,
                bonus: b,
                penalty: p,
            });
        }
        let bonus_before_cap = bonus;
        let mut cuts = Vec::new();
        if let Some(c) = r.bonus_cap
            && bonus > c
        {
            bonus = c;
            cuts.push(Cut::BonusCap { limit: c, before: bonus_before_cap, after: bonus });
        }
        let score = UnitTotals {
            unit: unit.to_string(),
            final_score: base + bonus - penalty,
            base,
            bonus,
            bonus_before_cap,
            penalty,
            sections,
        };
        (score, cuts)
    }
}

fn cap(value: Decimal, limit: Option<Decimal>) -> Decimal {
    match limit {
        Some(l) if value > l => l,
        _ => value,
    }
}
