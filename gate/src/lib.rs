//! kaohe-gate: bounds a GraphQL document before async-graphql sees it.
//!
//! async-graphql 7 validates a document by walking every fragment spread, so a
//! sub-kilobyte document whose fragments each spread the next one twice costs
//! time exponential in its depth, and its limits are checked only after that
//! walk (see SECURITY-NOTES.md). Here every fragment is summarised once
//! (memoised), so the expanded size of any document is known in time linear in
//! its length, and a document over a limit is refused in microseconds.
//!
//! Order of checks: byte length, raw bracket nesting (before parsing, so the
//! parser's own recursion is bounded), syntax, then per operation and per
//! fragment: fragment cycles, expanded fields, aliases, directives, depth and
//! nodes (a field with `first`/`last` multiplies the nodes of its selection,
//! and one taking `ids` by their number). The same walk gives the points an
//! operation is charged (GitHub's rule: rows its pages may return / 100).

pub mod budget;

use std::collections::HashMap;

use async_graphql_parser::types::{ExecutableDocument, OperationType, SelectionSet};
use async_graphql_parser::{Positioned, parse_query};
use async_graphql_value::{Name, Value};

/// Limits a document must stay within. Defaults are documented in README.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Document length in bytes.
    pub max_bytes: usize,
    /// Brackets `{ ( [` open at once in the raw text.
    pub max_nesting: usize,
    /// Fields after expanding every fragment spread.
    pub max_fields: u64,
    /// Aliased fields after expansion.
    pub max_aliases: u64,
    /// Directives after expansion.
    pub max_directives: u64,
    /// Selection depth after expansion.
    pub max_depth: u64,
    /// Nodes: what the operation may touch at most, 1 per field, a field's
    /// selection multiplied by its `first`/`last` (or its number of `ids`).
    /// A hard bound on one operation's work, not charged to anyone.
    pub max_nodes: u64,
    /// Page size assumed when `first`/`last` is not a usable number.
    pub default_page: u64,
    /// Fields (by name, wherever they appear) whose own work is far more
    /// than their rows show, with the points charged for each one answered
    /// (added to the points of their rows). Each point counts as 100 nodes,
    /// as it stands for 100 rows.
    pub field_costs: Vec<(String, u64)>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024,
            max_nesting: 32,
            max_fields: 1_000,
            max_aliases: 30,
            max_directives: 30,
            max_depth: 12,
            max_nodes: 25_000,
            default_page: 100,
            field_costs: Vec::new(),
        }
    }
}

/// Why a document was refused. `code()` is the stable `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("the query is {bytes} bytes; the limit is {limit}")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the query nests {nesting} levels of brackets; the limit is {limit}")]
    TooNested { nesting: usize, limit: usize },
    #[error("the query selects {depth} levels deep; the limit is {limit}")]
    TooDeep { depth: u64, limit: u64 },
    #[error("the query expands to {fields} fields; the limit is {limit}")]
    TooManyFields { fields: u64, limit: u64 },
    #[error("the query may touch {nodes} nodes; the limit is {limit}")]
    TooManyNodes { nodes: u64, limit: u64 },
    #[error("the query uses {aliases} aliases; the limit is {limit}")]
    TooManyAliases { aliases: u64, limit: u64 },
    #[error("the query uses {directives} directives; the limit is {limit}")]
    TooManyDirectives { directives: u64, limit: u64 },
    #[error("the introspection query nests {lists} levels of schema lists; the limit is {limit}")]
    IntrospectionTooDeep { lists: u64, limit: u64 },
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
    #[error("unknown fragment `{0}`")]
    UnknownFragment(String),
    #[error("unknown operation `{0}`")]
    UnknownOperation(String),
    #[error("the document has several operations; name the one to run")]
    OperationNameRequired,
    #[error("syntax error: {0}")]
    Syntax(String),
}

impl GateError {
    /// The stable error code clients see in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            GateError::TooLarge { .. } => "QUERY_TOO_LARGE",
            GateError::TooNested { .. }
            | GateError::TooDeep { .. }
            | GateError::TooManyFields { .. }
            | GateError::TooManyNodes { .. }
            | GateError::TooManyAliases { .. }
            | GateError::TooManyDirectives { .. }
            | GateError::IntrospectionTooDeep { .. }
            | GateError::FragmentCycle(_) => "QUERY_TOO_COMPLEX",
            GateError::UnknownFragment(_)
            | GateError::UnknownOperation(_)
            | GateError::OperationNameRequired
            | GateError::Syntax(_) => "GRAPHQL_PARSE_FAILED",
        }
    }
}

/// The kind of the operation that will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

/// What the gate learnt about the operation that will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub kind: OperationKind,
    pub fields: u64,
    pub aliases: u64,
    pub directives: u64,
    pub depth: u64,
    /// Nodes the operation may touch (bounded by `max_nodes`).
    pub nodes: u64,
    /// Points charged against the caller's budget: the rows its paged
    /// fields may return (each page size times the pages above it) divided
    /// by 100 and rounded up, plus `field_costs`; at least 1. GitHub's
    /// GraphQL API counts the same way.
    pub cost: u64,
    /// `login` fields selected (each counts as one login attempt).
    pub logins: u64,
    /// The document only reads the schema (`__schema`, `__type`, `__typename`).
    pub introspection: bool,
}

/// Introspection is bounded by its own shape, not by the data limits: the
/// schema is finite, and the standard queries of graphql-js 16, Apollo's
/// tools and Python `gql` go deeper than a data query may (a type reference's
/// `ofType` chain: 13 levels) but walk the schema only once. What could blow
/// an answer up is re-entering the schema's lists through a type reference
/// (`types { fields { type { fields { type { fields … } } } } }`): the lists
/// (`types`, `fields`, `args`, …) nested along any path are counted, a list
/// below a type reference (`type`, `ofType`, `interfaces`, `possibleTypes`)
/// counting twice, and at most [`INTROSPECTION_MAX_LISTS`] are admitted.
/// Fields, aliases, directives and nodes keep their usual limits.
pub const INTROSPECTION_MAX_DEPTH: u64 = 16;
/// See [`INTROSPECTION_MAX_DEPTH`]: `types → fields → args` is 3.
pub const INTROSPECTION_MAX_LISTS: u64 = 3;

/// Introspection fields that answer lists of schema elements.
const SCHEMA_LISTS: [&str; 8] =
    ["types", "fields", "args", "inputFields", "enumValues", "directives", "interfaces", "possibleTypes"];
/// Introspection fields that lead to another type.
const TYPE_REFERENCES: [&str; 4] = ["type", "ofType", "interfaces", "possibleTypes"];

/// Checks a document against the limits; `variables` resolves `first: $n`.
/// Equivalent to [`prescan`], parsing, then [`analyze`].
pub fn check(
    document: &str,
    operation: Option<&str>,
    variables: Option<&serde_json::Value>,
    limits: &Limits,
) -> Result<Analysis, GateError> {
    prescan(document, limits)?;
    let doc = parse_query(document).map_err(|e| GateError::Syntax(e.to_string()))?;
    analyze(&doc, operation, variables, limits)
}

/// Checks the raw text before it is parsed: length, bracket nesting, and the
/// aliases and directives written in it (expansion can only add to those).
/// Linear in the length, a few nanoseconds a byte.
pub fn prescan(document: &str, limits: &Limits) -> Result<(), GateError> {
    if document.len() > limits.max_bytes {
        return Err(GateError::TooLarge { bytes: document.len(), limit: limits.max_bytes });
    }
    let raw = scan(document, limits.max_nesting);
    if raw.nesting > limits.max_nesting {
        return Err(GateError::TooNested { nesting: raw.nesting, limit: limits.max_nesting });
    }
    if raw.aliases > limits.max_aliases {
        return Err(GateError::TooManyAliases { aliases: raw.aliases, limit: limits.max_aliases });
    }
    if raw.directives > limits.max_directives {
        return Err(GateError::TooManyDirectives { directives: raw.directives, limit: limits.max_directives });
    }
    spreads(document, limits.max_fields)
}

/// Refuses fragment fan-out before parsing (the parser costs ~0.1 µs a byte):
/// from the tokens alone, each fragment's and operation's expanded field count
/// is at least the sum of what its spreads expand to, and at least 1 (a
/// selection set is never empty). Memoised per fragment, so linear in the
/// text. Only ever refuses what `analyze` would refuse as well; anything it
/// cannot read (duplicate names, odd syntax) is left to the parser.
fn spreads(text: &str, max_fields: u64) -> Result<(), GateError> {
    let b = text.as_bytes();
    let mut fragments: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut operations: Vec<Vec<&str>> = Vec::new();
    // The definition being read: Some(name) for a fragment, None for an operation.
    let mut current: Option<Option<&str>> = None;
    let mut edges: Vec<&str> = Vec::new();
    let (mut depth, mut parens, mut i) = (0usize, 0usize, 0usize);
    let mut pending: Option<&str> = None;
    let mut last_name: Option<&str> = None;
    let mut after_dots = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                after_dots = false;
                continue;
            }
            b'.' if b[i..].starts_with(b"...") => {
                after_dots = true;
                i += 3;
                continue;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9') {
                    i += 1;
                }
                let name = &text[start..i];
                if after_dots && depth > 0 && name != "on" {
                    edges.push(name);
                }
                if depth == 0 && parens == 0 {
                    if last_name == Some("fragment") && pending.is_none() {
                        pending = Some(name);
                    }
                    last_name = Some(name);
                }
                after_dots = false;
                continue;
            }
            b'(' => parens += 1,
            b')' => parens = parens.saturating_sub(1),
            b'{' if parens == 0 => {
                if depth == 0 {
                    current = Some(pending.take());
                    edges = Vec::new();
                    last_name = None;
                }
                depth += 1;
            }
            b'}' if parens == 0 => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    match current.take() {
                        Some(Some(name)) => {
                            if fragments.insert(name, std::mem::take(&mut edges)).is_some() {
                                return Ok(()); // a duplicate name: the parser's to refuse
                            }
                        }
                        Some(None) => operations.push(std::mem::take(&mut edges)),
                        None => return Ok(()),
                    }
                }
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() && c != b',' {
            after_dots = false;
        }
        i += 1;
    }
    let mut memo: HashMap<&str, Option<u64>> = HashMap::new();
    fn least<'t>(
        name: &'t str,
        fragments: &HashMap<&'t str, Vec<&'t str>>,
        memo: &mut HashMap<&'t str, Option<u64>>,
    ) -> Result<u64, GateError> {
        match memo.get(name) {
            Some(Some(n)) => return Ok(*n),
            Some(None) => return Err(GateError::FragmentCycle(name.to_string())),
            None => {}
        }
        let Some(targets) = fragments.get(name) else {
            return Ok(1); // unknown: the parser or `analyze` refuses it
        };
        memo.insert(name, None);
        let mut n: u64 = 0;
        for t in targets {
            n = n.saturating_add(least(t, fragments, memo)?);
        }
        let n = n.max(1);
        memo.insert(name, Some(n));
        Ok(n)
    }
    let names: Vec<&str> = fragments.keys().copied().collect();
    for name in names {
        let n = least(name, &fragments, &mut memo)?;
        if n > max_fields {
            return Err(GateError::TooManyFields { fields: n, limit: max_fields });
        }
    }
    for op in &operations {
        let mut n: u64 = 0;
        for t in op {
            n = n.saturating_add(least(t, &fragments, &mut memo)?);
        }
        if n > max_fields {
            return Err(GateError::TooManyFields { fields: n, limit: max_fields });
        }
    }
    Ok(())
}

/// Checks a parsed document: every fragment and operation is expanded once
/// (memoised) and bounded; returns the figures of the operation that will run.
pub fn analyze(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    variables: Option<&serde_json::Value>,
    limits: &Limits,
) -> Result<Analysis, GateError> {
    let introspection = reads_only_the_schema(doc);
    let deeper;
    let limits = if introspection {
        deeper = Limits { max_depth: limits.max_depth.max(INTROSPECTION_MAX_DEPTH), ..limits.clone() };
        &deeper
    } else {
        limits
    };
    let mut walker = Walker { doc, variables, limits, memo: HashMap::new() };
    // Every fragment is bounded, used or not: validation visits them all.
    for name in doc.fragments.keys() {
        let s = walker.fragment(name)?;
        walker.bounded(&s)?;
    }
    let mut chosen = None;
    let mut count = 0usize;
    for (name, op) in doc.operations.iter() {
        count += 1;
        let mut s = walker.set(&op.node.selection_set.node)?;
        s.directives = s.directives.saturating_add(op.node.directives.len() as u64);
        walker.bounded(&s)?;
        let wanted = match (operation, name) {
            (Some(want), Some(n)) => want == n.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        };
        if wanted {
            chosen = Some((op.node.ty, s));
        }
    }
    let (ty, s) = match (chosen, operation) {
        (Some(_), None) if count > 1 => return Err(GateError::OperationNameRequired),
        (Some(c), _) => c,
        (None, Some(name)) => return Err(GateError::UnknownOperation(name.to_string())),
        (None, None) => return Err(GateError::Syntax("the document has no operation".into())),
    };
    if introspection && s.lists > INTROSPECTION_MAX_LISTS {
        return Err(GateError::IntrospectionTooDeep { lists: s.lists, limit: INTROSPECTION_MAX_LISTS });
    }
    let kind = match ty {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        OperationType::Subscription => OperationKind::Subscription,
    };
    Ok(Analysis {
        kind,
        fields: s.fields,
        aliases: s.aliases,
        directives: s.directives,
        depth: s.depth,
        nodes: s.nodes,
        cost: s.points(),
        logins: s.logins,
        introspection,
    })
}

/// Does every operation select only `__schema`, `__type` and `__typename`
/// at its root (through fragments too)?
fn reads_only_the_schema(doc: &ExecutableDocument) -> bool {
    use async_graphql_parser::types::Selection;
    fn meta<'d>(doc: &'d ExecutableDocument, set: &'d SelectionSet, seen: &mut Vec<&'d str>) -> bool {
        set.items.iter().all(|item| match &item.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            Selection::InlineFragment(i) => meta(doc, &i.node.selection_set.node, seen),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if seen.contains(&name) {
                    return true; // a cycle: refused by the walk
                }
                seen.push(name);
                doc.fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| meta(doc, &f.node.selection_set.node, seen))
            }
        })
    }
    doc.operations.iter().all(|(_, op)| meta(doc, &op.node.selection_set.node, &mut Vec::new()))
}

/// What the raw text shows before parsing.
struct Raw {
    nesting: usize,
    /// `:` outside parentheses: in a selection set that is always an alias.
    aliases: u64,
    /// `@` outside strings: a directive.
    directives: u64,
}

/// One pass over the bytes, skipping strings and comments; stops early once
/// the nesting is past `stop` (it is then only known to exceed it).
fn scan(text: &str, stop: usize) -> Raw {
    let b = text.as_bytes();
    let mut raw = Raw { nesting: 0, aliases: 0, directives: 0 };
    let (mut depth, mut parens, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            open @ (b'{' | b'(' | b'[') => {
                depth += 1;
                parens += usize::from(open == b'(');
                raw.nesting = raw.nesting.max(depth);
                if raw.nesting > stop {
                    return raw;
                }
            }
            close @ (b'}' | b')' | b']') => {
                depth = depth.saturating_sub(1);
                if close == b')' {
                    parens = parens.saturating_sub(1);
                }
            }
            b':' if parens == 0 => raw.aliases += 1,
            b'@' => raw.directives += 1,
            _ => {}
        }
        i += 1;
    }
    raw
}

/// Expanded size of a selection set; every count saturates instead of overflowing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Summary {
    fields: u64,
    aliases: u64,
    directives: u64,
    depth: u64,
    nodes: u64,
    /// Rows the paged fields may return.
    rows: u64,
    /// Points of `field_costs`, times the pages above them.
    extra: u64,
    logins: u64,
    /// Schema lists nested along the deepest path (see [`INTROSPECTION_MAX_DEPTH`]).
    lists: u64,
}

impl Summary {
    fn points(&self) -> u64 {
        self.rows.div_ceil(100).saturating_add(self.extra).max(1)
    }

    fn add(&mut self, o: &Summary) {
        self.lists = self.lists.max(o.lists);
        self.fields = self.fields.saturating_add(o.fields);
        self.aliases = self.aliases.saturating_add(o.aliases);
        self.directives = self.directives.saturating_add(o.directives);
        self.depth = self.depth.max(o.depth);
        self.nodes = self.nodes.saturating_add(o.nodes);
        self.rows = self.rows.saturating_add(o.rows);
        self.extra = self.extra.saturating_add(o.extra);
        self.logins = self.logins.saturating_add(o.logins);
    }
}

enum Memo {
    Visiting,
    Done(Summary),
}

struct Walker<'d> {
    doc: &'d ExecutableDocument,
    variables: Option<&'d serde_json::Value>,
    limits: &'d Limits,
    memo: HashMap<&'d str, Memo>,
}

/// The schema lists nested through a field whose selection nests `below`.
fn lists_through(name: &str, below: u64) -> u64 {
    let own = u64::from(SCHEMA_LISTS.contains(&name));
    let reentry = u64::from(below > 0 && TYPE_REFERENCES.contains(&name));
    below.saturating_add(own).saturating_add(reentry)
}

impl<'d> Walker<'d> {
    fn bounded(&self, s: &Summary) -> Result<(), GateError> {
        let l = self.limits;
        if s.depth > l.max_depth {
            return Err(GateError::TooDeep { depth: s.depth, limit: l.max_depth });
        }
        if s.fields > l.max_fields {
            return Err(GateError::TooManyFields { fields: s.fields, limit: l.max_fields });
        }
        if s.aliases > l.max_aliases {
            return Err(GateError::TooManyAliases { aliases: s.aliases, limit: l.max_aliases });
        }
        if s.directives > l.max_directives {
            return Err(GateError::TooManyDirectives { directives: s.directives, limit: l.max_directives });
        }
        if s.nodes > l.max_nodes {
            return Err(GateError::TooManyNodes { nodes: s.nodes, limit: l.max_nodes });
        }
        Ok(())
    }

    fn fragment(&mut self, name: &'d Name) -> Result<Summary, GateError> {
        match self.memo.get(name.as_str()) {
            Some(Memo::Done(s)) => return Ok(*s),
            Some(Memo::Visiting) => return Err(GateError::FragmentCycle(name.to_string())),
            None => {}
        }
        let doc = self.doc;
        let def = doc.fragments.get(name).ok_or_else(|| GateError::UnknownFragment(name.to_string()))?;
        self.memo.insert(name.as_str(), Memo::Visiting);
        let mut s = self.set(&def.node.selection_set.node)?;
        s.directives = s.directives.saturating_add(def.node.directives.len() as u64);
        self.memo.insert(name.as_str(), Memo::Done(s));
        Ok(s)
    }

    fn set(&mut self, set: &'d SelectionSet) -> Result<Summary, GateError> {
        use async_graphql_parser::types::Selection;
        let mut total = Summary::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let child = self.set(&f.selection_set.node)?;
                    let paged = self.page(&f.arguments);
                    let page = paged.unwrap_or(1);
                    let own_points = self.own_points(&f.name.node);
                    let own = Summary {
                        fields: child.fields.saturating_add(1),
                        aliases: child.aliases.saturating_add(u64::from(f.alias.is_some())),
                        directives: child.directives.saturating_add(f.directives.len() as u64),
                        depth: child.depth.saturating_add(1),
                        nodes: child.nodes.saturating_mul(page).saturating_add(own_points.saturating_mul(100).max(1)),
                        rows: child.rows.saturating_mul(page).saturating_add(paged.unwrap_or(0)),
                        extra: child.extra.saturating_mul(page).saturating_add(own_points),
                        logins: child.logins.saturating_add(u64::from(f.name.node.as_str() == "login")),
                        lists: lists_through(f.name.node.as_str(), child.lists),
                    };
                    total.add(&own);
                }
                Selection::FragmentSpread(spread) => {
                    let mut s = self.fragment(&spread.node.fragment_name.node)?;
                    s.directives = s.directives.saturating_add(spread.node.directives.len() as u64);
                    total.add(&s);
                }
                Selection::InlineFragment(inline) => {
                    let mut s = self.set(&inline.node.selection_set.node)?;
                    s.directives = s.directives.saturating_add(inline.node.directives.len() as u64);
                    total.add(&s);
                }
            }
            // Stop walking as soon as the running total is over a limit.
            self.bounded(&total)?;
        }
        Ok(total)
    }

    /// A field's own points: its entry in `field_costs`, else 0.
    fn own_points(&self, name: &Name) -> u64 {
        self.limits.field_costs.iter().find(|(n, _)| n == name.as_str()).map_or(0, |(_, c)| *c)
    }

    /// How many times a field's selection may be answered: its page size
    /// (`first`/`last`) for a connection, the number of ids for a field taking
    /// a list of `ids` (`nodes`); `None` for other fields.
    fn page(&self, args: &[(Positioned<Name>, Positioned<Value>)]) -> Option<u64> {
        let mut page = None;
        let variable = |v: &Name| self.variables.and_then(|vars| vars.get(v.as_str()));
        for (name, value) in args {
            let n = match name.node.as_str() {
                "first" | "last" => match &value.node {
                    Value::Number(n) => n.as_u64(),
                    Value::Variable(v) => variable(v).and_then(serde_json::Value::as_u64),
                    _ => None,
                },
                // Each id is a lookup answered with the whole selection.
                "ids" => match &value.node {
                    Value::List(items) => Some(items.len() as u64),
                    Value::Variable(v) => variable(v).and_then(serde_json::Value::as_array).map(|a| a.len() as u64),
                    // One id given as a single value (list input coercion).
                    _ => Some(1),
                },
                _ => continue,
            };
            let n = n.unwrap_or(self.limits.default_page).max(1);
            page = Some(page.map_or(n, |p: u64| p.max(n)));
        }
        page
    }
}
