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
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, Statement, Value};

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

/// A count of an empty list (a `BIGINT`, as `COUNT(*)` is on PostgreSQL).
fn zero() -> SimpleExpr {
    Expr::cust("CAST(0 AS BIGINT)")
}

/// What a turn reads: the statement's inputs.
struct Turn<'a> {
    run_id: i64,
    version_id: i64,
    organisation_id: i64,
    sections: &'a [&'a str],
    units: &'a [i64],
    rules: &'a [i64],
    /// Take an id for a new observation (PostgreSQL only).
    reserve: bool,
}

/// What a turn statement's text depends on: the backend, the lists'
/// lengths, whether an id is reserved (`kept_sql`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Shape {
    backend: std::mem::Discriminant<DbBackend>,
    reserve: bool,
    sections: usize,
    units: usize,
    rules: usize,
}

/// The turn statements' texts, kept per shape: sea-query built the nested
/// SELECT (four subqueries, cloned as they were nested) for every
/// recording, a sixth of its server instructions.
static TEXTS: std::sync::LazyLock<crate::kept_sql::Texts<Shape>> = std::sync::LazyLock::new(Default::default);

impl Turn<'_> {
    /// Most recordings touch no rule given once: then no observation is read.
    fn joined(&self) -> bool {
        !self.units.is_empty() && !self.rules.is_empty()
    }

    fn shape(&self, backend: DbBackend) -> Shape {
        Shape {
            backend: std::mem::discriminant(&backend),
            reserve: self.reserve,
            sections: self.sections.len(),
            units: self.units.len(),
            // Not joined: the rules are not in the text.
            rules: if self.joined() { self.rules.len() } else { 0 },
        }
    }

    /// The values [`Turn::query`] binds, in the order sea-query binds them
    /// (checked where the text is kept, and by a property test).
    fn values(&self) -> Vec<Value> {
        let run = Value::from(self.run_id);
        let mut v = Vec::with_capacity(8 + self.sections.len() + 2 * self.units.len() + self.rules.len());
        v.push(run.clone());
        if !self.sections.is_empty() {
            v.extend([run.clone(), Value::from(self.version_id)]);
            v.extend(self.sections.iter().map(|s| Value::from(s.to_string())));
            v.push(Value::from(SubmissionStatus::Submitted));
        }
        if !self.units.is_empty() {
            v.push(run.clone());
            v.extend(self.units.iter().map(|u| Value::from(*u)));
        }
        v.extend([Value::from(self.organisation_id), Value::from(1u64)]);
        if self.joined() {
            v.extend([run, Value::from(entity::states::ObservationStatus::Active)]);
            v.extend(self.units.iter().map(|u| Value::from(*u)));
            v.extend(self.rules.iter().map(|r| Value::from(*r)));
        }
        v
    }

    /// The statement, as sea-query builds it.
    fn query(&self) -> SelectStatement {
        let run_id = self.run_id;
        let run_status = Query::select()
            .column(score_run::Column::Status)
            .from(score_run::Entity)
            .and_where(score_run::Column::Id.eq(run_id))
            .take();
        // An empty list is answered here (0): no empty `IN`, which sea-query
        // writes with values of its own.
        let open_sections = match self.sections {
            [] => zero(),
            _ => scalar(
                Query::select()
                    .expr(count())
                    .from(indicator::Entity)
                    .join(
                        JoinType::LeftJoin,
                        section_submission::Entity,
                        Expr::col((section_submission::Entity, section_submission::Column::IndicatorId))
                            .equals((indicator::Entity, indicator::Column::Id))
                            .and(section_submission::Column::ScoreRunId.eq(run_id)),
                    )
                    .and_where(indicator::Column::RubricVersionId.eq(self.version_id))
                    .and_where(indicator::Column::ParentId.is_null())
                    .and_where(indicator::Column::Code.is_in(self.sections.iter().map(|s| s.to_string())))
                    .and_where(
                        section_submission::Column::Status
                            .is_null()
                            .or(section_submission::Column::Status.ne(SubmissionStatus::Submitted)),
                    )
                    .take(),
            ),
        };
        let assessed_units = match self.units {
            [] => zero(),
            units => scalar(
                Query::select()
                    .expr(count())
                    .from(score_run_unit::Entity)
                    .and_where(score_run_unit::Column::ScoreRunId.eq(run_id))
                    .and_where(score_run_unit::Column::UnitId.is_in(units.iter().copied()))
                    .take(),
            ),
        };
        let head = audit::head_hash_query(Chain::Organisation(self.organisation_id));
        let mut state = Query::select()
            .expr_as(scalar(run_status), Alias::new(COLUMNS[0]))
            .expr_as(open_sections, Alias::new(COLUMNS[1]))
            .expr_as(assessed_units, Alias::new(COLUMNS[2]))
            .expr_as(scalar(head), Alias::new(COLUMNS[3]))
            .take();
        if self.reserve {
            // Volatile: PostgreSQL does not pull this one-row subquery up into
            // the join, so it is evaluated once, however many rows follow.
            state.expr_as(Expr::cust("nextval(pg_get_serial_sequence('observation', 'id'))"), Alias::new(RESERVED));
        }
        let mut q = Query::select();
        for c in COLUMNS {
            q.column((Alias::new(STATE), Alias::new(c)));
        }
        if self.joined() {
            for c in Checked::COLUMNS {
                q.column((observation::Entity, c));
            }
        }
        if self.reserve {
            q.column((Alias::new(STATE), Alias::new(RESERVED)));
        }
        q.from_subquery(state, Alias::new(STATE));
        if self.joined() {
            q.join(
                JoinType::LeftJoin,
                observation::Entity,
                observation::Column::ScoreRunId
                    .eq(run_id)
                    .and(observation::Column::Status.eq(entity::states::ObservationStatus::Active))
                    .and(observation::Column::UnitId.is_in(self.units.iter().copied()))
                    .and(observation::Column::RuleId.is_in(self.rules.iter().copied())),
            )
            .order_by((observation::Entity, observation::Column::Id), Order::Asc);
        }
        q
    }

    /// The statement: its text kept in `texts` and [`Turn::values`], or built.
    fn statement(&self, texts: &crate::kept_sql::Texts<Shape>, backend: DbBackend) -> Statement {
        texts.statement(backend, self.shape(backend), self.values(), || backend.build(&self.query()))
    }
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
    let turn = Turn {
        run_id: run.id,
        version_id: run.rubric_version_id,
        organisation_id: run.organisation_id,
        sections,
        units,
        rules,
        reserve: reserve && backend == DbBackend::Postgres,
    };
    let (joined, reserve) = (turn.joined(), turn.reserve);
    let checked = if joined { Checked::COLUMNS.len() } else { 0 };
    let found = conn.query_all_raw(turn.statement(&TEXTS, backend)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(1..i64::MAX, 0..4)
    }

    proptest! {
        /// A text kept by one turn, bound with another turn's values of the
        /// same shape, is the statement sea-query builds for the other.
        #[test]
        fn a_kept_turn_text_reads_what_sea_query_builds(
            ints in prop::array::uniform3(prop::array::uniform2(1..i64::MAX)),
            sections in prop::array::uniform2(prop::collection::vec("[0-9.一-十]{1,4}", 0..4)),
            units in ids(),
            rules in ids(),
            other in prop::array::uniform2(ids()),
            reserve in any::<bool>(),
            postgres in any::<bool>(),
        ) {
            let backend = if postgres { DbBackend::Postgres } else { DbBackend::Sqlite };
            let reserve = reserve && postgres;
            let n = sections[0].len().min(sections[1].len());
            let (s0, s1): (Vec<&str>, Vec<&str>) =
                (sections[0][..n].iter().map(|s| s.as_str()).collect(), sections[1][..n].iter().map(|s| s.as_str()).collect());
            let units1: Vec<i64> = units.iter().zip(other[0].iter().chain(std::iter::repeat(&7))).map(|(_, o)| *o).collect();
            let rules1: Vec<i64> = rules.iter().zip(other[1].iter().chain(std::iter::repeat(&9))).map(|(_, o)| *o).collect();
            let first = Turn {
                run_id: ints[0][0], version_id: ints[1][0], organisation_id: ints[2][0],
                sections: &s0, units: &units, rules: &rules, reserve,
            };
            let then = Turn {
                run_id: ints[0][1], version_id: ints[1][1], organisation_id: ints[2][1],
                sections: &s1, units: &units1, rules: &rules1, reserve,
            };
            prop_assert_eq!(first.shape(backend), then.shape(backend));
            let texts = crate::kept_sql::Texts::default();
            prop_assert_eq!(first.statement(&texts, backend), backend.build(&first.query()));
            prop_assert!(texts.holds(&first.shape(backend)), "the first turn's text is kept");
            prop_assert_eq!(then.statement(&texts, backend), backend.build(&then.query()));
        }
    }
}
