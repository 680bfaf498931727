//! Bad input gets a clear error and stores nothing.

use chrono::Duration;
use diesel::prelude::*;
use mandate_store::journal::{self, ChainReport};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::schema::{aidants, authorisations, mandates as mandates_table};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, DurationKind, StoreError};

use crate::fixtures::{aidant, world};

mandate_store::tests_on_both_backends!(
    duplicate_aidant_email_is_refused_whatever_its_case,
    expiry_in_the_past_is_refused,
    mandate_for_an_organisation_the_aidant_does_not_belong_to_is_refused,
    mandate_without_demarche_or_remote_proof_is_refused,
);

fn counts(db: &TestDb) -> (i64, i64, i64, i64) {
    let mut conn = db.store.conn().unwrap();
    let a = aidants::table.count().get_result(&mut *conn).unwrap();
    let m = mandates_table::table.count().get_result(&mut *conn).unwrap();
    let z = authorisations::table.count().get_result(&mut *conn).unwrap();
    let j = match journal::verify(&mut conn).unwrap() {
        ChainReport::Intact { entries, .. } => entries,
        broken => panic!("{broken:?}"),
    };
    (a, m, z, j)
}

fn new_mandate(w: &crate::fixtures::World) -> NewMandate {
    NewMandate {
        organisation_id: w.organisation.id.clone(),
        usager_id: w.usager.id.clone(),
        aidant_id: w.aidant.id.clone(),
        demarches: vec![Demarche::Argent],
        duration: DurationKind::Short,
        custom_expires_at: None,
        is_remote: false,
        consent_proof: None,
    }
}

fn duplicate_aidant_email_is_refused_whatever_its_case(db: &TestDb) {
    let w = world(db);
    let before = counts(db);
    let err = aidant(db, "Camille.MARTIN@france-services.example.fr", &[&w.organisation.id]).unwrap_err();
    assert!(matches!(err, StoreError::DuplicateEmail(_)), "{err:?}");
    assert!(err.to_string().contains("already exists"));
    assert_eq!(counts(db), before);
}

fn expiry_in_the_past_is_refused(db: &TestDb) {
    let w = world(db);
    let before = counts(db);
    let mut conn = db.store.conn().unwrap();
    let past = now() - Duration::hours(1);
    let err = mandates::create(
        &mut conn,
        NewMandate { duration: DurationKind::Custom, custom_expires_at: Some(past), ..new_mandate(&w) },
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::ExpiryInPast(_)), "{err:?}");
    drop(conn);
    assert_eq!(counts(db), before);
}

fn mandate_for_an_organisation_the_aidant_does_not_belong_to_is_refused(db: &TestDb) {
    let w = world(db);
    let before = counts(db);
    let mut conn = db.store.conn().unwrap();
    let err = mandates::create(
        &mut conn,
        NewMandate { organisation_id: w.other_organisation.id.clone(), ..new_mandate(&w) },
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::NotMember { .. }), "{err:?}");
    drop(conn);
    assert_eq!(counts(db), before);
}

fn mandate_without_demarche_or_remote_proof_is_refused(db: &TestDb) {
    let w = world(db);
    let before = counts(db);
    let mut conn = db.store.conn().unwrap();
    let err = mandates::create(&mut conn, NewMandate { demarches: vec![], ..new_mandate(&w) }, now()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "demarches", .. }), "{err:?}");
    let err = mandates::create(&mut conn, NewMandate { is_remote: true, ..new_mandate(&w) }, now()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "consent_proof", .. }), "{err:?}");
    drop(conn);
    assert_eq!(counts(db), before);
    assert!(matches!("impots".parse::<Demarche>(), Err(StoreError::UnknownDemarche(_))));
}
