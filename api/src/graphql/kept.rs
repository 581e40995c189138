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
//!
//! The totals of lists (`totalCount`) are kept on the same terms, for lists
//! of the caller's own organisation (its generation moves with every write
//! that could change them): a page of 100 out of 1,000 units then reads its
//! 100 rows, not all 1,000 again to count them; a department head's page
//! of a unit's observations reads its rows without a count beside them.

use std::time::Instant;

use async_graphql::Context;
use entity::{rubric_version, rule, score_run};
use quick_cache::sync::Cache;

use super::written::{Generation, TTL};
use crate::caller::Caller;

/// (row id, caller's organisation, generation).
type Key = (i64, Option<i64>, i64);

/// (what was counted, caller's organisation, generation).
type CountKey = (String, Option<i64>, i64);

/// Rows kept at most, per kind.
const ROWS: usize = 10_000;

/// Values kept under `K`, each no longer than `TTL`.
pub struct Table<T: Clone, K = Key>(Cache<K, (Instant, T)>);

impl<T: Clone, K: Eq + std::hash::Hash + Clone> Table<T, K> {
    fn new() -> Self {
        Table(Cache::new(ROWS))
    }

    fn get(&self, key: &K) -> Option<T> {
        let (at, row) = self.0.get(key)?;
        (at.elapsed() < TTL).then_some(row)
    }

    fn put(&self, key: K, row: T) {
        self.0.insert(key, (Instant::now(), row));
    }
}

/// This instance's kept rows (schema data).
pub struct Kept {
    runs: Table<score_run::Model>,
    versions: Table<rubric_version::Model>,
    rules: Table<rule::Model>,
    counts: Table<u64, CountKey>,
}

impl Default for Kept {
    fn default() -> Self {
        Kept { runs: Table::new(), versions: Table::new(), rules: Table::new(), counts: Table::new() }
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

/// The kept rows, the caller's organisation and the generation, if this
/// request may use kept rows.
fn scope<'a>(ctx: &Context<'a>) -> Option<(&'a Kept, Option<i64>, i64)> {
    let generation = ctx.data_opt::<Generation>()?;
    let caller = ctx.data_opt::<Caller>()?;
    Some((ctx.data_opt::<std::sync::Arc<Kept>>()?.as_ref(), caller.organisation_id, generation.0))
}

/// The kept rows and the key of `id` for this request, if it may use them.
fn at<'a>(ctx: &Context<'a>, id: i64) -> Option<(&'a Kept, Key)> {
    let (kept, organisation, generation) = scope(ctx)?;
    Some((kept, (id, organisation, generation)))
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

/// The key of a total counted for this request, if it may use kept ones.
fn count_key<'a>(ctx: &Context<'a>, what: &str) -> Option<(&'a Kept, CountKey)> {
    let (kept, organisation, generation) = scope(ctx)?;
    Some((kept, (what.to_string(), organisation, generation)))
}

/// The total of `what` (a list of the caller's organisation and its
/// filter, spelled out) counted at this request's generation.
fn count(ctx: &Context<'_>, what: &str) -> Option<u64> {
    let (kept, key) = count_key(ctx, what)?;
    kept.counts.get(&key)
}

/// Keeps the total of `what` this request counted.
fn keep_count(ctx: &Context<'_>, what: &str, total: u64) {
    if let Some((kept, key)) = count_key(ctx, what) {
        kept.counts.put(key, total);
    }
}

/// Totals kept for a list of `organisation`'s data: only when it is the
/// caller's own (its generation moves with every write to the list).
pub struct Totals<'a, 'c> {
    ctx: &'a Context<'c>,
    own: bool,
}

impl<'a, 'c> Totals<'a, 'c> {
    pub fn of(ctx: &'a Context<'c>, organisation: i64) -> Self {
        let own = ctx.data_opt::<Caller>().is_some_and(|c| c.organisation_id == Some(organisation));
        Totals { ctx, own }
    }
}

impl kaohe_service::paging::Totals for Totals<'_, '_> {
    fn total(&self, what: &str) -> Option<u64> {
        self.own.then(|| count(self.ctx, what)).flatten()
    }

    fn counted(&self, what: &str, total: u64) {
        if self.own {
            keep_count(self.ctx, what, total);
        }
    }
}
