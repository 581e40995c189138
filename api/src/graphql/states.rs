//! The GraphQL enums of stored states, each mapped one to one from its type
//! in `entity::states` (async-graphql's `remote`): no state is compared as
//! text anywhere, and a state the schema does not list cannot be stored.

use async_graphql::Enum;

/// Lifecycle of a score run (批次状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::RunStatus")]
pub enum ScoreRunStatus {
    /// Open for observations (进行中).
    Open,
    /// Published and frozen (已发布).
    Published,
    /// Replaced by a newer published revision; still readable (已被修订).
    Superseded,
}

/// State of an observation (记录状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::ObservationStatus")]
pub enum ObservationStatus {
    /// Counts (有效).
    Active,
    /// Replaced by a correction; kept for the record (已更正).
    Superseded,
    /// Withdrawn; kept for the record (已撤回).
    Withdrawn,
}

/// State of a bonus claim (申报状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::ClaimStatus")]
pub enum ClaimStatus {
    /// Waiting for the owning department (待审核).
    Pending,
    /// Approved: it became an observation and counts (已通过).
    Approved,
    /// Rejected: it does not count (已驳回).
    Rejected,
}

/// State of a department's section of a run (科室提交状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::SubmissionStatus")]
pub enum SubmissionStatus {
    /// Takes writes again: the assessment office reopened it (已退回).
    Open,
    /// Submitted: writes to it are FROZEN until reopened (已提交).
    Submitted,
}

/// Lifecycle of a rubric version (版本状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::VersionStatus")]
pub enum RubricVersionStatus {
    /// Being edited (草稿).
    Draft,
    /// In force and frozen (已发布).
    Published,
    /// Replaced (已停用).
    Retired,
}

/// The kind of a run's period (周期类型).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::PeriodKind")]
pub enum PeriodKind {
    /// A year, e.g. `2026` (年度).
    Year,
    /// A month, e.g. `2026-03` (月度).
    Month,
}

/// Whether a section adds to the base score or adjusts the total (指标类别).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::states::IndicatorRole")]
pub enum IndicatorRole {
    /// Part of the base score (基础分).
    Base,
    /// Bonus and penalty (加减分).
    Adjust,
}

/// The kind of a rule (规则类型): how its facts turn into points (see DOMAIN.md).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RuleKind {
    /// Points per counted occurrence (每次/每人次).
    PerCount,
    /// Points per unit short of a target (未达标).
    Shortfall,
    /// Shortfall against a baseline (较基数).
    ShortfallBaseline,
    /// A yes/no fact (是否).
    Flag,
    /// Points by level (按级别).
    ByLevel,
    /// An award by level and rank (表彰/获奖).
    Award,
    /// Points by the range a value falls in (区间).
    Range,
    /// A grade given by the assessor (评定等次).
    Rating,
    /// A score given directly (直接评分).
    Direct,
    /// Points by bracket (分档).
    Bracket,
    /// Points per amount (每…元/每…项).
    PerAmount,
    /// A veto: the indicator scores nothing (一票否决/不得分).
    Veto,
}

/// What cut an amount (封顶/扣完为止).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CutKind {
    /// The rule's own cap (细则封顶).
    RuleCap,
    /// The clause's cap (条款封顶).
    ClauseCap,
    /// A group's cap (合计封顶).
    GroupCap,
    /// The floor: deducted to zero at most (扣完为止).
    Floor,
    /// The indicator's points (不超过分值).
    Ceiling,
    /// A veto (不得分).
    Veto,
    /// The bonus limit of the regime (加分限额).
    BonusLimit,
    /// The bonus cap (加分上限).
    BonusCap,
}

/// A stored name the database holds to its list (CHECKs of migration 000090),
/// as its GraphQL value; a name outside the list is logged as a defect and
/// shown as `fallback`, never silently.
fn known<E: async_graphql::EnumType>(name: &str, fallback: E) -> E {
    by_snake_name(name).unwrap_or_else(|| {
        tracing::error!(value = name, "a stored value the schema does not list");
        fallback
    })
}

/// The GraphQL value of a name the engine writes in `snake_case`; `None`
/// for a name it does not know (a test checks every name the engine has).
fn by_snake_name<E: async_graphql::EnumType>(name: &str) -> Option<E> {
    let wanted = name.to_ascii_uppercase();
    E::items().iter().find(|item| item.name == wanted).map(|item| item.value)
}

impl RuleKind {
    pub fn of(name: &str) -> Option<RuleKind> {
        by_snake_name(name)
    }

    /// The engine's name of the kind (`per_count`), as rubric files write it.
    pub fn engine_name(self) -> String {
        <RuleKind as async_graphql::EnumType>::items()
            .iter()
            .find(|item| item.value == self)
            .map(|item| item.name.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The kind of a stored rule or explanation line.
    pub fn known(name: &str) -> RuleKind {
        known(name, RuleKind::Direct)
    }
}

impl CutKind {
    pub fn of(name: &str) -> Option<CutKind> {
        by_snake_name(name)
    }

    /// The kind of a stored cut (the engine's names; see [`RuleKind::known`]).
    pub fn known(name: &str) -> CutKind {
        known(name, CutKind::Ceiling)
    }
}

impl IndicatorRole {
    /// The role of a section as results store it (`base`, `adjust`).
    pub fn of(name: &str) -> Option<IndicatorRole> {
        by_snake_name(name)
    }

    /// The role of a stored section result (see [`RuleKind::known`]).
    pub fn known(name: &str) -> IndicatorRole {
        known(name, IndicatorRole::Base)
    }
}

#[cfg(test)]
mod kinds {
    use super::*;

    #[test]
    fn every_rule_kind_and_cut_the_engine_names_has_a_graphql_value() {
        for k in kaohe_engine::rubric::file::RULE_KINDS {
            assert!(RuleKind::of(k).is_some(), "{k}");
        }
        assert_eq!(<RuleKind as async_graphql::EnumType>::items().len(), kaohe_engine::rubric::file::RULE_KINDS.len());
        for c in ["rule_cap", "clause_cap", "group_cap", "floor", "ceiling", "veto", "bonus_limit", "bonus_cap"] {
            assert!(CutKind::of(c).is_some(), "{c}");
        }
        assert_eq!(IndicatorRole::of("adjust"), Some(IndicatorRole::Adjust));
        assert_eq!(IndicatorRole::of("base"), Some(IndicatorRole::Base));
        assert_eq!(RuleKind::of("nonsense"), None);
        assert_eq!(RuleKind::ShortfallBaseline.engine_name(), "shortfall_baseline");
    }
}
