//! The journal chain over generated histories: whatever was recorded (any action, any mix of
//! ids, free-text details with any characters), the chain verifies; and whichever single entry
//! someone with database access changes or removes afterwards, `verify` names exactly that entry.

use mandate_store::journal::{self, ChainReport, JournalAction, NewEntry};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

mandate_store::tests_on_both_backends!(any_history_verifies_and_any_single_change_is_named,);

#[derive(Debug, Clone)]
struct Recorded {
    action: usize,
    aidant: Option<String>,
    usager: Option<String>,
    demarche: Option<usize>,
    details: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Action,
    Aidant,
    Details,
    Time,
    PrevHash,
    Hash,
    Removed,
}

fn recorded() -> impl Strategy<Value = Recorded> {
    let id = proptest::option::of("[a-z0-9-]{1,12}");
    (
        0..JournalAction::ALL.len(),
        id.clone(),
        id,
        proptest::option::of(0..Demarche::ALL.len()),
        proptest::option::of("\\PC{0,24}"),
    )
        .prop_map(|(action, aidant, usager, demarche, details)| Recorded {
            action,
            aidant,
            usager,
            demarche,
            details,
        })
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        Just(Change::Action),
        Just(Change::Aidant),
        Just(Change::Details),
        Just(Change::Time),
        Just(Change::PrevHash),
        Just(Change::Hash),
        Just(Change::Removed),
    ]
}

fn any_history_verifies_and_any_single_change_is_named(db: &TestDb) {
    let backend = db.store.backend();
    let mut runner = TestRunner::new(Config { cases: 12, failure_persistence: None, ..Config::default() });
    let case = (prop::collection::vec(recorded(), 2..12), any::<prop::sample::Index>(), change());
    runner
        .run(&case, |(history, which, change)| {
            // A fresh database per case: the entry changed is found by its place in the chain.
            let db = TestDb::for_backend(backend).expect("the backend of this test");
            check(&db, &history, which, change);
            Ok(())
        })
        .unwrap();
}

fn check(db: &TestDb, history: &[Recorded], which: prop::sample::Index, change: Change) {
    let mut conn = db.store.conn().unwrap();
    for r in history {
        let mut entry = NewEntry::new(JournalAction::ALL[r.action]);
        if let Some(id) = &r.aidant {
            entry = entry.aidant(id);
        }
        if let Some(id) = &r.usager {
            entry = entry.usager(id);
        }
        if let Some(d) = r.demarche {
            entry = entry.demarche(Demarche::ALL[d]);
        }
        if let Some(text) = &r.details {
            entry = entry.details(serde_json::json!({ "note": text }));
        }
        journal::append(&mut conn, entry, now()).unwrap();
    }
    let length = history.len() as i64;
    match journal::verify(&mut conn).unwrap() {
        ChainReport::Intact { entries, .. } => assert_eq!(entries, length),
        broken => panic!("a history as recorded must verify: {broken:?} {history:?}"),
    }
    drop(conn);

    // Removing the last entry leaves a shorter chain that is whole (checkpoints prove length):
    // removals are made anywhere but last.
    let seq = match change {
        Change::Removed => which.index(history.len() - 1) as i64 + 1,
        _ => which.index(history.len()) as i64 + 1,
    };
    let other_action =
        if history[(seq - 1) as usize].action == 0 { JournalAction::ALL[1] } else { JournalAction::ALL[0] };
    let sql = match change {
        Change::Action => format!("UPDATE journal_entries SET action = '{}' WHERE seq = {seq}", other_action.key()),
        Change::Aidant => format!("UPDATE journal_entries SET aidant_id = 'someone-else' WHERE seq = {seq}"),
        Change::Details => format!("UPDATE journal_entries SET details = '{{\"note\":\"changed\"}}' WHERE seq = {seq}"),
        Change::Time => {
            let earlier = (now() - chrono::Duration::days(1)).format("%Y-%m-%d %H:%M:%S");
            format!("UPDATE journal_entries SET created_at = '{earlier}' WHERE seq = {seq}")
        }
        Change::PrevHash => format!("UPDATE journal_entries SET prev_hash = '{}' WHERE seq = {seq}", "ab".repeat(32)),
        Change::Hash => format!("UPDATE journal_entries SET hash = '{}' WHERE seq = {seq}", "cd".repeat(32)),
        Change::Removed => format!("DELETE FROM journal_entries WHERE seq = {seq}"),
    };
    db.tamper_with_journal(&sql);
    match journal::verify(&mut db.store.conn().unwrap()).unwrap() {
        ChainReport::Broken { seq: found, reason } => {
            assert_eq!(found, seq, "{change:?} of entry {seq} found at {found} ({reason}), {history:?}")
        }
        intact => panic!("{change:?} of entry {seq} went unseen: {intact:?}, {history:?}"),
    }
}
