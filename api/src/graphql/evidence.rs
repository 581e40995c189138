//! Evidence (佐证材料) over GraphQL: the `Evidence` type, references given
//! with observations and claims, and `uploadEvidence` (a GraphQL multipart
//! request; the gate has already capped its size and file count).

use async_graphql::{Context, ID, InputObject, Object, Upload};
use chrono::{DateTime, Utc};

use super::scalars::Date;
use entity::evidence;

use super::errors::{GqlResult, IntoGql};
use super::{IdKind, parse_id, to_id, write_env};
use crate::evidence::files::{self, NewUpload};
use crate::evidence::{EvidenceReference, EvidenceStore, MAX_IDS};
use kaohe_service::ServiceError;

/// Evidence (佐证材料): a document reference, or an uploaded file.
pub struct Evidence(pub evidence::Model);

/// Evidence (佐证材料): a document reference, or an uploaded file.
#[Object]
impl Evidence {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::Evidence, self.0.id)
    }

    /// `reference` (文件引用) or `file` (附件).
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// Document number (文件编号), e.g. 许教组〔2023〕8号.
    async fn doc_number(&self) -> Option<&str> {
        self.0.doc_number.as_deref()
    }

    /// Issue date (发文日期).
    async fn doc_date(&self) -> Option<Date> {
        self.0.doc_date.map(Date)
    }

    /// Link (链接).
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// SHA-256 of the file's bytes, lowercase hex (文件哈希); null for a reference.
    async fn sha256(&self) -> Option<&str> {
        self.0.sha256.as_deref()
    }

    /// Size of the file in bytes (文件大小); null for a reference.
    async fn size(&self) -> Option<i64> {
        self.0.size
    }

    /// Media type detected from the file's bytes (文件类型), e.g. `application/pdf`; null for a reference.
    async fn media_type(&self) -> Option<&str> {
        self.0.media_type.as_deref()
    }

    /// File name as uploaded, cleaned (文件名); null for a reference.
    async fn filename(&self) -> Option<&str> {
        self.0.filename.as_deref()
    }

    /// Where to download the file (下载地址), relative to the server: `GET` it
    /// with the bearer token. Null for a reference.
    async fn download_url(&self) -> Option<String> {
        (self.0.kind == files::FILE).then(|| format!("/evidence/{}/file", to_id(IdKind::Evidence, self.0.id).as_str()))
    }

    /// When it was given (提交时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A document reference as evidence (佐证材料): number, date, link.
#[derive(InputObject, Clone)]
pub struct EvidenceReferenceInput {
    /// Document number (文件编号), e.g. 许教组〔2023〕8号.
    pub doc_number: Option<String>,
    /// Issue date (发文日期).
    pub doc_date: Option<Date>,
    /// Link (链接), http(s).
    pub url: Option<String>,
}

pub(super) fn refs(list: Option<Vec<EvidenceReferenceInput>>) -> Vec<EvidenceReference> {
    list.unwrap_or_default()
        .into_iter()
        .map(|r| EvidenceReference { doc_number: r.doc_number, doc_date: r.doc_date.map(|d| d.0), url: r.url })
        .collect()
}

/// Row ids of evidence given by global id (at most `MAX_IDS`).
pub(super) fn evidence_ids(list: Option<Vec<ID>>) -> async_graphql::Result<Vec<i64>> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_IDS {
        return Err(ServiceError::BadUserInput(format!("at most {MAX_IDS} evidence ids")).into_gql());
    }
    list.iter().map(|id| parse_id(id, IdKind::Evidence)).collect()
}

/// Uploading a file as evidence (上传佐证材料).
#[derive(InputObject)]
pub struct UploadEvidenceInput {
    /// The file (附件), as a GraphQL multipart upload: PDF, PNG, JPEG, DOCX or
    /// XLSX, told apart by its bytes (the name and content type sent are not trusted).
    pub file: Upload,
    /// The unit it is evidence for (被考核单位); the evidence belongs to the unit's organisation.
    pub unit_id: ID,
    /// Document number (文件编号), e.g. 许教组〔2023〕8号.
    pub doc_number: Option<String>,
    /// Issue date (发文日期).
    pub doc_date: Option<Date>,
    /// The same key twice in the organisation stores one evidence item.
    pub idempotency_key: Option<String>,
}

/// Uploading evidence files (上传佐证材料).
#[derive(Default)]
pub struct EvidenceMutation;

/// Uploading evidence files (上传佐证材料).
#[Object]
impl EvidenceMutation {
    /// Uploads a file as evidence for a unit (上传佐证材料); attach it with
    /// `evidenceIds` on `recordObservation`, `correctObservation` or
    /// `fileClaim`. The same bytes for the same unit, document number and
    /// date return the evidence item already stored.
    async fn upload_evidence(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file and what it is evidence for.")] input: UploadEvidenceInput,
    ) -> async_graphql::Result<Evidence> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let store = ctx.data::<EvidenceStore>()?;
        let unit_id = parse_id(&input.unit_id, IdKind::Unit)?;
        let file = input.file.value(ctx).map_err(|_| {
            ServiceError::BadUserInput("send the file as a GraphQL multipart request".into()).into_gql()
        })?;
        let upload = NewUpload {
            unit_id,
            filename: file.filename,
            content: file.content,
            doc_number: input.doc_number,
            doc_date: input.doc_date.map(|d| d.0),
            idempotency_key: input.idempotency_key,
        };
        Ok(Evidence(files::upload(db, chain_key, caller, store, upload).await.gql()?))
    }
}
