//! Observations (扣分/加分记录) over GraphQL: the observation, its facts, and
//! recording, correcting and withdrawing one.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::scalars::Date;
use entity::observation;
use rust_decimal::Decimal;

use super::connection::connection;
use super::errors::{GqlResult, IntoGql};
use super::evidence::Evidence;
use super::evidence::{EvidenceReferenceInput, evidence_ids, refs};
use super::states::ObservationStatus;
use super::{IdKind, Unit, env, parse_id, to_id, write_env};
use crate::evidence::EvidenceReference;
use crate::runs::observations::{ObservationDraft, RecordItem, RecordObservation, RecordObservations};
use crate::runs::{self};
use kaohe_service::ServiceError;
use kaohe_service::error::ItemError;

connection!(ObservationConnection, ObservationEdge, Observation, "observations (扣分/加分记录)");

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

/// The facts of an observation or claim as stored (事实): the same fields as
/// `FactsInput`; the ones its rule kind does not use are null.
#[derive(async_graphql::SimpleObject, Default)]
pub struct Facts {
    /// Occurrences (次数/人次/个数), for per-count and by-level rules.
    pub count: Option<i64>,
    /// Actual value (实际值), for shortfall rules.
    pub value: Option<Decimal>,
    /// Target (目标值) when the observation set it.
    pub target: Option<Decimal>,
    /// Last period's value (上年/上期值), for shortfall-vs-baseline rules.
    pub baseline: Option<Decimal>,
    /// Whether the condition holds (是否), for flag and veto rules.
    pub flag: Option<bool>,
    /// Level key (级别), e.g. `national`, `provincial`.
    pub level: Option<String>,
    /// Award grade (奖项等级).
    pub grade: Option<AwardGrade>,
    /// Whether a 特等奖 was awarded in the same competition (设特等奖).
    pub special_prize_awarded: bool,
    /// Team rank (团体名次), for team awards.
    pub team_rank: Option<i64>,
    /// Component key (评价主体), for rating rules.
    pub component: Option<String>,
    /// Rate in percent (满意率), for rating rules.
    pub rate: Option<Decimal>,
    /// Points chosen or awarded (分值), for direct and discretionary rules.
    pub points: Option<Decimal>,
    /// Amount (金额), for bracket and per-amount rules.
    pub amount: Option<Decimal>,
}

impl From<kaohe_engine::Facts> for Facts {
    fn from(f: kaohe_engine::Facts) -> Self {
        use kaohe_engine::Grade;
        Facts {
            count: f.count,
            value: f.value,
            target: f.target,
            baseline: f.baseline,
            flag: f.flag,
            level: f.level,
            grade: f.grade.map(|g| match g {
                Grade::Special => AwardGrade::Special,
                Grade::First => AwardGrade::First,
                Grade::Second => AwardGrade::Second,
                Grade::Third => AwardGrade::Third,
                Grade::Other => AwardGrade::Other,
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

impl Facts {
    /// Facts stored as the engine's JSON (unreadable text is a defect: logged, shown empty).
    pub fn of_json(value: serde_json::Value) -> Facts {
        Self::read(serde_json::from_value::<kaohe_engine::Facts>(value))
    }

    /// The same from the stored text, read straight into the engine's facts
    /// (through a `serde_json::Value` it cost a department head's page 4% of
    /// its instructions, 2026-12-04).
    pub fn of_text(text: &str) -> Facts {
        Self::read(kaohe_service::runs::facts_of(text))
    }

    fn read<E: std::fmt::Display>(facts: Result<kaohe_engine::Facts, E>) -> Facts {
        match facts {
            Ok(f) => f.into(),
            Err(e) => {
                tracing::error!(error = %e, "stored facts that do not read as facts");
                Facts::default()
            }
        }
    }
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
    pub document_date: Option<Date>,
    /// Note (备注).
    pub note: Option<String>,
    /// Evidence references (佐证材料).
    pub evidence: Option<Vec<EvidenceReferenceInput>>,
    /// Uploaded evidence (佐证材料附件, from `uploadEvidence`) of the same unit, at most 20.
    pub evidence_ids: Option<Vec<ID>>,
    /// The same key twice in a run records one observation.
    pub idempotency_key: Option<String>,
}

/// One observation of `recordObservations` (批量录入的一条).
#[derive(InputObject)]
pub struct ObservationItemInput {
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
    /// Issue date of the document behind a bonus (下发文件日期), on rules that defer late documents only.
    pub document_date: Option<Date>,
    /// Note (备注).
    pub note: Option<String>,
    /// Evidence references (佐证材料).
    pub evidence: Option<Vec<EvidenceReferenceInput>>,
    /// Uploaded evidence (佐证材料附件) of the same unit, at most 20.
    pub evidence_ids: Option<Vec<ID>>,
}

/// Recording many observations at once (批量录入): one transaction, all or none.
#[derive(InputObject)]
pub struct RecordObservationsInput {
    /// The score run.
    pub run_id: ID,
    /// The observations, 1 to 500; each checked exactly as `recordObservation` checks one.
    pub items: Vec<ObservationItemInput>,
    /// The same key (with the same items) twice records them once, and answers the same rows.
    pub idempotency_key: Option<String>,
}

/// Where a carried observation comes from, or where a deferred one went (结转).
#[derive(SimpleObject, Clone)]
pub struct CarriedObservation {
    /// The score run (考核批次).
    pub run_id: ID,
    /// Its period (考核周期), e.g. `2026-03`.
    pub period: String,
    /// The observation there (记录).
    pub observation_id: ID,
}

impl From<&kaohe_service::runs::carry::CarriedFrom> for CarriedObservation {
    fn from(c: &kaohe_service::runs::carry::CarriedFrom) -> Self {
        CarriedObservation {
            run_id: to_id(IdKind::ScoreRun, c.run_id),
            period: c.period.clone(),
            observation_id: to_id(IdKind::Observation, c.observation_id),
        }
    }
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
    pub document_date: Option<Date>,
    /// Note (备注); the old note when omitted.
    pub note: Option<String>,
    /// Additional evidence references (佐证材料); the old evidence is kept.
    pub evidence: Option<Vec<EvidenceReferenceInput>>,
    /// Additional uploaded evidence (佐证材料附件) of the observation's unit, at most 20.
    pub evidence_ids: Option<Vec<ID>>,
    /// Why it is corrected (更正原因); required.
    pub reason: String,
}

/// One observation (扣分/加分记录): a fact entered against a rule for a unit.
#[derive(Clone)]
pub struct Observation(pub observation::Model);

/// One observation (扣分/加分记录): a fact entered against a rule for a unit.
#[Object]
impl Observation {
    /// Identifier (shown in explanations).
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Observation, self.0.id)
    }

    /// Version for optimistic concurrency (乐观锁版本).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// State (记录状态).
    async fn status(&self) -> ObservationStatus {
        self.0.status.into()
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
    async fn facts(&self) -> Facts {
        Facts::of_text(&self.0.facts)
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
    async fn document_date(&self) -> Option<Date> {
        self.0.document_date.map(Date)
    }

    /// Note (备注).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The observation this one corrects (被更正记录), if any.
    async fn supersedes_id(&self) -> Option<ID> {
        self.0.supersedes_id.map(|i| to_id(IdKind::Observation, i))
    }

    /// When it was entered (录入时间).
    async fn entered_at(&self) -> DateTime<Utc> {
        self.0.entered_at
    }

    /// Carried here from an earlier period (结转自): the source run, period
    /// and observation; a carried observation is changed only at its source.
    async fn carried_from(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CarriedObservation>> {
        if self.0.carried_from_id.is_none() {
            return Ok(None);
        }
        let (db, _) = env(ctx)?;
        let s = runs::carry::sources(db, std::slice::from_ref(&self.0)).await.gql()?;
        Ok(s.get(&self.0.id).map(Into::into))
    }

    /// A deferred bonus (下发文件滞后): the run, period and observation it was
    /// carried into, once it has been (none while no later run takes it).
    async fn carried_into(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CarriedObservation>> {
        let (db, caller) = env(ctx)?;
        let Some(c) = runs::carry::carried_into(db, &self.0).await.gql()? else { return Ok(None) };
        // Only a run the caller may see is named.
        Ok(runs::visible_run(db, caller, c.run_id).await.ok().map(|_| (&c).into()))
    }

    /// Evidence (佐证材料).
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Evidence>> {
        let (db, _) = env(ctx)?;
        let list = crate::evidence::linked(db, Some(self.0.id), None).await.gql()?;
        Ok(list.into_iter().map(Evidence).collect())
    }
}

pub(super) fn draft(
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

/// Recording, correcting and withdrawing observations (录入/更正/撤回).
#[derive(Default)]
pub struct ObservationMutation;

/// Recording, correcting and withdrawing observations (录入/更正/撤回).
#[Object]
impl ObservationMutation {
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
                run_id: parse_id(&input.run_id, IdKind::ScoreRun)?,
                unit_id: parse_id(&input.unit_id, IdKind::Unit)?,
                rule_code: input.rule_code,
                draft: draft(
                    input.facts,
                    input.work_key,
                    input.halve,
                    input.document_date.map(|d| d.0),
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

    /// Records up to 500 observations in one run at once (批量录入), in one
    /// transaction: all or none. Each item is authorized and checked exactly
    /// as `recordObservation` checks one; a refusal carries every refused item
    /// in `extensions.items` (`index`, `field`, `code`, `message`).
    async fn record_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The observations.")] input: RecordObservationsInput,
    ) -> async_graphql::Result<Vec<Observation>> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let run_id = parse_id(&input.run_id, IdKind::ScoreRun)?;
        let total = input.items.len();
        if total > runs::observations::MAX_ITEMS {
            let max = runs::observations::MAX_ITEMS;
            return Err(ServiceError::BadUserInput(format!("send 1 to {max} items (got {total})")).into_gql());
        }
        let mut items = Vec::with_capacity(total);
        let mut bad = Vec::new();
        for (index, i) in input.items.into_iter().enumerate() {
            let unit_id = item_id(&i.unit_id, IdKind::Unit, index, "unitId", &mut bad);
            let mut ids = Vec::new();
            for e in i.evidence_ids.iter().flatten() {
                ids.push(item_id(e, IdKind::Evidence, index, "evidenceIds", &mut bad));
            }
            if ids.len() > 20 {
                let e = ServiceError::BadUserInput("at most 20 evidence ids".into());
                bad.push(ItemError::of(index, "evidenceIds", &e));
            }
            let d = draft(i.facts, i.work_key, i.halve, i.document_date.map(|d| d.0), i.note, refs(i.evidence), ids);
            items.push(RecordItem { unit_id, rule_code: i.rule_code, draft: d });
        }
        if !bad.is_empty() {
            return Err(ServiceError::Items { total, items: bad }.into_gql());
        }
        let input = RecordObservations { run_id, items, idempotency_key: input.idempotency_key };
        let rows = runs::observations::record_many(db, chain_key, caller, input).await.gql()?;
        Ok(rows.into_iter().map(Observation).collect())
    }

    /// Withdraws up to 500 observations at once (批量撤回), in one transaction:
    /// all or none, each checked as `withdrawObservation` checks one; needs a reason.
    async fn withdraw_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The observations, 1 to 500.")] ids: Vec<ID>,
        #[graphql(desc = "Why (撤回原因).")] reason: String,
    ) -> async_graphql::Result<Vec<Observation>> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let total = ids.len();
        if total > runs::observations::MAX_ITEMS {
            let max = runs::observations::MAX_ITEMS;
            return Err(ServiceError::BadUserInput(format!("send 1 to {max} ids (got {total})")).into_gql());
        }
        let mut bad = Vec::new();
        let rows: Vec<i64> =
            ids.iter().enumerate().map(|(i, id)| item_id(id, IdKind::Observation, i, "ids", &mut bad)).collect();
        if !bad.is_empty() {
            return Err(ServiceError::Items { total, items: bad }.into_gql());
        }
        let rows = runs::observations::withdraw_many(db, chain_key, caller, &rows, &reason).await.gql()?;
        Ok(rows.into_iter().map(Observation).collect())
    }

    /// Corrects an observation (更正): keeps the old one (superseded); needs a reason.
    async fn correct_observation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The correction.")] input: CorrectObservationInput,
    ) -> async_graphql::Result<Observation> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, IdKind::Observation)?;
        let ids = evidence_ids(input.evidence_ids)?;
        let refs = refs(input.evidence);
        let d =
            draft(input.facts, input.work_key, input.halve, input.document_date.map(|d| d.0), input.note, refs, ids);
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
        let id = parse_id(&id, IdKind::Observation)?;
        Ok(Observation(runs::observations::withdraw(db, chain_key, caller, id, expected_version, &reason).await.gql()?))
    }
}

/// The row id of item `index`'s global id, or a per-item error (and 0).
fn item_id(id: &ID, kind: IdKind, index: usize, field: &str, bad: &mut Vec<ItemError>) -> i64 {
    match super::ids::decode(id) {
        Some((k, n)) if k == kind => n,
        _ => {
            let e = ServiceError::BadUserInput(format!("not a {} id", kind.name()));
            bad.push(ItemError::of(index, field, &e));
            0
        }
    }
}

/// The plain path (`plain`) for facts: every field in hand.
impl super::plain::Plain for Facts {
    const TYPE: &'static str = "Facts";

    fn field(&self, name: &str, _: Option<&super::plain::Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{optional as or_null, scalar};
        use async_graphql::Value;
        Some(match name {
            "count" => or_null(&self.count),
            "value" => or_null(&self.value),
            "target" => or_null(&self.target),
            "baseline" => or_null(&self.baseline),
            "flag" => or_null(&self.flag),
            "level" => or_null(&self.level),
            "grade" => self.grade.map_or(Value::Null, async_graphql::resolver_utils::enum_value),
            "specialPrizeAwarded" => scalar(&self.special_prize_awarded),
            "teamRank" => or_null(&self.team_rank),
            "component" => or_null(&self.component),
            "rate" => or_null(&self.rate),
            "points" => or_null(&self.points),
            "amount" => or_null(&self.amount),
            _ => return None,
        })
    }
}

/// An observation of a page with its rule's code in hand: what the plain
/// path writes for a run's observations (a department head's page).
pub(crate) struct ObservationIn<'a> {
    row: &'a observation::Model,
    rule_code: Option<&'a str>,
}

/// The names a page of observations is written under (`plain::page`).
const OBSERVATION_PAGE: super::plain::PageTypes =
    super::plain::PageTypes { connection: "ObservationConnection", edge: "ObservationEdge" };

impl ObservationIn<'_> {
    /// Its fields `Observation` writes the same from the row (and its rule's code).
    const OWN: [&'static str; 12] = [
        "__typename",
        "id",
        "version",
        "status",
        "ruleCode",
        "facts",
        "workKey",
        "halve",
        "documentDate",
        "note",
        "supersedesId",
        "enteredAt",
    ];

    /// A page of observations written plain, when `shape` asks only what
    /// the rows hold; `None` leaves it to the normal path. Rule codes come
    /// through `loader::rule` (kept rows, the same checks).
    pub(crate) async fn page<U>(
        ctx: &Context<'_>,
        paged: &kaohe_service::paging::Paged<observation::Model>,
        shape: &super::plain::Shape<'_>,
    ) -> Option<super::plain::Answered<U>> {
        let asked = shape.names_under(&["edges", "node"]);
        if !asked.iter().all(|n| Self::OWN.contains(n)) {
            return None;
        }
        let mut codes = std::collections::HashMap::new();
        if asked.contains(&"ruleCode") {
            let mut ids: Vec<i64> = paged.rows.iter().map(|r| r.rule_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let found = futures_util::future::join_all(ids.iter().map(|&id| super::loader::rule(ctx, id))).await;
            for (id, rule) in ids.into_iter().zip(found) {
                // A rule that cannot be read: the normal path says why.
                codes.insert(id, rule.ok()?.code);
            }
        }
        let rows: Vec<ObservationIn<'_>> = paged
            .rows
            .iter()
            .map(|row| ObservationIn { row, rule_code: codes.get(&row.rule_id).map(String::as_str) })
            .collect();
        super::plain::answer_page(ctx, &OBSERVATION_PAGE, &rows, paged.offset, paged.total, shape)
    }
}

impl super::plain::Plain for ObservationIn<'_> {
    const TYPE: &'static str = "Observation";

    fn field(&self, name: &str, sub: Option<&super::plain::Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{object, optional as text, scalar};
        use async_graphql::Value;
        let o = self.row;
        Some(match name {
            "id" => scalar(&to_id(IdKind::Observation, o.id)),
            "version" => scalar(&o.version),
            "status" => async_graphql::resolver_utils::enum_value(ObservationStatus::from(o.status)),
            "ruleCode" => scalar(&self.rule_code?.to_string()),
            "facts" => object(&Facts::of_text(&o.facts), sub?)?,
            "workKey" => text(&o.work_key),
            "halve" => text(&o.halve),
            "documentDate" => o.document_date.map_or(Value::Null, |d| scalar(&Date(d))),
            "note" => text(&o.note),
            "supersedesId" => o.supersedes_id.map_or(Value::Null, |i| scalar(&to_id(IdKind::Observation, i))),
            "enteredAt" => scalar(&o.entered_at),
            _ => return None,
        })
    }

    /// As `field`, written without a `Value` (the department head's page).
    fn write_field(&self, name: &str, sub: Option<&super::plain::Shape<'_>>, out: &mut Vec<u8>) -> Option<()> {
        use super::plain::{write_json, write_object};
        let o = self.row;
        match name {
            "id" => write_json(out, &to_id(IdKind::Observation, o.id).0),
            "version" => write_json(out, &o.version),
            "status" => write_json(out, &async_graphql::resolver_utils::enum_value(ObservationStatus::from(o.status))),
            "ruleCode" => write_json(out, self.rule_code?),
            "facts" => write_object(&Facts::of_text(&o.facts), sub?, out),
            "workKey" => write_json(out, &o.work_key),
            "halve" => write_json(out, &o.halve),
            "note" => write_json(out, &o.note),
            "supersedesId" => write_json(out, &o.supersedes_id.map(|i| to_id(IdKind::Observation, i).0)),
            // Scalars with their own text (dates): as async-graphql writes them.
            _ => write_json(out, &self.field(name, sub)?),
        }
    }
}

#[cfg(test)]
mod tests {
    /// Stored facts read straight from their text (`Facts::of_text`) read as
    /// through a `serde_json::Value` did: the same facts, or the same refusal.
    #[test]
    fn facts_read_from_their_text_as_through_a_value() {
        let stored = [
            r#"{"count":1}"#,
            r#"{"points":"18"}"#,
            r#"{"points":18.5}"#,
            r#"{"value":"0.1","target":"12.345","baseline":7}"#,
            r#"{"rate":99.99,"component":"家长"}"#,
            r#"{"level":"national","grade":"first","special_prize_awarded":true,"team_rank":3}"#,
            r#"{"flag":false}"#,
            "{}",
            r#"{"unknown":1}"#,
            r#"{"count":"one"}"#,
            "null",
            "not json",
            "",
        ];
        for text in stored {
            let direct = serde_json::from_str::<kaohe_engine::Facts>(text).ok();
            let through =
                serde_json::from_value::<kaohe_engine::Facts>(serde_json::from_str(text).unwrap_or_default()).ok();
            assert_eq!(direct, through, "{text}");
        }
        // The one difference: a key given twice, which serde never writes, is
        // now refused (shown empty and logged) where a `Value` kept the last.
        assert!(serde_json::from_str::<kaohe_engine::Facts>(r#"{"count":1,"count":2}"#).is_err());
    }
}
