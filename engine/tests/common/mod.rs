//! Shared helpers for the engine's tests: loading the seed rubrics and writing
//! observations tersely.
#![allow(dead_code)]

use kaohe_engine::{Facts, Observation, Rubric};
use rust_decimal::Decimal;

pub fn rubric(name: &str) -> Rubric {
    let path = format!("{}/../rubrics/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Rubric::from_toml(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn chengkou() -> Rubric {
    rubric("chengkou-jxx-2026.toml")
}

pub fn xuchang() -> Rubric {
    rubric("xuchang-jyqs-2023.toml")
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|_| panic!("bad decimal {s}"))
}

/// An observation with an id derived from a running counter.
pub struct Obs {
    next: usize,
}

impl Obs {
    pub fn new() -> Self {
        Obs { next: 0 }
    }

    pub fn make(&mut self, rule: &str, facts: Facts) -> Observation {
        self.next += 1;
        Observation::new(format!("o{:03}", self.next), rule, facts)
    }

    pub fn count(&mut self, rule: &str, n: i64) -> Observation {
        self.make(rule, Facts { count: Some(n), ..Facts::default() })
    }

    pub fn value(&mut self, rule: &str, v: &str) -> Observation {
        self.make(rule, Facts { value: Some(d(v)), ..Facts::default() })
    }

    pub fn flag(&mut self, rule: &str) -> Observation {
        self.make(rule, Facts { flag: Some(true), ..Facts::default() })
    }

    pub fn level(&mut self, rule: &str, level: &str) -> Observation {
        self.make(rule, Facts { level: Some(level.into()), ..Facts::default() })
    }

    pub fn points(&mut self, rule: &str, p: &str) -> Observation {
        self.make(rule, Facts { points: Some(d(p)), ..Facts::default() })
    }

    pub fn rate(&mut self, rule: &str, component: &str, rate: &str) -> Observation {
        self.make(rule, Facts { component: Some(component.into()), rate: Some(d(rate)), ..Facts::default() })
    }

    pub fn amount(&mut self, rule: &str, a: &str) -> Observation {
        self.make(rule, Facts { amount: Some(d(a)), ..Facts::default() })
    }
}
