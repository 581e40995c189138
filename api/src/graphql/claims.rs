//! Bonus claims (申报) over GraphQL: the claim, filing and deciding one.

use super::scalars::Date;
use async_graphql::{Context, ID, InputObject, Object};
use entity::claim;

use super::connection::connection;
use super::errors::{GqlResult, IntoGql};
use super::evidence::Evidence;
use super::evidence::{EvidenceReferenceInput, evidence_ids, refs};
use super::states::ClaimStatus;
use super::{IdKind, Unit, env, parse_id, to_id, write_env};
use crate::claims;
use kaohe_service::ServiceError;

use super::observations::{FactsInput, Observation, draft};

connection!(ClaimConnection, ClaimEdge, Claim, "bonus claims (申报)");

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
    /// Issue date of the document (下发文件日期), on rules that defer late documents; defaults to the first evidence's date there.
    pub document_date: Option<Date>,
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

/// A bonus claim (申报) filed by a unit, decided by the owning department.
pub struct Claim(pub claim::Model);

/// A bonus claim (申报) filed by a unit, decided by the owning department.
#[Object]
impl Claim {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Claim, self.0.id)
    }

    /// Version for optimistic concurrency (乐观锁版本).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// State (申报状态).
    async fn status(&self) -> ClaimStatus {
        self.0.status.into()
    }

    /// The claiming unit (申报单位).
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(super::loader::unit(ctx, self.0.unit_id).await?))
    }

    /// The facts claimed (事实).
    async fn facts(&self) -> super::observations::Facts {
        super::observations::Facts::of_json(claims::facts_json(&self.0))
    }

    /// Why it was approved or rejected (审核意见).
    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }

    /// The observation an approval created (生成记录), if any.
    /// Read under the caller's rules: a unit user sees it once the run is published.
    async fn observation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Observation>> {
        let Some(id) = self.0.observation_id else { return Ok(None) };
        let (db, caller) = env(ctx)?;
        match crate::runs::query::observation_by_id(db, caller, id).await {
            Ok(o) => Ok(Some(Observation(o))),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into_gql()),
        }
    }

    /// Evidence (佐证材料).
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Evidence>> {
        let (db, _) = env(ctx)?;
        let list = crate::evidence::linked(db, None, Some(self.0.id)).await.gql()?;
        Ok(list.into_iter().map(Evidence).collect())
    }
}

/// Bonus claims (申报).
#[derive(Default)]
pub struct ClaimQuery;

/// Bonus claims (申报).
#[Object]
impl ClaimQuery {
    /// One bonus claim (申报) by id; NOT_FOUND if none.
    async fn claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Claim id.")] id: ID,
    ) -> async_graphql::Result<Option<Claim>> {
        let (db, caller) = env(ctx)?;
        let id = parse_id(&id, IdKind::Claim)?;
        Ok(Some(Claim(claims::by_id(db, caller, id).await.gql()?)))
    }
}

/// Filing and deciding bonus claims (申报/审核).
#[derive(Default)]
pub struct ClaimMutation;

/// Filing and deciding bonus claims (申报/审核).
#[Object]
impl ClaimMutation {
    /// Files a bonus claim (申报) with evidence; it counts only once approved.
    async fn file_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim.")] input: FileClaimInput,
    ) -> async_graphql::Result<Claim> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let evidence = refs(Some(input.evidence));
        let ids = evidence_ids(Some(input.evidence_ids))?;
        // Without one, the service takes the evidence's date on a rule that defers.
        let document_date = input.document_date.map(|d| d.0);
        let row = claims::file(
            db,
            chain_key,
            caller,
            claims::FileClaim {
                run_id: parse_id(&input.run_id, IdKind::ScoreRun)?,
                unit_id: parse_id(&input.unit_id, IdKind::Unit)?,
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
        let id = parse_id(&id, IdKind::Claim)?;
        Ok(Claim(claims::decide(db, chain_key, caller, id, approve, &reason, expected_version).await.gql()?))
    }
}
