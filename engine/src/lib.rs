//! kaohe-engine: the pure scoring core of kaohe.
//!
//! Rubric text and observations in; scores, explanations and rankings out.
//! No I/O, no clock, no async: the compiler keeps it that way (see Cargo.toml).

pub mod error;
pub mod explain;
pub mod num;
pub mod observation;
pub mod period;
pub mod ranking;
pub mod rubric;
pub mod scoring;
pub mod whatif;
pub mod year;

pub use error::{Problem, ScoreError};
pub use explain::{Explanation, UnitResult, UnitTotals};
pub use observation::{Facts, Grade, Observation};
pub use period::Period;
pub use ranking::{Ranked, rank};
pub use rubric::{Rubric, RubricError, RubricErrors};
pub use scoring::{UnitObservations, check_observation, check_unit, deferred_to, given_once, score_unit, score_units};
