//! Score runs over GraphQL: the `Mutation` root, run-scoped queries and the
//! types they return. Resolvers are thin: they parse ids and inputs, call one
//! service function and convert its error.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{audit_log, claim, observation, score_run, section_submission};
use rust_decimal::Decimal;

// `Evidence` is re-exported here for `node.rs`, which names it from this module.
use super::connection::{connection, cost, page, slice};
use super::errors::{GqlResult, IntoGql};
pub use super::evidence::Evidence;
use super::evidence::{EvidenceReferenceInput, evidence_ids, refs};
use super::results::{IndicatorExplanation, ScoreCut, SectionResult, observation_gid};
use super::unit::UnitConnection;
use super::{Kind, Organisation, RubricVersion, Unit, env, parse_id, to_id, write_env};
use crate::claims;
use crate::evidence::EvidenceReference;
use crate::paging::Page;
use crate::runs::observations::{ObservationDraft, RecordObservation};
use crate::runs::query::{AuditFilter, ObservationFilter, RunFilter};
use crate::runs::results::{self, UnitOutcome, WhatIfChange};
use crate::runs::{self, lifecycle, sections};
use kaohe_service::ServiceError;

// ---------------------------------------------------------------- connections

connection!(ScoreRunConnection, ScoreRunEdge, ScoreRun, "score runs (考核批次)");
connection!(ObservationConnection, ObservationEdge, Observation, "observations (扣分/加分记录)");
connection!(UnitResultConnection, UnitResultEdge, UnitResult, "unit results (考核结果)");
connection!(ClaimConnection, ClaimEdge, Claim, "bonus claims (申报)");
connection!(AuditEntryConnection, AuditEntryEdge, AuditEntry, "audit entries (操作日志)");

// ---------------------------------------------------------------- enums and inputs

/// Lifecycle of a score run (批次状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ScoreRunStatus {
    /// Open for observations (进行中).
    Open,
    /// Under review (审核中).
    Review,
    /// Published and frozen (已发布).
    Published,
    /// Replaced by a newer published revision; still readable (已被修订).
    Superseded,
}

impl ScoreRunStatus {
    fn of(s: &str) -> ScoreRunStatus {
        match s {
            "review" => ScoreRunStatus::Review,
            "published" => ScoreRunStatus::Published,
            "superseded" => ScoreRunStatus::Superseded,
            _ => ScoreRunStatus::Open,
        }
    }
    fn text(self) -> &'static str {
        match self {
            ScoreRunStatus::Open => "open",
            ScoreRunStatus::Review => "review",
            ScoreRunStatus::Published => "published",
            ScoreRunStatus::Superseded => "superseded",
        }
    }
}

/// State of an observation (记录状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ObservationStatus {
    /// Counts (有效).
    Active,
    /// Replaced by a correction; kept for the record (已更正).
    Superseded,
    /// Withdrawn; kept for the record (已撤回).
    Withdrawn,
}

impl ObservationStatus {
    fn of(s: &str) -> ObservationStatus {
        match s {
            "superseded" => ObservationStatus::Superseded,
            "withdrawn" => ObservationStatus::Withdrawn,
            _ => ObservationStatus::Active,
        }
    }
    fn text(self) -> &'static str {
        match self {
            ObservationStatus::Active => "active",
            ObservationStatus::Superseded => "superseded",
            ObservationStatus::Withdrawn => "withdrawn",
        }
    }
}

/// State of a bonus claim (申报状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ClaimStatus {
    /// Waiting for the owning department (待审核).
    Pending,
    /// Approved: it became an observation and counts (已通过).
    Approved,
    /// Rejected: it does not count (已驳回).
    Rejected,
}

/// Grade of an award (奖项等级).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AwardGrade {
    /// 特等奖.
    Special,
    /// 一等奖.
    First,
    /// 二等奖.
    Second,
    /// 三等奖.
    Third,
    /// 其他奖 (优秀奖 …).
    Other,
}

/// The facts of an observation (事实); which fields a rule needs depends on its kind.
#[derive(InputObject, Default, Clone)]
pub struct FactsInput {
    /// Occurrences (次数/人次/个数), for per-count and by-level rules.
    pub count: Option<i64>,
    /// Actual value (实际值), e.g. 3 活动 or 80 (%), for shortfall rules.
    pub value: Option<Decimal>,
    /// Target (目标值) when the rule lets the observation set it.
    pub target: Option<Decimal>,
    /// Last period's value (上年/上期值), for shortfall-vs-baseline rules.
    pub baseline: Option<Decimal>,
    /// Whether the condition holds (是否), for flag and veto rules.
    pub flag: Option<bool>,
    /// Level key (级别), e.g. `national`, `provincial`, `municipal`, `county`.
    pub level: Option<String>,
    /// Award grade (奖项等级).
    pub grade: Option<AwardGrade>,
    /// Whether a 特等奖 was awarded in the same competition (设特等奖).
    #[graphql(default)]
    pub special_prize_awarded: bool,
    /// Team rank (团体名次), for team awards.
    pub team_rank: Option<i64>,
    /// Component key (评价主体), for rating rules, e.g. `leaders`.
    pub component: Option<String>,
    /// Rate in percent (满意率), for rating rules.
    pub rate: Option<Decimal>,
    /// Points chosen or awarded (分值), for direct and discretionary rules.
    pub points: Option<Decimal>,
    /// Amount (金额), for bracket and per-amount rules.
    pub amount: Option<Decimal>,
}

impl From<FactsInput> for kaohe_engine::Facts {
    fn from(f: FactsInput) -> Self {
        use kaohe_engine::Grade;
        kaohe_engine::Facts {
            count: f.count,
            value: f.value,
            target: f.target,
            baseline: f.baseline,
            flag: f.flag,
            level: f.level,
            grade: f.grade.map(|g| match g {
                AwardGrade::Special => Grade::Special,
                AwardGrade::First => Grade::First,
                AwardGrade::Second => Grade::Second,
                AwardGrade::Third => Grade::Third,
                AwardGrade::Other => Grade::Other,
            }),
            special_prize_awarded: f.special_prize_awarded,
            team_rank: f.team_rank,
            component: f.component,
            rate: f.rate,
            points: f.points,
            amount: f.amount,
        }
    }
}

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

/// Recording an observation (录入扣分/加分记录).
#[derive(InputObject)]
pub struct RecordObservationInput {
    /// The score run.
    pub run_id: ID,
    /// The unit (被考核单位).
    pub unit_id: ID,
    /// The rule's code (细则代码), e.g. `2.1.1-1`.
    pub rule_code: String,
    /// The facts (事实).
    pub facts: FactsInput,
    /// Identifies the same work recognised at several levels (只计最高分).
    pub work_key: Option<String>,
    /// Halving reason (折半原因), one the rule allows.
    pub halve: Option<String>,
    /// Issue date of the document behind a bonus (下发文件日期).
    pub document_date: Option<NaiveDate>,
    /// Note (备注).
    pub note: Option<String>,
    /// Evidence references (佐证材料).
    pub evidence: Option<Vec<EvidenceReferenceInput>>,
    /// Uploaded evidence (佐证材料附件, from `uploadEvidence`) of the same unit, at most 20.
    pub evidence_ids: Option<Vec<ID>>,
    /// The same key twice in a run records one observation.
    pub idempotency_key: Option<String>,
}

/// Correcting an observation (更正): the old one is kept, superseded.
#[derive(InputObject)]
pub struct CorrectObservationInput {
    /// The observation to correct.
    pub id: ID,
    /// Its version as last read (乐观锁); a stale version is a CONFLICT.
    pub expected_version: i32,
    /// The corrected facts (事实).
    pub facts: FactsInput,
    /// Identifies the same work recognised at several levels (只计最高分).
    pub work_key: Option<String>,
    /// Halving reason (折半原因).
    pub halve: Option<String>,
    /// Issue date of the document (下发文件日期).
    pub document_date: Option<NaiveDate>,
    /// Note (备注); the old note when omitted.
    pub note: Option<String>,
    /// Additional evidence references (佐证材料); the old evidence is kept.
    pub evidence: Option<Vec<EvidenceReferenceInput>>,
    /// Additional uploaded evidence (佐证材料附件) of the observation's unit, at most 20.
    pub evidence_ids: Option<Vec<ID>>,
    /// Why it is corrected (更正原因); required.
    pub reason: String,
}

/// Filing a bonus claim (申报).
#[derive(InputObject)]
pub struct FileClaimInput {
    /// The score run.
    pub run_id: ID,
    /// The claiming unit (申报单位).
    pub unit_id: ID,
    /// The rule's code (细则代码).
    pub rule_code: String,
    /// The facts claimed (事实).
    pub facts: FactsInput,
    /// Identifies the same work recognised at several levels (只计最高分).
    pub work_key: Option<String>,
    /// Halving reason (折半原因).
    pub halve: Option<String>,
    /// Issue date of the document (下发文件日期); defaults to the first evidence's date.
    pub document_date: Option<NaiveDate>,
    /// Note (说明).
    pub note: Option<String>,
    /// Evidence references (佐证材料); this or `evidenceIds` gives at least one evidence.
    #[graphql(default)]
    pub evidence: Vec<EvidenceReferenceInput>,
    /// Uploaded evidence (佐证材料附件, from `uploadEvidence`) of the claiming unit, at most 20.
    #[graphql(default)]
    pub evidence_ids: Vec<ID>,
    /// The same key twice in a run files one claim.
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

// ---------------------------------------------------------------- objects

/// A score run (考核批次): one rubric version × one period × the units assessed.
#[derive(Clone)]
pub struct ScoreRun(pub score_run::Model);

/// A score run (考核批次): one rubric version × one period × the units assessed.
#[Object]
impl ScoreRun {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::ScoreRun, self.0.id)
    }

    /// Title (标题).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Period (考核周期): `2026` or `2026-03`.
    async fn period(&self) -> &str {
        &self.0.period
    }

    /// `year` (年度) or `month` (月度).
    async fn period_kind(&self) -> &str {
        &self.0.period_kind
    }

    /// Lifecycle state (批次状态).
    async fn status(&self) -> ScoreRunStatus {
        ScoreRunStatus::of(&self.0.status)
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
        let v = crate::rubric::query::version_by_id(db, caller, self.0.rubric_version_id).await.gql()?;
        Ok(RubricVersion::new(v))
    }

    /// The units assessed (被考核单位), in the order they were added.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<UnitConnection> {
        let p = page(first, after)?;
        let (db, caller) = env(ctx)?;
        let reader = runs::see_run(db, caller, &self.0).await.gql()?;
        let mut all = results::units_of(db, self.0.id).await.gql()?;
        all.retain(|u| reader.sees_unit(u.id));
        Ok(UnitConnection::build(slice(all, p), Unit))
    }

    /// Observations of the run (扣分/加分记录), oldest first.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this unit's.")] unit_id: Option<ID>,
        #[graphql(desc = "Only under this indicator (itself or its sub-indicators), by code.")] indicator_code: Option<
            String,
        >,
        #[graphql(desc = "Only in this state.")] status: Option<ObservationStatus>,
        #[graphql(desc = "Only of rules this department (科室) scores, e.g. 秘书科.")] department: Option<String>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ObservationConnection> {
        let p = page(first, after)?;
        let (db, caller) = env(ctx)?;
        let unit_id = unit_id.map(|u| parse_id(&u, Kind::Unit)).transpose()?;
        let filter =
            ObservationFilter { unit_id, indicator_code, status: status.map(|s| s.text().to_string()), department };
        let paged = runs::query::observations(db, caller, &self.0, filter, p).await.gql()?;
        Ok(ObservationConnection::build(paged, Observation))
    }

    /// Results per unit (考核结果), best first: stored once published, computed live while open.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<UnitResultConnection> {
        let p = page(first, after)?;
        let (db, caller) = env(ctx)?;
        let all = results::of_loaded_run(db, caller, &self.0).await.gql()?;
        let page = slice(all, p);
        if ctx.look_ahead().field("edges").field("node").field("unit").exists() {
            super::loader::prime_units(ctx, page.rows.iter().map(|o| o.unit_id).collect::<Vec<_>>()).await?;
        }
        Ok(UnitResultConnection::build(page, UnitResult))
    }

    /// The ranking (排名): every unit by final score; ties share a rank (1, 2, 2, 4).
    async fn ranking(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RankingEntry>> {
        let (db, caller) = env(ctx)?;
        let all = results::ranking_of(db, caller, &self.0, ctx.data_opt()).await.gql()?;
        if ctx.look_ahead().field("unit").exists() {
            super::loader::prime_units(ctx, all.iter().map(|o| o.unit_id).collect::<Vec<_>>()).await?;
        }
        let run = std::sync::Arc::new(self.0.clone());
        Ok(all.into_iter().map(|o| RankingEntry { outcome: o, run: run.clone() }).collect())
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
                list.push(WhatIfChange::Remove { observation_id: parse_id(&id, Kind::Observation)? });
                continue;
            }
            let (Some(unit), Some(rule), Some(facts)) = (c.unit_id, c.rule_code, c.facts) else {
                return Err(ServiceError::BadUserInput(
                    "a change removes an observation, or adds one with unitId, ruleCode and facts".into(),
                )
                .into_gql());
            };
            list.push(WhatIfChange::Add {
                unit_id: parse_id(&unit, Kind::Unit)?,
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
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only in this state.")] status: Option<ClaimStatus>,
        #[graphql(desc = "Only this unit's.")] unit_id: Option<ID>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ClaimConnection> {
        let p = page(first, after)?;
        let (db, caller) = env(ctx)?;
        let unit_id = unit_id.map(|u| parse_id(&u, Kind::Unit)).transpose()?;
        let status = status.map(|s| match s {
            ClaimStatus::Pending => claims::PENDING,
            ClaimStatus::Approved => claims::APPROVED,
            ClaimStatus::Rejected => claims::REJECTED,
        });
        let paged = claims::of_run(db, caller, self.0.id, status, unit_id, p).await.gql()?;
        Ok(ClaimConnection::build(paged, Claim))
    }

    /// Section submissions (科室提交) of this run.
    async fn submissions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SectionSubmission>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let (db, caller) = env(ctx)?;
        crate::policy::may_read_as_staff(caller, self.0.organisation_id).gql()?;
        let rows = section_submission::Entity::find()
            .filter(section_submission::Column::ScoreRunId.eq(self.0.id))
            .order_by_asc(section_submission::Column::Id)
            .all(db)
            .await
            .map_err(|e| ServiceError::from(e).into_gql())?;
        Ok(rows.into_iter().map(SectionSubmission).collect())
    }
}

/// One observation (扣分/加分记录): a fact entered against a rule for a unit.
#[derive(Clone)]
pub struct Observation(pub observation::Model);

/// One observation (扣分/加分记录): a fact entered against a rule for a unit.
#[Object]
impl Observation {
    /// Identifier (shown in explanations).
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::Observation, self.0.id)
    }

    /// Version for optimistic concurrency (乐观锁版本).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// State (记录状态).
    async fn status(&self) -> ObservationStatus {
        ObservationStatus::of(&self.0.status)
    }

    /// The rule's code (细则代码).
    async fn rule_code(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(super::loader::rule(ctx, self.0.rule_id).await?.code)
    }

    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// The facts (事实) as entered.
    async fn facts(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.facts).unwrap_or_default())
    }

    /// Same-work key (同一工作), for 只计最高分.
    async fn work_key(&self) -> Option<&str> {
        self.0.work_key.as_deref()
    }

    /// Halving reason (折半原因).
    async fn halve(&self) -> Option<&str> {
        self.0.halve.as_deref()
    }

    /// Issue date of the document (下发文件日期).
    async fn document_date(&self) -> Option<NaiveDate> {
        self.0.document_date
    }

    /// Note (备注).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The observation this one corrects (被更正记录), if any.
    async fn supersedes_id(&self) -> Option<ID> {
        self.0.supersedes_id.map(|i| to_id(Kind::Observation, i))
    }

    /// When it was entered (录入时间).
    async fn entered_at(&self) -> DateTime<Utc> {
        self.0.entered_at
    }

    /// Evidence (佐证材料).
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Evidence>> {
        let (db, _) = env(ctx)?;
        let list = crate::evidence::linked(db, Some(self.0.id), None).await.gql()?;
        Ok(list.into_iter().map(Evidence).collect())
    }
}

/// A bonus claim (申报) filed by a unit, decided by the owning department.
pub struct Claim(pub claim::Model);

/// A bonus claim (申报) filed by a unit, decided by the owning department.
#[Object]
impl Claim {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::Claim, self.0.id)
    }

    /// Version for optimistic concurrency (乐观锁版本).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// State (申报状态).
    async fn status(&self) -> ClaimStatus {
        match self.0.status.as_str() {
            claims::APPROVED => ClaimStatus::Approved,
            claims::REJECTED => ClaimStatus::Rejected,
            _ => ClaimStatus::Pending,
        }
    }

    /// The claiming unit (申报单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// The facts claimed (事实).
    async fn facts(&self) -> Json<serde_json::Value> {
        Json(claims::facts_json(&self.0))
    }

    /// Why it was approved or rejected (审核意见).
    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }

    /// The observation an approval created (生成记录), if any.
    async fn observation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Observation>> {
        use sea_orm::EntityTrait;
        let Some(id) = self.0.observation_id else { return Ok(None) };
        let (db, _) = env(ctx)?;
        let o = observation::Entity::find_by_id(id).one(db).await.map_err(|e| ServiceError::from(e).into_gql())?;
        Ok(o.map(Observation))
    }

    /// Evidence (佐证材料).
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Evidence>> {
        let (db, _) = env(ctx)?;
        let list = crate::evidence::linked(db, None, Some(self.0.id)).await.gql()?;
        Ok(list.into_iter().map(Evidence).collect())
    }
}

/// A section's submission state in a run (科室提交).
pub struct SectionSubmission(pub section_submission::Model);

/// A section's submission state in a run (科室提交).
#[Object]
impl SectionSubmission {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::SectionSubmission, self.0.id)
    }

    /// Section code (板块代码).
    async fn section_code(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        use sea_orm::EntityTrait;
        let (db, _) = env(ctx)?;
        let i = entity::indicator::Entity::find_by_id(self.0.indicator_id)
            .one(db)
            .await
            .map_err(|e| ServiceError::from(e).into_gql())?
            .ok_or_else(|| ServiceError::not_found("section").into_gql())?;
        Ok(i.code)
    }

    /// `submitted` (已提交: no more writes) or `open` (reopened, 已退回).
    async fn status(&self) -> &str {
        &self.0.status
    }

    /// When it was last submitted (提交时间).
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }

    /// Version (乐观锁版本).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A unit's result in a run (考核结果) with its explanation (扣分明细).
#[derive(Clone)]
pub struct UnitResult(pub UnitOutcome);

/// A unit's result in a run (考核结果) with its explanation (扣分明细).
#[Object]
impl UnitResult {
    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// The unit's name (单位名称) as scored: a published result keeps it after a rename.
    async fn unit_name(&self) -> &str {
        &self.0.unit_name
    }

    /// Rank among the run's units (排名); ties share a rank.
    async fn rank(&self) -> u32 {
        self.0.rank
    }

    /// Final score (最终得分) = weighted base + bonus − penalty; exact, unrounded.
    async fn final_score(&self) -> Decimal {
        self.0.final_score
    }

    /// Weighted base score (基础分).
    async fn base(&self) -> Decimal {
        self.0.base
    }

    /// Bonus after caps (加分).
    async fn bonus(&self) -> Decimal {
        self.0.bonus
    }

    /// Bonus before the rubric's bonus cap (加分, 封顶前).
    async fn bonus_before_cap(&self) -> Decimal {
        self.0.bonus_before_cap
    }

    /// Penalty (减分).
    async fn penalty(&self) -> Decimal {
        self.0.penalty
    }

    /// Per section (板块得分).
    async fn sections(&self) -> Vec<SectionResult> {
        self.0.sections.iter().map(Into::into).collect()
    }

    /// Per indicator, with rules and observations (扣分明细).
    async fn explanation(&self) -> Vec<IndicatorExplanation> {
        self.0.indicators.iter().map(Into::into).collect()
    }

    /// Observations moved to a later period (下发文件滞后, 转下期).
    async fn deferred(&self) -> Vec<ID> {
        self.0.deferred.iter().map(|k| observation_gid(k)).collect()
    }

    /// Run-wide cuts, e.g. the bonus cap (加分上限).
    async fn cuts(&self) -> Vec<ScoreCut> {
        self.0.cuts.iter().map(Into::into).collect()
    }
}

/// A row of a ranking (排名): rank, unit, final score and its parts.
pub struct RankingEntry {
    outcome: UnitOutcome,
    run: std::sync::Arc<score_run::Model>,
}

/// A row of a ranking (排名): rank, unit, final score and its parts.
#[Object]
impl RankingEntry {
    /// Rank (排名); ties share a rank (1, 2, 2, 4).
    async fn rank(&self) -> u32 {
        self.outcome.rank
    }

    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.outcome.unit_id).await?))
    }

    /// The unit's name (单位名称), as scored.
    async fn unit_name(&self) -> &str {
        &self.outcome.unit_name
    }

    /// Final score (最终得分).
    async fn final_score(&self) -> Decimal {
        self.outcome.final_score
    }

    /// Weighted base (基础分).
    async fn base(&self) -> Decimal {
        self.outcome.base
    }

    /// Weighted parts per section (折算得分), e.g. 日常工作 and 重点任务.
    async fn sections(&self) -> Vec<SectionResult> {
        self.outcome.sections.iter().map(Into::into).collect()
    }

    /// Bonus (加分).
    async fn bonus(&self) -> Decimal {
        self.outcome.bonus
    }

    /// Penalty (减分).
    async fn penalty(&self) -> Decimal {
        self.outcome.penalty
    }

    /// The run the row comes from (考核批次).
    async fn run_id(&self) -> ID {
        to_id(Kind::ScoreRun, self.run.id)
    }

    /// Revision of that run (修订版次).
    async fn revision(&self) -> i32 {
        self.run.revision
    }

    /// When that run was published (发布时间).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.run.published_at
    }
}

/// A unit's final score and rank before and after a what-if (假设分析).
pub struct WhatIfRow(results::WhatIfRow);

/// A unit's final score and rank before and after a what-if (假设分析).
#[Object]
impl WhatIfRow {
    /// The unit (被考核单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// Final score now (现得分).
    async fn final_before(&self) -> Decimal {
        self.0.final_before
    }

    /// Rank now (现排名).
    async fn rank_before(&self) -> u32 {
        self.0.rank_before
    }

    /// Final score with the changes (假设得分).
    async fn final_after(&self) -> Decimal {
        self.0.final_after
    }

    /// Rank with the changes (假设排名).
    async fn rank_after(&self) -> u32 {
        self.0.rank_after
    }
}

/// One audit entry (操作日志): who did what, when, before and after.
#[derive(Clone)]
pub struct AuditEntry(pub audit_log::Model);

/// One audit entry (操作日志): who did what, when, before and after.
#[Object]
impl AuditEntry {
    /// Identifier (sequence number).
    pub(crate) async fn id(&self) -> ID {
        to_id(Kind::AuditEntry, self.0.id)
    }

    /// Who (操作人).
    async fn actor(&self) -> &str {
        &self.0.actor_label
    }

    /// The user id of the actor, if a user.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|i| to_id(Kind::User, i))
    }

    /// What (操作), e.g. `observation.correct`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// Kind of object changed (对象类型).
    async fn entity(&self) -> &str {
        &self.0.entity
    }

    /// Id of the object changed (对象编号).
    async fn entity_id(&self) -> Option<&str> {
        self.0.entity_id.as_deref()
    }

    /// The score run concerned (考核批次), if any.
    async fn run_id(&self) -> Option<ID> {
        self.0.score_run_id.map(|i| to_id(Kind::ScoreRun, i))
    }

    /// The unit concerned (被考核单位), if any.
    async fn unit_id(&self) -> Option<ID> {
        self.0.unit_id.map(|i| to_id(Kind::Unit, i))
    }

    /// State before (修改前), as JSON.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.as_deref().and_then(|b| serde_json::from_str(b).ok()).map(Json)
    }

    /// State after (修改后), as JSON.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.as_deref().and_then(|b| serde_json::from_str(b).ok()).map(Json)
    }

    /// When (时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Hash of the previous entry of the same organisation's chain (上一条哈希).
    async fn prev_hash(&self) -> Option<&str> {
        self.0.prev_hash.as_deref()
    }

    /// This entry's hash (哈希) over its fields and the previous hash: an
    /// HMAC-SHA256 under the server's audit key (a plain SHA-256 for entries
    /// written before the key existed).
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

/// The result of checking the audit chain (日志校验).
#[derive(SimpleObject)]
pub struct AuditChainCheck {
    /// Whether the chain is whole (完整): every hash and link matches, no
    /// anchored entry is missing from its end and every anchor's seal holds.
    pub ok: bool,
    /// Entries in the chain checked (条数): the caller's organisation's (each
    /// organisation's entries form a chain of their own); every chain when
    /// the server itself checks.
    pub entries: i64,
    /// The first entry whose hash or link does not match (edited, inserted or removed rows).
    pub first_broken_id: Option<ID>,
    /// Whether entries were cut from the end of the chain (日志截断): its
    /// newest entry is older than the head a publication anchored.
    pub tail_missing: bool,
    /// The newest chain head a publication anchored (发布锚点), written in the
    /// publishing transaction; null if nothing was published since the audit
    /// key exists, or when several chains are checked.
    pub anchored_head: Option<AuditChainHead>,
    /// The chain's newest entry now (链头): keep its hash outside the system
    /// (e.g. in the minutes of a publication) to notice a later cut; null for
    /// an empty chain or when several chains are checked.
    pub head: Option<AuditChainHead>,
    /// Anchors whose seal does not verify under the audit key: made or
    /// changed by someone without it (each makes `ok` false).
    pub invalid_anchors: i64,
}

/// One entry at the head of an audit chain (链头).
#[derive(SimpleObject)]
pub struct AuditChainHead {
    /// The entry (it may no longer exist when the tail was cut).
    pub entry_id: ID,
    /// Its hash.
    pub hash: String,
    /// For an anchor, the publication that anchored it; for the current
    /// head, the score run the entry concerns, if any.
    pub run_id: Option<ID>,
    /// When the anchor was taken, or the entry written.
    pub at: DateTime<Utc>,
}

impl From<crate::audit::Head> for AuditChainHead {
    fn from(h: crate::audit::Head) -> Self {
        AuditChainHead {
            entry_id: to_id(Kind::AuditEntry, h.entry_id),
            hash: h.hash,
            run_id: h.score_run_id.map(|i| to_id(Kind::ScoreRun, i)),
            at: h.at,
        }
    }
}

// ---------------------------------------------------------------- roots

/// Queries on score runs, results and the audit log.
#[derive(Default)]
pub struct RunQuery;

/// Queries on score runs, results and the audit log.
#[Object]
impl RunQuery {
    /// Score runs (考核批次), newest first.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn score_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this organisation's (组织代码).")] organisation_code: Option<String>,
        #[graphql(desc = "Only this period (考核周期), e.g. `2026-03`.")] period: Option<String>,
        #[graphql(desc = "Only in this state.")] status: Option<ScoreRunStatus>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ScoreRunConnection> {
        let p = page(first, after)?;
        let (db, caller) = env(ctx)?;
        let filter = RunFilter { organisation_code, period, status: status.map(|s| s.text().to_string()) };
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
        let id = parse_id(&id, Kind::ScoreRun)?;
        Ok(Some(ScoreRun(runs::visible_run(db, caller, id).await.gql()?.0)))
    }

    /// One bonus claim (申报) by id; NOT_FOUND if none.
    async fn claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Claim id.")] id: ID,
    ) -> async_graphql::Result<Option<Claim>> {
        let (db, caller) = env(ctx)?;
        let id = parse_id(&id, Kind::Claim)?;
        Ok(Some(Claim(claims::by_id(db, caller, id).await.gql()?)))
    }

    /// The published ranking of a period (月讲评排序), for integrations: rows of
    /// runs published (or re-published by an amendment) after `updatedSince`.
    async fn monthly_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Organisation code (组织代码), e.g. `xuchang`.")] organisation_code: String,
        #[graphql(desc = "Period (考核周期), e.g. `2026-03`.")] period: String,
        #[graphql(desc = "Only if published after this instant (增量拉取).")] updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<RankingEntry>> {
        let (db, caller) = env(ctx)?;
        let filter = RunFilter {
            organisation_code: Some(organisation_code),
            period: Some(period),
            status: Some(runs::PUBLISHED.to_string()),
        };
        let list = runs::query::runs(db, caller, filter, Page { first: 100, offset: 0 }).await.gql()?;
        let mut out = Vec::new();
        for run in list.rows {
            if updated_since.is_some_and(|since| run.published_at.is_none_or(|p| p <= since)) {
                continue;
            }
            let rows = results::ranking_of(db, caller, &run, ctx.data_opt()).await.gql()?;
            let run = std::sync::Arc::new(run);
            out.extend(rows.into_iter().map(|o| RankingEntry { outcome: o, run: run.clone() }));
        }
        if ctx.look_ahead().field("unit").exists() {
            super::loader::prime_units(ctx, out.iter().map(|r| r.outcome.unit_id).collect::<Vec<_>>()).await?;
        }
        Ok(out)
    }

    /// The audit log (操作日志), oldest first, filtered by run, unit or user.
    #[graphql(complexity = "cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries about this score run.")] run_id: Option<ID>,
        #[graphql(desc = "Only entries about this unit.")] unit_id: Option<ID>,
        #[graphql(desc = "Only entries by this user.")] user_id: Option<ID>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<AuditEntryConnection> {
        let p = page(first, after)?;
        let (db, caller) = env(ctx)?;
        let filter = AuditFilter {
            run_id: run_id.map(|i| parse_id(&i, Kind::ScoreRun)).transpose()?,
            unit_id: unit_id.map(|i| parse_id(&i, Kind::Unit)).transpose()?,
            user_id: user_id.map(|i| parse_id(&i, Kind::User)).transpose()?,
        };
        let paged = runs::query::audit(db, caller, filter, p).await.gql()?;
        Ok(AuditEntryConnection::build(paged, AuditEntry))
    }

    /// Re-checks the caller's organisation's audit chain (日志校验): every
    /// hash, every link and the heads publications anchored. Staff of the
    /// organisation only. It reads the whole chain, so the request gate
    /// charges it 1,000 points.
    #[graphql(complexity = "crate::audit::VERIFY_COST as usize + child_complexity")]
    async fn verify_audit_chain(&self, ctx: &Context<'_>) -> async_graphql::Result<AuditChainCheck> {
        // Tampering happens outside the API and moves no generation: always recheck.
        crate::http::responses::no_store(ctx);
        let (db, chain_key, caller) = write_env(ctx)?;
        let c = runs::query::verify_chain(db, chain_key, caller).await.gql()?;
        Ok(AuditChainCheck {
            ok: c.ok(),
            entries: i64::try_from(c.entries).unwrap_or(i64::MAX),
            first_broken_id: c.first_broken.map(|i| to_id(Kind::AuditEntry, i)),
            tail_missing: c.tail_missing,
            anchored_head: c.anchored.map(AuditChainHead::from),
            head: c.head.map(AuditChainHead::from),
            invalid_anchors: i64::try_from(c.invalid_anchors).unwrap_or(i64::MAX),
        })
    }
}

/// Writes (变更): the score-run lifecycle, observations and claims.
#[derive(Default)]
pub struct RunMutation;

fn draft(
    facts: FactsInput,
    work_key: Option<String>,
    halve: Option<String>,
    document_date: Option<NaiveDate>,
    note: Option<String>,
    evidence: Vec<EvidenceReference>,
    evidence_ids: Vec<i64>,
) -> ObservationDraft {
    ObservationDraft { facts: facts.into(), work_key, halve, document_date, note, evidence, evidence_ids }
}

/// Writes (变更): the score-run lifecycle, observations and claims.
#[Object]
impl RunMutation {
    /// Opens a score run (开启考核批次) on a published version, for a period and units.
    async fn open_score_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to open.")] input: OpenScoreRunInput,
    ) -> async_graphql::Result<ScoreRun> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let unit_ids = input.unit_ids.iter().map(|u| parse_id(u, Kind::Unit)).collect::<Result<Vec<_>, _>>()?;
        let run = lifecycle::open(
            db,
            chain_key,
            caller,
            lifecycle::OpenRun {
                rubric_version_id: parse_id(&input.rubric_version_id, Kind::RubricVersion)?,
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

    /// Records an observation (录入记录); the engine checks its facts against the rule.
    async fn record_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The observation.")] input: RecordObservationInput,
    ) -> async_graphql::Result<Observation> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let row = runs::observations::record(
            db,
            chain_key,
            caller,
            RecordObservation {
                run_id: parse_id(&input.run_id, Kind::ScoreRun)?,
                unit_id: parse_id(&input.unit_id, Kind::Unit)?,
                rule_code: input.rule_code,
                draft: draft(
                    input.facts,
                    input.work_key,
                    input.halve,
                    input.document_date,
                    input.note,
                    refs(input.evidence),
                    evidence_ids(input.evidence_ids)?,
                ),
                idempotency_key: input.idempotency_key,
            },
        )
        .await
        .gql()?;
        Ok(Observation(row))
    }

    /// Corrects an observation (更正): keeps the old one (superseded); needs a reason.
    async fn correct_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The correction.")] input: CorrectObservationInput,
    ) -> async_graphql::Result<Observation> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, Kind::Observation)?;
        let ids = evidence_ids(input.evidence_ids)?;
        let refs = refs(input.evidence);
        let d = draft(input.facts, input.work_key, input.halve, input.document_date, input.note, refs, ids);
        let row = runs::observations::correct(db, chain_key, caller, id, input.expected_version, d, &input.reason)
            .await
            .gql()?;
        Ok(Observation(row))
    }

    /// Withdraws an observation (撤回): it stops counting, the row is kept; needs a reason.
    async fn withdraw_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The observation.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
        #[graphql(desc = "Why (撤回原因).")] reason: String,
    ) -> async_graphql::Result<Observation> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, Kind::Observation)?;
        Ok(Observation(runs::observations::withdraw(db, chain_key, caller, id, expected_version, &reason).await.gql()?))
    }

    /// Submits a section (科室提交): further writes to it are FROZEN until reopened.
    async fn submit_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The score run.")] run_id: ID,
        #[graphql(desc = "Section code (板块代码), e.g. `2`.")] section_code: String,
    ) -> async_graphql::Result<SectionSubmission> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, Kind::ScoreRun)?;
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
        let run_id = parse_id(&run_id, Kind::ScoreRun)?;
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
        let run_id = parse_id(&run_id, Kind::ScoreRun)?;
        let run = lifecycle::publish(db, chain_key, caller, run_id, expected_version).await.gql()?;
        if let Ok(m) = ctx.data::<std::sync::Arc<crate::metrics::Metrics>>() {
            m.run_published();
        }
        Ok(ScoreRun(run))
    }

    /// Amends a published run (修订): opens a new revision linked to it, observations copied.
    async fn amend_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The published score run.")] run_id: ID,
        #[graphql(desc = "Why (修订原因).")] reason: String,
    ) -> async_graphql::Result<ScoreRun> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, Kind::ScoreRun)?;
        Ok(ScoreRun(lifecycle::amend(db, chain_key, caller, run_id, &reason).await.gql()?))
    }

    /// Files a bonus claim (申报) with evidence; it counts only once approved.
    async fn file_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim.")] input: FileClaimInput,
    ) -> async_graphql::Result<Claim> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let evidence = refs(Some(input.evidence));
        let ids = evidence_ids(Some(input.evidence_ids))?;
        let document_date = input.document_date.or_else(|| evidence.iter().find_map(|e| e.doc_date));
        let row = claims::file(
            db,
            chain_key,
            caller,
            claims::FileClaim {
                run_id: parse_id(&input.run_id, Kind::ScoreRun)?,
                unit_id: parse_id(&input.unit_id, Kind::Unit)?,
                rule_code: input.rule_code,
                draft: draft(input.facts, input.work_key, input.halve, document_date, input.note, evidence, ids),
                idempotency_key: input.idempotency_key,
            },
        )
        .await
        .gql()?;
        Ok(Claim(row))
    }

    /// Approves (the claim becomes an observation) or rejects a claim (审核申报), with a reason.
    async fn decide_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim.")] id: ID,
        #[graphql(desc = "True to approve (通过), false to reject (驳回).")] approve: bool,
        #[graphql(desc = "Why (审核意见).")] reason: String,
        #[graphql(desc = "Its version as last read (乐观锁); optional.")] expected_version: Option<i32>,
    ) -> async_graphql::Result<Claim> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, Kind::Claim)?;
        Ok(Claim(claims::decide(db, chain_key, caller, id, approve, &reason, expected_version).await.gql()?))
    }
}
