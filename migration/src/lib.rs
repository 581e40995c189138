//! Database migrations of kaohe, in order. They never import the `entity`
//! crate: each migration describes its tables as they were when written.
//!
//! The same migrations run on SQLite and PostgreSQL. The one difference is
//! the type of exact-decimal columns (points, caps, scores): `TEXT` on SQLite
//! (whose NUMERIC affinity would turn `0.1` into a float), unconstrained
//! `NUMERIC` on PostgreSQL. See `entity::Exact`.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_tenancy;
mod m20261123_000002_rubrics;
mod m20261123_000003_runs;
mod m20261123_000004_audit;
mod m20261123_000005_run_lifecycle;
mod m20261123_000010_auth;
mod m20261123_000020_evidence_uploads;
mod m20261123_000030_rubric_drafts;
mod m20261123_000040_unit_history;
mod m20261202_000050_sessions;
mod m20261202_000055_idempotency;
mod m20261202_000060_audit_chain;
mod m20261202_000070_accounts;
mod m20261202_000080_operations;
pub mod m20261202_000090_states;
pub mod m20261202_000095_roles;
mod m20261202_000100_dataentry;
mod m20261202_000110_performance;
mod m20261202_000120_entry_sheets;
mod m20261202_000130_pulse;
mod m20261202_000140_unit_pages;
pub mod schema;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_tenancy::Migration),
            Box::new(m20261123_000002_rubrics::Migration),
            Box::new(m20261123_000003_runs::Migration),
            Box::new(m20261123_000004_audit::Migration),
            Box::new(m20261123_000005_run_lifecycle::Migration),
            Box::new(m20261123_000010_auth::Migration),
            Box::new(m20261123_000020_evidence_uploads::Migration),
            Box::new(m20261123_000030_rubric_drafts::Migration),
            Box::new(m20261123_000040_unit_history::Migration),
            Box::new(m20261202_000050_sessions::Migration),
            Box::new(m20261202_000055_idempotency::Migration),
            Box::new(m20261202_000060_audit_chain::Migration),
            Box::new(m20261202_000070_accounts::Migration),
            Box::new(m20261202_000080_operations::Migration),
            Box::new(m20261202_000090_states::Migration),
            Box::new(m20261202_000095_roles::Migration),
            Box::new(m20261202_000100_dataentry::Migration),
            Box::new(m20261202_000110_performance::Migration),
            Box::new(m20261202_000120_entry_sheets::Migration),
            Box::new(m20261202_000130_pulse::Migration),
            Box::new(m20261202_000140_unit_pages::Migration),
        ]
    }
}
