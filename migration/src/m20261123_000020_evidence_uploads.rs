//! Evidence uploads: an upload's idempotency key (unique per organisation),
//! an index to find the same bytes already given for a unit, and, for
//! databases whose policy was seeded before uploads existed, the right of
//! department heads to upload evidence (`policies/policy.csv` grants it to
//! new databases; here it is added to each organisation whose departments
//! read its runs, unless already there).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Plain SQL, identical on SQLite and PostgreSQL.
const GRANT_SCORERS: &str = "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) \
     SELECT 'p', 'role:scorer', r.v1, 'evidence', 'upload' FROM casbin_rule r \
     WHERE r.ptype = 'p' AND r.v0 = 'role:scorer' AND r.v2 = 'runs' AND r.v3 = 'read' \
     AND NOT EXISTS (SELECT 1 FROM casbin_rule x WHERE x.ptype = 'p' AND x.v0 = 'role:scorer' \
     AND x.v1 = r.v1 AND x.v2 = 'evidence' AND x.v3 = 'upload')";

/// Every instance reloads a policy whose version moved.
const BUMP_POLICY: &str = "UPDATE policy_state SET version = version + 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("evidence").add_column(text_null("idempotency_key")).to_owned()).await?;
        m.create_index(index("evidence", &["organisation_id", "idempotency_key"], true)).await?;
        m.create_index(index("evidence", &["unit_id", "sha256"], false)).await?;
        let db = m.get_connection();
        let b = db.get_database_backend();
        let added = db.execute_raw(Statement::from_string(b, GRANT_SCORERS)).await?.rows_affected();
        if added > 0 {
            db.execute_raw(Statement::from_string(b, BUMP_POLICY)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The policy lines stay: they grant what `policies/policy.csv` grants.
        for name in ["ix_evidence_unit_id_sha256", "ux_evidence_organisation_id_idempotency_key"] {
            m.drop_index(Index::drop().name(name).table("evidence").to_owned()).await?;
        }
        m.alter_table(Table::alter().table("evidence").drop_column("idempotency_key").to_owned()).await
    }
}
