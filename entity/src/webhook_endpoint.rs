//! A webhook endpoint (推送地址) an organisation's admin registered: where
//! publications are pushed, which events, the signing secret, and the lease
//! of its one delivery in flight.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoint")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event types.
    pub events: String,
    /// `whsec_<base64>`.
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    pub version: i32,
    pub sending_delivery_id: Option<i64>,
    pub sending_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
