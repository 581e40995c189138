//! The plain path for long lists whose fields are all in hand (a 月讲评
//! ranking: 1,000 rows × 20 fields). async-graphql resolves every field
//! of every row as its own future, in a `FuturesUnordered` per object, with
//! the schema's extension around each: most of a computed ranking's time.
//! Here the list's selection is read once into a `Shape` and each row is
//! written straight into a `Value`.
//!
//! Only what gives the very same answer is taken: fields without
//! arguments or directives (async-graphql has applied `@skip`/`@include`
//! before execution), fragments (their type conditions always hold on an
//! object type: validation refuses the others), no response key twice. Anything else (another
//! directive, a field a `Plain` type does not know, data not in hand) and
//! the list takes the normal path, whole. `tests/api/plain.rs` compares
//! both paths' answers byte for byte over generated selections.
//!
//! Reads `Context::item` and `QueryEnv` (the executing field's AST, its
//! fragments), which async-graphql 7 exposes but hides from
//! its docs: kept to this module, and pinned by those tests.

use std::borrow::Cow;
use std::sync::Mutex;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::SelectionSet;
use async_graphql::registry::Registry;
use async_graphql::{Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

/// The fields asked of each row, in answer order.
pub(crate) struct Shape<'a> {
    fields: Vec<Part<'a>>,
}

struct Part<'a> {
    key: &'a Name,
    name: &'a str,
    sub: Option<Shape<'a>>,
}

/// An object type whose fields the plain path can answer.
pub(crate) trait Plain {
    /// Its GraphQL name (`__typename`).
    const TYPE: &'static str;
    /// Field `name` of this object (`sub`: what is asked of an object
    /// field); `None` when not answerable here.
    fn field(&self, name: &str, sub: Option<&Shape<'_>>) -> Option<Value>;

    /// Field `name` written as JSON at the end of `out`, the very bytes
    /// `field`'s value serialises to; a type whose fields are plain Rust
    /// values writes them without building a `Value` (a page of units).
    fn write_field(&self, name: &str, sub: Option<&Shape<'_>>, out: &mut Vec<u8>) -> Option<()> {
        serde_json::to_writer(out, &self.field(name, sub)?).ok()
    }
}

/// One object, as `shape` asks for it.
pub(crate) fn object<T: Plain>(item: &T, shape: &Shape<'_>) -> Option<Value> {
    let mut map = IndexMap::with_capacity(shape.fields.len());
    for p in &shape.fields {
        let value = if p.name == "__typename" {
            Value::String(T::TYPE.to_string())
        } else {
            item.field(p.name, p.sub.as_ref())?
        };
        map.insert(p.key.clone(), value);
    }
    Some(Value::Object(map))
}

/// One object written as JSON at the end of `out`, as `object` would
/// serialise.
pub(crate) fn write_object<T: Plain>(item: &T, shape: &Shape<'_>, out: &mut Vec<u8>) -> Option<()> {
    write_fields(shape, out, |p, out| {
        if p.name == "__typename" { write_json(out, T::TYPE) } else { item.write_field(p.name, p.sub.as_ref(), out) }
    })
}

/// `{"key":value,…}` for the fields of `shape`, each value written by `value`.
fn write_fields(
    shape: &Shape<'_>,
    out: &mut Vec<u8>,
    mut value: impl FnMut(&Part<'_>, &mut Vec<u8>) -> Option<()>,
) -> Option<()> {
    out.push(b'{');
    for (i, p) in shape.fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(out, p.key.as_str())?;
        out.push(b':');
        value(p, out)?;
    }
    out.push(b'}');
    Some(())
}

/// A plain Rust value written as JSON at the end of `out` (as its scalar's
/// `Value` serialises: strings, integers, booleans).
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Option<()> {
    serde_json::to_writer(out, v).ok()
}

/// A list of objects written as JSON at the end of `out`, as `list` would
/// serialise.
pub(crate) fn write_list<'i, T: Plain + 'i>(
    items: impl IntoIterator<Item = &'i T>,
    shape: &Shape<'_>,
    out: &mut Vec<u8>,
) -> Option<()> {
    out.push(b'[');
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_object(item, shape, out)?;
    }
    out.push(b']');
    Some(())
}

/// A list of objects, as `shape` asks for each.
pub(crate) fn list<'i, T: Plain + 'i>(items: impl IntoIterator<Item = &'i T>, shape: &Shape<'_>) -> Option<Value> {
    items.into_iter().map(|i| object(i, shape)).collect::<Option<Vec<_>>>().map(Value::List)
}

/// A scalar field's value, written as async-graphql writes it.
pub(crate) fn scalar<T: async_graphql::ScalarType>(v: &T) -> Value {
    v.to_value()
}

/// A nullable scalar field's value: the scalar, or `null`.
pub(crate) fn optional<T: async_graphql::ScalarType>(v: &Option<T>) -> Value {
    v.as_ref().map_or(Value::Null, scalar)
}

/// What the executing field asks of each item of the list it returns;
/// `None` when the plain path cannot take it.
pub(crate) fn shape_of<'a>(ctx: &Context<'a>) -> Option<Shape<'a>> {
    let mut fields = Vec::new();
    collect(ctx, &ctx.item.node.selection_set.node, &mut fields, 0)?;
    nonempty(fields)
}

/// A selection `@skip` emptied is answered `null` by async-graphql, not
/// `{}`: the normal path gives it.
fn nonempty(fields: Vec<Part<'_>>) -> Option<Shape<'_>> {
    (!fields.is_empty()).then_some(Shape { fields })
}

/// Deeper than this, the normal path (the schema's depth limit holds anyway).
const MAX_DEPTH: usize = 16;

/// async-graphql has already taken out what `@skip`/`@include` leave out,
/// and the directives themselves, before execution: a directive still here
/// is another one, for the normal path.
fn collect<'a>(ctx: &Context<'a>, set: &'a SelectionSet, out: &mut Vec<Part<'a>>, depth: usize) -> Option<()> {
    use async_graphql::parser::types::Selection;
    if depth > MAX_DEPTH {
        return None;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(f) => {
                let f = &f.node;
                if !f.directives.is_empty() || !f.arguments.is_empty() {
                    return None;
                }
                let key = &f.response_key().node;
                if out.iter().any(|p| p.key == key) {
                    // Merging two selections of one key: the normal path.
                    return None;
                }
                let sub = if f.selection_set.node.items.is_empty() {
                    None
                } else {
                    let mut fields = Vec::new();
                    collect(ctx, &f.selection_set.node, &mut fields, depth + 1)?;
                    Some(nonempty(fields)?)
                };
                out.push(Part { key, name: f.name.node.as_str(), sub });
            }
            Selection::FragmentSpread(s) => {
                if !s.node.directives.is_empty() {
                    return None;
                }
                let fragment = ctx.query_env.fragments.get(&s.node.fragment_name.node)?;
                collect(ctx, &fragment.node.selection_set.node, out, depth + 1)?;
            }
            Selection::InlineFragment(i) => {
                if !i.node.directives.is_empty() {
                    return None;
                }
                collect(ctx, &i.node.selection_set.node, out, depth + 1)?;
            }
        }
    }
    Some(())
}

/// An answer written by the plain path or left to the normal path, with
/// the schema type of `T` (`Listed<T>`: a list; a connection page).
pub(crate) enum Answered<T> {
    /// Written by the plain path (taken once, when resolved).
    Plain(Mutex<Option<Value>>),
    /// For the normal path.
    Normal(T),
}

/// A list answered either way, with the schema type of `Vec<T>`.
pub(crate) type Listed<T> = Answered<Vec<T>>;

impl<T> Answered<T> {
    pub(crate) fn plain(value: Value) -> Self {
        Answered::Plain(Mutex::new(Some(value)))
    }
}

impl<T: Plain + OutputType> Answered<Vec<T>> {
    /// The plain answer if the selection allows it, else the objects;
    /// written straight to JSON when the HTTP layer gave the request its
    /// splices (building a `Value` tree and serialising it was a tenth of
    /// a computed department head's page).
    pub(crate) fn of(ctx: &Context<'_>, items: Vec<T>) -> Self {
        let Some(shape) = shape_of(ctx) else {
            return Answered::Normal(items);
        };
        let answer = match super::written::splices(ctx) {
            Some(splices) => written(&items, &shape).map(|out| splices.hold(out.into())),
            None => list(&items, &shape),
        };
        match answer {
            Some(value) => Answered::plain(value),
            None => Answered::Normal(items),
        }
    }
}

impl<T: Plain + OutputType> Answered<Vec<T>> {
    /// [`Answered::of`] for a list derived from a rubric version's tree
    /// alone (its sections, its indicators): written once per selection and
    /// kept with the tree (`VersionTree::derived`), so a frozen version's
    /// sections are not written again for every department head's page.
    pub(crate) fn of_tree(
        ctx: &Context<'_>,
        derived: &kaohe_service::rubric::query::Derived,
        list: &str,
        items: impl FnOnce() -> Vec<T>,
    ) -> Self {
        let (Some(shape), Some(splices)) = (shape_of(ctx), super::written::splices(ctx)) else {
            return Self::of(ctx, items());
        };
        let key = format!("{list} {}", shape.fingerprint());
        let hold =
            |bytes: std::sync::Arc<[u8]>| Answered::plain(splices.hold(actix_web::web::Bytes::from_owner(bytes)));
        if let Some(bytes) = derived.get(&key) {
            return hold(bytes);
        }
        let items = items();
        let Some(out) = written(&items, &shape) else {
            return Answered::Normal(items);
        };
        let bytes: std::sync::Arc<[u8]> = out.into();
        derived.keep(key, bytes.clone());
        hold(bytes)
    }
}

/// `items` written as a JSON list, as `shape` asks for each.
fn written<T: Plain>(items: &[T], shape: &Shape<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(64 * items.len() + 2);
    write_list(items, shape, &mut out).map(|()| out)
}

impl<T: OutputType> OutputType for Answered<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<async_graphql::parser::types::Field>,
    ) -> ServerResult<Value> {
        match self {
            Answered::Plain(value) => {
                crate::http::responses::plain_answer(ctx);
                let taken = value.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                Ok(taken.unwrap_or(Value::Null))
            }
            Answered::Normal(inner) => inner.resolve(ctx, field).await,
        }
    }
}

/// The names a connection's page is written under (`__typename`).
pub(crate) struct PageTypes {
    pub connection: &'static str,
    pub edge: &'static str,
}

/// A page of a Relay connection, as `shape` asks for it: `totalCount`,
/// `pageInfo` and `edges { cursor node }` of `rows` read at `offset` out
/// of `total` (as `connection!`'s `build` makes them).
pub(crate) fn page<T: Plain>(
    types: &PageTypes,
    rows: &[T],
    offset: u64,
    total: u64,
    shape: &Shape<'_>,
) -> Option<Value> {
    let info = super::connection::PageInfo::of(offset, rows.len() as u64, total);
    let mut map = IndexMap::with_capacity(shape.fields.len());
    for p in &shape.fields {
        let value = match (p.name, p.sub.as_ref()) {
            ("__typename", _) => Value::String(types.connection.to_string()),
            ("totalCount", None) => scalar(&i64::try_from(total).unwrap_or(i64::MAX)),
            ("pageInfo", Some(sub)) => object(&info, sub)?,
            ("edges", Some(sub)) => {
                let mut edges = Vec::with_capacity(rows.len());
                for (i, row) in rows.iter().enumerate() {
                    edges.push(edge(types.edge, row, offset + i as u64, sub)?);
                }
                Value::List(edges)
            }
            _ => return None,
        };
        map.insert(p.key.clone(), value);
    }
    Some(Value::Object(map))
}

/// [`page`] written straight to JSON (no `Value` tree: for a page of 100
/// units, building and then serialising one was about a tenth of a
/// computed answer's CPU), the same bytes.
pub(crate) fn write_page<T: Plain>(
    types: &PageTypes,
    rows: &[T],
    offset: u64,
    total: u64,
    shape: &Shape<'_>,
) -> Option<Vec<u8>> {
    let info = super::connection::PageInfo::of(offset, rows.len() as u64, total);
    let mut out = Vec::with_capacity(64 + 128 * rows.len());
    write_fields(shape, &mut out, |p, out| match (p.name, p.sub.as_ref()) {
        ("__typename", _) => write_json(out, types.connection),
        ("totalCount", None) => write_json(out, &i64::try_from(total).unwrap_or(i64::MAX)),
        ("pageInfo", Some(sub)) => write_object(&info, sub, out),
        ("edges", Some(sub)) => {
            out.push(b'[');
            for (n, row) in rows.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                let at = offset + n as u64;
                write_fields(sub, out, |p, out| match (p.name, p.sub.as_ref()) {
                    ("__typename", _) => write_json(out, types.edge),
                    ("cursor", None) => write_json(out, &super::connection::cursor(at)),
                    ("node", Some(sub)) => write_object(row, sub, out),
                    _ => None,
                })?;
            }
            out.push(b']');
            Some(())
        }
        _ => None,
    })?;
    Some(out)
}

/// A page answered by the plain path: written to JSON and put in place by
/// the HTTP layer (`written::Splices`) when it gave the request its
/// splices, else as a `Value`; `None` when the selection needs the normal
/// path.
pub(crate) fn answer_page<T: Plain, U>(
    ctx: &Context<'_>,
    types: &PageTypes,
    rows: &[T],
    offset: u64,
    total: u64,
    shape: &Shape<'_>,
) -> Option<Answered<U>> {
    match super::written::splices(ctx) {
        Some(splices) => {
            let bytes = write_page(types, rows, offset, total, shape)?;
            Some(Answered::plain(splices.hold(bytes.into())))
        }
        None => page(types, rows, offset, total, shape).map(Answered::plain),
    }
}

fn edge<T: Plain>(type_name: &str, row: &T, at: u64, shape: &Shape<'_>) -> Option<Value> {
    let mut map = IndexMap::with_capacity(shape.fields.len());
    for p in &shape.fields {
        let value = match (p.name, p.sub.as_ref()) {
            ("__typename", _) => Value::String(type_name.to_string()),
            ("cursor", None) => Value::String(super::connection::cursor(at)),
            ("node", Some(sub)) => object(row, sub)?,
            _ => return None,
        };
        map.insert(p.key.clone(), value);
    }
    Some(Value::Object(map))
}

impl Plain for super::connection::PageInfo {
    const TYPE: &'static str = "PageInfo";

    fn field(&self, name: &str, _: Option<&Shape<'_>>) -> Option<Value> {
        Some(match name {
            "hasNextPage" => Value::Boolean(self.has_next_page),
            "hasPreviousPage" => Value::Boolean(self.has_previous_page),
            "startCursor" => optional(&self.start_cursor),
            "endCursor" => optional(&self.end_cursor),
            _ => return None,
        })
    }
}

impl<'a> Shape<'a> {
    /// A text that differs for any two shapes that write differently
    /// (keys, names, nesting), for keys of written answers.
    pub(crate) fn fingerprint(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) {
        for p in &self.fields {
            out.push_str(p.key.as_str());
            out.push(':');
            out.push_str(p.name);
            if let Some(sub) = &p.sub {
                out.push('{');
                sub.write_to(out);
                out.push('}');
            }
            out.push(' ');
        }
    }

    /// The names of every field asked under `path` (e.g. `edges`, `node`),
    /// through every response key that asks it.
    pub(crate) fn names_under(&self, path: &[&str]) -> Vec<&'a str> {
        let Some((first, rest)) = path.split_first() else {
            return self.fields.iter().map(|p| p.name).collect();
        };
        let mut out = Vec::new();
        for part in self.fields.iter().filter(|p| p.name == *first) {
            if let Some(sub) = &part.sub {
                out.extend(sub.names_under(rest));
            }
        }
        out
    }
}
