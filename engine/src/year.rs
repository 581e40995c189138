//! 年度视图 of a monthly regime: the 12 monthly results side by side and their
//! mean. A month with no run is missing, never zero.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::explain::UnitTotals;

/// One unit's year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearRow {
    pub unit: String,
    /// Index 0 is January; `None` where the unit has no result that month.
    pub months: [Option<Decimal>; 12],
    /// Mean of the months present (unrounded); `None` if none is.
    pub mean: Option<Decimal>,
    pub months_scored: u32,
}

/// Builds the year view from the published months: `(month 1..=12, scores)`.
/// Months out of range are ignored; a later entry for the same month wins.
pub fn year_view(months: &[(u32, &[UnitTotals])]) -> Vec<YearRow> {
    let mut rows: Vec<YearRow> = Vec::new();
    for (month, scores) in months {
        let Some(slot) = month.checked_sub(1).map(|m| m as usize).filter(|m| *m < 12) else {
            continue;
        };
        for s in scores.iter() {
            let row = match rows.iter().position(|r| r.unit == s.unit) {
                Some(i) => &mut rows[i],
                None => {
                    rows.push(YearRow { unit: s.unit.clone(), months: [None; 12], mean: None, months_scored: 0 });
                    let last = rows.len() - 1;
                    &mut rows[last]
                }
            };
            row.months[slot] = Some(s.final_score);
        }
    }
    for row in &mut rows {
        let present: Vec<Decimal> = row.months.iter().flatten().copied().collect();
        row.months_scored = present.len() as u32;
        row.mean = (!present.is_empty()).then(|| present.iter().sum::<Decimal>() / Decimal::from(present.len()));
    }
    rows
}
