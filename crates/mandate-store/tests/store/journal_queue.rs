//! The journal's queue and its sequencer (decision 0020): what a change records is chained later,
//! by whoever sequences, exactly once, even when the process that recorded it is gone.

use std::collections::HashSet;
use std::process::Command;
use std::sync::{Arc, Barrier};

use chrono::Duration;
use diesel::prelude::*;
use mandate_store::db::write_transaction;
use mandate_store::journal::{self, ChainReport, JournalAction, NewEntry};
use mandate_store::schema::{journal_entries, journal_queue};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, Store};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    an_entry_queued_by_a_process_that_died_is_chained_by_the_next_reader,
    concurrent_recording_and_sequencing_never_fork_nor_duplicate,
    erasure_leaves_no_personal_data_in_the_queue,
    a_queued_entry_cannot_be_altered_before_it_is_chained,
);

fn used(tag: &str) -> NewEntry {
    NewEntry::new(JournalAction::AuthorisationUsed)
        .aidant("aidant-1")
        .usager("usager-1")
        .demarche(Demarche::Argent)
        .client(&format!("client-{tag}"))
}

/// Rows in the queue and in the chain, read as they are, without chaining anything.
fn queued_and_chained(store: &Store) -> (i64, i64) {
    let mut conn = store.conn().unwrap();
    let queued = journal_queue::table.count().get_result(&mut *conn).unwrap();
    let chained = journal_entries::table.count().get_result(&mut *conn).unwrap();
    (queued, chained)
}

fn expect_intact(conn: &mut mandate_store::DbConnection, n: i64) {
    match journal::verify(conn).unwrap() {
        ChainReport::Intact { entries, .. } if entries == n => {}
        other => panic!("expected an intact chain of {n}, got {other:?}"),
    }
}

const DYING_URL: &str = "JOURNAL_DYING_RECORDER_URL";
const DYING_RECORDS: usize = 3;

/// A process that records entries, each in its own committed transaction, then dies before any
/// sequencer ran (no server here: nothing sequences in the background).
pub fn dying_recorder_main() {
    let Ok(url) = std::env::var(DYING_URL) else { return };
    let store = Store::open(&url, 1).unwrap();
    let mut conn = store.conn().unwrap();
    for i in 0..DYING_RECORDS {
        // An hour ago: the entry keeps its event's time, however late it is chained.
        let at = now() - Duration::hours(1) + Duration::seconds(i as i64);
        write_transaction(&mut conn, |conn| journal::record(conn, used(&format!("dying-{i}")), at)).unwrap();
    }
    std::process::abort();
}

fn an_entry_queued_by_a_process_that_died_is_chained_by_the_next_reader(db: &TestDb) {
    let exe = std::env::current_exe().unwrap();
    let status = Command::new(&exe)
        .args(["--ignored", "--exact", "journal_dying_recorder", "--test-threads=1", "--quiet"])
        .env(DYING_URL, &db.url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the recorder was meant to die");
    assert_eq!(queued_and_chained(&db.store), (DYING_RECORDS as i64, 0), "queued, not chained");

    // A process started afterwards, with its own pool: its first read chains them.
    let next = Store::open(&db.url, 2).unwrap();
    let mut conn = next.conn().unwrap();
    let entries = journal::recent(&mut conn, Some(JournalAction::AuthorisationUsed), 10).unwrap();
    let clients: Vec<_> = entries.iter().rev().map(|e| e.client_id.clone().unwrap()).collect();
    assert_eq!(clients, ["client-dying-0", "client-dying-1", "client-dying-2"], "in the order they were queued");
    let oldest = entries.last().unwrap();
    assert!(oldest.created_at < now() - Duration::minutes(59), "the event's time, not the chaining's");
    assert_eq!(oldest.prev_hash, journal::GENESIS_HASH);
    expect_intact(&mut conn, DYING_RECORDS as i64);
    assert_eq!(queued_and_chained(&db.store), (0, DYING_RECORDS as i64), "each entry chained once");
}

const THREADS: usize = 6;
const PER_THREAD: usize = 30;
const CHILD_URL: &str = "JOURNAL_RECORDING_CHILD_URL";
const CHILD_RECORDS: usize = 40;

/// Records and sequences, small batches at a time, as a busy server does.
fn record_and_sequence(store: &Store, tag: &str, n: usize) {
    for i in 0..n {
        let mut conn = store.conn().unwrap();
        write_transaction(&mut conn, |conn| journal::record(conn, used(&format!("{tag}-{i}")), now())).unwrap();
        // Small batches so that sequencers often meet over the same queued rows.
        journal::sequence_pending(&mut conn, 3).unwrap();
    }
}

pub fn recording_child_main() {
    let Ok(url) = std::env::var(CHILD_URL) else { return };
    let store = Store::open(&url, 2).unwrap();
    record_and_sequence(&store, &format!("process-{}", std::process::id()), CHILD_RECORDS);
}

fn concurrent_recording_and_sequencing_never_fork_nor_duplicate(db: &TestDb) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "journal_recording_child", "--test-threads=1", "--quiet"])
                .env(CHILD_URL, &db.url)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, barrier) = (db.store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                record_and_sequence(&store, &format!("thread-{t}"), PER_THREAD);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a recording process failed");
    }
    let total = (THREADS * PER_THREAD + 2 * CHILD_RECORDS) as i64;
    let mut conn = db.store.conn().unwrap();
    expect_intact(&mut conn, total);
    let clients: Vec<Option<String>> =
        journal_entries::table.select(journal_entries::client_id).load(&mut *conn).unwrap();
    let distinct: HashSet<_> = clients.iter().collect();
    assert_eq!(distinct.len() as i64, total, "every recorded entry chained exactly once");
    assert_eq!(queued_and_chained(&db.store), (0, total));
}

fn erasure_leaves_no_personal_data_in_the_queue(db: &TestDb) {
    let w = world(db);
    mandate(db, &w, &[Demarche::Argent], now());
    let mut conn = db.store.conn().unwrap();
    let queued_about_usager: i64 =
        journal_queue::table.filter(journal_queue::usager_id.eq(&w.usager.id)).count().get_result(&mut *conn).unwrap();
    assert!(queued_about_usager > 0, "the mandate's entries wait in the queue");

    mandate_store::erasure::erase_usager(&mut conn, &w.usager.id, now()).unwrap();
    // Entries about the usager may still be queued: they hold ids only, never the person.
    for needle in ["Angela", "DUBOIS", "1962-08-24", "angela.dubois@example.fr", "fc-sub-1"] {
        assert_eq!(db.columns_containing(needle), Vec::<String>::new(), "{needle} is still stored");
    }
    let actions: Vec<&str> =
        journal::entries_for_usager(&mut conn, &w.usager.id).unwrap().iter().map(|e| e.action.key()).collect();
    assert_eq!(actions, ["authorisation_created", "mandate_created", "mandate_revoked", "usager_erased"]);
    expect_intact(&mut conn, 6);
}

fn a_queued_entry_cannot_be_altered_before_it_is_chained(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    journal::record(&mut conn, used("honest"), now()).unwrap();
    let forged =
        diesel::update(journal_queue::table).set(journal_queue::client_id.eq("client-forged")).execute(&mut *conn);
    let err = forged.expect_err("UPDATE must be refused").to_string();
    assert!(err.contains("chained as written"), "{err}");
    let entries = journal::recent(&mut conn, None, 1).unwrap();
    assert_eq!(entries[0].client_id.as_deref(), Some("client-honest"));
    // A sequencer asked for nothing does nothing.
    assert_eq!(journal::sequence_pending(&mut conn, 0).unwrap(), 0);
}
