//! What-if: score a run with some observations added, changed or removed,
//! without saving anything ("what happens to our rank if this claim is approved").

use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Problem, ScoreError};
use crate::observation::Observation;
use crate::period::Period;
use crate::ranking::rank;
use crate::rubric::Rubric;
use crate::scoring::{UnitObservations, score_units};

/// A hypothetical change to one unit's observations.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Add {
        unit: String,
        observation: Observation,
    },
    /// Replaces the observation with the same id.
    Replace {
        unit: String,
        observation: Observation,
    },
    Remove {
        unit: String,
        observation: String,
    },
}

/// A unit's final score and rank, before and after the changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIfRow {
    pub unit: String,
    pub final_before: Decimal,
    pub rank_before: u32,
    pub final_after: Decimal,
    pub rank_after: u32,
}

/// Applies the changes to a copy of the run and scores both.
pub fn what_if(
    rubric: &Rubric,
    period: Period,
    units: &[UnitObservations],
    changes: &[Change],
) -> Result<Vec<WhatIfRow>, ScoreError> {
    let mut after = units.to_vec();
    for change in changes {
        apply(&mut after, change)?;
    }
    let before_scores = score_units(rubric, period, units)?;
    let after_scores = score_units(rubric, period, &after)?;
    let rb = rank(before_scores.iter().map(|s| (s.unit.as_str(), s.final_score)));
    let ra = rank(after_scores.iter().map(|s| (s.unit.as_str(), s.final_score)));
    let find =
        |list: &[crate::ranking::Ranked], u: &str| list.iter().find(|r| r.unit == u).map(|r| (r.final_score, r.rank));
    Ok(units
        .iter()
        .filter_map(|u| {
            let (fb, rb) = find(&rb, &u.unit)?;
            let (fa, ra) = find(&ra, &u.unit)?;
            Some(WhatIfRow { unit: u.unit.clone(), final_before: fb, rank_before: rb, final_after: fa, rank_after: ra })
        })
        .collect())
}

fn apply(units: &mut [UnitObservations], change: &Change) -> Result<(), ScoreError> {
    let (unit, id, rule) = match change {
        Change::Add { unit, observation: o } | Change::Replace { unit, observation: o } => (unit, &o.id, &o.rule),
        Change::Remove { unit, observation } => (unit, observation, &String::new()),
    };
    let err = |msg: String| ScoreError { observation: id.clone(), rule: rule.clone(), problem: Problem::Conflict(msg) };
    let u = units.iter_mut().find(|u| &u.unit == unit).ok_or_else(|| err(format!("unit {unit} is not in this run")))?;
    let pos = u.observations.iter().position(|o| &o.id == id);
    match (change, pos) {
        (Change::Add { observation, .. }, None) => u.observations.push(observation.clone()),
        (Change::Add { .. }, Some(_)) => {
            return Err(err(format!("observation {id} already exists")));
        }
        (Change::Replace { observation, .. }, Some(p)) => u.observations[p] = observation.clone(),
        (Change::Remove { .. }, Some(p)) => {
            u.observations.remove(p);
        }
        (_, None) => return Err(err(format!("observation {id} is not in unit {unit}"))),
    }
    Ok(())
}
