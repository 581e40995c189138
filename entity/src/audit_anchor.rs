//! The head of an organisation's audit chain as a publication saw it, sealed
//! with the audit key: an anchored entry that goes missing shows a cut tail.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_anchor")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The chain: an organisation's, or the platform's (none).
    pub organisation_id: Option<i64>,
    /// The anchored entry (no foreign key: it is what may go missing).
    pub audit_log_id: i64,
    /// Its hash.
    pub hash: String,
    /// The publication that anchored it, if any.
    pub score_run_id: Option<i64>,
    pub at: DateTimeUtc,
    /// HMAC-SHA256 over the fields above, under the audit key.
    pub mac: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
