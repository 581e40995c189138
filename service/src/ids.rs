//! The opaque global ids of the API (`base64url("ScoreRun:42")`, no
//! padding). The API's `graphql::ids` encodes with this function, and so do
//! the webhook payloads, so an id pushed to a receiver is the id it passes
//! back to `scoreRun(id:)`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The global id of row `id` of the GraphQL type `kind` (`ScoreRun`, `Rubric`, …).
pub fn global_id(kind: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// The row id inside a global id of `kind` made by [`global_id`]; `None`
/// for anything else (another kind, not base64url, not a positive number).
pub fn row_of(kind: &str, id: &str) -> Option<i64> {
    let raw = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (k, n) = text.split_once(':')?;
    let n = n.parse::<i64>().ok().filter(|n| *n > 0)?;
    (k == kind).then_some(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_base64url_of_kind_and_number() {
        assert_eq!(super::global_id("ScoreRun", 42), "U2NvcmVSdW46NDI");
    }
}
