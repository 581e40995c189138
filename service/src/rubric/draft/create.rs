//! Creating a draft (empty, or a deep copy of another version of the same
//! rubric) and editing its header.

use std::collections::HashMap;

use chrono::Utc;
use entity::states::VersionStatus;
use entity::{Exact, clause, indicator, indicator_group, rubric, rubric_version, rule};
use kaohe_engine::rubric::Regime;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;

use super::{Edited, Editing, Patch, bad, decimal, optional, patch_decimal, patch_text, required};
use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::rubric::enum_text;
use crate::rubric::query::{self};
use crate::{db, idempotency, policy};

/// What creating a draft needs. Header fields left out are taken from the
/// copied version; an empty draft needs its regime (scale defaults to 100).
pub struct NewDraft {
    pub rubric_id: i64,
    pub label: String,
    pub title: String,
    pub copy_from_version_id: Option<i64>,
    pub regime: Option<Regime>,
    pub scale: Option<String>,
    pub bonus_cap: Option<String>,
    pub source: Option<String>,
    pub idempotency_key: Option<String>,
}

/// A change of a draft's header; fields left out stay as they are.
pub struct HeaderChange {
    pub label: Option<String>,
    pub title: Option<String>,
    pub regime: Option<Regime>,
    pub scale: Option<String>,
    pub bonus_cap: Patch<String>,
    pub source: Patch<String>,
}

pub(super) fn snapshot(v: &rubric_version::Model) -> serde_json::Value {
    json!({
        "id": v.id, "label": v.label, "title": v.title, "status": v.status, "regime": v.regime,
        "scale": v.scale, "bonus_cap": v.bonus_cap, "source": v.source, "version": v.version,
    })
}

/// CONFLICT if another version of the rubric has this label. The caller
/// holds the rubric's row lock (see `lock_rubric`).
async fn ensure_label_free<C: ConnectionTrait>(
    conn: &C,
    rubric_id: i64,
    label: &str,
    except: Option<i64>,
) -> Result<(), ServiceError> {
    let mut q = rubric_version::Entity::find()
        .filter(rubric_version::Column::RubricId.eq(rubric_id))
        .filter(rubric_version::Column::Label.eq(label));
    if let Some(id) = except {
        q = q.filter(rubric_version::Column::Id.ne(id));
    }
    if q.one(conn).await?.is_some() {
        return Err(ServiceError::Conflict(format!("the rubric already has a version labelled `{label}`")));
    }
    Ok(())
}

/// Takes the rubric's row lock: on PostgreSQL two requests choosing the same
/// label then cannot both pass the check (SQLite's `BEGIN IMMEDIATE` already
/// lets one writer in at a time).
async fn lock_rubric<C: ConnectionTrait>(conn: &C, rubric_id: i64) -> Result<(), ServiceError> {
    rubric::Entity::find_by_id(rubric_id).lock_exclusive().one(conn).await?;
    Ok(())
}

/// Creates a draft version. The same idempotency key for the rubric returns
/// the draft it created the first time.
pub async fn create(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    input: NewDraft,
) -> Result<rubric_version::Model, ServiceError> {
    policy::signed_in(caller)?;
    let rubric_row = query::by_id(db, caller, input.rubric_id).await?;
    let authorized =
        policy::may_edit_rubrics(caller, rubric_row.organisation_id).map_err(|e| e.not_found_as("rubric"))?;
    let params = json!({
        "rubric": rubric_row.id, "label": input.label.trim(), "title": input.title.trim(),
        "copy_from": input.copy_from_version_id, "regime": input.regime.as_ref().map(enum_text),
        "scale": input.scale, "bonus_cap": input.bonus_cap, "source": input.source,
    });
    let key = idempotency::key(&authorized, "createRubricVersionDraft", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return rubric_version::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("rubric version {id} of an idempotency key").into()));
    }
    let label = required("label", &input.label, 50)?;
    let title = required("title", &input.title, 200)?;
    let from = match input.copy_from_version_id {
        None => None,
        Some(id) => {
            let v = query::version_by_id(db, caller, id).await?;
            if v.rubric_id != rubric_row.id {
                return Err(bad("copyFromVersionId", format!("version {id} is not a version of this rubric")));
            }
            Some(v)
        }
    };
    let regime = match (input.regime, &from) {
        (Some(r), _) => enum_text(&r),
        (None, Some(v)) => v.regime.clone(),
        (None, None) => return Err(bad("regime", "an empty draft needs its regime (annual or monthly)")),
    };
    let scale = match &input.scale {
        Some(t) => decimal("scale", t, true)?,
        None => from.as_ref().map_or(Decimal::ONE_HUNDRED, |v| v.scale.0),
    };
    let bonus_cap = match &input.bonus_cap {
        Some(t) => Some(Exact(decimal("bonusCap", t, false)?)),
        None => from.as_ref().and_then(|v| v.bonus_cap),
    };
    let source = optional("source", input.source, 500)?.or_else(|| from.as_ref().and_then(|v| v.source.clone()));

    let txn = db::begin_write(db).await?;
    lock_rubric(&txn, rubric_row.id).await?;
    ensure_label_free(&txn, rubric_row.id, &label, None).await?;
    let now = Utc::now();
    let draft = rubric_version::ActiveModel {
        rubric_id: Set(rubric_row.id),
        label: Set(label),
        title: Set(title),
        status: Set(VersionStatus::Draft),
        scale: Set(Exact(scale)),
        bonus_cap: Set(bonus_cap),
        regime: Set(regime),
        source: Set(source),
        file_name: Set(None),
        source_sha256: Set(None),
        version: Set(1),
        published_at: Set(None),
        created_at: Set(now),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idempotency::remember(&txn, key.as_ref(), draft.id).await?;
    let copied = match &from {
        Some(v) => Some(copy_tree(&txn, v.id, draft.id).await?),
        None => None,
    };
    audit::record(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(rubric_row.organisation_id),
            action: "rubric_version.create_draft",
            entity: "rubric_version",
            entity_id: Some(draft.id.to_string()),
            before: None,
            after: Some(json!({
                "rubric": rubric_row.code,
                "draft": snapshot(&draft),
                "copied_from": from.as_ref().map(|v| json!({ "id": v.id, "label": v.label })),
                "copied": copied.map(|(i, r)| json!({ "indicators": i, "rules": r })),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(draft)
}

/// Copies every indicator, group, clause and rule of version `from` into
/// `to`, with parent, indicator and clause links pointing at the copies.
/// Returns how many indicators and rules were copied.
async fn copy_tree<C: ConnectionTrait>(conn: &C, from: i64, to: i64) -> Result<(usize, usize), ServiceError> {
    // Parents before children (depth is kept up to date in drafts too).
    let indicators = indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(from))
        .order_by_asc(indicator::Column::Depth)
        .order_by_asc(indicator::Column::Position)
        .all(conn)
        .await?;
    let mut new_indicator: HashMap<i64, i64> = HashMap::new();
    let mut new_clause: HashMap<i64, i64> = HashMap::new();
    for ind in &indicators {
        let parent_id = match ind.parent_id {
            None => None,
            Some(p) => Some(*new_indicator.get(&p).ok_or_else(|| broken(from, ind.id))?),
        };
        let mut am: indicator::ActiveModel = ind.clone().into();
        am.id = sea_orm::ActiveValue::NotSet;
        am.rubric_version_id = Set(to);
        am.parent_id = Set(parent_id);
        let copy = am.insert(conn).await?;
        new_indicator.insert(ind.id, copy.id);
        for g in
            indicator_group::Entity::find().filter(indicator_group::Column::IndicatorId.eq(ind.id)).all(conn).await?
        {
            let mut am: indicator_group::ActiveModel = g.into();
            am.id = sea_orm::ActiveValue::NotSet;
            am.indicator_id = Set(copy.id);
            am.insert(conn).await?;
        }
        for c in clause::Entity::find().filter(clause::Column::IndicatorId.eq(ind.id)).all(conn).await? {
            let old = c.id;
            let mut am: clause::ActiveModel = c.into();
            am.id = sea_orm::ActiveValue::NotSet;
            am.indicator_id = Set(copy.id);
            new_clause.insert(old, am.insert(conn).await?.id);
        }
    }
    let rules = rule::Entity::find()
        .filter(rule::Column::RubricVersionId.eq(from))
        .order_by_asc(rule::Column::Position)
        .all(conn)
        .await?;
    for r in &rules {
        let (Some(&indicator_id), Some(&clause_id)) =
            (new_indicator.get(&r.indicator_id), new_clause.get(&r.clause_id))
        else {
            return Err(broken(from, r.indicator_id));
        };
        let mut am: rule::ActiveModel = r.clone().into();
        am.id = sea_orm::ActiveValue::NotSet;
        am.rubric_version_id = Set(to);
        am.indicator_id = Set(indicator_id);
        am.clause_id = Set(clause_id);
        am.insert(conn).await?;
    }
    Ok((indicators.len(), rules.len()))
}

fn broken(version: i64, indicator: i64) -> ServiceError {
    ServiceError::Internal(
        format!("rubric version {version}: indicator {indicator} links to a row of another version").into(),
    )
}

/// Changes a draft's header (label, title, regime, scale, bonus cap, source).
pub async fn update_header(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    version_id: i64,
    expected: i32,
    change: HeaderChange,
) -> Result<Edited, ServiceError> {
    let mut e = Editing::begin(db, chain_key, caller, version_id, expected, "rubric version").await?;
    let before = snapshot(&e.draft);
    let mut am: rubric_version::ActiveModel = e.draft.clone().into();
    if let Some(l) = &change.label {
        let label = required("label", l, 50)?;
        if label != e.draft.label {
            lock_rubric(&e.txn, e.draft.rubric_id).await?;
            ensure_label_free(&e.txn, e.draft.rubric_id, &label, Some(version_id)).await?;
        }
        am.label = Set(label);
    }
    if let Some(t) = &change.title {
        am.title = Set(required("title", t, 200)?);
    }
    if let Some(r) = change.regime {
        am.regime = Set(enum_text(&r));
    }
    if let Some(s) = &change.scale {
        am.scale = Set(Exact(decimal("scale", s, true)?));
    }
    am.bonus_cap = Set(patch_decimal("bonusCap", change.bonus_cap, e.draft.bonus_cap, false)?);
    am.source = Set(patch_text("source", change.source, e.draft.source.clone(), 500)?);
    e.draft = am.update(&e.txn).await?;
    let after = snapshot(&e.draft);
    e.finish(caller, "rubric_version.update_draft", ("rubric_version", version_id), Some(before), Some(after)).await
}
