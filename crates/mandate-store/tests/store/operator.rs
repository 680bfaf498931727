//! What the store tells an operator about a change: a SIRET already registered, the
//! authorisations a new mandate replaced, a revocation that had nothing left to revoke.

use chrono::Duration;
use diesel::connection::SimpleConnection;
use mandate_store::journal::{self, ChainReport};
use mandate_store::mandates::{self, Revocation};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, Siret, StoreError};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    a_second_organisation_with_one_siret_is_refused_naming_the_first,
    a_new_mandate_says_which_authorisations_it_replaced,
    revoking_twice_says_already_revoked_and_writes_one_entry,
);

fn journal_entries(db: &TestDb) -> u64 {
    match journal::verify(&mut db.store.conn().unwrap()).unwrap() {
        ChainReport::Intact { entries, .. } => entries as u64,
        broken => panic!("{broken:?}"),
    }
}

fn a_second_organisation_with_one_siret_is_refused_naming_the_first(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    let again = organisations::create(
        &mut conn,
        NewOrganisation {
            name: "France Services Paris 13 bis".into(),
            siret: Siret::parse(&w.organisation.siret).unwrap(),
            address: "2 place d'Italie".into(),
            postcode: "75013".into(),
            city: "Paris".into(),
            organisation_type: mandate_store::OrganisationType::FranceServices,
            department: mandate_store::Department::parse("75").unwrap(),
            demarches: mandate_store::Demarche::ALL.to_vec(),
        },
        now(),
    );
    match again {
        Err(StoreError::DuplicateSiret { existing_id, .. }) => assert_eq!(existing_id, w.organisation.id),
        other => panic!("expected a duplicate SIRET refusal, got {other:?}"),
    }
    assert_eq!(organisations::list(&mut conn).unwrap().len(), 2, "nothing more stored");
    // The unique index holds the rule for any writer, not only this function.
    let insert = |id: &str, siret: &str| {
        format!(
            "INSERT INTO organisations (id, name, siret, address, postcode, city, region, created_at) \
             VALUES ('{id}', 'Raw', '{siret}', 'a', '75013', 'Paris', 'IDF', '2026-01-01 00:00:00')"
        )
    };
    conn.batch_execute(&insert("raw-1", "00000000000000")).expect("the statement itself is valid");
    let raw = conn.batch_execute(&insert("raw-2", &w.organisation.siret));
    assert!(raw.is_err(), "a second row with the same SIRET is refused by the database");
}

fn a_new_mandate_says_which_authorisations_it_replaced(db: &TestDb) {
    let w = world(db);
    let first = mandate(db, &w, &[Demarche::Argent, Demarche::Famille], now() - Duration::days(2));
    let second = mandate(db, &w, &[Demarche::Argent, Demarche::Social], now());
    let argent_of_first = first.authorisations.iter().find(|a| a.demarche == Demarche::Argent).unwrap();
    assert_eq!(second.replaced.len(), 1, "{:?}", second.replaced);
    assert_eq!(second.replaced[0].id, argent_of_first.id);
    assert_eq!(second.replaced[0].mandate_id, first.mandate.id);
    assert!(second.replaced[0].revoked_at.is_some());
    assert!(first.replaced.is_empty(), "nothing to replace the first time");
}

fn revoking_twice_says_already_revoked_and_writes_one_entry(db: &TestDb) {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent, Demarche::Social], now());
    let social = created.authorisations.iter().find(|a| a.demarche == Demarche::Social).unwrap();
    let mut conn = db.store.conn().unwrap();

    let before = journal_entries(db);
    assert_eq!(
        mandates::revoke_authorisation(&mut conn, &social.id, &w.aidant.id, now()).unwrap(),
        Revocation::Revoked
    );
    assert_eq!(journal_entries(db), before + 1);
    assert_eq!(
        mandates::revoke_authorisation(&mut conn, &social.id, &w.aidant.id, now()).unwrap(),
        Revocation::AlreadyRevoked
    );
    assert_eq!(journal_entries(db), before + 1, "no journal entry for a revocation that changed nothing");

    assert_eq!(mandates::revoke(&mut conn, &created.mandate.id, &w.aidant.id, now()).unwrap(), Revocation::Revoked);
    let after_mandate = journal_entries(db);
    assert_eq!(after_mandate, before + 2);
    assert_eq!(
        mandates::revoke(&mut conn, &created.mandate.id, &w.aidant.id, now()).unwrap(),
        Revocation::AlreadyRevoked
    );
    let argent = created.authorisations.iter().find(|a| a.demarche == Demarche::Argent).unwrap();
    assert_eq!(
        mandates::revoke_authorisation(&mut conn, &argent.id, &w.aidant.id, now()).unwrap(),
        Revocation::AlreadyRevoked,
        "revoked with its mandate"
    );
    assert_eq!(journal_entries(db), after_mandate);
}
