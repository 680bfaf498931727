//! Connections: one diesel code path over SQLite and PostgreSQL, an r2d2 pool that picks the
//! backend from the URL scheme, embedded migrations, and write transactions.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection, TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{StoreError, StoreResult};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// One connection, to whichever backend the URL named. Every query in this crate is written
/// once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Where the database is, parsed from `database.url`. The scheme is checked here: diesel's
/// `MultiConnection::establish` would silently treat an unknown URL as a new SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres(String),
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> StoreResult<Self> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err(StoreError::UnsupportedDatabaseUrl(url.to_owned()));
            }
            if rest == ":memory:" {
                return Ok(DatabaseTarget::SqliteMemory);
            }
            return Ok(DatabaseTarget::SqliteFile(PathBuf::from(rest)));
        }
        if url == "sqlite::memory:" {
            return Ok(DatabaseTarget::SqliteMemory);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(url.to_owned()));
        }
        Err(StoreError::UnsupportedDatabaseUrl(url.to_owned()))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseTarget::Postgres(_) => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Opens one connection, initialised for our needs.
    pub fn connect(&self) -> StoreResult<DbConnection> {
        match self {
            DatabaseTarget::SqliteFile(path) => {
                let prepared = prepare_sqlite_connections();
                create_private_file(path)?;
                let path_str = path
                    .to_str()
                    .ok_or_else(|| StoreError::Connection(format!("non UTF-8 path {}", path.display())))?;
                let mut conn = SqliteConnection::establish(path_str)
                    .map_err(|e| StoreError::Connection(format!("{}: {e}", path.display())))?;
                init_sqlite(&mut conn, true, prepared)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseTarget::SqliteMemory => {
                let prepared = prepare_sqlite_connections();
                let mut conn =
                    SqliteConnection::establish(":memory:").map_err(|e| StoreError::Connection(e.to_string()))?;
                init_sqlite(&mut conn, false, prepared)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseTarget::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(|e| StoreError::Connection(e.to_string())),
        }
    }
}

/// Creates the SQLite file, when missing, readable and writable by its owner only (and its
/// folder, when missing, by its owner only): it holds sessions, codes and one-time code
/// secrets. SQLite gives its `-wal` and `-shm` files the database file's permissions, so they
/// are private too. An existing file keeps the permissions its operator chose.
fn create_private_file(path: &std::path::Path) -> StoreResult<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let cannot = |what: &std::path::Path, e: std::io::Error| {
        StoreError::Connection(format!("cannot create {}: {e}", what.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(|e| cannot(parent, e))?;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot(path, e)),
    }
}

/// Prepares every SQLite connection this process opens, through SQLite's auto-extension hook
/// (diesel gives no access to the raw connection, and neither setting has a pragma):
///
/// - **Query planner stability (QPSG).** When a plan depends on a bound value, SQLite marks
///   that parameter, and binding it again throws the compiled statement away: the next step
///   compiles it anew. Since 3.4x the bound `LIMIT ?` diesel writes for every `.first()` is such
///   a value, so the key lookups every request makes (helper, client, session, organisation...)
///   were compiled at every call although diesel kept them prepared: 22 % of the server's CPU
///   in the SSO flow (decisions 0019, 0028). With QPSG the plan never depends on bound values
///   (we run no `ANALYZE` and no `LIKE` with a bound pattern, the two other cases), so a
///   prepared statement stays compiled.
/// - **Waiting for locks** in steps of tens of microseconds rather than SQLite's milliseconds
///   (`lock_wait`, decision 0030).
///
/// Returns whether the hook is registered (else connections keep `busy_timeout`).
fn prepare_sqlite_connections() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        // SAFETY: registers a function with the signature SQLite expects; SQLite calls it with
        // a valid handle for each new connection, before anyone else uses that connection.
        let rc = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(prepare_sqlite_connection)) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(rc, "SQLite connections cannot be prepared: lookups are compiled at every call");
        }
        rc == libsqlite3_sys::SQLITE_OK
    })
}

unsafe extern "C" fn prepare_sqlite_connection(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::ffi::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: `db` is the connection being opened; the option takes an int and an out pointer
    // that may be null.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
        crate::lock_wait::install(db);
    }
    // A connection without these still works, only slower: never refuse to open it.
    libsqlite3_sys::SQLITE_OK
}

/// How long a SQLite statement waits for another connection's lock before failing, where the
/// connection could not be prepared (`prepare_sqlite_connections`).
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// The log's size from which `Store::restart_log` acts: SQLite's own automatic checkpoint's.
const RESTART_FROM_PAGES: i32 = 1_000;

/// How long `Store::restart_log` waits for readers (new writers wait as long).
const RESTART_WAITS_AT_MOST: Duration = Duration::from_millis(50);

/// The size a SQLite write-ahead log file is cut back to when the log starts over.
const LOG_SIZE_LIMIT_BYTES: u64 = 64 << 20;

/// The page cache of each SQLite connection, in KiB (see `init_sqlite`).
const SQLITE_CACHE_KIB: u32 = 512;

fn init_sqlite(conn: &mut SqliteConnection, wal: bool, prepared: bool) -> StoreResult<()> {
    // A prepared connection waits for locks already (`lock_wait`); `busy_timeout` would replace
    // that handler. Either way before switching to WAL, which may wait for another process.
    if !prepared {
        conn.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"))?;
    }
    conn.batch_execute("PRAGMA foreign_keys = ON;")?;
    // Each connection's own page cache, 2 MiB by default, is small here: 512 KiB. The server
    // holds several connections, and a write by any one of them empties the cache of every
    // other at its next transaction, so under load a large cache is mostly refilled, not
    // reused (the operating system's cache serves the refills); idle, it stays resident.
    conn.batch_execute(&format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB};"))?;
    if wal {
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
        // When the log starts over (see `Store::restart_log`), a file grown past this is cut back.
        conn.batch_execute(&format!("PRAGMA journal_size_limit = {};", LOG_SIZE_LIMIT_BYTES))?;
    }
    Ok(())
}

/// A connection idle for longer than this is checked (one `SELECT 1`) before it serves again:
/// a server that restarted, or a firewall that dropped the socket, while nothing was running,
/// is then noticed without failing a request. A busy pool never waits that long.
const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

/// What the pool knows of one connection, kept on the connection itself as diesel's
/// instrumentation (the one place diesel lets us attach state to a connection and see every
/// query's error): whether the server closed it, when it was last given back, and which of the
/// pool's losses it was checked after; and, for SQLite, the pool's turn to write.
struct ConnectionWatch {
    closed_by_server: bool,
    given_back_at: Instant,
    checked_after_loss: u64,
    writers: WriteTurn,
}

/// Whose turn it is to write, among the connections of one pool. SQLite lets one connection
/// write at a time, and a connection that finds the lock taken can only poll for it
/// (`lock_wait`), asleep while the lock may already be free. Taking this turn first, a writer
/// of this process sleeps until the previous one commits and wakes at once (decision 0030).
/// SQLite's lock still guards against other processes (the command line, a second server).
type WriteTurn = Arc<std::sync::Mutex<()>>;

impl Instrumentation for ConnectionWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        // diesel reports a connection libpq sees as gone (server shut down or restarted,
        // socket reset) as `ClosedConnection`, on whichever query met it first.
        if let InstrumentationEvent::FinishQuery {
            error: Some(DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)),
            ..
        } = event
        {
            self.closed_by_server = true;
        }
    }
}

fn watch_of(conn: &mut DbConnection) -> Option<&mut ConnectionWatch> {
    conn.instrumentation().downcast_mut::<ConnectionWatch>()
}

/// r2d2 manager that builds connections through [`DatabaseTarget::connect`], so the pool
/// reports the real connection error and every connection gets its pragmas.
///
/// A checkout costs no round trip: r2d2's usual `SELECT 1` on every checkout was 19 of the 80
/// statements of an SSO flow on PostgreSQL (decision 0028). Instead a connection the server
/// closed is recognised when it is given back, and counted as a loss of the pool; after a loss
/// every other connection is checked once before it serves again (a restart closes them all),
/// so only the requests in flight at the restart fail, and the pool recovers by itself.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    target: DatabaseTarget,
    /// How many connections the server has closed under the pool so far.
    losses: Arc<AtomicU64>,
    writers: WriteTurn,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        let mut conn = self.target.connect()?;
        conn.set_instrumentation(ConnectionWatch {
            closed_by_server: false,
            given_back_at: Instant::now(),
            checked_after_loss: self.losses.load(Ordering::Acquire),
            writers: self.writers.clone(),
        });
        Ok(conn)
    }

    /// Called at every checkout: free unless the connection sat idle long enough to have been
    /// dropped unseen, or the pool lost a connection since this one was last checked.
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        let losses = self.losses.load(Ordering::Acquire);
        if let Some(watch) = watch_of(conn) {
            if watch.checked_after_loss == losses && watch.given_back_at.elapsed() < CHECK_WHEN_IDLE_FOR {
                return Ok(());
            }
        }
        diesel::sql_query("SELECT 1").execute(conn)?;
        if let Some(watch) = watch_of(conn) {
            watch.checked_after_loss = losses;
        }
        Ok(())
    }

    /// Called when a connection is given back. As diesel's own r2d2 manager: a connection given
    /// back while its thread panics, or left inside a transaction diesel could not end, must not
    /// serve the next request; nor one the server closed.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::connection::TransactionManager as _;
        let closed_by_server = match watch_of(conn) {
            Some(watch) => {
                watch.given_back_at = Instant::now();
                watch.closed_by_server
            }
            // Someone replaced the watch (a test's own instrumentation): `is_valid` checks this
            // connection at every checkout instead.
            None => false,
        };
        if closed_by_server {
            self.losses.fetch_add(1, Ordering::AcqRel);
            tracing::warn!("the database closed a connection: the pool drops it and checks the others");
        }
        closed_by_server
            || std::thread::panicking()
            || <DbConnection as diesel::Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// How many connections the pool holds, and how many of them wait unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// The store: a pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    /// A SQLite file (the only kind with a write-ahead log).
    sqlite_file: bool,
}

/// What a checkpoint of SQLite's write-ahead log did (the answer of `PRAGMA wal_checkpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct LogCheckpoint {
    /// 1 when it could not finish: a reader or writer held on past the busy time-out.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub busy: i32,
    /// The pages in the log.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub log: i32,
    /// The pages of the log copied back into the database file.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub checkpointed: i32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

impl Store {
    /// Opens the database named by `url` (without migrating it). Fails with the real
    /// connection error if the database cannot be reached.
    pub fn open(url: &str, max_connections: u32) -> StoreResult<Store> {
        let target = DatabaseTarget::parse(url)?;
        let backend = target.backend();
        // An in-memory SQLite database exists once per connection: share exactly one.
        let max_size = match target {
            DatabaseTarget::SqliteMemory => 1,
            _ => max_connections.max(1),
        };
        // Connect once up front so the caller sees the real error, not a pool time-out.
        drop(target.connect()?);
        let sqlite_file = matches!(target, DatabaseTarget::SqliteFile(_));
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(ConnectionManager { target, losses: Arc::default(), writers: Arc::default() })?;
        Ok(Store { pool, backend, sqlite_file })
    }

    /// SQLite file databases: copies the whole write-ahead log back into the database file and
    /// makes the next write start the log over (SQLite's `RESTART` checkpoint: it waits for the
    /// readers of older snapshots, at most 50 ms, holding new writers meanwhile).
    ///
    /// Why: the checkpoints SQLite runs by itself never wait for readers, and the log can only
    /// start over at a moment when no reader uses it. A server under steady load has no such
    /// moment: its log grew by 60 MB a second in the SSO flow (1.3 GB in 25 s) until the load
    /// stopped. The server calls this every second (decision 0029); a log under 1,000 pages is
    /// left alone. `None` on PostgreSQL and in memory; else how many pages the log held and how
    /// many were copied back.
    pub fn restart_log(&self) -> StoreResult<Option<LogCheckpoint>> {
        if !self.sqlite_file {
            return Ok(None);
        }
        let mut conn = self.conn()?;
        let DbConnection::Sqlite(sqlite) = &mut *conn else { return Ok(None) };
        // A log SQLite's own checkpoints keep small (they run from 1,000 pages) is left to them:
        // no lock is taken, and an idle server holds no writer back every second.
        let now: LogCheckpoint = diesel::sql_query("PRAGMA wal_checkpoint(NOOP)").get_result(sqlite)?;
        if now.log < RESTART_FROM_PAGES {
            return Ok(Some(now));
        }
        // Writers wait while the checkpoint waits for readers: a reader slower than this (a
        // long export) makes it give up (`busy`) rather than hold every write back.
        let done = crate::lock_wait::with_budget(RESTART_WAITS_AT_MOST, || {
            diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result(sqlite)
        });
        Ok(Some(done?))
    }

    /// Opens and applies pending migrations.
    pub fn open_and_migrate(url: &str, max_connections: u32) -> StoreResult<Store> {
        let store = Store::open(url, max_connections)?;
        store.migrate()?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn conn(&self) -> StoreResult<PooledConnection> {
        Ok(self.pool.get()?)
    }

    /// Applies the embedded migrations of this backend; returns how many were applied.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConnection::Postgres(c) => {
                // Two replicas starting together must not run the migrations twice.
                c.batch_execute("SELECT pg_advisory_lock(72417001)")?;
                let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
                c.batch_execute("SELECT pg_advisory_unlock(72417001)")?;
                result
            }
        };
        applied.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// The pool's connections now: (open, idle, most allowed), for the operator's metrics.
    pub fn pool_usage(&self) -> PoolUsage {
        let state = self.pool.state();
        PoolUsage { open: state.connections, idle: state.idle_connections, max: self.pool.max_size() }
    }

    /// Can the database take writes? A SQLite file (or its folder) that its user may not write
    /// opens read-only without a word and fails only at the first write: write once in a
    /// transaction rolled back, so that `idp serve` says so when it starts. (Taking the write lock
    /// alone is not enough: in WAL mode it succeeds on a read-only file. A PostgreSQL server is
    /// asked nothing: its permissions are per table and were used by the migrations.)
    pub fn check_writable(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        if let DbConnection::Sqlite(c) = &mut *conn {
            let written = c.batch_execute("BEGIN IMMEDIATE; CREATE TABLE idp_write_check (x INTEGER);");
            // Whatever the write did, nothing of it stays (no transaction is left open either).
            let _ = c.batch_execute("ROLLBACK;");
            written.map_err(|e| StoreError::NotWritable(e.to_string()))?;
        }
        Ok(())
    }

    /// Is the database reachable right now?
    pub fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn)?;
        Ok(())
    }
}

/// Runs `f` inside a write transaction. On SQLite the transaction starts `IMMEDIATE`, taking
/// the write lock first: a deferred transaction that read before writing would fail with
/// SQLITE_BUSY when another writer committed in between; and before that it waits for its
/// pool's turn to write (`WriteTurn`), held until the transaction ends. Rolls back when `f`
/// fails.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let outermost_on_sqlite = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_none()
        }
        DbConnection::Postgres(_) => false,
    };
    // Inside a transaction the write lock, and the turn, are held already.
    let turn = if outermost_on_sqlite { watch_of(conn).map(|watch| watch.writers.clone()) } else { None };
    // A writer that panicked left nothing half-done behind the turn (SQLite rolls back): go on.
    let _my_turn = turn.as_ref().map(|t| t.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    match conn {
        DbConnection::Sqlite(c) if outermost_on_sqlite => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// The current UTC time at the precision both backends store (microseconds), so that a value
/// read back equals the value written (the journal hashes it).
pub fn now() -> chrono::NaiveDateTime {
    truncate_to_micros(chrono::Utc::now().naive_utc())
}

pub fn truncate_to_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let nanos = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(nanos).unwrap_or(t)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            DatabaseTarget::parse("sqlite://data/idp.db").unwrap(),
            DatabaseTarget::SqliteFile("data/idp.db".into())
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:///var/lib/idp.db").unwrap(),
            DatabaseTarget::SqliteFile("/var/lib/idp.db".into())
        );
        assert_eq!(DatabaseTarget::parse("sqlite::memory:").unwrap(), DatabaseTarget::SqliteMemory);
        assert_eq!(DatabaseTarget::parse("postgres://u@h/db").unwrap().backend(), Backend::Postgres);
        assert_eq!(DatabaseTarget::parse("postgresql://u@h/db").unwrap().backend(), Backend::Postgres);
    }

    #[test]
    fn url_without_known_scheme_is_refused_not_turned_into_a_file() {
        for bad in ["idp.db", "mysql://x", "sqlite://", ""] {
            assert!(
                matches!(DatabaseTarget::parse(bad), Err(StoreError::UnsupportedDatabaseUrl(_))),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn unreachable_postgres_reports_the_real_error() {
        let err = Store::open("postgres://nobody@127.0.0.1:1/none", 1).unwrap_err();
        match err {
            StoreError::Connection(msg) => assert!(msg.contains("127.0.0.1") || msg.contains("onnect"), "{msg}"),
            other => panic!("expected a connection error, got {other:?}"),
        }
    }
}
