//! SQLite's write-ahead log starts over when the server asks (`Store::restart_log`), even
//! after a time when readers kept it from starting over by itself (decision 0029).

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use mandate_store::testing::TestDb;
use mandate_store::{DbConnection, LogCheckpoint, Store};

/// How many pages the log holds and how many are copied back, without copying any (SQLite's
/// `NOOP` checkpoint only reports).
fn log_state(store: &Store) -> LogCheckpoint {
    let mut conn = store.conn().unwrap();
    let DbConnection::Sqlite(sqlite) = &mut *conn else { panic!("a SQLite store") };
    diesel::sql_query("PRAGMA wal_checkpoint(NOOP)").get_result(sqlite).unwrap()
}

/// About `pages` pages of writes, in commits of 15 pages each (each may checkpoint by itself).
fn write_pages(store: &Store, pages: usize) {
    let mut conn = store.conn().unwrap();
    let DbConnection::Sqlite(sqlite) = &mut *conn else { panic!("a SQLite store") };
    sqlite.batch_execute("CREATE TABLE IF NOT EXISTS scratch (bytes BLOB)").unwrap();
    for _ in 0..pages / 15 {
        sqlite.batch_execute("INSERT INTO scratch VALUES (randomblob(60000))").unwrap();
    }
}

#[test]
fn the_log_a_reader_kept_growing_starts_over_when_the_server_asks() {
    let db = TestDb::sqlite();
    write_pages(&db.store, 150);
    // A reader on an old snapshot: SQLite's own checkpoints cannot copy past it, and the log
    // cannot start over (as when readers never stop coming).
    let mut reader = db.store.conn().unwrap();
    let DbConnection::Sqlite(reading) = &mut *reader else { panic!("a SQLite store") };
    reading.batch_execute("BEGIN; SELECT COUNT(*) FROM scratch;").unwrap();
    write_pages(&db.store, 1_500);
    let grown = log_state(&db.store);
    assert!(grown.log > 1_500, "the log should have grown past the reader: {grown:?}");
    reading.batch_execute("COMMIT").unwrap();
    drop(reader);

    let restarted = db.store.restart_log().unwrap().expect("a SQLite file has a log");
    assert_eq!(restarted.busy, 0, "{restarted:?}");
    assert_eq!(restarted.checkpointed, restarted.log, "the whole log is copied back: {restarted:?}");
    write_pages(&db.store, 15);
    let after = log_state(&db.store);
    assert!(after.log < 100, "the next write starts the log over: {after:?}");
}

#[test]
fn a_long_reader_makes_the_restart_give_up_soon_rather_than_hold_writes_back() {
    let db = TestDb::sqlite();
    write_pages(&db.store, 30);
    let mut reader = db.store.conn().unwrap();
    let DbConnection::Sqlite(reading) = &mut *reader else { panic!("a SQLite store") };
    reading.batch_execute("BEGIN; SELECT COUNT(*) FROM scratch;").unwrap();
    write_pages(&db.store, 1_050);
    let began = std::time::Instant::now();
    let restarted = db.store.restart_log().unwrap().expect("a SQLite file has a log");
    assert_eq!(restarted.busy, 1, "the reader of an older snapshot is still there: {restarted:?}");
    assert!(began.elapsed() < std::time::Duration::from_secs(1), "waited {:?}", began.elapsed());
    // Writes go on, and the connection that checkpointed waits for locks as long as before.
    write_pages(&db.store, 15);
    reading.batch_execute("COMMIT").unwrap();
}

#[test]
fn a_small_log_is_left_to_sqlites_own_checkpoints() {
    let db = TestDb::sqlite();
    write_pages(&db.store, 150);
    let left = db.store.restart_log().unwrap().expect("a SQLite file has a log");
    assert_eq!(left.checkpointed, 0, "nothing copied, no lock taken: {left:?}");
    assert!(left.log > 100, "{left:?}");
}

#[test]
fn a_database_without_a_log_file_has_nothing_to_restart() {
    let memory = Store::open("sqlite::memory:", 1).unwrap();
    assert_eq!(memory.restart_log().unwrap(), None);
}
