//! Append-only audit log; each entry chains the previous one's hash
//! (see `kaohe_api::audit` for the two ways an entry is sealed).
#[allow(unused_imports)]
use crate::Exact;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: DateTimeUtc,
    pub prev_hash: Option<String>,
    pub hash: String,
    /// The score run the entry concerns, if any.
    pub score_run_id: Option<i64>,
    /// The unit the entry concerns, if any.
    pub unit_id: Option<i64>,
    /// 1: plain SHA-256, one chain over the whole log (entries written
    /// before the keyed chain); 2: HMAC-SHA256, one chain per organisation.
    pub chain_version: i32,
    /// Whether the write changed data other organisations' callers may read
    /// (reference data, settings, the platform's entries): such entries move
    /// every organisation's data generation; the others only their own's.
    pub shared_data: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
