//! Drafting rubric versions (考核细则草稿): thin resolvers over
//! `rubric::draft`. Decimals are written as strings (`"0.5"`) and checked by
//! the service, so a bad one is BAD_USER_INPUT naming its field.

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object};

use super::errors::GqlResult;
use super::rubric::{Regime, RubricVersion, RuleEffect};
use super::states::IndicatorRole;
use super::{IdKind, parse_id, to_id, write_env};
use crate::rubric::draft::{self, ClauseFields, Edited, HeaderChange, IndicatorFields, NewDraft, Patch, RuleFields};

/// Creating a draft version (新建草稿): empty, or a copy of another version.
#[derive(InputObject)]
pub struct CreateRubricVersionDraftInput {
    /// The rubric (考核细则).
    pub rubric_id: ID,
    /// Version label (版本号), unique in the rubric, e.g. `2024`.
    pub label: String,
    /// Title (标题).
    pub title: String,
    /// Copy every indicator, clause and rule of this version of the same rubric (复制版本).
    pub copy_from_version_id: Option<ID>,
    /// Scoring regime (考核周期); required for an empty draft, else the copied one's.
    pub regime: Option<Regime>,
    /// Points of the base total (满分) as a decimal string; default the copied one's, or 100.
    pub scale: Option<String>,
    /// Cap on all bonus points (加分上限) as a decimal string; default the copied one's.
    pub bonus_cap: Option<String>,
    /// Where the text comes from (文件来源); default the copied one's.
    pub source: Option<String>,
    /// The same key twice for a rubric creates one draft.
    pub idempotency_key: Option<String>,
}

/// Changing a draft's header (修改草稿); fields left out stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateRubricVersionDraftInput {
    /// The draft.
    pub id: ID,
    /// Its version as last read (乐观锁).
    pub expected_version: i32,
    /// Version label (版本号), unique in the rubric.
    pub label: Option<String>,
    /// Title (标题).
    pub title: Option<String>,
    /// Scoring regime (考核周期).
    pub regime: Option<Regime>,
    /// Points of the base total (满分), a decimal string.
    pub scale: Option<String>,
    /// Cap on all bonus points (加分上限), a decimal string; `null` removes it.
    pub bonus_cap: MaybeUndefined<String>,
    /// Where the text comes from (文件来源); `null` removes it.
    pub source: MaybeUndefined<String>,
}

/// Adding an indicator (新增指标) to a draft.
#[derive(InputObject)]
pub struct AddDraftIndicatorInput {
    /// The draft.
    pub rubric_version_id: ID,
    /// The draft's version as last read (乐观锁).
    pub expected_version: i32,
    /// Code (指标编号), unique in the draft, e.g. `2.1`.
    pub code: String,
    /// Title (指标名称).
    pub title: String,
    /// Parent indicator (上级指标) of the draft; none for a section (一级指标).
    pub parent_id: Option<ID>,
    /// Max points (分值), a decimal string.
    pub max_points: Option<String>,
    /// Weight in percent (权重), sections only, a decimal string.
    pub weight: Option<String>,
    /// Base or adjustment (指标类别), sections only; default base.
    pub role: Option<IndicatorRole>,
    /// Owning department (责任科室); inherited by the indicators below.
    pub department: Option<String>,
    /// Text kept from the document that is not a clause (说明).
    pub note: Option<String>,
    /// Document order among the draft's indicators; default last.
    pub position: Option<i32>,
}

/// Changing an indicator (修改指标) of a draft; fields left out stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateDraftIndicatorInput {
    /// The indicator.
    pub id: ID,
    /// The draft's version as last read (乐观锁).
    pub expected_version: i32,
    /// Code (指标编号); its rules' codes follow.
    pub code: Option<String>,
    /// Title (指标名称).
    pub title: Option<String>,
    /// Parent indicator (上级指标); `null` makes it a section.
    pub parent_id: MaybeUndefined<ID>,
    /// Max points (分值), a decimal string.
    pub max_points: MaybeUndefined<String>,
    /// Weight in percent (权重), sections only.
    pub weight: MaybeUndefined<String>,
    /// Base or adjustment (指标类别), sections only.
    pub role: Option<IndicatorRole>,
    /// Owning department (责任科室).
    pub department: MaybeUndefined<String>,
    /// Note (说明).
    pub note: MaybeUndefined<String>,
    /// Document order among the draft's indicators.
    pub position: Option<i32>,
}

/// Adding a clause (新增条款) to a leaf indicator of a draft.
#[derive(InputObject)]
pub struct AddDraftClauseInput {
    /// The indicator.
    pub indicator_id: ID,
    /// The draft's version as last read (乐观锁).
    pub expected_version: i32,
    /// Item number as printed (条款序号), unique in the indicator.
    pub no: String,
    /// Original text (原文), verbatim.
    pub text: String,
    /// Key of one of the indicator's groups (所属分组).
    pub group: Option<String>,
    /// Cap on the clause's points (条款上限), a decimal string.
    pub cap: Option<String>,
    /// True when the clause scores nothing itself (说明性条款).
    #[graphql(default)]
    pub informational: bool,
    /// Order among the indicator's clauses; default last.
    pub position: Option<i32>,
}

/// Changing a clause (修改条款) of a draft; fields left out stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateDraftClauseInput {
    /// The clause.
    pub id: ID,
    /// The draft's version as last read (乐观锁).
    pub expected_version: i32,
    /// Item number (条款序号); its rules' codes follow.
    pub no: Option<String>,
    /// Original text (原文).
    pub text: Option<String>,
    /// Group key (所属分组).
    pub group: MaybeUndefined<String>,
    /// Cap (条款上限), a decimal string.
    pub cap: MaybeUndefined<String>,
    /// Scores nothing itself (说明性条款).
    pub informational: Option<bool>,
    /// Order among the indicator's clauses.
    pub position: Option<i32>,
}

/// Adding a rule (新增规则) to a clause of a draft.
#[derive(InputObject)]
pub struct AddDraftRuleInput {
    /// The clause.
    pub clause_id: ID,
    /// The draft's version as last read (乐观锁).
    pub expected_version: i32,
    /// Suffix of the rule code in its clause (规则后缀), e.g. `a`; needed when the clause has several rules.
    pub key: Option<String>,
    /// Short label of what it counts (规则说明).
    pub label: Option<String>,
    /// Kind (规则类型).
    pub kind: super::states::RuleKind,
    /// Deduct or add (扣分/加分); required except for rating, direct and veto.
    pub effect: Option<RuleEffect>,
    /// Parameters of the kind (规则参数) as a JSON object, decimals as strings,
    /// e.g. `{"points": "0.5", "unit": "人次"}`; see rubrics/README.md.
    pub params: Option<Json<serde_json::Value>>,
    /// Cap on the rule's points (规则上限), a decimal string.
    pub cap: Option<String>,
    /// Reasons an observation may be halved (折半情形).
    pub halving: Option<Vec<String>>,
    /// Only the highest level counts for the same work (只计最高分).
    #[graphql(default)]
    pub highest_only: bool,
    /// A late document moves the bonus to the next period (滞后转下月).
    #[graphql(default)]
    pub defer_late: bool,
    /// Order among the draft's rules; default last.
    pub position: Option<i32>,
}

/// Changing a rule (修改规则) of a draft; fields left out stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateDraftRuleInput {
    /// The rule.
    pub id: ID,
    /// The draft's version as last read (乐观锁).
    pub expected_version: i32,
    /// Suffix of the rule code (规则后缀); `null` removes it.
    pub key: MaybeUndefined<String>,
    /// Label (规则说明).
    pub label: MaybeUndefined<String>,
    /// Kind (规则类型).
    pub kind: Option<super::states::RuleKind>,
    /// Deduct or add (扣分/加分).
    pub effect: Option<RuleEffect>,
    /// Parameters of the kind (规则参数) as a JSON object; replaces the old ones whole.
    pub params: Option<Json<serde_json::Value>>,
    /// Cap (规则上限), a decimal string.
    pub cap: MaybeUndefined<String>,
    /// Halving reasons (折半情形); replaces the old list.
    pub halving: Option<Vec<String>>,
    /// Only the highest level counts (只计最高分).
    pub highest_only: Option<bool>,
    /// A late document moves the bonus (滞后转下月).
    pub defer_late: Option<bool>,
    /// Order among the draft's rules.
    pub position: Option<i32>,
}

/// The outcome of an edit of a draft (草稿修改结果).
pub struct RubricDraftChange {
    edited: Edited,
    kind: IdKind,
}

/// The outcome of an edit of a draft (草稿修改结果).
#[Object]
impl RubricDraftChange {
    /// The draft as it now is, with its new `version` (修改版本号).
    async fn rubric_version(&self) -> RubricVersion {
        RubricVersion::new(self.edited.draft.clone())
    }

    /// Global id of the indicator, clause or rule added, changed or removed.
    async fn id(&self) -> ID {
        to_id(self.kind, self.edited.id)
    }
}

fn change(kind: IdKind) -> impl FnOnce(Edited) -> RubricDraftChange {
    move |edited| RubricDraftChange { edited, kind }
}

fn patch<T>(m: MaybeUndefined<T>) -> Patch<T> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

fn role(r: IndicatorRole) -> kaohe_engine::rubric::Role {
    match r {
        IndicatorRole::Base => kaohe_engine::rubric::Role::Base,
        IndicatorRole::Adjust => kaohe_engine::rubric::Role::Adjust,
    }
}

fn regime(r: Regime) -> kaohe_engine::rubric::Regime {
    match r {
        Regime::Annual => kaohe_engine::rubric::Regime::Annual,
        Regime::Monthly => kaohe_engine::rubric::Regime::Monthly,
    }
}

fn effect(e: RuleEffect) -> kaohe_engine::rubric::Effect {
    match e {
        RuleEffect::Deduct => kaohe_engine::rubric::Effect::Deduct,
        RuleEffect::Add => kaohe_engine::rubric::Effect::Add,
    }
}

fn parent(id: MaybeUndefined<ID>) -> async_graphql::Result<Patch<i64>> {
    Ok(match patch(id) {
        None => None,
        Some(None) => Some(None),
        Some(Some(id)) => Some(Some(parse_id(&id, IdKind::Indicator)?)),
    })
}

/// Drafting rubric versions (考核细则草稿), for the admin (督导室/考核办).
#[derive(Default)]
pub struct RubricDraftMutation;

/// Drafting rubric versions (考核细则草稿), for the admin (督导室/考核办).
#[Object]
impl RubricDraftMutation {
    /// Creates a draft version (新建草稿版本): empty, or a deep copy of another version of the rubric.
    async fn create_rubric_version_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft to create.")] input: CreateRubricVersionDraftInput,
    ) -> async_graphql::Result<RubricVersion> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let new = NewDraft {
            rubric_id: parse_id(&input.rubric_id, IdKind::Rubric)?,
            label: input.label,
            title: input.title,
            copy_from_version_id: input
                .copy_from_version_id
                .map(|v| parse_id(&v, IdKind::RubricVersion))
                .transpose()?,
            regime: input.regime.map(regime),
            scale: input.scale,
            bonus_cap: input.bonus_cap,
            source: input.source,
            idempotency_key: input.idempotency_key,
        };
        Ok(RubricVersion::new(draft::create(db, chain_key, caller, new).await.gql()?))
    }

    /// Changes a draft's header (修改草稿): label, title, regime, scale, bonus cap, source.
    async fn update_rubric_version_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateRubricVersionDraftInput,
    ) -> async_graphql::Result<RubricVersion> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, IdKind::RubricVersion)?;
        let change = HeaderChange {
            label: input.label,
            title: input.title,
            regime: input.regime.map(regime),
            scale: input.scale,
            bonus_cap: patch(input.bonus_cap),
            source: patch(input.source),
        };
        let edited = draft::update_header(db, chain_key, caller, id, input.expected_version, change).await.gql()?;
        Ok(RubricVersion::new(edited.draft))
    }

    /// Adds an indicator (新增指标) to a draft.
    async fn add_draft_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator.")] input: AddDraftIndicatorInput,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let version_id = parse_id(&input.rubric_version_id, IdKind::RubricVersion)?;
        let fields = IndicatorFields {
            code: Some(input.code),
            title: Some(input.title),
            parent_id: Some(input.parent_id.map(|p| parse_id(&p, IdKind::Indicator)).transpose()?),
            max_points: Some(input.max_points),
            weight: Some(input.weight),
            role: input.role.map(role),
            department: Some(input.department),
            note: Some(input.note),
            position: input.position,
        };
        let edited =
            draft::add_indicator(db, chain_key, caller, version_id, input.expected_version, fields).await.gql()?;
        Ok(change(IdKind::Indicator)(edited))
    }

    /// Changes an indicator (修改指标) of a draft.
    async fn update_draft_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateDraftIndicatorInput,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, IdKind::Indicator)?;
        let fields = IndicatorFields {
            code: input.code,
            title: input.title,
            parent_id: parent(input.parent_id)?,
            max_points: patch(input.max_points),
            weight: patch(input.weight),
            role: input.role.map(role),
            department: patch(input.department),
            note: patch(input.note),
            position: input.position,
        };
        let edited = draft::update_indicator(db, chain_key, caller, id, input.expected_version, fields).await.gql()?;
        Ok(change(IdKind::Indicator)(edited))
    }

    /// Removes an indicator (删除指标) of a draft; with indicators below it or
    /// rules only when `cascade` is true (they are removed with it).
    async fn remove_draft_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator.")] id: ID,
        #[graphql(desc = "The draft's version as last read (乐观锁).")] expected_version: i32,
        #[graphql(desc = "Also remove the indicators below it and all their rules (级联删除).", default)] cascade: bool,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Indicator)?;
        let edited = draft::remove_indicator(db, chain_key, caller, id, expected_version, cascade).await.gql()?;
        Ok(change(IdKind::Indicator)(edited))
    }

    /// Adds a clause (新增条款) to a leaf indicator of a draft.
    async fn add_draft_clause(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The clause.")] input: AddDraftClauseInput,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let indicator_id = parse_id(&input.indicator_id, IdKind::Indicator)?;
        let fields = ClauseFields {
            no: Some(input.no),
            text: Some(input.text),
            group: Some(input.group),
            cap: Some(input.cap),
            informational: Some(input.informational),
            position: input.position,
        };
        let edited =
            draft::add_clause(db, chain_key, caller, indicator_id, input.expected_version, fields).await.gql()?;
        Ok(change(IdKind::Clause)(edited))
    }

    /// Changes a clause (修改条款) of a draft.
    async fn update_draft_clause(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateDraftClauseInput,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, IdKind::Clause)?;
        let fields = ClauseFields {
            no: input.no,
            text: input.text,
            group: patch(input.group),
            cap: patch(input.cap),
            informational: input.informational,
            position: input.position,
        };
        let edited = draft::update_clause(db, chain_key, caller, id, input.expected_version, fields).await.gql()?;
        Ok(change(IdKind::Clause)(edited))
    }

    /// Removes a clause (删除条款) of a draft; with rules only when `cascade` is true.
    async fn remove_draft_clause(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The clause.")] id: ID,
        #[graphql(desc = "The draft's version as last read (乐观锁).")] expected_version: i32,
        #[graphql(desc = "Also remove its rules (级联删除).", default)] cascade: bool,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Clause)?;
        let edited = draft::remove_clause(db, chain_key, caller, id, expected_version, cascade).await.gql()?;
        Ok(change(IdKind::Clause)(edited))
    }

    /// Adds a rule (新增规则) to a clause of a draft.
    async fn add_draft_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: AddDraftRuleInput,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let clause_id = parse_id(&input.clause_id, IdKind::Clause)?;
        let fields = RuleFields {
            key: Some(input.key),
            label: Some(input.label),
            kind: Some(input.kind.engine_name()),
            effect: input.effect.map(effect),
            params: input.params.map(|j| j.0),
            cap: Some(input.cap),
            halving: input.halving,
            highest_only: Some(input.highest_only),
            defer_late: Some(input.defer_late),
            position: input.position,
        };
        let edited = draft::add_rule(db, chain_key, caller, clause_id, input.expected_version, fields).await.gql()?;
        Ok(change(IdKind::Rule)(edited))
    }

    /// Changes a rule (修改规则) of a draft: key, kind, effect, params, cap, modifiers.
    async fn update_draft_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: UpdateDraftRuleInput,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, IdKind::Rule)?;
        let fields = RuleFields {
            key: patch(input.key),
            label: patch(input.label),
            kind: input.kind.map(super::states::RuleKind::engine_name),
            effect: input.effect.map(effect),
            params: input.params.map(|j| j.0),
            cap: patch(input.cap),
            halving: input.halving,
            highest_only: input.highest_only,
            defer_late: input.defer_late,
            position: input.position,
        };
        let edited = draft::update_rule(db, chain_key, caller, id, input.expected_version, fields).await.gql()?;
        Ok(change(IdKind::Rule)(edited))
    }

    /// Removes a rule (删除规则) of a draft.
    async fn remove_draft_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] id: ID,
        #[graphql(desc = "The draft's version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<RubricDraftChange> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Rule)?;
        Ok(change(IdKind::Rule)(draft::remove_rule(db, chain_key, caller, id, expected_version).await.gql()?))
    }

    /// Discards a draft (删除草稿) with its indicators, clauses and rules;
    /// answers its id. Published and retired versions are FROZEN (runs and
    /// results refer to them); a stale `expectedVersion` is CONFLICT. Audited.
    async fn discard_rubric_version_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<ID> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::RubricVersion)?;
        let gone = draft::discard(db, chain_key, caller, id, expected_version).await.gql()?;
        Ok(to_id(IdKind::RubricVersion, gone.id))
    }

    /// Publishes a draft (发布版本): the engine compiles it (BAD_USER_INPUT listing
    /// every problem if it does not; it stays a draft), then it is frozen and
    /// score runs may be opened on it.
    async fn publish_rubric_version(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<RubricVersion> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::RubricVersion)?;
        Ok(RubricVersion::new(draft::publish(db, chain_key, caller, id, expected_version).await.gql()?))
    }
}
