//! The keyed, per-organisation audit chain and its anchors.
//!
//! - `audit_log.chain_version`: how an entry is sealed. 1 (every row written
//!   before this migration): plain SHA-256 over its fields and the previous
//!   entry's hash, one chain over the whole log. 2: HMAC-SHA256 under a key
//!   kept outside the database, each organisation its own chain.
//! - The unique `prev_hash` becomes unique per chain (per organisation; the
//!   entries of no organisation count as organisation 0): a keyed entry may
//!   link to an old entry that an old entry of another organisation links to
//!   as well.
//! - `(organisation_id, id)`: reading one chain in order, and its newest entry.
//! - `audit_anchor`: the head of a chain as a publication saw it, so that
//!   removing the newest entries shows. No foreign keys: the anchored entry
//!   is exactly what may go missing.
//!
//! `down` restores what the code before relies on (one unique `prev_hash`
//! over the whole log) and keeps the column and the anchors: that code
//! ignores them, and without them entries sealed with the key would read as
//! old ones, and fail, once this migration is applied again. `up` therefore
//! adds each only if missing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CHAIN_PREV_INDEX: &str = "ux_audit_log_chain_prev_hash";
const OLD_PREV_INDEX: &str = "ux_audit_log_prev_hash";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on SQLite too (its DDL is transactional): a half-done
    /// step would leave the log without its unique index.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("audit_log", "chain_version").await? {
            m.alter_table(Table::alter().table("audit_log").add_column(int_default("chain_version", 1)).to_owned())
                .await?;
        }
        m.drop_index(Index::drop().name(OLD_PREV_INDEX).table("audit_log").to_owned()).await?;
        // An expression index, the same text on SQLite and PostgreSQL (NULL
        // organisations would otherwise never collide).
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX {CHAIN_PREV_INDEX} ON audit_log ((COALESCE(organisation_id, 0)), prev_hash)"
            ))
            .await?;
        m.create_index(index("audit_log", &["organisation_id", "id"], false)).await?;
        m.create_table(
            Table::create()
                .table("audit_anchor")
                .if_not_exists()
                .col(id())
                .col(big_null("organisation_id"))
                .col(big("audit_log_id"))
                .col(text("hash"))
                .col(big_null("score_run_id"))
                .col(ts("at"))
                .col(text("mac"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_anchor", &["organisation_id", "audit_log_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A keyed entry linking to an old entry that another old entry links
        // to as well: the code before would read that as a fork.
        let db = m.get_connection();
        let shared = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT prev_hash FROM audit_log WHERE prev_hash IS NOT NULL GROUP BY prev_hash HAVING COUNT(*) > 1",
            ))
            .await?;
        if shared.is_some() {
            return Err(DbErr::Migration(
                "audit entries of several organisations link to the same old entry: the unique prev_hash of the \
                 schema before cannot hold them"
                    .into(),
            ));
        }
        m.drop_index(Index::drop().name("ix_audit_log_organisation_id_id").table("audit_log").to_owned()).await?;
        m.drop_index(Index::drop().name(CHAIN_PREV_INDEX).table("audit_log").to_owned()).await?;
        m.create_index(index("audit_log", &["prev_hash"], true)).await
    }
}
