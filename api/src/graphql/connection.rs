//! Relay cursor connections (分页列表): every list of the API is one, with a
//! required `first` (1..=100), an `after` cursor and `totalCount`. A cursor
//! is the item's offset in the list (`o:<n>`); services read the page with
//! `LIMIT/OFFSET` and `COUNT` (`crate::paging`).

use async_graphql::SimpleObject;

use crate::error::{ApiError, GqlResult};
use crate::paging::{Page, Paged};

/// Where a page starts: after the cursor given (an opaque string from `endCursor`).
pub(crate) fn page(first: i32, after: Option<String>) -> async_graphql::Result<Page> {
    let offset = match after {
        None => 0,
        Some(c) => c
            .strip_prefix("o:")
            .and_then(|n| n.parse::<u64>().ok())
            .map(|n| n + 1)
            .ok_or_else(|| ApiError::BadUserInput(format!("`{c}` is not a cursor of this list")))
            .gql()?,
    };
    Page::new(first, offset).gql()
}

pub(crate) fn cursor(offset: u64) -> String {
    format!("o:{offset}")
}

/// What a connection field costs towards the complexity limit: `first` × its
/// children, so nested pages of 100 are refused before they run.
pub(crate) fn cost(first: i32, child_complexity: usize) -> usize {
    usize::try_from(first).unwrap_or(0).max(1).saturating_mul(child_complexity)
}

/// The page of an in-memory list (for lists computed whole, e.g. live results).
pub(crate) fn slice<T>(all: Vec<T>, p: Page) -> Paged<T> {
    let total = all.len() as u64;
    let rows = all.into_iter().skip(usize::try_from(p.offset).unwrap_or(usize::MAX)).take(p.first as usize).collect();
    Paged { rows, total, offset: p.offset }
}

/// Paging information of a list (分页信息).
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Whether items come before this page.
    pub has_previous_page: bool,
    /// Cursor of the first item of the page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The paging information of `n` rows read at `offset` out of `total`.
    pub(crate) fn of(offset: u64, n: u64, total: u64) -> PageInfo {
        PageInfo {
            has_next_page: offset + n < total,
            has_previous_page: offset > 0,
            start_cursor: (n > 0).then(|| cursor(offset)),
            end_cursor: (n > 0).then(|| cursor(offset + n - 1)),
        }
    }
}

/// Declares a connection type `$conn` and its edge `$edge` over `$node`.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, " (Relay connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            #[doc = concat!("The ", $what, " of this page, each with its cursor.")]
            pub edges: Vec<$edge>,
            /// Paging information.
            pub page_info: $crate::graphql::connection::PageInfo,
            /// How many items match the filters, on all pages (总数).
            pub total_count: i64,
        }

        #[doc = concat!("One of ", $what, " and its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl $conn {
            pub(crate) fn build<T>(p: $crate::paging::Paged<T>, wrap: impl Fn(T) -> $node) -> $conn {
                let n = p.rows.len() as u64;
                let page_info = $crate::graphql::connection::PageInfo::of(p.offset, n, p.total);
                let edges: Vec<$edge> = p
                    .rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| $edge {
                        cursor: $crate::graphql::connection::cursor(p.offset + i as u64),
                        node: wrap(r),
                    })
                    .collect();
                $conn { edges, page_info, total_count: i64::try_from(p.total).unwrap_or(i64::MAX) }
            }
        }
    };
}

pub(crate) use connection;
