use std::process::Command;
use std::sync::Arc;

use diesel::prelude::*;
use mandate_store::journal::{self, ChainReport, JournalAction, NewEntry};
use mandate_store::schema::journal_entries;
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, Store};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    appends_form_a_verifiable_chain,
    altered_entry_is_found,
    removed_entry_is_found,
    the_database_refuses_update_and_delete,
    concurrent_appends_keep_one_chain,
    appends_from_two_processes_keep_one_chain,
    erasing_a_usager_keeps_the_journal_whole,
);

fn verify(store: &Store) -> ChainReport {
    journal::verify(&mut store.conn().unwrap()).unwrap()
}

fn used(i: usize) -> NewEntry {
    NewEntry::new(JournalAction::AuthorisationUsed)
        .aidant("aidant-1")
        .usager("usager-1")
        .demarche(Demarche::Argent)
        .client(&format!("client-{i}"))
}

fn appends_form_a_verifiable_chain(db: &TestDb) {
    let w = world(db);
    // The world's two organisations registered; a mandate: 2 authorisations created, then the
    // mandate with its attestation hash.
    mandate(db, &w, &[Demarche::Argent, Demarche::Social], now());
    let mut conn = db.store.conn().unwrap();
    let e = journal::append(&mut conn, used(1), now()).unwrap();
    assert_eq!(e.seq, 6);
    assert_eq!(e.demarche, Some(Demarche::Argent));
    match verify(&db.store) {
        ChainReport::Intact { entries, head_hash } => {
            assert_eq!(entries, 6);
            assert_eq!(head_hash, e.hash);
        }
        broken => panic!("{broken:?}"),
    }
    let entries = journal::entries_for_usager(&mut conn, &w.usager.id).unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.key()).collect();
    assert_eq!(actions, ["authorisation_created", "authorisation_created", "mandate_created"]);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
}

fn altered_entry_is_found(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    for i in 0..5 {
        journal::append(&mut conn, used(i), now()).unwrap();
    }
    drop(conn);
    assert!(matches!(verify(&db.store), ChainReport::Intact { entries: 5, .. }));
    db.tamper_with_journal("UPDATE journal_entries SET demarche = 'justice' WHERE seq = 3");
    match verify(&db.store) {
        ChainReport::Broken { seq, reason } => {
            assert_eq!(seq, 3);
            assert!(reason.contains("altered"), "{reason}");
        }
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

fn removed_entry_is_found(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    for i in 0..4 {
        journal::append(&mut conn, used(i), now()).unwrap();
    }
    drop(conn);
    db.tamper_with_journal("DELETE FROM journal_entries WHERE seq = 2");
    assert!(matches!(verify(&db.store), ChainReport::Broken { seq: 2, .. }));
}

fn the_database_refuses_update_and_delete(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    journal::append(&mut conn, used(0), now()).unwrap();
    let update =
        diesel::update(journal_entries::table).set(journal_entries::client_id.eq("forged")).execute(&mut *conn);
    let err = update.expect_err("UPDATE must be refused").to_string();
    assert!(err.contains("append-only"), "{err}");
    let delete = diesel::delete(journal_entries::table).execute(&mut *conn);
    assert!(delete.expect_err("DELETE must be refused").to_string().contains("append-only"));
    assert!(matches!(verify(&db.store), ChainReport::Intact { entries: 1, .. }));
}

const THREADS: usize = 8;
const PER_THREAD: usize = 25;

fn concurrent_appends_keep_one_chain(db: &TestDb) {
    let store = Arc::new(db.store.clone());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let mut conn = store.conn().unwrap();
                    journal::append(&mut conn, used(t * 1000 + i), now()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(verify(&db.store), expect_intact(&db.store, (THREADS * PER_THREAD) as i64));
}

fn expect_intact(store: &Store, n: i64) -> ChainReport {
    match verify(store) {
        ChainReport::Intact { entries, head_hash } if entries == n => ChainReport::Intact { entries, head_hash },
        other => panic!("expected an intact chain of {n}, got {other:?}"),
    }
}

const CHILD_URL: &str = "JOURNAL_CHILD_URL";
const CHILD_APPENDS: usize = 60;

pub fn child_appender_main() {
    let Ok(url) = std::env::var(CHILD_URL) else { return };
    let store = Store::open(&url, 2).unwrap();
    for i in 0..CHILD_APPENDS {
        let mut conn = store.conn().unwrap();
        journal::append(&mut conn, used(i), now()).unwrap();
    }
}

fn appends_from_two_processes_keep_one_chain(db: &TestDb) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "journal_child_appender", "--test-threads=1", "--quiet"])
                .env(CHILD_URL, &db.url)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // This process appends too, at the same time.
    let mut conn = db.store.conn().unwrap();
    for i in 0..CHILD_APPENDS {
        journal::append(&mut conn, used(i), now()).unwrap();
    }
    drop(conn);
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child appender failed");
    }
    expect_intact(&db.store, 3 * CHILD_APPENDS as i64);
}

fn erasing_a_usager_keeps_the_journal_whole(db: &TestDb) {
    let w = world(db);
    mandate(db, &w, &[Demarche::Argent], now());
    let mut conn = db.store.conn().unwrap();
    mandate_store::erasure::erase_usager(&mut conn, &w.usager.id, now()).unwrap();
    let entries = journal::entries_for_usager(&mut conn, &w.usager.id).unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.key()).collect();
    assert_eq!(
        actions,
        ["authorisation_created", "mandate_created", "mandate_revoked", "usager_erased"],
        "the journal keeps what happened, by id, and says the live mandate ended"
    );
    drop(conn);
    // The world's two organisations registered, the mandate's two entries, then the erasure's.
    expect_intact(&db.store, 6);
}
