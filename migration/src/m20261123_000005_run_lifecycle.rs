//! What the score-run lifecycle needs beyond the first schema: an observation's
//! halving reason (折半), a run's idempotency key, and the run and unit an
//! audit entry concerns (so the log can be queried by run and unit).
//!
//! SQLite adds one column per `ALTER TABLE`, without a foreign key: the new
//! columns are plain, nullable, and indexed where they are filtered on.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [(&str, &str, bool); 5] = [
    ("observation", "halve", false),
    ("score_run", "idempotency_key", false),
    ("claim", "idempotency_key", false),
    ("audit_log", "score_run_id", true),
    ("audit_log", "unit_id", true),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, col, big) in COLUMNS {
            let def = if big { big_null(col) } else { text_null(col) };
            m.alter_table(Table::alter().table(table).add_column(def).to_owned()).await?;
        }
        m.create_index(index("score_run", &["organisation_id", "idempotency_key"], true)).await?;
        m.create_index(index("claim", &["score_run_id", "idempotency_key"], true)).await?;
        m.create_index(index("audit_log", &["score_run_id"], false)).await?;
        m.create_index(index("audit_log", &["unit_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("audit_log", "ix_audit_log_unit_id"),
            ("audit_log", "ix_audit_log_score_run_id"),
            ("claim", "ux_claim_score_run_id_idempotency_key"),
            ("score_run", "ux_score_run_organisation_id_idempotency_key"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        for (table, col, _) in COLUMNS.iter().rev() {
            m.alter_table(Table::alter().table(*table).drop_column(*col).to_owned()).await?;
        }
        Ok(())
    }
}
