use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{clause, indicator_group, rubric, rubric_version, rule};
use rust_decimal::Decimal;
use tokio::sync::OnceCell;

use super::connection::{connection, page_of};
use super::env;
use super::errors::{GqlResult, IntoGql};
use super::plain::{Listed, Plain, Shape};
use super::states::{IndicatorRole, RubricVersionStatus};
use super::{IdKind, to_id};
use crate::rubric::query::{self, VersionTree};
use kaohe_service::ServiceError;

/// A rubric (考核细则) of an organisation; it has one version per year or edition.
pub struct Rubric(pub rubric::Model);

/// A rubric (考核细则) of an organisation; it has one version per year or edition.
#[Object]
impl Rubric {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Rubric, self.0.id)
    }

    /// Stable code across versions (细则代码), e.g. `xuchang-jyqs`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Title (标题).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Its versions (版本), oldest first.
    async fn versions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<RubricVersionConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let paged = query::versions(db, caller, self.0.id, p).await.gql()?;
        Ok(RubricVersionConnection::build(paged, RubricVersion::new))
    }

    /// The newest published version (现行版本), if any.
    async fn current_version(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RubricVersion>> {
        let (db, caller) = env(ctx)?;
        Ok(query::current_version(db, caller, self.0.id).await.gql()?.map(RubricVersion::new))
    }
}

connection!(RubricConnection, RubricEdge, Rubric, "rubrics (考核细则)");
connection!(RubricVersionConnection, RubricVersionEdge, RubricVersion, "rubric versions (考核细则版本)");

/// How often a rubric is scored (考核周期).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Regime {
    /// Once a year (年度考核).
    Annual,
    /// Once a month, with a year view (月度考核).
    Monthly,
}

/// Whether a rule takes points away or gives them (扣分/加分).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RuleEffect {
    /// Deducts points (扣分).
    Deduct,
    /// Adds or awards points (加分).
    Add,
}

impl RuleEffect {
    /// The effect as rubric rows and results store it (`add`, `deduct`).
    pub fn of(stored: &str) -> RuleEffect {
        if stored == "add" { RuleEffect::Add } else { RuleEffect::Deduct }
    }
}

/// A version of a rubric (考核细则版本), e.g. 2026: its indicator tree and rules.
pub struct RubricVersion {
    row: rubric_version::Model,
    tree: OnceCell<Arc<VersionTree>>,
}

impl RubricVersion {
    pub fn new(row: rubric_version::Model) -> Self {
        RubricVersion { row, tree: OnceCell::new() }
    }

    /// Its indicator tree: a frozen version's is read once per server
    /// (`rubric::frozen`), a draft's on each request.
    async fn tree(&self, ctx: &Context<'_>) -> async_graphql::Result<Arc<VersionTree>> {
        let (db, caller) = env(ctx)?;
        self.tree.get_or_try_init(|| crate::rubric::frozen::tree(db, caller, &self.row)).await.cloned().gql()
    }
}

/// A version of a rubric (考核细则版本), e.g. 2026: its indicator tree and rules.
#[Object]
impl RubricVersion {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::RubricVersion, self.row.id)
    }

    /// Version label (版本号), e.g. `2026`.
    async fn label(&self) -> &str {
        &self.row.label
    }

    /// Title (标题).
    async fn title(&self) -> &str {
        &self.row.title
    }

    /// Edit version (修改版本号) for optimistic concurrency: pass it as
    /// `expectedVersion` when editing or publishing a draft; every edit bumps it.
    async fn version(&self) -> i32 {
        self.row.version
    }

    /// Status (状态): draft, published (frozen) or retired.
    async fn status(&self) -> RubricVersionStatus {
        self.row.status.into()
    }

    /// Points of the base total (满分, 百分制 = 100), exact decimal as a string.
    async fn scale(&self) -> Decimal {
        self.row.scale.0
    }

    /// Cap on all bonus points (加分上限), if any.
    async fn bonus_cap(&self) -> Option<Decimal> {
        self.row.bonus_cap.map(|c| c.0)
    }

    /// Scoring regime (考核周期).
    async fn regime(&self) -> Regime {
        if self.row.regime == "monthly" { Regime::Monthly } else { Regime::Annual }
    }

    /// Where the text comes from (文件来源), e.g. 许教组〔2023〕8号 附件.
    async fn source(&self) -> Option<&str> {
        self.row.source.as_deref()
    }

    /// Rubric file it was loaded from (细则文件), if any.
    async fn file_name(&self) -> Option<&str> {
        self.row.file_name.as_deref()
    }

    /// SHA-256 of the loaded file's text (文件指纹).
    async fn source_sha256(&self) -> Option<&str> {
        self.row.source_sha256.as_deref()
    }

    /// When it was published (发布时间).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.row.published_at
    }

    /// When it was created (创建时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// Sum of the base sections' max points (基础分合计); 100 for both seed rubrics.
    async fn base_max_total(&self, ctx: &Context<'_>) -> async_graphql::Result<Decimal> {
        Ok(self.tree(ctx).await?.base_max_total())
    }

    /// The top-level indicators (一级指标, sections), in document order.
    async fn sections(&self, ctx: &Context<'_>) -> async_graphql::Result<Listed<Indicator>> {
        let tree = self.tree(ctx).await?;
        let items = || tree.sections().into_iter().map(|idx| Indicator { tree: tree.clone(), idx }).collect();
        Ok(Listed::of_tree(ctx, &tree.derived, "sections", items))
    }

    /// Every indicator (考核指标), parents before children.
    async fn indicators(&self, ctx: &Context<'_>) -> async_graphql::Result<Listed<Indicator>> {
        let tree = self.tree(ctx).await?;
        let items = || (0..tree.indicators.len()).map(|idx| Indicator { tree: tree.clone(), idx }).collect();
        Ok(Listed::of_tree(ctx, &tree.derived, "indicators", items))
    }

    /// One indicator (考核指标) by code, e.g. `2.1`.
    async fn indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Indicator code (指标编号).")] code: String,
    ) -> async_graphql::Result<Option<Indicator>> {
        let tree = self.tree(ctx).await?;
        Ok(tree.by_code.get(&code).copied().map(|idx| Indicator { tree: tree.clone(), idx }))
    }

    /// One rule (评分规则) by its code, e.g. `3-②a`, with its label, clause and
    /// the values it takes; none if the version has no such rule.
    async fn rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Rule code (规则编号).")] code: String,
    ) -> async_graphql::Result<Option<Rule>> {
        let tree = self.tree(ctx).await?;
        Ok(all_rules(&tree).find(|r| r.code == code).map(|r| Rule::new(&tree, r)))
    }

    /// Rules whose clause text, label, indicator title or code contains the
    /// text (条款检索; case-insensitive), in document order, at most `first`.
    async fn search_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Text to look for, 1 to 100 characters, e.g. 表彰.")] text: String,
        #[graphql(desc = "Most rules answered, 1 to 100.", default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<Rule>> {
        let needle = text.trim().to_lowercase();
        if needle.is_empty() || needle.chars().count() > 100 {
            return Err(ServiceError::BadUserInput("search for 1 to 100 characters".into()).into_gql());
        }
        let first = usize::try_from(first).ok().filter(|f| (1..=100).contains(f));
        let Some(first) = first else {
            return Err(ServiceError::BadUserInput("`first` must be 1 to 100".into()).into_gql());
        };
        let tree = self.tree(ctx).await?;
        let found = all_rules(&tree)
            .filter(|r| {
                let clause = clause_of(&tree, r).map(|c| c.text.to_lowercase()).unwrap_or_default();
                let title = indicator_of(&tree, r).map(|i| i.title.to_lowercase()).unwrap_or_default();
                let label = r.label.as_deref().unwrap_or_default().to_lowercase();
                [clause, title, label, r.code.to_lowercase()].iter().any(|t| t.contains(&needle))
            })
            .take(first)
            .map(|r| Rule::new(&tree, r))
            .collect();
        Ok(found)
    }

    /// Number of rules (评分规则) in this version.
    async fn rule_count(&self, ctx: &Context<'_>) -> async_graphql::Result<usize> {
        Ok(self.tree(ctx).await?.rules.values().map(Vec::len).sum())
    }

    /// The rubric (考核细则) this is a version of.
    async fn rubric(&self, ctx: &Context<'_>) -> async_graphql::Result<Rubric> {
        let (db, caller) = env(ctx)?;
        Ok(Rubric(query::by_id(db, caller, self.row.rubric_id).await.gql()?))
    }

    /// What the signed-in caller may do with this version (我的权限): which
    /// indicators they may score, whether they may open and publish runs.
    /// Anonymous callers may do nothing.
    async fn my_permissions(&self, ctx: &Context<'_>) -> async_graphql::Result<super::permissions::MyPermissions> {
        let (db, caller) = env(ctx)?;
        let rubric = query::by_id(db, caller, self.row.rubric_id).await.gql()?;
        let org = crate::organisation::by_id(db, caller, rubric.organisation_id).await.gql()?;
        let tree = self.tree(ctx).await?;
        super::permissions::compute(ctx, &tree, &org.code, &rubric.code).await
    }
}

/// A node of the indicator tree (考核指标): 一级/二级/三级指标.
pub struct Indicator {
    tree: Arc<VersionTree>,
    idx: usize,
}

impl Indicator {
    fn row(&self) -> &entity::indicator::Model {
        &self.tree.indicators[self.idx]
    }

    fn parent_of(&self) -> Option<Indicator> {
        let pid = self.row().parent_id?;
        let idx = self.tree.indicators.iter().position(|i| i.id == pid)?;
        Some(Indicator { tree: self.tree.clone(), idx })
    }

    fn children_of(&self) -> Vec<Indicator> {
        let kids = self.tree.children.get(&self.row().id).into_iter().flatten();
        kids.map(|&idx| Indicator { tree: self.tree.clone(), idx }).collect()
    }

    fn groups_of(&self) -> Vec<IndicatorGroup> {
        self.tree.groups.get(&self.row().id).into_iter().flatten().cloned().map(IndicatorGroup).collect()
    }
}

/// The plain path (`plain`) for the indicator tree: a frozen tree is in
/// hand, so a department head's page of sections and children is written
/// straight. Clauses and rules take the normal path.
impl Plain for Indicator {
    const TYPE: &'static str = "Indicator";

    fn field(&self, name: &str, sub: Option<&Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{list, object, optional, scalar};
        use async_graphql::Value;
        let r = self.row();
        Some(match name {
            "id" => scalar(&to_id(IdKind::Indicator, r.id)),
            "code" => scalar(&r.code),
            "title" => scalar(&r.title),
            "depth" => scalar(&r.depth),
            "maxPoints" => optional(&r.max_points.map(|m| m.0)),
            "weight" => optional(&r.weight.map(|w| w.0)),
            "role" => async_graphql::resolver_utils::enum_value(IndicatorRole::from(r.role)),
            "department" => optional(&r.department),
            "note" => optional(&r.note),
            "parent" => match self.parent_of() {
                Some(p) => object(&p, sub?)?,
                None => Value::Null,
            },
            "children" => list(&self.children_of(), sub?)?,
            "groups" => list(&self.groups_of(), sub?)?,
            _ => return None,
        })
    }

    /// As `field`, written without a `Value` (the department head's page).
    fn write_field(&self, name: &str, sub: Option<&Shape<'_>>, out: &mut Vec<u8>) -> Option<()> {
        use super::plain::{optional, write_json, write_list, write_object};
        let r = self.row();
        match name {
            "id" => write_json(out, &to_id(IdKind::Indicator, r.id).0),
            "code" => write_json(out, &r.code),
            "title" => write_json(out, &r.title),
            "depth" => write_json(out, &r.depth),
            "maxPoints" => write_json(out, &optional(&r.max_points.map(|m| m.0))),
            "weight" => write_json(out, &optional(&r.weight.map(|w| w.0))),
            "role" => write_json(out, &async_graphql::resolver_utils::enum_value(IndicatorRole::from(r.role))),
            "department" => write_json(out, &r.department),
            "note" => write_json(out, &r.note),
            "parent" => match self.parent_of() {
                Some(p) => write_object(&p, sub?, out),
                None => write_json(out, &()),
            },
            "children" => write_list(&self.children_of(), sub?, out),
            "groups" => write_list(&self.groups_of(), sub?, out),
            _ => None,
        }
    }
}

impl Plain for IndicatorGroup {
    const TYPE: &'static str = "IndicatorGroup";

    fn field(&self, name: &str, _: Option<&Shape<'_>>) -> Option<async_graphql::Value> {
        use super::plain::{optional, scalar};
        let g = &self.0;
        Some(match name {
            "key" => scalar(&g.key),
            "title" => scalar(&g.title),
            "text" => optional(&g.text),
            "cap" => optional(&g.cap.map(|c| c.0)),
            _ => return None,
        })
    }
}

/// A node of the indicator tree (考核指标): 一级/二级/三级指标.
#[Object]
impl Indicator {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Indicator, self.row().id)
    }

    /// Code (指标编号), e.g. `2.1`; unique in its version.
    async fn code(&self) -> &str {
        &self.row().code
    }

    /// Title (指标名称).
    async fn title(&self) -> &str {
        &self.row().title
    }

    /// Level in the tree (层级): 0 for a section (一级指标), 1 below it, ….
    async fn depth(&self) -> i32 {
        self.row().depth
    }

    /// Max points (分值), exact decimal as a string; absent on uncapped penalties.
    async fn max_points(&self) -> Option<Decimal> {
        self.row().max_points.map(|m| m.0)
    }

    /// Weight in percent (权重), on weighted sections (许昌: 30, 70).
    async fn weight(&self) -> Option<Decimal> {
        self.row().weight.map(|w| w.0)
    }

    /// Base score or adjustment (指标类别).
    async fn role(&self) -> IndicatorRole {
        self.row().role.into()
    }

    /// Owning department (责任科室), inherited from the nearest ancestor naming one.
    async fn department(&self) -> Option<&str> {
        self.row().department.as_deref()
    }

    /// Text kept from the document that is not a clause (说明).
    async fn note(&self) -> Option<&str> {
        self.row().note.as_deref()
    }

    /// The parent indicator (上级指标).
    async fn parent(&self) -> Option<Indicator> {
        self.parent_of()
    }

    /// Child indicators (下级指标), in document order.
    async fn children(&self, ctx: &Context<'_>) -> Listed<Indicator> {
        Listed::of(ctx, self.children_of())
    }

    /// Headings over clauses, with optional caps (条款分组).
    async fn groups(&self) -> Vec<IndicatorGroup> {
        self.groups_of()
    }

    /// The clauses (细则条款), verbatim, in document order.
    async fn clauses(&self) -> Vec<Clause> {
        self.tree
            .clauses
            .get(&self.row().id)
            .into_iter()
            .flatten()
            .map(|c| Clause { tree: self.tree.clone(), row: c.clone() })
            .collect()
    }
}

/// A heading over several clauses of an indicator (条款分组), optionally capped.
pub struct IndicatorGroup(indicator_group::Model);

/// A heading over several clauses of an indicator (条款分组), optionally capped.
#[Object]
impl IndicatorGroup {
    /// Key clauses refer to (分组代码).
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// Heading (分组名称).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Original text of the heading or cap sentence (原文).
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }

    /// Cap on the group's points (分组上限).
    async fn cap(&self) -> Option<Decimal> {
        self.0.cap.map(|c| c.0)
    }
}

/// One numbered item of the document (细则条款), with its original Chinese text.
pub struct Clause {
    tree: Arc<VersionTree>,
    row: clause::Model,
}

/// One numbered item of the document (细则条款), with its original Chinese text.
#[Object]
impl Clause {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Clause, self.row.id)
    }

    /// Item number as printed (条款序号), e.g. `1`, `2.5`, `8(3)`.
    async fn no(&self) -> &str {
        &self.row.no
    }

    /// Original text (原文).
    async fn text(&self) -> &str {
        &self.row.text
    }

    /// Cap on the clause's points (条款上限).
    async fn cap(&self) -> Option<Decimal> {
        self.row.cap.map(|c| c.0)
    }

    /// Key of the group it belongs to (所属分组).
    async fn group(&self) -> Option<&str> {
        self.row.group_key.as_deref()
    }

    /// True when the clause carries no points itself (说明性条款).
    async fn informational(&self) -> bool {
        self.row.informational
    }

    /// The machine rules of this clause (评分规则).
    async fn rules(&self) -> Vec<Rule> {
        self.tree.rules.get(&self.row.id).into_iter().flatten().map(|r| Rule::new(&self.tree, r)).collect()
    }
}

/// Every rule of a version, in document order.
fn all_rules(tree: &VersionTree) -> impl Iterator<Item = &rule::Model> {
    tree.indicators
        .iter()
        .flat_map(|i| tree.clauses.get(&i.id).into_iter().flatten())
        .flat_map(|c| tree.rules.get(&c.id).into_iter().flatten())
}

fn clause_of<'t>(tree: &'t VersionTree, r: &rule::Model) -> Option<&'t clause::Model> {
    tree.clauses.get(&r.indicator_id)?.iter().find(|c| c.id == r.clause_id)
}

fn indicator_of<'t>(tree: &'t VersionTree, r: &rule::Model) -> Option<&'t entity::indicator::Model> {
    tree.indicators.iter().find(|i| i.id == r.indicator_id)
}

/// A level a rule takes (级别), with its points.
#[derive(SimpleObject, Clone)]
pub struct RuleLevel {
    /// Key to send as `facts.level` (级别代码), e.g. `municipal`.
    pub key: String,
    /// As the document names it (级别名称), e.g. 市委、市政府.
    pub label: String,
    /// Points (分值).
    pub points: Decimal,
}

/// A rating component a rule takes (评价主体), with its weight.
#[derive(SimpleObject, Clone)]
pub struct RuleComponent {
    /// Key to send as `facts.component` (评价主体代码), e.g. `leaders`.
    pub key: String,
    /// As the document names it (评价主体名称).
    pub label: String,
    /// Weight (权重分值).
    pub weight: Decimal,
}

/// What a client enters for a rule: the facts, the unit of measure and
/// the allowed range.
struct Entry {
    facts: Vec<&'static str>,
    unit: Option<String>,
    min: Option<Decimal>,
    max: Option<Decimal>,
}

fn dec_of(v: &serde_json::Value, key: &str) -> Option<Decimal> {
    match v.get(key)? {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

fn entry_of(kind: &str, p: &serde_json::Value) -> Entry {
    let text = |k: &str| p.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let percent = text("measure").as_deref() == Some("percent");
    let (facts, unit, min, max): (Vec<&'static str>, Option<String>, Option<Decimal>, Option<Decimal>) = match kind {
        "per_count" => (vec!["count"], text("unit").or_else(|| Some("次".into())), Some(Decimal::ZERO), None),
        "shortfall" if p.get("target").is_some_and(|t| !t.is_null()) => {
            (vec!["value"], percent.then(|| "%".into()), Some(Decimal::ZERO), percent.then_some(Decimal::ONE_HUNDRED))
        }
        "shortfall" => (
            vec!["value", "target"],
            percent.then(|| "%".into()),
            Some(Decimal::ZERO),
            percent.then_some(Decimal::ONE_HUNDRED),
        ),
        "shortfall_baseline" => (
            vec!["value", "baseline"],
            percent.then(|| "%".into()),
            Some(Decimal::ZERO),
            percent.then_some(Decimal::ONE_HUNDRED),
        ),
        "flag" | "veto" => (vec!["flag"], None, None, None),
        "by_level" => (vec!["level", "count"], Some("件（项）".into()), None, None),
        "award" => (vec!["level", "grade", "specialPrizeAwarded", "teamRank", "count"], None, None, None),
        "range" => (vec!["points"], Some("分".into()), dec_of(p, "min"), dec_of(p, "max")),
        "rating" => (vec!["component", "rate"], Some("%".into()), Some(Decimal::ZERO), Some(Decimal::ONE_HUNDRED)),
        "direct" => (vec!["points"], Some("分".into()), Some(Decimal::ZERO), dec_of(p, "max")),
        "bracket" | "per_amount" => {
            (vec!["amount"], text("unit").or_else(|| Some("万元".into())), Some(Decimal::ZERO), None)
        }
        _ => (Vec::new(), None, None, None),
    };
    Entry { facts, unit, min, max }
}

/// The machine form of (part of) a clause (评分规则): a kind and its parameters.
pub struct Rule {
    row: rule::Model,
    tree: Arc<VersionTree>,
}

impl Rule {
    fn new(tree: &Arc<VersionTree>, row: &rule::Model) -> Rule {
        Rule { row: row.clone(), tree: tree.clone() }
    }

    fn params_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.row.params).unwrap_or(serde_json::Value::Null)
    }

    fn list(&self, key: &str) -> Vec<serde_json::Value> {
        self.params_json().get(key).and_then(|l| l.as_array()).cloned().unwrap_or_default()
    }

    fn level_list(&self) -> Vec<RuleLevel> {
        self.list("levels")
            .iter()
            .map(|l| RuleLevel {
                key: l.get("key").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
                label: l.get("label").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
                points: dec_of(l, "points").unwrap_or_default(),
            })
            .collect()
    }
}

/// The machine form of (part of) a clause (评分规则): a kind and its parameters.
#[Object]
impl Rule {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Rule, self.row.id)
    }

    /// Code (规则编号): `{indicator}-{clause}` plus a key, e.g. `2.1.1-1`.
    async fn code(&self) -> &str {
        &self.row.code
    }

    /// Kind (规则类型).
    async fn kind(&self) -> super::states::RuleKind {
        super::states::RuleKind::known(&self.row.kind)
    }

    /// Deduct or add (扣分/加分).
    async fn effect(&self) -> RuleEffect {
        RuleEffect::of(&self.row.effect)
    }

    /// Short label of what it counts (规则说明).
    async fn label(&self) -> Option<&str> {
        self.row.label.as_deref()
    }

    /// A stable one-line label for pickers and sheet headers (规则标签): code,
    /// what it counts, clause number, what is entered and in what unit, and
    /// the levels it takes; made only from the published version's text, so
    /// it does not change while the version stands.
    async fn display_label(&self) -> String {
        let entry = entry_of(&self.row.kind, &self.params_json());
        let what = self
            .row
            .label
            .clone()
            .or_else(|| indicator_of(&self.tree, &self.row).map(|i| i.title.clone()))
            .unwrap_or_default();
        let clause = clause_of(&self.tree, &self.row).map(|c| c.no.clone()).unwrap_or_default();
        let mut parts = vec![format!("{} {what}", self.row.code), format!("第{clause}条")];
        let facts = entry.facts.join("+");
        parts.push(match (&entry.unit, entry.min, entry.max) {
            (Some(u), Some(lo), Some(hi)) => format!("{facts}（{u}，{lo}—{hi}）"),
            (Some(u), _, _) => format!("{facts}（{u}）"),
            _ => facts,
        });
        let levels: Vec<String> = self.level_list().iter().map(|l| format!("{} {}", l.label, l.points)).collect();
        if !levels.is_empty() {
            parts.push(levels.join(" / "));
        }
        parts.join("｜")
    }

    /// Number of its clause as printed (条款序号).
    async fn clause_no(&self) -> Option<&str> {
        clause_of(&self.tree, &self.row).map(|c| c.no.as_str())
    }

    /// Original text of its clause (条款原文).
    async fn clause_text(&self) -> Option<&str> {
        clause_of(&self.tree, &self.row).map(|c| c.text.as_str())
    }

    /// Code of its indicator (指标编号).
    async fn indicator_code(&self) -> Option<&str> {
        indicator_of(&self.tree, &self.row).map(|i| i.code.as_str())
    }

    /// The facts it takes (录入字段), as named in `FactsInput`, e.g. `["level", "count"]`.
    async fn facts(&self) -> Vec<&'static str> {
        entry_of(&self.row.kind, &self.params_json()).facts
    }

    /// Unit of measure of what is entered (计量单位), e.g. 次, %, 分, 万元.
    async fn unit_of_measure(&self) -> Option<String> {
        entry_of(&self.row.kind, &self.params_json()).unit
    }

    /// Smallest value accepted (下限), where there is one.
    async fn min_value(&self) -> Option<Decimal> {
        entry_of(&self.row.kind, &self.params_json()).min
    }

    /// Largest value accepted (上限), where there is one.
    async fn max_value(&self) -> Option<Decimal> {
        entry_of(&self.row.kind, &self.params_json()).max
    }

    /// Levels it takes (可选级别), for by-level and award rules.
    async fn levels(&self) -> Vec<RuleLevel> {
        self.level_list()
    }

    /// Rating components it takes (评价主体), for rating rules.
    async fn components(&self) -> Vec<RuleComponent> {
        self.list("components")
            .iter()
            .map(|c| RuleComponent {
                key: c.get("key").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
                label: c.get("label").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
                weight: dec_of(c, "weight").unwrap_or_default(),
            })
            .collect()
    }

    /// Grades it takes (奖项等级), for award rules.
    async fn grades(&self) -> Vec<super::observations::AwardGrade> {
        use super::observations::AwardGrade;
        if self.row.kind == "award" {
            vec![AwardGrade::Special, AwardGrade::First, AwardGrade::Second, AwardGrade::Third, AwardGrade::Other]
        } else {
            Vec::new()
        }
    }

    /// Parameters of the kind (规则参数) as JSON; decimals are strings.
    async fn params(&self) -> Json<serde_json::Value> {
        Json(self.params_json())
    }

    /// Cap on the rule's points (规则上限).
    async fn cap(&self) -> Option<Decimal> {
        self.row.cap.map(|c| c.0)
    }

    /// Reasons an observation may be halved (折半情形).
    async fn halving(&self) -> Vec<String> {
        serde_json::from_str(&self.row.halving).unwrap_or_default()
    }

    /// Only the highest level counts for the same work (只计最高分).
    async fn highest_only(&self) -> bool {
        self.row.highest_only
    }

    /// A late document moves the bonus to the next period (滞后转下月); only
    /// these rules take a `documentDate`.
    async fn defer_late(&self) -> bool {
        self.row.defer_late
    }
}
