//! Pages of a list (分页): the page a client asks for, one page of rows with
//! the total, and the SQL that reads exactly that page (`COUNT`, then
//! `LIMIT/OFFSET`), so no list is loaded whole to be cut in memory.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, Select};

use crate::error::ServiceError;

/// The largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;

/// The largest offset a page may start at: far beyond any list, and small
/// enough that `OFFSET` and `offset + first` never overflow anywhere.
pub const MAX_OFFSET: u64 = 1 << 40;

/// A page request: `first` in 1..=100, `offset` from the cursor.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub first: u64,
    pub offset: u64,
}

impl Page {
    pub fn new(first: i32, offset: u64) -> Result<Page, ServiceError> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ServiceError::BadUserInput(format!("`first` must be between 1 and {MAX_PAGE} (got {first})")));
        }
        if offset > MAX_OFFSET {
            return Err(ServiceError::BadUserInput("the page starts past the end of any list".into()));
        }
        Ok(Page { first: u64::try_from(first).unwrap_or(1), offset })
    }

    /// No rows, at `offset` (paging backwards from the first item).
    pub fn empty(offset: u64) -> Result<Page, ServiceError> {
        if offset > MAX_OFFSET {
            return Err(ServiceError::BadUserInput("the page starts past the end of any list".into()));
        }
        Ok(Page { first: 0, offset })
    }
}

/// One page of rows and the total matching.
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub total: u64,
    pub offset: u64,
}

/// Counts what `q` selects and reads one page of it; `q` is already ordered
/// (by a unique key last, so pages neither repeat nor skip rows).
pub async fn fetch<C, E>(conn: &C, q: Select<E>, page: Page) -> Result<Paged<E::Model>, ServiceError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let total = q.clone().count(conn).await?;
    let rows = q.offset(page.offset).limit(page.first).all(conn).await?;
    Ok(Paged { rows, total, offset: page.offset })
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
}
