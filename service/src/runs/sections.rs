//! Section submission (科室提交): a submitted section takes no more writes
//! until the assessment office reopens it.

use chrono::Utc;
use entity::section_submission;
use entity::states::SubmissionStatus;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::{ensure_open, run_by_id, section_row};
use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::{db, policy};

async fn set_status(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    run_id: i64,
    section_code: &str,
    to: SubmissionStatus,
) -> Result<section_submission::Model, ServiceError> {
    let (run, _) = super::visible_run(db, caller, run_id).await?;
    if to == SubmissionStatus::Submitted {
        let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
        policy::may_submit_section(caller, run.organisation_id, &rubric.code, section_code)?;
    } else {
        policy::may_administer_runs(caller, run.organisation_id)?;
    }
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let run = run_by_id(&txn, run_id).await?;
    ensure_open(&run)?;
    let section = section_row(&txn, run.rubric_version_id, section_code).await?;
    let existing = section_submission::Entity::find()
        .filter(section_submission::Column::ScoreRunId.eq(run_id))
        .filter(section_submission::Column::IndicatorId.eq(section.id))
        .one(&txn)
        .await?;
    let before = existing.as_ref().map(|s| json!({ "status": s.status, "version": s.version }));
    let row = match existing {
        None if to == SubmissionStatus::Submitted => {
            section_submission::ActiveModel {
                score_run_id: Set(run_id),
                indicator_id: Set(section.id),
                status: Set(SubmissionStatus::Submitted),
                submitted_by: Set(caller.user_id()),
                submitted_at: Set(Some(Utc::now())),
                version: Set(1),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
        None => return Err(ServiceError::Conflict(format!("section {section_code} has not been submitted"))),
        Some(s) if s.status == to => {
            return Err(ServiceError::Conflict(format!("section {section_code} is already {to}")));
        }
        Some(s) => {
            let mut q = section_submission::Entity::update_many()
                .col_expr(section_submission::Column::Status, Expr::value(to))
                .col_expr(section_submission::Column::Version, Expr::col(section_submission::Column::Version).add(1));
            if to == SubmissionStatus::Submitted {
                q = q
                    .col_expr(section_submission::Column::SubmittedBy, Expr::value(caller.user_id()))
                    .col_expr(section_submission::Column::SubmittedAt, Expr::value(Some(Utc::now())));
            }
            let res = q
                .filter(section_submission::Column::Id.eq(s.id))
                .filter(section_submission::Column::Version.eq(s.version))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(ServiceError::Conflict(format!(
                    "section {section_code} was changed at the same time; retry"
                )));
            }
            section_submission::Entity::find_by_id(s.id)
                .one(&txn)
                .await?
                .ok_or_else(|| ServiceError::Internal("section submission vanished".into()))?
        }
    };
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: if to == SubmissionStatus::Submitted { "section.submit" } else { "section.reopen" },
            entity: "section_submission",
            entity_id: Some(row.id.to_string()),
            before,
            after: Some(json!({ "section": section_code, "status": row.status, "version": row.version })),
        },
        Scope { score_run_id: Some(run_id), unit_id: None },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A section's submission with the section's code.
#[derive(Clone, Debug)]
pub struct Submission {
    pub row: section_submission::Model,
    /// The section (板块) code, e.g. `2`.
    pub section_code: String,
}

/// The submissions of a run, oldest first, for staff of its organisation
/// (the run as handed over by `visible_run`).
pub async fn of_run(
    db: &DatabaseConnection,
    caller: &Caller,
    run: &entity::score_run::Model,
) -> Result<Vec<Submission>, ServiceError> {
    policy::may_read_as_staff(caller, run.organisation_id)?;
    let rows = section_submission::Entity::find()
        .filter(section_submission::Column::ScoreRunId.eq(run.id))
        .order_by_asc(section_submission::Column::Id)
        .all(db)
        .await?;
    let codes: std::collections::HashMap<i64, String> = entity::indicator::Entity::find()
        .filter(entity::indicator::Column::RubricVersionId.eq(run.rubric_version_id))
        .filter(entity::indicator::Column::ParentId.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.code))
        .collect();
    rows.into_iter()
        .map(|row| {
            let section_code = codes
                .get(&row.indicator_id)
                .cloned()
                .ok_or_else(|| ServiceError::Internal(format!("submission {} names no section", row.id).into()))?;
            Ok(Submission { row, section_code })
        })
        .collect()
}

/// A department submits its section: from now on writes to it are FROZEN.
pub async fn submit(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    run_id: i64,
    section_code: &str,
) -> Result<Submission, ServiceError> {
    let row = set_status(db, chain_key, caller, run_id, section_code, SubmissionStatus::Submitted).await?;
    Ok(Submission { row, section_code: section_code.to_string() })
}

/// The assessment office reopens a submitted section.
pub async fn reopen(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    run_id: i64,
    section_code: &str,
) -> Result<Submission, ServiceError> {
    let row = set_status(db, chain_key, caller, run_id, section_code, SubmissionStatus::Open).await?;
    Ok(Submission { row, section_code: section_code.to_string() })
}
