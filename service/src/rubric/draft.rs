//! Drafting rubric versions (考核细则草稿). The admin creates a draft (empty,
//! or a deep copy of another version of the same rubric), edits its header,
//! indicators, clauses and rules, and publishes it once the engine compiles
//! it. A published version is frozen: any edit is FROZEN.
//!
//! Every edit names the draft's `version` as last read (乐观锁). The edit's
//! transaction starts with `UPDATE … SET version = version + 1 WHERE id = ?
//! AND version = ? AND status = 'draft'`: concurrent edits of one draft take
//! turns and a stale one is CONFLICT. An edit is checked as far as it can be
//! alone (an unknown parent, a duplicate code, a bad decimal, params that do
//! not parse for the rule's kind: BAD_USER_INPUT naming the field); what only
//! the whole tree tells (children summing to their parent, section weights,
//! a leaf without rules) is the engine's to say at publication, every problem
//! listed. Every change is audited in the transaction that makes it.

mod clauses;
mod create;
mod discard;
mod indicators;
mod publish;
mod rules;

use entity::rubric_version;
use entity::states::VersionStatus;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter};
use serde_json::json;

pub use clauses::{ClauseFields, add_clause, remove_clause, update_clause};
pub use create::{HeaderChange, NewDraft, create, update_header};
pub use discard::discard;
pub use indicators::{IndicatorFields, add_indicator, remove_indicator, update_indicator};
pub use publish::publish;
pub use rules::{RuleFields, add_rule, remove_rule, update_rule};

use super::query::{self};
use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::{db, policy};

/// A change of a nullable field: `None` leaves it, `Some(None)` clears it.
pub type Patch<T> = Option<Option<T>>;

/// The outcome of an edit: the draft (with its new version) and the id of
/// the indicator, clause or rule added, changed or removed.
#[derive(Debug)]
pub struct Edited {
    pub draft: rubric_version::Model,
    pub id: i64,
}

fn stale() -> ServiceError {
    ServiceError::Conflict("the rubric version was changed by someone else; reload it and retry".to_string())
}

/// The organisation of a version, the caller's right to edit it, and FROZEN
/// unless it is still a draft at `expected` (CONFLICT otherwise), in that
/// order. `asked` is what the client named by id (the version, or one of its
/// indicators, clauses or rules): a draft the caller may not see, or another
/// organisation's version, answers as that object missing.
async fn check_draft(
    db: &DatabaseConnection,
    caller: &Caller,
    version_id: i64,
    expected: i32,
    asked: &'static str,
) -> Result<(rubric_version::Model, i64), ServiceError> {
    policy::signed_in(caller)?;
    let row = query::version_by_id(db, caller, version_id).await.map_err(|e| e.hidden_as(asked))?;
    let organisation_id = crate::runs::organisation_of_version(db, &row).await?;
    policy::may_edit_rubrics(caller, organisation_id).map_err(|e| e.not_found_as(asked))?;
    if row.status != VersionStatus::Draft {
        return Err(ServiceError::Frozen(format!("the rubric version ({})", row.status)));
    }
    if row.version != expected {
        return Err(stale());
    }
    Ok((row, organisation_id))
}

/// Bumps the draft's version inside `txn`, guarded by the version read.
async fn bump(txn: &DatabaseTransaction, version_id: i64, expected: i32) -> Result<(), ServiceError> {
    let done = rubric_version::Entity::update_many()
        .col_expr(rubric_version::Column::Version, Expr::col(rubric_version::Column::Version).add(1))
        .filter(rubric_version::Column::Id.eq(version_id))
        .filter(rubric_version::Column::Version.eq(expected))
        .filter(rubric_version::Column::Status.eq(VersionStatus::Draft))
        .exec(txn)
        .await?;
    if done.rows_affected == 1 { Ok(()) } else { Err(stale()) }
}

/// One edit of a draft in progress: its transaction (the version already
/// bumped), the draft as it now is and its organisation.
struct Editing {
    txn: DatabaseTransaction,
    chain_key: ChainKey,
    draft: rubric_version::Model,
    organisation_id: i64,
}

impl Editing {
    async fn begin(
        db: &DatabaseConnection,
        chain_key: &ChainKey,
        caller: &Caller,
        version_id: i64,
        expected: i32,
        asked: &'static str,
    ) -> Result<Self, ServiceError> {
        let (_, organisation_id) = check_draft(db, caller, version_id, expected, asked).await?;
        let txn = db::begin_write(db).await?;
        bump(&txn, version_id, expected).await?;
        let draft = rubric_version::Entity::find_by_id(version_id).one(&txn).await?.ok_or_else(stale)?;
        Ok(Editing { txn, chain_key: chain_key.clone(), draft, organisation_id })
    }

    /// Records the change in the audit log and commits.
    async fn finish(
        self,
        caller: &Caller,
        action: &str,
        (entity, id): (&str, i64),
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<Edited, ServiceError> {
        let draft = json!({ "id": self.draft.id, "label": self.draft.label, "version": self.draft.version });
        audit::record(
            &self.txn,
            &self.chain_key,
            caller,
            Entry {
                organisation_id: Some(self.organisation_id),
                action,
                entity,
                entity_id: Some(id.to_string()),
                before,
                after: Some(json!({ "draft": draft, "value": after })),
            },
        )
        .await?;
        self.txn.commit().await?;
        Ok(Edited { draft: self.draft, id })
    }
}

// ------------------------------------------------------------ input checks

fn bad(field: &str, message: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadUserInput(format!("`{field}`: {message}"))
}

use crate::input::{optional, required};

/// A code (indicator code, clause number, rule key): no spaces, at most 50 characters.
fn code(field: &str, text: &str) -> Result<String, ServiceError> {
    let c = required(field, text, 50)?;
    if c.chars().any(|ch| ch.is_whitespace() || ch.is_control() || ch == '/') {
        return Err(bad(field, format!("`{c}` must not contain spaces or `/`")));
    }
    Ok(c)
}

/// An exact decimal written as text (`"0.5"`), at least 0 (or above 0 when `positive`).
fn decimal(field: &str, text: &str, positive: bool) -> Result<Decimal, ServiceError> {
    let d: Decimal = text.trim().parse().map_err(|_| bad(field, format!("`{text}` is not a decimal number")))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(bad(field, format!("{d} is negative")));
    }
    if positive && d.is_zero() {
        return Err(bad(field, "must be greater than 0"));
    }
    Ok(d)
}

fn position(field: &str, p: i32) -> Result<i32, ServiceError> {
    if p < 0 { Err(bad(field, "must be 0 or more")) } else { Ok(p) }
}

/// Applies a patch of an optional decimal.
fn patch_decimal(
    field: &str,
    patch: Patch<String>,
    current: Option<entity::Exact>,
    positive: bool,
) -> Result<Option<entity::Exact>, ServiceError> {
    match patch {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(t)) => decimal(field, &t, positive).map(|d| Some(entity::Exact(d))),
    }
}

/// Applies a patch of an optional text.
fn patch_text(
    field: &str,
    patch: Patch<String>,
    current: Option<String>,
    max: usize,
) -> Result<Option<String>, ServiceError> {
    match patch {
        None => Ok(current),
        Some(v) => optional(field, v, max),
    }
}
