//! kaohe-engine: the pure scoring core of kaohe.
//!
//! Rubric text and observations in; scores, explanations and rankings out.
//! No I/O, no clock, no async: the compiler keeps it that way (see Cargo.toml).

pub mod num;
pub mod rubric;

pub use rubric::{Rubric, RubricError, RubricErrors};
