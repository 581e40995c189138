//! Anchors: the head of a chain as a publication saw it. Removing the newest
//! entries of a chain leaves every link intact, so the chain alone cannot
//! show it; an anchor remembers an entry that must still be there. Anchors
//! are sealed with the audit key, so one cannot be made, or moved back to an
//! older entry, without it.

use chrono::{SubsecRound, Utc};
use entity::{audit_anchor, audit_log};
use hmac::Mac;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Chain;
use super::key::ChainKey;

const ANCHOR_TAG: &str = "kaohe.audit.anchor.v1";

fn mac(key: &ChainKey, a: &audit_anchor::Model) -> hmac::Hmac<sha2::Sha256> {
    let mut m = key.mac();
    let id = |n: Option<i64>| n.map(|i| i.to_string()).unwrap_or_default();
    for field in [
        ANCHOR_TAG.to_string(),
        id(a.organisation_id),
        a.audit_log_id.to_string(),
        a.hash.clone(),
        id(a.score_run_id),
        a.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    ] {
        m.update(&(field.len() as u64).to_be_bytes());
        m.update(field.as_bytes());
    }
    m
}

/// Anchors `head` (the newest entry of its chain, written in this
/// transaction) for the publication `score_run_id`.
pub async fn anchor<C: ConnectionTrait>(
    conn: &C,
    key: &ChainKey,
    head: &audit_log::Model,
    score_run_id: Option<i64>,
) -> Result<audit_anchor::Model, DbErr> {
    let mut row = audit_anchor::Model {
        id: 0,
        organisation_id: head.organisation_id,
        audit_log_id: head.id,
        hash: head.hash.clone(),
        score_run_id,
        at: Utc::now().trunc_subsecs(6),
        mac: String::new(),
    };
    row.mac = hex::encode(mac(key, &row).finalize().into_bytes());
    audit_anchor::ActiveModel {
        organisation_id: Set(row.organisation_id),
        audit_log_id: Set(row.audit_log_id),
        hash: Set(row.hash),
        score_run_id: Set(row.score_run_id),
        at: Set(row.at),
        mac: Set(row.mac),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// A chain's anchors, split by whether their seal verifies.
pub(super) struct Anchors {
    /// Oldest first.
    pub valid: Vec<audit_anchor::Model>,
    /// Made or changed without the key.
    pub invalid: u64,
}

/// One row per publication: a few hundred over years, read at once.
pub(super) async fn of_chain<C: ConnectionTrait>(conn: &C, key: &ChainKey, chain: Chain) -> Result<Anchors, DbErr> {
    let rows = audit_anchor::Entity::find()
        .filter(chain.anchors())
        .order_by_asc(audit_anchor::Column::AuditLogId)
        .order_by_asc(audit_anchor::Column::Id)
        .all(conn)
        .await?;
    let mut out = Anchors { valid: Vec::with_capacity(rows.len()), invalid: 0 };
    for a in rows {
        let sealed = hex::decode(&a.mac).is_ok_and(|tag| mac(key, &a).verify_slice(&tag).is_ok());
        if sealed {
            out.valid.push(a);
        } else {
            out.invalid += 1;
        }
    }
    Ok(out)
}
