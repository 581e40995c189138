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
