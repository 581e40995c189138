//! Reading runs, their observations and their audit trail, page by page.

use entity::states::{ObservationStatus, RunStatus};
use entity::{audit_log, indicator, observation, organisation, rule, score_run, score_run_unit};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use super::visible_run;
use crate::audit;
use crate::caller::Caller;
use crate::error::ServiceError;
pub use crate::paging::{Page, Paged, Totals};
use crate::policy::{self, RunReader};

/// Filters on runs.
#[derive(Default)]
pub struct RunFilter {
    pub organisation_code: Option<String>,
    pub period: Option<String>,
    pub status: Option<RunStatus>,
}

pub async fn runs(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: RunFilter,
    page: Page,
) -> Result<Paged<score_run::Model>, ServiceError> {
    let mut q = score_run::Entity::find();
    let (scope, reader) = policy::run_scope(caller)?;
    if let Some(org) = scope {
        q = q.filter(score_run::Column::OrganisationId.eq(org));
    }
    match reader {
        RunReader::Staff => {}
        // A unit sees the runs that assess it; an integration, published ones.
        RunReader::Unit(u) => {
            let assessing = score_run_unit::Entity::find()
                .select_only()
                .column(score_run_unit::Column::ScoreRunId)
                .filter(score_run_unit::Column::UnitId.eq(u))
                .into_query();
            q = q.filter(score_run::Column::Id.in_subquery(assessing));
        }
        RunReader::Integration => {
            q = q.filter(score_run::Column::Status.is_in([RunStatus::Published, RunStatus::Superseded]));
        }
    }
    if let Some(code) = &filter.organisation_code {
        let org = organisation::Entity::find()
            .filter(organisation::Column::Code.eq(code.as_str()))
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::not_found("organisation"))?;
        policy::run_reader(caller, org.id)?;
        q = q.filter(score_run::Column::OrganisationId.eq(org.id));
    }
    if let Some(p) = &filter.period {
        q = q.filter(score_run::Column::Period.eq(p.as_str()));
    }
    if let Some(s) = &filter.status {
        q = q.filter(score_run::Column::Status.eq(*s));
    }
    crate::paging::fetch(db, q.order_by_desc(score_run::Column::Id), page).await
}

/// Filters on a run's observations.
#[derive(Default, Debug)]
pub struct ObservationFilter {
    pub unit_id: Option<i64>,
    /// Observations of rules under this indicator (itself or a descendant).
    pub indicator_code: Option<String>,
    pub status: Option<ObservationStatus>,
    /// Observations of rules this department (科室) scores, as the policy assigns them.
    pub department: Option<String>,
}

/// A page of a run's observations, oldest first. Its total is taken from
/// `totals` when one was kept for the same list as the caller sees it
/// (the run, the reader, the filter), and handed to it when counted.
pub async fn observations(
    db: &DatabaseConnection,
    caller: &Caller,
    run: &score_run::Model,
    filter: ObservationFilter,
    page: Page,
    totals: &(dyn Totals + Sync),
) -> Result<Paged<observation::Model>, ServiceError> {
    // The run was loaded by whoever handed it over; what the caller may see of
    // it is decided again here.
    let reader = super::see_run(db, caller, run).await?;
    let run_id = run.id;
    // The list as this reader sees it. Not with a department: which rules it
    // scores follows the policy, which the words do not carry.
    let what = filter.department.is_none().then(|| {
        let ObservationFilter { unit_id, indicator_code, status, department: _ } = &filter;
        format!("observations:{run_id}:{reader:?}:{unit_id:?}:{status:?}:{indicator_code:?}")
    });
    let page = match &what {
        Some(w) => totals.known(w, page),
        None => page,
    };
    let own_unit = match reader {
        RunReader::Staff => None,
        // A unit's own observations, once the run is published.
        RunReader::Unit(u) if run.status.is_published() => Some(u),
        RunReader::Unit(_) => return Ok(Paged { rows: Vec::new(), total: 0, offset: page.offset }),
        RunReader::Integration => return Err(ServiceError::Forbidden),
    };
    let equal = Equalities { run_id, units: [own_unit, filter.unit_id], status: filter.status };
    if filter.indicator_code.is_none() && filter.department.is_none() {
        // The department head's page: its SQL text kept per shape.
        let paged: Paged<ByPosition> =
            crate::paging::fetch_kept(db, &PAGE_TEXTS, equal.shape(), equal.values(), || equal.query(), page).await?;
        return Ok(counted(paged, what.as_deref(), page, totals));
    }
    let mut q = equal.query();
    if let Some(code) = &filter.indicator_code {
        let all = indicator::Entity::find()
            .filter(indicator::Column::RubricVersionId.eq(run.rubric_version_id))
            .all(db)
            .await?;
        let root = all.iter().find(|i| &i.code == code).ok_or_else(|| {
            ServiceError::BadUserInput(format!("`{code}` is not an indicator of the run's rubric version"))
        })?;
        // The indicator and its descendants (parents come before children).
        let mut ids = vec![root.id];
        let mut grew = true;
        while grew {
            grew = false;
            for i in &all {
                if let Some(p) = i.parent_id
                    && ids.contains(&p)
                    && !ids.contains(&i.id)
                {
                    ids.push(i.id);
                    grew = true;
                }
            }
        }
        let rule_ids: Vec<i64> = rule::Entity::find()
            .filter(rule::Column::IndicatorId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        q = q.filter(observation::Column::RuleId.is_in(rule_ids));
    }
    if let Some(dept) = &filter.department {
        let rule_ids = rules_of_department(db, caller, run, dept).await?;
        q = q.filter(observation::Column::RuleId.is_in(rule_ids));
    }
    let paged: Paged<ByPosition> = crate::paging::fetch_as(db, q, page).await?;
    Ok(counted(paged, what.as_deref(), page, totals))
}

/// The page read, its total handed to `totals` when it was counted.
fn counted(
    paged: Paged<ByPosition>,
    what: Option<&str>,
    page: Page,
    totals: &(dyn Totals + Sync),
) -> Paged<observation::Model> {
    if let Some(w) = what {
        totals.read(w, page, paged.total);
    }
    Paged { rows: paged.rows.into_iter().map(|r| r.0).collect(), total: paged.total, offset: paged.offset }
}

/// The SQL texts of pages of observations (`paging::fetch_kept`).
static PAGE_TEXTS: std::sync::LazyLock<crate::paging::Texts> = std::sync::LazyLock::new(Default::default);

/// A run's observations filtered by equalities only: the run, a unit (the
/// reader's own, the one asked: each may be absent), a state.
struct Equalities {
    run_id: i64,
    units: [Option<i64>; 2],
    status: Option<ObservationStatus>,
}

impl Equalities {
    /// The query, oldest first; `find()` selects every column, in the order
    /// of the fields (`ByPosition`).
    fn query(&self) -> sea_orm::Select<observation::Entity> {
        let mut q = observation::Entity::find().filter(observation::Column::ScoreRunId.eq(self.run_id));
        for u in self.units.into_iter().flatten() {
            q = q.filter(observation::Column::UnitId.eq(u));
        }
        if let Some(s) = self.status {
            q = q.filter(observation::Column::Status.eq(s));
        }
        q.order_by_asc(observation::Column::Id)
    }

    /// Which filters are present: the SQL text depends on nothing else.
    fn shape(&self) -> u32 {
        let [mine, asked] = self.units;
        u32::from(mine.is_some()) | u32::from(asked.is_some()) << 1 | u32::from(self.status.is_some()) << 2
    }

    /// The values the filters bind, in the order `query` adds them.
    fn values(&self) -> Vec<sea_orm::Value> {
        let mut values = vec![self.run_id.into()];
        values.extend(self.units.into_iter().flatten().map(sea_orm::Value::from));
        values.extend(self.status.map(sea_orm::Value::from));
        values
    }
}

/// An observation read by position, in the order `Entity::find()` selects
/// its columns (the order of the fields): sea-orm reads each column by name
/// (a lookup, and a formatted name for every one), about 16,000
/// instructions a row of a department head's page.
struct ByPosition(observation::Model);

#[cfg(test)]
impl ByPosition {
    /// Every column of the row, in the order they are read back.
    const COLUMNS: [observation::Column; 18] = [
        observation::Column::Id,
        observation::Column::ScoreRunId,
        observation::Column::UnitId,
        observation::Column::RuleId,
        observation::Column::Facts,
        observation::Column::Note,
        observation::Column::Status,
        observation::Column::SupersedesId,
        observation::Column::WorkKey,
        observation::Column::DocumentDate,
        observation::Column::EnteredBy,
        observation::Column::EnteredAt,
        observation::Column::IdempotencyKey,
        observation::Column::Version,
        observation::Column::Halve,
        observation::Column::OriginId,
        observation::Column::CarriedFromId,
        observation::Column::BatchId,
    ];
}

impl sea_orm::FromQueryResult for ByPosition {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        if !pre.is_empty() {
            return Err(sea_orm::DbErr::Type("an observation is read by position only without a prefix".into()));
        }
        Ok(ByPosition(observation::Model {
            id: res.try_get_by_index(0)?,
            score_run_id: res.try_get_by_index(1)?,
            unit_id: res.try_get_by_index(2)?,
            rule_id: res.try_get_by_index(3)?,
            facts: res.try_get_by_index(4)?,
            note: crate::db::nullable(res, 5)?,
            status: res.try_get_by_index(6)?,
            supersedes_id: crate::db::nullable(res, 7)?,
            work_key: crate::db::nullable(res, 8)?,
            document_date: crate::db::nullable(res, 9)?,
            entered_by: crate::db::nullable(res, 10)?,
            entered_at: res.try_get_by_index(11)?,
            idempotency_key: crate::db::nullable(res, 12)?,
            version: res.try_get_by_index(13)?,
            halve: crate::db::nullable(res, 14)?,
            origin_id: crate::db::nullable(res, 15)?,
            carried_from_id: crate::db::nullable(res, 16)?,
            batch_id: crate::db::nullable(res, 17)?,
        }))
    }
}

/// The rules of the run's version that a department scores: those under an
/// indicator the policy assigns to `dept:<name>` (on it or an ancestor).
/// The server itself, with no policy at hand, reads the rubric's own
/// `department` column.
async fn rules_of_department(
    db: &DatabaseConnection,
    caller: &Caller,
    run: &score_run::Model,
    dept: &str,
) -> Result<Vec<i64>, ServiceError> {
    let indicators =
        indicator::Entity::find().filter(indicator::Column::RubricVersionId.eq(run.rubric_version_id)).all(db).await?;
    let version = entity::rubric_version::Entity::find_by_id(run.rubric_version_id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("rubric version"))?;
    let rubric = entity::rubric::Entity::find_by_id(version.rubric_id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("rubric"))?;
    let path = |i| path_of(&indicators, i);
    let subject = format!("dept:{dept}");
    let owned: Vec<i64> = indicators
        .iter()
        .filter(|i| match &caller.grants {
            Some(g) => g.policy.allows_on_indicator(&subject, &g.organisation_code, &rubric.code, &path(i), "record"),
            None => {
                path(i).iter().any(|c| indicators.iter().any(|x| x.code == *c && x.department.as_deref() == Some(dept)))
            }
        })
        .map(|i| i.id)
        .collect();
    Ok(rule::Entity::find()
        .filter(rule::Column::IndicatorId.is_in(owned))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// An indicator's code and its ancestors' codes, nearest first.
fn path_of<'a>(all: &'a [indicator::Model], i: &'a indicator::Model) -> Vec<&'a str> {
    let mut codes = vec![i.code.as_str()];
    let mut at = i.parent_id;
    while let Some(p) = at.and_then(|p| all.iter().find(|x| x.id == p)) {
        codes.push(p.code.as_str());
        at = p.parent_id;
    }
    codes
}

/// One observation, as the caller may see it: staff any of the organisation's;
/// a unit its own, once the run is published; otherwise NOT_FOUND.
pub async fn observation_by_id(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> Result<observation::Model, ServiceError> {
    Ok(observation_and_run(db, caller, id).await?.0)
}

/// [`observation_by_id`] with its run, read with it in one statement (a
/// correction and a withdrawal need both; the run's frozen rubric version
/// is kept apart: `rubric::frozen::kept_compiled`).
pub async fn observation_and_run(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> Result<(observation::Model, score_run::Model), ServiceError> {
    policy::signed_in(caller)?;
    let missing = || ServiceError::not_found("observation");
    let (o, run) =
        observation::Entity::find_by_id(id).find_also_related(score_run::Entity).one(db).await?.ok_or_else(missing)?;
    let run = run.ok_or_else(missing)?;
    let (run, reader) = super::visible_kept_run(db, caller, run).await.map_err(|e| e.hidden_as("observation"))?;
    match reader {
        RunReader::Staff => Ok((o, run)),
        RunReader::Unit(u) if u == o.unit_id && run.status.is_published() => Ok((o, run)),
        _ => Err(missing()),
    }
}

/// One audit entry, for staff of its organisation.
pub async fn audit_entry_by_id(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> Result<audit_log::Model, ServiceError> {
    policy::signed_in(caller)?;
    let missing = || ServiceError::not_found("audit entry");
    let e = audit_log::Entity::find_by_id(id).one(db).await?.ok_or_else(missing)?;
    match (staff_scope(caller).map_err(|e| e.hidden_as("audit entry"))?, e.organisation_id) {
        (None, _) => Ok(e),
        (Some(org), Some(of)) if org == of => Ok(e),
        _ => Err(missing()),
    }
}

/// Filters on the audit log.
#[derive(Default)]
pub struct AuditFilter {
    pub run_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub user_id: Option<i64>,
}

pub async fn audit(
    db: &DatabaseConnection,
    caller: &Caller,
    filter: AuditFilter,
    page: Page,
) -> Result<Paged<audit_log::Model>, ServiceError> {
    let mut q = audit_log::Entity::find();
    let scope = staff_scope(caller)?;
    if let Some(org) = scope {
        q = q.filter(audit_log::Column::OrganisationId.eq(org));
    }
    if let Some(r) = filter.run_id {
        let (run, _) = visible_run(db, caller, r).await?;
        policy::may_read_as_staff(caller, run.organisation_id)?;
        q = q.filter(audit_log::Column::ScoreRunId.eq(r));
    }
    if let Some(u) = filter.unit_id {
        q = q.filter(audit_log::Column::UnitId.eq(u));
    }
    if let Some(u) = filter.user_id {
        q = q.filter(audit_log::Column::ActorId.eq(u));
    }
    crate::paging::fetch(db, q.order_by_asc(audit_log::Column::Id), page).await
}

/// The audit log is for staff (admin, department heads); the organisation to filter by.
fn staff_scope(caller: &Caller) -> Result<Option<i64>, ServiceError> {
    match policy::run_scope(caller)? {
        (scope, RunReader::Staff) => Ok(scope),
        _ => Err(ServiceError::Forbidden),
    }
}

/// The outcome of checking audit chains: the caller's organisation's, or
/// every chain for the server itself.
#[derive(Debug)]
pub struct ChainCheck {
    pub entries: u64,
    pub first_broken: Option<i64>,
    pub tail_missing: bool,
    pub invalid_anchors: u64,
    /// With one chain checked: its newest entry and its newest anchor.
    pub head: Option<audit::Head>,
    pub anchored: Option<audit::Head>,
}

impl ChainCheck {
    pub fn ok(&self) -> bool {
        self.first_broken.is_none() && !self.tail_missing && self.invalid_anchors == 0
    }

    fn of(mut reports: Vec<audit::ChainReport>) -> ChainCheck {
        let mut check = ChainCheck {
            entries: reports.iter().map(|r| r.entries).sum(),
            first_broken: reports.iter().filter_map(|r| r.first_broken).min(),
            tail_missing: reports.iter().any(|r| r.tail_missing),
            invalid_anchors: reports.iter().map(|r| r.invalid_anchors).sum(),
            head: None,
            anchored: None,
        };
        if let [one] = reports.as_mut_slice() {
            (check.head, check.anchored) = (one.head.take(), one.anchored.take());
        }
        check
    }
}

/// Checks the caller's organisation's chain (its staff only); the server
/// itself checks every chain.
pub async fn verify_chain(
    db: &DatabaseConnection,
    chain_key: &audit::ChainKey,
    caller: &Caller,
) -> Result<ChainCheck, ServiceError> {
    let reports = match staff_scope(caller)? {
        Some(org) => vec![audit::check_chain(db, chain_key, audit::Chain::Organisation(org)).await?],
        None => audit::check_all(db, chain_key).await?,
    };
    Ok(ChainCheck::of(reports))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Database, FromQueryResult, Iterable, Statement};

    #[test]
    fn an_observation_is_selected_in_the_order_it_is_read() {
        let names = |c: observation::Column| sea_orm::IdenStatic::as_str(&c);
        let all: Vec<&str> = observation::Column::iter().map(names).collect();
        assert_eq!(ByPosition::COLUMNS.map(names).to_vec(), all);
        // What `find()` sends lists them in that order.
        let sql = observation::Entity::find().build(sea_orm::DbBackend::Postgres).to_string();
        let at: Vec<usize> =
            all.iter().map(|c| sql.find(&format!("\"observation\".\"{c}\"")).expect("every column")).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{sql}");
    }

    #[tokio::test]
    async fn each_position_fills_its_own_field() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT 1, 2, 3, 4, '{\"count\":5}', 'note', 'superseded', 8, 'work', '2026-10-10', 11, \
                 '2026-10-12 08:00:00+00:00', 'key', 14, 'halve', 16, 17, 18",
            ))
            .await
            .unwrap()
            .unwrap();
        let read = ByPosition::from_query_result(&row, "").unwrap().0;
        let expected = observation::Model {
            id: 1,
            score_run_id: 2,
            unit_id: 3,
            rule_id: 4,
            facts: "{\"count\":5}".into(),
            note: Some("note".into()),
            status: ObservationStatus::Superseded,
            supersedes_id: Some(8),
            work_key: Some("work".into()),
            document_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()),
            entered_by: Some(11),
            entered_at: "2026-10-12T08:00:00Z".parse().unwrap(),
            idempotency_key: Some("key".into()),
            version: 14,
            halve: Some("halve".into()),
            origin_id: Some(16),
            carried_from_id: Some(17),
            batch_id: Some(18),
        };
        assert_eq!(read, expected);
        assert!(ByPosition::from_query_result(&row, "o_").is_err());

        // Every nullable column NULL: read as `None` (`db::nullable`), the rest as before.
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT 1, 2, 3, 4, '{}', NULL, 'active', NULL, NULL, NULL, NULL, \
                 '2026-10-12 08:00:00+00:00', NULL, 1, NULL, NULL, NULL, NULL",
            ))
            .await
            .unwrap()
            .unwrap();
        let read = ByPosition::from_query_result(&row, "").unwrap().0;
        let expected = observation::Model {
            facts: "{}".into(),
            note: None,
            status: ObservationStatus::Active,
            supersedes_id: None,
            work_key: None,
            document_date: None,
            entered_by: None,
            idempotency_key: None,
            version: 1,
            halve: None,
            origin_id: None,
            carried_from_id: None,
            batch_id: None,
            ..expected
        };
        assert_eq!(read, expected);
        // A text where a number belongs is refused, not read as NULL.
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT 1, 2, 3, 4, '{}', NULL, 'active', 'eight', NULL, NULL, NULL, \
                 '2026-10-12 08:00:00+00:00', NULL, 1, NULL, NULL, NULL, NULL",
            ))
            .await
            .unwrap()
            .unwrap();
        assert!(ByPosition::from_query_result(&row, "").is_err());
    }

    fn status(n: u8) -> Option<ObservationStatus> {
        [None, Some(ObservationStatus::Active), Some(ObservationStatus::Superseded), Some(ObservationStatus::Withdrawn)]
            [usize::from(n % 4)]
    }

    proptest::proptest! {
        /// A page of observations read from its kept text binds what
        /// sea-query would have built for it, for every shape, page form and
        /// backend: the text kept by a first page of the same shape (other
        /// values) and this page's values.
        #[test]
        fn a_kept_text_reads_what_sea_query_builds(
            runs in proptest::array::uniform2(1..i64::MAX),
            units in proptest::array::uniform2(proptest::array::uniform2(proptest::option::of(1..i64::MAX))),
            states in proptest::array::uniform2(0u8..4),
            first in 1u64..=100,
            offset in proptest::prop_oneof![proptest::strategy::Just(0u64), 1..crate::paging::MAX_OFFSET],
            count in proptest::bool::ANY,
            known in proptest::option::of(0..u64::MAX / 2),
            postgres in proptest::bool::ANY,
        ) {
            use crate::paging::{Form, Texts};
            let backend = if postgres { sea_orm::DbBackend::Postgres } else { sea_orm::DbBackend::Sqlite };
            // The same shape: the first page's filters present where this one's are.
            let [u0, u1] = units[1];
            let [a0, a1] = units[0];
            let this = Equalities { run_id: runs[1], units: [u0, u1], status: status(states[1]) };
            let earlier = Equalities {
                run_id: runs[0],
                units: [u0.map(|_| a0.unwrap_or(1)), u1.map(|_| a1.unwrap_or(2))],
                status: this.status.map(|s| status(states[0]).unwrap_or(s)),
            };
            proptest::prop_assert_eq!(earlier.shape(), this.shape());
            let page = Page { first, offset, count, known_total: known };
            let form = Form::of(page).expect("a page with rows");
            let texts = Texts::default();
            let built_first = texts.statement(backend, earlier.shape(), form, earlier.values(), &|| earlier.query(), page);
            proptest::prop_assert!(texts.holds(backend, this.shape(), form, page), "the first page's text is kept");
            proptest::prop_assert_eq!(built_first, crate::paging::statement(earlier.query(), form, page, backend).0);
            let kept = texts.statement(backend, this.shape(), form, this.values(), &|| this.query(), page);
            proptest::prop_assert_eq!(kept, crate::paging::statement(this.query(), form, page, backend).0);
        }
    }
}
