//! Score runs (考核批次) over GraphQL: the run and its submissions, opening a
//! run and its lifecycle (submit, reopen, publish, amend). Thin resolvers:
//! parse ids and inputs, call one service function, map the result.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::score_run;

use super::connection::{connection, page_of, slice};
use super::errors::{GqlResult, IntoGql};
use super::states::{ClaimStatus, ObservationStatus, PeriodKind, ScoreRunStatus, SubmissionStatus};
use super::unit::UnitConnection;
use super::{IdKind, Organisation, RubricVersion, Unit, env, parse_id, to_id, write_env};
use crate::claims;
use crate::runs::query::{ObservationFilter, RunFilter};
use crate::runs::results::{self, WhatIfChange};
use crate::runs::{self, lifecycle, sections};
use kaohe_service::ServiceError;

use super::claims::{Claim, ClaimConnection};
use super::observations::{FactsInput, Observation, ObservationConnection, ObservationIn};
use super::plain::Answered;
use super::results::{RankingEntry, UnitResult, UnitResultConnection, WhatIfRow};

connection!(ScoreRunConnection, ScoreRunEdge, ScoreRun, "score runs (考核批次)");

/// Opening a score run (开启考核批次).
#[derive(InputObject)]
pub struct OpenScoreRunInput {
    /// A published rubric version (考核细则版本).
    pub rubric_version_id: ID,
    /// Period (考核周期): a year `2026` (annual regime) or a month `2026-03` (monthly regime).
    pub period: String,
    /// Units assessed (被考核单位), of the version's organisation.
    pub unit_ids: Vec<ID>,
    /// Title (标题).
    pub title: String,
    /// The same key twice opens one run.
    pub idempotency_key: Option<String>,
}

/// A hypothetical change for a what-if (假设分析): add an observation, or remove one.
#[derive(InputObject)]
pub struct WhatIfChangeInput {
    /// Remove this active observation.
    pub remove_observation_id: Option<ID>,
    /// Add an observation for this unit (with `ruleCode` and `facts`).
    pub unit_id: Option<ID>,
    /// The rule of the added observation (细则代码).
    pub rule_code: Option<String>,
    /// The facts of the added observation (事实).
    pub facts: Option<FactsInput>,
    /// Work key of the added observation.
    pub work_key: Option<String>,
    /// Halving reason of the added observation.
    pub halve: Option<String>,
}

/// A score run (考核批次): one rubric version × one period × the units assessed.
#[derive(Clone)]
pub struct ScoreRun(pub score_run::Model);

/// A score run (考核批次): one rubric version × one period × the units assessed.
#[Object]
impl ScoreRun {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::ScoreRun, self.0.id)
    }

    /// Title (标题).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Period (考核周期): `2026` or `2026-03`.
    async fn period(&self) -> &str {
        &self.0.period
    }

    /// A year (年度) or a month (月度).
    async fn period_kind(&self) -> PeriodKind {
        self.0.period_kind.into()
    }

    /// Lifecycle state (批次状态).
    async fn status(&self) -> ScoreRunStatus {
        self.0.status.into()
    }

    /// Revision number (修订版次), 1 for the first.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// Version for optimistic concurrency (乐观锁版本); pass it to `publishRun`.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it was opened (开启时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was published (发布时间), if it was.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }

    /// The run this revision replaces (被修订批次), if any.
    async fn replaces(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ScoreRun>> {
        let Some(id) = self.0.replaces_run_id else { return Ok(None) };
        let (db, caller) = env(ctx)?;
        Ok(Some(ScoreRun(runs::visible_run(db, caller, id).await.gql()?.0)))
    }

    /// The assessing organisation (考核组织).
    async fn organisation(&self, ctx: &Context<'_>) -> async_graphql::Result<Organisation> {
        Ok(Organisation(super::loader::organisation(ctx, self.0.organisation_id).await?))
    }

    /// The rubric version scored (考核细则版本).
    async fn rubric_version(&self, ctx: &Context<'_>) -> async_graphql::Result<RubricVersion> {
        let (db, caller) = env(ctx)?;
        let id = self.0.rubric_version_id;
        // A published or retired version (what runs score by) is reference
        // data anyone may read: kept per generation. Drafts are read each time.
        if let Some(v) = super::kept::get::<entity::rubric_version::Model>(ctx, id) {
            crate::policy::may_read(caller).gql()?;
            return Ok(RubricVersion::new(v));
        }
        let v = crate::rubric::query::version_by_id(db, caller, id).await.gql()?;
        if v.status != entity::states::VersionStatus::Draft {
            super::kept::keep(ctx, &v);
        }
        Ok(RubricVersion::new(v))
    }

    /// The units assessed (被考核单位), in the order they were added.
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<UnitConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let reader = runs::see_run(db, caller, &self.0).await.gql()?;
        let mut all = results::units_of(db, self.0.id).await.gql()?;
        all.retain(|u| reader.sees_unit(u.id));
        Ok(UnitConnection::build(slice(all, p), Unit))
    }

    /// Observations of the run (扣分/加分记录), oldest first.
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this unit's.")] unit_id: Option<ID>,
        #[graphql(desc = "Only under this indicator (itself or its sub-indicators), by code.")] indicator_code: Option<
            String,
        >,
        #[graphql(desc = "Only in this state.")] status: Option<ObservationStatus>,
        #[graphql(desc = "Only of rules this department (科室) scores, e.g. 秘书科.")] department: Option<String>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<Answered<ObservationConnection>> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let unit_id = unit_id.map(|u| parse_id(&u, IdKind::Unit)).transpose()?;
        let filter = ObservationFilter { unit_id, indicator_code, status: status.map(Into::into), department };
        // Its total kept per generation for the run's own organisation (`kept`).
        let totals = super::kept::Totals::of(ctx, self.0.organisation_id);
        let paged = runs::query::observations(db, caller, &self.0, filter, p, &totals).await.gql()?;
        if let Some(shape) = super::plain::shape_of(ctx)
            && let Some(answer) = ObservationIn::page(ctx, &paged, &shape).await
        {
            return Ok(answer);
        }
        Ok(Answered::Normal(ObservationConnection::build(paged, Observation)))
    }

    /// Results per unit (考核结果), best first: stored once published, computed live while open.
    async fn results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<UnitResultConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let all = results::of_loaded_run(db, caller, &self.0).await.gql()?;
        let page = slice(all, p);
        if ctx.look_ahead().field("edges").field("node").field("unit").exists() {
            super::loader::prime_units(ctx, page.rows.iter().map(|o| o.unit_id).collect::<Vec<_>>()).await?;
        }
        Ok(UnitResultConnection::build(page, UnitResult))
    }

    /// The ranking (排名): every unit by final score; ties share a rank (1, 2, 2, 4).
    async fn ranking(&self, ctx: &Context<'_>) -> async_graphql::Result<super::plain::Listed<RankingEntry>> {
        let (db, caller) = env(ctx)?;
        let all = results::ranking_of(db, caller, &self.0, super::ranking_cache(ctx)).await.gql()?;
        let units = if ctx.look_ahead().field("unit").exists() {
            super::loader::prime_units(ctx, all.iter().map(|o| o.unit_id).collect::<Vec<_>>()).await?
        } else {
            Default::default()
        };
        if ctx.look_ahead().field("unit").field("organisation").exists() {
            super::loader::prime_organisations(ctx, &units).await?;
        }
        let run = std::sync::Arc::new(self.0.clone());
        Ok(super::plain::Listed::of(ctx, RankingEntry::rows(all, run, &units).collect()))
    }

    /// What the ranking would be with these changes (假设分析); nothing is saved.
    async fn what_if(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Observations to add or remove.")] changes: Vec<WhatIfChangeInput>,
    ) -> async_graphql::Result<Vec<WhatIfRow>> {
        let (db, caller) = env(ctx)?;
        if changes.len() > 100 {
            return Err(ServiceError::BadUserInput("at most 100 changes".into()).into_gql());
        }
        let mut list = Vec::new();
        for c in changes {
            if let Some(id) = c.remove_observation_id {
                list.push(WhatIfChange::Remove { observation_id: parse_id(&id, IdKind::Observation)? });
                continue;
            }
            let (Some(unit), Some(rule), Some(facts)) = (c.unit_id, c.rule_code, c.facts) else {
                return Err(ServiceError::BadUserInput(
                    "a change removes an observation, or adds one with unitId, ruleCode and facts".into(),
                )
                .into_gql());
            };
            list.push(WhatIfChange::Add {
                unit_id: parse_id(&unit, IdKind::Unit)?,
                rule,
                facts: Box::new(facts.into()),
                work: c.work_key,
                halve: c.halve,
            });
        }
        let rows = results::what_if(db, caller, self.0.id, list).await.gql()?;
        Ok(rows.into_iter().map(WhatIfRow).collect())
    }

    /// Bonus claims (申报) filed in this run, oldest first: staff see all, a unit user its own.
    async fn claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only in this state.")] status: Option<ClaimStatus>,
        #[graphql(desc = "Only this unit's.")] unit_id: Option<ID>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<ClaimConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let unit_id = unit_id.map(|u| parse_id(&u, IdKind::Unit)).transpose()?;
        let paged = claims::of_run(db, caller, self.0.id, status.map(Into::into), unit_id, p).await.gql()?;
        Ok(ClaimConnection::build(paged, Claim))
    }

    /// Section submissions (科室提交) of this run.
    async fn submissions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SectionSubmission>> {
        let (db, caller) = env(ctx)?;
        Ok(sections::of_run(db, caller, &self.0).await.gql()?.into_iter().map(SectionSubmission).collect())
    }
}

/// A section's submission state in a run (科室提交).
pub struct SectionSubmission(pub sections::Submission);

/// A section's submission state in a run (科室提交).
#[Object]
impl SectionSubmission {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::SectionSubmission, self.0.row.id)
    }

    /// Section code (板块代码).
    async fn section_code(&self) -> &str {
        &self.0.section_code
    }

    /// Submitted (已提交: no more writes) or open again (reopened, 已退回).
    async fn status(&self) -> SubmissionStatus {
        self.0.row.status.into()
    }

    /// When it was last submitted (提交时间).
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.submitted_at
    }

    /// Version (乐观锁版本).
    async fn version(&self) -> i32 {
        self.0.row.version
    }
}

/// Score runs (考核批次).
#[derive(Default)]
pub struct ScoreRunQuery;

/// Score runs (考核批次).
#[Object]
impl ScoreRunQuery {
    /// Score runs (考核批次), newest first.
    async fn score_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this organisation's (组织代码).")] organisation_code: Option<String>,
        #[graphql(desc = "Only this period (考核周期), e.g. `2026-03`.")] period: Option<String>,
        #[graphql(desc = "Only in this state.")] status: Option<ScoreRunStatus>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<ScoreRunConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let filter = RunFilter { organisation_code, period, status: status.map(Into::into) };
        let paged = runs::query::runs(db, caller, filter, p).await.gql()?;
        Ok(ScoreRunConnection::build(paged, ScoreRun))
    }

    /// One score run (考核批次) by id; NOT_FOUND if none.
    async fn score_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Score run id.")] id: ID,
    ) -> async_graphql::Result<Option<ScoreRun>> {
        let (db, caller) = env(ctx)?;
        let id = parse_id(&id, IdKind::ScoreRun)?;
        let run = match super::kept::get::<entity::score_run::Model>(ctx, id) {
            Some(run) => runs::visible_kept_run(db, caller, run).await.gql()?.0,
            None => {
                let run = runs::visible_run(db, caller, id).await.gql()?.0;
                super::kept::keep(ctx, &run);
                run
            }
        };
        Ok(Some(ScoreRun(run)))
    }
}

/// Opening a score run (开启考核批次).
#[derive(Default)]
pub struct ScoreRunMutation;

/// Opening a score run (开启考核批次).
#[Object]
impl ScoreRunMutation {
    /// Opens a score run (开启考核批次) on a published version, for a period and units.
    async fn open_score_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to open.")] input: OpenScoreRunInput,
    ) -> async_graphql::Result<ScoreRun> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let unit_ids = input.unit_ids.iter().map(|u| parse_id(u, IdKind::Unit)).collect::<Result<Vec<_>, _>>()?;
        let run = lifecycle::open(
            db,
            chain_key,
            caller,
            lifecycle::OpenRun {
                rubric_version_id: parse_id(&input.rubric_version_id, IdKind::RubricVersion)?,
                period: input.period,
                unit_ids,
                title: input.title,
                idempotency_key: input.idempotency_key,
            },
        )
        .await
        .gql()?;
        Ok(ScoreRun(run))
    }
}

/// A run's lifecycle: sections submitted and reopened, publication, amendment.
#[derive(Default)]
pub struct LifecycleMutation;

/// A run's lifecycle: sections submitted and reopened, publication, amendment.
#[Object]
impl LifecycleMutation {
    /// Submits a section (科室提交): further writes to it are FROZEN until reopened.
    async fn submit_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The score run.")] run_id: ID,
        #[graphql(desc = "Section code (板块代码), e.g. `2`.")] section_code: String,
    ) -> async_graphql::Result<SectionSubmission> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, IdKind::ScoreRun)?;
        Ok(SectionSubmission(sections::submit(db, chain_key, caller, run_id, &section_code).await.gql()?))
    }

    /// Reopens a submitted section (退回); for the assessment office.
    async fn reopen_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The score run.")] run_id: ID,
        #[graphql(desc = "Section code (板块代码).")] section_code: String,
    ) -> async_graphql::Result<SectionSubmission> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, IdKind::ScoreRun)?;
        Ok(SectionSubmission(sections::reopen(db, chain_key, caller, run_id, &section_code).await.gql()?))
    }

    /// Publishes a run (发布): the engine scores every unit, results are stored, the run is frozen.
    async fn publish_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The score run.")] run_id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<ScoreRun> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, IdKind::ScoreRun)?;
        let run = lifecycle::publish(db, chain_key, caller, run_id, expected_version).await.gql()?;
        if let Ok(m) = ctx.data::<std::sync::Arc<crate::metrics::Metrics>>() {
            m.run_published();
        }
        Ok(ScoreRun(run))
    }

    /// Amends a published run (修订): opens a new revision linked to it, observations copied
    /// (or not, with `copyObservations: false`: the revision starts empty but for what it
    /// carries from earlier periods).
    async fn amend_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The published score run.")] run_id: ID,
        #[graphql(desc = "Why (修订原因).")] reason: String,
        #[graphql(
            desc = "Copy the active observations and their evidence into the revision (default true).",
            default = true
        )]
        copy_observations: bool,
    ) -> async_graphql::Result<ScoreRun> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, IdKind::ScoreRun)?;
        Ok(ScoreRun(lifecycle::amend(db, chain_key, caller, run_id, &reason, copy_observations).await.gql()?))
    }
}
