//! The casbin policy in the database (no published adapter targets sea-orm 2,
//! see SECURITY-NOTES.md): rules in `casbin_rule`, seeded from
//! `policies/policy.csv` when the table is empty, and a version in
//! `policy_state` bumped by every change. Each instance keeps the enforcer in
//! memory and checks the version at most once per `recheck`; a change made on
//! one instance is enforced by all within that interval.
//!
//! Users are not policy lines: their memberships (department, role) are read
//! from `app_user` whenever the policy is loaded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{app_user, casbin_rule, department, organisation, policy_state};
use kaohe_auth::policy::{Line, Policy, PolicyError, parse};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use tokio::sync::Mutex;

/// The model of `policies/model.conf`, compiled in.
pub const MODEL: &str = include_str!("../../../policies/model.conf");
/// The seed policy of `policies/policy.csv`, compiled in.
pub const SEED: &str = include_str!("../../../policies/policy.csv");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// A line as table fields: (ptype, v0, v1, v2, v3).
fn fields(line: &Line) -> (&'static str, String, String, String, Option<String>) {
    match line {
        Line::Allow { sub, dom, obj, act } => ("p", sub.clone(), dom.clone(), obj.clone(), Some(act.clone())),
        Line::Member { member, role, dom } => ("g", member.clone(), role.clone(), dom.clone(), None),
        Line::Action { act, group } => ("g2", act.clone(), group.clone(), String::new(), None),
    }
}

fn row(line: &Line) -> casbin_rule::ActiveModel {
    let (ptype, v0, v1, v2, v3) = fields(line);
    casbin_rule::ActiveModel {
        ptype: Set(ptype.into()),
        v0: Set(v0),
        v1: Set(v1),
        v2: Set(v2),
        v3: Set(v3),
        ..Default::default()
    }
}

fn line(r: casbin_rule::Model) -> Option<Line> {
    match r.ptype.as_str() {
        "p" => Some(Line::Allow { sub: r.v0, dom: r.v1, obj: r.v2, act: r.v3? }),
        "g" => Some(Line::Member { member: r.v0, role: r.v1, dom: r.v2 }),
        "g2" => Some(Line::Action { act: r.v0, group: r.v1 }),
        _ => None,
    }
}

async fn bump<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let state = policy_state::Entity::find_by_id(1).one(db).await?;
    let version = state.as_ref().map_or(1, |s| s.version + 1);
    match state {
        Some(s) => {
            let mut a: policy_state::ActiveModel = s.into();
            a.version = Set(version);
            a.updated_at = Set(now);
            a.update(db).await?;
        }
        None => {
            policy_state::ActiveModel { id: Set(1), version: Set(version), updated_at: Set(now) }.insert(db).await?;
        }
    }
    Ok(version)
}

/// Seeds the rules from `policies/policy.csv` if there are none. Idempotent.
pub async fn seed(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let txn = crate::db::begin_write(db).await?;
    let seeded = seed_in(&txn, now).await?;
    txn.commit().await?;
    Ok(seeded)
}

/// `seed`, inside the caller's write transaction.
pub async fn seed_in<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let lines = parse(SEED)?;
    if casbin_rule::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    for l in &lines {
        row(l).insert(db).await?;
    }
    bump(db, now).await?;
    Ok(true)
}

/// Adds one rule (validated) and bumps the version, in one transaction.
/// Callers add their audit entry to the same transaction later (issue 5).
pub async fn add<C: ConnectionTrait>(db: &C, text: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
    for l in parse(text)? {
        row(&l).insert(db).await?;
    }
    bump(db, now).await
}

/// Removes rules equal to the given lines and bumps the version; returns how
/// many rows went.
pub async fn remove<C: ConnectionTrait>(db: &C, text: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut removed = 0;
    for l in parse(text)? {
        let (ptype, v0, v1, v2, v3) = fields(&l);
        let mut q = casbin_rule::Entity::delete_many()
            .filter(casbin_rule::Column::Ptype.eq(ptype))
            .filter(casbin_rule::Column::V0.eq(v0))
            .filter(casbin_rule::Column::V1.eq(v1))
            .filter(casbin_rule::Column::V2.eq(v2));
        q = match v3 {
            Some(v3) => q.filter(casbin_rule::Column::V3.eq(v3)),
            None => q.filter(casbin_rule::Column::V3.is_null()),
        };
        removed += q.exec(db).await?.rows_affected;
    }
    bump(db, now).await?;
    Ok(removed)
}

/// Renames a subject (`dept:旧名` → `dept:新名`) in one organisation's
/// lines and bumps the version; returns how many lines changed.
pub async fn rename_subject<C: ConnectionTrait>(
    db: &C,
    dom: &str,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    use sea_orm::sea_query::Expr;
    let p = casbin_rule::Entity::update_many()
        .col_expr(casbin_rule::Column::V0, Expr::value(new))
        .filter(casbin_rule::Column::Ptype.eq("p"))
        .filter(casbin_rule::Column::V0.eq(old))
        .filter(casbin_rule::Column::V1.eq(dom))
        .exec(db)
        .await?;
    let g = casbin_rule::Entity::update_many()
        .col_expr(casbin_rule::Column::V1, Expr::value(new))
        .filter(casbin_rule::Column::Ptype.eq("g"))
        .filter(casbin_rule::Column::V1.eq(old))
        .filter(casbin_rule::Column::V2.eq(dom))
        .exec(db)
        .await?;
    bump(db, now).await?;
    Ok(p.rows_affected + g.rows_affected)
}

/// Adds the lines of `text` that are not stored yet (each compared whole)
/// and bumps the version; returns how many were added.
pub async fn add_missing<C: ConnectionTrait>(db: &C, text: &str, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let stored: Vec<Line> = casbin_rule::Entity::find().all(db).await?.into_iter().filter_map(line).collect();
    let mut added = 0;
    for l in parse(text)? {
        if !stored.contains(&l) {
            row(&l).insert(db).await?;
            added += 1;
        }
    }
    bump(db, now).await?;
    Ok(added)
}

/// Marks the policy changed (a user or credential changed its memberships), so
/// every instance reloads it.
pub async fn touch<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<i64, StoreError> {
    bump(db, now).await
}

/// The version all instances compare against.
pub async fn version<C: ConnectionTrait>(db: &C) -> Result<i64, StoreError> {
    Ok(policy_state::Entity::find_by_id(1).one(db).await?.map_or(0, |s| s.version))
}

/// All lines: the stored rules plus every active user's memberships.
pub async fn lines<C: ConnectionTrait>(db: &C) -> Result<Vec<Line>, StoreError> {
    let mut out: Vec<Line> = casbin_rule::Entity::find().all(db).await?.into_iter().filter_map(line).collect();
    let orgs = organisation::Entity::find().all(db).await?;
    let depts = department::Entity::find().all(db).await?;
    for u in app_user::Entity::find().filter(app_user::Column::Active.eq(true)).all(db).await? {
        let Some(org) = orgs.iter().find(|o| o.id == u.organisation_id) else { continue };
        let member = format!("user:{}", u.id);
        let role = match u.role.as_str() {
            "admin" => "role:admin",
            "department" => "role:scorer",
            "unit" => "role:unit",
            "service" => "role:integration",
            _ => continue,
        };
        out.push(Line::Member { member: member.clone(), role: role.into(), dom: org.code.clone() });
        if let Some(d) = u.department_id.and_then(|id| depts.iter().find(|d| d.id == id && d.active)) {
            out.push(Line::Member { member, role: format!("dept:{}", d.name), dom: org.code.clone() });
        }
    }
    for c in entity::service_credential::Entity::find()
        .filter(entity::service_credential::Column::RevokedAt.is_null())
        .all(db)
        .await?
    {
        if let Some(org) = orgs.iter().find(|o| o.id == c.organisation_id) {
            let role = "role:integration".to_string();
            out.push(Line::Member { member: format!("svc:{}", c.id), role, dom: org.code.clone() });
        }
    }
    Ok(out)
}

/// One instance's enforcer, reloaded when the stored version moves.
pub struct PolicyCache {
    recheck: Duration,
    state: Mutex<Option<(i64, Instant, Arc<Policy>)>>,
}

impl PolicyCache {
    pub fn new(recheck: Duration) -> Self {
        PolicyCache { recheck, state: Mutex::new(None) }
    }

    /// Forgets the cached policy: this instance's own changes apply to its next
    /// request at once (other instances see them within `recheck`).
    pub async fn invalidate(&self) {
        *self.state.lock().await = None;
    }

    /// The current policy with the stored version it was loaded at (cached
    /// responses are only reused under the policy that produced them); at
    /// most one version query per `recheck`.
    pub async fn get(&self, db: &DatabaseConnection) -> Result<(i64, Arc<Policy>), StoreError> {
        let mut state = self.state.lock().await;
        if let Some((v, checked, p)) = state.as_mut() {
            if checked.elapsed() < self.recheck {
                return Ok((*v, p.clone()));
            }
            let now_v = version(db).await?;
            if now_v == *v {
                *checked = Instant::now();
                return Ok((*v, p.clone()));
            }
        }
        let v = version(db).await?;
        let policy = Arc::new(Policy::new(MODEL, &lines(db).await?).await?);
        *state = Some((v, Instant::now(), policy.clone()));
        Ok((v, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration::MigratorTrait;
    use sea_orm::Database;

    async fn db() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        db
    }

    #[tokio::test]
    async fn seeded_once_and_a_change_reaches_another_instance() {
        let db = db().await;
        let now = Utc::now();
        assert!(seed(&db, now).await.unwrap());
        assert!(!seed(&db, now).await.unwrap(), "seeding twice adds nothing");
        let a = PolicyCache::new(Duration::from_millis(0));
        let b = PolicyCache::new(Duration::from_millis(0));
        let (_, pa) = a.get(&db).await.unwrap();
        assert!(!pa.allows_on_indicator("dept:秘书科", "chengkou", "chengkou-jxx", &["2.1.1", "2.1", "2"], "record"));
        // An admin assigns 研训一体化 to 秘书科 on instance A …
        add(&db, "p, dept:秘书科, chengkou, chengkou-jxx/2, score", now).await.unwrap();
        // … and instance B enforces it at its next check.
        let (_, pb) = b.get(&db).await.unwrap();
        assert!(pb.allows_on_indicator("dept:秘书科", "chengkou", "chengkou-jxx", &["2.1.1", "2.1", "2"], "record"));
        assert!(a.get(&db).await.unwrap().1.allows("dept:秘书科", "chengkou", "chengkou-jxx/2", "submit"));
        // Pattern syntax is refused before it reaches casbin.
        assert!(add(&db, "p, dept:秘书科, chengkou, regexMatch(.*), score", now).await.is_err());
    }
}
