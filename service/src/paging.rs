//! Pages of a list (分页): the page a client asks for, one page of rows with
//! the total, and the SQL that reads exactly that page in **one statement**
//! (`LIMIT/OFFSET` with `COUNT(*) OVER ()` beside each row), so no list is
//! loaded whole to be cut in memory and a page costs one round trip. A page
//! whose total is not wanted (`Page::counted(false)`: the client did not
//! select `totalCount`) reads one row more instead, to know whether another
//! page follows.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, QueryTrait, Select,
};

use crate::error::ServiceError;

/// The largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;

/// The largest offset a page may start at: far beyond any list, and small
/// enough that `OFFSET` and `offset + first` never overflow anywhere.
pub const MAX_OFFSET: u64 = 1 << 40;

/// A page request: `first` in 1..=100, `offset` from the cursor, and
/// whether the total is wanted (`count`; true unless turned off).
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub first: u64,
    pub offset: u64,
    pub count: bool,
    /// The total, when the caller already knows it (kept per data
    /// generation): the page is read without counting.
    pub known_total: Option<u64>,
}

impl Page {
    pub fn new(first: i32, offset: u64) -> Result<Page, ServiceError> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ServiceError::BadUserInput(format!("`first` must be between 1 and {MAX_PAGE} (got {first})")));
        }
        if offset > MAX_OFFSET {
            return Err(ServiceError::BadUserInput("the page starts past the end of any list".into()));
        }
        Ok(Page { first: u64::try_from(first).unwrap_or(1), offset, count: true, known_total: None })
    }

    /// The first `first` rows, counted.
    pub fn first(first: u64) -> Page {
        Page { first, offset: 0, count: true, known_total: None }
    }

    /// The same page, its total counted or not.
    pub fn counted(self, count: bool) -> Page {
        Page { count, ..self }
    }

    /// The same page with its total known (`None`: counted when wanted).
    pub fn with_total(self, known_total: Option<u64>) -> Page {
        Page { known_total, ..self }
    }

    /// No rows, at `offset` (paging backwards from the first item).
    pub fn empty(offset: u64) -> Result<Page, ServiceError> {
        if offset > MAX_OFFSET {
            return Err(ServiceError::BadUserInput("the page starts past the end of any list".into()));
        }
        Ok(Page { first: 0, offset, count: true, known_total: None })
    }
}

/// One page of rows and the total matching. When the page was read without
/// its count, `total` is only as far as the page knows: `offset + rows`, plus
/// one when another row follows (enough for `hasNextPage`, never shown as a
/// count).
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub total: u64,
    pub offset: u64,
}

/// The column the window count is read into (no table has it).
const TOTAL: &str = "kaohe_page_total";

/// Reads one page of what `q` selects, with the total matching in the same
/// statement (a scalar `COUNT(*)` subquery of the same filter); `q` is already
/// ordered (by a unique key last, so pages neither repeat nor skip rows).
/// Only a page past the end (no row to carry the count) counts apart.
pub async fn fetch<C, E>(conn: &C, q: Select<E>, page: Page) -> Result<Paged<E::Model>, ServiceError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    fetch_as::<C, E, E::Model>(conn, q, page).await
}

/// [`fetch`] into `M`, for a `q` that selects only some columns
/// (`select_only().columns(…)`): what `M` reads from each row.
pub async fn fetch_as<C, E, M>(conn: &C, q: Select<E>, page: Page) -> Result<Paged<M>, ServiceError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    M: FromQueryResult + Send + Sync,
{
    if let (true, Some(total)) = (page.count, page.known_total) {
        // The total is known: only the page is read.
        let rows = if page.first == 0 {
            Vec::new()
        } else {
            window(q, page.offset, page.first).into_model::<M>().all(conn).await?
        };
        return Ok(Paged { rows, total, offset: page.offset });
    }
    if page.first == 0 {
        // An empty page (backwards from the first item): only the count is read.
        return Ok(Paged { rows: Vec::new(), total: q.into_model::<M>().count(conn).await?, offset: page.offset });
    }
    if !page.count {
        let mut rows = window(q, page.offset, page.first.saturating_add(1)).into_model::<M>().all(conn).await?;
        let more = rows.len() as u64 > page.first;
        rows.truncate(usize::try_from(page.first).unwrap_or(usize::MAX));
        let total = page.offset + rows.len() as u64 + u64::from(more);
        return Ok(Paged { rows, total, offset: page.offset });
    }
    // The count as a scalar subquery of the same FROM and WHERE (PostgreSQL
    // runs it once, as an InitPlan): the page itself can then stop at
    // `LIMIT`, where `COUNT(*) OVER ()` made it read and sort every matching
    // row first (1.75× the statements per second on a 1,000-unit page).
    // `q` is cloned once (its selection cleared for the count), not twice.
    let mut count = q.clone().into_query();
    count.clear_selects().clear_order_by().expr(Expr::cust("COUNT(*)"));
    let counted = q.expr_as(SimpleExpr::SubQuery(None, Box::new(count.clone().into())), TOTAL);
    let backend = conn.get_database_backend();
    let found = conn.query_all_raw(window(counted, page.offset, page.first).build(backend)).await?;
    let total = match found.first() {
        Some(row) => u64::try_from(row.try_get::<i64>("", TOTAL)?).unwrap_or(0),
        None if page.offset == 0 => 0,
        None => match conn.query_one_raw(backend.build(&count)).await? {
            Some(row) => u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0),
            None => 0,
        },
    };
    let rows = found.iter().map(|row| M::from_query_result(row, "")).collect::<Result<Vec<_>, _>>()?;
    Ok(Paged { rows, total, offset: page.offset })
}

/// `limit` rows of `q` after `offset`, with `OFFSET` only past the first row.
/// A first page's statement then has no offset parameter, and PostgreSQL's
/// generic plan for it (made once per connection) costs no more than a
/// custom one: after five executions it stops planning the statement at
/// every bind. With `OFFSET $n` the generic plan guesses a tenth of the rows
/// skipped, costs more, and every first page was planned afresh (a third of
/// PostgreSQL's time for a page of units).
fn window<E: EntityTrait>(q: Select<E>, offset: u64, limit: u64) -> Select<E> {
    q.offset((offset > 0).then_some(offset)).limit(limit)
}

/// The escape character of `contains` patterns. Not a backslash: PostgreSQL
/// and SQLite read a backslash in a literal differently.
const ESCAPE: char = '!';

/// `column` contains `text`, ignoring ASCII case; `%` and `_` in `text` match
/// themselves, not any characters.
pub fn contains(column: impl ColumnTrait, text: &str) -> SimpleExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_') || c == ESCAPE {
            pattern.push(ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(Expr::col(column.as_column_ref()))).like(LikeExpr::new(pattern).escape(ESCAPE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_1_to_100_rows() {
        assert!(Page::new(0, 0).is_err());
        assert!(Page::new(101, 0).is_err());
        assert_eq!(Page::new(100, 7).map(|p| (p.first, p.offset)).ok(), Some((100, 7)));
    }

    #[test]
    fn a_first_page_has_no_offset_parameter() {
        use sea_orm::{DbBackend, QueryOrder, QueryTrait};
        let q = || entity::unit::Entity::find().order_by_asc(entity::unit::Column::Id);
        let first = window(q(), 0, 100).build(DbBackend::Postgres);
        assert!(first.sql.ends_with("LIMIT $1"), "{}", first.sql);
        let later = window(q(), 200, 100).build(DbBackend::Postgres);
        assert!(later.sql.ends_with("LIMIT $1 OFFSET $2"), "{}", later.sql);
        assert_eq!(later.values.map(|v| v.0.len()), Some(2));
    }
}
