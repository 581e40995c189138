//! CSV and xlsx exports: headers, figures, and formula injection defused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use calamine::{Data, Reader, Xlsx};
use kaohe_report::{Column, Report, Row};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn report() -> Report {
    Report {
        title: "许昌 2026-03 月讲评".into(),
        columns: vec![
            Column { code: "1".into(), title: "日常工作考核".into() },
            Column { code: "2".into(), title: "重点任务考核".into() },
        ],
        rows: vec![
            Row {
                rank: 1,
                unit: "魏都区".into(),
                sections: vec![d("23"), d("62")],
                bonus: d("4"),
                penalty: d("0.5"),
                final_score: d("88.5"),
            },
            Row {
                rank: 2,
                unit: "=HYPERLINK(\"http://x\")".into(),
                sections: vec![d("20"), d("2") / d("3")],
                bonus: d("0"),
                penalty: d("0"),
                final_score: d("20") + d("2") / d("3"),
            },
        ],
    }
}

#[test]
fn csv_has_chinese_headers_rounded_figures_and_no_formulas() {
    let bytes = report().to_csv().unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "排名,被考核单位,1 日常工作考核,2 重点任务考核,加分,减分,最终得分");
    assert_eq!(lines[1], "1,魏都区,23.00,62.00,4.00,0.50,88.50");
    assert!(lines[2].starts_with("2,\"'=HYPERLINK("), "{}", lines[2]);
    assert!(lines[2].ends_with(",20.00,0.67,0.00,0.00,20.67"), "{}", lines[2]);
}

#[test]
fn xlsx_is_a_real_workbook_with_typed_cells() {
    let bytes = report().to_xlsx().unwrap();
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("排名").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("许昌 2026-03 月讲评".into())));
    assert_eq!(range.get_value((1, 2)), Some(&Data::String("1 日常工作考核".into())));
    assert_eq!(range.get_value((2, 1)), Some(&Data::String("魏都区".into())));
    assert_eq!(range.get_value((2, 6)), Some(&Data::Float(88.5)));
    // The hostile name is a plain string cell, not a formula.
    assert_eq!(range.get_value((3, 1)), Some(&Data::String("=HYPERLINK(\"http://x\")".into())));
    let formulas = book.worksheet_formula("排名").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
}

#[test]
fn a_row_of_the_wrong_shape_is_refused() {
    let mut r = report();
    r.rows[0].sections.pop();
    assert!(r.to_csv().unwrap_err().to_string().contains("魏都区"));
}
