//! Relay cursor connections (分页列表): every list of the API is one, with
//! `first` (1..=100) and an `after` cursor, or `last` and a `before` cursor
//! to page backwards, and `totalCount`. A cursor
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

/// The page asked for: `first` items after `after` (from the start without
/// it), or `last` items before `before` (paging backwards from a cursor).
/// Cursors are opaque strings this API made (`startCursor`, `endCursor`).
pub(crate) fn page(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<Page> {
    let bad = |m: &str| Err(ServiceError::BadUserInput(m.into())).gql();
    match (first, last) {
        (Some(first), None) => {
            if before.is_some() {
                return bad("`before` goes with `last`; page forwards with `first` and `after`");
            }
            let offset = match after {
                None => 0,
                Some(c) => cursor_offset(&c, "after")?
                    .checked_add(1)
                    .filter(|n| *n <= MAX_OFFSET)
                    .ok_or_else(|| ServiceError::BadUserInput("`after` is not a cursor of this list".into()))
                    .gql()?,
            };
            Page::new(first, offset).gql()
        }
        (None, Some(last)) => {
            if after.is_some() {
                return bad("`after` goes with `first`; page backwards with `last` and `before`");
            }
            let Some(before) = before else {
                return bad("`last` needs `before` (a cursor to page back from)");
            };
            let end = cursor_offset(&before, "before")?;
            // Check `last` with the usual rule before it shortens the page.
            Page::new(last, 0).gql()?;
            let n = u64::try_from(last).unwrap_or(0).min(end);
            if n == 0 {
                // Nothing comes before the first item: an empty page.
                return Page::empty(end).gql();
            }
            Page::new(n as i32, end - n).gql()
        }
        (Some(_), Some(_)) => bad("give `first` or `last`, not both"),
        (None, None) => bad("give `first` (or `last` with `before`): the page size, 1 to 100"),
    }
}

fn cursor_offset(cursor: &str, arg: &str) -> async_graphql::Result<u64> {
    offset_of(cursor)
        .filter(|n| *n <= MAX_OFFSET)
        .ok_or_else(|| ServiceError::BadUserInput(format!("`{arg}` is not a cursor of this list")))
        .gql()
}

/// [`page`], counted only when the client selects `totalCount` on the
/// connection (look-ahead): otherwise the service reads one row more instead
/// of counting, which is all `pageInfo` needs.
pub(crate) fn page_of(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<Page> {
    Ok(page(first, after, last, before)?.counted(ctx.look_ahead().field("totalCount").exists()))
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
        let p = page(Some(10), Some(cursor(41)), None, None).unwrap();
        assert_eq!((p.first, p.offset), (10, 42));
        for bad in ["o:0", "", "c1:5", "YzE6", "YzE6LTE", "YzE6KzE"] {
            assert!(page(Some(10), Some(bad.into()), None, None).is_err(), "{bad}");
        }
        // Offsets that do not fit a database OFFSET are refused, not wrapped.
        for huge in [u64::MAX, i64::MAX as u64, MAX_OFFSET] {
            assert!(page(Some(1), Some(cursor(huge)), None, None).is_err(), "{huge}");
        }
        assert!(page(Some(1), Some(cursor(MAX_OFFSET - 1)), None, None).is_ok());
    }

    #[test]
    fn last_pages_backwards_from_before() {
        let p = page(None, None, Some(10), Some(cursor(42))).unwrap();
        assert_eq!((p.first, p.offset), (10, 32));
        // Near the start the page is shorter; before the first item it is empty.
        let p = page(None, None, Some(10), Some(cursor(3))).unwrap();
        assert_eq!((p.first, p.offset), (3, 0));
        let p = page(None, None, Some(10), Some(cursor(0))).unwrap();
        assert_eq!((p.first, p.offset), (0, 0));
        for (first, after, last, before) in [
            (None, None, Some(10), None),
            (Some(1), None, Some(1), None),
            (None, None, None, None),
            (Some(1), None, None, Some(cursor(3))),
            (None, Some(cursor(3)), Some(1), Some(cursor(3))),
            (None, None, Some(0), Some(cursor(3))),
            (None, None, Some(101), Some(cursor(300))),
            (None, None, Some(1), Some("nope".to_string())),
        ] {
            assert!(
                page(first, after.clone(), last, before.clone()).is_err(),
                "{first:?} {after:?} {last:?} {before:?}"
            );
        }
    }
}
