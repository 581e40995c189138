//! The database holds every stored state to its list (the types of
//! `entity::states`, and the engine's rule kinds): a CHECK constraint on
//! PostgreSQL; on SQLite, which cannot add one to an existing table, a pair
//! of triggers refusing any other value on insert and on update.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column, allowed values). The lists as they were when written: a
/// new state needs a new migration.
pub const STATES: [(&str, &str, &[&str]); 8] = [
    ("score_run", "status", &["open", "published", "superseded"]),
    ("score_run", "period_kind", &["year", "month"]),
    ("observation", "status", &["active", "superseded", "withdrawn"]),
    ("claim", "status", &["pending", "approved", "rejected"]),
    ("section_submission", "status", &["open", "submitted"]),
    ("rubric_version", "status", &["draft", "published", "retired"]),
    ("indicator", "role", &["base", "adjust"]),
    (
        "rule",
        "kind",
        &[
            "per_count",
            "shortfall",
            "shortfall_baseline",
            "flag",
            "by_level",
            "award",
            "range",
            "rating",
            "direct",
            "bracket",
            "per_amount",
            "veto",
        ],
    ),
];

fn name(table: &str, column: &str) -> String {
    format!("ck_{table}_{column}")
}

fn list(values: &[&str]) -> String {
    values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
}

/// Holds each (table, column) of `states` to its list of values.
pub async fn add_checks(m: &SchemaManager<'_>, states: &[(&str, &str, &[&str])]) -> Result<(), DbErr> {
    let db = m.get_connection();
    for (table, column, values) in states {
        let (ck, allowed) = (name(table, column), list(values));
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&format!("ALTER TABLE {table} ADD CONSTRAINT {ck} CHECK ({column} IN ({allowed}))"))
                .await?;
        } else {
            for (when, on) in [("insert", "INSERT"), ("update", &*format!("UPDATE OF {column}"))] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {ck}_{when} BEFORE {on} ON {table} \
                     WHEN NEW.{column} NOT IN ({allowed}) \
                     BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {ck}'); END"
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Undoes [`add_checks`].
pub async fn drop_checks(m: &SchemaManager<'_>, states: &[(&str, &str, &[&str])]) -> Result<(), DbErr> {
    let db = m.get_connection();
    for (table, column, _) in states {
        let ck = name(table, column);
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {ck}")).await?;
        } else {
            for when in ["insert", "update"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {ck}_{when}")).await?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_checks(m, &STATES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m, &STATES).await
    }
}
