//! Units in bulk (批量导入被考核单位) from a sheet: a CSV file (UTF-8, a BOM
//! allowed) or an `.xlsx` workbook (its first sheet, read with calamine),
//! with a header row naming the columns `code`, `name`, `kind` and `parent
//! code` (or 单位代码, 单位名称, 单位类型, 上级单位代码), in any order.
//!
//! `preview` reads the sheet, checks every row (row number, column, why) and
//! plans it against the organisation's units: each row adds a unit, changes
//! one (its name or its parent), or leaves it as it is. The sheet is kept
//! (`unit_import`) so that `apply` can take the preview's id with the
//! file's SHA-256, or the same file again with its SHA-256. `apply` plans
//! again against the units as they are then, inside its one transaction, and
//! refuses the whole sheet if any row is wrong; each unit added or changed
//! gets its `unit_history` row and audit entry, as `createUnit`,
//! `renameUnit` and `moveUnit` would write them. Applying the same sheet a
//! second time finds every row unchanged and writes nothing.
//!
//! An import never deactivates, deletes or re-kinds a unit: a row whose kind
//! differs from the unit's is an error.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use chrono::Utc;
use entity::{unit, unit_import};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::admin::{self, Change};
use crate::audit::{self, ChainKey, Entry};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::policy;

/// Most data rows one sheet may have.
pub const MAX_ROWS: usize = 5_000;

/// One data row of a sheet, as read (values trimmed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetRow {
    /// The row's number in the sheet (the header is row 1).
    pub row: usize,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
}

/// What is wrong with one row (or the header, row 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    /// The column, as the sheet's header names it (`code`, `parent code`, …); none for the whole row.
    pub column: Option<String>,
    pub message: String,
}

/// What applying a row does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Add,
    Change,
    Unchanged,
}

/// One row with what applying it does, and what it changes (`name: 旧 → 新`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRow {
    pub sheet: SheetRow,
    pub action: Action,
    pub changes: Vec<String>,
}

/// A sheet planned against the organisation's units.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub rows: Vec<PlannedRow>,
    pub errors: Vec<RowError>,
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.rows.iter().filter(|r| r.action == action).count()
    }
}

/// A stored preview and its plan.
pub struct Preview {
    pub import: unit_import::Model,
    pub plan: Plan,
}

/// What an apply did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// The units added or changed, in sheet order.
    pub units: Vec<unit::Model>,
}

/// Where `apply` takes the sheet from.
pub enum Source {
    /// A preview's id (`previewUnitImport`).
    Preview(i64),
    /// The file itself, again.
    File { filename: String, content: Vec<u8> },
}

/// The SHA-256 of a file's bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads a sheet and plans it; stores it as a preview (admin only).
pub async fn preview(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    filename: &str,
    content: &[u8],
) -> Result<Preview, ServiceError> {
    policy::signed_in(caller)?;
    let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
    policy::may_administer_units(caller, org)?;
    let (rows, mut errors) = read_sheet(content)?;
    let mut plan = plan(db, org, &rows).await?;
    errors.append(&mut plan.errors);
    errors.sort_by_key(|e| e.row);
    plan.errors = errors;
    let sha256 = sha256_hex(content);
    let filename: String = filename.chars().filter(|c| !c.is_control()).take(120).collect();
    let text = serde_json::to_string(&rows).map_err(ServiceError::internal)?;
    let txn = crate::db::begin_write(db).await?;
    let import = unit_import::ActiveModel {
        organisation_id: Set(org),
        sha256: Set(sha256.clone()),
        filename: Set(filename.clone()),
        plan: Set(text),
        created_by: Set(caller.user_id()),
        created_at: Set(Utc::now()),
        applied_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after = json!({
        "sha256": sha256, "filename": filename, "rows": rows.len(), "errors": plan.errors.len(),
        "add": plan.count(Action::Add), "change": plan.count(Action::Change),
    });
    let entry = Entry {
        organisation_id: Some(org),
        action: "unit_import.preview",
        entity: "unit_import",
        entity_id: Some(import.id.to_string()),
        before: None,
        after: Some(after),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok(Preview { import, plan })
}

/// Applies a sheet in one transaction (admin only). `sha256` must be the
/// file's: for a preview, the one it was made from. Any row in error
/// refuses the whole sheet (BAD_USER_INPUT listing every row).
pub async fn apply(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    source: Source,
    sha256: &str,
) -> Result<Applied, ServiceError> {
    policy::signed_in(caller)?;
    let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
    policy::may_administer_units(caller, org)?;
    let sha256 = sha256.trim().to_ascii_lowercase();
    let (rows, preview_id, filename) = match source {
        Source::Preview(id) => {
            let p = unit_import::Entity::find_by_id(id)
                .filter(unit_import::Column::OrganisationId.eq(org))
                .one(db)
                .await?
                .ok_or_else(|| ServiceError::not_found("unit import"))?;
            if p.sha256 != sha256 {
                return Err(ServiceError::BadUserInput(format!(
                    "`sha256` is not the previewed file's ({}); preview the file you mean to apply",
                    p.sha256
                )));
            }
            let rows: Vec<SheetRow> = serde_json::from_str(&p.plan).map_err(ServiceError::internal)?;
            (rows, Some(p.id), p.filename)
        }
        Source::File { filename, content } => {
            let actual = sha256_hex(&content);
            if actual != sha256 {
                return Err(ServiceError::BadUserInput(format!(
                    "`sha256` does not match the file sent (its SHA-256 is {actual})"
                )));
            }
            let (rows, errors) = read_sheet(&content)?;
            if !errors.is_empty() {
                return Err(refusal(&errors));
            }
            (rows, None, filename)
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let plan = plan(&txn, org, &rows).await?;
    if !plan.errors.is_empty() {
        return Err(refusal(&plan.errors));
    }
    let mut applied = Applied { unchanged: plan.count(Action::Unchanged), ..Applied::default() };
    if plan.count(Action::Add) + plan.count(Action::Change) == 0 {
        // Nothing to do: nothing is written, not even the audit entry.
        return Ok(applied);
    }
    let mut by_code: HashMap<String, unit::Model> = unit::Entity::find()
        .filter(unit::Column::OrganisationId.eq(org))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    // Parents first: a row waits until the unit it names exists.
    let mut pending: Vec<&PlannedRow> = plan.rows.iter().filter(|r| r.action != Action::Unchanged).collect();
    let mut done: Vec<(usize, unit::Model)> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut waiting = Vec::new();
        for r in pending {
            let parent = match &r.sheet.parent_code {
                None => None,
                Some(p) => match by_code.get(p) {
                    Some(u) => Some(u.id),
                    None => {
                        waiting.push(r);
                        continue;
                    }
                },
            };
            let row = match r.action {
                Action::Add => add(&txn, chain_key, caller, org, &r.sheet, parent).await?,
                _ => {
                    let existing = by_code.get(&r.sheet.code).cloned().ok_or_else(|| stale(&r.sheet.code))?;
                    change(&txn, chain_key, caller, existing, &r.sheet, parent).await?
                }
            };
            match r.action {
                Action::Add => applied.added += 1,
                _ => applied.changed += 1,
            }
            by_code.insert(row.code.clone(), row.clone());
            done.push((r.sheet.row, row));
        }
        if waiting.len() == before {
            // The plan found every parent: only a concurrent change gets here.
            return Err(stale(&waiting[0].sheet.code));
        }
        pending = waiting;
    }
    done.sort_by_key(|(row, _)| *row);
    applied.units = done.into_iter().map(|(_, u)| u).collect();
    if let Some(id) = preview_id {
        unit_import::Entity::update_many()
            .col_expr(unit_import::Column::AppliedAt, Expr::value(Utc::now()))
            .filter(unit_import::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    let after = json!({
        "sha256": sha256, "filename": filename, "preview": preview_id,
        "added": applied.added, "changed": applied.changed, "unchanged": applied.unchanged,
    });
    let entry = Entry {
        organisation_id: Some(org),
        action: "unit_import.apply",
        entity: "unit_import",
        entity_id: preview_id.map(|p| p.to_string()),
        before: None,
        after: Some(after),
    };
    audit::record(&txn, chain_key, caller, entry).await?;
    txn.commit().await?;
    Ok(applied)
}

fn stale(code: &str) -> ServiceError {
    ServiceError::Conflict(format!("unit {code} was changed while the sheet was applied; preview it again"))
}

fn refusal(errors: &[RowError]) -> ServiceError {
    let lines: Vec<String> = errors.iter().take(50).map(describe).collect();
    let more = if errors.len() > 50 { format!(" (and {} more)", errors.len() - 50) } else { String::new() };
    ServiceError::BadUserInput(format!("the sheet has errors, nothing was imported: {}{more}", lines.join("; ")))
}

/// `row 3, column parent code: …`
pub fn describe(e: &RowError) -> String {
    match &e.column {
        Some(c) => format!("row {}, column {c}: {}", e.row, e.message),
        None => format!("row {}: {}", e.row, e.message),
    }
}

async fn add<C: ConnectionTrait>(
    txn: &C,
    chain_key: &ChainKey,
    caller: &Caller,
    org: i64,
    r: &SheetRow,
    parent_id: Option<i64>,
) -> Result<unit::Model, ServiceError> {
    let now = Utc::now();
    let row = unit::ActiveModel {
        organisation_id: Set(org),
        parent_id: Set(parent_id),
        code: Set(r.code.clone()),
        name: Set(r.name.clone()),
        kind: Set(r.kind.clone()),
        attributes: Set("{}".into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    admin::record(txn, chain_key, caller, Change::Created, None, &row, None).await?;
    Ok(row)
}

async fn change<C: ConnectionTrait>(
    txn: &C,
    chain_key: &ChainKey,
    caller: &Caller,
    before: unit::Model,
    r: &SheetRow,
    parent_id: Option<i64>,
) -> Result<unit::Model, ServiceError> {
    let updated = unit::Entity::update_many()
        .col_expr(unit::Column::Name, Expr::value(r.name.clone()))
        .col_expr(unit::Column::ParentId, Expr::value(parent_id))
        .col_expr(unit::Column::Version, Expr::col(unit::Column::Version).add(1))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::Id.eq(before.id))
        .filter(unit::Column::Version.eq(before.version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale(&before.code));
    }
    let after = unit::Entity::find_by_id(before.id).one(txn).await?.ok_or_else(|| stale(&before.code))?;
    let reason = Some("批量导入");
    if after.name != before.name {
        admin::record(txn, chain_key, caller, Change::Renamed, Some(&before), &after, reason).await?;
    }
    if after.parent_id != before.parent_id {
        admin::record(txn, chain_key, caller, Change::Moved, Some(&before), &after, reason).await?;
    }
    Ok(after)
}

/// Plans rows against the organisation's units as they are now.
pub async fn plan<C: ConnectionTrait>(conn: &C, org: i64, rows: &[SheetRow]) -> Result<Plan, ServiceError> {
    let units = unit::Entity::find().filter(unit::Column::OrganisationId.eq(org)).all(conn).await?;
    let by_code: HashMap<&str, &unit::Model> = units.iter().map(|u| (u.code.as_str(), u)).collect();
    let by_id: HashMap<i64, &unit::Model> = units.iter().map(|u| (u.id, u)).collect();
    let in_sheet: HashSet<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let mut plan = Plan::default();
    let err = |row: usize, column: Option<&str>, message: String| RowError {
        row,
        column: column.map(str::to_string),
        message,
    };
    for r in rows {
        let mut bad = false;
        if let Some(p) = &r.parent_code {
            if p == &r.code {
                plan.errors.push(err(r.row, Some("parent code"), "a unit cannot be its own parent".into()));
                bad = true;
            } else if let Some(u) = by_code.get(p.as_str()) {
                if !u.active && !in_sheet.contains(p.as_str()) {
                    let m = format!("the parent unit {p} ({}) is deactivated", u.name);
                    plan.errors.push(err(r.row, Some("parent code"), m));
                    bad = true;
                }
            } else if !in_sheet.contains(p.as_str()) {
                let m = format!("no unit with code `{p}` in this organisation or in the sheet");
                plan.errors.push(err(r.row, Some("parent code"), m));
                bad = true;
            }
        }
        let Some(existing) = by_code.get(r.code.as_str()) else {
            if !bad {
                plan.rows.push(PlannedRow { sheet: r.clone(), action: Action::Add, changes: Vec::new() });
            }
            continue;
        };
        if existing.kind != r.kind {
            let m = format!(
                "unit {} is of kind `{}`; an import does not change a unit's kind (got `{}`)",
                r.code, existing.kind, r.kind
            );
            plan.errors.push(err(r.row, Some("kind"), m));
            bad = true;
        }
        if bad {
            continue;
        }
        let mut changes = Vec::new();
        if existing.name != r.name {
            changes.push(format!("name: {} → {}", existing.name, r.name));
        }
        let parent_now = existing.parent_id.and_then(|p| by_id.get(&p)).map(|p| p.code.as_str());
        if parent_now != r.parent_code.as_deref() {
            changes.push(format!(
                "parent code: {} → {}",
                parent_now.unwrap_or("(none)"),
                r.parent_code.as_deref().unwrap_or("(none)")
            ));
        }
        let action = if changes.is_empty() { Action::Unchanged } else { Action::Change };
        plan.rows.push(PlannedRow { sheet: r.clone(), action, changes });
    }
    // Cycles: follow each row's parents as they would be after the import.
    let mut parent_of: HashMap<&str, Option<&str>> = units
        .iter()
        .map(|u| (u.code.as_str(), u.parent_id.and_then(|p| by_id.get(&p)).map(|p| p.code.as_str())))
        .collect();
    for r in rows {
        parent_of.insert(r.code.as_str(), r.parent_code.as_deref());
    }
    let mut cyclic = Vec::new();
    for r in &plan.rows {
        let mut at = r.sheet.parent_code.as_deref();
        for _ in 0..=parent_of.len() {
            match at {
                None => break,
                Some(c) if c == r.sheet.code => {
                    cyclic.push(r.sheet.row);
                    break;
                }
                Some(c) => at = parent_of.get(c).copied().flatten(),
            }
        }
    }
    for row in &cyclic {
        let m = "the parents form a cycle (a unit would sit under itself)".to_string();
        plan.errors.push(err(*row, Some("parent code"), m));
    }
    plan.rows.retain(|r| !cyclic.contains(&r.sheet.row));
    plan.errors.sort_by_key(|e| e.row);
    Ok(plan)
}

/// The columns a sheet has, by the header names accepted for each.
const COLUMNS: [(&str, &[&str]); 4] = [
    ("code", &["code", "unit code", "单位代码", "代码", "编码"]),
    ("name", &["name", "unit name", "单位名称", "名称"]),
    ("kind", &["kind", "type", "unit kind", "单位类型", "类型"]),
    ("parent code", &["parent code", "parent_code", "parent", "上级单位代码", "上级代码"]),
];

/// Reads a sheet's rows: an `.xlsx` workbook (by its bytes: a zip) or CSV
/// text. Answers the rows that read well and the errors of the others; a
/// file that is neither is BAD_USER_INPUT.
pub fn read_sheet(content: &[u8]) -> Result<(Vec<SheetRow>, Vec<RowError>), ServiceError> {
    let cells = if content.starts_with(b"PK\x03\x04") { xlsx_cells(content)? } else { csv_cells(content)? };
    let mut lines = cells.into_iter();
    let Some(header) = lines.next() else {
        return Err(ServiceError::BadUserInput("the sheet is empty: it needs a header row".into()));
    };
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().to_lowercase();
        if let Some((col, _)) = COLUMNS.iter().find(|(_, names)| names.contains(&h.as_str())) {
            at.entry(col).or_insert(i);
        }
    }
    let mut errors = Vec::new();
    for col in ["code", "name", "kind"] {
        if !at.contains_key(col) {
            errors.push(RowError {
                row: 1,
                column: Some(col.into()),
                message: format!("the header row has no `{col}` column"),
            });
        }
    }
    if !errors.is_empty() {
        return Ok((Vec::new(), errors));
    }
    let get = |line: &[String], col: &str| at.get(col).and_then(|&i| line.get(i)).map(|s| s.trim().to_string());
    let mut rows: Vec<SheetRow> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, line) in lines.enumerate() {
        let row = i + 2;
        if line.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            return Err(ServiceError::BadUserInput(format!("a sheet takes at most {MAX_ROWS} rows")));
        }
        let mut bad = |column: &str, e: ServiceError| {
            errors.push(RowError { row, column: Some(column.into()), message: e.to_string() });
        };
        let code = admin::check_code(&get(&line, "code").unwrap_or_default()).map_err(|e| bad("code", e)).ok();
        let name = admin::check_name(&get(&line, "name").unwrap_or_default()).map_err(|e| bad("name", e)).ok();
        let kind = admin::check_kind(&get(&line, "kind").unwrap_or_default()).map_err(|e| bad("kind", e)).ok();
        let parent_code = match get(&line, "parent code").filter(|p| !p.is_empty()) {
            None => Some(None),
            Some(p) => admin::check_code(&p).map(Some).map_err(|e| bad("parent code", e)).ok(),
        };
        let (Some(code), Some(name), Some(kind), Some(parent_code)) = (code, name, kind, parent_code) else {
            continue;
        };
        if let Some(first) = seen.get(&code) {
            errors.push(RowError {
                row,
                column: Some("code".into()),
                message: format!("code `{code}` is already on row {first}"),
            });
            continue;
        }
        seen.insert(code.clone(), row);
        rows.push(SheetRow { row, code, name, kind, parent_code });
    }
    Ok((rows, errors))
}

fn csv_cells(content: &[u8]) -> Result<Vec<Vec<String>>, ServiceError> {
    let text = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    if std::str::from_utf8(text).is_err() {
        return Err(ServiceError::BadUserInput(
            "the file is neither an .xlsx workbook nor UTF-8 CSV text (save it as CSV UTF-8 or .xlsx)".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ServiceError::BadUserInput(format!("the CSV file does not read: {e}")))?;
        out.push(record.iter().map(str::to_string).collect());
        if out.len() > MAX_ROWS + 1 {
            return Err(ServiceError::BadUserInput(format!("a sheet takes at most {MAX_ROWS} rows")));
        }
    }
    Ok(out)
}

fn xlsx_cells(content: &[u8]) -> Result<Vec<Vec<String>>, ServiceError> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable =
        |e: &dyn std::fmt::Display| ServiceError::BadUserInput(format!("the .xlsx file does not read: {e}"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(content)).map_err(|e| unreadable(&e))?;
    let range =
        book.worksheet_range_at(0).ok_or_else(|| unreadable(&"it has no sheet"))?.map_err(|e| unreadable(&e))?;
    if range.height() > MAX_ROWS + 1 {
        return Err(ServiceError::BadUserInput(format!("a sheet takes at most {MAX_ROWS} rows")));
    }
    // Rows before the range's start (empty leading rows) keep their numbers.
    let (first_row, first_col) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
    let mut out: Vec<Vec<String>> = vec![Vec::new(); first_row];
    for line in range.rows() {
        let mut cells = vec![String::new(); first_col];
        cells.extend(line.iter().map(|c| match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            // A code typed as a number (1001) reads as 1001, not 1001.0.
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            other => other.to_string(),
        }));
        out.push(cells);
    }
    // A sheet whose first rows are empty: the header is the first non-empty one.
    while out.first().is_some_and(|r| r.iter().all(String::is_empty)) && !out.is_empty() {
        if out.len() == 1 {
            break;
        }
        out.remove(0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_read_with_errors_by_row_and_column() {
        let text = "\u{feff}单位代码,单位名称,单位类型,上级单位代码\nck-a,甲学校,school,\nck b,乙学校,school,\n,丙,School,ck-a\nck-a,重复,school,\n";
        let (rows, errors) = read_sheet(text.as_bytes()).unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0],
            SheetRow {
                row: 2, code: "ck-a".into(), name: "甲学校".into(), kind: "school".into(), parent_code: None
            }
        );
        let at: Vec<(usize, Option<&str>)> = errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
        assert_eq!(at, [(3, Some("code")), (4, Some("code")), (4, Some("kind")), (5, Some("code"))]);
    }

    #[test]
    fn a_header_without_a_column_is_an_error_of_row_1() {
        let (rows, errors) = read_sheet(b"code,name\na,b\n").unwrap_or_default();
        assert!(rows.is_empty());
        assert_eq!(errors[0].row, 1);
        assert_eq!(errors[0].column.as_deref(), Some("kind"));
        assert!(read_sheet(&[0xff, 0xfe, 0x00]).is_err(), "not UTF-8");
    }
}
