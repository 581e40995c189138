//! Recording, correcting and withdrawing observations (扣分/加分记录).
//! The engine validates the facts against the rule (`check_observation`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, SubsecRound, Utc};
use entity::states::ObservationStatus;
use entity::{observation, score_run, score_run_unit};
use kaohe_engine::{Facts, Observation, Rubric};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set, TryIntoModel,
};
use serde_json::json;

use super::{Rules, ensure_open, ensure_section_open, section_of_rule, visible_run};
use crate::audit::{self, ChainKey, Entry, Scope};
use crate::caller::Caller;
use crate::error::{ItemError, ServiceError};
use crate::evidence::{self, EvidenceReference, Holder, Linked};
use crate::idempotency;
use crate::rubric::query::VersionTree;
use crate::{db, policy};

/// The facts and context of one observation.
pub struct ObservationDraft {
    pub facts: Facts,
    pub work_key: Option<String>,
    pub halve: Option<String>,
    pub document_date: Option<NaiveDate>,
    pub note: Option<String>,
    /// New document references (佐证材料).
    pub evidence: Vec<EvidenceReference>,
    /// Evidence already stored (uploaded files), by row id.
    pub evidence_ids: Vec<i64>,
}

impl ObservationDraft {
    /// Everything recording depends on besides the run, unit and rule: what a
    /// retry with the same idempotency key must send again.
    pub fn fingerprint(&self) -> serde_json::Value {
        json!({
            "facts": self.facts, "work_key": self.work_key, "halve": self.halve,
            "document_date": self.document_date, "note": self.note,
            "evidence": self.evidence, "evidence_ids": self.evidence_ids,
        })
    }
}

/// What recording needs.
pub struct RecordObservation {
    pub run_id: i64,
    pub unit_id: i64,
    pub rule_code: String,
    pub draft: ObservationDraft,
    pub idempotency_key: Option<String>,
}

pub(super) fn snapshot(o: &observation::Model, rule: &str) -> serde_json::Value {
    json!({
        "id": o.id, "unit_id": o.unit_id, "rule": rule, "facts": serde_json::from_str::<serde_json::Value>(&o.facts).unwrap_or_default(),
        "work_key": o.work_key, "halve": o.halve, "document_date": o.document_date, "note": o.note,
        "status": o.status, "supersedes_id": o.supersedes_id, "version": o.version,
        "origin_id": o.origin_id, "carried_from_id": o.carried_from_id, "batch_id": o.batch_id,
    })
}

/// Validates a draft for a rule with the engine; BAD_USER_INPUT names the rule.
pub fn check(rubric: &Rubric, rule_code: &str, d: &ObservationDraft) -> Result<String, ServiceError> {
    check_item(rubric, rule_code, d).map_err(|(_, e)| e)
}

/// The unit must be assessed in the run.
pub async fn ensure_unit_in_run<C: ConnectionTrait>(conn: &C, run_id: i64, unit_id: i64) -> Result<(), ServiceError> {
    if super::assesses(conn, run_id, unit_id).await? { Ok(()) } else { Err(not_assessed()) }
}

fn not_assessed() -> ServiceError {
    ServiceError::BadUserInput("the unit is not assessed in this score run".into())
}

/// The row a checked observation is stored as (not yet inserted).
pub(super) fn new_row(
    caller: &Caller,
    run: &score_run::Model,
    unit_id: i64,
    rule_id: i64,
    facts: String,
    draft: &ObservationDraft,
    supersedes: Option<&observation::Model>,
) -> observation::ActiveModel {
    observation::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(unit_id),
        rule_id: Set(rule_id),
        facts: Set(facts),
        note: Set(draft.note.clone()),
        status: Set(ObservationStatus::Active),
        supersedes_id: Set(supersedes.map(|o| o.id)),
        work_key: Set(draft.work_key.clone()),
        document_date: Set(draft.document_date),
        entered_by: Set(caller.user_id()),
        // Microseconds: what PostgreSQL keeps (the row may be answered as built).
        entered_at: Set(Utc::now().trunc_subsecs(6)),
        idempotency_key: Set(None),
        version: Set(1),
        halve: Set(draft.halve.clone()),
        // A correction continues the lineage of the row it corrects.
        origin_id: Set(supersedes.map(observation::Model::lineage)),
        carried_from_id: Set(None),
        batch_id: Set(None),
        ..Default::default()
    }
}

/// Inserts a checked observation and its evidence (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    run: &score_run::Model,
    unit_id: i64,
    rule_id: i64,
    facts: String,
    draft: &ObservationDraft,
    supersedes: Option<&observation::Model>,
) -> Result<observation::Model, ServiceError> {
    let row = new_row(caller, run, unit_id, rule_id, facts, draft, supersedes).insert(conn).await?;
    attach_evidence(conn, caller, &row, run.organisation_id, draft).await?;
    Ok(row)
}

/// Links a stored row to its draft's evidence.
async fn attach_evidence<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    row: &observation::Model,
    organisation_id: i64,
    draft: &ObservationDraft,
) -> Result<(), ServiceError> {
    let to = Holder { organisation_id, unit_id: row.unit_id, observation_id: Some(row.id), claim_id: None };
    evidence::attach(conn, caller, to, &draft.evidence, &draft.evidence_ids).await?;
    Ok(())
}

/// An item's failed insert: its evidence's fault (by index), unless the
/// database or a concurrent write failed it (the whole call).
fn evidence_refusal(index: usize, e: ServiceError) -> Refusal {
    match e {
        e @ (ServiceError::Internal(_) | ServiceError::Conflict(_)) => Refusal::Whole(e),
        e => Refusal::Items(vec![(index, "evidence".into(), e)]),
    }
}

/// The audit entry of a recording (the row as stored).
fn recording_entry(organisation_id: i64, row: &observation::Model, code: &str) -> Entry<'static> {
    Entry {
        organisation_id: Some(organisation_id),
        action: "observation.record",
        entity: "observation",
        entity_id: Some(row.id.to_string()),
        before: None,
        after: Some(snapshot(row, code)),
    }
}

/// Inserts a checked row with its audit entry (built from the row as
/// stored): in one statement on PostgreSQL, where the turn reserved the
/// row's id (`turn::read`); else the row (`RETURNING`), then the entry.
/// Evidence links, which refer to the row, come after.
#[allow(clippy::too_many_arguments)]
async fn insert_audited<C: ConnectionTrait>(
    conn: &C,
    chain_key: &ChainKey,
    caller: &Caller,
    mut row: observation::ActiveModel,
    reserved: Option<i64>,
    entry: impl FnOnce(&observation::Model) -> Entry<'static>,
    scope: Scope,
    head: Option<String>,
) -> Result<(observation::Model, entity::audit_log::Model), ServiceError> {
    let Some(id) = reserved else {
        let row = row.insert(conn).await?;
        let appended = audit::record_after(conn, chain_key, caller, entry(&row), scope, head).await?;
        return Ok((row, appended));
    };
    row.id = Set(id);
    let model = row.clone().try_into_model()?;
    let insert = observation::Entity::insert(row).into_query();
    let appended = audit::record_with_row(conn, chain_key, caller, entry(&model), scope, head, insert).await?;
    Ok((model, appended))
}

/// Most items one `recordObservations` or `withdrawObservations` call takes.
pub const MAX_ITEMS: usize = 500;

/// One observation of a recording: the unit, the rule and the draft.
pub struct RecordItem {
    pub unit_id: i64,
    pub rule_code: String,
    pub draft: ObservationDraft,
}

/// What recording many observations at once needs.
pub struct RecordObservations {
    pub run_id: i64,
    pub items: Vec<RecordItem>,
    pub idempotency_key: Option<String>,
}

/// Why a recording was refused: as a whole (the run), or item by item
/// (index, field at fault, error).
enum Refusal {
    Whole(ServiceError),
    Items(Vec<(usize, String, ServiceError)>),
}

impl From<ServiceError> for Refusal {
    fn from(e: ServiceError) -> Self {
        Refusal::Whole(e)
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(e: sea_orm::DbErr) -> Self {
        Refusal::Whole(e.into())
    }
}

impl Refusal {
    /// For one item: its own error, as the single mutation answers it.
    fn single(self) -> ServiceError {
        match self {
            Refusal::Whole(e) => e,
            Refusal::Items(mut items) if !items.is_empty() => items.swap_remove(0).2,
            Refusal::Items(_) => ServiceError::Internal("a refusal without items".into()),
        }
    }

    /// For many: per-item errors in the error's extensions.
    fn many(self, total: usize) -> ServiceError {
        match self {
            Refusal::Whole(e) => e,
            Refusal::Items(mut items) => {
                items.sort_by_key(|(i, _, _)| *i);
                ServiceError::Items {
                    total,
                    items: items.iter().map(|(i, f, e)| ItemError::of(*i, f.clone(), e)).collect(),
                }
            }
        }
    }
}

/// Records an observation. A retry with the same idempotency key (and the
/// same parameters) answers the observation recorded the first time.
#[tracing::instrument(skip_all, fields(run_id = input.run_id, unit_id = input.unit_id, rule = %input.rule_code))]
pub async fn record(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    input: RecordObservation,
) -> Result<observation::Model, ServiceError> {
    let Target { run, rubric, tree } = run_and_rubric(db, caller, input.run_id).await?;
    record_with(db, chain_key, caller, (&rubric, tree.as_deref()), run, input).await
}

/// The run a recording writes into, as the caller may see it, with its
/// version compiled.
struct Target {
    run: Run,
    rubric: Arc<Rubric>,
    tree: Option<Arc<VersionTree>>,
}

/// A run as a recording found it before its write turn.
struct Run {
    row: score_run::Model,
    /// Kept from an earlier recording (`kept`): its status may be stale.
    provisional: bool,
}

impl Run {
    /// A refusal found before the turn, which an up-to-date status would
    /// have preceded with FROZEN: a kept status is confirmed first.
    async fn refuse<T>(&self, db: &DatabaseConnection, refusal: Refusal) -> Result<T, Refusal> {
        if self.provisional {
            ensure_open(&super::run_by_id(db, self.row.id).await?)?;
        }
        Err(refusal)
    }
}

/// The run as the caller may see it, and its version compiled (read with
/// the run, in one statement). An open run of a frozen version is kept: the
/// next recording into it by its organisation's staff reads neither (`kept`).
async fn run_and_rubric(db: &DatabaseConnection, caller: &Caller, run_id: i64) -> Result<Target, ServiceError> {
    if let Some((run, rubric, tree)) = super::kept::for_staff(db, caller, run_id) {
        return Ok(Target { run: Run { row: run, provisional: true }, rubric, tree: Some(tree) });
    }
    let (run, _, version) = super::visible_run_with_version(db, caller, run_id).await?;
    let version = crate::rubric::query::visible_version(db, caller, version).await?;
    let (rubric, tree) = crate::rubric::frozen::compiled_row(db, caller, version).await?;
    super::kept::keep(db, &run, tree.is_some());
    Ok(Target { run: Run { row: run, provisional: false }, rubric, tree })
}

/// Records with the run's rubric already compiled (for bulk entry such as the seed).
pub async fn record_with_rubric(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rubric: &Rubric,
    input: RecordObservation,
) -> Result<observation::Model, ServiceError> {
    let (run, _) = visible_run(db, caller, input.run_id).await?;
    record_with(db, chain_key, caller, (rubric, None), Run { row: run, provisional: false }, input).await
}

async fn record_with(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rubric: (&Rubric, Option<&VersionTree>),
    run: Run,
    input: RecordObservation,
) -> Result<observation::Model, ServiceError> {
    let params = json!({ "run": run.row.id, "unit": input.unit_id, "rule": input.rule_code, "draft": input.draft.fingerprint() });
    let item = RecordItem { unit_id: input.unit_id, rule_code: input.rule_code, draft: input.draft };
    let how = Keyed { operation: "recordObservation", key: input.idempotency_key.as_deref(), params, batch: false };
    let mut rows = record_items(db, chain_key, caller, rubric, run, vec![item], how).await.map_err(Refusal::single)?;
    rows.pop().ok_or_else(|| ServiceError::Internal("recording answered no row".into()))
}

/// Records up to [`MAX_ITEMS`] observations in one run, in one transaction:
/// all or none. Each item is authorized and checked exactly as
/// `recordObservation` checks one (the same code); a refusal lists every
/// refused item (index, field, code). A retry with the same idempotency key
/// and the same items answers the observations recorded the first time.
#[tracing::instrument(skip_all, fields(run_id = input.run_id, items = input.items.len()))]
pub async fn record_many(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    input: RecordObservations,
) -> Result<Vec<observation::Model>, ServiceError> {
    let Target { run, rubric, tree } = run_and_rubric(db, caller, input.run_id).await?;
    let total = input.items.len();
    if total == 0 || total > MAX_ITEMS {
        return Err(ServiceError::BadUserInput(format!("send 1 to {MAX_ITEMS} items (got {total})")));
    }
    let params = json!({
        "run": run.row.id,
        "items": input.items.iter().map(|i| json!({ "unit": i.unit_id, "rule": i.rule_code, "draft": i.draft.fingerprint() })).collect::<Vec<_>>(),
    });
    let how = Keyed { operation: "recordObservations", key: input.idempotency_key.as_deref(), params, batch: true };
    record_items(db, chain_key, caller, (&rubric, tree.as_deref()), run, input.items, how)
        .await
        .map_err(|r| r.many(total))
}

/// The idempotency side of a recording.
struct Keyed<'a> {
    operation: &'static str,
    key: Option<&'a str>,
    params: serde_json::Value,
    /// Many items: the key answers the batch (its first row's id).
    batch: bool,
}

/// One item, authorized and with its facts checked, ready to insert.
struct Ready {
    index: usize,
    section: String,
    facts: String,
}

/// The one path of recording, for one item or many: authorize every item,
/// read the key, check the run and every item's facts, then in one
/// transaction the sections, the units, each unit's observations together
/// (what scoring would refuse is refused here), the rows and their audit.
/// `rubric` comes with the tree it was compiled from when the caller has it
/// (its rules are then not read again).
async fn record_items(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    (rubric, tree): (&Rubric, Option<&VersionTree>),
    run: Run,
    items: Vec<RecordItem>,
    how: Keyed<'_>,
) -> Result<Vec<observation::Model>, Refusal> {
    let mut failures: Vec<(usize, String, ServiceError)> = Vec::new();
    let mut authorized = None;
    let mut sections = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let section = match section_of_rule(rubric, &item.rule_code) {
            Ok(s) => s,
            Err(_) => {
                let e = ServiceError::InvalidObservation {
                    rule: item.rule_code.clone(),
                    message: "no rule with this code exists in the run's rubric version".into(),
                };
                failures.push((i, "ruleCode".into(), e));
                sections.push(String::new());
                continue;
            }
        };
        match policy::may_score(caller, run.row.organisation_id, rubric, &item.rule_code, "record") {
            Ok(a) => authorized = Some(a),
            Err(e) => failures.push((i, "ruleCode".into(), e)),
        }
        sections.push(section);
    }
    if !failures.is_empty() {
        return Err(Refusal::Items(failures));
    }
    let authorized = authorized.ok_or_else(|| ServiceError::BadUserInput("no items".into()))?;
    let key = idempotency::key(&authorized, how.operation, how.key, &how.params)?;
    if let Some(id) = idempotency::replayed(db, key.as_ref()).await? {
        return Ok(replay(db, id, how.batch).await?);
    }
    ensure_open(&run.row)?;
    let mut ready = Vec::with_capacity(items.len());
    for (i, (item, section)) in items.iter().zip(sections).enumerate() {
        match check_item(rubric, &item.rule_code, &item.draft) {
            Ok(facts) => ready.push(Ready { index: i, section, facts }),
            Err((field, e)) => failures.push((i, field, e)),
        }
    }
    if !failures.is_empty() {
        return run.refuse(db, Refusal::Items(failures)).await;
    }
    let run = run.row;
    let period = super::period_of(&run)?;
    let mut wanted: Vec<i64> = ready.iter().map(|r| items[r.index].unit_id).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut codes: Vec<&str> = ready.iter().map(|r| r.section.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    // A version's rules never change once it is frozen (`rubric::frozen`).
    let read;
    let rules = match tree {
        Some(tree) => tree.rules_index(),
        None => {
            read = Rules::of_version(db, run.rubric_version_id).await?;
            &read
        }
    };
    // Each unit's observations with the new ones, as scoring will take them.
    let new: Vec<(usize, i64, Observation)> = ready
        .iter()
        .map(|r| {
            let item = &items[r.index];
            (r.index, item.unit_id, engine_draft(&format!("item-{}", r.index), &item.rule_code, &item.draft))
        })
        .collect();
    let once = given_once(rubric, rules, &new)?;
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    // Checked again inside the turn (the run or a section may have closed),
    // in one statement with the units' observations and the chain head.
    // A `recordObservation` (one item) is written with its entry at once:
    // its id is reserved here. A batch's rows carry its first id, so it
    // writes each row, then their entries.
    let state = super::turn::read(&txn, &run, &codes, (&wanted, &once), !how.batch).await?;
    let run = score_run::Model { status: state.run_status, ..run };
    ensure_open(&run)?;
    if state.open_sections != codes.len() as i64 {
        // A section is submitted: which, item by item (rare).
        let mut closed: HashMap<&str, Option<ServiceError>> = HashMap::new();
        for r in &ready {
            if !closed.contains_key(r.section.as_str()) {
                let state = ensure_section_open(&txn, &run, &r.section).await.err();
                closed.insert(r.section.as_str(), state);
            }
            if let Some(Some(e)) = closed.get(r.section.as_str()) {
                failures.push((r.index, "ruleCode".into(), clone_refusal(e)));
            }
        }
    }
    if state.assessed_units != wanted.len() as i64 {
        // A unit the run does not assess: which (rare; `wanted` holds at
        // most MAX_ITEMS units).
        let assessed: HashSet<i64> = score_run_unit::Entity::find()
            .filter(score_run_unit::Column::ScoreRunId.eq(run.id))
            .filter(score_run_unit::Column::UnitId.is_in(wanted.clone()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|u| u.unit_id)
            .collect();
        for r in &ready {
            if !assessed.contains(&items[r.index].unit_id) {
                failures.push((r.index, "unitId".into(), not_assessed()));
            }
        }
    }
    if !failures.is_empty() {
        return Err(Refusal::Items(failures));
    }
    let mut head = state.head;
    let reserved = state.reserved;
    failures.extend(check_rows(&txn, rubric, period, rules, &[], &new, state.rows).await?);
    if !failures.is_empty() {
        return Err(Refusal::Items(failures));
    }
    if !how.batch {
        // One recording (a 科室 entering a month): the row and its entry at once.
        let [r] = ready.as_slice() else {
            return Err(ServiceError::Internal("a single recording with more than one item".into()).into());
        };
        let item = &items[r.index];
        let rule = rules.by_code(&item.rule_code)?;
        let code = item.rule_code.clone();
        let organisation_id = run.organisation_id;
        let row = new_row(caller, &run, item.unit_id, rule.id, r.facts.clone(), &item.draft, None);
        let entry = move |row: &observation::Model| recording_entry(organisation_id, row, &code);
        let scope = Scope { score_run_id: Some(run.id), unit_id: Some(item.unit_id) };
        let (row, _) = insert_audited(&txn, chain_key, caller, row, reserved, entry, scope, head.take()).await?;
        attach_evidence(&txn, caller, &row, organisation_id, &item.draft)
            .await
            .map_err(|e| evidence_refusal(r.index, e))?;
        idempotency::remember(&txn, key.as_ref(), row.id).await?;
        txn.commit().await?;
        return Ok(vec![row]);
    }
    let mut rows = Vec::with_capacity(ready.len());
    for r in &ready {
        let item = &items[r.index];
        let rule = rules.by_code(&item.rule_code)?;
        match insert(&txn, caller, &run, item.unit_id, rule.id, r.facts.clone(), &item.draft, None).await {
            Ok(row) => rows.push(row),
            Err(e) => match evidence_refusal(r.index, e) {
                Refusal::Items(mut item) => failures.append(&mut item),
                whole => return Err(whole),
            },
        }
    }
    if !failures.is_empty() {
        return Err(Refusal::Items(failures));
    }
    let first = rows.first().map(|r| r.id).ok_or_else(|| ServiceError::Internal("nothing recorded".into()))?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    for chunk in ids.chunks(MAX_ITEMS) {
        observation::Entity::update_many()
            .col_expr(observation::Column::BatchId, Expr::value(first))
            .filter(observation::Column::Id.is_in(chunk.to_vec()))
            .exec(&txn)
            .await?;
    }
    for r in &mut rows {
        r.batch_id = Some(first);
    }
    idempotency::remember(&txn, key.as_ref(), first).await?;
    // Chained from the head read under the turn, each entry from the last
    // (nothing else appends in between; the chain's unique `prev_hash` index
    // would refuse a fork).
    for (row, r) in rows.iter().zip(&ready) {
        let entry = recording_entry(run.organisation_id, row, &items[r.index].rule_code);
        let scope = Scope { score_run_id: Some(run.id), unit_id: Some(row.unit_id) };
        let entry = audit::record_after(&txn, chain_key, caller, entry, scope, head.take()).await?;
        head = Some(entry.hash);
    }
    txn.commit().await?;
    Ok(rows)
}

/// What a retry with a used key answers: the row, or the batch's rows.
async fn replay(db: &DatabaseConnection, id: i64, batch: bool) -> Result<Vec<observation::Model>, ServiceError> {
    let rows = if batch {
        observation::Entity::find()
            .filter(observation::Column::BatchId.eq(id))
            .order_by_asc(observation::Column::Id)
            .all(db)
            .await?
    } else {
        observation::Entity::find_by_id(id).one(db).await?.into_iter().collect()
    };
    if rows.is_empty() {
        return Err(ServiceError::Internal("the rows of an idempotency key are gone".into()));
    }
    Ok(rows)
}

/// A service error seen by several items (a closed section), for each of them.
fn clone_refusal(e: &ServiceError) -> ServiceError {
    match e {
        ServiceError::Frozen(m) => ServiceError::Frozen(m.clone()),
        ServiceError::BadUserInput(m) => ServiceError::BadUserInput(m.clone()),
        ServiceError::Conflict(m) => ServiceError::Conflict(m.clone()),
        ServiceError::NotFound(k) => ServiceError::NotFound(k),
        other => ServiceError::Conflict(other.public_message()),
    }
}

/// A draft as the engine reads it, under a temporary key.
pub(super) fn engine_draft(key: &str, rule_code: &str, draft: &ObservationDraft) -> Observation {
    let mut o = Observation::new(key, rule_code, draft.facts.clone());
    o.work = draft.work_key.clone();
    o.halve = draft.halve.clone();
    o.document_date = draft.document_date;
    o
}

/// Checks one new observation of a unit with the unit's active observations
/// in the run, as recording does (for an approved claim).
pub(crate) async fn check_with_unit<C: ConnectionTrait>(
    conn: &C,
    rubric: &Rubric,
    run: &score_run::Model,
    unit_id: i64,
    rule_code: &str,
    draft: &ObservationDraft,
) -> Result<(), ServiceError> {
    let rules = Rules::of_version(conn, run.rubric_version_id).await?;
    let new = [(0, unit_id, engine_draft("item-0", rule_code, draft))];
    match check_units(conn, rubric, super::period_of(run)?, run, &rules, &[], &new).await?.into_iter().next() {
        Some((_, _, e)) => Err(e),
        None => Ok(()),
    }
}

/// Checks each touched unit's active observations (less `without`, rows
/// being corrected or withdrawn) together with the new ones, as scoring will: a second
/// direct score, a rating component given twice, anything that would make
/// live results or publishing fail. Only the stored observations of the new
/// ones' rules given once are read ([`given_once`]). Refusals name the item
/// (by index) and the existing observation (by global id).
#[allow(clippy::too_many_arguments)]
pub(super) async fn check_units<C: ConnectionTrait>(
    conn: &C,
    rubric: &Rubric,
    period: kaohe_engine::Period,
    run: &score_run::Model,
    rules: &Rules,
    without: &[i64],
    new: &[(usize, i64, Observation)],
) -> Result<Vec<(usize, String, ServiceError)>, ServiceError> {
    let once = given_once(rubric, rules, new)?;
    // No rule given once among the new ones: no stored row to read.
    let units = if once.is_empty() { Vec::new() } else { units_of(new) };
    let mut rows = Vec::new();
    for chunk in units.chunks(MAX_ITEMS) {
        rows.extend(
            observation::Entity::find()
                .select_only()
                .columns(Checked::COLUMNS)
                .filter(observation::Column::ScoreRunId.eq(run.id))
                .filter(observation::Column::Status.eq(ObservationStatus::Active))
                .filter(observation::Column::UnitId.is_in(chunk.to_vec()))
                .filter(observation::Column::RuleId.is_in(once.iter().copied()))
                .order_by_asc(observation::Column::Id)
                .into_model::<Checked>()
                .all(conn)
                .await?,
        );
    }
    check_rows(conn, rubric, period, rules, without, new, rows).await
}

/// The ids of the new observations' rules that are given once per unit
/// (`kaohe_engine::given_once`), sorted: the only stored observations they
/// are checked with. Every stored one passed its own check when recorded
/// (the version's rules are frozen; a row carried from an earlier period was
/// checked in its own run: `runs::carry` does not check it again), and
/// nothing else about it depends on another observation, so a unit's month
/// is not read at every recording.
fn given_once(rubric: &Rubric, rules: &Rules, new: &[(usize, i64, Observation)]) -> Result<Vec<i64>, ServiceError> {
    let mut ids = Vec::new();
    for (_, _, o) in new.iter().filter(|(_, _, o)| kaohe_engine::given_once(rubric, &o.rule)) {
        ids.push(rules.by_code(&o.rule)?.id);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The distinct units of new observations, in order.
fn units_of(new: &[(usize, i64, Observation)]) -> Vec<i64> {
    let mut units: Vec<i64> = new.iter().map(|(_, u, _)| *u).collect();
    units.sort_unstable();
    units.dedup();
    units
}

/// [`check_units`] with the units' active observations already read
/// (oldest first).
async fn check_rows<C: ConnectionTrait>(
    conn: &C,
    rubric: &Rubric,
    period: kaohe_engine::Period,
    rules: &Rules,
    without: &[i64],
    new: &[(usize, i64, Observation)],
    rows: Vec<Checked>,
) -> Result<Vec<(usize, String, ServiceError)>, ServiceError> {
    let units = units_of(new);
    let mut per_unit: HashMap<i64, Vec<Observation>> = HashMap::new();
    for o in rows.into_iter().filter(|o| !without.contains(&o.id)) {
        let columns = (o.facts.as_str(), o.work_key, o.halve, o.document_date);
        let mut e = super::observation_of(o.id, rules.code_of(o.rule_id)?, columns, Vec::new())?;
        if o.carried_from_id.is_some() {
            // Rare: a row carried from an earlier period, read whole.
            if let Some(whole) = observation::Entity::find_by_id(o.id).one(conn).await? {
                e.carried_from = super::carry::carried_period(conn, &whole).await?;
            }
        }
        per_unit.entry(o.unit_id).or_default().push(e);
    }
    let mut failures = Vec::new();
    for unit in units {
        let mine: Vec<&(usize, i64, Observation)> = new.iter().filter(|(_, u, _)| *u == unit).collect();
        let mut all = per_unit.remove(&unit).unwrap_or_default();
        all.extend(mine.iter().map(|(_, _, o)| o.clone()));
        if let Err(e) = kaohe_engine::check_unit(rubric, period, &all) {
            // The item at fault; a stored row at fault (recorded before this
            // check existed) is the unit's first new item's problem.
            let index = e
                .observation
                .strip_prefix("item-")
                .and_then(|i| i.parse::<usize>().ok())
                .or_else(|| mine.first().map(|(i, _, _)| *i))
                .unwrap_or(0);
            let field = e.problem.field();
            failures.push((index, field, ServiceError::from(e)));
        }
    }
    Ok(failures)
}

/// What scoring reads of a stored observation a new one is checked with
/// (those of its rules given once): read by position, 8 columns, not the
/// row's 18 by name (sea-orm formats the name of every null one).
pub(super) struct Checked {
    id: i64,
    unit_id: i64,
    rule_id: i64,
    facts: String,
    work_key: Option<String>,
    halve: Option<String>,
    document_date: Option<NaiveDate>,
    carried_from_id: Option<i64>,
}

impl Checked {
    /// Its columns, in the order they are selected and read back.
    pub(super) const COLUMNS: [observation::Column; 8] = [
        observation::Column::Id,
        observation::Column::UnitId,
        observation::Column::RuleId,
        observation::Column::Facts,
        observation::Column::WorkKey,
        observation::Column::Halve,
        observation::Column::DocumentDate,
        observation::Column::CarriedFromId,
    ];
}

impl sea_orm::FromQueryResult for Checked {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        if !pre.is_empty() {
            return Err(sea_orm::DbErr::Type("Checked is read only by position, without a prefix".into()));
        }
        Checked::read(res, 0)
    }
}

impl Checked {
    /// Reads [`Checked::COLUMNS`] from position `at` on.
    pub(super) fn read(res: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr> {
        Ok(Checked {
            id: res.try_get_by_index(at)?,
            unit_id: res.try_get_by_index(at + 1)?,
            rule_id: res.try_get_by_index(at + 2)?,
            facts: res.try_get_by_index(at + 3)?,
            work_key: crate::db::nullable(res, at + 4)?,
            halve: crate::db::nullable(res, at + 5)?,
            document_date: crate::db::nullable(res, at + 6)?,
            carried_from_id: crate::db::nullable(res, at + 7)?,
        })
    }
}

/// Checks a draft's facts for its rule; on refusal, the field at fault.
pub(super) fn check_item(
    rubric: &Rubric,
    rule_code: &str,
    d: &ObservationDraft,
) -> Result<String, (String, ServiceError)> {
    let mut o = Observation::new("new", rule_code, d.facts.clone());
    o.work = d.work_key.clone();
    o.halve = d.halve.clone();
    o.document_date = d.document_date;
    if let Err(e) = kaohe_engine::check_observation(rubric, &o) {
        return Err((e.problem.field(), e.into()));
    }
    crate::input::optional("note", d.note.clone(), crate::input::MAX_TEXT).map_err(|e| ("note".to_string(), e))?;
    crate::input::optional("workKey", d.work_key.clone(), 200).map_err(|e| ("workKey".to_string(), e))?;
    serde_json::to_string(&d.facts).map_err(|e| ("facts".to_string(), ServiceError::internal(e)))
}

/// Compiled rubrics and rule tables by version, for a request that touches
/// many observations.
#[derive(Default)]
struct Versions(HashMap<i64, (std::sync::Arc<Rubric>, VersionRules)>);

/// A version's rules: a frozen version's from its kept tree (built once per
/// server), a draft's read here (runs only use published versions, so the
/// read is the exception).
enum VersionRules {
    Kept(std::sync::Arc<VersionTree>),
    Read(Rules),
}

impl VersionRules {
    fn rules(&self) -> &Rules {
        match self {
            VersionRules::Kept(tree) => tree.rules_index(),
            VersionRules::Read(rules) => rules,
        }
    }
}

impl Versions {
    /// The version of a run the caller has just read as it may see it,
    /// compiled and with its rules: kept by the server once frozen
    /// (`rubric::frozen::kept_compiled`), read as the caller may see it
    /// otherwise.
    async fn of_run(
        &mut self,
        db: &DatabaseConnection,
        caller: &Caller,
        version_id: i64,
    ) -> Result<(&Rubric, &Rules), ServiceError> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.0.entry(version_id) {
            let (rubric, tree) = match crate::rubric::frozen::kept_compiled(db, version_id) {
                Some((rubric, tree)) => (rubric, Some(tree)),
                None => {
                    let row = crate::rubric::query::version_by_id(db, caller, version_id).await?;
                    crate::rubric::frozen::compiled_row(db, caller, row).await?
                }
            };
            let rules = match tree {
                Some(tree) => VersionRules::Kept(tree),
                None => VersionRules::Read(Rules::of_version(db, version_id).await?),
            };
            e.insert((rubric, rules));
        }
        self.get(version_id)
    }

    /// A version [`Versions::of_run`] has read.
    fn get(&self, version_id: i64) -> Result<(&Rubric, &Rules), ServiceError> {
        let (rubric, rules) = self.0.get(&version_id).ok_or_else(|| ServiceError::Internal("rubric cache".into()))?;
        Ok((rubric, rules.rules()))
    }
}

/// An observation the caller may change.
struct Writable {
    old: observation::Model,
    run: score_run::Model,
    code: String,
    section: String,
}

/// An observation the caller may see, with its run, rule code and section,
/// checked that the caller may change it and that it can still be changed
/// (in that order: a hidden one is NOT_FOUND, whatever its run's state).
async fn writable(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    versions: &mut Versions,
) -> Result<Writable, ServiceError> {
    let (old, run) = super::query::observation_and_run(db, caller, id).await?;
    let (rubric, rules) = versions.of_run(db, caller, run.rubric_version_id).await?;
    let code = rules.code_of(old.rule_id)?.to_string();
    let section = section_of_rule(rubric, &code)?;
    policy::may_score(caller, run.organisation_id, rubric, &code, "correct")?;
    ensure_open(&run)?;
    if old.carried_from_id.is_some() {
        return Err(ServiceError::Conflict(
            "this observation was carried from an earlier period (下发文件滞后); correct or withdraw it in the run it was recorded in (amend that run), and the carried one follows"
                .into(),
        ));
    }
    Ok(Writable { old, run, code, section })
}

fn stale() -> ServiceError {
    ServiceError::Conflict(
        "the observation was changed by someone else (or is no longer active); reload it and retry".into(),
    )
}

/// Marks the old row superseded (versioned) inside the transaction.
pub(crate) async fn retire<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    expected_version: i32,
    status: ObservationStatus,
) -> Result<(), ServiceError> {
    let res = retiring(id, expected_version, status).exec(conn).await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(stale()) }
}

/// The update that retires an active row at the version read.
fn retiring(id: i64, expected_version: i32, status: ObservationStatus) -> sea_orm::UpdateMany<observation::Entity> {
    observation::Entity::update_many()
        .col_expr(observation::Column::Status, Expr::value(status))
        .col_expr(observation::Column::Version, Expr::col(observation::Column::Version).add(1))
        .filter(observation::Column::Id.eq(id))
        .filter(observation::Column::Version.eq(expected_version))
        .filter(observation::Column::Status.eq(ObservationStatus::Active))
}

/// [`retire`], answering the row as it is now, in the same statement
/// (`UPDATE … RETURNING`: PostgreSQL and SQLite, the two databases we run on).
async fn retire_returning<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    expected_version: i32,
    status: ObservationStatus,
) -> Result<observation::Model, ServiceError> {
    let mut rows = retiring(id, expected_version, status).exec_with_returning(conn).await?;
    match (rows.pop(), rows.is_empty()) {
        (Some(row), true) => Ok(row),
        _ => Err(stale()),
    }
}

/// Corrects an observation: the old row is kept (superseded) and a new row
/// supersedes it. A reason is required. The corrected unit is checked as
/// recording checks it (without the old row).
#[tracing::instrument(skip_all, fields(observation_id = id, expected_version))]
pub async fn correct(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    mut draft: ObservationDraft,
    reason: &str,
) -> Result<observation::Model, ServiceError> {
    let reason = crate::input::reason(reason)?;
    let mut versions = Versions::default();
    let Writable { old, run, code, section } = writable(db, caller, id, &mut versions).await?;
    if old.version != expected_version || old.status != ObservationStatus::Active {
        return Err(stale());
    }
    let (rubric, rules) = versions.get(run.rubric_version_id)?;
    if draft.note.is_none() {
        draft.note = old.note.clone();
    }
    let facts = check(rubric, &code, &draft)?;
    let period = super::period_of(&run)?;
    let new = [(0, old.unit_id, engine_draft("item-0", &code, &draft))];
    let once = given_once(rubric, rules, &new)?;
    let txn = db::begin_organisation_write(db, run.organisation_id).await?;
    // As recording checks, in one statement (the unit is the old row's).
    let state = super::turn::read(&txn, &run, &[section.as_str()], (&[old.unit_id], &once), true).await?;
    let run = score_run::Model { status: state.run_status, ..run };
    ensure_open(&run)?;
    if state.open_sections != 1 {
        ensure_section_open(&txn, &run, &section).await?;
    }
    if let Some((_, _, e)) =
        check_rows(&txn, rubric, period, rules, &[old.id], &new, state.rows).await?.into_iter().next()
    {
        return Err(e);
    }
    retire(&txn, id, expected_version, ObservationStatus::Superseded).await?;
    let row = new_row(caller, &run, old.unit_id, old.rule_id, facts, &draft, Some(&old));
    let organisation_id = run.organisation_id;
    let before = snapshot(&old, &code);
    let entry = move |new: &observation::Model| Entry {
        organisation_id: Some(organisation_id),
        action: "observation.correct",
        entity: "observation",
        entity_id: Some(new.id.to_string()),
        before: Some(before),
        after: Some(json!({ "observation": snapshot(new, &code), "reason": reason })),
    };
    let scope = Scope { score_run_id: Some(run.id), unit_id: Some(old.unit_id) };
    let (new, _) = insert_audited(&txn, chain_key, caller, row, state.reserved, entry, scope, state.head).await?;
    attach_evidence(&txn, caller, &new, organisation_id, &draft).await?;
    evidence::copy_links(&txn, Linked::Observation(id), new.id).await?;
    txn.commit().await?;
    Ok(new)
}

/// Withdraws an observation (it stops counting; the row is kept). A reason is required.
#[tracing::instrument(skip_all, fields(observation_id = id, expected_version))]
pub async fn withdraw(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    reason: &str,
) -> Result<observation::Model, ServiceError> {
    let reason = crate::input::reason(reason)?;
    let w = writable(db, caller, id, &mut Versions::default()).await?;
    if w.old.version != expected_version || w.old.status != ObservationStatus::Active {
        return Err(stale());
    }
    let mut rows = withdraw_rows(db, chain_key, caller, vec![(0, w)], &reason).await.map_err(Refusal::single)?;
    rows.pop().ok_or_else(|| ServiceError::Internal("withdrawing answered no row".into()))
}

/// Withdraws up to [`MAX_ITEMS`] observations in one transaction, all or
/// none, each checked exactly as `withdrawObservation` checks one (at the
/// version read here); a refusal lists every refused item (index, code).
#[tracing::instrument(skip_all, fields(items = ids.len()))]
pub async fn withdraw_many(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    ids: &[i64],
    reason: &str,
) -> Result<Vec<observation::Model>, ServiceError> {
    policy::signed_in(caller)?;
    let reason = crate::input::reason(reason)?;
    let total = ids.len();
    if total == 0 || total > MAX_ITEMS {
        return Err(ServiceError::BadUserInput(format!("send 1 to {MAX_ITEMS} ids (got {total})")));
    }
    let mut versions = Versions::default();
    let mut failures = Vec::new();
    let mut ready = Vec::with_capacity(total);
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(*id) {
            failures.push((i, "ids".to_string(), ServiceError::BadUserInput("this id is sent twice".into())));
            continue;
        }
        match writable(db, caller, *id, &mut versions).await {
            Ok(w) if w.old.status == ObservationStatus::Active => ready.push((i, w)),
            Ok(_) => failures.push((i, "ids".to_string(), stale())),
            Err(e) => failures.push((i, "ids".to_string(), e)),
        }
    }
    if !failures.is_empty() {
        return Err(Refusal::Items(failures).many(total));
    }
    withdraw_rows(db, chain_key, caller, ready, &reason).await.map_err(|r| r.many(total))
}

/// The audit entry of a withdrawal (the row before and after, the reason).
fn withdrawal_entry(
    run: &score_run::Model,
    w: &Writable,
    after: &observation::Model,
    reason: &str,
) -> (Entry<'static>, Scope) {
    let entry = Entry {
        organisation_id: Some(run.organisation_id),
        action: "observation.withdraw",
        entity: "observation",
        entity_id: Some(w.old.id.to_string()),
        before: Some(snapshot(&w.old, &w.code)),
        after: Some(json!({ "observation": snapshot(after, &w.code), "reason": reason })),
    };
    (entry, Scope { score_run_id: Some(run.id), unit_id: Some(w.old.unit_id) })
}

/// Withdraws checked rows in one transaction, each with its audit entry.
async fn withdraw_rows(
    db: &DatabaseConnection,
    chain_key: &ChainKey,
    caller: &Caller,
    rows: Vec<(usize, Writable)>,
    reason: &str,
) -> Result<Vec<observation::Model>, Refusal> {
    // One organisation's rows take its turn only (other organisations write
    // on); rows of several (a platform caller's batch), the whole database's.
    let mut organisations: Vec<i64> = rows.iter().map(|(_, w)| w.run.organisation_id).collect();
    organisations.sort_unstable();
    organisations.dedup();
    let txn = match organisations.as_slice() {
        [one] => db::begin_organisation_write(db, *one).await?,
        _ => db::begin_write(db).await?,
    };
    // Each run's state, its rows' sections and its organisation's chain head
    // in one statement per run (`turn::read`, no observation rows), read
    // before anything is appended; each entry then chains from the last.
    let mut sections_of: HashMap<i64, Vec<&str>> = HashMap::new();
    for (_, w) in &rows {
        let codes = sections_of.entry(w.run.id).or_default();
        if !codes.contains(&w.section.as_str()) {
            codes.push(w.section.as_str());
        }
    }
    let mut runs: HashMap<i64, Result<(score_run::Model, bool), ServiceError>> = HashMap::new();
    let mut heads: HashMap<i64, Option<String>> = HashMap::new();
    for (_, w) in &rows {
        let (Some(codes), false) = (sections_of.get(&w.run.id), runs.contains_key(&w.run.id)) else { continue };
        let checked = super::turn::read(&txn, &w.run, codes, (&[], &[]), false).await.and_then(|state| {
            heads.entry(w.run.organisation_id).or_insert(state.head);
            let run = score_run::Model { status: state.run_status, ..w.run.clone() };
            ensure_open(&run).map(|_| (run, state.open_sections == codes.len() as i64))
        });
        runs.insert(w.run.id, checked);
    }
    let mut failures = Vec::new();
    let mut sections: HashMap<(i64, String), Option<ServiceError>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, w) in &rows {
        let (run, all_open) = match runs.get(&w.run.id) {
            Some(Ok((r, all_open))) => (r, *all_open),
            Some(Err(e)) => {
                failures.push((*i, "ids".to_string(), clone_refusal(e)));
                continue;
            }
            None => continue,
        };
        if !all_open {
            // A section is submitted: which (rare).
            let at = (run.id, w.section.clone());
            if !sections.contains_key(&at) {
                sections.insert(at.clone(), ensure_section_open(&txn, run, &w.section).await.err());
            }
            if let Some(Some(e)) = sections.get(&at) {
                failures.push((*i, "ids".to_string(), clone_refusal(e)));
                continue;
            }
        }
        let after = match retire_returning(&txn, w.old.id, w.old.version, ObservationStatus::Withdrawn).await {
            Ok(row) => row,
            Err(e) => {
                failures.push((*i, "ids".to_string(), e));
                continue;
            }
        };
        let (entry, scope) = withdrawal_entry(run, w, &after, reason);
        let head = heads.get_mut(&run.organisation_id).and_then(Option::take);
        let appended = audit::record_after(&txn, chain_key, caller, entry, scope, head).await?;
        heads.insert(run.organisation_id, Some(appended.hash));
        out.push(after);
    }
    if !failures.is_empty() {
        return Err(Refusal::Items(failures));
    }
    txn.commit().await?;
    Ok(out)
}
