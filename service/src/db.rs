//! Connecting to the database and migrating it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::secret::DatabaseUrl;

/// Opens the pool. On SQLite: WAL journal, 5 s busy timeout, foreign keys on.
pub async fn connect(url: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, None).await
}

/// The pool expensive requests use (see `http::gate`), so that they never
/// hold every connection of the main pool. An in-memory SQLite database
/// exists once per connection: there the main pool is shared.
/// `concurrency` is how many expensive requests run at once.
pub async fn connect_expensive(
    url: &DatabaseUrl,
    main: &DatabaseConnection,
    concurrency: usize,
) -> Result<DatabaseConnection, DbErr> {
    if url.is_memory() {
        return Ok(main.clone());
    }
    let max = u32::try_from(concurrency.saturating_mul(2)).unwrap_or(u32::MAX).max(2);
    connect_with(url, Some(max)).await
}

/// On SQLite, a pooled connection idle this long is pinged before it is
/// handed out (PostgreSQL's are checked every time: see `connect_with`).
pub const ACQUIRE_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

async fn connect_with(url: &DatabaseUrl, max_connections: Option<u32>) -> Result<DatabaseConnection, DbErr> {
    if url.is_sqlite() && !url.is_memory() {
        // The default database lives in DATA_DIR; make sure the folder exists.
        if let Some(path) = sqlite_path(url.expose())
            && let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let mut opt = ConnectOptions::new(url.expose());
    // An in-memory SQLite database exists once per connection: keep one.
    let memory = url.is_memory();
    let max = match (url.is_sqlite(), memory) {
        (true, true) => 1,
        (true, false) => 8,
        _ => 10,
    };
    opt.max_connections(max_connections.unwrap_or(max).min(max))
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        })
        .map_sqlx_sqlite_pool_opts(|o| o.after_connect(|conn, _| Box::pin(plan_once(conn))));
    if url.is_sqlite() {
        // sqlx pings a connection on every acquire by default, a round trip
        // to SQLite's worker thread each time: only a connection idle for a
        // while is pinged.
        opt.test_before_acquire_if_idle_for(ACQUIRE_PING_AFTER_IDLE);
    } else {
        // PostgreSQL: every acquire pings, which costs a round trip only for
        // a connection idle for more than half a second (the one a server
        // restart, proxy or firewall may have dropped); one used since is
        // checked by looking at what arrived on it (vendor/README.md), so a
        // backend that was ended while it sat in the pool is never used.
        opt.test_before_acquire(true);
    }
    if memory {
        // The database lives as long as its one connection: never let it close.
        opt.min_connections(1).idle_timeout(None::<Duration>).max_lifetime(None::<Duration>);
    }
    let db = Database::connect(opt).await?;
    // What the server keeps is keyed by its pool's address, which a pool
    // dropped earlier in this process (another test's) may have had.
    crate::rubric::frozen::forget_pool(&db);
    crate::runs::kept::forget_pool(&db);
    Ok(db)
}

/// Makes a SQLite connection plan each statement once (the query planner
/// stability guarantee, `SQLITE_DBCONFIG_ENABLE_QPSG`).
///
/// Without it SQLite re-prepares a cached statement at every run whose
/// plan a bound value could change, and it counts a bound `LIMIT` among
/// them (`sqlite3ExprIsInteger` marks the parameter): sea-query binds every
/// page's `LIMIT ?` and every `.one()`'s `LIMIT 1`, so those statements were
/// parsed and planned again on each execution (a fifth of a computed
/// department page's CPU, 2026-12-03). Our plans do not depend on values:
/// no `ANALYZE` statistics are gathered on SQLite, and no `LIKE` pattern is
/// bound for an index to use.
async fn plan_once(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    if planner_stability(conn, 1).await? {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Configuration("SQLite did not take SQLITE_DBCONFIG_ENABLE_QPSG".into()))
    }
}

/// Sets a SQLite connection's query planner stability guarantee (`set`: 1
/// on, 0 off, -1 as it is) and answers whether it is on.
async fn planner_stability(
    conn: &mut sea_orm::sqlx::SqliteConnection,
    set: std::ffi::c_int,
) -> Result<bool, sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut on: std::ffi::c_int = 0;
    // SAFETY: `handle` keeps the connection's worker thread away from the
    // database for the call; with ENABLE_QPSG `sqlite3_db_config` takes an
    // int and a pointer to the int that receives the setting after the call.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut on as *mut std::ffi::c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(format!("SQLITE_DBCONFIG_ENABLE_QPSG answered {rc}").into()));
    }
    Ok(on == 1)
}

/// Statements a server has sent, on every pool (read by tests that count
/// queries, e.g. the DataLoader batching of a 1,000-unit ranking).
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A statement slower than this is logged (its SQL only: never the values).
const SLOW: Duration = Duration::from_millis(250);

/// Counts every statement of this pool and logs the slow ones.
pub fn instrument(db: &mut DatabaseConnection, counter: &StatementCounter) {
    instrument_timed(db, counter, None);
}

/// `instrument`, and each statement's duration observed in
/// `kaohe_db_statement_duration_seconds{pool, kind, outcome}` (`pool`:
/// `main` or `expensive`; `kind`: select, insert, update, delete,
/// transaction, other).
pub fn instrument_timed(
    db: &mut DatabaseConnection,
    counter: &StatementCounter,
    timing: Option<(prometheus::HistogramVec, &'static str)>,
) {
    let count = counter.0.clone();
    db.set_metric_callback(move |info| {
        count.fetch_add(1, Ordering::Relaxed);
        if let Some((histogram, pool)) = &timing {
            let kind = crate::metrics::statement_kind(&info.statement.sql);
            let outcome = if info.failed { "error" } else { "ok" };
            histogram.with_label_values(&[pool, kind, outcome]).observe(info.elapsed.as_secs_f64());
        }
        tracing::trace!(target: "kaohe::sql", sql = %info.statement.sql, "statement");
        if info.elapsed > SLOW {
            tracing::warn!(elapsed_ms = info.elapsed.as_millis() as u64, failed = info.failed, sql = %info.statement.sql, "slow statement");
        }
    });
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    Some(std::path::PathBuf::from(path))
}

/// The PostgreSQL advisory lock of the write turn (any constant unlikely to
/// clash with another application's: "kaohe" in ASCII). A write of data
/// every organisation may read takes it alone (exclusive); a write of one
/// organisation's own data takes it shared, with its organisation's lock.
const WRITE_LOCK: i64 = 0x6b_61_6f_68_65;

/// The class of the per-organisation locks (the two-key advisory lock space,
/// apart from `WRITE_LOCK`'s): `(ORGANISATION_LOCK_CLASS, organisation id)`.
const ORGANISATION_LOCK_CLASS: i32 = 0x6b_61_6f;

/// Starts a transaction that will write data **any organisation may read**
/// (reference data, accounts, settings, the platform's entries), or whose
/// organisation is not known up front. Writers take turns over the whole
/// database: on SQLite `BEGIN IMMEDIATE` (the write lock is taken at once,
/// waiting up to the busy timeout, so two writers that read first cannot
/// deadlock into `SQLITE_BUSY`); on PostgreSQL the exclusive advisory lock
/// `WRITE_LOCK`, which also waits for every organisation's writers.
///
/// Every write appends to its organisation's audit chain, so two writers
/// never read the same chain head, and audit ids of one chain are committed
/// in order. The newest id of the caller's organisation together with the
/// newest *shared* one (`audit_log.shared_data`, only ever written under this
/// exclusive turn) is the data generation of that organisation's callers
/// (see `audit::generation`, `http::responses`).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        return begin_immediate(db).await;
    }
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})")).await?;
    Ok(txn)
}

/// Starts a transaction that writes **only organisation `organisation_id`'s
/// own data** (observations, claims, section submissions, its runs and
/// their results): its audit entries are not shared (`audit::OWN_DATA`).
/// On PostgreSQL it takes `WRITE_LOCK` shared and the organisation's own
/// lock, in one statement: writers of different organisations proceed in
/// parallel, writers of one organisation take turns (its chain head, its
/// generation), and a shared write waits for them all and they for it. On
/// SQLite the database has one writer at a time anyway: `BEGIN IMMEDIATE`.
pub async fn begin_organisation_write(
    db: &DatabaseConnection,
    organisation_id: i64,
) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        return begin_immediate(db).await;
    }
    let Ok(org) = i32::try_from(organisation_id) else {
        // Outside the two-key lock space: take the whole database's turn.
        return begin_write(db).await;
    };
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock_shared({WRITE_LOCK}), pg_advisory_xact_lock({ORGANISATION_LOCK_CLASS}, {org})"
    ))
    .await?;
    Ok(txn)
}

/// Inside a write transaction about to append a shared audit entry: makes
/// sure the transaction holds the exclusive turn (a no-op when it came from
/// `begin_write`; PostgreSQL advisory locks are re-entrant). So a shared
/// entry is never written beside another organisation's writer, whichever
/// way its transaction began, and shared ids are committed in order.
pub async fn ensure_exclusive_turn<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})")).await?;
    }
    Ok(())
}

async fn begin_immediate(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// True when SQLite gave up waiting for a lock ("database is locked").
pub fn is_busy(e: &DbErr) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("(code: 5)") || text.contains("SQLITE_BUSY")
}

/// A nullable column of `res` at position `at`, read as sea-orm reads it
/// (sqlx's `Option<T>`, on either backend) but without the error sea-orm
/// builds for every NULL only to turn it into `None` (a formatted message,
/// some 400 instructions a null column: 6% of a recording, which reads the
/// unit's rows, and 2% of a department head's page).
pub fn nullable<T>(res: &sea_orm::QueryResult, at: usize) -> Result<Option<T>, sea_orm::DbErr>
where
    Option<T>: sea_orm::TryGetable,
    T: for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
        + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>,
{
    use sea_orm::sqlx::Row as _;
    let decoded = |e: sea_orm::sqlx::Error| sea_orm::DbErr::Type(format!("column {at}: {e}"));
    if let Some(row) = res.try_as_pg_row() {
        return row.try_get::<Option<T>, _>(at).map_err(decoded);
    }
    if let Some(row) = res.try_as_sqlite_row() {
        return row.try_get::<Option<T>, _>(at).map_err(decoded);
    }
    res.try_get_by_index(at)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    use sea_orm::{ConnectionTrait, DbBackend};

    use super::*;

    /// How many times SQLite re-prepared the statements a connection holds
    /// (every statement sqlx keeps prepared, summed).
    async fn reprepared(conn: &mut sea_orm::sqlx::SqliteConnection) -> i64 {
        let mut handle = conn.lock_handle().await.expect("the connection's handle");
        let db = handle.as_raw_handle().as_ptr();
        let mut total = 0;
        // SAFETY: the handle is locked out of its worker; sqlite3_next_stmt
        // walks the connection's own statements and stmt_status only reads.
        unsafe {
            let mut stmt = libsqlite3_sys::sqlite3_next_stmt(db, std::ptr::null_mut());
            while !stmt.is_null() {
                total += i64::from(libsqlite3_sys::sqlite3_stmt_status(
                    stmt,
                    libsqlite3_sys::SQLITE_STMTSTATUS_REPREPARE,
                    0,
                ));
                stmt = libsqlite3_sys::sqlite3_next_stmt(db, stmt);
            }
        }
        total
    }

    /// A page (`LIMIT ?`, bound as sea-query binds it) run again and again is
    /// planned once: without `plan_once` SQLite re-prepares it on every run.
    #[tokio::test]
    async fn a_sqlite_statement_with_a_bound_limit_is_planned_once() {
        let url = DatabaseUrl::from("sqlite::memory:".to_string());
        let db = connect(&url).await.expect("an in-memory database");
        db.execute_unprepared(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO t (n) VALUES (1), (2), (3)",
        )
        .await
        .expect("a table");
        for limit in [1u64, 2, 3, 1, 2, 3] {
            let q = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("t"))
                .and_where(Expr::col(Alias::new("n")).gt(0))
                .limit(limit)
                .to_owned();
            let rows = db.query_all_raw(DbBackend::Sqlite.build(&q)).await.expect("the page");
            assert_eq!(rows.len() as u64, limit);
        }
        let mut conn = db.get_sqlite_connection_pool().acquire().await.expect("the one connection");
        assert!(planner_stability(&mut conn, -1).await.expect("the setting"), "every pooled connection plans once");
        assert_eq!(reprepared(&mut conn).await, 0, "the page was re-prepared");
    }
}
