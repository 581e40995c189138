//! The demo organisations (城口县教委, 许昌市委教育工作领导小组), their departments
//! and units, from the embedded `seed/demo.toml`. Idempotent: only what is
//! missing is inserted, inside one transaction.

use chrono::Utc;
use entity::{department, organisation, unit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Set,
};
use serde::Deserialize;

const DEMO: &str = include_str!("../seed/demo.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    organisation: Vec<OrganisationSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationSeed {
    code: String,
    name: String,
    #[serde(default)]
    departments: Vec<String>,
    #[serde(default)]
    unit: Vec<UnitSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitSeed {
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    attributes: toml::Table,
}

/// What seeding added (zero everywhere on a restart).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub organisations: usize,
    pub departments: usize,
    pub units: usize,
}

/// Inserts the demo organisations, departments and units that are missing.
pub async fn seed_demo(db: &DatabaseConnection) -> Result<SeedReport, DbErr> {
    let file: SeedFile = toml::from_str(DEMO).map_err(|e| DbErr::Custom(format!("seed/demo.toml: {e}")))?;
    let now = Utc::now();
    let mut report = SeedReport::default();
    let txn = crate::db::begin_write(db).await?;
    for org in &file.organisation {
        let existing = organisation::Entity::find().filter(organisation::Column::Code.eq(&org.code)).one(&txn).await?;
        let org_row = match existing {
            Some(o) => o,
            None => {
                report.organisations += 1;
                organisation::ActiveModel {
                    code: Set(org.code.clone()),
                    name: Set(org.name.clone()),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
            }
        };
        for name in &org.departments {
            // Counted and inserted without reading rows back: the seed also
            // runs on databases migrated only part of the way (tests of
            // upgrades), whose department table lacks later columns.
            let found = department::Entity::find()
                .filter(department::Column::OrganisationId.eq(org_row.id))
                .filter(department::Column::Name.eq(name))
                .select_only()
                .column(department::Column::Id)
                .count(&txn)
                .await?;
            if found == 0 {
                report.departments += 1;
                let row = department::ActiveModel {
                    organisation_id: Set(org_row.id),
                    name: Set(name.clone()),
                    created_at: Set(now),
                    ..Default::default()
                };
                department::Entity::insert(row).exec_without_returning(&txn).await?;
            }
        }
        for u in &org.unit {
            let found = unit::Entity::find()
                .filter(unit::Column::OrganisationId.eq(org_row.id))
                .filter(unit::Column::Code.eq(&u.code))
                .one(&txn)
                .await?;
            if found.is_none() {
                report.units += 1;
                let attributes = serde_json::to_string(&u.attributes)
                    .map_err(|e| DbErr::Custom(format!("seed unit {}: {e}", u.code)))?;
                unit::ActiveModel {
                    organisation_id: Set(org_row.id),
                    parent_id: Set(None),
                    code: Set(u.code.clone()),
                    name: Set(u.name.clone()),
                    kind: Set(u.kind.clone()),
                    attributes: Set(attributes),
                    active: Set(true),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_file_parses() {
        let f: SeedFile = toml::from_str(DEMO).unwrap_or_else(|e| panic!("{e}"));
        let codes: Vec<&str> = f.organisation.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes, ["chengkou", "xuchang"]);
        assert_eq!(f.organisation[1].departments.len(), 10);
        assert_eq!(f.organisation[1].unit.len(), 10);
    }
}
