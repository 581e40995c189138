//! An event of the webhook outbox, written in the transaction that made it
//! happen (a publication, an amendment).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    /// The `webhook-id` of every delivery of it (`msg_…`).
    pub public_id: String,
    pub event_type: String,
    /// The JSON body sent, byte for byte.
    pub payload: String,
    pub score_run_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
