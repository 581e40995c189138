//! A month's entry sheet (录入表) for one section of a run: a row per unit, a
//! column per fact of each rule the caller may score, current values filled
//! in, and a hidden sheet of ids that `previewEntrySheet` reads back. Every
//! text cell is a typed string (never a formula); choices are Excel list
//! validations, numbers decimal validations. Pure: bytes out.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, DataValidationRule, Format, Note, Workbook};

use crate::ReportError;

/// Name of the hidden sheet of ids.
pub const IDS_SHEET: &str = "ids";

/// What a column takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Takes {
    /// One of these labels (levels, 是/否, grades).
    Choice(Vec<String>),
    /// A number, optionally bounded.
    Number { min: Option<Decimal>, max: Option<Decimal> },
}

/// One column: a rule's fact.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryColumn {
    /// The header cell (the rule code, plus the fact for a rule's second column).
    pub header: String,
    /// The header's comment: the clause text and what to enter (unit of measure).
    pub note: String,
    /// A one-line prompt shown when a cell of the column is selected.
    pub prompt: String,
    pub takes: Takes,
}

/// One cell's current value.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryValue {
    Empty,
    Text(String),
    Number(Decimal),
}

/// One unit's row.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub unit_name: String,
    pub unit_code: String,
    /// One value per column, in column order.
    pub values: Vec<EntryValue>,
}

/// The whole workbook.
#[derive(Debug, Clone, PartialEq)]
pub struct EntrySheet {
    /// The visible sheet's name (≤ 31 characters, none of `[]:*?/\`).
    pub sheet_name: String,
    pub columns: Vec<EntryColumn>,
    pub rows: Vec<EntryRow>,
    /// The hidden sheet's cells, row by row (ids, versions).
    pub ids: Vec<Vec<String>>,
}

fn cell(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// An Excel sheet name made safe: forbidden characters replaced, ≤ 31 characters.
pub fn sheet_name(s: &str) -> String {
    let clean: String =
        s.chars().map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { '_' } else { c }).collect();
    let trimmed: String = clean.trim_matches('\'').chars().take(31).collect();
    if trimmed.trim().is_empty() || trimmed == IDS_SHEET { "录入".to_string() } else { trimmed }
}

impl EntrySheet {
    /// The workbook's bytes.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, ReportError> {
        for r in &self.rows {
            if r.values.len() != self.columns.len() {
                return Err(ReportError::Shape {
                    unit: r.unit_name.clone(),
                    got: r.values.len(),
                    want: self.columns.len(),
                });
            }
        }
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&self.sheet_name))?;
        sheet.write_string_with_format(0, 0, "被考核单位", &bold)?;
        sheet.write_string_with_format(0, 1, "单位代码", &bold)?;
        let last = cell(self.rows.len().max(1));
        for (c, column) in self.columns.iter().enumerate() {
            let at = col(c + 2);
            sheet.write_string_with_format(0, at, &column.header, &bold)?;
            sheet.insert_note(0, at, &Note::new(&column.note).set_width(360).set_height(200))?;
            let mut v = match &column.takes {
                // Excel caps a list at 255 characters, and a comma inside a
                // label would split it: those are left to the prompt (the
                // server checks the value either way).
                Takes::Choice(labels) if labels.iter().any(|l| l.contains(',')) => {
                    DataValidation::new().allow_any_value()
                }
                Takes::Choice(labels) => match DataValidation::new().allow_list_strings(labels) {
                    Ok(v) => v,
                    Err(_) => DataValidation::new().allow_any_value(),
                },
                Takes::Number { min, max } => {
                    let lo = min.and_then(|d| d.to_f64()).unwrap_or(-1e12);
                    let hi = max.and_then(|d| d.to_f64()).unwrap_or(1e12);
                    DataValidation::new().allow_decimal_number(DataValidationRule::Between(lo, hi))
                }
            };
            v = v.set_error_style(DataValidationErrorStyle::Stop);
            let prompt: String = column.prompt.chars().take(250).collect();
            if !prompt.is_empty() {
                v = v.set_input_message(prompt)?;
            }
            sheet.add_data_validation(1, at, last, at, &v)?;
            sheet.set_column_width(at, 12)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let r = cell(i + 1);
            sheet.write_string(r, 0, &row.unit_name)?;
            sheet.write_string(r, 1, &row.unit_code)?;
            for (c, value) in row.values.iter().enumerate() {
                match value {
                    EntryValue::Empty => {}
                    EntryValue::Text(t) => {
                        sheet.write_string(r, col(c + 2), t)?;
                    }
                    EntryValue::Number(d) => {
                        sheet.write_number(r, col(c + 2), d.to_f64().unwrap_or_default())?;
                    }
                }
            }
        }
        sheet.set_column_width(0, 24)?;
        sheet.set_freeze_panes(1, 2)?;
        let ids = book.add_worksheet();
        ids.set_name(IDS_SHEET)?;
        for (r, line) in self.ids.iter().enumerate() {
            for (c, text) in line.iter().enumerate() {
                if !text.is_empty() {
                    ids.write_string(cell(r), col(c), text)?;
                }
            }
        }
        ids.set_hidden(true);
        Ok(book.save_to_buffer()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_safe_for_excel() {
        assert_eq!(sheet_name("2 重点任务考核"), "2 重点任务考核");
        assert_eq!(sheet_name("a/b[c]:d*e?f\\g"), "a_b_c__d_e_f_g");
        assert_eq!(sheet_name("ids"), "录入", "never the hidden sheet's name");
        assert_eq!(sheet_name(&"长".repeat(40)).chars().count(), 31);
    }

    #[test]
    fn a_sheet_is_written_with_its_hidden_ids_and_a_row_of_the_wrong_shape_is_refused() {
        let column = EntryColumn {
            header: "3-①".into(),
            note: "现场会".into(),
            prompt: "等级".into(),
            takes: Takes::Choice(vec!["市级".into(), "省部级".into(), "a,b".into()]),
        };
        let row = |values| EntryRow { unit_name: "=cmd".into(), unit_code: "u1".into(), values };
        let mut book = EntrySheet {
            sheet_name: "3 加减分项目".into(),
            columns: vec![column],
            rows: vec![row(vec![EntryValue::Text("市级".into())])],
            ids: vec![vec!["kaohe-entry-sheet".into(), "1".into()]],
        };
        let bytes = book.to_xlsx().unwrap_or_default();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        book.rows.push(row(Vec::new()));
        assert!(matches!(book.to_xlsx(), Err(ReportError::Shape { got: 0, want: 1, .. })));
    }
}
