//! What a recording checks inside its organisation's write turn, read in one
//! statement: every round trip there holds the turn (and a pooled
//! connection) longer, and each costs both sides a wake-up. One row of
//! counts and the chain head, left-joined to the touched units' active
//! observations of the rules the new ones are checked with
//! (`kaohe_engine::given_once`), so the row exists even when there are none.

use entity::states::{RunStatus, SubmissionStatus};
use entity::{indicator, observation, score_run, score_run_unit, section_submission};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, Order, Query, QueryStatementBuilder, SelectStatement, SimpleExpr,
};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend};

use super::observations::Checked;
use crate::audit::{self, Chain};
use crate::error::ServiceError;

/// The state a recording found under its turn.
pub(super) struct TurnState {
    pub run_status: RunStatus,
    /// How many of the asked sections exist and are not submitted.
    pub open_sections: i64,
    /// How many of the asked units the run assesses.
    pub assessed_units: i64,
    /// The hash of the newest entry of the organisation's audit chain.
    pub head: Option<String>,
    /// The asked units' active observations of the asked rules, oldest first.
    pub rows: Vec<Checked>,
    /// An observation id taken from the table's sequence when asked for
    /// (PostgreSQL: the new row and its audit entry, which names it, are
    /// then written in one statement: `audit::record_with_row`).
    pub reserved: Option<i64>,
}

const STATE: &str = "kaohe_turn";
const COLUMNS: [&str; 4] = ["kaohe_run_status", "kaohe_open_sections", "kaohe_assessed_units", "kaohe_head"];
const RESERVED: &str = "kaohe_reserved";

fn scalar(q: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(q.into_sub_query_statement()))
}

fn count() -> SimpleExpr {
    Expr::cust("COUNT(*)")
}

/// Reads the run's state, the sections' and units' checks, the chain head
/// and the units' observations of `rules` (call it under the organisation's
/// turn); with `reserve`, on PostgreSQL, also takes an id for a new observation.
pub(super) async fn read<C: ConnectionTrait>(
    conn: &C,
    run: &score_run::Model,
    sections: &[&str],
    (units, rules): (&[i64], &[i64]),
    reserve: bool,
) -> Result<TurnState, ServiceError> {
    let backend = conn.get_database_backend();
    let reserve = reserve && backend == DbBackend::Postgres;
    let run_status = Query::select()
        .column(score_run::Column::Status)
        .from(score_run::Entity)
        .and_where(score_run::Column::Id.eq(run.id))
        .to_owned();
    let run_id = run.id;
    let open_sections = Query::select()
        .expr(count())
        .from(indicator::Entity)
        .join(
            JoinType::LeftJoin,
            section_submission::Entity,
            Expr::col((section_submission::Entity, section_submission::Column::IndicatorId))
                .equals((indicator::Entity, indicator::Column::Id))
                .and(section_submission::Column::ScoreRunId.eq(run_id)),
        )
        .and_where(indicator::Column::RubricVersionId.eq(run.rubric_version_id))
        .and_where(indicator::Column::ParentId.is_null())
        .and_where(indicator::Column::Code.is_in(sections.iter().map(|s| s.to_string())))
        .and_where(
            section_submission::Column::Status
                .is_null()
                .or(section_submission::Column::Status.ne(SubmissionStatus::Submitted)),
        )
        .to_owned();
    let assessed_units = Query::select()
        .expr(count())
        .from(score_run_unit::Entity)
        .and_where(score_run_unit::Column::ScoreRunId.eq(run_id))
        .and_where(score_run_unit::Column::UnitId.is_in(units.iter().copied()))
        .to_owned();
    let head = audit::head_hash_query(Chain::Organisation(run.organisation_id));
    let mut state = Query::select()
        .expr_as(scalar(run_status), Alias::new(COLUMNS[0]))
        .expr_as(scalar(open_sections), Alias::new(COLUMNS[1]))
        .expr_as(scalar(assessed_units), Alias::new(COLUMNS[2]))
        .expr_as(scalar(head), Alias::new(COLUMNS[3]))
        .to_owned();
    if reserve {
        // Volatile: PostgreSQL does not pull this one-row subquery up into
        // the join, so it is evaluated once, however many rows follow.
        state.expr_as(Expr::cust("nextval(pg_get_serial_sequence('observation', 'id'))"), Alias::new(RESERVED));
    }
    // Most recordings touch no rule given once: then no observation is read.
    let joined = !units.is_empty() && !rules.is_empty();
    let mut q = Query::select();
    for c in COLUMNS {
        q.column((Alias::new(STATE), Alias::new(c)));
    }
    if joined {
        for c in Checked::COLUMNS {
            q.column((observation::Entity, c));
        }
    }
    if reserve {
        q.column((Alias::new(STATE), Alias::new(RESERVED)));
    }
    q.from_subquery(state, Alias::new(STATE));
    if joined {
        q.join(
            JoinType::LeftJoin,
            observation::Entity,
            observation::Column::ScoreRunId
                .eq(run_id)
                .and(observation::Column::Status.eq(entity::states::ObservationStatus::Active))
                .and(observation::Column::UnitId.is_in(units.iter().copied()))
                .and(observation::Column::RuleId.is_in(rules.iter().copied())),
        )
        .order_by((observation::Entity, observation::Column::Id), Order::Asc);
    }
    let checked = if joined { Checked::COLUMNS.len() } else { 0 };
    let found = conn.query_all_raw(backend.build(&q)).await?;
    let first = found.first().ok_or_else(|| ServiceError::Internal("the turn's state read no row".into()))?;
    let status: Option<String> = first.try_get_by_index(0)?;
    let status = status.ok_or_else(|| ServiceError::not_found("score run"))?;
    let run_status = RunStatus::try_from_value(&status).map_err(ServiceError::from)?;
    let state = TurnState {
        run_status,
        open_sections: first.try_get_by_index(1)?,
        assessed_units: first.try_get_by_index(2)?,
        head: first.try_get_by_index(3)?,
        rows: Vec::new(),
        reserved: if reserve { Some(first.try_get_by_index(COLUMNS.len() + checked)?) } else { None },
    };
    // The one row of units without observations carries nulls after the
    // counts; any other row is an observation (a row that does not decode
    // is an error, never skipped: the check must see every row).
    let mut rows = Vec::with_capacity(if joined { found.len() } else { 0 });
    for r in found.iter().filter(|_| joined) {
        if r.try_get_by_index::<Option<i64>>(COLUMNS.len())?.is_some() {
            rows.push(Checked::read(r, COLUMNS.len())?);
        }
    }
    Ok(TurnState { rows, ..state })
}
