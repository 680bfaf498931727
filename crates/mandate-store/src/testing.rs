//! Throw-away databases for tests, on both backends.
//!
//! PostgreSQL tests use the database named by `IDP_TEST_POSTGRES_URL` and a fresh schema per
//! test (dropped afterwards). When that variable is absent they are skipped with a message,
//! except under CI (`CI` set), where a missing PostgreSQL is a failure: the backend must be
//! tested for real there. Each skip is also appended as one line to the file named by
//! `IDP_TEST_SKIPS_FILE`, so that `make test` can end by saying how many were skipped instead of
//! leaving one line per test lost in the output.

pub mod postgres_cluster;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::db::{Backend, Store};

pub const POSTGRES_URL_VAR: &str = "IDP_TEST_POSTGRES_URL";
pub const SKIPS_FILE_VAR: &str = "IDP_TEST_SKIPS_FILE";

pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// The keys that seal this database's secrets (one random key; a test rotating makes more).
    pub keys: crate::sealing::Keyring,
    postgres_cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/idp-test.db", dir.path().display());
        let store = Store::open_and_migrate(&url, 8).expect("sqlite test database");
        TestDb { store, url, keys: crate::sealing::Keyring::random(), postgres_cleanup: None, _dir: Some(dir) }
    }

    /// `None` (with a message) when no PostgreSQL is configured outside CI.
    pub fn postgres() -> Option<TestDb> {
        let base = postgres_base_url()?;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&base)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_URL_VAR}: {e}"));
        admin.batch_execute(&format!("CREATE SCHEMA {schema}")).expect("create test schema");
        let url = with_search_path(&base, &schema);
        let store = Store::open_and_migrate(&url, 8).expect("postgres test database");
        Some(TestDb {
            store,
            url,
            keys: crate::sealing::Keyring::random(),
            postgres_cleanup: Some((base, schema)),
            _dir: None,
        })
    }

    pub fn for_backend(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite()),
            Backend::Postgres => TestDb::postgres(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.postgres_cleanup {
            if let Ok(mut admin) = PgConnection::establish(base) {
                let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// The configured PostgreSQL URL; panics under CI when it is missing.
pub fn postgres_base_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{POSTGRES_URL_VAR} is not set: under CI the PostgreSQL backend must be tested")
        }
        _ => {
            eprintln!("skipped on PostgreSQL: set {POSTGRES_URL_VAR} (make test does it when a server runs)");
            record_skip();
            None
        }
    }
}

/// Appends `<package> <test>` to the `IDP_TEST_SKIPS_FILE` file, when it is set. The test's
/// name is its thread's (libtest names each test thread after the test).
fn record_skip() {
    use std::io::Write;
    let Some(path) = std::env::var_os(SKIPS_FILE_VAR) else { return };
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "?".into());
    let thread = std::thread::current();
    let line = format!("{package} {}\n", thread.name().unwrap_or("?"));
    // One short write in append mode: lines from parallel tests do not interleave.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("cannot record the skip in {}: {e}", std::path::Path::new(&path).display());
    }
}

/// The same database with `search_path` set to `schema` for every connection (libpq `options`).
pub fn with_search_path(base: &str, schema: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Declares each listed test function (taking `&TestDb`) once per backend, in modules
/// `sqlite` and `postgres`.
#[macro_export]
macro_rules! tests_on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::testing::TestDb::sqlite());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::testing::TestDb::postgres() {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}

impl TestDb {
    /// Edits the journal behind the code's back, as someone with database access could:
    /// lifts the append-only triggers, then runs `sql`.
    pub fn tamper_with_journal(&self, sql: &str) {
        let mut conn = self.store.conn().expect("connection");
        // The entries tampered with are the chained ones: whatever is still queued is chained first.
        crate::journal::catch_up(&mut conn).expect("chain the queued entries");
        let unlock = match self.store.backend() {
            Backend::Sqlite => {
                "DROP TRIGGER IF EXISTS journal_entries_no_update; DROP TRIGGER IF EXISTS journal_entries_no_delete;"
            }
            Backend::Postgres => "ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only;",
        };
        conn.batch_execute(unlock).expect("lift the journal triggers");
        conn.batch_execute(sql).expect("tampering statement");
    }
}

impl TestDb {
    /// Runs raw SQL, for tests that must put the database in a state no code path produces
    /// (an authorization code past its lifetime, say).
    pub fn execute_sql(&self, sql: &str) {
        let mut conn = self.store.conn().expect("connection");
        conn.batch_execute(sql).expect("test statement");
    }
}

/// Makes a helper habilitated (training and PIX on their creation day, the charter in force
/// accepted), as fixtures need most helpers to be, without journal entries: the same state the
/// migration gave helpers who acted before habilitation was recorded.
pub fn habilitate(conn: &mut crate::DbConnection, aidant_id: &str) {
    use diesel::prelude::*;

    use crate::schema::aidants;
    let created_at: chrono::NaiveDateTime =
        aidants::table.find(aidant_id).select(aidants::created_at).first(conn).expect("the helper to habilitate");
    let day = created_at.format("%Y-%m-%d").to_string();
    diesel::update(aidants::table.find(aidant_id))
        .set((
            aidants::training_date.eq(Some(&day)),
            aidants::pix_date.eq(Some(&day)),
            aidants::charter_version.eq(Some(crate::habilitation::CURRENT_CHARTER_VERSION)),
            aidants::charter_signed_at.eq(Some(created_at)),
        ))
        .execute(conn)
        .expect("habilitate the helper");
}

#[derive(diesel::QueryableByName)]
struct NameRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl TestDb {
    /// Every `table.column` of the database (read from the database's own catalogue, not from
    /// `schema.rs`, so that a column added by a migration is searched too) whose value, as text,
    /// contains `needle`. For tests that prove personal data gone.
    pub fn columns_containing(&self, needle: &str) -> Vec<String> {
        use diesel::prelude::*;
        let mut conn = self.store.conn().expect("connection");
        let pattern = format!("%{needle}%");
        let mut found = Vec::new();
        match &mut *conn {
            crate::DbConnection::Sqlite(c) => {
                let tables: Vec<NameRow> = diesel::sql_query(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .load(c)
                .expect("list tables");
                for table in tables {
                    let columns: Vec<NameRow> =
                        diesel::sql_query(format!("SELECT name FROM pragma_table_info('{}')", table.name))
                            .load(c)
                            .expect("list columns");
                    for column in columns {
                        let count: CountRow = diesel::sql_query(format!(
                            "SELECT count(*) AS n FROM \"{}\" WHERE CAST(\"{}\" AS TEXT) LIKE ?",
                            table.name, column.name
                        ))
                        .bind::<diesel::sql_types::Text, _>(&pattern)
                        .get_result(c)
                        .expect("search a column");
                        if count.n > 0 {
                            found.push(format!("{}.{}", table.name, column.name));
                        }
                    }
                }
            }
            crate::DbConnection::Postgres(c) => {
                let columns: Vec<ColumnRow> = diesel::sql_query(
                    "SELECT table_name::text AS table_name, column_name::text AS column_name \
                     FROM information_schema.columns WHERE table_schema = current_schema() \
                     ORDER BY table_name, ordinal_position",
                )
                .load(c)
                .expect("list columns");
                for column in columns {
                    let count: CountRow = diesel::sql_query(format!(
                        "SELECT count(*) AS n FROM \"{}\" WHERE CAST(\"{}\" AS TEXT) LIKE $1",
                        column.table_name, column.column_name
                    ))
                    .bind::<diesel::sql_types::Text, _>(&pattern)
                    .get_result(c)
                    .expect("search a column");
                    if count.n > 0 {
                        found.push(format!("{}.{}", column.table_name, column.column_name));
                    }
                }
            }
        }
        found
    }
}

impl TestDb {
    /// A database the test made itself (its own PostgreSQL server, a file on a small
    /// filesystem), opened and migrated; nothing is dropped afterwards: the test throws the
    /// whole server or folder away.
    pub fn existing(url: &str) -> TestDb {
        let store = Store::open_and_migrate(url, 4).expect("the test's own database");
        TestDb {
            store,
            url: url.to_owned(),
            keys: crate::sealing::Keyring::random(),
            postgres_cleanup: None,
            _dir: None,
        }
    }

    /// The `n` a counting query returns (`SELECT count(*) AS n FROM …`), on either backend.
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::prelude::*;
        let mut conn = self.store.conn().expect("connection");
        let row: CountRow = match &mut *conn {
            crate::DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result(c),
            crate::DbConnection::Postgres(c) => diesel::sql_query(sql).get_result(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.n
    }
}

#[derive(diesel::QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

impl TestDb {
    /// What SQLite's `PRAGMA integrity_check` says of the file: `ok`, or each fault found.
    pub fn integrity_check(&self) -> String {
        use diesel::prelude::*;
        let mut conn = self.store.conn().expect("connection");
        let crate::DbConnection::Sqlite(c) = &mut *conn else { panic!("integrity_check is SQLite's") };
        let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check").load(c).expect("integrity_check");
        rows.into_iter().map(|r| r.integrity_check).collect::<Vec<_>>().join("\n")
    }
}
