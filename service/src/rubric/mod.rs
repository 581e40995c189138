//! Rubrics (考核细则) in the database: loading files, drafting and publishing
//! versions, reading versions back into the engine, and the read queries
//! behind the GraphQL surface.

pub mod draft;
pub mod frozen;
pub mod load;
pub mod query;
pub mod rebuild;

use entity::states::IndicatorRole;
use kaohe_engine::rubric::Role;

/// How the engine's section role is stored.
pub(crate) fn stored_role(r: Role) -> IndicatorRole {
    match r {
        Role::Base => IndicatorRole::Base,
        Role::Adjust => IndicatorRole::Adjust,
    }
}

/// The engine's section role of a stored one.
pub(crate) fn engine_role(r: IndicatorRole) -> Role {
    match r {
        IndicatorRole::Base => Role::Base,
        IndicatorRole::Adjust => Role::Adjust,
    }
}

/// Text of an engine enum as written in files (`snake_case`), e.g. `monthly`.
pub(crate) fn enum_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
