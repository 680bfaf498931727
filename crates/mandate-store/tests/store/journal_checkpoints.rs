//! Checkpoints as the store keeps them: one per change of the head, even when two servers sign
//! at once. (The signatures themselves are checked in the server's tests.)

use std::sync::{Arc, Barrier};

use mandate_store::journal::checkpoints::{self, Checkpoint, CheckpointClaims, SignedCheckpoint};
use mandate_store::journal::{self, ChainReport, JournalAction, NewEntry, GENESIS_HASH};
use mandate_store::testing::TestDb;
use mandate_store::{now, DbConnection};

mandate_store::tests_on_both_backends!(
    a_checkpoint_states_the_head_before_it_and_is_not_repeated,
    two_servers_signing_at_once_make_one_checkpoint,
);

#[derive(Debug, thiserror::Error)]
#[error("signer failed")]
struct SignerFailed;

fn sign(conn: &mut DbConnection) -> Checkpoint {
    checkpoints::sign(conn, now(), |claims: &CheckpointClaims| {
        Ok::<_, SignerFailed>(SignedCheckpoint {
            jws: format!("signed:{}:{}:{}", claims.size, claims.head_hash, claims.time),
            jwk: serde_json::json!({"kid": "test"}),
        })
    })
    .unwrap()
}

fn a_checkpoint_states_the_head_before_it_and_is_not_repeated(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let Checkpoint::Signed(empty) = sign(&mut conn) else { panic!("an empty journal gets a checkpoint too") };
    assert_eq!((empty.seq, empty.prev_hash.as_str()), (1, GENESIS_HASH));
    assert_eq!(empty.details.as_ref().unwrap().value()["size"], 0);
    assert!(matches!(sign(&mut conn), Checkpoint::Current(e) if e.seq == 1), "nothing appended: none signed");

    let used = journal::append(&mut conn, NewEntry::new(JournalAction::AuthorisationUsed).client("c"), now()).unwrap();
    let Checkpoint::Signed(second) = sign(&mut conn) else { panic!("an append calls for a new checkpoint") };
    let details = second.details.as_ref().unwrap().value().clone();
    assert_eq!(details["size"], 2);
    assert_eq!(details["head_hash"], used.hash.as_str());
    assert_eq!(second.prev_hash, used.hash);
    let time = journal::canonical_time(second.created_at);
    assert_eq!(details["jws"], format!("signed:2:{}:{time}", used.hash), "the signer saw the entry's own time");
    assert_eq!(details["jwk"]["kid"], "test");
    assert!(second.aidant_id.is_none() && second.usager_id.is_none() && second.client_id.is_none());

    // A signer that fails leaves the journal as it was.
    journal::append(&mut conn, NewEntry::new(JournalAction::AuthorisationUsed).client("c"), now()).unwrap();
    let failed = checkpoints::sign(&mut conn, now(), |_| Err::<SignedCheckpoint, _>(SignerFailed));
    assert!(matches!(failed, Err(checkpoints::CheckpointError::Signer(SignerFailed))));
    assert!(matches!(journal::verify(&mut conn).unwrap(), ChainReport::Intact { entries: 4, .. }));
}

fn two_servers_signing_at_once_make_one_checkpoint(db: &TestDb) {
    {
        let mut conn = db.store.conn().unwrap();
        journal::append(&mut conn, NewEntry::new(JournalAction::AuthorisationUsed).client("c"), now()).unwrap();
    }
    let barrier = Arc::new(Barrier::new(4));
    let signers: Vec<_> = (0..4)
        .map(|_| {
            let (store, barrier) = (db.store.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = store.conn().unwrap();
                barrier.wait();
                sign(&mut conn)
            })
        })
        .collect();
    let outcomes: Vec<Checkpoint> = signers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|c| matches!(c, Checkpoint::Signed(_))).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|c| c.entry().seq == 2));
    let mut conn = db.store.conn().unwrap();
    assert_eq!(journal::count(&mut conn, JournalAction::CheckpointSigned).unwrap(), 1);
    assert!(matches!(journal::verify(&mut conn).unwrap(), ChainReport::Intact { entries: 2, .. }));
}
