//! `idp serve` chains what is queued in the journal by itself, every
//! `journal.sequence_interval_ms`, whoever queued it; with 0 it leaves that to readers.

use std::time::{Duration, Instant};

use mandate_store::journal::{self, ChainReport, JournalAction, NewEntry};
use mandate_store::Backend;

use crate::helpers::TestApp;

crate::on_both_backends!(
    the_server_chains_an_entry_queued_by_another_process,
    with_no_interval_the_server_leaves_the_queue_to_readers,
);

/// An entry queued as a process that died before chaining would leave it: recorded, committed,
/// and nothing else.
fn queue_an_entry(app: &TestApp) {
    let entry = NewEntry::new(JournalAction::AttestationPrinted).usager("usager-1").client("left-behind");
    journal::record(&mut app.db.store.conn().unwrap(), entry, mandate_store::now()).unwrap();
}

fn pending(app: &TestApp) -> i64 {
    journal::pending_count(&mut app.db.store.conn().unwrap()).unwrap()
}

async fn the_server_chains_an_entry_queued_by_another_process(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.journal.sequence_interval_ms = 50).await else { return };
    queue_an_entry(&app);
    let deadline = Instant::now() + Duration::from_secs(5);
    while pending(&app) > 0 {
        assert!(Instant::now() < deadline, "the server did not chain the queued entry within 5 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Chained by the server: the chain holds it, read without chaining anything more.
    let mut conn = app.db.store.conn().unwrap();
    let head = journal::checkpoints::head(&mut conn).unwrap().expect("the entry is chained");
    assert_eq!(head.client_id.as_deref(), Some("left-behind"));
    assert!(matches!(journal::verify(&mut conn).unwrap(), ChainReport::Intact { .. }));
}

async fn with_no_interval_the_server_leaves_the_queue_to_readers(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.journal.sequence_interval_ms = 0).await else { return };
    queue_an_entry(&app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pending(&app), 1, "no sequencer runs in this server");
    let mut conn = app.db.store.conn().unwrap();
    let used = journal::recent(&mut conn, Some(JournalAction::AttestationPrinted), 10).unwrap();
    assert_eq!(used.len(), 1, "a reader chains what is queued before it reads");
    drop(conn);
    assert_eq!(pending(&app), 0);
}
