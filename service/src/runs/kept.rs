//! Open runs kept for recordings (issue 18): a 科室 entering a month sends
//! one `recordObservation` after another into the same run, and each read
//! the run with its rubric version again (a joined statement, a sixth of a
//! recording's server instructions and one of its round trips).
//!
//! What a recording takes from the run before its write turn never changes:
//! its organisation, its rubric version (a frozen one: its rules never change,
//! `rubric::frozen`) and its period. Its status does change, one way only
//! (open → published → superseded), and is read again under the turn
//! (`turn::read`), as it always was. So only runs read as *open* are kept,
//! their status is provisional (`observations::Run`), and an answer that the
//! run's status decides before the turn is confirmed with a fresh read
//! (`observations::record_items`).
//!
//! Access is decided exactly as `visible_run` decides it, without a
//! statement only where its answer cannot depend on the run's status:
//! staff of the run's organisation (`RunReader::Staff`). Any other caller,
//! and any refusal, takes the ordinary path, which answers as it always did
//! (a run the caller may not see is NOT_FOUND, as one that does not exist).
//!
//! Kept per connection pool (one server's database), bounded (`MAX_ENTRIES`,
//! emptied when full).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use entity::score_run;
use entity::states::RunStatus;
use kaohe_engine::Rubric;
use sea_orm::DatabaseConnection;

use crate::caller::Caller;
use crate::policy::{self, RunReader};
use crate::rubric::frozen::{self, pool_identity};
use crate::rubric::query::VersionTree;

/// Runs kept at once, over every pool of the process.
const MAX_ENTRIES: usize = 4096;

static KEPT: LazyLock<Mutex<HashMap<(usize, i64), score_run::Model>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The kept run `run_id` with its version compiled, when `caller` sees it
/// as staff (the answer `visible_run` gives without reading anything else)
/// and the version is still kept (`rubric::frozen`); `None` otherwise.
pub(super) fn for_staff(
    db: &DatabaseConnection,
    caller: &Caller,
    run_id: i64,
) -> Option<(score_run::Model, Arc<Rubric>, Arc<VersionTree>)> {
    let run = KEPT.lock().ok()?.get(&(pool_identity(db), run_id)).cloned()?;
    policy::signed_in(caller).ok()?;
    policy::may_read(caller).ok()?;
    if !matches!(policy::run_reader(caller, run.organisation_id), Ok(RunReader::Staff)) {
        return None;
    }
    let (rubric, tree) = frozen::kept_compiled(db, run.rubric_version_id)?;
    Some((run, rubric, tree))
}

/// Keeps a run just read as the caller may see it, when it is open and its
/// version frozen (`frozen_version`: its tree came with its rubric).
pub(super) fn keep(db: &DatabaseConnection, run: &score_run::Model, frozen_version: bool) {
    if !frozen_version || run.status != RunStatus::Open {
        return;
    }
    if let Ok(mut map) = KEPT.lock() {
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert((pool_identity(db), run.id), run.clone());
    }
}

/// Forgets a run whose status this server has just changed (another server's
/// change is found under the write turn instead).
pub(super) fn forget(db: &DatabaseConnection, run_id: i64) {
    if let Ok(mut map) = KEPT.lock() {
        map.remove(&(pool_identity(db), run_id));
    }
}

/// Forgets what was kept for a pool at `db`'s address (see
/// `rubric::frozen::forget_pool`).
pub(crate) fn forget_pool(db: &DatabaseConnection) {
    let pool = pool_identity(db);
    if let Ok(mut map) = KEPT.lock() {
        map.retain(|(p, _), _| *p != pool);
    }
}
