//! [`Exact`]: a decimal that reaches the database and comes back unchanged.
//!
//! sea-orm 2 reads `rust_decimal::Decimal` from SQLite as an `f64`
//! (`TryGetable for Decimal`, sqlx-sqlite branch), and a column with NUMERIC
//! affinity turns the text `0.1` into a REAL. Neither is acceptable for scores.
//!
//! `Exact` is bound like a `Decimal` (sea-query-sqlx binds a decimal on SQLite
//! as its text, on PostgreSQL as NUMERIC) and is stored:
//! - on SQLite in a `TEXT` column (the migration picks the type per backend),
//!   read back as text and parsed;
//! - on PostgreSQL in an unconstrained `NUMERIC` column, read as a decimal.
//!
//! So 0.1, 1/3 (28 places) and 12345678.123456 read back exactly on both.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable, Value};

/// An exact decimal column value (points, caps, weights, scores).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Exact(pub Decimal);

impl Exact {
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Decimal> for Exact {
    fn from(d: Decimal) -> Self {
        Exact(d)
    }
}

impl From<Exact> for Decimal {
    fn from(e: Exact) -> Self {
        e.0
    }
}

impl From<Exact> for Value {
    fn from(e: Exact) -> Self {
        Value::Decimal(Some(e.0))
    }
}

impl Nullable for Exact {
    fn null() -> Value {
        Value::Decimal(None)
    }
}

impl ValueType for Exact {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::Decimal(Some(d)) => Ok(Exact(d)),
            Value::String(Some(s)) => Decimal::from_str(&s).map(Exact).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Exact".to_string()
    }

    fn array_type() -> ArrayType {
        ArrayType::Decimal
    }

    fn column_type() -> ColumnType {
        ColumnType::Decimal(None)
    }
}

impl TryGetable for Exact {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        // SQLite: the column is TEXT. PostgreSQL: NUMERIC does not decode as
        // text, so fall through to the native decimal.
        match String::try_get_by(res, idx) {
            Ok(text) => Decimal::from_str(text.trim()).map(Exact).map_err(|e| {
                TryGetError::DbErr(sea_orm::DbErr::Type(format!("stored decimal `{text}` does not parse: {e}")))
            }),
            Err(TryGetError::Null(s)) => Err(TryGetError::Null(s)),
            Err(TryGetError::DbErr(_)) => Decimal::try_get_by(res, idx).map(Exact),
        }
    }
}
