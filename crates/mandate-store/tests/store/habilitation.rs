//! Habilitation: training and PIX recorded with their dates, the charter in force accepted,
//! and what a helper still lacks.

use chrono::{Duration, NaiveDate};
use mandate_store::aidants;
use mandate_store::habilitation::{self, HabilitationStep, Requirement, CURRENT_CHARTER_VERSION};
use mandate_store::journal::{self, JournalAction};
use mandate_store::testing::TestDb;
use mandate_store::{now, StoreError};

use crate::fixtures::{aidant_in_habilitation, world};

mandate_store::tests_on_both_backends!(
    a_new_helper_lacks_training_pix_and_charter,
    recording_both_steps_and_accepting_the_charter_habilitates,
    an_older_charter_version_is_missing_again,
    a_future_date_and_an_unknown_helper_are_refused,
    accepting_another_version_than_the_one_in_force_is_refused,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn a_new_helper_lacks_training_pix_and_charter(db: &TestDb) {
    let w = world(db);
    assert!(habilitation::missing(&w.aidant).is_empty(), "the fixture helper is habilitated");
    let new = aidant_in_habilitation(db, "nouvelle@example.fr", &[&w.organisation.id]).unwrap();
    assert_eq!(habilitation::missing(&new), vec![Requirement::Training, Requirement::Pix, Requirement::Charter]);
}

fn recording_both_steps_and_accepting_the_charter_habilitates(db: &TestDb) {
    let w = world(db);
    let new = aidant_in_habilitation(db, "nouvelle@example.fr", &[&w.organisation.id]).unwrap();
    let mut conn = db.store.conn().unwrap();
    let at = now();

    habilitation::record(&mut conn, &new.id, HabilitationStep::Training, day("2026-10-02"), None, None, at).unwrap();
    let stored = aidants::find(&mut conn, &new.id).unwrap();
    assert_eq!(stored.training_date.as_deref(), Some("2026-10-02"));
    assert_eq!(habilitation::missing(&stored), vec![Requirement::Pix, Requirement::Charter]);

    // A manager records PIX for their organisation; the entry names them, not the helper's details.
    habilitation::record(
        &mut conn,
        &new.id,
        HabilitationStep::Pix,
        day("2026-10-20"),
        Some(&w.aidant.id),
        Some(&w.organisation.id),
        at,
    )
    .unwrap();
    let stored = aidants::find(&mut conn, &new.id).unwrap();
    assert_eq!(stored.pix_date.as_deref(), Some("2026-10-20"));
    assert_eq!(habilitation::missing(&stored), vec![Requirement::Charter]);

    habilitation::accept_charter(&mut conn, &new.id, CURRENT_CHARTER_VERSION, at).unwrap();
    let stored = aidants::find(&mut conn, &new.id).unwrap();
    assert!(habilitation::missing(&stored).is_empty());
    assert_eq!(stored.charter_version.as_deref(), Some(CURRENT_CHARTER_VERSION));
    assert_eq!(stored.charter_signed_at, Some(at));

    let recorded = journal::recent(&mut conn, Some(JournalAction::HabilitationRecorded), 10).unwrap();
    assert_eq!(recorded.len(), 2);
    let pix = recorded.iter().find(|e| e.details.as_ref().unwrap().value()["step"] == "pix").unwrap();
    assert_eq!(pix.aidant_id.as_deref(), Some(new.id.as_str()));
    assert_eq!(pix.organisation_id.as_deref(), Some(w.organisation.id.as_str()));
    assert_eq!(pix.details.as_ref().unwrap().value()["by"], w.aidant.id.as_str());
    assert_eq!(pix.details.as_ref().unwrap().value()["on"], "2026-10-20");
    let training = recorded.iter().find(|e| e.details.as_ref().unwrap().value()["step"] == "training").unwrap();
    assert_eq!(training.details.as_ref().unwrap().value()["by"], "operator");
    for entry in &recorded {
        assert!(!entry.details.as_ref().unwrap().as_str().contains("nouvelle@example.fr"));
    }
    let accepted = journal::recent(&mut conn, Some(JournalAction::CharterAccepted), 10).unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].aidant_id.as_deref(), Some(new.id.as_str()));
    assert_eq!(accepted[0].details.as_ref().unwrap().value()["version"], CURRENT_CHARTER_VERSION);
}

fn an_older_charter_version_is_missing_again(db: &TestDb) {
    let w = world(db);
    db.execute_sql(&format!("UPDATE aidants SET charter_version = '2025-01' WHERE id = '{}'", w.aidant.id));
    let stored = aidants::find(&mut db.store.conn().unwrap(), &w.aidant.id).unwrap();
    assert_eq!(habilitation::missing(&stored), vec![Requirement::Charter]);
}

fn a_future_date_and_an_unknown_helper_are_refused(db: &TestDb) {
    let w = world(db);
    let new = aidant_in_habilitation(db, "nouvelle@example.fr", &[&w.organisation.id]).unwrap();
    let mut conn = db.store.conn().unwrap();
    let at = now();
    let tomorrow = (at + Duration::days(1)).date();
    let err = habilitation::record(&mut conn, &new.id, HabilitationStep::Pix, tomorrow, None, None, at).unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "pix", .. }), "{err:?}");
    let err = habilitation::record(&mut conn, "no-such-helper", HabilitationStep::Training, at.date(), None, None, at)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("aidant")), "{err:?}");
    assert_eq!(journal::count(&mut conn, JournalAction::HabilitationRecorded).unwrap(), 0);
    assert!(aidants::find(&mut conn, &new.id).unwrap().pix_date.is_none());
}

fn accepting_another_version_than_the_one_in_force_is_refused(db: &TestDb) {
    let w = world(db);
    let new = aidant_in_habilitation(db, "nouvelle@example.fr", &[&w.organisation.id]).unwrap();
    let mut conn = db.store.conn().unwrap();
    let err = habilitation::accept_charter(&mut conn, &new.id, "2020-01", now()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "charter_version", .. }), "{err:?}");
    let stored = aidants::find(&mut conn, &new.id).unwrap();
    assert!(stored.charter_version.is_none());
    assert_eq!(journal::count(&mut conn, JournalAction::CharterAccepted).unwrap(), 0);
}
