//! Pages of a list (分页): the page a client asks for, one page of rows with
//! the total, and the SQL that reads exactly that page in **one statement**
//! (`LIMIT/OFFSET` with `COUNT(*) OVER ()` beside each row), so no list is
//! loaded whole to be cut in memory and a page costs one round trip. A page
//! whose total is not wanted (`Page::counted(false)`: the client did not
//! select `totalCount`) reads one row more instead, to know whether another
//! page follows.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, QueryTrait,
    Select, Statement, Value,
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

/// Totals of lists counted before, kept by the layer above (the API keeps
/// them per data generation: `graphql::kept`). A list is spelled out in
/// `what` once the caller's view of it is decided, so two requests share a
/// total only when they would count the same rows.
pub trait Totals {
    /// The total of `what` counted before, if one is kept.
    fn total(&self, what: &str) -> Option<u64>;
    /// The total of `what`, just counted.
    fn counted(&self, what: &str, total: u64);

    /// `page` with the total of `what` when one is kept.
    fn known(&self, what: &str, page: Page) -> Page {
        page.with_total(self.total(what))
    }

    /// Hands `total` over when `page` (as [`Totals::known`] gave it) counted it.
    fn read(&self, what: &str, page: Page, total: u64) {
        if page.count && page.known_total.is_none() {
            self.counted(what, total);
        }
    }
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
    let Some(form) = Form::of(page) else { return no_rows(conn, q, page).await };
    let backend = conn.get_database_backend();
    let (statement, count) = statement(q, form, page, backend);
    read(conn, form, statement, page, || count.map(|c| backend.build(&c))).await
}

/// The SQL texts of page statements kept per shape ([`fetch_kept`]).
#[derive(Default)]
pub struct Texts(crate::kept_sql::Texts<TextKey>);

/// (backend, shape, form, from past the first row).
type TextKey = (std::mem::Discriminant<DbBackend>, u32, Form, bool);

/// [`fetch_as`] for a query whose SQL text depends only on `shape` (the
/// caller's number for which filters `q` holds, never the same for two
/// different texts) and whose filter binds `values`, in their order: the
/// text sea-query builds the first time is kept, when the values it bound are
/// `values`, and from then on only the values are bound. Building the SELECT
/// (eighteen columns quoted and listed) cost 8% of a department head's page.
/// `q` builds the query: the first time, and for a page past the end.
pub async fn fetch_kept<C, E, M>(
    conn: &C,
    texts: &Texts,
    shape: u32,
    values: Vec<Value>,
    q: impl Fn() -> Select<E>,
    page: Page,
) -> Result<Paged<M>, ServiceError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    M: FromQueryResult + Send + Sync,
{
    let Some(form) = Form::of(page) else { return no_rows(conn, q(), page).await };
    let backend = conn.get_database_backend();
    let statement = texts.statement(backend, shape, form, values, &q, page);
    read(conn, form, statement, page, || (form == Form::Counted).then(|| backend.build(&count_of(&q())))).await
}

impl Texts {
    /// Whether a text is kept for `shape` read in `form`.
    #[cfg(test)]
    pub(crate) fn holds(&self, backend: DbBackend, shape: u32, form: Form, page: Page) -> bool {
        self.0.holds(&(std::mem::discriminant(&backend), shape, form, page.offset > 0))
    }

    /// The statement of `page` in `form` for `shape`: its kept text and
    /// `values`, or built (and its text kept) the first time.
    pub(crate) fn statement<E: EntityTrait>(
        &self,
        backend: DbBackend,
        shape: u32,
        form: Form,
        values: Vec<Value>,
        q: &impl Fn() -> Select<E>,
        page: Page,
    ) -> Statement {
        let key = (std::mem::discriminant(&backend), shape, form, page.offset > 0);
        self.0.statement(backend, key, form.bind(values, page), || statement(q(), form, page, backend).0)
    }
}

/// How a page is read: what its statement's text depends on, besides the
/// filter and whether it starts past the first row (`OFFSET`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// Only the rows: the total is known.
    Rows,
    /// One row more than the page, to tell whether another follows (no
    /// total wanted).
    OneMore,
    /// The rows with the total beside each (a scalar subquery).
    Counted,
}

impl Form {
    /// How `page` is read; `None` when it has no rows to read.
    pub(crate) fn of(page: Page) -> Option<Form> {
        Some(match (page.first, page.count, page.known_total) {
            (0, ..) => return None,
            (_, true, Some(_)) => Form::Rows,
            (_, false, _) => Form::OneMore,
            (_, true, None) => Form::Counted,
        })
    }

    /// The rows the statement asks for.
    fn limit(self, page: Page) -> u64 {
        match self {
            Form::OneMore => page.first.saturating_add(1),
            _ => page.first,
        }
    }

    /// The values the statement of `page` binds, in order, for a filter
    /// binding `filter`: the count's subquery (in the selection, so first),
    /// the filter, the limit, the offset.
    fn bind(self, filter: Vec<Value>, page: Page) -> Vec<Value> {
        let mut bound = Vec::with_capacity(filter.len() * 2 + 2);
        if self == Form::Counted {
            bound.extend(filter.iter().cloned());
        }
        bound.extend(filter);
        bound.push(Value::from(self.limit(page)));
        if page.offset > 0 {
            bound.push(Value::from(page.offset));
        }
        bound
    }
}

/// The statement reading `page` of `q` in `form`, and for a counted form the
/// count alone (for a page past the end, where no row carries it).
pub(crate) fn statement<E: EntityTrait>(
    q: Select<E>,
    form: Form,
    page: Page,
    backend: DbBackend,
) -> (Statement, Option<SelectStatement>) {
    if form != Form::Counted {
        return (window(q, page.offset, form.limit(page)).build(backend), None);
    }
    // The count as a scalar subquery of the same FROM and WHERE (PostgreSQL
    // runs it once, as an InitPlan): the page itself can then stop at
    // `LIMIT`, where `COUNT(*) OVER ()` made it read and sort every matching
    // row first (1.75× the statements per second on a 1,000-unit page).
    let count = count_of(&q);
    let counted = q.expr_as(SimpleExpr::SubQuery(None, Box::new(count.clone().into())), TOTAL);
    (window(counted, page.offset, page.first).build(backend), Some(count))
}

/// `COUNT(*)` of what `q` selects.
fn count_of<E: EntityTrait>(q: &Select<E>) -> SelectStatement {
    let mut count = q.clone().into_query();
    count.clear_selects().clear_order_by().expr(Expr::cust("COUNT(*)"));
    count
}

/// A page without rows: its total, known or counted (an empty page, backwards
/// from the first item).
async fn no_rows<C, E, M>(conn: &C, q: Select<E>, page: Page) -> Result<Paged<M>, ServiceError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    M: FromQueryResult + Send + Sync,
{
    let total = match (page.count, page.known_total) {
        (true, Some(total)) => total,
        _ => q.into_model::<M>().count(conn).await?,
    };
    Ok(Paged { rows: Vec::new(), total, offset: page.offset })
}

/// Reads the page `statement` selects (built for `form`); `count` gives the
/// count alone, for a counted page past the end.
async fn read<C, M>(
    conn: &C,
    form: Form,
    statement: Statement,
    page: Page,
    count: impl FnOnce() -> Option<Statement>,
) -> Result<Paged<M>, ServiceError>
where
    C: ConnectionTrait,
    M: FromQueryResult + Send + Sync,
{
    let found = conn.query_all_raw(statement).await?;
    let mut rows = found.iter().map(|row| M::from_query_result(row, "")).collect::<Result<Vec<_>, _>>()?;
    let total = if form == Form::Counted {
        match found.first() {
            Some(row) => u64::try_from(row.try_get::<i64>("", TOTAL)?).unwrap_or(0),
            None if page.offset == 0 => 0,
            None => match count() {
                Some(count) => match conn.query_one_raw(count).await? {
                    Some(row) => u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0),
                    None => 0,
                },
                None => 0,
            },
        }
    } else if let Some(total) = page.known_total.filter(|_| page.count) {
        total
    } else {
        let more = rows.len() as u64 > page.first;
        rows.truncate(usize::try_from(page.first).unwrap_or(usize::MAX));
        page.offset + rows.len() as u64 + u64::from(more)
    };
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
