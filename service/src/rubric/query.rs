//! Read queries on rubrics, versions and the indicator tree.

use std::collections::HashMap;

use entity::states::{IndicatorRole, VersionStatus};
use entity::{clause, indicator, indicator_group, rubric, rubric_version, rule};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::caller::Caller;
use crate::error::ServiceError;
use crate::paging::{self, Page, Paged};
use crate::policy;

/// Rubrics of an organisation, by code.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    organisation_id: i64,
    page: Page,
) -> Result<Paged<rubric::Model>, ServiceError> {
    policy::may_read(caller)?;
    let q = rubric::Entity::find()
        .filter(rubric::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(rubric::Column::Code);
    paging::fetch(db, q, page).await
}

pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<rubric::Model, ServiceError> {
    policy::may_read(caller)?;
    rubric::Entity::find_by_id(id).one(db).await?.ok_or_else(|| ServiceError::not_found("rubric"))
}

/// Versions of a rubric, oldest first. Drafts are listed for staff of the
/// rubric's organisation only (filtered in SQL).
pub async fn versions(
    db: &DatabaseConnection,
    caller: &Caller,
    rubric_id: i64,
    page: Page,
) -> Result<Paged<rubric_version::Model>, ServiceError> {
    policy::may_read(caller)?;
    let mut q = rubric_version::Entity::find().filter(rubric_version::Column::RubricId.eq(rubric_id));
    let organisation_id = rubric::Entity::find_by_id(rubric_id).one(db).await?.map(|r| r.organisation_id);
    if !organisation_id.is_some_and(|org| policy::may_see_rubric_drafts(caller, org)) {
        q = q.filter(rubric_version::Column::Status.ne(VersionStatus::Draft));
    }
    paging::fetch(db, q.order_by_asc(rubric_version::Column::Id), page).await
}

/// The newest published version of a rubric (现行版本), if any.
pub async fn current_version(
    db: &DatabaseConnection,
    caller: &Caller,
    rubric_id: i64,
) -> Result<Option<rubric_version::Model>, ServiceError> {
    policy::may_read(caller)?;
    Ok(rubric_version::Entity::find()
        .filter(rubric_version::Column::RubricId.eq(rubric_id))
        .filter(rubric_version::Column::Status.eq("published"))
        .order_by_desc(rubric_version::Column::Id)
        .one(db)
        .await?)
}

/// A version by id; a draft the caller may not see is NOT_FOUND.
pub async fn version_by_id(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> Result<rubric_version::Model, ServiceError> {
    policy::may_read(caller)?;
    let v = rubric_version::Entity::find_by_id(id).one(db).await?;
    visible_version(db, caller, v).await
}

/// [`version_by_id`] for a version row already read (with the run that
/// names it, say): the same checks, the same answer for a hidden one.
pub async fn visible_version(
    db: &DatabaseConnection,
    caller: &Caller,
    v: Option<rubric_version::Model>,
) -> Result<rubric_version::Model, ServiceError> {
    policy::may_read(caller)?;
    let missing = || ServiceError::not_found("rubric version");
    let v = v.ok_or_else(missing)?;
    if v.status == VersionStatus::Draft {
        let r = rubric::Entity::find_by_id(v.rubric_id).one(db).await?.ok_or_else(missing)?;
        if !policy::may_see_rubric_drafts(caller, r.organisation_id) {
            return Err(missing());
        }
    }
    Ok(v)
}

/// A version's whole indicator tree, loaded in four queries.
#[derive(Debug, Default)]
pub struct VersionTree {
    /// Parents before children, in rubric order.
    pub indicators: Vec<indicator::Model>,
    pub children: HashMap<i64, Vec<usize>>,
    pub groups: HashMap<i64, Vec<indicator_group::Model>>,
    pub clauses: HashMap<i64, Vec<clause::Model>>,
    /// Rules by clause id, in rule order.
    pub rules: HashMap<i64, Vec<rule::Model>>,
    pub by_code: HashMap<String, usize>,
    /// Its rules by id and by code, built on first need: a frozen version's
    /// tree is kept (`rubric::frozen`), and every recording checks its items
    /// against them (rebuilding them took 7% of the server's CPU per recording).
    rules_index: std::sync::OnceLock<crate::runs::Rules>,
    /// What the layer above derives from the tree alone (the API's lists
    /// of indicators written as JSON, per selection), kept as long as the
    /// tree is: a frozen version's for as long as the server keeps it, a
    /// draft's for the one request that read it.
    pub derived: Derived,
}

/// Bytes derived from a tree alone, by key (see `VersionTree::derived`).
#[derive(Debug, Default)]
pub struct Derived(std::sync::Mutex<Vec<(String, std::sync::Arc<[u8]>)>>);

impl Derived {
    /// Entries kept at most: a client's selections of one tree's lists are
    /// few; past these, nothing more is kept (a client cannot grow it).
    pub const MAX: usize = 32;

    /// The bytes kept under `key`.
    pub fn get(&self, key: &str) -> Option<std::sync::Arc<[u8]>> {
        let kept = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.iter().find(|(k, _)| k == key).map(|(_, bytes)| bytes.clone())
    }

    /// Keeps `bytes` under `key`, unless `MAX` entries are kept already.
    pub fn keep(&self, key: String, bytes: std::sync::Arc<[u8]>) {
        let mut kept = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() < Self::MAX && kept.iter().all(|(k, _)| *k != key) {
            kept.push((key, bytes));
        }
    }
}

impl VersionTree {
    /// Its rules by id and by code (built once per tree).
    pub fn rules_index(&self) -> &crate::runs::Rules {
        self.rules_index.get_or_init(|| crate::runs::Rules::of_rows(self.rules.values().flatten().cloned().collect()))
    }

    /// Indices of the top-level indicators (sections).
    pub fn sections(&self) -> Vec<usize> {
        (0..self.indicators.len()).filter(|&i| self.indicators[i].parent_id.is_none()).collect()
    }

    /// Sum of the max points of the base sections (基础分合计).
    pub fn base_max_total(&self) -> Decimal {
        self.indicators
            .iter()
            .filter(|i| i.parent_id.is_none() && i.role == IndicatorRole::Base)
            .filter_map(|i| i.max_points.map(|m| m.0))
            .sum()
    }
}

pub async fn tree(db: &DatabaseConnection, caller: &Caller, version_id: i64) -> Result<VersionTree, ServiceError> {
    policy::may_read(caller)?;
    let indicators = indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version_id))
        .order_by_asc(indicator::Column::Position)
        .all(db)
        .await?;
    let ids: Vec<i64> = indicators.iter().map(|i| i.id).collect();
    let mut t = VersionTree::default();
    for g in indicator_group::Entity::find()
        .filter(indicator_group::Column::IndicatorId.is_in(ids.clone()))
        .order_by_asc(indicator_group::Column::Position)
        .all(db)
        .await?
    {
        t.groups.entry(g.indicator_id).or_default().push(g);
    }
    for c in clause::Entity::find()
        .filter(clause::Column::IndicatorId.is_in(ids))
        .order_by_asc(clause::Column::Position)
        .all(db)
        .await?
    {
        t.clauses.entry(c.indicator_id).or_default().push(c);
    }
    for r in rule::Entity::find()
        .filter(rule::Column::RubricVersionId.eq(version_id))
        .order_by_asc(rule::Column::Position)
        .all(db)
        .await?
    {
        t.rules.entry(r.clause_id).or_default().push(r);
    }
    for (i, ind) in indicators.iter().enumerate() {
        t.by_code.insert(ind.code.clone(), i);
        if let Some(p) = ind.parent_id {
            t.children.entry(p).or_default().push(i);
        }
    }
    t.indicators = indicators;
    Ok(t)
}

/// Rules by id (for batch loading); unknown ids are left out.
pub async fn rules_by_ids(
    db: &DatabaseConnection,
    caller: &Caller,
    ids: &[i64],
) -> Result<Vec<entity::rule::Model>, ServiceError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    policy::may_read(caller)?;
    Ok(entity::rule::Entity::find().filter(entity::rule::Column::Id.is_in(ids.to_vec())).all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_bytes_are_kept_per_key_and_bounded() {
        let d = Derived::default();
        d.keep("sections a".into(), b"[1]".as_slice().into());
        d.keep("sections a".into(), b"[2]".as_slice().into());
        assert_eq!(d.get("sections a").as_deref(), Some(b"[1]".as_slice()), "the first kept stays");
        assert_eq!(d.get("sections b"), None);
        for n in 0..Derived::MAX + 5 {
            d.keep(format!("k{n}"), b"[]".as_slice().into());
        }
        assert!(d.get(&format!("k{}", Derived::MAX - 2)).is_some());
        assert_eq!(d.get(&format!("k{}", Derived::MAX)), None, "no more than MAX kept");
    }
}
