//! The pulse (issue 18): PostgreSQL tells every instance what changed, so a
//! request need not ask (`kaohe_service::auth::pulse`). On `kaohe_pulse`:
//! - `a <organisation id or -> <1 shared | 0 own> <audit id>` for every
//!   audit entry (every write appends one in its own transaction, so the
//!   notification leaves at its commit and never for a rolled-back write);
//! - `s` when a user, session, service credential or organisation row is
//!   changed or removed (deactivations, ended sessions, revocations, roles).
//!
//! SQLite: nothing (one process owns the file and asks instead).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables whose changed rows change what a kept caller row says.
const SUBJECT_TABLES: [&str; 4] = ["app_user", "user_session", "service_credential", "organisation"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION kaohe_pulse_entry() RETURNS trigger AS $$ BEGIN \
             PERFORM pg_notify('kaohe_pulse', 'a ' || COALESCE(NEW.organisation_id::text, '-') || ' ' || \
             CASE WHEN NEW.shared_data THEN '1' ELSE '0' END || ' ' || NEW.id::text); \
             RETURN NULL; END $$ LANGUAGE plpgsql",
        )
        .await?;
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION kaohe_pulse_subject() RETURNS trigger AS $$ BEGIN \
             PERFORM pg_notify('kaohe_pulse', 's'); RETURN NULL; END $$ LANGUAGE plpgsql",
        )
        .await?;
        db.execute_unprepared("DROP TRIGGER IF EXISTS kaohe_pulse_entry ON audit_log").await?;
        db.execute_unprepared(
            "CREATE TRIGGER kaohe_pulse_entry AFTER INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION kaohe_pulse_entry()",
        )
        .await?;
        for table in SUBJECT_TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS kaohe_pulse_subject ON {table}")).await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER kaohe_pulse_subject AFTER UPDATE OR DELETE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION kaohe_pulse_subject()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared("DROP TRIGGER IF EXISTS kaohe_pulse_entry ON audit_log").await?;
        for table in SUBJECT_TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS kaohe_pulse_subject ON {table}")).await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS kaohe_pulse_entry()").await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS kaohe_pulse_subject()").await?;
        Ok(())
    }
}
