//! Scalars of our own, so the schema names them for clients (not after a
//! Rust library) and says what their text is (`@specifiedBy`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date without a time zone (日期), `YYYY-MM-DD`, e.g. `2026-04-08`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date without a time zone (日期), `YYYY-MM-DD`, e.g. `2026-04-08`.
#[Scalar(name = "Date", specified_by_url = "https://scalars.graphql.org/andimarek/local-date.html")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // Exactly YYYY-MM-DD (chrono alone also takes `2026-4-8`).
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|_| s.len() == 10)
                .map(Date)
                .ok_or(())
                .map_err(|_| InputValueError::custom(format!("`{s}` is not a date (YYYY-MM-DD)"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<Date> for NaiveDate {
    fn from(d: Date) -> NaiveDate {
        d.0
    }
}

/// Descriptions of the scalars async-graphql defines (set on the schema).
pub const DECIMAL: &str = "An exact decimal number (精确小数) as a string, e.g. `\"91.40\"` or `\"-0.5\"`: \
scores are never floating point. Read it with a decimal library (JavaScript: decimal.js or big.js; \
Python: `decimal.Decimal`); inputs also take a JSON number, which is read exactly as written.";
pub const DATE_TIME: &str = "An instant (时间) as an RFC 3339 string in UTC, e.g. `2026-04-08T09:30:00Z`.";
pub const JSON: &str = "Any JSON value; where a field returns one, its description says its shape.";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_calendar_dates_only() {
        let d = Date::parse(Value::String("2026-04-08".into())).unwrap();
        assert_eq!(d.to_value(), Value::String("2026-04-08".into()));
        for bad in ["2026-4-8", "2026-02-30", "08/04/2026", "2026-04-08T00:00:00Z", ""] {
            assert!(Date::parse(Value::String(bad.into())).is_err(), "{bad}");
        }
        assert!(Date::parse(Value::Number(20260408.into())).is_err());
    }
}
