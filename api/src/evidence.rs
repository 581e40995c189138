//! Evidence (佐证材料) as references: a document number (文件编号, e.g.
//! 许教组〔2023〕8号), its date and a link, attached to observations and claims.
//! File uploads are a later addition (multipart limits are owned elsewhere).

use entity::{evidence, evidence_link};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::policy::{self, RunReader};

/// A document reference (文件编号, 日期, 链接) given as evidence.
#[derive(Clone, Debug, Default)]
pub struct EvidenceReference {
    pub doc_number: Option<String>,
    pub doc_date: Option<chrono::NaiveDate>,
    pub url: Option<String>,
}

impl EvidenceReference {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.doc_number.as_deref().is_none_or(|s| s.trim().is_empty()) && self.url.is_none() {
            return Err(ApiError::BadUserInput("an evidence reference needs a document number or a link".into()));
        }
        if let Some(u) = &self.url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(ApiError::BadUserInput("an evidence link must be an http(s) URL".into()));
        }
        if self.doc_number.as_ref().is_some_and(|s| s.chars().count() > 200)
            || self.url.as_ref().is_some_and(|s| s.len() > 2000)
        {
            return Err(ApiError::BadUserInput("an evidence reference is too long".into()));
        }
        Ok(())
    }
}

/// Stores references as evidence rows and links them to an observation or a claim.
pub async fn attach_references<C: ConnectionTrait>(
    conn: &C,
    organisation_id: i64,
    unit_id: i64,
    refs: &[EvidenceReference],
    observation_id: Option<i64>,
    claim_id: Option<i64>,
    uploaded_by: Option<i64>,
) -> Result<Vec<i64>, ApiError> {
    let mut ids = Vec::new();
    for r in refs {
        r.validate()?;
        let ev = evidence::ActiveModel {
            organisation_id: Set(organisation_id),
            unit_id: Set(Some(unit_id)),
            kind: Set("reference".into()),
            doc_number: Set(r.doc_number.clone()),
            doc_date: Set(r.doc_date),
            url: Set(r.url.clone()),
            uploaded_by: Set(uploaded_by),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        evidence_link::ActiveModel {
            evidence_id: Set(ev.id),
            observation_id: Set(observation_id),
            claim_id: Set(claim_id),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        ids.push(ev.id);
    }
    Ok(ids)
}

/// Copies the evidence links of one observation to another (corrections keep their evidence).
pub async fn copy_links<C: ConnectionTrait>(conn: &C, from: i64, to: i64) -> Result<(), ApiError> {
    let links = evidence_link::Entity::find().filter(evidence_link::Column::ObservationId.eq(from)).all(conn).await?;
    for l in links {
        evidence_link::ActiveModel {
            evidence_id: Set(l.evidence_id),
            observation_id: Set(Some(to)),
            claim_id: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Evidence rows linked to an observation or a claim.
pub async fn linked<C: ConnectionTrait>(
    conn: &C,
    observation_id: Option<i64>,
    claim_id: Option<i64>,
) -> Result<Vec<evidence::Model>, ApiError> {
    let mut q = evidence_link::Entity::find();
    if let Some(o) = observation_id {
        q = q.filter(evidence_link::Column::ObservationId.eq(o));
    }
    if let Some(c) = claim_id {
        q = q.filter(evidence_link::Column::ClaimId.eq(c));
    }
    let ids: Vec<i64> =
        q.order_by_asc(evidence_link::Column::Id).all(conn).await?.into_iter().map(|l| l.evidence_id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(evidence::Entity::find()
        .filter(evidence::Column::Id.is_in(ids))
        .order_by_asc(evidence::Column::Id)
        .all(conn)
        .await?)
}

/// One evidence item, as the caller may see it: staff of its organisation,
/// or the user of the unit it belongs to; otherwise NOT_FOUND.
pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<evidence::Model, ApiError> {
    let missing = || ApiError::not_found(format!("evidence {id}"));
    let e = evidence::Entity::find_by_id(id).one(db).await?.ok_or_else(missing)?;
    let reader = policy::run_reader(caller, e.organisation_id).map_err(|err| match err {
        ApiError::NotFound(_) => missing(),
        other => other,
    })?;
    match reader {
        RunReader::Staff => Ok(e),
        RunReader::Unit(u) if e.unit_id == Some(u) => Ok(e),
        _ => Err(missing()),
    }
}
