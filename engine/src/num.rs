//! Exact decimals from human-written numbers, and display rounding.
//!
//! TOML numbers arrive as `f64`; Rust prints an `f64` as the shortest text
//! that reads back to the same float, so `0.1` becomes `"0.1"` again and is
//! parsed as the exact decimal 0.1. Strings (`"0.1"`) are accepted too.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Rounds for display only: 2 places, half away from zero (四舍五入).
pub fn display(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub(crate) fn one() -> Decimal {
    Decimal::ONE
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Raw {
    Int(i64),
    Float(f64),
    Text(String),
}

fn to_decimal(raw: Raw) -> Result<Decimal, String> {
    match raw {
        Raw::Int(i) => Ok(Decimal::from(i)),
        Raw::Float(f) if f.is_finite() => Decimal::from_str(&format!("{f}")).map_err(|e| format!("number {f}: {e}")),
        Raw::Float(f) => Err(format!("number {f} is not finite")),
        Raw::Text(s) => Decimal::from_str(s.trim()).map_err(|_| format!("`{s}` is not a number")),
    }
}

pub(crate) mod dec {
    use super::*;
    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        to_decimal(Raw::deserialize(d)?).map_err(D::Error::custom)
    }
}

pub(crate) mod opt_dec {
    use super::*;
    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(raw) => to_decimal(raw).map(Some).map_err(D::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn floats_become_the_decimals_people_typed() {
        for (f, d) in [(0.1, dec!(0.1)), (0.3, dec!(0.3)), (0.2, dec!(0.2)), (12.0, dec!(12))] {
            assert_eq!(to_decimal(Raw::Float(f)).unwrap(), d);
        }
        assert_eq!(to_decimal(Raw::Text("0.05".into())).unwrap(), dec!(0.05));
        assert!(to_decimal(Raw::Text("abc".into())).is_err());
    }

    #[test]
    fn display_rounds_half_up() {
        assert_eq!(display(dec!(88.125)), dec!(88.13));
        assert_eq!(display(dec!(88.124)), dec!(88.12));
        assert_eq!(display(dec!(-0.005)), dec!(-0.01));
    }
}
