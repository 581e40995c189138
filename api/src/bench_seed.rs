//! `kaohe seed-bench [units]`: adds that many assessed units to 许昌 and one
//! published monthly run (2026-10) over all of them, through the same service
//! calls as the API, for the load script (`scripts/bench.sh`). Idempotent:
//! the run is found again by its key.

use chrono::Utc;
use entity::{score_run, unit};
use kaohe_engine::Facts;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::audit::ChainKey;
use crate::caller::Caller;
use crate::graphql::{IdKind, to_id};
use crate::paging::Page;
use crate::runs::lifecycle::{self, OpenRun};
use crate::runs::observations::{self, ObservationDraft, RecordObservation};
use kaohe_service::ServiceError;

const KEY: &str = "bench:xuchang:2026-10";

/// The ids the load script queries with (global ids).
pub struct BenchIds {
    pub run: String,
    pub unit: String,
}

pub async fn seed(db: &DatabaseConnection, chain_key: &ChainKey, units: usize) -> Result<BenchIds, ServiceError> {
    let caller = Caller::system();
    let org = crate::organisation::by_code(db, &caller, "xuchang").await?;
    if let Some(run) = score_run::Entity::find().filter(score_run::Column::IdempotencyKey.eq(KEY)).one(db).await? {
        let first = crate::runs::results::units_of(db, run.id).await?;
        let unit = first.first().map(|u| u.id).unwrap_or_default();
        return Ok(BenchIds { run: to_id(IdKind::ScoreRun, run.id).0, unit: to_id(IdKind::Unit, unit).0 });
    }
    let now = Utc::now();
    let rows: Vec<unit::ActiveModel> = (0..units)
        .map(|i| unit::ActiveModel {
            organisation_id: Set(org.id),
            parent_id: Set(None),
            code: Set(format!("bench-{i:05}")),
            name: Set(format!("压测单位{i:05}")),
            kind: Set("county".into()),
            attributes: Set("{}".into()),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        unit::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    let ids: Vec<i64> = unit::Entity::find()
        .filter(unit::Column::OrganisationId.eq(org.id))
        .filter(unit::Column::Code.starts_with("bench-"))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let rubrics = crate::rubric::query::list(db, &caller, org.id, Page::first(1)).await?;
    let rubric = rubrics.rows.first().ok_or_else(|| ServiceError::not_found("许昌 rubric"))?;
    let version = crate::rubric::query::current_version(db, &caller, rubric.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("许昌 published rubric version"))?;
    let run = lifecycle::open(
        db,
        chain_key,
        &caller,
        OpenRun {
            rubric_version_id: version.id,
            period: "2026-10".into(),
            unit_ids: ids.clone(),
            title: "压测批次 2026年10月".into(),
            idempotency_key: Some(KEY.into()),
        },
    )
    .await?;
    let engine_rubric = crate::rubric::rebuild::rubric_of_version(db, &caller, version.id).await?;
    // A few observations per unit, so ranks differ and a unit has rows to read.
    for (n, &unit_id) in ids.iter().enumerate() {
        for (rule, facts) in [
            ("1.1-1", Facts { count: Some(i64::try_from(n % 3).unwrap_or(0)), ..Facts::default() }),
            ("2.1-1", Facts { points: Some(rust_decimal::Decimal::from(5 + n % 3)), ..Facts::default() }),
        ] {
            let draft = ObservationDraft {
                facts,
                work_key: None,
                halve: None,
                document_date: None,
                note: None,
                evidence: Vec::new(),
                evidence_ids: Vec::new(),
            };
            let record =
                RecordObservation { run_id: run.id, unit_id, rule_code: rule.into(), draft, idempotency_key: None };
            observations::record_with_rubric(db, chain_key, &caller, &engine_rubric, record).await?;
        }
    }
    let run = lifecycle::publish(db, chain_key, &caller, run.id, run.version).await?;
    // The planner's statistics, as autovacuum would gather them within a
    // minute of this bulk load: without them PostgreSQL plans every page as
    // if a table held a handful of rows (scan and sort all), for kaohe and
    // for any peer measured over the same database alike.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    let unit = ids.first().copied().unwrap_or_default();
    Ok(BenchIds { run: to_id(IdKind::ScoreRun, run.id).0, unit: to_id(IdKind::Unit, unit).0 })
}
