//! Adding, changing and removing a draft's rules (评分规则): the machine form
//! of a clause. A rule's code is `{indicator}-{clause no}{key}`; the params
//! must parse for the kind (the engine's file form: `{"points": "0.5",
//! "unit": "人次"}`), or the edit is refused naming `params`.

use entity::{clause, indicator, rule};
use kaohe_engine::rubric::Effect;
use kaohe_engine::rubric::file::RULE_KINDS as KINDS;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use super::{Edited, Editing, Patch, bad, clauses, code, indicators, patch_decimal, patch_text, position, required};
use crate::audit::ChainKey;
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::rubric::enum_text;
use crate::rubric::rebuild::{kind_from_params, kind_has_effect};

/// A rule's fields; on a change, fields left out stay as they are.
#[derive(Default)]
pub struct RuleFields {
    /// Suffix of the rule's code inside its clause (`a`, `b`, …); needed
    /// when the clause has several rules.
    pub key: Patch<String>,
    pub label: Patch<String>,
    pub kind: Option<String>,
    pub effect: Option<Effect>,
    /// The kind's parameters as a JSON object.
    pub params: Option<Value>,
    pub cap: Patch<String>,
    pub halving: Option<Vec<String>>,
    pub highest_only: Option<bool>,
    pub defer_late: Option<bool>,
    /// Order among the version's rules.
    pub position: Option<i32>,
}

fn snapshot(r: &rule::Model) -> Value {
    json!({
        "id": r.id, "code": r.code, "clause_id": r.clause_id, "label": r.label, "kind": r.kind,
        "effect": r.effect, "params": serde_json::from_str::<Value>(&r.params).unwrap_or(Value::Null),
        "cap": r.cap, "halving": r.halving, "highest_only": r.highest_only, "defer_late": r.defer_late,
        "position": r.position,
    })
}

async fn by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<rule::Model, ServiceError> {
    rule::Entity::find_by_id(id).one(conn).await?.ok_or_else(|| ServiceError::not_found("rule"))
}

/// Renames the codes of a clause's rules after its indicator's code or its
/// number changed: the key after the old prefix is kept.
pub(super) async fn recode<C: ConnectionTrait>(
    conn: &C,
    clause_id: i64,
    old_prefix: &str,
    new_prefix: &str,
) -> Result<(), ServiceError> {
    for r in rule::Entity::find().filter(rule::Column::ClauseId.eq(clause_id)).all(conn).await? {
        let Some(key) = r.code.strip_prefix(old_prefix) else { continue };
        rule::Entity::update_many()
            .col_expr(rule::Column::Code, Expr::value(format!("{new_prefix}{key}")))
            .filter(rule::Column::Id.eq(r.id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The stored effect and params of a rule: the kind must be known and the
/// params must parse for it (the error names the field).
fn checked_kind(kind: &str, effect: &str, params: Value) -> Result<(String, String), ServiceError> {
    if !KINDS.contains(&kind) {
        return Err(bad("kind", format!("unknown rule kind `{kind}`; the kinds are {}", KINDS.join(", "))));
    }
    let Value::Object(mut map) = params else {
        return Err(bad("params", "must be a JSON object, e.g. {\"points\": \"0.5\"}"));
    };
    if let Some(k) = map.remove("kind")
        && k.as_str() != Some(kind)
    {
        return Err(bad("params", format!("names kind {k}, the rule's kind is `{kind}`")));
    }
    if map.contains_key("effect") {
        return Err(bad("params", "give the effect in `effect`, not in the params"));
    }
    let file = kind_from_params(kind, effect, Value::Object(map))
        .map_err(|e| bad("params", format!("{e} (a {kind} rule)")))?;
    let mut stored = serde_json::to_value(&file).map_err(ServiceError::internal)?;
    if let Value::Object(m) = &mut stored {
        m.remove("effect");
    }
    // What the engine makes of the kinds that name no effect.
    let effect = match kind {
        "rating" | "direct" => "add",
        "veto" => "deduct",
        _ => effect,
    };
    Ok((effect.to_string(), stored.to_string()))
}

/// Checks the fields against the clause and the draft's other rules.
async fn apply(
    e: &Editing,
    ind: &indicator::Model,
    cl: &clause::Model,
    current: Option<&rule::Model>,
    f: RuleFields,
) -> Result<rule::ActiveModel, ServiceError> {
    let prefix = format!("{}-{}", ind.code, cl.no);
    let key = match f.key {
        None => current.and_then(|r| r.code.strip_prefix(&prefix)).filter(|k| !k.is_empty()).map(str::to_string),
        Some(None) => None,
        Some(Some(k)) => Some(code("key", &k)?),
    };
    let rule_code = format!("{prefix}{}", key.as_deref().unwrap_or(""));
    let clash = rule::Entity::find()
        .filter(rule::Column::RubricVersionId.eq(e.draft.id))
        .filter(rule::Column::Code.eq(rule_code.as_str()))
        .one(&e.txn)
        .await?;
    if clash.is_some_and(|c| Some(c.id) != current.map(|r| r.id)) {
        let hint = if key.is_none() { "; give this rule a `key` (a, b, …)" } else { "" };
        return Err(bad("key", format!("rule `{rule_code}` already exists in this draft{hint}")));
    }
    let kind = match (&f.kind, current) {
        (Some(k), _) => k.trim().to_string(),
        (None, Some(r)) => r.kind.clone(),
        (None, None) => return Err(bad("kind", "is required")),
    };
    let effect = match (f.effect, current) {
        (Some(e), _) => enum_text(&e),
        (None, Some(r)) => r.effect.clone(),
        (None, None) if kind_has_effect(&kind) => {
            return Err(bad("effect", format!("a {kind} rule deducts or adds: give its effect")));
        }
        (None, None) => enum_text(&Effect::Add),
    };
    let params = match (f.params, current) {
        (Some(p), _) => p,
        (None, Some(r)) => serde_json::from_str(&r.params).map_err(ServiceError::internal)?,
        (None, None) => json!({}),
    };
    let (effect, params) = checked_kind(&kind, &effect, params)?;
    let halving = match f.halving {
        Some(list) => {
            let list = list.iter().map(|h| required("halving", h, 50)).collect::<Result<Vec<_>, _>>()?;
            serde_json::to_string(&list).map_err(ServiceError::internal)?
        }
        None => current.map_or_else(|| "[]".to_string(), |r| r.halving.clone()),
    };
    let next = rule::Entity::find()
        .filter(rule::Column::RubricVersionId.eq(e.draft.id))
        .all(&e.txn)
        .await?
        .iter()
        .map(|r| r.position)
        .max()
        .map_or(0, |p| p.saturating_add(1));
    Ok(rule::ActiveModel {
        id: current.map_or(sea_orm::ActiveValue::NotSet, |r| Set(r.id)),
        rubric_version_id: Set(e.draft.id),
        indicator_id: Set(ind.id),
        clause_id: Set(cl.id),
        code: Set(rule_code),
        label: Set(patch_text("label", f.label, current.and_then(|r| r.label.clone()), 200)?),
        kind: Set(kind),
        effect: Set(effect),
        params: Set(params),
        cap: Set(patch_decimal("cap", f.cap, current.and_then(|r| r.cap), false)?),
        halving: Set(halving),
        highest_only: Set(f.highest_only.or(current.map(|r| r.highest_only)).unwrap_or(false)),
        defer_late: Set(f.defer_late.or(current.map(|r| r.defer_late)).unwrap_or(false)),
        position: Set(match f.position {
            Some(p) => position("position", p)?,
            None => current.map_or(next, |r| r.position),
        }),
    })
}

/// Adds a rule to a clause of a draft.
pub async fn add_rule(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    clause_id: i64,
    expected: i32,
    fields: RuleFields,
) -> Result<Edited, ServiceError> {
    let cl = clauses::by_id(db, clause_id).await?;
    let ind = indicators::by_id(db, cl.indicator_id).await?;
    let e = Editing::begin(db, chain_key, caller, ind.rubric_version_id, expected, "clause").await?;
    let cl = clauses::by_id(&e.txn, clause_id).await?;
    if cl.informational {
        return Err(bad("clauseId", format!("clause {} is informational (scores nothing); it takes no rules", cl.no)));
    }
    let row = apply(&e, &ind, &cl, None, fields).await?.insert(&e.txn).await?;
    e.finish(caller, "rule.add", ("rule", row.id), None, Some(snapshot(&row))).await
}

/// Changes a rule of a draft (its key, kind, effect, params, cap, modifiers).
pub async fn update_rule(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rule_id: i64,
    expected: i32,
    fields: RuleFields,
) -> Result<Edited, ServiceError> {
    let current = by_id(db, rule_id).await?;
    let e = Editing::begin(db, chain_key, caller, current.rubric_version_id, expected, "rule").await?;
    let current = by_id(&e.txn, rule_id).await?;
    let cl = clauses::by_id(&e.txn, current.clause_id).await?;
    let ind = indicators::by_id(&e.txn, current.indicator_id).await?;
    let row = apply(&e, &ind, &cl, Some(&current), fields).await?.update(&e.txn).await?;
    let before = snapshot(&current);
    e.finish(caller, "rule.update", ("rule", row.id), Some(before), Some(snapshot(&row))).await
}

/// Removes a rule of a draft.
pub async fn remove_rule(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rule_id: i64,
    expected: i32,
) -> Result<Edited, ServiceError> {
    let current = by_id(db, rule_id).await?;
    let e = Editing::begin(db, chain_key, caller, current.rubric_version_id, expected, "rule").await?;
    rule::Entity::delete_by_id(rule_id).exec(&e.txn).await?;
    e.finish(caller, "rule.remove", ("rule", rule_id), Some(snapshot(&current)), None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ServiceError) -> String {
        e.to_string()
    }

    #[test]
    fn params_are_stored_in_the_file_form_without_the_effect() {
        let (effect, params) = checked_kind("per_count", "deduct", json!({ "points": 0.5, "unit": "人次" })).unwrap();
        assert_eq!(effect, "deduct");
        let v: Value = serde_json::from_str(&params).unwrap();
        assert_eq!(v, json!({ "kind": "per_count", "points": "0.5", "unit": "人次" }));
        // A rule read back (its `kind` key included) may be sent as it is.
        assert!(checked_kind("per_count", "add", v).is_ok());
        // Kinds without an effect take the engine's.
        assert_eq!(checked_kind("direct", "deduct", json!({})).unwrap().0, "add");
        assert_eq!(checked_kind("veto", "add", json!({})).unwrap().0, "deduct");
    }

    #[test]
    fn bad_kinds_and_params_name_the_field() {
        let e = message(checked_kind("per_cnt", "deduct", json!({})).unwrap_err());
        assert!(e.starts_with("`kind`: unknown rule kind `per_cnt`"), "{e}");
        let e = message(checked_kind("per_count", "deduct", json!({ "pts": "1" })).unwrap_err());
        assert!(e.starts_with("`params`:") && e.contains("pts"), "{e}");
        let e = message(checked_kind("per_count", "deduct", json!({})).unwrap_err());
        assert!(e.contains("missing field `points`"), "{e}");
        let e = message(checked_kind("per_count", "deduct", json!({ "points": "abc" })).unwrap_err());
        assert!(e.contains("`abc` is not a number"), "{e}");
        let e = message(checked_kind("flag", "add", json!({ "kind": "per_count", "points": "1" })).unwrap_err());
        assert!(e.starts_with("`params`: names kind"), "{e}");
        let e = message(checked_kind("flag", "add", json!({ "effect": "add", "points": "1" })).unwrap_err());
        assert!(e.contains("`effect`"), "{e}");
        assert!(checked_kind("flag", "add", json!([1])).is_err());
    }
}
