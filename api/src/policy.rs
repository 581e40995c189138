//! Authorization decisions, in one place. Every write of a score run asks
//! here; the casbin policy (`policies/`, kept in the database) decides, with
//! the domain taken from the stored object's organisation, never from the
//! client. Deny by default: anonymous callers are UNAUTHENTICATED, another
//! organisation's object is NOT_FOUND, a right the policy does not grant is
//! FORBIDDEN. The server itself (`Caller::system`, seeding) passes.
//!
//! Reads of score runs (their observations, results, claims, audit, exports)
//! need a signed-in caller of the run's organisation; finer read rules per
//! role (a unit sees only its own unit, integrations only published results)
//! are the next step of issue 5. Reference data (organisations, units,
//! rubrics) stays readable by every caller.

use kaohe_engine::Rubric;

use crate::caller::{Caller, CallerRole, Grants};
use crate::error::ApiError;

/// May the caller read reference data (organisations, units, rubrics)?
pub fn may_read(_caller: &Caller) -> Result<(), ApiError> {
    Ok(())
}

/// The caller's grants in this organisation; `None` for the server itself.
fn grants_in(caller: &Caller, organisation_id: i64) -> Result<Option<&Grants>, ApiError> {
    match caller.role {
        CallerRole::System => return Ok(None),
        CallerRole::Anonymous => return Err(ApiError::Unauthenticated),
        _ => {}
    }
    if caller.organisation_id != Some(organisation_id) {
        // Another tenant's object does not exist for this caller.
        return Err(ApiError::not_found("score run"));
    }
    caller.grants.as_ref().map(Some).ok_or(ApiError::Forbidden)
}

fn allow(granted: bool) -> Result<(), ApiError> {
    if granted { Ok(()) } else { Err(ApiError::Forbidden) }
}

/// The codes of a rule's indicator and its ancestors, nearest first.
fn indicator_path(rubric: &Rubric, rule_code: &str) -> Result<Vec<String>, ApiError> {
    let rule = rubric
        .rule(rule_code)
        .ok_or_else(|| ApiError::InvalidObservation { rule: rule_code.into(), message: "unknown rule".into() })?;
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
pub fn may_administer_runs(caller: &Caller, organisation_id: i64) -> Result<(), ApiError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(()) };
    allow(g.policy.allows(&g.subject, &g.organisation_code, "runs", "publish"))
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
) -> Result<(), ApiError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(()) };
    let path = indicator_path(rubric, rule_code)?;
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    allow(g.policy.allows_on_indicator(&g.subject, &g.organisation_code, &rubric.code, &path, act))
}

/// May the caller submit this section (提交)? Its owner, granted on the section itself.
pub fn may_submit_section(
    caller: &Caller,
    organisation_id: i64,
    rubric_code: &str,
    section: &str,
) -> Result<(), ApiError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(()) };
    allow(g.policy.allows_on_indicator(&g.subject, &g.organisation_code, rubric_code, &[section], "submit"))
}

/// May the caller file a claim (申报) for this unit? A unit user for its own
/// unit, or the admin.
pub fn may_file_claim(caller: &Caller, organisation_id: i64, unit_id: i64) -> Result<(), ApiError> {
    let Some(g) = grants_in(caller, organisation_id)? else { return Ok(()) };
    if caller.role == CallerRole::Unit && g.unit_id != Some(unit_id) {
        return Err(ApiError::Forbidden);
    }
    allow(g.policy.allows(&g.subject, &g.organisation_code, "claims", "file"))
}

/// The organisation the caller administers (its policy, its service
/// credentials): an admin's own, as the policy grants it.
pub fn administered_organisation(caller: &Caller) -> Result<i64, ApiError> {
    if caller.role == CallerRole::Anonymous {
        return Err(ApiError::Unauthenticated);
    }
    let org = caller.organisation_id.ok_or(ApiError::Forbidden)?;
    let g = grants_in(caller, org)?.ok_or(ApiError::Forbidden)?;
    allow(g.policy.allows(&g.subject, &g.organisation_code, "policy", "admin"))?;
    Ok(org)
}

/// May the caller read this run (its observations, results, audit)? A
/// signed-in caller of the run's organisation (another's: NOT_FOUND).
pub fn may_read_run(caller: &Caller, organisation_id: i64) -> Result<(), ApiError> {
    grants_in(caller, organisation_id).map(|_| ())
}

/// The organisation whose runs a list may show: the caller's own (`None` for
/// the server itself). Lists filter by it in SQL.
pub fn run_scope(caller: &Caller) -> Result<Option<i64>, ApiError> {
    match caller.role {
        CallerRole::System => Ok(None),
        CallerRole::Anonymous => Err(ApiError::Unauthenticated),
        _ => caller.organisation_id.map(Some).ok_or(ApiError::Forbidden),
    }
}
