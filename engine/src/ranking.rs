//! 排名: units of one run ordered by final score; ties share a rank (1, 2, 2, 4).

use rust_decimal::Decimal;
use serde::Serialize;

use crate::num::display;

/// One unit's place in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub unit: String,
    /// Competition rank: equal scores share a rank, the next rank skips.
    pub rank: u32,
    pub final_score: Decimal,
}

/// Ranks units by final score. Scores are compared as officials read them,
/// rounded to 2 places: two units shown as 88.50 share a rank. Equal ranks are
/// listed by unit name so the order is stable.
pub fn rank<'a>(entries: impl IntoIterator<Item = (&'a str, Decimal)>) -> Vec<Ranked> {
    let mut rows: Vec<(Decimal, &str, Decimal)> = entries.into_iter().map(|(u, f)| (display(f), u, f)).collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut out = Vec::with_capacity(rows.len());
    let mut prev: Option<(Decimal, u32)> = None;
    for (i, (shown, unit, f)) in rows.into_iter().enumerate() {
        let rank = match prev {
            Some((p, r)) if p == shown => r,
            _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        prev = Some((shown, rank));
        out.push(Ranked { unit: unit.to_string(), rank, final_score: f });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        let r = rank([("a", dec!(90)), ("b", dec!(95)), ("c", dec!(90)), ("d", dec!(80))]);
        let got: Vec<(&str, u32)> = r.iter().map(|x| (x.unit.as_str(), x.rank)).collect();
        assert_eq!(got, vec![("b", 1), ("a", 2), ("c", 2), ("d", 4)]);
    }

    #[test]
    fn scores_equal_when_shown_are_tied() {
        let r = rank([("a", dec!(88.501)), ("b", dec!(88.499))]);
        assert_eq!(r[0].rank, 1);
        assert_eq!(r[1].rank, 1);
        let r = rank([("a", dec!(88.506)), ("b", dec!(88.504))]);
        assert_eq!((r[0].unit.as_str(), r[0].rank, r[1].rank), ("a", 1, 2));
    }
}
