//! Rows kept per data generation (issue 18): a department head's page read
//! the same run, rubric version and rules again for every request, each a
//! round trip, though only a write changes them and every write moves the
//! generation (a run is its organisation's own data; versions and rules are
//! shared, and move every organisation's generation).
//!
//! A row is kept under (id, the caller's organisation, the generation its
//! request read before anything ran) and used only by a request of the same
//! organisation at the same generation; visibility is checked again for
//! every request, on the kept row as on a read one. Kept no longer than
//! `written::TTL` (a change made by hand moves no generation), and only for
//! requests that do not write (`written::Generation` is absent then).

use std::time::Instant;

use async_graphql::Context;
use entity::{rubric_version, rule, score_run};
use quick_cache::sync::Cache;

use super::written::{Generation, TTL};
use crate::caller::Caller;

/// (row id, caller's organisation, generation).
type Key = (i64, Option<i64>, i64);

/// Rows kept at most, per kind.
const ROWS: usize = 10_000;

pub struct Table<T: Clone>(Cache<Key, (Instant, T)>);

impl<T: Clone> Table<T> {
    fn new() -> Self {
        Table(Cache::new(ROWS))
    }

    fn get(&self, key: &Key) -> Option<T> {
        let (at, row) = self.0.get(key)?;
        (at.elapsed() < TTL).then_some(row)
    }

    fn put(&self, key: Key, row: T) {
        self.0.insert(key, (Instant::now(), row));
    }
}

/// This instance's kept rows (schema data).
pub struct Kept {
    runs: Table<score_run::Model>,
    versions: Table<rubric_version::Model>,
    rules: Table<rule::Model>,
}

impl Default for Kept {
    fn default() -> Self {
        Kept { runs: Table::new(), versions: Table::new(), rules: Table::new() }
    }
}

/// A kind of row kept here.
pub trait Keep: Clone + Sized {
    fn table(kept: &Kept) -> &Table<Self>;
    fn id(&self) -> i64;
}

impl Keep for score_run::Model {
    fn table(kept: &Kept) -> &Table<Self> {
        &kept.runs
    }
    fn id(&self) -> i64 {
        self.id
    }
}

impl Keep for rubric_version::Model {
    fn table(kept: &Kept) -> &Table<Self> {
        &kept.versions
    }
    fn id(&self) -> i64 {
        self.id
    }
}

impl Keep for rule::Model {
    fn table(kept: &Kept) -> &Table<Self> {
        &kept.rules
    }
    fn id(&self) -> i64 {
        self.id
    }
}

/// The kept rows and the key of `id` for this request, if it may use them.
fn at<'a>(ctx: &Context<'a>, id: i64) -> Option<(&'a Kept, Key)> {
    let generation = ctx.data_opt::<Generation>()?;
    let caller = ctx.data_opt::<Caller>()?;
    Some((ctx.data_opt::<Kept>()?, (id, caller.organisation_id, generation.0)))
}

/// The row `id` kept for this request's organisation and generation.
pub fn get<T: Keep>(ctx: &Context<'_>, id: i64) -> Option<T> {
    let (kept, key) = at(ctx, id)?;
    T::table(kept).get(&key)
}

/// Keeps a row this request read.
pub fn keep<T: Keep>(ctx: &Context<'_>, row: &T) {
    if let Some((kept, key)) = at(ctx, row.id()) {
        T::table(kept).put(key, row.clone());
    }
}
