//! Page sizes of connections (none exist yet; the run and observation
//! connections of later issues use these).
//!
//! Every connection field takes `first` or `last`, 1..=`MAX_PAGE`, checked
//! here so that a negative, zero or huge value is a `BAD_USER_INPUT`, never a
//! server error, and declares its complexity as the page size times its
//! selection, the same rule the gate (`kaohe_gate::analyze`) charges:
//!
//! ```ignore
//! #[graphql(complexity = "kaohe_api::graphql::page::complexity(first, last, child_complexity)")]
//! async fn observations(&self, first: Option<i32>, last: Option<i32>, …) -> Result<Connection<…>> {
//!     let size = page::size(first, last)?;
//! ```

use crate::error::ApiError;

/// Largest page a connection serves.
pub const MAX_PAGE: i32 = 100;

/// The page size asked for: exactly one of `first`/`last`, in 1..=`MAX_PAGE`.
pub fn size(first: Option<i32>, last: Option<i32>) -> Result<u64, ApiError> {
    let n = match (first, last) {
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => return Err(ApiError::BadUserInput("give `first` or `last` (1 to 100)".into())),
        (Some(_), Some(_)) => return Err(ApiError::BadUserInput("give `first` or `last`, not both".into())),
    };
    if !(1..=MAX_PAGE).contains(&n) {
        return Err(ApiError::BadUserInput(format!("page size {n} is not between 1 and {MAX_PAGE}")));
    }
    Ok(n as u64)
}

/// The complexity of a connection field: its page size (the largest page
/// when the value is invalid, which the resolver then refuses) times the
/// complexity of its selection.
pub fn complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let page = size(first, last).map_or(MAX_PAGE as usize, |n| n as usize);
    page.saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_checked() {
        assert_eq!(size(Some(20), None).ok(), Some(20));
        assert_eq!(size(None, Some(100)).ok(), Some(100));
        for (f, l) in [(Some(0), None), (Some(-1), None), (Some(101), None), (None, None), (Some(1), Some(1))] {
            assert_eq!(size(f, l).map_err(|e| e.code()).err(), Some("BAD_USER_INPUT"), "{f:?} {l:?}");
        }
        assert_eq!(size(Some(i32::MAX), None).map_err(|e| e.code()).err(), Some("BAD_USER_INPUT"));
    }

    #[test]
    fn complexity_multiplies_by_the_page() {
        assert_eq!(complexity(Some(10), None, 4), 41);
        assert_eq!(complexity(Some(-5), None, 4), 401);
    }
}
