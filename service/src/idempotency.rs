//! Idempotency keys (幂等键), as Stripe documents them: a client retrying a
//! write sends the same key, and gets the first call's result instead of a
//! second record.
//!
//! - A key belongs to one organisation and one caller ([`Authorized`]); the
//!   same text from another caller is another key. Nothing is looked up by key
//!   before the call is authorized exactly as it would be without one: a key
//!   is made only from the proof of that authorization.
//! - The same key with the same parameters answers the first result (even if
//!   the run has closed since); with other parameters, or for another
//!   operation, it is `CONFLICT` naming the key, never silently the first result.
//! - The key is remembered in the write's own transaction, so a rolled-back
//!   write leaves no key behind.

use chrono::Utc;
use entity::idempotency_key;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr};
use sha2::{Digest, Sha256};

use crate::error::ServiceError;
use crate::policy::Authorized;

/// A key sent with one authorized write, and the fingerprint of its parameters.
#[derive(Debug, Clone)]
pub struct Idempotent {
    scope: String,
    key: String,
    operation: &'static str,
    fingerprint: String,
}

/// The key of an authorized call (`None` when the client sent none, or only
/// blanks). `params` are everything the call depends on: a retry must send
/// the same, or it is a CONFLICT.
pub fn key(
    authorized: &Authorized,
    operation: &'static str,
    key: Option<&str>,
    params: &serde_json::Value,
) -> Result<Option<Idempotent>, ServiceError> {
    let Some(key) = crate::input::idempotency_key(key)? else { return Ok(None) };
    // serde_json writes object keys in one order (sorted), so equal
    // parameters give equal text.
    let text = serde_json::to_string(params).map_err(ServiceError::internal)?;
    let mut h = Sha256::new();
    for part in [operation.as_bytes(), text.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    Ok(Some(Idempotent {
        scope: authorized.scope().to_string(),
        key: key.to_string(),
        operation,
        fingerprint: hex::encode(h.finalize()),
    }))
}

impl Idempotent {
    fn conflict(&self) -> ServiceError {
        ServiceError::Conflict(format!(
            "the idempotency key `{}` was already used for a request with other parameters; send a new key for a new request",
            self.key
        ))
    }

    /// The id of the row the first call with this key produced, if any;
    /// CONFLICT when that call had other parameters.
    pub async fn replayed<C: ConnectionTrait>(&self, conn: &C) -> Result<Option<i64>, ServiceError> {
        let found = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::Scope.eq(self.scope.as_str()))
            .filter(idempotency_key::Column::Key.eq(self.key.as_str()))
            .one(conn)
            .await?;
        match found {
            None => Ok(None),
            Some(k) if k.operation == self.operation && k.fingerprint == self.fingerprint => Ok(Some(k.result_id)),
            Some(_) => Err(self.conflict()),
        }
    }

    /// Remembers the row this call produced, inside the write's transaction.
    /// Two first uses at once: the second fails on the unique key (its
    /// transaction rolls back) and a retry replays the first.
    pub async fn remember<C: ConnectionTrait>(&self, txn: &C, result_id: i64) -> Result<(), ServiceError> {
        let row = idempotency_key::ActiveModel {
            scope: Set(self.scope.clone()),
            key: Set(self.key.clone()),
            operation: Set(self.operation.to_string()),
            fingerprint: Set(self.fingerprint.clone()),
            result_id: Set(result_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        match row.insert(txn).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(ServiceError::Conflict(
                format!("the idempotency key `{}` is in use by a request running at the same time; retry", self.key),
            )),
            Err(e) => Err(ServiceError::from(e)),
        }
    }
}

/// Remembers when there is a key (the common shape of a keyed write).
pub async fn remember<C: ConnectionTrait>(
    txn: &C,
    key: Option<&Idempotent>,
    result_id: i64,
) -> Result<(), ServiceError> {
    match key {
        Some(k) => k.remember(txn, result_id).await,
        None => Ok(()),
    }
}

/// The row a retry replays, if any (the common shape of a keyed write).
pub async fn replayed<C: ConnectionTrait>(conn: &C, key: Option<&Idempotent>) -> Result<Option<i64>, ServiceError> {
    match key {
        Some(k) => k.replayed(conn).await,
        None => Ok(None),
    }
}
