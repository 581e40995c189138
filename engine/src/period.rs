//! 考核周期: a year (annual regime) or a month (monthly regime).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The period a score run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    Year(i32),
    Month { year: i32, month: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a period: write a year (2026) or a month (2026-03)")]
pub struct PeriodError(pub String);

impl Period {
    pub fn month(year: i32, month: u32) -> Result<Period, PeriodError> {
        if (1..=12).contains(&month) && (1..=9999).contains(&year) {
            Ok(Period::Month { year, month })
        } else {
            Err(PeriodError(format!("{year}-{month:02}")))
        }
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Year(y) | Period::Month { year: y, .. } => y,
        }
    }

    /// The last day of the period.
    pub fn last_day(&self) -> NaiveDate {
        let (y, m) = match *self {
            Period::Year(y) => (y, 12),
            Period::Month { year, month } => (year, month),
        };
        let first_of_next =
            if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
        first_of_next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    /// The period of the same kind that contains `date`.
    pub fn containing(&self, date: NaiveDate) -> Period {
        match self {
            Period::Year(_) => Period::Year(date.year()),
            Period::Month { .. } => Period::Month { year: date.year(), month: date.month() },
        }
    }

    pub fn next(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y + 1),
            Period::Month { year, month: 12 } => Period::Month { year: year + 1, month: 1 },
            Period::Month { year, month } => Period::Month { year, month: month + 1 },
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Month { year, month } => write!(f, "{year}-{month:02}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError(s.to_string());
        match s.split_once('-') {
            None if s.len() == 4 => {
                let y: i32 = s.parse().map_err(|_| bad())?;
                if y >= 1 { Ok(Period::Year(y)) } else { Err(bad()) }
            }
            Some((y, m)) if y.len() == 4 && m.len() == 2 => {
                let y: i32 = y.parse().map_err(|_| bad())?;
                let m: u32 = m.parse().map_err(|_| bad())?;
                Period::month(y, m).map_err(|_| bad())
            }
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Period, PeriodError> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("2026".parse::<Period>().unwrap(), Period::Year(2026));
        assert_eq!("2026-03".parse::<Period>().unwrap(), Period::Month { year: 2026, month: 3 });
        assert_eq!(Period::Month { year: 2026, month: 3 }.to_string(), "2026-03");
        for bad in ["2026-13", "2026-3", "26", "abcd", "2026-00", ""] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn last_days_and_next() {
        let feb = Period::Month { year: 2028, month: 2 };
        assert_eq!(feb.last_day(), NaiveDate::from_ymd_opt(2028, 2, 29).unwrap());
        assert_eq!(Period::Month { year: 2026, month: 12 }.next(), Period::Month { year: 2027, month: 1 });
        assert_eq!(Period::Year(2026).last_day(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    }
}
