//! Erasing a usager: the personal data leaves every table, the ids and the journal stay.

use mandate_store::erasure::{erase_usager, Erasure};
use mandate_store::journal::{self, ChainReport, JournalAction};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::testing::TestDb;
use mandate_store::usagers::{self, NewUsager};
use mandate_store::{now, Demarche, DurationKind, StoreError};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    erasure_removes_the_person_everywhere_and_keeps_the_ids,
    erasing_twice_changes_nothing_and_an_unknown_usager_is_named,
    an_erased_usager_can_come_back_as_a_new_person,
);

const NAME: &str = "Zéphyrine";
const FAMILY_NAME: &str = "QUILLEBEUF-ARTAUD";
const BIRTHDATE: &str = "1931-02-17";

fn distinctive_usager(db: &TestDb, subject: &str) -> usagers::Usager {
    let mut conn = db.store.conn().unwrap();
    usagers::add_by_operator(
        &mut conn,
        NewUsager {
            given_name: NAME.into(),
            family_name: FAMILY_NAME.into(),
            birthdate: BIRTHDATE.into(),
            gender: "female".into(),
            birthplace: "29019".into(),
            birthcountry: "99100".into(),
            email: "zephyrine.quillebeuf@example.fr".into(),
            phone: Some("+33 6 12 34 56 78".into()),
            street_address: Some("12 rue des Goélands".into()),
            postal_code: Some("29200".into()),
            locality: Some("Brest".into()),
            upstream_issuer: "https://fcp.integ01.dev-franceconnect.fr".into(),
            upstream_subject: subject.into(),
            ..Default::default()
        },
        now(),
    )
    .unwrap()
}

fn erasure_removes_the_person_everywhere_and_keeps_the_ids(db: &TestDb) {
    let w = world(db);
    let usager = distinctive_usager(db, "fc-sub-zephyrine-7f3a");
    let mut conn = db.store.conn().unwrap();
    let new_mandate = |demarches: Vec<Demarche>, is_remote: bool| NewMandate {
        organisation_id: w.organisation.id.clone(),
        usager_id: usager.id.clone(),
        aidant_id: w.aidant.id.clone(),
        demarches,
        duration: DurationKind::Long,
        custom_expires_at: None,
        is_remote,
        consent_proof: is_remote.then(|| "code sent to +33 6 12 34 56 78".to_owned()),
    };
    let live = mandates::create(&mut conn, new_mandate(vec![Demarche::Argent], false), now()).unwrap();
    let remote = mandates::create(&mut conn, new_mandate(vec![Demarche::Social], true), now()).unwrap();
    for needle in [NAME, FAMILY_NAME, BIRTHDATE, "fc-sub-zephyrine-7f3a", "Goélands", "+33 6 12"] {
        assert!(!db.columns_containing(needle).is_empty(), "{needle} is stored before the erasure");
    }

    let erasure = erase_usager(&mut conn, &usager.id, now()).unwrap();
    let Erasure::Erased { mut mandates_revoked } = erasure else { panic!("{erasure:?}") };
    mandates_revoked.sort();
    let mut expected = vec![live.mandate.id.clone(), remote.mandate.id.clone()];
    expected.sort();
    assert_eq!(mandates_revoked, expected);

    for needle in [NAME, FAMILY_NAME, BIRTHDATE, "fc-sub-zephyrine-7f3a", "Goélands", "+33 6 12", "zephyrine"] {
        assert_eq!(db.columns_containing(needle), Vec::<String>::new(), "{needle} is still stored");
    }
    // The other usager of the world keeps everything.
    assert_eq!(usagers::find(&mut conn, &w.usager.id).unwrap().family_name, "DUBOIS");

    // The rows that name the usager by id stay, ended; the attestation can no longer be linked.
    let found = mandates::find(&mut conn, &live.mandate.id).unwrap();
    assert!(found.mandate.revoked_at.is_some() && found.mandate.attestation_salt.is_none());
    assert!(found.mandate.attestation_hash.is_some(), "the attestation's hash stays, unlinkable");
    assert!(found.authorisations.iter().all(|a| a.revoked_at.is_some()));
    let permission =
        mandates::may_act(&mut conn, &w.aidant.id, &w.organisation.id, &usager.id, Demarche::Argent, now()).unwrap();
    assert!(matches!(permission, mandates::Permission::Denied(mandates::Refusal::MandateRevoked)), "{permission:?}");
    assert!(usagers::list(&mut conn, None).unwrap().iter().all(|u| u.id != usager.id), "not listed any more");

    let entries = journal::entries_for_usager(&mut conn, &usager.id).unwrap();
    let erased: Vec<_> = entries.iter().filter(|e| e.action == JournalAction::UsagerErased).collect();
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].details.as_ref().unwrap().value()["mandates_revoked"], 2);
    assert_eq!(entries.iter().filter(|e| e.action == JournalAction::MandateRevoked).count(), 2);
    assert!(matches!(journal::verify(&mut conn).unwrap(), ChainReport::Intact { .. }));
}

fn erasing_twice_changes_nothing_and_an_unknown_usager_is_named(db: &TestDb) {
    let w = world(db);
    mandate(db, &w, &[Demarche::Argent], now());
    let mut conn = db.store.conn().unwrap();
    assert!(matches!(erase_usager(&mut conn, &w.usager.id, now()).unwrap(), Erasure::Erased { .. }));
    let length = journal::recent(&mut conn, None, 1).unwrap()[0].seq;
    assert!(matches!(erase_usager(&mut conn, &w.usager.id, now()).unwrap(), Erasure::AlreadyErased { .. }));
    assert_eq!(journal::recent(&mut conn, None, 1).unwrap()[0].seq, length, "no second entry");
    assert!(matches!(erase_usager(&mut conn, "no-such-usager", now()), Err(StoreError::NotFound("usager"))));
}

/// The upstream subject is freed: the same person signing in again is a new usager, and the
/// erased row never matches anyone.
fn an_erased_usager_can_come_back_as_a_new_person(db: &TestDb) {
    let first = distinctive_usager(db, "fc-sub-returning");
    let mut conn = db.store.conn().unwrap();
    erase_usager(&mut conn, &first.id, now()).unwrap();
    assert!(usagers::find_by_upstream(&mut conn, "https://fcp.integ01.dev-franceconnect.fr", "fc-sub-returning")
        .unwrap()
        .is_none());
    drop(conn);
    let again = distinctive_usager(db, "fc-sub-returning");
    assert_ne!(again.id, first.id);
}
