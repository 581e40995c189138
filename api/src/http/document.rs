//! Bounds a GraphQL document before it reaches the schema: its length, and
//! its size once every fragment spread is expanded (computed with one memo
//! per fragment, so a fan-out bomb is refused in microseconds instead of
//! exhausting the validator, see SECURITY-NOTES).

use std::collections::HashMap;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};

/// Longest accepted query text, in bytes.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;
/// Most fields a document may have once fragments are expanded.
pub const MAX_DOCUMENT_SIZE: u64 = 10_000;

/// A document that passed the bounds.
pub struct Checked {
    pub doc: ExecutableDocument,
}

impl Checked {
    /// True when every operation of the document is a query.
    pub fn only_queries(&self) -> bool {
        match &self.doc.operations {
            DocumentOperations::Single(op) => op.node.ty == OperationType::Query,
            DocumentOperations::Multiple(ops) => ops.values().all(|op| op.node.ty == OperationType::Query),
        }
    }
}

/// Parses and bounds a query; the error is a message for the client.
pub fn check(query: &str) -> Result<Checked, String> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(format!("query is longer than {MAX_QUERY_BYTES} bytes"));
    }
    let doc = parse_query(query).map_err(|e| e.to_string())?;
    let mut memo: HashMap<String, u64> = HashMap::new();
    let mut total: u64 = 0;
    let sets: Vec<&SelectionSet> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => ops.values().map(|o| &o.node.selection_set.node).collect(),
    };
    for set in sets {
        total = total.saturating_add(size(set, &doc, &mut memo, 0));
    }
    if total > MAX_DOCUMENT_SIZE {
        return Err(format!(
            "query is too large once fragments are expanded ({total} fields, limit {MAX_DOCUMENT_SIZE})"
        ));
    }
    Ok(Checked { doc })
}

fn size(set: &SelectionSet, doc: &ExecutableDocument, memo: &mut HashMap<String, u64>, depth: usize) -> u64 {
    if depth > 64 {
        return u64::MAX / 4;
    }
    let mut n: u64 = 0;
    for item in &set.items {
        let s = match &item.node {
            Selection::Field(f) => 1u64.saturating_add(size(&f.node.selection_set.node, doc, memo, depth + 1)),
            Selection::InlineFragment(i) => size(&i.node.selection_set.node, doc, memo, depth + 1),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if let Some(&m) = memo.get(name) {
                    m
                } else {
                    // Mark in progress: a cycle counts 0 here and is refused by validation.
                    memo.insert(name.to_string(), 0);
                    let m = doc
                        .fragments
                        .get(name)
                        .map(|f| size(&f.node.selection_set.node, doc, memo, depth + 1))
                        .unwrap_or(0);
                    memo.insert(name.to_string(), m);
                    m
                }
            }
        };
        n = n.saturating_add(s);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_fan_out_is_refused_fast() {
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..30 {
            q.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
        }
        q.push_str("fragment F30 on Query { organisations { id } }\n");
        let started = std::time::Instant::now();
        let err = check(&q).err().unwrap_or_default();
        assert!(err.contains("too large"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn ordinary_queries_pass_and_mutations_are_seen() {
        let ok = check("{ organisations { code units { name } } }").unwrap_or_else(|e| panic!("{e}"));
        assert!(ok.only_queries());
        let m = check("mutation { x }").unwrap_or_else(|e| panic!("{e}"));
        assert!(!m.only_queries());
        assert!(check("{ nope").is_err());
    }
}
