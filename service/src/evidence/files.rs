//! Uploading evidence files (上传佐证材料) and reading them back.
//!
//! The organisation is the unit's, never the client's. The bytes go to the
//! content-addressed store first (checked for size and type), then the row
//! and its audit entry are written in one transaction; if that fails, the
//! stored file stays (harmless: content-addressed) and no row exists.
//!
//! Reuse: uploading bytes that the same unit already has as evidence, with
//! the same document number and date, returns that evidence item (its first
//! file name and uploader kept) instead of a second row. A retry with the
//! same idempotency key answers the item of the first call; the key reused
//! for other bytes, unit or document, it is a CONFLICT (`crate::idempotency`).

use chrono::{NaiveDate, Utc};
use entity::{evidence, unit};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::EvidenceReference;
use super::store::{EvidenceStore, StoredFile, clean_filename};
use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::ServiceError;
use crate::{db, idempotency, policy};

/// `kind` of an evidence row holding an uploaded file.
pub const FILE: &str = "file";

/// What an upload carries; `content` is the file's bytes as received.
pub struct NewUpload<B> {
    pub unit_id: i64,
    /// The client's file name (cleaned before it is stored).
    pub filename: String,
    pub content: B,
    pub doc_number: Option<String>,
    pub doc_date: Option<NaiveDate>,
    pub idempotency_key: Option<String>,
}

/// Stores an uploaded file as evidence for a unit (see the module comment
/// for who may, and when an existing item is returned).
pub async fn upload<B: AsRef<[u8]> + Send + 'static>(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    store: &EvidenceStore,
    input: NewUpload<B>,
) -> Result<evidence::Model, ServiceError> {
    policy::signed_in(caller)?;
    let missing = || ServiceError::not_found("unit");
    let u = unit::Entity::find_by_id(input.unit_id).one(db).await?.ok_or_else(missing)?;
    let authorized =
        policy::may_upload_evidence(caller, u.organisation_id, u.id).map_err(|e| e.not_found_as("unit"))?;
    let doc_number = input.doc_number.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    EvidenceReference { doc_number: doc_number.clone(), doc_date: input.doc_date, url: None }.check_fields()?;
    let (stored, filename) = {
        let store = store.clone();
        let content = input.content;
        let raw_name = input.filename;
        tokio::task::spawn_blocking(move || {
            let s = store.put(content.as_ref())?;
            let name = clean_filename(&raw_name, s.extension);
            Ok::<_, ServiceError>((s, name))
        })
        .await
        .map_err(ServiceError::internal)??
    };
    // The bytes are part of what a retry must send again: known once stored.
    let params = json!({ "unit": u.id, "sha256": stored.sha256, "doc_number": doc_number, "doc_date": input.doc_date });
    let key = idempotency::key(&authorized, "uploadEvidence", input.idempotency_key.as_deref(), &params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return evidence::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("evidence {id} of an idempotency key").into()));
    }
    let txn = db::begin_write(db).await?;
    if let Some(same) = evidence::Entity::find()
        .filter(evidence::Column::OrganisationId.eq(u.organisation_id))
        .filter(evidence::Column::UnitId.eq(u.id))
        .filter(evidence::Column::Kind.eq(FILE))
        .filter(evidence::Column::Sha256.eq(stored.sha256.as_str()))
        .order_by_asc(evidence::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .find(|e| e.doc_number == doc_number && e.doc_date == input.doc_date)
    {
        idempotency::remember(&txn, key.as_ref(), same.id).await?;
        txn.commit().await?;
        return Ok(same);
    }
    let row =
        insert(&txn, chain_key, caller, u.organisation_id, u.id, &stored, filename, doc_number, input.doc_date).await?;
    idempotency::remember(&txn, key.as_ref(), row.id).await?;
    txn.commit().await?;
    Ok(row)
}

/// The new row and its audit entry (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
async fn insert(
    txn: &sea_orm::DatabaseTransaction,
    chain_key: &ChainKey,
    caller: &Caller,
    organisation_id: i64,
    unit_id: i64,
    stored: &StoredFile,
    filename: String,
    doc_number: Option<String>,
    doc_date: Option<NaiveDate>,
) -> Result<evidence::Model, ServiceError> {
    let row = evidence::ActiveModel {
        organisation_id: Set(organisation_id),
        unit_id: Set(Some(unit_id)),
        kind: Set(FILE.into()),
        sha256: Set(Some(stored.sha256.clone())),
        size: Set(Some(i64::try_from(stored.size).map_err(ServiceError::internal)?)),
        media_type: Set(Some(stored.media_type.into())),
        filename: Set(Some(filename)),
        doc_number: Set(doc_number),
        doc_date: Set(doc_date),
        url: Set(None),
        uploaded_by: Set(caller.user_id()),
        created_at: Set(Utc::now()),
        idempotency_key: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record_scoped(
        txn,
        chain_key,
        caller,
        Entry {
            organisation_id: Some(organisation_id),
            action: "evidence.upload",
            entity: "evidence",
            entity_id: Some(row.id.to_string()),
            before: None,
            after: Some(json!({
                "sha256": row.sha256, "size": row.size, "media_type": row.media_type, "filename": row.filename,
                "doc_number": row.doc_number, "doc_date": row.doc_date,
            })),
        },
        Scope { score_run_id: None, unit_id: Some(unit_id) },
    )
    .await?;
    Ok(row)
}

/// An uploaded file and its bytes, for a caller `by_id` lets see it; a
/// reference (no file) is NOT_FOUND here.
pub async fn download(
    db: &DatabaseConnection,
    caller: &Caller,
    store: &EvidenceStore,
    id: i64,
) -> Result<(evidence::Model, Vec<u8>), ServiceError> {
    let row = super::by_id(db, caller, id).await?;
    let Some(sha256) = row.sha256.clone().filter(|_| row.kind == FILE) else {
        return Err(ServiceError::not_found("file of evidence"));
    };
    let store = store.clone();
    let bytes = tokio::task::spawn_blocking(move || store.read(&sha256)).await.map_err(ServiceError::internal)??;
    Ok((row, bytes))
}
