//! Authorization decisions, in one place. Every write of a score run asks
//! here; the casbin policy (`policies/`, kept in the database) decides, with
//! the domain taken from the stored object's organisation, never from the
//! client. Deny by default: anonymous callers are UNAUTHENTICATED, another
//! organisation's object is NOT_FOUND, a right the policy does not grant is
//! FORBIDDEN. The server itself (`Caller::system`, seeding) passes.
//!
//! Reads follow the role the policy grants (`RunReader`): staff (admin,
//! department heads) read everything of their organisation's runs; a unit
//! user only runs assessing its unit, its own claims and evidence, and its
//! own observations and result once published; an integration only published
//! results and rankings. Lists filter in SQL; a hidden object asked for by id
//! is NOT_FOUND. Published reference data (organisations, departments, units,
//! rubrics) is readable by anyone: it is the public text of the 细则. A rubric
//! version still being drafted is seen by staff only (`may_see_rubric_drafts`)
//! and edited by the admin (`may_edit_rubrics`).

use entity::states::RunStatus;
use kaohe_engine::Rubric;

use crate::caller::{Caller, CallerRole, Grants, Who};
use crate::error::ServiceError;

/// May the caller read reference data (organisations, units, rubrics)?
pub fn may_read(_caller: &Caller) -> Result<(), ServiceError> {
    Ok(())
}

/// Everything but published reference data needs a signed-in caller. Asked
/// before anything is looked up, so an anonymous caller learns nothing of
/// which ids exist.
pub fn signed_in(caller: &Caller) -> Result<(), ServiceError> {
    if caller.role == CallerRole::Anonymous { Err(ServiceError::Unauthenticated) } else { Ok(()) }
}

/// The caller's grants in this organisation; `None` for the server itself.
fn grants_in(caller: &Caller, organisation_id: i64) -> Result<Option<&Grants>, ServiceError> {
    match caller.role {
        CallerRole::System => return Ok(None),
        CallerRole::Anonymous => return Err(ServiceError::Unauthenticated),
        _ => {}
    }
    if caller.organisation_id != Some(organisation_id) {
        // Another tenant's object does not exist for this caller; the entry
        // point names the object asked for (`ServiceError::not_found_as`).
        return Err(ServiceError::not_found("object"));
    }
    caller.grants.as_ref().map(Some).ok_or(ServiceError::Forbidden)
}

fn allow(granted: bool) -> Result<(), ServiceError> {
    if granted { Ok(()) } else { Err(ServiceError::Forbidden) }
}

/// Proof that a caller passed the authorization of a write in an
/// organisation. Only this module makes one, so what needs it (an
/// idempotency key, `crate::idempotency`) cannot be used before the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    scope: String,
}

impl Authorized {
    fn of(caller: &Caller, organisation_id: i64) -> Authorized {
        let who = match &caller.who {
            Who::User { id, .. } => format!("user:{id}"),
            Who::Service { id, .. } => format!("svc:{id}"),
            Who::System => "system".into(),
            Who::Anonymous => "anonymous".into(),
        };
        Authorized { scope: format!("org:{organisation_id}/{who}") }
    }

    /// The organisation and the caller the check was for (what keys are scoped to).
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

/// `allow`, answering the proof for this caller and organisation.
fn grant(caller: &Caller, organisation_id: i64, granted: bool) -> Result<Authorized, ServiceError> {
    allow(granted).map(|()| Authorized::of(caller, organisation_id))
}

/// The codes of a rule's indicator and its ancestors, nearest first.
fn indicator_path(rubric: &Rubric, rule_code: &str) -> Result<Vec<String>, ServiceError> {
    let rule = rubric
        .rule(rule_code)
        .ok_or_else(|| ServiceError::InvalidObservation { rule: rule_code.into(), message: "unknown rule".into() })?;
    let mut path = Vec::new();
    let mut at = Some(rule.indicator);
    while let Some(i) = at {
        path.push(rubric.indicators[i].code.clone());
        at = rubric.indicators[i].parent;
    }
    Ok(path)
}

/// May the caller administer runs of this organisation (open, publish,
/// amend, reopen a section)? The admin (督导室/考核办).
pub fn may_administer_runs(caller: &Caller, organisation_id: i64) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, "runs", "publish"))
}

/// May the caller administer this organisation's webhooks (推送: endpoints,
/// secrets, deliveries)? The admin, as the policy grants it (`webhooks admin`;
/// `role:admin` holds `*`).
pub fn may_administer_webhooks(caller: &Caller, organisation_id: i64) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, "webhooks", "admin"))
}

/// May the caller administer this organisation's assessed units (被考核单位管理:
/// create, rename, move, deactivate, reactivate)? The admin, as the policy
/// grants it (`units admin`; `role:admin` holds `*`).
pub fn may_administer_units(caller: &Caller, organisation_id: i64) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, "units", "admin"))
}

/// May the caller `act` (record, correct, approve_claim) on a rule of this
/// rubric? Granted on the rule's indicator or any ancestor (秘书科 → 党建,
/// 办公室 → 数字重庆 …).
pub fn may_score(
    caller: &Caller,
    organisation_id: i64,
    rubric: &Rubric,
    rule_code: &str,
    act: &str,
) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    let path = indicator_path(rubric, rule_code)?;
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    grant(
        caller,
        organisation_id,
        g.policy.allows_on_indicator(&g.subject, &g.organisation_code, &rubric.code, &path, act),
    )
}

/// May the caller submit this section (提交)? Its owner, granted on the section itself.
pub fn may_submit_section(
    caller: &Caller,
    organisation_id: i64,
    rubric_code: &str,
    section: &str,
) -> Result<(), ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(()) };
    allow(g.policy.allows_on_indicator(&g.subject, &g.organisation_code, rubric_code, &[section], "submit"))
}

/// May the caller file a claim (申报) for this unit? A unit user for its own
/// unit, or the admin.
pub fn may_file_claim(caller: &Caller, organisation_id: i64, unit_id: i64) -> Result<Authorized, ServiceError> {
    for_unit(caller, organisation_id, unit_id, "claims", "file")
}

/// May the caller upload evidence (上传佐证材料) for this unit? The policy's
/// `evidence upload`: a unit user (role:unit) for its own unit only; a
/// department head (role:scorer) for any unit of its organisation, because
/// it records observations on every unit a run assesses and backs them with
/// files (uploading scores nothing: attaching a file to an observation is
/// checked by `may_score`, to a claim by `may_file_claim`; like all of a
/// unit's evidence, the unit's own user can read it); the admin (`*`).
/// Integrations: no.
pub fn may_upload_evidence(caller: &Caller, organisation_id: i64, unit_id: i64) -> Result<Authorized, ServiceError> {
    for_unit(caller, organisation_id, unit_id, "evidence", "upload")
}

/// A right on one unit's things: granted by the policy, and a unit user
/// only ever acts for its own unit (the server checks the unit).
fn for_unit(
    caller: &Caller,
    organisation_id: i64,
    unit_id: i64,
    obj: &str,
    act: &str,
) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    if caller.role == CallerRole::Unit && g.unit_id != Some(unit_id) {
        return Err(ServiceError::Forbidden);
    }
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, obj, act))
}

/// May the caller create, edit and publish rubric versions (考核细则草稿) of
/// this organisation? The admin, as the policy grants it (`rubrics edit`).
pub fn may_edit_rubrics(caller: &Caller, organisation_id: i64) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, "rubrics", "edit"))
}

/// May the caller see this organisation's draft rubric versions? Staff (the
/// admin and department heads, who read the organisation's runs); units,
/// integrations, other organisations and anonymous callers see published
/// and retired versions only.
pub fn may_see_rubric_drafts(caller: &Caller, organisation_id: i64) -> bool {
    matches!(run_reader(caller, organisation_id), Ok(RunReader::Staff))
}

/// The organisation the caller administers (its policy, its service
/// credentials): an admin's own, as the policy grants it.
pub fn administered_organisation(caller: &Caller) -> Result<i64, ServiceError> {
    if caller.role == CallerRole::Anonymous {
        return Err(ServiceError::Unauthenticated);
    }
    let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
    let g = grants_in(caller, org)?.ok_or(ServiceError::Forbidden)?;
    allow(g.policy.allows(&g.subject, &g.organisation_code, "policy", "admin"))?;
    Ok(org)
}

/// What of an organisation's score runs a caller may read, as the policy
/// grants it (`runs read`, `results read_own_published`, `results read_published`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunReader {
    /// The server, the admin and department heads: every run, observation,
    /// claim, live result and the audit log of the organisation.
    Staff,
    /// A unit user (被考核单位账号): runs that assess its unit; that unit's
    /// claims and evidence; its observations and result once published.
    Unit(i64),
    /// An integration (月讲评系统): published runs' results and rankings only.
    Integration,
}

impl RunReader {
    /// May this reader see results and observations of a run in `status`?
    pub fn sees_results_of(self, status: RunStatus) -> bool {
        self == RunReader::Staff || status.is_published()
    }

    /// May this reader see this unit's data?
    pub fn sees_unit(self, unit_id: i64) -> bool {
        match self {
            RunReader::Unit(u) => u == unit_id,
            _ => true,
        }
    }
}

/// How the caller reads runs of this organisation (another's: NOT_FOUND).
pub fn run_reader(caller: &Caller, organisation_id: i64) -> Result<RunReader, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(RunReader::Staff) };
    reader_of(caller, g)
}

fn reader_of(caller: &Caller, g: &Grants) -> Result<RunReader, ServiceError> {
    let dom = g.organisation_code.as_str();
    if g.policy.allows(&g.subject, dom, "runs", "read") {
        return Ok(RunReader::Staff);
    }
    if caller.role == CallerRole::Unit
        && let Some(u) = g.unit_id
        && g.policy.allows(&g.subject, dom, "results", "read_own_published")
    {
        return Ok(RunReader::Unit(u));
    }
    if g.policy.allows(&g.subject, dom, "results", "read_published") {
        return Ok(RunReader::Integration);
    }
    Err(ServiceError::Forbidden)
}

/// May the caller see this run at all? Staff: any of the organisation's;
/// a unit: runs assessing it (`assesses_unit`); an integration: published
/// runs. Otherwise NOT_FOUND, so ids of hidden runs reveal nothing.
pub fn may_see_run(
    caller: &Caller,
    run: &entity::score_run::Model,
    assesses_unit: bool,
) -> Result<RunReader, ServiceError> {
    let reader = run_reader(caller, run.organisation_id)?;
    let visible = match reader {
        RunReader::Staff => true,
        RunReader::Unit(_) => assesses_unit,
        RunReader::Integration => run.status.is_published(),
    };
    if visible { Ok(reader) } else { Err(ServiceError::not_found("score run")) }
}

/// Staff-only reads of a run (what-if, submissions, the audit log, live results).
pub fn may_read_as_staff(caller: &Caller, organisation_id: i64) -> Result<(), ServiceError> {
    match run_reader(caller, organisation_id)? {
        RunReader::Staff => Ok(()),
        _ => Err(ServiceError::Forbidden),
    }
}

/// How the caller reads run lists: the organisation to filter by (`None`
/// for the server itself) and the reader. Lists filter by both in SQL.
pub fn run_scope(caller: &Caller) -> Result<(Option<i64>, RunReader), ServiceError> {
    match caller.role {
        CallerRole::System => Ok((None, RunReader::Staff)),
        CallerRole::Anonymous => Err(ServiceError::Unauthenticated),
        _ => {
            let org = caller.organisation_id.ok_or(ServiceError::Forbidden)?;
            Ok((Some(org), run_reader(caller, org)?))
        }
    }
}

/// May the caller administer this organisation's accounts (用户管理: create,
/// update, reset passwords, deactivate)? The admin, as the policy grants it
/// (`users admin`; `role:admin` holds `*`).
pub fn may_administer_users(caller: &Caller, organisation_id: i64) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, "users", "admin"))
}

/// May the caller administer this organisation's departments (科室管理:
/// create, rename, deactivate)? The admin (`departments admin`).
pub fn may_administer_departments(caller: &Caller, organisation_id: i64) -> Result<Authorized, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return grant(caller, organisation_id, true) };
    grant(caller, organisation_id, g.policy.allows(&g.subject, &g.organisation_code, "departments", "admin"))
}

/// Which of an organisation's accounts a caller may see (用户查看范围).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserReader {
    /// The server and the admin: every account of the organisation.
    All,
    /// A department head: the organisation's department heads (its peers),
    /// itself included.
    Heads,
    /// A unit user or an integration user: itself only.
    Own(i64),
    /// A service credential: no account.
    Nobody,
}

/// How the caller reads the accounts of this organisation (another
/// organisation's: NOT_FOUND).
pub fn user_reader(caller: &Caller, organisation_id: i64) -> Result<UserReader, ServiceError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(UserReader::All) };
    if g.policy.allows(&g.subject, &g.organisation_code, "users", "admin") {
        return Ok(UserReader::All);
    }
    Ok(match (caller.role, caller.user_id()) {
        (CallerRole::Department, Some(_)) => UserReader::Heads,
        (_, Some(id)) => UserReader::Own(id),
        _ => UserReader::Nobody,
    })
}

/// What the caller may do in its own organisation (我的权限), as the policy
/// grants it; all false for an anonymous caller or a service credential.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrganisationRights {
    pub administer_users: bool,
    pub see_users: bool,
    pub administer_departments: bool,
    pub administer_units: bool,
    pub administer_organisation: bool,
    pub open_runs: bool,
    pub publish_runs: bool,
    pub edit_rubrics: bool,
    pub upload_evidence: bool,
}

/// The caller's rights in its own organisation.
pub fn organisation_rights(caller: &Caller) -> OrganisationRights {
    let Some(g) = caller.grants.as_ref() else { return OrganisationRights::default() };
    let may = |obj: &str, act: &str| g.policy.allows(&g.subject, &g.organisation_code, obj, act);
    OrganisationRights {
        administer_users: may("users", "admin"),
        see_users: caller.user_id().is_some(),
        administer_departments: may("departments", "admin"),
        administer_units: may("units", "admin"),
        administer_organisation: may("policy", "admin"),
        open_runs: may("runs", "open"),
        publish_runs: may("runs", "publish"),
        edit_rubrics: may("rubrics", "edit"),
        upload_evidence: may("evidence", "upload"),
    }
}
