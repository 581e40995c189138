//! Evidence (佐证材料) attached to observations and claims: references (a
//! document number (文件编号, e.g. 许教组〔2023〕8号), its date and a link) given
//! with the observation or claim, and uploaded files (`files`, stored by
//! `store`) given by id.

pub mod files;
pub mod store;

use entity::{evidence, evidence_link};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::caller::Caller;
use crate::error::ServiceError;
use crate::policy::{self, RunReader};

pub use store::EvidenceStore;

/// Most stored evidence items one observation or claim may name by id.
pub const MAX_IDS: usize = 20;

/// A document reference (文件编号, 日期, 链接) given as evidence.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EvidenceReference {
    pub doc_number: Option<String>,
    pub doc_date: Option<chrono::NaiveDate>,
    pub url: Option<String>,
}

impl EvidenceReference {
    pub fn validate(&self) -> Result<(), ServiceError> {
        if self.doc_number.as_deref().is_none_or(|s| s.trim().is_empty()) && self.url.is_none() {
            return Err(ServiceError::BadUserInput("an evidence reference needs a document number or a link".into()));
        }
        self.check_fields()
    }

    /// The link's scheme and the fields' lengths (an upload's document number too).
    pub fn check_fields(&self) -> Result<(), ServiceError> {
        if let Some(u) = &self.url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(ServiceError::BadUserInput("an evidence link must be an http(s) URL".into()));
        }
        if self.doc_number.as_ref().is_some_and(|s| s.chars().count() > 200)
            || self.url.as_ref().is_some_and(|s| s.len() > 2000)
        {
            return Err(ServiceError::BadUserInput("an evidence reference is too long".into()));
        }
        Ok(())
    }
}

/// What evidence is attached to: an observation or a claim of a unit.
#[derive(Clone, Copy, Debug)]
pub struct Holder {
    pub organisation_id: i64,
    pub unit_id: i64,
    pub observation_id: Option<i64>,
    pub claim_id: Option<i64>,
}

/// Attaches evidence inside the caller's transaction: each reference becomes
/// a new row; each stored item named by id must be one the caller may see
/// (else NOT_FOUND) and belong to the holder's unit (else BAD_USER_INPUT).
/// Returns the ids linked.
pub async fn attach<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    to: Holder,
    refs: &[EvidenceReference],
    ids: &[i64],
) -> Result<Vec<i64>, ServiceError> {
    let mut linked = stored_for(conn, caller, to, ids).await?;
    for r in refs {
        r.validate()?;
        let ev = evidence::ActiveModel {
            organisation_id: Set(to.organisation_id),
            unit_id: Set(Some(to.unit_id)),
            kind: Set("reference".into()),
            doc_number: Set(r.doc_number.clone()),
            doc_date: Set(r.doc_date),
            url: Set(r.url.clone()),
            uploaded_by: Set(caller.user_id()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        linked.push(ev.id);
    }
    for id in &linked {
        link(conn, *id, to.observation_id, to.claim_id).await?;
    }
    Ok(linked)
}

/// The stored items named by id, checked for the holder (duplicates dropped).
async fn stored_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    to: Holder,
    ids: &[i64],
) -> Result<Vec<i64>, ServiceError> {
    let mut wanted: Vec<i64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !wanted.contains(id) {
            wanted.push(*id);
        }
    }
    if wanted.len() > MAX_IDS {
        return Err(ServiceError::BadUserInput(format!("at most {MAX_IDS} evidence ids")));
    }
    if wanted.is_empty() {
        return Ok(wanted);
    }
    let rows = evidence::Entity::find().filter(evidence::Column::Id.is_in(wanted.clone())).all(conn).await?;
    for id in &wanted {
        let missing = || ServiceError::not_found("evidence");
        let e = rows.iter().find(|e| e.id == *id && e.organisation_id == to.organisation_id).ok_or_else(missing)?;
        visible(caller, e)?;
        if e.unit_id != Some(to.unit_id) {
            return Err(ServiceError::BadUserInput(format!(
                "evidence {id} belongs to another unit; upload it for this unit"
            )));
        }
    }
    Ok(wanted)
}

async fn link<C: ConnectionTrait>(
    conn: &C,
    evidence_id: i64,
    observation_id: Option<i64>,
    claim_id: Option<i64>,
) -> Result<(), ServiceError> {
    evidence_link::ActiveModel {
        evidence_id: Set(evidence_id),
        observation_id: Set(observation_id),
        claim_id: Set(claim_id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Links the evidence of an observation (a correction, an amendment's copy)
/// or of a claim (once approved) to an observation, skipping items it has:
/// one statement (`INSERT … SELECT`), in the source's link order, whatever
/// the number of links (an amendment copies every observation's).
pub async fn copy_links<C: ConnectionTrait>(conn: &C, from: Linked, to: i64) -> Result<(), ServiceError> {
    use evidence_link::Column as L;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
    let source = Alias::new("source");
    let from = match from {
        Linked::Observation(o) => Expr::col((source.clone(), L::ObservationId)).eq(o),
        Linked::Claim(c) => Expr::col((source.clone(), L::ClaimId)).eq(c),
    };
    let has = Query::select()
        .expr(Expr::val(1))
        .from(evidence_link::Entity)
        .and_where(Expr::col((evidence_link::Entity, L::ObservationId)).eq(to))
        .and_where(Expr::col((evidence_link::Entity, L::EvidenceId)).equals((source.clone(), L::EvidenceId)))
        .to_owned();
    let links = Query::select()
        .column((source.clone(), L::EvidenceId))
        .expr(Expr::val(to))
        .from_as(evidence_link::Entity, source.clone())
        .and_where(from)
        .and_where(Expr::exists(has).not())
        .order_by((source, L::Id), Order::Asc)
        .to_owned();
    let insert = Query::insert()
        .into_table(evidence_link::Entity)
        .columns([L::EvidenceId, L::ObservationId])
        .select_from(links)
        .map_err(ServiceError::internal)?
        .to_owned();
    conn.execute_raw(conn.get_database_backend().build(&insert)).await?;
    Ok(())
}

/// The first document date among stored evidence items, in the order given
/// (ownership is checked when they are attached).
pub async fn first_doc_date<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<Option<chrono::NaiveDate>, ServiceError> {
    if ids.is_empty() {
        return Ok(None);
    }
    let rows = evidence::Entity::find().filter(evidence::Column::Id.is_in(ids.to_vec())).all(conn).await?;
    Ok(ids.iter().find_map(|id| rows.iter().find(|e| e.id == *id).and_then(|e| e.doc_date)))
}

/// Where evidence links are copied from.
#[derive(Clone, Copy, Debug)]
pub enum Linked {
    Observation(i64),
    Claim(i64),
}

/// Evidence rows linked to an observation or a claim.
pub async fn linked<C: ConnectionTrait>(
    conn: &C,
    observation_id: Option<i64>,
    claim_id: Option<i64>,
) -> Result<Vec<evidence::Model>, ServiceError> {
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

/// One evidence item, as the caller may see it: staff of its organisation;
/// a unit user only its own unit's items that it uploaded, that back its
/// claims, or that back its observations in a published run (what staff
/// attach to an open run is not the unit's to see yet); otherwise NOT_FOUND.
pub async fn by_id(db: &DatabaseConnection, caller: &Caller, id: i64) -> Result<evidence::Model, ServiceError> {
    policy::signed_in(caller)?;
    let missing = || ServiceError::not_found("evidence");
    let e = evidence::Entity::find_by_id(id).one(db).await?.ok_or_else(missing)?;
    visible(caller, &e)?;
    if let RunReader::Unit(u) = policy::run_reader(caller, e.organisation_id)?
        && !(e.uploaded_by.is_some() && e.uploaded_by == caller.user_id())
        && !backs_own_record(db, e.id, u).await?
    {
        return Err(missing());
    }
    Ok(e)
}

/// Does this item back one of the unit's claims, or one of its observations
/// in a published run?
async fn backs_own_record(db: &DatabaseConnection, evidence_id: i64, unit: i64) -> Result<bool, ServiceError> {
    use entity::{claim, observation, score_run};
    let links = evidence_link::Entity::find().filter(evidence_link::Column::EvidenceId.eq(evidence_id)).all(db).await?;
    let claims: Vec<i64> = links.iter().filter_map(|l| l.claim_id).collect();
    if !claims.is_empty()
        && claim::Entity::find()
            .filter(claim::Column::Id.is_in(claims))
            .filter(claim::Column::UnitId.eq(unit))
            .one(db)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    let observations: Vec<i64> = links.iter().filter_map(|l| l.observation_id).collect();
    if observations.is_empty() {
        return Ok(false);
    }
    let runs: Vec<i64> = observation::Entity::find()
        .filter(observation::Column::Id.is_in(observations))
        .filter(observation::Column::UnitId.eq(unit))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.score_run_id)
        .collect();
    if runs.is_empty() {
        return Ok(false);
    }
    let published = score_run::Entity::find()
        .filter(score_run::Column::Id.is_in(runs))
        .all(db)
        .await?
        .into_iter()
        .any(|r| r.status.is_published());
    Ok(published)
}

/// NOT_FOUND unless the caller may see this item (see `by_id`).
fn visible(caller: &Caller, e: &evidence::Model) -> Result<(), ServiceError> {
    let missing = || ServiceError::not_found("evidence");
    let reader = policy::run_reader(caller, e.organisation_id).map_err(|err| err.hidden_as("evidence"))?;
    match reader {
        RunReader::Staff => Ok(()),
        RunReader::Unit(u) if e.unit_id == Some(u) => Ok(()),
        _ => Err(missing()),
    }
}
