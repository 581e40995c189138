//! The Excel round trip (录入表) over GraphQL: `previewEntrySheet` reads a
//! filled entry sheet (a multipart upload) and answers what applying it does;
//! `applyEntrySheet` applies a preview in one transaction. The sheet itself is
//! downloaded at `GET /runs/{id}/sections/{code}/entry.xlsx`.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::errors::GqlResult;
use super::observations::{Facts, Observation};
use super::{IdKind, ScoreRun, parse_id, to_id, write_env};
use crate::runs::entry_sheet::{self, Action};

/// What applying one cell (a unit × a rule) of an entry sheet does (录入动作).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EntrySheetAction {
    /// A new observation (新增).
    Record,
    /// The unit's observation is corrected (更正).
    Correct,
    /// The unit's observation is withdrawn: its cells were emptied (撤回).
    Withdraw,
    /// The cells say what is recorded (不变).
    Unchanged,
}

/// One cell of an entry sheet (a unit × a rule) and what applying it does.
#[derive(SimpleObject)]
pub struct EntrySheetCell {
    /// The cell of the rule's first column, e.g. `C7`.
    pub cell: String,
    /// The unit (被考核单位).
    pub unit_id: ID,
    /// The rule's code (规则编号).
    pub rule_code: String,
    /// What applying it does.
    pub action: EntrySheetAction,
    /// The observation corrected, withdrawn or left as it is (none for a new one).
    pub observation_id: Option<ID>,
    /// The facts it records or corrects to (none for a withdrawal).
    pub facts: Option<Facts>,
    /// The facts recorded now (none for a new one).
    pub previous_facts: Option<Facts>,
}

/// What is wrong with one cell of an entry sheet (单元格错误).
#[derive(SimpleObject)]
pub struct EntrySheetError {
    /// The sheet's name.
    pub sheet: String,
    /// The cell, e.g. `C7`.
    pub cell: String,
    /// Why, e.g. `C7: 等级 must be one of 国家级, 省级, 市级`.
    pub message: String,
}

/// A unit's section score now and once the sheet is applied (板块得分).
#[derive(SimpleObject)]
pub struct EntrySheetTotal {
    /// The unit.
    pub unit_id: ID,
    /// The unit's code (单位代码).
    pub unit_code: String,
    /// The section's code.
    pub section_code: String,
    /// The section's score with the observations recorded now.
    pub before: Decimal,
    /// The section's score once the sheet is applied (the engine, on the would-be observations).
    pub after: Decimal,
}

/// A previewed entry sheet (录入表预览): nothing is recorded until `applyEntrySheet`.
#[derive(SimpleObject)]
pub struct EntrySheetPreview {
    /// The preview's id: pass it to `applyEntrySheet`.
    pub id: ID,
    /// SHA-256 of the file (lowercase hex), kept as the evidence of the change.
    pub sha256: String,
    /// The score run.
    pub run_id: ID,
    /// The run's version the preview was made against: pass it to `applyEntrySheet` as `expectedRunVersion`.
    pub run_version: i32,
    /// The section (板块) the sheet is for.
    pub section_code: String,
    /// Until when it can be applied.
    pub expires_at: DateTime<Utc>,
    /// Every cell with a value or an observation, with what applying it does.
    pub cells: Vec<EntrySheetCell>,
    /// Every cell's errors; the sheet can be applied only without any.
    pub errors: Vec<EntrySheetError>,
    /// Each unit's section score now and after.
    pub totals: Vec<EntrySheetTotal>,
    /// Observations it would record.
    pub recorded: i32,
    /// Observations it would correct.
    pub corrected: i32,
    /// Observations it would withdraw.
    pub withdrawn: i32,
    /// Cells already as recorded.
    pub unchanged: i32,
}

/// What applying an entry sheet did (录入结果).
#[derive(SimpleObject)]
pub struct EntrySheetResult {
    /// The score run, with its new version.
    pub run: ScoreRun,
    /// Observations recorded.
    pub recorded: i32,
    /// Observations corrected.
    pub corrected: i32,
    /// Observations withdrawn.
    pub withdrawn: i32,
    /// The observations written (new ones and corrections), in sheet order.
    pub observations: Vec<Observation>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<entry_sheet::Preview> for EntrySheetPreview {
    fn from(p: entry_sheet::Preview) -> Self {
        let plan = &p.plan;
        EntrySheetPreview {
            id: to_id(IdKind::EntrySheet, p.sheet.id),
            sha256: p.sheet.sha256.clone(),
            run_id: to_id(IdKind::ScoreRun, p.sheet.score_run_id),
            run_version: p.sheet.run_version,
            section_code: p.sheet.section_code.clone(),
            expires_at: p.sheet.expires_at,
            recorded: count(plan.count(Action::Record)),
            corrected: count(plan.count(Action::Correct)),
            withdrawn: count(plan.count(Action::Withdraw)),
            unchanged: count(plan.count(Action::Unchanged)),
            cells: plan
                .changes
                .iter()
                .map(|c| EntrySheetCell {
                    cell: c.cell.clone(),
                    unit_id: to_id(IdKind::Unit, c.unit_id),
                    rule_code: c.rule_code.clone(),
                    action: match c.action {
                        Action::Record => EntrySheetAction::Record,
                        Action::Correct => EntrySheetAction::Correct,
                        Action::Withdraw => EntrySheetAction::Withdraw,
                        Action::Unchanged => EntrySheetAction::Unchanged,
                    },
                    observation_id: c.observation_id.map(|o| to_id(IdKind::Observation, o)),
                    facts: c.facts.clone().map(Facts::from),
                    previous_facts: c.before.clone().map(Facts::from),
                })
                .collect(),
            errors: plan
                .errors
                .iter()
                .map(|e| EntrySheetError { sheet: e.sheet.clone(), cell: e.cell.clone(), message: e.to_string() })
                .collect(),
            totals: plan
                .totals
                .iter()
                .map(|t| EntrySheetTotal {
                    unit_id: to_id(IdKind::Unit, t.unit_id),
                    unit_code: t.unit_code.clone(),
                    section_code: plan.section.clone(),
                    before: t.before,
                    after: t.after,
                })
                .collect(),
        }
    }
}

/// Entering a month from Excel (录入表导入).
#[derive(Default)]
pub struct EntrySheetMutation;

/// Entering a month from Excel (录入表导入): preview a filled entry sheet, then apply it.
#[Object]
impl EntrySheetMutation {
    /// Reads a filled entry sheet (the `.xlsx` downloaded from
    /// `/runs/{id}/sections/{code}/entry.xlsx`) and answers what applying it
    /// would record, correct, withdraw or leave, every cell's errors, and each
    /// unit's section score after. Nothing changes but the stored preview. A
    /// file that is not this run's entry sheet is BAD_USER_INPUT.
    async fn preview_entry_sheet(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The score run the sheet is for.")] run_id: ID,
        #[graphql(desc = "The filled sheet (.xlsx), as a GraphQL multipart upload.")] file: Upload,
    ) -> async_graphql::Result<EntrySheetPreview> {
        let (db, _, caller) = write_env(ctx)?;
        let run_id = parse_id(&run_id, IdKind::ScoreRun)?;
        let (filename, content) = super::accounts::upload(ctx, file)?;
        let p = entry_sheet::preview(db, caller, run_id, &filename, &content).await.gql()?;
        Ok(EntrySheetPreview::from(p))
    }

    /// Applies a preview in one transaction, all or nothing, audited as one
    /// change (`score_run.entry_sheet`, with the file's SHA-256). Each change
    /// is authorized and checked as `recordObservation`, `correctObservation`
    /// and `withdrawObservation` check one. CONFLICT when the run's version is
    /// not `expectedRunVersion` or an observation of the sheet changed since
    /// the preview; applying bumps the run's version, so the same preview
    /// applied again is CONFLICT. A preview with errors is BAD_USER_INPUT.
    async fn apply_entry_sheet(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preview's id (`previewEntrySheet`).")] preview_id: ID,
        #[graphql(desc = "The run's version as the preview answered it (乐观锁).")] expected_run_version: i32,
    ) -> async_graphql::Result<EntrySheetResult> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&preview_id, IdKind::EntrySheet)?;
        let a = entry_sheet::apply(db, chain_key, caller, id, expected_run_version).await.gql()?;
        Ok(EntrySheetResult {
            run: ScoreRun(a.run),
            recorded: count(a.recorded),
            corrected: count(a.corrected),
            withdrawn: count(a.withdrawn),
            observations: a.observations.into_iter().map(Observation).collect(),
        })
    }
}
