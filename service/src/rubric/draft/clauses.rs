//! Adding, changing and removing a draft's clauses (细则条款): the verbatim
//! text of one numbered item, on a leaf indicator.

use entity::{clause, indicator, indicator_group, rule};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;

use super::indicators;
use super::{Edited, Editing, Patch, bad, code, patch_decimal, position, required, rules};
use crate::audit::ChainKey;
use crate::caller::Caller;
use crate::error::ServiceError;

/// A clause's fields; on a change, fields left out stay as they are.
#[derive(Default)]
pub struct ClauseFields {
    /// Item number as printed (条款序号), unique in its indicator.
    pub no: Option<String>,
    pub text: Option<String>,
    /// Key of one of the indicator's groups.
    pub group: Patch<String>,
    pub cap: Patch<String>,
    pub informational: Option<bool>,
    /// Order among the indicator's clauses.
    pub position: Option<i32>,
}

fn snapshot(c: &clause::Model) -> serde_json::Value {
    json!({
        "id": c.id, "indicator_id": c.indicator_id, "no": c.no, "text": c.text, "group": c.group_key,
        "cap": c.cap, "informational": c.informational, "position": c.position,
    })
}

pub(super) async fn by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<clause::Model, ServiceError> {
    clause::Entity::find_by_id(id).one(conn).await?.ok_or_else(|| ServiceError::not_found("clause"))
}

/// Checks the fields against the indicator's other clauses and groups.
async fn apply(
    e: &Editing,
    ind: &indicator::Model,
    current: Option<&clause::Model>,
    f: ClauseFields,
) -> Result<clause::ActiveModel, ServiceError> {
    let siblings = clause::Entity::find().filter(clause::Column::IndicatorId.eq(ind.id)).all(&e.txn).await?;
    let own_id = current.map(|c| c.id);
    let no = match (&f.no, current) {
        (Some(n), _) => code("no", n)?,
        (None, Some(c)) => c.no.clone(),
        (None, None) => return Err(bad("no", "is required")),
    };
    if siblings.iter().any(|c| c.no == no && Some(c.id) != own_id) {
        return Err(bad("no", format!("indicator `{}` already has a clause {no}", ind.code)));
    }
    let text = match (&f.text, current) {
        (Some(t), _) => required("text", t, 10_000)?,
        (None, Some(c)) => c.text.clone(),
        (None, None) => return Err(bad("text", "is required")),
    };
    let group = match f.group {
        None => current.and_then(|c| c.group_key.clone()),
        Some(None) => None,
        Some(Some(k)) => {
            let k = k.trim().to_string();
            let known = indicator_group::Entity::find()
                .filter(indicator_group::Column::IndicatorId.eq(ind.id))
                .filter(indicator_group::Column::Key.eq(k.as_str()))
                .one(&e.txn)
                .await?;
            if known.is_none() {
                return Err(bad("group", format!("indicator `{}` has no group `{k}`", ind.code)));
            }
            Some(k)
        }
    };
    let informational = f.informational.or(current.map(|c| c.informational)).unwrap_or(false);
    if informational && let Some(id) = own_id {
        let n = rule::Entity::find().filter(rule::Column::ClauseId.eq(id)).count(&e.txn).await?;
        if n > 0 {
            return Err(bad(
                "informational",
                format!("clause {no} has {n} rule(s); an informational clause scores nothing"),
            ));
        }
    }
    let next = siblings.iter().map(|c| c.position).max().map_or(0, |p| p.saturating_add(1));
    Ok(clause::ActiveModel {
        id: own_id.map_or(sea_orm::ActiveValue::NotSet, Set),
        indicator_id: Set(ind.id),
        no: Set(no),
        text: Set(text),
        group_key: Set(group),
        cap: Set(patch_decimal("cap", f.cap, current.and_then(|c| c.cap), false)?),
        informational: Set(informational),
        position: Set(match f.position {
            Some(p) => position("position", p)?,
            None => current.map_or(next, |c| c.position),
        }),
    })
}

/// Adds a clause to a leaf indicator of a draft.
pub async fn add_clause(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    indicator_id: i64,
    expected: i32,
    fields: ClauseFields,
) -> Result<Edited, ServiceError> {
    let ind = indicators::by_id(db, indicator_id).await?;
    let e = Editing::begin(db, chain_key, caller, ind.rubric_version_id, expected, "indicator").await?;
    let children = indicator::Entity::find().filter(indicator::Column::ParentId.eq(ind.id)).count(&e.txn).await?;
    if children > 0 {
        return Err(bad(
            "indicatorId",
            format!("indicator `{}` has indicators below it; clauses belong on leaves", ind.code),
        ));
    }
    let row = apply(&e, &ind, None, fields).await?.insert(&e.txn).await?;
    e.finish(caller, "clause.add", ("clause", row.id), None, Some(snapshot(&row))).await
}

/// Changes a clause of a draft; a new number renames its rules' codes.
pub async fn update_clause(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    clause_id: i64,
    expected: i32,
    fields: ClauseFields,
) -> Result<Edited, ServiceError> {
    let current = by_id(db, clause_id).await?;
    let ind = indicators::by_id(db, current.indicator_id).await?;
    let e = Editing::begin(db, chain_key, caller, ind.rubric_version_id, expected, "clause").await?;
    let current = by_id(&e.txn, clause_id).await?;
    let row = apply(&e, &ind, Some(&current), fields).await?.update(&e.txn).await?;
    if row.no != current.no {
        let (old, new) = (format!("{}-{}", ind.code, current.no), format!("{}-{}", ind.code, row.no));
        rules::recode(&e.txn, row.id, &old, &new).await?;
    }
    let before = snapshot(&current);
    e.finish(caller, "clause.update", ("clause", row.id), Some(before), Some(snapshot(&row))).await
}

/// Removes a clause of a draft. With rules, only when `cascade` is set.
pub async fn remove_clause(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    clause_id: i64,
    expected: i32,
    cascade: bool,
) -> Result<Edited, ServiceError> {
    let current = by_id(db, clause_id).await?;
    let ind = indicators::by_id(db, current.indicator_id).await?;
    let e = Editing::begin(db, chain_key, caller, ind.rubric_version_id, expected, "clause").await?;
    let n = rule::Entity::find().filter(rule::Column::ClauseId.eq(clause_id)).count(&e.txn).await?;
    if n > 0 && !cascade {
        return Err(bad(
            "cascade",
            format!("clause {} has {n} rule(s); pass cascade: true to remove them with it", current.no),
        ));
    }
    rule::Entity::delete_many().filter(rule::Column::ClauseId.eq(clause_id)).exec(&e.txn).await?;
    clause::Entity::delete_by_id(clause_id).exec(&e.txn).await?;
    let before = json!({ "clause": snapshot(&current), "indicator": ind.code, "removed_rules": n });
    e.finish(caller, "clause.remove", ("clause", clause_id), Some(before), None).await
}
