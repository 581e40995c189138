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

/// A list of objects, as `shape` asks for each.
pub(crate) fn list<'i, T: Plain + 'i>(items: impl IntoIterator<Item = &'i T>, shape: &Shape<'_>) -> Option<Value> {
    items.into_iter().map(|i| object(i, shape)).collect::<Option<Vec<_>>>().map(Value::List)
}

/// A scalar field's value, written as async-graphql writes it.
pub(crate) fn scalar<T: async_graphql::ScalarType>(v: &T) -> Value {
    v.to_value()
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

/// A list answered either way, with the schema type of `Vec<T>`.
pub(crate) enum Listed<T> {
    /// Written by the plain path (taken once, when resolved).
    Plain(Mutex<Option<Value>>),
    /// For the normal path.
    Objects(Vec<T>),
}

impl<T: Plain + OutputType> Listed<T> {
    /// The plain answer if the selection allows it, else the objects.
    pub(crate) fn of(ctx: &Context<'_>, items: Vec<T>) -> Self {
        match shape_of(ctx).and_then(|shape| list(&items, &shape)) {
            Some(value) => Listed::Plain(Mutex::new(Some(value))),
            None => Listed::Objects(items),
        }
    }
}

impl<T: OutputType> OutputType for Listed<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<async_graphql::parser::types::Field>,
    ) -> ServerResult<Value> {
        match self {
            Listed::Plain(value) => {
                let taken = value.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                Ok(taken.unwrap_or(Value::Null))
            }
            Listed::Objects(items) => items.resolve(ctx, field).await,
        }
    }
}
