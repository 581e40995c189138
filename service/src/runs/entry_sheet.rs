//! The Excel round trip (录入表): a month's scores for one section entered in
//! Excel.
//!
//! - `download`: a workbook with a row per unit and a column per fact of each
//!   rule of the section the caller may score (as `recordObservation`
//!   authorizes), current values filled in, and a hidden sheet of global ids
//!   (units, rules, observations) and the run's version.
//! - `preview`: reads a filled sheet back (calamine), plans every cell against
//!   the run's current observations (record, correct, withdraw, unchanged),
//!   checks each change as the single and bulk mutations do (the engine's
//!   `check_observation`, then each unit's observations together as scoring
//!   will), scores the would-be observations with the engine (section totals
//!   per unit) and stores the plan with the file's SHA-256 and the run version.
//! - `apply`: applies a stored plan in one transaction with one audit entry,
//!   refusing with CONFLICT if the run's version moved or any observation of
//!   the sheet changed since the preview. It bumps the run's version, so the
//!   same preview applied twice is CONFLICT the second time (never a replay).

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use chrono::{Duration, Utc};
use entity::states::ObservationStatus;
use entity::{entry_sheet, observation, score_run, score_run_unit, unit};
use kaohe_engine::rubric::RuleKind;
use kaohe_engine::{Facts, Grade, Observation, Rubric, UnitObservations};
use kaohe_report::entry::{self as sheet, EntryColumn, EntryRow, EntrySheet, EntryValue, Takes};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::observations::{ObservationDraft, check_item, check_units, engine_draft, insert, new_row, retire};
use super::{Rules, ensure_open, ensure_section_open, period_of, run_by_id, section_of_rule, section_row, visible_run};
use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::evidence::{self, Linked};
use crate::ids::{global_id, row_of};
use crate::{db, policy};

/// How long a preview can be applied.
pub const EXPIRES_AFTER_HOURS: i64 = 24;
/// Most units one sheet takes.
pub const MAX_UNITS: usize = 5_000;
/// New observations one INSERT statement takes (17 columns each: well
/// under SQLite's and PostgreSQL's bound-parameter limits).
const RECORD_BATCH: usize = 200;
/// The hidden sheet's first cell: what kind of workbook this is.
const MARKER: &str = "kaohe-entry-sheet";
const FORMAT: &str = "1";
/// An observation id cell of a (unit, rule) the sheet cannot edit: several
/// observations, or one carried from an earlier period.
const LOCKED: &str = "*";

/// One fact a column takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    Count,
    Value,
    Target,
    Baseline,
    Flag,
    Level,
    Grade,
    Points,
    Amount,
}

impl Fact {
    fn key(self) -> &'static str {
        match self {
            Fact::Count => "count",
            Fact::Value => "value",
            Fact::Target => "target",
            Fact::Baseline => "baseline",
            Fact::Flag => "flag",
            Fact::Level => "level",
            Fact::Grade => "grade",
            Fact::Points => "points",
            Fact::Amount => "amount",
        }
    }

    fn of_key(key: &str) -> Option<Fact> {
        [
            Fact::Count,
            Fact::Value,
            Fact::Target,
            Fact::Baseline,
            Fact::Flag,
            Fact::Level,
            Fact::Grade,
            Fact::Points,
            Fact::Amount,
        ]
        .into_iter()
        .find(|f| f.key() == key)
    }

    /// The fact's name in messages and headers (the officials' word).
    fn word(self) -> &'static str {
        match self {
            Fact::Count => "数量",
            Fact::Value => "实际值",
            Fact::Target => "目标值",
            Fact::Baseline => "上期值",
            Fact::Flag => "是否",
            Fact::Level => "等级",
            Fact::Grade => "奖项",
            Fact::Points => "分值",
            Fact::Amount => "金额",
        }
    }
}

const GRADES: [(Grade, &str); 5] = [
    (Grade::Special, "特等奖"),
    (Grade::First, "一等奖"),
    (Grade::Second, "二等奖"),
    (Grade::Third, "三等奖"),
    (Grade::Other, "其他奖"),
];

/// The facts a rule takes in the sheet, one column each; none for a rule
/// that needs several observations per unit (a rating's components).
fn facts_of_rule(kind: &RuleKind) -> Vec<Fact> {
    match kind {
        RuleKind::PerCount { .. } => vec![Fact::Count],
        RuleKind::Shortfall { target: Some(_), .. } => vec![Fact::Value],
        RuleKind::Shortfall { target: None, .. } => vec![Fact::Value, Fact::Target],
        RuleKind::ShortfallBaseline { .. } => vec![Fact::Value, Fact::Baseline],
        RuleKind::Flag { .. } | RuleKind::Veto => vec![Fact::Flag],
        RuleKind::ByLevel { .. } => vec![Fact::Level],
        RuleKind::Award { .. } => vec![Fact::Level, Fact::Grade],
        RuleKind::Range { .. } | RuleKind::Direct { .. } => vec![Fact::Points],
        RuleKind::Bracket { .. } | RuleKind::PerAmount { .. } => vec![Fact::Amount],
        RuleKind::Rating { .. } => Vec::new(),
    }
}

/// A column of the sheet: one fact of one rule.
#[derive(Clone, Debug)]
struct Column {
    rule_code: String,
    rule_id: i64,
    fact: Fact,
}

/// The rules of a section the caller may score, as columns, in rubric order.
fn columns(
    caller: &Caller,
    run: &score_run::Model,
    rubric: &Rubric,
    rules: &Rules,
    section: &str,
) -> Result<Vec<Column>, ServiceError> {
    let mut out = Vec::new();
    for rule in &rubric.rules {
        if section_of_rule(rubric, &rule.code)? != section {
            continue;
        }
        if policy::may_score(caller, run.organisation_id, rubric, &rule.code, "record").is_err() {
            continue;
        }
        let rule_id = rules.by_code(&rule.code)?.id;
        for fact in facts_of_rule(&rule.kind) {
            out.push(Column { rule_code: rule.code.clone(), rule_id, fact });
        }
    }
    Ok(out)
}

/// The labels a level column takes, and their keys.
fn levels_of(rubric: &Rubric, code: &str) -> Vec<(String, String)> {
    match rubric.rule(code).map(|r| &r.kind) {
        Some(RuleKind::ByLevel { levels } | RuleKind::Award { levels }) => {
            levels.iter().map(|l| (l.key.clone(), l.label.clone())).collect()
        }
        _ => Vec::new(),
    }
}

/// What a column takes, for its data validation.
fn takes(rubric: &Rubric, c: &Column) -> Takes {
    let kind = rubric.rule(&c.rule_code).map(|r| &r.kind);
    match c.fact {
        Fact::Flag => Takes::Choice(vec!["是".into(), "否".into()]),
        Fact::Level => Takes::Choice(levels_of(rubric, &c.rule_code).into_iter().map(|(_, l)| l).collect()),
        Fact::Grade => Takes::Choice(GRADES.iter().map(|(_, l)| l.to_string()).collect()),
        Fact::Points => match kind {
            Some(RuleKind::Direct { max }) => Takes::Number { min: Some(Decimal::ZERO), max: Some(*max) },
            Some(RuleKind::Range { min, max }) => Takes::Number { min: Some(*min), max: Some(*max) },
            _ => Takes::Number { min: None, max: None },
        },
        _ => Takes::Number { min: Some(Decimal::ZERO), max: None },
    }
}

/// What a column asks for, with its unit of measure.
fn prompt(rubric: &Rubric, c: &Column) -> String {
    let unit = match rubric.rule(&c.rule_code).map(|r| &r.kind) {
        Some(RuleKind::PerCount { unit, .. }) => unit.clone().unwrap_or_else(|| "次".into()),
        Some(RuleKind::Shortfall { measure, .. } | RuleKind::ShortfallBaseline { measure, .. }) => match measure {
            kaohe_engine::rubric::Measure::Percent => "%".into(),
            kaohe_engine::rubric::Measure::Count => "次".into(),
        },
        Some(RuleKind::Bracket { unit, .. } | RuleKind::PerAmount { unit, .. }) => {
            unit.clone().unwrap_or_else(|| "万元".into())
        }
        Some(RuleKind::Range { .. } | RuleKind::Direct { .. }) => "分".into(),
        _ => String::new(),
    };
    let bounds = match takes(rubric, c) {
        Takes::Number { min: Some(lo), max: Some(hi) } => format!("，{lo}—{hi}"),
        Takes::Choice(labels) => format!("：{}", labels.join(" / ")),
        _ => String::new(),
    };
    if unit.is_empty() {
        format!("{}{bounds}", c.fact.word())
    } else {
        format!("{}（{unit}）{bounds}", c.fact.word())
    }
}

/// A sheet column's letters (0 → A, 26 → AA).
pub fn column_letters(mut c: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `C7`: the cell at 0-based row and column.
fn cell_ref(row: usize, col: usize) -> String {
    format!("{}{}", column_letters(col), row + 1)
}

/// Active observations of a run for these units and rules, by (unit, rule).
async fn current<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
    units: &[i64],
    rule_ids: &[i64],
) -> Result<HashMap<(i64, i64), Vec<observation::Model>>, ServiceError> {
    let mut out: HashMap<(i64, i64), Vec<observation::Model>> = HashMap::new();
    for chunk in units.chunks(500) {
        let rows = observation::Entity::find()
            .filter(observation::Column::ScoreRunId.eq(run_id))
            .filter(observation::Column::Status.eq(ObservationStatus::Active))
            .filter(observation::Column::UnitId.is_in(chunk.to_vec()))
            .filter(observation::Column::RuleId.is_in(rule_ids.to_vec()))
            .all(conn)
            .await?;
        for o in rows {
            out.entry((o.unit_id, o.rule_id)).or_default().push(o);
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|o| o.id);
    }
    Ok(out)
}

/// The one observation a sheet cell shows and edits, if it can.
fn editable(list: Option<&Vec<observation::Model>>) -> Editable<'_> {
    match list.map(Vec::as_slice) {
        None | Some([]) => Editable::None,
        Some([o]) if o.carried_from_id.is_none() => Editable::One(o),
        Some(_) => Editable::Locked,
    }
}

enum Editable<'a> {
    None,
    One(&'a observation::Model),
    Locked,
}

/// A fact's value as a cell shows it.
fn shown(rubric: &Rubric, c: &Column, f: &Facts) -> EntryValue {
    let num = |d: Option<Decimal>| d.map(EntryValue::Number).unwrap_or(EntryValue::Empty);
    match c.fact {
        Fact::Count => num(f.count.map(Decimal::from)),
        Fact::Value => num(f.value),
        Fact::Target => num(f.target),
        Fact::Baseline => num(f.baseline),
        Fact::Points => num(f.points),
        Fact::Amount => num(f.amount),
        Fact::Flag => match f.flag {
            Some(true) => EntryValue::Text("是".into()),
            Some(false) => EntryValue::Text("否".into()),
            None => EntryValue::Empty,
        },
        Fact::Level => f
            .level
            .as_ref()
            .map(|k| {
                let label = levels_of(rubric, &c.rule_code).into_iter().find(|(key, _)| key == k).map(|(_, l)| l);
                EntryValue::Text(label.unwrap_or_else(|| k.clone()))
            })
            .unwrap_or(EntryValue::Empty),
        Fact::Grade => f
            .grade
            .and_then(|g| GRADES.iter().find(|(x, _)| *x == g))
            .map(|(_, l)| EntryValue::Text(l.to_string()))
            .unwrap_or(EntryValue::Empty),
    }
}

/// The entry sheet of a section, as the caller may fill it: its bytes and a
/// file name. A run or section the caller may not see, or a section without
/// a rule it may score, answers as a missing one (`entry sheet not found`).
pub async fn download(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
    section_code: &str,
) -> Result<(Vec<u8>, String), ServiceError> {
    let hidden = |e: ServiceError| e.hidden_as("entry sheet");
    let (run, _) = visible_run(db, caller, run_id).await.map_err(hidden)?;
    let section = section_row(db, run.rubric_version_id, section_code)
        .await
        .map_err(|_| ServiceError::not_found("entry sheet"))?;
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let rules = Rules::of_version(db, run.rubric_version_id).await?;
    let cols = columns(caller, &run, &rubric, &rules, &section.code)?;
    if cols.is_empty() {
        return Err(ServiceError::not_found("entry sheet"));
    }
    let assessed: Vec<i64> = score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run.id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.unit_id)
        .collect();
    let mut units = Vec::with_capacity(assessed.len());
    for chunk in assessed.chunks(500) {
        units.extend(unit::Entity::find().filter(unit::Column::Id.is_in(chunk.to_vec())).all(db).await?);
    }
    units.sort_by(|a, b| a.code.cmp(&b.code));
    let mut rule_ids: Vec<i64> = cols.iter().map(|c| c.rule_id).collect();
    rule_ids.dedup();
    let now = current(db, run.id, &assessed, &rule_ids).await?;
    let mut ids = vec![
        vec![
            MARKER.to_string(),
            FORMAT.to_string(),
            global_id("ScoreRun", run.id),
            run.version.to_string(),
            section.code.clone(),
        ],
        ["unit", ""]
            .into_iter()
            .map(str::to_string)
            .chain(cols.iter().map(|c| format!("{} {}", global_id("Rule", c.rule_id), c.fact.key())))
            .collect(),
    ];
    let mut rows = Vec::with_capacity(units.len());
    for u in &units {
        let mut values = Vec::with_capacity(cols.len());
        let mut line = vec![global_id("Unit", u.id), String::new()];
        for c in &cols {
            match editable(now.get(&(u.id, c.rule_id))) {
                Editable::None => {
                    values.push(EntryValue::Empty);
                    line.push(String::new());
                }
                Editable::One(o) => {
                    values.push(shown(&rubric, c, &super::facts_of(&o.facts)?));
                    line.push(global_id("Observation", o.id));
                }
                Editable::Locked => {
                    values.push(EntryValue::Empty);
                    line.push(LOCKED.to_string());
                }
            }
        }
        rows.push(EntryRow { unit_name: u.name.clone(), unit_code: u.code.clone(), values });
        ids.push(line);
    }
    let columns = cols
        .iter()
        .map(|c| {
            let rule = rubric.rule(&c.rule_code);
            let clause = rule.map(|r| rubric.clause_of(r).text.clone()).unwrap_or_default();
            let first = cols.iter().find(|x| x.rule_code == c.rule_code).map(|x| x.fact) == Some(c.fact);
            let header = if first { c.rule_code.clone() } else { format!("{} {}", c.rule_code, c.fact.word()) };
            let label = rule.and_then(|r| r.label.clone()).map(|l| format!("{l}\n")).unwrap_or_default();
            let p = prompt(&rubric, c);
            EntryColumn {
                header,
                note: format!("{}\n{label}{clause}\n录入：{p}", c.rule_code),
                prompt: p,
                takes: takes(&rubric, c),
            }
        })
        .collect();
    let title = rubric.indicator(&section.code).map(|i| i.title.clone()).unwrap_or_default();
    let book = EntrySheet { sheet_name: sheet::sheet_name(&format!("{} {title}", section.code)), columns, rows, ids };
    let bytes = book.to_xlsx().map_err(ServiceError::internal)?;
    let safe: String = section.code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    Ok((bytes, format!("entry-{}-{}-{safe}.xlsx", run.id, run.period)))
}

/// What applying a (unit, rule) of the sheet does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Record,
    Correct,
    Withdraw,
    Unchanged,
}

/// One (unit, rule) of the sheet and what applying it does.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    /// The sheet's name and the cell of the rule's first column, e.g. `C7`.
    pub cell: String,
    pub unit_id: i64,
    pub rule_code: String,
    pub action: Action,
    /// The observation corrected, withdrawn or left (none for a record).
    pub observation_id: Option<i64>,
    pub observation_version: Option<i32>,
    /// The facts it records or corrects to (none for a withdrawal).
    pub facts: Option<Facts>,
    /// The facts there now (none for a record).
    pub before: Option<Facts>,
}

/// What is wrong with one cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellError {
    pub sheet: String,
    pub cell: String,
    pub message: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.cell, self.message)
    }
}

/// A unit's section score now and once the sheet is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitTotal {
    pub unit_id: i64,
    pub unit_code: String,
    pub before: Decimal,
    pub after: Decimal,
}

/// A planned sheet.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Plan {
    pub sheet: String,
    pub section: String,
    pub changes: Vec<Change>,
    pub errors: Vec<CellError>,
    pub totals: Vec<UnitTotal>,
    /// The active observation ids of every (unit, rule id) of the sheet when
    /// it was planned: apply refuses if any moved.
    pub seen: Vec<(i64, i64, Vec<i64>)>,
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }
}

/// A stored preview and its plan.
pub struct Preview {
    pub sheet: entry_sheet::Model,
    pub plan: Plan,
}

/// What an apply did.
pub struct Applied {
    pub run: score_run::Model,
    pub recorded: usize,
    pub corrected: usize,
    pub withdrawn: usize,
    /// The rows written (recorded and corrections), in sheet order.
    pub observations: Vec<observation::Model>,
}

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadUserInput(m.into())
}

fn not_an_entry_sheet() -> ServiceError {
    bad(
        "the file is not an entry sheet of kaohe (.xlsx with its hidden `ids` sheet): download the section's entry.xlsx and fill that",
    )
}

/// A worksheet as a grid from A1 (empty leading rows and columns kept).
fn grid(range: &Range<Data>) -> Grid {
    let (r0, c0) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
    let mut out: Vec<Vec<Data>> = vec![Vec::new(); r0];
    for line in range.rows() {
        let mut cells = vec![Data::Empty; c0];
        cells.extend(line.iter().cloned());
        out.push(cells);
    }
    out
}

fn text_of(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(true) => "是".into(),
        Data::Bool(false) => "否".into(),
        other => other.to_string(),
    }
}

fn at(grid: &[Vec<Data>], r: usize, c: usize) -> &Data {
    grid.get(r).and_then(|l| l.get(c)).unwrap_or(&Data::Empty)
}

/// The workbook read: the visible sheet's name and grid, the ids grid.
/// Cells of a worksheet, from A1.
type Grid = Vec<Vec<Data>>;

fn read_book(content: &[u8]) -> Result<(String, Grid, Grid), ServiceError> {
    if !content.starts_with(b"PK\x03\x04") {
        return Err(not_an_entry_sheet());
    }
    let unreadable = |e: &dyn std::fmt::Display| bad(format!("the .xlsx file does not read: {e}"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(content)).map_err(|e| unreadable(&e))?;
    let names = book.sheet_names();
    let visible = names.iter().find(|n| n.as_str() != sheet::IDS_SHEET).cloned().ok_or_else(not_an_entry_sheet)?;
    if !names.iter().any(|n| n == sheet::IDS_SHEET) {
        return Err(not_an_entry_sheet());
    }
    let ids = book.worksheet_range(sheet::IDS_SHEET).map_err(|e| unreadable(&e))?;
    let data = book.worksheet_range(&visible).map_err(|e| unreadable(&e))?;
    if ids.height() > MAX_UNITS + 2 || data.height() > MAX_UNITS + 1 {
        return Err(bad(format!("an entry sheet takes at most {MAX_UNITS} units")));
    }
    Ok((visible, grid(&data), grid(&ids)))
}

/// A cell's value as the fact, or why not (the message names the fact).
fn parse_fact(rubric: &Rubric, c: &Column, d: &Data, facts: &mut Facts) -> Result<(), String> {
    let text = text_of(d);
    let number = || -> Result<Decimal, String> {
        match d {
            Data::Float(f) => {
                f.to_string().parse::<Decimal>().map_err(|_| format!("{} must be a number", c.fact.word()))
            }
            Data::Int(i) => Ok(Decimal::from(*i)),
            _ => text.parse::<Decimal>().map_err(|_| format!("{} must be a number (got `{text}`)", c.fact.word())),
        }
    };
    match c.fact {
        Fact::Count => {
            let n = number()?;
            if n.fract() != Decimal::ZERO {
                return Err(format!("{} must be a whole number (got {n})", c.fact.word()));
            }
            facts.count = Some(i64::try_from(n).map_err(|_| format!("{} is too large", c.fact.word()))?);
        }
        Fact::Value => facts.value = Some(number()?),
        Fact::Target => facts.target = Some(number()?),
        Fact::Baseline => facts.baseline = Some(number()?),
        Fact::Points => facts.points = Some(number()?),
        Fact::Amount => facts.amount = Some(number()?),
        Fact::Flag => {
            facts.flag = Some(match text.as_str() {
                "是" | "true" | "TRUE" | "1" => true,
                "否" | "false" | "FALSE" | "0" => false,
                _ => return Err(format!("{} must be one of 是, 否", c.fact.word())),
            })
        }
        Fact::Level => {
            let levels = levels_of(rubric, &c.rule_code);
            let Some((key, _)) = levels.iter().find(|(k, l)| *l == text || *k == text) else {
                let labels: Vec<&str> = levels.iter().map(|(_, l)| l.as_str()).collect();
                return Err(format!("{} must be one of {}", c.fact.word(), labels.join(", ")));
            };
            facts.level = Some(key.clone());
        }
        Fact::Grade => {
            let Some((g, _)) = GRADES.iter().find(|(_, l)| *l == text) else {
                let labels: Vec<&str> = GRADES.iter().map(|(_, l)| *l).collect();
                return Err(format!("{} must be one of {}", c.fact.word(), labels.join(", ")));
            };
            facts.grade = Some(*g);
        }
    }
    Ok(())
}

/// Clears the sheet's facts of a rule (the columns it shows), keeping the rest.
fn clear(facts: &mut Facts, cols: &[&Column]) {
    for c in cols {
        match c.fact {
            Fact::Count => facts.count = None,
            Fact::Value => facts.value = None,
            Fact::Target => facts.target = None,
            Fact::Baseline => facts.baseline = None,
            Fact::Flag => facts.flag = None,
            Fact::Level => facts.level = None,
            Fact::Grade => facts.grade = None,
            Fact::Points => facts.points = None,
            Fact::Amount => facts.amount = None,
        }
    }
}

fn draft_of(facts: Facts, note: Option<String>) -> ObservationDraft {
    ObservationDraft {
        facts,
        work_key: None,
        halve: None,
        document_date: None,
        note,
        evidence: Vec::new(),
        evidence_ids: Vec::new(),
    }
}

/// The draft a change records: a correction keeps the old row's context
/// (work key, halving, document date, note), as `correctObservation` does
/// when they are not sent.
fn draft_for(change_facts: Facts, old: Option<&observation::Model>) -> ObservationDraft {
    let mut d = draft_of(change_facts, old.and_then(|o| o.note.clone()));
    if let Some(o) = old {
        d.work_key = o.work_key.clone();
        d.halve = o.halve.clone();
        d.document_date = o.document_date;
    }
    d
}

/// Reads a filled entry sheet and plans it against the run's observations;
/// stores the plan as a preview. The sheet's structure (its ids, its run,
/// its section, its units) must be the run's: anything else is
/// BAD_USER_INPUT as a whole; values are checked cell by cell.
pub async fn preview(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
    filename: &str,
    content: &[u8],
) -> Result<Preview, ServiceError> {
    let (run, _) = visible_run(db, caller, run_id).await?;
    // A published run or a submitted section takes no entry: say so before
    // planning cells that could never be applied.
    ensure_open(&run)?;
    let (sheet_name, data, ids) = read_book(content)?;
    // The hidden sheet: marker, format, run, run version, section.
    let head = |c: usize| text_of(at(&ids, 0, c));
    if head(0) != MARKER || head(1) != FORMAT {
        return Err(not_an_entry_sheet());
    }
    if row_of("ScoreRun", &head(2)) != Some(run.id) {
        return Err(bad("the sheet is for another score run: download this run's entry sheet"));
    }
    head(3).parse::<i32>().map_err(|_| not_an_entry_sheet())?;
    let section_code = head(4);
    let section = section_row(db, run.rubric_version_id, &section_code)
        .await
        .map_err(|_| bad("the sheet's section is not a section of the run's rubric version"))?;
    ensure_section_open(db, &run, &section.code).await?;
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    let rules = Rules::of_version(db, run.rubric_version_id).await?;
    // Columns: each a fact of a rule of this section.
    let mut cols: Vec<Column> = Vec::new();
    let width = ids.get(1).map_or(0, Vec::len);
    for c in 2..width {
        let spec = text_of(at(&ids, 1, c));
        let foreign = || bad(format!("ids!{}: not a rule of this section", cell_ref(1, c)));
        let (gid, key) = spec.split_once(' ').ok_or_else(foreign)?;
        let rule_id = row_of("Rule", gid).ok_or_else(foreign)?;
        let rule = rules.by_id.get(&rule_id).ok_or_else(foreign)?;
        let fact = Fact::of_key(key).ok_or_else(foreign)?;
        let kind = rubric.rule(&rule.code).map(|r| &r.kind).ok_or_else(foreign)?;
        if section_of_rule(&rubric, &rule.code)? != section.code || !facts_of_rule(kind).contains(&fact) {
            return Err(foreign());
        }
        if cols.iter().any(|x| x.rule_id == rule_id && x.fact == fact) {
            return Err(foreign());
        }
        cols.push(Column { rule_code: rule.code.clone(), rule_id, fact });
    }
    if cols.is_empty() {
        return Err(not_an_entry_sheet());
    }
    // Units: each assessed by the run, once.
    let assessed: HashSet<i64> = score_run_unit::Entity::find()
        .filter(score_run_unit::Column::ScoreRunId.eq(run.id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.unit_id)
        .collect();
    let mut units: Vec<(usize, i64)> = Vec::new();
    for r in 2..ids.len() {
        let text = text_of(at(&ids, r, 0));
        if text.is_empty() {
            continue;
        }
        let foreign = || bad(format!("ids!{}: not a unit this run assesses", cell_ref(r, 0)));
        let unit_id = row_of("Unit", &text).ok_or_else(foreign)?;
        if !assessed.contains(&unit_id) || units.iter().any(|(_, u)| *u == unit_id) {
            return Err(foreign());
        }
        // Hidden row r holds the ids of visible row r - 1.
        units.push((r - 1, unit_id));
    }
    let unit_ids: Vec<i64> = units.iter().map(|(_, u)| *u).collect();
    let mut rule_ids: Vec<i64> = cols.iter().map(|c| c.rule_id).collect();
    rule_ids.dedup();
    let now = current(db, run.id, &unit_ids, &rule_ids).await?;
    let codes: HashMap<i64, String> = {
        let mut m = HashMap::new();
        for chunk in unit_ids.chunks(500) {
            for u in unit::Entity::find().filter(unit::Column::Id.is_in(chunk.to_vec())).all(db).await? {
                m.insert(u.id, u.code);
            }
        }
        m
    };

    let mut plan = Plan { sheet: sheet_name.clone(), section: section.code.clone(), ..Plan::default() };
    let err = |cell: String, message: String| CellError { sheet: sheet_name.clone(), cell, message };
    // The rules of the sheet, each with its columns (by index), in order.
    let mut groups: Vec<(String, i64, Vec<usize>)> = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        match groups.iter_mut().find(|(_, id, _)| *id == c.rule_id) {
            Some(g) => g.2.push(i),
            None => groups.push((c.rule_code.clone(), c.rule_id, vec![i])),
        }
    }
    let allowed: HashMap<i64, bool> = groups
        .iter()
        .map(|(code, id, _)| (*id, policy::may_score(caller, run.organisation_id, &rubric, code, "record").is_ok()))
        .collect();
    // The visible sheet must line up with the hidden one: a moved, sorted or
    // inserted row or column would put values on another unit or rule.
    for (i, c) in cols.iter().enumerate() {
        if text_of(at(&data, 0, i + 2)).split_whitespace().next() != Some(c.rule_code.as_str()) {
            let m = format!(
                "this column is rule {} in the sheet's ids: do not move, insert or delete columns",
                c.rule_code
            );
            plan.errors.push(err(cell_ref(0, i + 2), m));
        }
    }
    let aligned = plan.errors.is_empty();
    let unit_rows: HashSet<usize> = units.iter().map(|(r, _)| *r).collect();
    for (r, line) in data.iter().enumerate().skip(1) {
        if unit_rows.contains(&r) {
            continue;
        }
        if let Some(c) = (2..line.len()).find(|&c| !text_of(at(&data, r, c)).is_empty()) {
            let m = "this row is not a unit of the sheet: do not add, move or sort rows".to_string();
            plan.errors.push(err(cell_ref(r, c), m));
        }
    }
    for &(row, unit_id) in units.iter().filter(|_| aligned) {
        let code_here = text_of(at(&data, row, 1));
        let code = codes.get(&unit_id).cloned().unwrap_or_default();
        if code_here != code {
            let m = format!("this row is unit {code} in the sheet's ids: do not sort, insert or delete rows");
            plan.errors.push(err(cell_ref(row, 1), m));
            continue;
        }
        for (code, rule_id, idx) in &groups {
            let first = cell_ref(row, idx[0] + 2);
            let list = now.get(&(unit_id, *rule_id));
            plan.seen.push((unit_id, *rule_id, list.map(|l| l.iter().map(|o| o.id).collect()).unwrap_or_default()));
            let marker = text_of(at(&ids, row + 1, idx[0] + 2));
            let filled = idx.iter().any(|&i| !text_of(at(&data, row, i + 2)).is_empty());
            let there = editable(list);
            // Was the sheet made from what is there now?
            let same_as_sheet = match (&there, marker.as_str()) {
                (Editable::None, "") => true,
                (Editable::Locked, LOCKED) => true,
                (Editable::One(o), m) => row_of("Observation", m) == Some(o.id),
                _ => false,
            };
            if let Editable::Locked = there {
                if filled || !same_as_sheet {
                    let m = format!(
                        "rule {code} has several observations for this unit (or one carried from an earlier period): change them in the app, not in the sheet"
                    );
                    plan.errors.push(err(first, m));
                }
                continue;
            }
            let old = match there {
                Editable::One(o) => Some(o),
                _ => None,
            };
            let before = old.map(|o| super::facts_of(&o.facts)).transpose()?;
            if !filled && old.is_none() {
                continue;
            }
            // The facts the cells say, over the old row's other facts.
            let mut facts = before.clone().unwrap_or_default();
            let group_cols: Vec<&Column> = idx.iter().map(|&i| &cols[i]).collect();
            clear(&mut facts, &group_cols);
            let mut cell_errors = false;
            if filled {
                for &i in idx {
                    let d = at(&data, row, i + 2);
                    if text_of(d).is_empty() {
                        continue;
                    }
                    if let Err(m) = parse_fact(&rubric, &cols[i], d, &mut facts) {
                        plan.errors.push(err(cell_ref(row, i + 2), m));
                        cell_errors = true;
                    }
                }
            }
            if cell_errors {
                continue;
            }
            let action = match (old, filled) {
                (None, _) => Action::Record,
                (Some(_), false) => Action::Withdraw,
                (Some(_), true) if Some(&facts) == before.as_ref() => Action::Unchanged,
                (Some(_), true) => Action::Correct,
            };
            if action != Action::Unchanged && !same_as_sheet {
                let m = format!(
                    "rule {code}: the unit's observation changed since the sheet was downloaded; download it again"
                );
                plan.errors.push(err(first, m));
                continue;
            }
            if action != Action::Unchanged && !allowed.get(rule_id).copied().unwrap_or(false) {
                plan.errors.push(err(first, format!("rule {code}: {}", ServiceError::Forbidden)));
                continue;
            }
            if matches!(action, Action::Record | Action::Correct)
                && let Err((_, e)) = check_item(&rubric, code, &draft_for(facts.clone(), old))
            {
                plan.errors.push(err(first, e.to_string()));
                continue;
            }
            plan.changes.push(Change {
                cell: first,
                unit_id,
                rule_code: code.clone(),
                action,
                observation_id: old.map(|o| o.id),
                observation_version: old.map(|o| o.version),
                facts: (action != Action::Withdraw).then_some(facts),
                before,
            });
        }
    }
    // Each unit's observations with the sheet's, as scoring will take them.
    let period = period_of(&run)?;
    let without: Vec<i64> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Correct | Action::Withdraw))
        .filter_map(|c| c.observation_id)
        .collect();
    let new = new_drafts(&plan.changes, &now);
    for (index, _, e) in check_units(db, &rubric, period, &run, &rules, &without, &new).await? {
        let cell = plan.changes.get(index).map(|c| c.cell.clone()).unwrap_or_default();
        plan.errors.push(err(cell, e.public_message()));
    }
    plan.totals = totals(db, &rubric, &run, &section.code, &unit_ids, &codes, &plan.changes).await?;
    plan.errors.sort_by_key(|e| sort_key(&e.cell));
    let text = serde_json::to_string(&plan).map_err(ServiceError::internal)?;
    let filename: String = filename.chars().filter(|c| !c.is_control()).take(120).collect();
    let created = Utc::now();
    let row = entry_sheet::ActiveModel {
        organisation_id: Set(run.organisation_id),
        score_run_id: Set(run.id),
        // What it was planned against: the run as it is now (the sheet's own
        // version only has to read; its cells are checked one by one).
        run_version: Set(run.version),
        section_code: Set(section.code.clone()),
        sha256: Set(crate::unit::import::sha256_hex(content)),
        filename: Set(filename),
        plan: Set(text),
        created_by: Set(caller.user_id()),
        created_at: Set(created),
        expires_at: Set(created + Duration::hours(EXPIRES_AFTER_HOURS)),
        applied_at: Set(None),
        ..Default::default()
    };
    // One row of the caller's own: its organisation's turn, no audit entry
    // (nothing of the run changes until it is applied).
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    // Expired previews that were never applied are of no use to anyone; an
    // applied one stays, as the audit entry names it.
    entry_sheet::Entity::delete_many()
        .filter(entry_sheet::Column::ScoreRunId.eq(run.id))
        .filter(entry_sheet::Column::AppliedAt.is_null())
        .filter(entry_sheet::Column::ExpiresAt.lt(created))
        .exec(&txn)
        .await?;
    let sheet_row = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(Preview { sheet: sheet_row, plan })
}

/// Orders cell references by row, then column (`C7` before `B10`).
fn sort_key(cell: &str) -> (usize, usize, String) {
    let letters: String = cell.chars().take_while(char::is_ascii_uppercase).collect();
    let row = cell[letters.len()..].parse().unwrap_or(0);
    (row, letters.len(), letters)
}

/// The engine observations a plan adds (records and corrections), keyed
/// `item-<index of the change>`; a correction keeps its old row's context.
fn new_drafts(
    changes: &[Change],
    now: &HashMap<(i64, i64), Vec<observation::Model>>,
) -> Vec<(usize, i64, Observation)> {
    let by_id: HashMap<i64, &observation::Model> = now.values().flatten().map(|o| (o.id, o)).collect();
    let old_of = |id: Option<i64>| id.and_then(|id| by_id.get(&id).copied());
    changes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.action, Action::Record | Action::Correct))
        .filter_map(|(i, c)| {
            let facts = c.facts.clone()?;
            let d = draft_for(facts, old_of(c.observation_id));
            Some((i, c.unit_id, engine_draft(&format!("item-{i}"), &c.rule_code, &d)))
        })
        .collect()
}

/// Each unit's section score with its observations now and with the plan
/// applied (the engine, on the would-be observations).
async fn totals(
    db: &DatabaseConnection,
    rubric: &Rubric,
    run: &score_run::Model,
    section: &str,
    units: &[i64],
    codes: &HashMap<i64, String>,
    changes: &[Change],
) -> Result<Vec<UnitTotal>, ServiceError> {
    let rules = Rules::of_version(db, run.rubric_version_id).await?;
    let period = period_of(run)?;
    let mut per_unit: HashMap<i64, Vec<observation::Model>> = HashMap::new();
    for chunk in units.chunks(500) {
        let rows = observation::Entity::find()
            .filter(observation::Column::ScoreRunId.eq(run.id))
            .filter(observation::Column::Status.eq(ObservationStatus::Active))
            .filter(observation::Column::UnitId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        for o in rows {
            per_unit.entry(o.unit_id).or_default().push(o);
        }
    }
    let gone: HashSet<i64> = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Correct | Action::Withdraw))
        .filter_map(|c| c.observation_id)
        .collect();
    let mut before = Vec::with_capacity(units.len());
    let mut after = Vec::with_capacity(units.len());
    for &u in units {
        let mut list = per_unit.remove(&u).unwrap_or_default();
        list.sort_by_key(|o| o.id);
        let mut engine = Vec::with_capacity(list.len());
        let mut kept = Vec::with_capacity(list.len());
        for o in &list {
            let mut e = super::engine_observation(o, rules.code_of(o.rule_id)?, Vec::new())?;
            e.carried_from = super::carry::carried_period(db, o).await?;
            if !gone.contains(&o.id) {
                kept.push(e.clone());
            }
            engine.push(e);
        }
        for (i, c) in changes.iter().enumerate() {
            if c.unit_id != u {
                continue;
            }
            if let (Action::Record | Action::Correct, Some(f)) = (c.action, &c.facts) {
                let old = c.observation_id.and_then(|id| list.iter().find(|o| o.id == id));
                kept.push(engine_draft(&format!("item-{i}"), &c.rule_code, &draft_for(f.clone(), old)));
            }
        }
        let name = u.to_string();
        before.push(UnitObservations { unit: name.clone(), observations: engine });
        after.push(UnitObservations { unit: name, observations: kept });
    }
    let score = |sets: &[UnitObservations]| -> Result<Vec<Decimal>, ServiceError> {
        let scored = kaohe_engine::score_units(rubric, period, sets)?;
        Ok(scored
            .iter()
            .map(|t| t.sections.iter().find(|s| s.code == section).map(|s| s.score).unwrap_or_default())
            .collect())
    };
    let b = score(&before)?;
    // A plan with errors may not score (the errors say why): totals stay as they are.
    let a = score(&after).unwrap_or_else(|_| b.clone());
    Ok(units
        .iter()
        .zip(b.into_iter().zip(a))
        .map(|(&u, (before, after))| UnitTotal {
            unit_id: u,
            unit_code: codes.get(&u).cloned().unwrap_or_default(),
            before,
            after,
        })
        .collect())
}

fn conflict(m: &str) -> ServiceError {
    ServiceError::Conflict(m.into())
}

/// Applies a preview in one transaction, all or nothing, with one audit
/// entry (`score_run.entry_sheet`) carrying the file's SHA-256. CONFLICT
/// when the run's version is not `expected_run_version` or moved since the
/// preview, when an observation of the sheet changed since, or when the
/// preview was applied already (it bumps the run's version); BAD_USER_INPUT
/// when the preview has errors. Only the caller who made the preview may
/// apply it (another caller: NOT_FOUND).
pub async fn apply(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    preview_id: i64,
    expected_run_version: i32,
) -> Result<Applied, ServiceError> {
    policy::signed_in(caller)?;
    // Only the caller's own previews are looked up at all (another's is missing).
    let mine = caller.user_id().ok_or_else(|| ServiceError::not_found("entry sheet"))?;
    let stored = entry_sheet::Entity::find_by_id(preview_id)
        .filter(entry_sheet::Column::CreatedBy.eq(mine))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("entry sheet"))?;
    let (run, _) = visible_run(db, caller, stored.score_run_id).await.map_err(|e| e.hidden_as("entry sheet"))?;
    let plan: Plan = serde_json::from_str(&stored.plan).map_err(ServiceError::internal)?;
    let rubric = crate::rubric::rebuild::rubric_of_version(db, caller, run.rubric_version_id).await?;
    // Every change authorized as the single mutations authorize it.
    let mut authorized = None;
    for c in plan.changes.iter().filter(|c| c.action != Action::Unchanged) {
        let act = if c.action == Action::Record { "record" } else { "correct" };
        authorized = Some(policy::may_score(caller, run.organisation_id, &rubric, &c.rule_code, act)?);
    }
    ensure_open(&run)?;
    if stored.applied_at.is_some() {
        return Err(conflict("this entry sheet was applied already; download the sheet again for further changes"));
    }
    if stored.expires_at < Utc::now() {
        return Err(conflict("this preview has expired; preview the sheet again"));
    }
    if !plan.errors.is_empty() {
        let lines: Vec<String> = plan.errors.iter().take(50).map(ToString::to_string).collect();
        return Err(bad(format!("the sheet has errors, nothing was applied: {}", lines.join("; "))));
    }
    if run.version != expected_run_version || run.version != stored.run_version {
        return Err(conflict(
            "the score run changed since this preview (its version moved); download the sheet again and preview it",
        ));
    }
    let rules = Rules::of_version(db, run.rubric_version_id).await?;
    let moving: Vec<&Change> = plan.changes.iter().filter(|c| c.action != Action::Unchanged).collect();
    let mut applied = Applied { run: run.clone(), recorded: 0, corrected: 0, withdrawn: 0, observations: Vec::new() };
    if moving.is_empty() || authorized.is_none() {
        return Ok(applied);
    }
    for c in &moving {
        if let Some(f) = &c.facts {
            check_item(&rubric, &c.rule_code, &draft_of(f.clone(), None)).map_err(|(_, e)| e)?;
        }
    }
    let period = period_of(&run)?;
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    let run = run_by_id(&txn, run.id).await?;
    ensure_open(&run)?;
    ensure_section_open(&txn, &run, &plan.section).await?;
    // The run, and every (unit, rule) of the sheet, as the preview saw them.
    let bumped = score_run::Entity::update_many()
        .col_expr(score_run::Column::Version, Expr::col(score_run::Column::Version).add(1))
        .filter(score_run::Column::Id.eq(run.id))
        .filter(score_run::Column::Version.eq(expected_run_version))
        .exec(&txn)
        .await?;
    if bumped.rows_affected != 1 {
        return Err(conflict("the score run changed since this preview (its version moved); preview the sheet again"));
    }
    let mut units: Vec<i64> = plan.seen.iter().map(|(u, _, _)| *u).collect();
    units.sort_unstable();
    units.dedup();
    let mut rule_ids: Vec<i64> = plan.seen.iter().map(|(_, r, _)| *r).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let now = current(&txn, run.id, &units, &rule_ids).await?;
    for (u, r, ids) in &plan.seen {
        let there: Vec<i64> = now.get(&(*u, *r)).map(|l| l.iter().map(|o| o.id).collect()).unwrap_or_default();
        if &there != ids {
            return Err(conflict(
                "observations of this sheet changed since the preview; download the sheet again and preview it",
            ));
        }
    }
    let without: Vec<i64> = moving
        .iter()
        .filter(|c| matches!(c.action, Action::Correct | Action::Withdraw))
        .filter_map(|c| c.observation_id)
        .collect();
    let new = new_drafts(&plan.changes, &now);
    if let Some((_, _, e)) = check_units(&txn, &rubric, period, &run, &rules, &without, &new).await?.into_iter().next()
    {
        return Err(e);
    }
    let by_id: HashMap<i64, &observation::Model> = now.values().flatten().map(|o| (o.id, o)).collect();
    let old_of = |id: Option<i64>| id.and_then(|id| by_id.get(&id).copied());
    // In sheet order: (position, its audit line, the row written).
    let mut done: Vec<(usize, serde_json::Value, Option<observation::Model>)> = Vec::with_capacity(moving.len());
    // New rows (a sheet carries no evidence) go in batches: one statement each.
    let mut records: Vec<(usize, &Change, ObservationDraft)> = Vec::new();
    for (at, c) in moving.iter().enumerate() {
        let old = old_of(c.observation_id);
        match (c.action, old, &c.facts) {
            (Action::Record, None, Some(f)) => records.push((at, c, draft_for(f.clone(), None))),
            (Action::Correct, Some(o), Some(f)) => {
                retire(&txn, o.id, o.version, ObservationStatus::Superseded).await?;
                let d = draft_for(f.clone(), Some(o));
                let facts = serde_json::to_string(&d.facts).map_err(ServiceError::internal)?;
                let row = insert(&txn, caller, &run, o.unit_id, o.rule_id, facts, &d, Some(o)).await?;
                evidence::copy_links(&txn, Linked::Observation(o.id), row.id).await?;
                let line = json!({ "cell": c.cell, "action": "correct", "unit": c.unit_id, "rule": c.rule_code, "observation": row.id, "supersedes": o.id, "before": c.before, "facts": d.facts });
                done.push((at, line, Some(row)));
                applied.corrected += 1;
            }
            (Action::Withdraw, Some(o), _) => {
                retire(&txn, o.id, o.version, ObservationStatus::Withdrawn).await?;
                let line = json!({ "cell": c.cell, "action": "withdraw", "unit": c.unit_id, "rule": c.rule_code, "observation": o.id, "before": c.before });
                done.push((at, line, None));
                applied.withdrawn += 1;
            }
            _ => {
                return Err(conflict(
                    "observations of this sheet changed since the preview; download the sheet again and preview it",
                ));
            }
        }
    }
    for chunk in records.chunks(RECORD_BATCH) {
        let mut rows = Vec::with_capacity(chunk.len());
        for (_, c, d) in chunk {
            let rule = rules.by_code(&c.rule_code)?;
            let facts = serde_json::to_string(&d.facts).map_err(ServiceError::internal)?;
            rows.push(new_row(caller, &run, c.unit_id, rule.id, facts, d, None));
        }
        // A sheet has one change per (unit, rule): that pair finds each row.
        let mut written: HashMap<(i64, i64), observation::Model> = observation::Entity::insert_many(rows)
            .exec_with_returning(&txn)
            .await?
            .into_iter()
            .map(|o| ((o.unit_id, o.rule_id), o))
            .collect();
        for (at, c, d) in chunk {
            let rule = rules.by_code(&c.rule_code)?;
            let row = written
                .remove(&(c.unit_id, rule.id))
                .ok_or_else(|| ServiceError::Internal("a batch of new observations answered fewer rows".into()))?;
            let line = json!({ "cell": c.cell, "action": "record", "unit": c.unit_id, "rule": c.rule_code, "observation": row.id, "facts": d.facts });
            done.push((*at, line, Some(row)));
            applied.recorded += 1;
        }
    }
    done.sort_by_key(|(at, _, _)| *at);
    let touched: Vec<serde_json::Value> = done.iter().map(|(_, line, _)| line.clone()).collect();
    applied.observations = done.into_iter().filter_map(|(_, _, row)| row).collect();
    let marked = entry_sheet::Entity::update_many()
        .col_expr(entry_sheet::Column::AppliedAt, Expr::value(Utc::now()))
        .filter(entry_sheet::Column::Id.eq(stored.id))
        .filter(entry_sheet::Column::AppliedAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(conflict("this entry sheet was applied already; download the sheet again for further changes"));
    }
    let after = run_by_id(&txn, run.id).await?;
    audit::record_scoped(
        &txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(run.organisation_id),
            action: "score_run.entry_sheet",
            entity: "score_run",
            entity_id: Some(run.id.to_string()),
            before: Some(json!({ "version": run.version })),
            after: Some(json!({
                "version": after.version,
                "entry_sheet": stored.id,
                "sha256": stored.sha256,
                "filename": stored.filename,
                "section": plan.section,
                "recorded": applied.recorded,
                "corrected": applied.corrected,
                "withdrawn": applied.withdrawn,
                "changes": touched,
            })),
        },
        Scope { score_run_id: Some(run.id), unit_id: None },
    )
    .await?;
    txn.commit().await?;
    applied.run = after;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_run_past_z() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(2), "C");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(cell_ref(6, 2), "C7");
    }

    #[test]
    fn cells_sort_by_row_then_column() {
        let mut cells = vec!["B10", "C7", "AA7", "D2"];
        cells.sort_by_key(|c| sort_key(c));
        assert_eq!(cells, ["D2", "C7", "AA7", "B10"]);
    }
}
