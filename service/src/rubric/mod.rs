//! Rubrics (考核细则) in the database: loading files, drafting and publishing
//! versions, reading versions back into the engine, and the read queries
//! behind the GraphQL surface.

pub mod draft;
pub mod load;
pub mod query;
pub mod rebuild;

/// Text of an engine enum as written in files (`snake_case`), e.g. `monthly`.
pub(crate) fn enum_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
