//! SQL texts kept per shape: sea-query builds the same text for every
//! request of a hot path (a page, a recording's checks), and building it —
//! quoting and listing every column, cloning the nested subqueries — costs
//! more than reading its answer. A text depends only on its shape (which
//! filters are present, how long each list is, the backend); the values
//! change. So the text sea-query builds the first time is kept under the
//! shape, when the values it bound are the ones the caller lists by hand in
//! the same order, and from then on only the values are bound. Where they
//! differ (only a change of sea-query's order would do it) nothing is kept
//! and the statement is built every time, as before, with an error logged.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

use sea_orm::{DbBackend, Statement, Value};

/// Texts kept under `K`, a shape that must name the backend and everything
/// else the text depends on (two different texts never share a key).
pub struct Texts<K>(RwLock<HashMap<K, String>>);

impl<K> Default for Texts<K> {
    fn default() -> Self {
        Texts(RwLock::new(HashMap::new()))
    }
}

impl<K: Hash + Eq> Texts<K> {
    /// The statement of `shape` binding `values`: its kept text, or `build`
    /// (and its text kept when it binds exactly `values`).
    pub fn statement(
        &self,
        backend: DbBackend,
        shape: K,
        values: Vec<Value>,
        build: impl FnOnce() -> Statement,
    ) -> Statement {
        let kept = self.0.read().ok().and_then(|texts| texts.get(&shape).cloned());
        if let Some(sql) = kept {
            return Statement::from_sql_and_values(backend, sql, values);
        }
        let built = build();
        if built.values.as_ref().map_or(values.is_empty(), |v| v.0 == values) {
            if let Ok(mut texts) = self.0.write() {
                texts.insert(shape, built.sql.clone());
            }
        } else {
            tracing::error!(sql = %built.sql, "a statement's values are not bound in the order expected: its text is not kept");
        }
        built
    }

    /// Whether a text is kept for `shape`.
    #[cfg(test)]
    pub(crate) fn holds(&self, shape: &K) -> bool {
        self.0.read().is_ok_and(|texts| texts.contains_key(shape))
    }
}
