//! The pulse of the database, pushed instead of asked.
//!
//! Without it every signed-in request reads its caller's row with the data
//! generation (`auth::bearer`): one statement even for an answer the
//! response cache holds. With it, an instance keeps each caller's row and
//! learns of changes from PostgreSQL `LISTEN kaohe_pulse` (triggers of
//! migration 000130 `NOTIFY` on every audit entry, and on every change to a
//! user, session, service credential or organisation row):
//! - an audit entry moves the generation of its organisation (or, shared,
//!   of every organisation) in this instance's memory;
//! - a change to a user, session, credential or organisation row forgets
//!   every kept row (they are read again, once per caller);
//! - a write answered by this instance does both at once for its
//!   organisation, before its answer leaves (`after_write`), so a caller
//!   reads its own writes; the kept rows of other organisations' callers
//!   stay (a bureau's writes do not send every other bureau's readers back
//!   to the database), and hear of it with the notification.
//!
//! **Bounds.** Another instance's write reaches this one within the
//! notification delay (a few milliseconds on one network). A kept row is
//! read again after `RECHECK` whatever was heard, and nothing is kept while
//! the listening connection is down, so a lost notification cannot serve a
//! deactivated login or a stale generation for longer than `RECHECK`.
//!
//! **SQLite** has no notifications; there the server's own writes are the
//! pulse. A write answered here forgets every kept row at once (`after_write`:
//! a shared entry moves every organisation, and nothing else will say so), and
//! one connection of its own asks `PRAGMA data_version` every `WATCH`: the
//! number moves when any other connection commits (this server's other pooled
//! connections, its webhook worker, a `kaohe` command run beside it, a hand
//! edit), and then every kept row is forgotten. A kept row is used only while
//! the watch answered within `WATCH_STALE`, so another process's write reaches
//! this one within `WATCH` (`WATCH_STALE` if the watch is slow). An idle
//! server watches every `WATCH_IDLE`; its next request reads its caller and
//! wakes the watch. An in-memory database has no second connection to watch
//! it with: there every request reads its caller.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use entity::organisation;
use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::{DatabaseBackend, DatabaseConnection};

/// The channel the triggers of migration 000130 notify.
pub const CHANNEL: &str = "kaohe_pulse";

/// A kept row is read again after this long, whatever was heard.
pub const RECHECK: Duration = Duration::from_secs(5);

/// How often a server on a SQLite file asks whether anything was committed,
/// while it is asked for kept rows ...
pub const WATCH: Duration = Duration::from_millis(10);

/// ... and after `BUSY` without a request.
const WATCH_IDLE: Duration = Duration::from_millis(250);
const BUSY: Duration = Duration::from_secs(1);

/// On SQLite, kept rows are not used when the watch has not answered for this long.
pub const WATCH_STALE: Duration = Duration::from_millis(50);

/// Kept rows at most; past it, the map is emptied (a new caller's first
/// request reads its row, as without a pulse).
const MAX_KEPT: usize = 10_000;

/// Whom a kept row is for: a user's session or a service credential.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum SubjectKey {
    Session { user: i64, session: i64 },
    Credential(i64),
}

struct Kept<R> {
    row: R,
    /// The organisation the row belongs to (its writes make it stale).
    organisation: i64,
    /// When it was read: `Stamp` taken before the read.
    stamp: Stamp,
    read: Instant,
}

/// The moment a read starts, as the pulse counts time: the epoch, and the
/// count of this instance's writes ([`Pulse::stamp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    epoch: u64,
    writes: u64,
}

/// One instance's memory of the pulse; `R` is the caller's row as read.
pub struct Pulse<R> {
    /// Whether the listening connection (the watching one, on SQLite) is up.
    live: AtomicBool,
    /// SQLite: no notifications come, so a write answered here forgets
    /// every kept row, and the watch's last answer (`born`-relative
    /// milliseconds) bounds what is used.
    local: AtomicBool,
    watched: AtomicU64,
    /// When a kept row was last asked for (`born`-relative milliseconds),
    /// and the wake-up of an idle watch.
    asked: AtomicU64,
    wake: tokio::sync::Notify,
    born: Instant,
    /// SQLite: the watching connection and the `data_version` it last saw
    /// (shared with [`Pulse::written`], which takes in the server's own
    /// write so that the watch does not count it a second time).
    watcher: tokio::sync::Mutex<Option<(SqliteConnection, i64)>>,
    /// Moves whenever a kept row may have gone stale (or the connection
    /// went down or came up): rows kept at an older epoch are not used.
    epoch: AtomicU64,
    /// Writes this instance answered, counted; `written` holds the count
    /// at each organisation's last one.
    writes: AtomicU64,
    written: Mutex<HashMap<i64, u64>>,
    /// The newest own audit id heard of, per organisation.
    own: Mutex<HashMap<i64, i64>>,
    /// The newest shared audit id heard of.
    shared: AtomicI64,
    kept: Mutex<HashMap<SubjectKey, Kept<R>>>,
    /// Organisations by code, kept on the same terms as callers' rows (a
    /// changed organisation row notifies `s`; a new one is read when asked).
    organisations: Mutex<HashMap<String, Kept<organisation::Model>>>,
}

impl<R> Default for Pulse<R> {
    fn default() -> Self {
        Pulse {
            live: AtomicBool::new(false),
            local: AtomicBool::new(false),
            watched: AtomicU64::new(0),
            asked: AtomicU64::new(0),
            wake: tokio::sync::Notify::new(),
            born: Instant::now(),
            watcher: tokio::sync::Mutex::new(None),
            epoch: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            written: Mutex::new(HashMap::new()),
            own: Mutex::new(HashMap::new()),
            shared: AtomicI64::new(0),
            kept: Mutex::new(HashMap::new()),
            organisations: Mutex::new(HashMap::new()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a holder panicked; the map is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a notification says (the triggers' payloads).
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// `a <organisation id or -> <1 shared | 0 own> <audit id>`
    Entry { organisation: Option<i64>, shared: bool, id: i64 },
    /// `s`: a user, session, credential or organisation row changed.
    Subjects,
}

impl Heard {
    pub fn parse(payload: &str) -> Option<Heard> {
        let mut parts = payload.split(' ');
        match parts.next()? {
            "s" => Some(Heard::Subjects),
            "a" => {
                let organisation = match parts.next()? {
                    "-" => None,
                    n => Some(n.parse().ok()?),
                };
                let shared = parts.next()? == "1";
                let id = parts.next()?.parse().ok()?;
                Some(Heard::Entry { organisation, shared, id })
            }
            _ => None,
        }
    }
}

impl<R: Clone> Pulse<R> {
    /// The stamp to give `keep` with a row about to be read.
    pub fn stamp(&self) -> Stamp {
        Stamp { epoch: self.epoch.load(Ordering::Acquire), writes: self.writes.load(Ordering::Acquire) }
    }

    /// The kept row, if the pulse is live and nothing may have changed it.
    pub fn kept(&self, key: SubjectKey) -> Option<R> {
        self.fresh(&self.kept, &key)
    }

    /// Keeps a row of `organisation` read at `stamp` (taken before the
    /// read: a change heard, or a write of its organisation answered, during
    /// the read makes it stale at once).
    pub fn keep(&self, key: SubjectKey, row: R, organisation: i64, stamp: Stamp) {
        self.put(&self.kept, key, row, organisation, stamp);
    }

    /// The organisation of this code, if kept and nothing may have changed it.
    pub fn kept_organisation(&self, code: &str) -> Option<organisation::Model> {
        self.fresh(&self.organisations, code)
    }

    /// Keeps an organisation read at `stamp` (as [`Pulse::keep`]).
    pub fn keep_organisation(&self, row: organisation::Model, stamp: Stamp) {
        let (code, id) = (row.code.clone(), row.id);
        self.put(&self.organisations, code, row, id, stamp);
    }

    /// A kept row, if the pulse is live and nothing may have changed it.
    fn fresh<K, Q, T>(&self, map: &Mutex<HashMap<K, Kept<T>>>, key: &Q) -> Option<T>
    where
        K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
        Q: std::hash::Hash + Eq + ?Sized,
        T: Clone,
    {
        if !self.live.load(Ordering::Acquire) || self.watch_stalled() {
            return None;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let (row, organisation, stamp) = {
            let kept = lock(map);
            let k = kept.get(key)?;
            if k.stamp.epoch != epoch || k.read.elapsed() >= RECHECK {
                return None;
            }
            (k.row.clone(), k.organisation, k.stamp)
        };
        self.unwritten_since(organisation, stamp).then_some(row)
    }

    /// Milliseconds since `born`.
    fn now(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// On SQLite: whether the watch has not answered for `WATCH_STALE` (then
    /// it is woken). Notes that a kept row was asked for.
    fn watch_stalled(&self) -> bool {
        if !self.local.load(Ordering::Acquire) {
            return false;
        }
        let now = self.now();
        self.asked.store(now, Ordering::Relaxed);
        let stalled = now.saturating_sub(self.watched.load(Ordering::Acquire)) >= WATCH_STALE.as_millis() as u64;
        if stalled {
            self.wake.notify_one();
        }
        stalled
    }

    /// How long the watch waits before asking again.
    fn watch_interval(&self) -> Duration {
        let idle = self.now().saturating_sub(self.asked.load(Ordering::Relaxed));
        if idle < BUSY.as_millis() as u64 { WATCH } else { WATCH_IDLE }
    }

    /// The watch (SQLite) answered: `moved` when something was committed
    /// since its last answer.
    fn watched(&self, moved: bool) {
        if moved {
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
        self.watched.store(self.now(), Ordering::Release);
    }

    /// Whether this instance answered no write of `organisation` after `stamp`.
    fn unwritten_since(&self, organisation: i64, stamp: Stamp) -> bool {
        lock(&self.written).get(&organisation).is_none_or(|&at| at <= stamp.writes)
    }

    /// Keeps a row read at `stamp`, unless something moved since.
    fn put<K: std::hash::Hash + Eq, T>(
        &self,
        map: &Mutex<HashMap<K, Kept<T>>>,
        key: K,
        row: T,
        organisation: i64,
        stamp: Stamp,
    ) {
        let live = self.live.load(Ordering::Acquire);
        if !live || stamp.epoch != self.epoch.load(Ordering::Acquire) || !self.unwritten_since(organisation, stamp) {
            return;
        }
        let mut kept = lock(map);
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, Kept { row, organisation, stamp, read: Instant::now() });
    }

    /// An organisation's generation as heard: the larger of its newest own
    /// and the newest shared audit id, merged with what a read just found.
    pub fn generation(&self, organisation: i64, own: Option<i64>, shared: Option<i64>) -> i64 {
        let shared = self.shared.fetch_max(shared.unwrap_or(0), Ordering::AcqRel).max(shared.unwrap_or(0));
        let mut map = lock(&self.own);
        let entry = map.entry(organisation).or_insert(0);
        *entry = (*entry).max(own.unwrap_or(0));
        (*entry).max(shared)
    }

    /// What a notification says, applied.
    pub fn hear(&self, heard: Heard) {
        match heard {
            Heard::Subjects => {
                self.epoch.fetch_add(1, Ordering::AcqRel);
            }
            Heard::Entry { shared: true, id, .. } | Heard::Entry { organisation: None, id, .. } => {
                self.shared.fetch_max(id, Ordering::AcqRel);
            }
            Heard::Entry { organisation: Some(org), id, .. } => {
                let mut map = lock(&self.own);
                let entry = map.entry(org).or_insert(0);
                *entry = (*entry).max(id);
            }
        }
    }

    /// The listening connection came up or went down: either way, what is
    /// kept may have missed something.
    pub fn set_live(&self, live: bool) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.live.store(live, Ordering::Release);
        if !live {
            lock(&self.kept).clear();
            lock(&self.organisations).clear();
        }
    }

    /// Whether the listening connection is up.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// After a write this instance answered for a caller of `organisation`
    /// (`None`: anonymous, e.g. a sign-in): that organisation's callers (all
    /// callers, for `None`) read their rows and generation again at once,
    /// without waiting for the write's own notification. An organisation's
    /// callers can change only its own users, sessions and credentials; what
    /// a write changes elsewhere (a shared entry) arrives with its
    /// notification, as another instance's writes do.
    /// On SQLite every kept row is forgotten: no notification will follow
    /// (use [`Pulse::written`] there, which also spares the watch).
    pub fn after_write(&self, organisation: Option<i64>) {
        match organisation {
            Some(org) if !self.local.load(Ordering::Acquire) => {
                let mut written = lock(&self.written);
                let at = self.writes.fetch_add(1, Ordering::AcqRel) + 1;
                written.insert(org, at);
            }
            _ => {
                self.epoch.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// After a write this instance answered: on PostgreSQL the entries it
    /// appended (`audit::Appended`) are heard at once, as their
    /// notifications will say; then, unless the write changed no caller's
    /// row (`keeps_callers`: no user, session, credential or organisation
    /// was written, so only the generations moved), [`Pulse::after_write`].
    /// So a 科室 entering a month keeps its row from one recording to the
    /// next, and still reads its own writes.
    ///
    /// On SQLite, after taking in the write's own move of `data_version`:
    /// read first, then forget every row, so any commit up to the read (this
    /// write's, or another process's just before it: `data_version` cannot
    /// tell them apart) is covered by this forgetting, and the watch does not
    /// make every caller read its row a second time for it.
    pub async fn written(&self, organisation: Option<i64>, appended: Vec<Heard>, keeps_callers: bool) {
        if self.local.load(Ordering::Acquire) {
            let mut watcher = self.watcher.lock().await;
            if let Some((conn, seen)) = watcher.as_mut()
                && let Ok(version) = data_version(conn).await
            {
                *seen = version;
            }
            drop(watcher);
            return self.after_write(organisation);
        }
        for heard in appended {
            self.hear(heard);
        }
        if !keeps_callers || organisation.is_none() {
            self.after_write(organisation);
        }
    }

    /// The watch's look (SQLite): whether `data_version` moved since the
    /// last; an error drops the connection.
    async fn look(&self) -> Result<(), sea_orm::sqlx::Error> {
        let mut watcher = self.watcher.lock().await;
        let Some((conn, seen)) = watcher.as_mut() else { return Ok(()) };
        match data_version(conn).await {
            Ok(version) => {
                self.watched(version != *seen);
                *seen = version;
                Ok(())
            }
            Err(e) => {
                *watcher = None;
                Err(e)
            }
        }
    }
}

async fn data_version(conn: &mut SqliteConnection) -> Result<i64, sea_orm::sqlx::Error> {
    sea_orm::sqlx::query_scalar::<_, i64>("PRAGMA data_version").fetch_one(conn).await
}

/// Listens on `CHANNEL` (PostgreSQL) or watches the file (SQLite, see
/// [`watch`]) for as long as the process runs, reconnecting after a second
/// when the connection drops. Returns at once for an in-memory database.
pub async fn listen<R: Clone + Send + Sync + 'static>(
    db: DatabaseConnection,
    pulse: std::sync::Arc<Pulse<R>>,
    in_memory: bool,
) {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {}
        DatabaseBackend::Sqlite if !in_memory => return watch(db, pulse).await,
        _ => return,
    }
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "pulse: LISTEN failed");
                } else {
                    pulse.set_live(true);
                    tracing::debug!("pulse: listening");
                    while let Ok(Some(n)) = listener.try_recv().await {
                        match Heard::parse(n.payload()) {
                            Some(heard) => pulse.hear(heard),
                            // Unknown payload: assume anything changed.
                            None => pulse.after_write(None),
                        }
                    }
                    pulse.set_live(false);
                    tracing::warn!("pulse: connection lost; every request reads its caller until it is back");
                }
            }
            Err(e) => tracing::warn!(error = %e, "pulse: cannot connect"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// SQLite: asks `PRAGMA data_version` on a connection of its own every
/// `WATCH` (`WATCH_IDLE` when idle); the number moves when any other
/// connection commits.
async fn watch<R: Clone + Send + Sync + 'static>(db: DatabaseConnection, pulse: std::sync::Arc<Pulse<R>>) {
    use sea_orm::sqlx::Connection;
    pulse.local.store(true, Ordering::Release);
    let options = db.get_sqlite_connection_pool().connect_options();
    loop {
        let opened = async {
            let mut conn = SqliteConnection::connect_with(&options).await?;
            let version = data_version(&mut conn).await?;
            Ok::<_, sea_orm::sqlx::Error>((conn, version))
        };
        match opened.await {
            Ok(watching) => {
                *pulse.watcher.lock().await = Some(watching);
                pulse.watched(false);
                pulse.set_live(true);
                tracing::debug!("pulse: watching the database file");
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(pulse.watch_interval()) => {}
                        () = pulse.wake.notified() => {}
                    }
                    if let Err(e) = pulse.look().await {
                        tracing::warn!(error = %e, "pulse: watch failed");
                        break;
                    }
                }
                pulse.set_live(false);
            }
            Err(e) => tracing::warn!(error = %e, "pulse: cannot open the watching connection"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_and_garbage_does_not() {
        assert_eq!(Heard::parse("s"), Some(Heard::Subjects));
        assert_eq!(Heard::parse("a 7 0 42"), Some(Heard::Entry { organisation: Some(7), shared: false, id: 42 }));
        assert_eq!(Heard::parse("a - 1 43"), Some(Heard::Entry { organisation: None, shared: true, id: 43 }));
        assert_eq!(Heard::parse("a x 0 1"), None);
        assert_eq!(Heard::parse(""), None);
    }

    #[test]
    fn rows_are_kept_only_while_nothing_moved() {
        let p: Pulse<u8> = Pulse::default();
        let key = SubjectKey::Session { user: 1, session: 2 };
        let e = p.stamp();
        p.keep(key, 9, 1, e);
        assert_eq!(p.kept(key), None, "nothing is kept before the pulse is live");
        p.set_live(true);
        let e = p.stamp();
        p.keep(key, 9, 1, e);
        assert_eq!(p.kept(key), Some(9));
        p.hear(Heard::Subjects);
        assert_eq!(p.kept(key), None, "a changed user or session forgets the row");
        // A row read while a change was heard is not kept.
        let e = p.stamp();
        p.after_write(None);
        p.keep(key, 9, 1, e);
        assert_eq!(p.kept(key), None);
        p.keep(key, 9, 1, p.stamp());
        p.set_live(false);
        assert_eq!(p.kept(key), None, "nothing is used while the connection is down");
    }

    #[test]
    fn a_write_forgets_only_its_own_organisations_rows() {
        let p: Pulse<u8> = Pulse::default();
        p.set_live(true);
        let (mine, theirs) = (SubjectKey::Session { user: 1, session: 1 }, SubjectKey::Credential(2));
        p.keep(mine, 1, 10, p.stamp());
        p.keep(theirs, 2, 20, p.stamp());
        p.after_write(Some(10));
        assert_eq!(p.kept(mine), None, "the writer's organisation reads its callers again");
        assert_eq!(p.kept(theirs), Some(2), "another organisation's callers stay kept");
        // A row of the written organisation read while the write was answered is not kept.
        let e = p.stamp();
        p.after_write(Some(10));
        p.keep(mine, 1, 10, e);
        assert_eq!(p.kept(mine), None);
        p.keep(mine, 1, 10, p.stamp());
        assert_eq!(p.kept(mine), Some(1), "read after the write, it is kept");
        // An anonymous write (a sign-in) forgets every row.
        p.after_write(None);
        assert_eq!((p.kept(mine), p.kept(theirs)), (None, None));
    }

    #[tokio::test]
    async fn a_data_write_keeps_its_callers_and_moves_their_generation() {
        let p: Pulse<u8> = Pulse::default();
        p.set_live(true);
        let (mine, theirs) = (SubjectKey::Session { user: 1, session: 1 }, SubjectKey::Credential(2));
        p.keep(mine, 1, 10, p.stamp());
        p.keep(theirs, 2, 20, p.stamp());
        assert_eq!(p.generation(10, Some(5), Some(3)), 5);
        let entry = |id| vec![Heard::Entry { organisation: Some(10), shared: false, id }];
        p.written(Some(10), entry(7), true).await;
        assert_eq!(p.kept(mine), Some(1), "no caller's row was written: it stays kept");
        assert_eq!(p.generation(10, Some(5), Some(3)), 7, "the write's entry moved the generation at once");
        assert_eq!(p.generation(20, None, Some(3)), 3, "another organisation's did not move");
        p.written(Some(10), vec![Heard::Entry { organisation: None, shared: true, id: 9 }], true).await;
        assert_eq!(p.generation(20, None, Some(3)), 9, "a shared entry moves every organisation");
        p.written(Some(10), entry(11), false).await;
        assert_eq!(p.kept(mine), None, "a write that may have changed a caller forgets its organisation's rows");
        assert_eq!(p.kept(theirs), Some(2));
        assert_eq!(p.generation(10, None, None), 11);
        p.keep(mine, 1, 10, p.stamp());
        p.written(None, Vec::new(), true).await;
        assert_eq!((p.kept(mine), p.kept(theirs)), (None, None), "an anonymous write (a sign-in) forgets every row");
    }

    #[test]
    fn on_sqlite_any_write_forgets_every_row_and_a_stalled_watch_keeps_nothing() {
        let p: Pulse<u8> = Pulse::default();
        p.local.store(true, Ordering::Release);
        p.set_live(true);
        let (mine, theirs) = (SubjectKey::Session { user: 1, session: 1 }, SubjectKey::Credential(2));
        p.keep(mine, 1, 10, p.stamp());
        p.keep(theirs, 2, 20, p.stamp());
        // (Each use follows an answer of the watch: a slow test machine
        // would otherwise find it stalled.)
        p.watched(false);
        assert_eq!((p.kept(mine), p.kept(theirs)), (Some(1), Some(2)));
        p.after_write(Some(10));
        p.watched(false);
        assert_eq!((p.kept(mine), p.kept(theirs)), (None, None), "a shared entry is not notified on SQLite");
        p.keep(theirs, 2, 20, p.stamp());
        p.watched(false);
        assert_eq!(p.kept(theirs), Some(2), "an unmoved data_version keeps rows");
        p.watched(true);
        assert_eq!(p.kept(theirs), None, "another connection committed");
        p.keep(theirs, 2, 20, p.stamp());
        p.watched(false);
        std::thread::sleep(WATCH_STALE);
        assert_eq!(p.kept(theirs), None, "a silent watch keeps nothing");
        assert_eq!(p.watch_interval(), WATCH, "asked for a row: the watch hurries");
        p.watched(false);
        assert_eq!(p.kept(theirs), Some(2));
    }

    #[test]
    fn generations_follow_own_and_shared_entries() {
        let p: Pulse<u8> = Pulse::default();
        assert_eq!(p.generation(1, Some(10), Some(5)), 10);
        p.hear(Heard::Entry { organisation: Some(2), shared: false, id: 20 });
        assert_eq!(p.generation(1, None, None), 10, "another organisation's entry does not move it");
        p.hear(Heard::Entry { organisation: Some(2), shared: true, id: 30 });
        assert_eq!(p.generation(1, None, None), 30, "a shared entry moves every organisation");
        p.hear(Heard::Entry { organisation: Some(1), shared: false, id: 31 });
        assert_eq!(p.generation(1, Some(12), None), 31, "a read never moves it back");
    }
}
