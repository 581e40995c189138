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
        });
    if memory {
        // The database lives as long as its one connection: never let it close.
        opt.min_connections(1).idle_timeout(None::<Duration>).max_lifetime(None::<Duration>);
    }
    Database::connect(opt).await
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

/// The PostgreSQL advisory lock every write transaction holds (any constant
/// unlikely to clash with another application's: "kaohe" in ASCII).
const WRITE_LOCK: i64 = 0x6b_61_6f_68_65;

/// Starts a transaction that will write; writers take turns, on either
/// database. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken at once
/// (waiting up to the busy timeout), so two writers that read first cannot
/// deadlock into `SQLITE_BUSY`. On PostgreSQL the transaction first takes a
/// transaction-scoped advisory lock. Every write appends to its
/// organisation's audit chain; taking turns over the whole database, not per
/// chain, means two writers never read the same chain head and fail on its
/// unique `prev_hash`, and audit ids are committed in order: the newest id is
/// a data generation that every instance can read (see `http::responses`).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    } else {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})")).await?;
        Ok(txn)
    }
}

/// True when SQLite gave up waiting for a lock ("database is locked").
pub fn is_busy(e: &DbErr) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("(code: 5)") || text.contains("SQLITE_BUSY")
}
