//! Adding, changing and removing a draft's indicators (考核指标).
//!
//! Removing an indicator that has indicators below it or rules is refused
//! unless the caller passes `cascade`: then the whole subtree goes (its
//! indicators, groups, clauses and rules), in one audited transaction.

use std::collections::{HashMap, HashSet};

use entity::states::IndicatorRole;
use entity::{clause, indicator, indicator_group, rule};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::{Edited, Editing, Patch, bad, code, patch_decimal, patch_text, position, required, rules};
use crate::audit::ChainKey;
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::rubric::stored_role;

/// An indicator's fields; on a change, fields left out stay as they are.
#[derive(Default)]
pub struct IndicatorFields {
    pub code: Option<String>,
    pub title: Option<String>,
    /// `Some(None)`: a section (一级指标).
    pub parent_id: Patch<i64>,
    pub max_points: Patch<String>,
    /// Sections only (percent of the scale).
    pub weight: Patch<String>,
    /// Sections only; indicators below inherit their section's.
    pub role: Option<kaohe_engine::rubric::Role>,
    pub department: Patch<String>,
    pub note: Patch<String>,
    /// Document order among the version's indicators.
    pub position: Option<i32>,
}

fn snapshot(i: &indicator::Model) -> serde_json::Value {
    json!({
        "id": i.id, "code": i.code, "title": i.title, "parent_id": i.parent_id, "depth": i.depth,
        "position": i.position, "max_points": i.max_points, "weight": i.weight, "role": i.role,
        "department": i.department, "note": i.note,
    })
}

async fn all_of<C: ConnectionTrait>(conn: &C, version_id: i64) -> Result<Vec<indicator::Model>, ServiceError> {
    Ok(indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version_id))
        .order_by_asc(indicator::Column::Position)
        .all(conn)
        .await?)
}

/// An indicator by id, or NOT_FOUND.
pub(super) async fn by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<indicator::Model, ServiceError> {
    indicator::Entity::find_by_id(id).one(conn).await?.ok_or_else(|| ServiceError::not_found("indicator"))
}

/// Checks the fields against the draft's other indicators and returns the row to write.
async fn apply(
    e: &Editing,
    all: &[indicator::Model],
    current: Option<&indicator::Model>,
    f: IndicatorFields,
) -> Result<indicator::ActiveModel, ServiceError> {
    let own_id = current.map(|c| c.id);
    let code = match (&f.code, current) {
        (Some(c), _) => code("code", c)?,
        (None, Some(cur)) => cur.code.clone(),
        (None, None) => return Err(bad("code", "is required")),
    };
    if all.iter().any(|i| i.code == code && Some(i.id) != own_id) {
        return Err(bad("code", format!("indicator `{code}` already exists in this draft")));
    }
    let title = match (&f.title, current) {
        (Some(t), _) => required("title", t, 500)?,
        (None, Some(cur)) => cur.title.clone(),
        (None, None) => return Err(bad("title", "is required")),
    };
    let parent_id = match f.parent_id {
        None => current.and_then(|c| c.parent_id),
        Some(p) => p,
    };
    if let Some(pid) = parent_id {
        check_parent(e, all, own_id, pid).await?;
    }
    let max_points = patch_decimal("maxPoints", f.max_points, current.and_then(|c| c.max_points), false)?;
    let weight = patch_decimal("weight", f.weight, current.and_then(|c| c.weight), true)?;
    if parent_id.is_some() && weight.is_some() {
        return Err(bad("weight", "only sections (indicators without a parent) carry a weight"));
    }
    if parent_id.is_some() && f.role.is_some() {
        return Err(bad("role", "only sections carry a role; the indicators below inherit their section's"));
    }
    let role = f.role.map(stored_role).or_else(|| current.map(|c| c.role));
    let next = all.iter().map(|i| i.position).max().map_or(0, |p| p.saturating_add(1));
    let position = match f.position {
        Some(p) => position("position", p)?,
        None => current.map_or(next, |c| c.position),
    };
    Ok(indicator::ActiveModel {
        id: own_id.map_or(sea_orm::ActiveValue::NotSet, Set),
        rubric_version_id: Set(e.draft.id),
        parent_id: Set(parent_id),
        code: Set(code),
        title: Set(title),
        // Depth and a child's role follow from the tree: `refresh_tree`.
        depth: Set(current.map_or(0, |c| c.depth)),
        position: Set(position),
        max_points: Set(max_points),
        weight: Set(weight),
        role: Set(role.unwrap_or(IndicatorRole::Base)),
        department: Set(patch_text("department", f.department, current.and_then(|c| c.department.clone()), 100)?),
        note: Set(patch_text("note", f.note, current.and_then(|c| c.note.clone()), 5000)?),
    })
}

/// The parent must be an indicator of the draft, not the indicator itself
/// or one below it, and without clauses (clauses belong on leaves).
async fn check_parent(
    e: &Editing,
    all: &[indicator::Model],
    own_id: Option<i64>,
    pid: i64,
) -> Result<(), ServiceError> {
    let by_id: HashMap<i64, &indicator::Model> = all.iter().map(|i| (i.id, i)).collect();
    let Some(parent) = by_id.get(&pid) else {
        return Err(bad("parentId", "no such indicator in this draft"));
    };
    let mut at = Some(pid);
    let mut steps = 0;
    while let Some(id) = at {
        if Some(id) == own_id {
            return Err(bad("parentId", "an indicator cannot be placed under itself or an indicator below it"));
        }
        steps += 1;
        at = if steps > all.len() { None } else { by_id.get(&id).and_then(|i| i.parent_id) };
    }
    let clauses = clause::Entity::find().filter(clause::Column::IndicatorId.eq(pid)).count(&e.txn).await?;
    if clauses > 0 {
        return Err(bad(
            "parentId",
            format!(
                "indicator `{}` has clauses; clauses belong on leaves, so it cannot take indicators below it",
                parent.code
            ),
        ));
    }
    Ok(())
}

/// Sets every indicator's depth and, below a section, the section's role.
async fn refresh_tree<C: ConnectionTrait>(conn: &C, version_id: i64) -> Result<(), ServiceError> {
    let all = all_of(conn, version_id).await?;
    let by_id: HashMap<i64, &indicator::Model> = all.iter().map(|i| (i.id, i)).collect();
    for ind in &all {
        let (mut depth, mut top) = (0_i32, ind);
        while let Some(p) = top.parent_id.and_then(|p| by_id.get(&p)) {
            depth += 1;
            top = p;
            if usize::try_from(depth).unwrap_or(usize::MAX) > all.len() {
                break;
            }
        }
        if ind.depth != depth || ind.role != top.role {
            indicator::Entity::update_many()
                .col_expr(indicator::Column::Depth, Expr::value(depth))
                .col_expr(indicator::Column::Role, Expr::value(top.role))
                .filter(indicator::Column::Id.eq(ind.id))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

/// Adds an indicator to a draft.
pub async fn add_indicator(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    version_id: i64,
    expected: i32,
    fields: IndicatorFields,
) -> Result<Edited, ServiceError> {
    let e = Editing::begin(db, chain_key, caller, version_id, expected, "rubric version").await?;
    let all = all_of(&e.txn, version_id).await?;
    let row = apply(&e, &all, None, fields).await?.insert(&e.txn).await?;
    refresh_tree(&e.txn, version_id).await?;
    let row = by_id(&e.txn, row.id).await?;
    e.finish(caller, "indicator.add", ("indicator", row.id), None, Some(snapshot(&row))).await
}

/// Changes an indicator of a draft; a new code renames its rules' codes.
pub async fn update_indicator(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    indicator_id: i64,
    expected: i32,
    fields: IndicatorFields,
) -> Result<Edited, ServiceError> {
    let current = by_id(db, indicator_id).await?;
    let e = Editing::begin(db, chain_key, caller, current.rubric_version_id, expected, "indicator").await?;
    let all = all_of(&e.txn, current.rubric_version_id).await?;
    let current = all.iter().find(|i| i.id == indicator_id).ok_or_else(|| ServiceError::not_found("indicator"))?;
    let row = apply(&e, &all, Some(current), fields).await?.update(&e.txn).await?;
    if row.code != current.code {
        for c in clause::Entity::find().filter(clause::Column::IndicatorId.eq(row.id)).all(&e.txn).await? {
            let old = format!("{}-{}", current.code, c.no);
            rules::recode(&e.txn, c.id, &old, &format!("{}-{}", row.code, c.no)).await?;
        }
    }
    refresh_tree(&e.txn, current.rubric_version_id).await?;
    let row = by_id(&e.txn, row.id).await?;
    let before = snapshot(current);
    e.finish(caller, "indicator.update", ("indicator", row.id), Some(before), Some(snapshot(&row))).await
}

/// Removes an indicator of a draft. With indicators below it or rules, only
/// when `cascade` is set (then all of them go with it).
pub async fn remove_indicator(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    indicator_id: i64,
    expected: i32,
    cascade: bool,
) -> Result<Edited, ServiceError> {
    let current = by_id(db, indicator_id).await?;
    let e = Editing::begin(db, chain_key, caller, current.rubric_version_id, expected, "indicator").await?;
    let all = all_of(&e.txn, current.rubric_version_id).await?;
    let mut subtree: Vec<&indicator::Model> = all.iter().filter(|i| i.id == indicator_id).collect();
    let mut seen: HashSet<i64> = HashSet::from([indicator_id]);
    let mut i = 0;
    while i < subtree.len() {
        let id = subtree[i].id;
        subtree.extend(all.iter().filter(|c| c.parent_id == Some(id) && seen.insert(c.id)));
        i += 1;
    }
    let ids: Vec<i64> = subtree.iter().map(|i| i.id).collect();
    let rule_count = rule::Entity::find().filter(rule::Column::IndicatorId.is_in(ids.clone())).count(&e.txn).await?;
    let below = ids.len().saturating_sub(1);
    if (below > 0 || rule_count > 0) && !cascade {
        return Err(bad(
            "cascade",
            format!(
                "indicator `{}` has {below} indicator(s) below it and {rule_count} rule(s); pass cascade: true to remove them with it",
                current.code
            ),
        ));
    }
    rule::Entity::delete_many().filter(rule::Column::IndicatorId.is_in(ids.clone())).exec(&e.txn).await?;
    clause::Entity::delete_many().filter(clause::Column::IndicatorId.is_in(ids.clone())).exec(&e.txn).await?;
    indicator_group::Entity::delete_many()
        .filter(indicator_group::Column::IndicatorId.is_in(ids.clone()))
        .exec(&e.txn)
        .await?;
    // Deepest first: a parent row goes only once nothing refers to it.
    subtree.sort_by_key(|i| std::cmp::Reverse(i.depth));
    for ind in &subtree {
        indicator::Entity::delete_by_id(ind.id).exec(&e.txn).await?;
    }
    let codes: Vec<&str> = subtree.iter().map(|i| i.code.as_str()).collect();
    let before = json!({ "indicator": snapshot(&current), "removed_indicators": codes, "removed_rules": rule_count });
    e.finish(caller, "indicator.remove", ("indicator", indicator_id), Some(before), None).await
}
