//! How SQLite writers wait for each other (decision 0030): the writers of one store take turns
//! and wait as long as the turn takes; a writer of another process waits for SQLite's lock,
//! within its budget.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use mandate_store::lock_wait::with_budget;
use mandate_store::testing::TestDb;
use mandate_store::{write_transaction, DbConnection, Store};

fn scratch(store: &Store) {
    let mut conn = store.conn().unwrap();
    conn.batch_execute("CREATE TABLE scratch (n INTEGER)").unwrap();
}

fn insert(conn: &mut DbConnection, n: i32) -> diesel::QueryResult<()> {
    conn.batch_execute(&format!("INSERT INTO scratch VALUES ({n})"))
}

/// Holds a write transaction on `store` for `held`, telling `started` once it holds the lock.
fn hold_a_write(store: Store, held: Duration, started: mpsc::Sender<()>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut conn = store.conn().unwrap();
        write_transaction(&mut conn, |conn| {
            insert(conn, 1)?;
            started.send(()).unwrap();
            thread::sleep(held);
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    })
}

#[test]
fn a_writer_of_the_same_store_waits_for_its_turn_however_long_the_lock_budget() {
    let db = TestDb::sqlite();
    scratch(&db.store);
    let (started, holding) = mpsc::channel();
    let first = hold_a_write(db.store.clone(), Duration::from_millis(300), started);
    holding.recv().unwrap();
    // Polling SQLite's lock for 20 ms would fail with "database is locked": the turn waits
    // instead, until the first writer commits.
    let mut conn = db.store.conn().unwrap();
    with_budget(Duration::from_millis(20), || write_transaction(&mut conn, |conn| insert(conn, 2))).unwrap();
    first.join().unwrap();
    assert_eq!(db.count("SELECT count(*) AS n FROM scratch"), 2);
}

#[test]
fn a_writer_of_another_process_waits_for_the_lock_within_its_budget() {
    let db = TestDb::sqlite();
    scratch(&db.store);
    // A second store on the same file stands for another process (the command line).
    let other = Store::open(&db.url, 2).unwrap();
    let (started, holding) = mpsc::channel();
    let first = hold_a_write(db.store.clone(), Duration::from_millis(300), started);
    holding.recv().unwrap();
    let mut conn = other.conn().unwrap();
    let refused = with_budget(Duration::from_millis(20), || write_transaction(&mut conn, |conn| insert(conn, 2)));
    let refusal = refused.expect_err("the lock is held for longer than the budget").to_string();
    assert!(refusal.contains("locked"), "{refusal}");
    // With the default budget (10 s) it waits for the commit and writes.
    write_transaction(&mut conn, |conn| insert(conn, 3)).unwrap();
    first.join().unwrap();
    assert_eq!(db.count("SELECT count(*) AS n FROM scratch"), 2, "the refused write left nothing behind");
}
