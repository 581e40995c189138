//! Authorization decisions, in one place. Issue 2 serves reads only and
//! allows every caller to read; later issues add roles and tenants here.

use crate::caller::Caller;
use crate::error::ApiError;

/// May the caller read reference data (organisations, units, rubrics)?
pub fn may_read(_caller: &Caller) -> Result<(), ApiError> {
    Ok(())
}

/// May the caller administer runs of this organisation (open, publish,
/// amend, reopen a section)? Allowed to all until logins arrive.
pub fn may_administer_runs(_caller: &Caller, _organisation_id: i64) -> Result<(), ApiError> {
    Ok(())
}

/// May the caller score (record, correct, withdraw, submit) this section of a
/// run? `section` is the section's code; the owning department decides later.
pub fn may_score_section(_caller: &Caller, _organisation_id: i64, _section: &str) -> Result<(), ApiError> {
    Ok(())
}

/// May the caller file a claim (申报) for this unit?
pub fn may_file_claim(_caller: &Caller, _organisation_id: i64, _unit_id: i64) -> Result<(), ApiError> {
    Ok(())
}

/// May the caller decide a claim on this section (the owning department)?
pub fn may_decide_claim(_caller: &Caller, _organisation_id: i64, _section: &str) -> Result<(), ApiError> {
    Ok(())
}

/// May the caller read this run (its observations, results, audit)?
pub fn may_read_run(_caller: &Caller, _organisation_id: i64) -> Result<(), ApiError> {
    Ok(())
}
