//! Relay cursor connections (分页列表): every list of the API is one, with a
//! required `first` (1..=100), an `after` cursor and `totalCount`. A cursor
//! is opaque to clients (base64url of a versioned offset); services read the
//! page with `LIMIT/OFFSET` and `COUNT` (`crate::paging`). A cursor that is
//! not one this API made, or points past any list, is BAD_USER_INPUT.

use async_graphql::{Context, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::GqlResult;
use crate::paging::{MAX_OFFSET, Page, Paged};
use kaohe_service::ServiceError;

/// What a cursor encodes before base64url: a version tag and the offset.
const CURSOR_TAG: &str = "c1:";

/// Where a page starts: after the cursor given (an opaque string from `endCursor`).
pub(crate) fn page(first: i32, after: Option<String>) -> async_graphql::Result<Page> {
    let offset = match after {
        None => 0,
        Some(c) => offset_of(&c)
            .and_then(|n| n.checked_add(1))
            .filter(|n| *n <= MAX_OFFSET)
            .ok_or_else(|| ServiceError::BadUserInput("`after` is not a cursor of this list".into()))
            .gql()?,
    };
    Page::new(first, offset).gql()
}

/// [`page`], counted only when the client selects `totalCount` on the
/// connection (look-ahead): otherwise the service reads one row more instead
/// of counting, which is all `pageInfo` needs.
pub(crate) fn page_of(ctx: &Context<'_>, first: i32, after: Option<String>) -> async_graphql::Result<Page> {
    Ok(page(first, after)?.counted(ctx.look_ahead().field("totalCount").exists()))
}

/// The offset inside a cursor made by [`cursor`].
fn offset_of(cursor: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok()?;
    let digits = std::str::from_utf8(&raw).ok()?.strip_prefix(CURSOR_TAG)?;
    // Digits only: no sign, no spaces, no leading `+`.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()
}

pub(crate) fn cursor(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{offset}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_this_api_did_not_make() {
        let p = page(10, Some(cursor(41))).unwrap();
        assert_eq!((p.first, p.offset), (10, 42));
        for bad in ["o:0", "", "c1:5", "YzE6", "YzE6LTE", "YzE6KzE"] {
            assert!(page(10, Some(bad.into())).is_err(), "{bad}");
        }
        // Offsets that do not fit a database OFFSET are refused, not wrapped.
        for huge in [u64::MAX, i64::MAX as u64, MAX_OFFSET] {
            assert!(page(1, Some(cursor(huge))).is_err(), "{huge}");
        }
        assert!(page(1, Some(cursor(MAX_OFFSET - 1))).is_ok());
    }
}
