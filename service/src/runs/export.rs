//! A run's results and ranking as a 月讲评 report (CSV or .xlsx), via kaohe-report:
//! one row per unit, one column per section, Chinese headers.

use entity::states::RunStatus;
use sea_orm::DatabaseConnection;

use super::results::{self, UnitResult};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::policy::RunReader;

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(ext: &str) -> Option<Format> {
        match ext {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// The figure a section column shows: its weighted part for a base section,
/// bonus − penalty for an adjustment section.
fn figure(s: &results::SectionResult) -> rust_decimal::Decimal {
    if s.role == "base" { s.weighted } else { s.bonus - s.penalty }
}

/// Builds the report of a run (stored results once published, live while open).
pub async fn report(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
) -> Result<kaohe_report::Report, ServiceError> {
    let (run, reader) = super::visible_run(db, caller, run_id).await?;
    // The report lists every unit: staff and integrations (published runs), not units.
    if let RunReader::Unit(_) = reader {
        return Err(ServiceError::Forbidden);
    }
    let outcomes: Vec<UnitResult> = results::of_loaded_run(db, caller, &run).await?;
    let columns: Vec<kaohe_report::Column> = outcomes
        .first()
        .map(|o| {
            o.sections.iter().map(|s| kaohe_report::Column { code: s.code.clone(), title: s.title.clone() }).collect()
        })
        .unwrap_or_default();
    let rows = outcomes
        .iter()
        .map(|o| kaohe_report::Row {
            rank: o.rank,
            unit: o.unit_name.clone(),
            sections: columns
                .iter()
                .map(|c| o.sections.iter().find(|s| s.code == c.code).map(figure).unwrap_or_default())
                .collect(),
            bonus: o.bonus,
            penalty: o.penalty,
            final_score: o.final_score,
        })
        .collect();
    let status = match run.status {
        RunStatus::Published => "已发布",
        RunStatus::Superseded => "已修订",
        RunStatus::Open => "未发布",
    };
    Ok(kaohe_report::Report {
        title: format!("{} {} 第{}版 ({status})", run.title, run.period, run.revision),
        columns,
        rows,
    })
}

/// The report's bytes and a file name.
pub async fn export(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
    format: Format,
) -> Result<(Vec<u8>, String), ServiceError> {
    let r = report(db, caller, run_id).await?;
    let bytes = match format {
        Format::Csv => r.to_csv(),
        Format::Xlsx => r.to_xlsx(),
    }
    .map_err(ServiceError::internal)?;
    Ok((bytes, format!("run-{run_id}.{}", format.extension())))
}
