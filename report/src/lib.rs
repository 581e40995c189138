//! kaohe-report: a run's results and ranking as CSV and as a real `.xlsx`,
//! one row per unit, one column per section, Chinese headers (月讲评 export).
//!
//! Unit names and titles are user input: a cell whose text starts with `=`,
//! `+`, `-`, `@`, a tab, a carriage return or a NUL would be a formula to Excel
//! and WPS, so CSV cells get a leading `'` (OWASP ASVS 5.0 1.2.10) and xlsx
//! cells are written as typed strings. Figures are rounded for display only.

pub mod entry;

use kaohe_engine::num::display;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// A section column: its code and title, e.g. `1` 日常工作考核.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub code: String,
    pub title: String,
}

/// One unit's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub rank: u32,
    pub unit: String,
    /// One figure per section column, in column order (weighted contribution for
    /// base sections, bonus − penalty for adjustment sections).
    pub sections: Vec<Decimal>,
    pub bonus: Decimal,
    pub penalty: Decimal,
    pub final_score: Decimal,
}

/// A run's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// e.g. 许昌市 2026-03 建设教育强市考核.
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("row for {unit} has {got} section figures, the report has {want} columns")]
    Shape { unit: String, got: usize, want: usize },
}

impl Report {
    /// Header cells: 排名, 被考核单位, each section, 加分, 减分, 最终得分.
    pub fn headers(&self) -> Vec<String> {
        let mut h = vec!["排名".to_string(), "被考核单位".to_string()];
        h.extend(self.columns.iter().map(|c| format!("{} {}", c.code, c.title)));
        h.extend(["加分", "减分", "最终得分"].map(String::from));
        h
    }

    fn check(&self) -> Result<(), ReportError> {
        for r in &self.rows {
            if r.sections.len() != self.columns.len() {
                return Err(ReportError::Shape {
                    unit: r.unit.clone(),
                    got: r.sections.len(),
                    want: self.columns.len(),
                });
            }
        }
        Ok(())
    }

    fn figures(row: &Row) -> Vec<Decimal> {
        let mut f: Vec<Decimal> = row.sections.to_vec();
        f.extend([row.bonus, row.penalty, row.final_score]);
        f.into_iter().map(display).collect()
    }

    /// UTF-8 CSV with a byte-order mark (so Excel and WPS read the Chinese).
    pub fn to_csv(&self) -> Result<Vec<u8>, ReportError> {
        self.check()?;
        let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        w.write_record(self.headers().iter().map(|h| safe_text(h)))?;
        for row in &self.rows {
            let mut rec = vec![row.rank.to_string(), safe_text(&row.unit)];
            rec.extend(Self::figures(row).iter().map(|d| format!("{d:.2}")));
            w.write_record(&rec)?;
        }
        w.into_inner().map_err(|e| ReportError::Csv(e.into_error().into()))
    }

    /// A real `.xlsx` workbook: a title line, the header row, one row per unit.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, ReportError> {
        use rust_xlsxwriter::{Format, Workbook};
        self.check()?;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("排名")?;
        let bold = Format::new().set_bold();
        let number = Format::new().set_num_format("0.00");
        sheet.write_string_with_format(0, 0, &self.title, &bold)?;
        for (c, h) in self.headers().iter().enumerate() {
            sheet.write_string_with_format(1, col(c), h, &bold)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let r = u32::try_from(i + 2).unwrap_or(u32::MAX);
            sheet.write_number(r, 0, f64::from(row.rank))?;
            // A typed string cell is never evaluated as a formula.
            sheet.write_string(r, 1, &row.unit)?;
            for (c, d) in Self::figures(row).iter().enumerate() {
                sheet.write_number_with_format(r, col(c + 2), d.to_f64().unwrap_or_default(), &number)?;
            }
        }
        sheet.set_column_width(1, 24)?;
        Ok(book.save_to_buffer()?)
    }
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Defuses text Excel would read as a formula.
pub fn safe_text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0') => format!("'{s}"),
        _ => s.to_string(),
    }
}
