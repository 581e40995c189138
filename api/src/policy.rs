//! Authorization decisions, in one place. Issue 2 serves reads only and
//! allows every caller to read; later issues add roles and tenants here.

use crate::caller::Caller;
use crate::error::ApiError;

/// May the caller read reference data (organisations, units, rubrics)?
pub fn may_read(_caller: &Caller) -> Result<(), ApiError> {
    Ok(())
}
