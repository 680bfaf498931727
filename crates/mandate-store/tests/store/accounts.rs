//! A helper account's life in the store: added pending, enrolled through a one-time link,
//! second factors with a one-time rule each, TOTP cards imported and assigned, factors reset.

use chrono::Duration;
use mandate_store::aidants::{self, Aidant, NewPendingAidant};
use mandate_store::cards;
use mandate_store::enrolment::{self, Lookup};
use mandate_store::journal::{self, JournalAction};
use mandate_store::second_factors::{self, FactorKind};
use mandate_store::testing::TestDb;
use mandate_store::{now, sessions, Email, StoreError};

use crate::fixtures::{world, World};

mandate_store::tests_on_both_backends!(
    a_pending_helper_has_no_password_nor_second_factor_and_is_journalled,
    an_enrolment_link_opens_for_72_hours_only,
    an_enrolment_link_works_once,
    a_newer_enrolment_link_supersedes_older_unused_ones,
    a_link_after_a_reset_keeps_the_password,
    a_code_step_is_spent_once_per_factor,
    an_unconfirmed_factor_accepts_no_code,
    cards_import_all_or_nothing,
    a_card_is_assigned_to_one_helper_as_a_confirmed_60_second_factor,
    resetting_removes_every_factor_and_frees_the_card,
    changing_the_password_ends_the_other_sessions,
);

const APP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const CARD_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn pending(db: &TestDb, w: &World, email: &str) -> Aidant {
    let mut conn = db.store.conn().unwrap();
    aidants::create_pending(
        &mut conn,
        NewPendingAidant {
            email: Email::parse(email).unwrap(),
            given_name: "Sacha".into(),
            family_name: "Bernard".into(),
            profession: "Agent d'accueil".into(),
            organisation_id: w.organisation.id.clone(),
        },
        Some(&w.aidant.id),
        now(),
    )
    .unwrap()
}

fn last_entry(db: &TestDb, action: JournalAction) -> journal::JournalEntry {
    let mut conn = db.store.conn().unwrap();
    journal::recent(&mut conn, Some(action), 1).unwrap().pop().unwrap_or_else(|| panic!("no {action:?} entry"))
}

fn a_pending_helper_has_no_password_nor_second_factor_and_is_journalled(db: &TestDb) {
    let w = world(db);
    let sacha = pending(db, &w, "sacha.bernard@example.fr");
    let mut conn = db.store.conn().unwrap();
    let stored = aidants::find(&mut conn, &sacha.id).unwrap();
    assert!(enrolment::needs_password(&stored));
    assert!(second_factors::list(&mut conn, &db.keys, &sacha.id).unwrap().is_empty());
    assert!(!second_factors::has_confirmed(&mut conn, &sacha.id).unwrap());
    assert!(aidants::is_member(&mut conn, &sacha.id, &w.organisation.id).unwrap());
    assert!(stored.training_date.is_none() && stored.charter_version.is_none(), "not habilitated yet");
    let entry = last_entry(db, JournalAction::AidantCreated);
    assert_eq!(entry.aidant_id.as_deref(), Some(sacha.id.as_str()));
    assert_eq!(entry.organisation_id.as_deref(), Some(w.organisation.id.as_str()));
    let details = entry.details.unwrap();
    assert_eq!(details.value()["by"], w.aidant.id.as_str());
    assert!(!details.as_str().contains("sacha") && !details.as_str().contains("Bernard"), "no personal data");

    let again = aidants::create_pending(
        &mut conn,
        NewPendingAidant {
            email: Email::parse("sacha.bernard@example.fr").unwrap(),
            given_name: "Sacha".into(),
            family_name: "Bernard".into(),
            profession: "Agent".into(),
            organisation_id: w.organisation.id.clone(),
        },
        None,
        now(),
    );
    assert!(matches!(again, Err(StoreError::DuplicateEmail(_))), "{again:?}");
}

fn an_enrolment_link_opens_for_72_hours_only(db: &TestDb) {
    let w = world(db);
    let sacha = pending(db, &w, "sacha.bernard@example.fr");
    let mut conn = db.store.conn().unwrap();
    let issued_at = now();
    let link = enrolment::issue(&mut conn, &sacha.id, Some(&w.aidant.id), Some(&w.organisation.id), issued_at).unwrap();
    assert_eq!(link.expires_at, issued_at + Duration::hours(72));
    let just_before = issued_at + Duration::hours(72) - Duration::seconds(1);
    match enrolment::lookup(&mut conn, &link.token, just_before).unwrap() {
        Lookup::Valid { aidant, .. } => assert_eq!(aidant.id, sacha.id),
        other => panic!("expected a valid link, got {other:?}"),
    }
    let at_expiry = issued_at + Duration::hours(72);
    assert!(matches!(enrolment::lookup(&mut conn, &link.token, at_expiry).unwrap(), Lookup::Expired));
    assert!(!enrolment::set_password(&mut conn, &link.token, "$argon2id$x", at_expiry).unwrap());
    assert!(enrolment::needs_password(&aidants::find(&mut conn, &sacha.id).unwrap()), "nothing set");
    assert!(matches!(enrolment::lookup(&mut conn, "not-a-token", issued_at).unwrap(), Lookup::Unknown));
    let entry = last_entry(db, JournalAction::EnrolmentLinkIssued);
    assert_eq!(entry.aidant_id.as_deref(), Some(sacha.id.as_str()));
    assert!(!entry.details.unwrap().as_str().contains(&link.token), "the token is never journalled");
}

/// Password, then the app's first code: the link is spent, and cannot set anything again.
fn enrol(db: &TestDb, token: &str, aidant_id: &str) -> second_factors::SecondFactor {
    let mut conn = db.store.conn().unwrap();
    if enrolment::needs_password(&aidants::find(&mut conn, aidant_id).unwrap()) {
        assert!(enrolment::set_password(&mut conn, token, "$argon2id$chosen", now()).unwrap());
    }
    let factor = second_factors::start_app(&mut conn, &db.keys, aidant_id, APP_SECRET, now()).unwrap();
    assert!(!factor.is_confirmed());
    assert_eq!(factor.step_seconds, 30);
    assert!(enrolment::complete(&mut conn, token, &factor.id, 1000, now()).unwrap());
    second_factors::find(&mut conn, &db.keys, &factor.id).unwrap()
}

fn an_enrolment_link_works_once(db: &TestDb) {
    let w = world(db);
    let sacha = pending(db, &w, "sacha.bernard@example.fr");
    let link = enrolment::issue(&mut db.store.conn().unwrap(), &sacha.id, None, None, now()).unwrap();
    let mut conn = db.store.conn().unwrap();
    // The app cannot be confirmed before a password is chosen.
    let early = second_factors::start_app(&mut conn, &db.keys, &sacha.id, APP_SECRET, now()).unwrap();
    assert!(!enrolment::complete(&mut conn, &link.token, &early.id, 999, now()).unwrap());
    drop(conn);

    let factor = enrol(db, &link.token, &sacha.id);
    let mut conn = db.store.conn().unwrap();
    assert!(factor.is_confirmed());
    assert_eq!(factor.last_step, Some(1000), "the first code is spent");
    assert!(second_factors::has_confirmed(&mut conn, &sacha.id).unwrap());
    assert_eq!(second_factors::list(&mut conn, &db.keys, &sacha.id).unwrap().len(), 1, "the early one was replaced");
    assert_eq!(aidants::find(&mut conn, &sacha.id).unwrap().password_hash, "$argon2id$chosen");

    assert!(matches!(enrolment::lookup(&mut conn, &link.token, now()).unwrap(), Lookup::Used));
    assert!(!enrolment::set_password(&mut conn, &link.token, "$argon2id$other", now()).unwrap());
    let another = second_factors::start_app(&mut conn, &db.keys, &sacha.id, APP_SECRET, now()).unwrap();
    assert!(!enrolment::complete(&mut conn, &link.token, &another.id, 2000, now()).unwrap());
    assert!(!second_factors::find(&mut conn, &db.keys, &another.id).unwrap().is_confirmed());
    assert_eq!(aidants::find(&mut conn, &sacha.id).unwrap().password_hash, "$argon2id$chosen");
    let entry = last_entry(db, JournalAction::EnrolmentCompleted);
    assert_eq!(entry.aidant_id.as_deref(), Some(sacha.id.as_str()));
    assert_eq!(journal::count(&mut conn, JournalAction::EnrolmentCompleted).unwrap(), 1);
}

fn a_newer_enrolment_link_supersedes_older_unused_ones(db: &TestDb) {
    let w = world(db);
    let sacha = pending(db, &w, "sacha.bernard@example.fr");
    let mut conn = db.store.conn().unwrap();
    let first = enrolment::issue(&mut conn, &sacha.id, Some(&w.aidant.id), None, now()).unwrap();
    let second = enrolment::issue(&mut conn, &sacha.id, Some(&w.aidant.id), None, now()).unwrap();
    assert_ne!(first.token, second.token);
    assert!(matches!(enrolment::lookup(&mut conn, &first.token, now()).unwrap(), Lookup::Expired));
    assert!(!enrolment::set_password(&mut conn, &first.token, "$argon2id$x", now()).unwrap());
    assert!(matches!(enrolment::lookup(&mut conn, &second.token, now()).unwrap(), Lookup::Valid { .. }));
    // Another helper's link is untouched.
    let other = pending(db, &w, "other@example.fr");
    let theirs = enrolment::issue(&mut conn, &other.id, None, None, now()).unwrap();
    enrolment::issue(&mut conn, &sacha.id, None, None, now()).unwrap();
    assert!(matches!(enrolment::lookup(&mut conn, &theirs.token, now()).unwrap(), Lookup::Valid { .. }));
}

fn a_link_after_a_reset_keeps_the_password(db: &TestDb) {
    let w = world(db);
    let sacha = pending(db, &w, "sacha.bernard@example.fr");
    let link = enrolment::issue(&mut db.store.conn().unwrap(), &sacha.id, None, None, now()).unwrap();
    enrol(db, &link.token, &sacha.id);
    let mut conn = db.store.conn().unwrap();
    assert_eq!(second_factors::reset(&mut conn, &sacha.id, Some(&w.aidant.id), None, now()).unwrap(), 1);
    let again = enrolment::issue(&mut conn, &sacha.id, Some(&w.aidant.id), None, now()).unwrap();
    match enrolment::lookup(&mut conn, &again.token, now()).unwrap() {
        Lookup::Valid { aidant, .. } => assert!(!enrolment::needs_password(&aidant), "only the app is enrolled again"),
        other => panic!("{other:?}"),
    }
    assert!(!enrolment::set_password(&mut conn, &again.token, "$argon2id$taken-over", now()).unwrap());
    drop(conn);
    enrol(db, &again.token, &sacha.id);
    assert_eq!(aidants::find(&mut db.store.conn().unwrap(), &sacha.id).unwrap().password_hash, "$argon2id$chosen");
}

fn a_code_step_is_spent_once_per_factor(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    let app = second_factors::add_confirmed_app(&mut conn, &db.keys, &w.aidant.id, APP_SECRET, 30, now()).unwrap();
    cards::import(&mut conn, &db.keys, &[("C-1".into(), CARD_SECRET.into())], now()).unwrap();
    let card = cards::assign(&mut conn, &db.keys, "C-1", &w.aidant.id, None, None, now()).unwrap();
    assert!(second_factors::accept_step(&mut conn, &app.id, 500).unwrap());
    assert!(!second_factors::accept_step(&mut conn, &app.id, 500).unwrap(), "the same step twice");
    assert!(!second_factors::accept_step(&mut conn, &app.id, 499).unwrap(), "an earlier step");
    assert!(second_factors::accept_step(&mut conn, &card.id, 250).unwrap(), "the card keeps its own steps");
    assert!(second_factors::accept_step(&mut conn, &app.id, 501).unwrap());
    assert!(!second_factors::accept_step(&mut conn, &card.id, 250).unwrap());
}

fn an_unconfirmed_factor_accepts_no_code(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    let waiting = second_factors::start_app(&mut conn, &db.keys, &w.aidant.id, APP_SECRET, now()).unwrap();
    assert!(!second_factors::accept_step(&mut conn, &waiting.id, 10).unwrap());
    assert!(second_factors::confirmed(&mut conn, &db.keys, &w.aidant.id).unwrap().iter().all(|f| f.id != waiting.id));
    assert_eq!(
        second_factors::pending_app(&mut conn, &db.keys, &w.aidant.id).unwrap().map(|f| f.id),
        Some(waiting.id.clone())
    );
    let printed = format!("{waiting:?}");
    assert!(!printed.contains(APP_SECRET), "{printed}");
}

fn cards_import_all_or_nothing(db: &TestDb) {
    let _w = world(db);
    let mut conn = db.store.conn().unwrap();
    let two = [("C-1".to_string(), CARD_SECRET.to_string()), ("C-2".to_string(), "jbsw y3dp ehpk 3pxp".to_string())];
    assert_eq!(cards::import(&mut conn, &db.keys, &two, now()).unwrap(), 2);
    assert_eq!(cards::find(&mut conn, &db.keys, "C-2").unwrap().unwrap().secret, "JBSWY3DPEHPK3PXP", "normalised");
    assert_eq!(cards::find(&mut conn, &db.keys, "C-1").unwrap().unwrap().step_seconds, 60);
    let entry = last_entry(db, JournalAction::CardsImported);
    assert_eq!(entry.details.unwrap().value()["count"], 2);

    let refused: [&[(String, String)]; 3] = [
        &[("C-3".into(), CARD_SECRET.into()), ("C-1".into(), CARD_SECRET.into())],
        &[("C-3".into(), CARD_SECRET.into()), ("C-4".into(), "not base32!".into())],
        &[("C-3".into(), CARD_SECRET.into()), ("C-3".into(), CARD_SECRET.into())],
    ];
    for batch in refused {
        let result = cards::import(&mut conn, &db.keys, batch, now());
        assert!(matches!(result, Err(StoreError::InvalidField { .. })), "{result:?}");
        assert!(cards::find(&mut conn, &db.keys, "C-3").unwrap().is_none(), "nothing imported when a row is bad");
    }
    assert_eq!(journal::count(&mut conn, JournalAction::CardsImported).unwrap(), 1);
}

fn a_card_is_assigned_to_one_helper_as_a_confirmed_60_second_factor(db: &TestDb) {
    let w = world(db);
    let other = pending(db, &w, "sacha.bernard@example.fr");
    let mut conn = db.store.conn().unwrap();
    cards::import(&mut conn, &db.keys, &[("C-1".into(), CARD_SECRET.into())], now()).unwrap();
    assert!(cards::find_unassigned(&mut conn, &db.keys, "C-1").unwrap().is_some());
    assert!(cards::find_unassigned(&mut conn, &db.keys, "C-404").unwrap().is_none());
    let factor =
        cards::assign(&mut conn, &db.keys, "C-1", &w.aidant.id, Some(&other.id), Some(&w.organisation.id), now())
            .unwrap();
    assert_eq!(factor.kind, FactorKind::Card);
    assert_eq!(factor.step_seconds, 60);
    assert_eq!(factor.card_serial.as_deref(), Some("C-1"));
    assert_eq!(factor.secret, CARD_SECRET);
    assert!(factor.is_confirmed());
    assert!(cards::find_unassigned(&mut conn, &db.keys, "C-1").unwrap().is_none());
    let again = cards::assign(&mut conn, &db.keys, "C-1", &other.id, None, None, now());
    assert!(matches!(again, Err(StoreError::InvalidField { field: "card", .. })), "{again:?}");
    assert!(second_factors::list(&mut conn, &db.keys, &other.id).unwrap().is_empty());
    assert!(matches!(
        cards::assign(&mut conn, &db.keys, "C-404", &other.id, None, None, now()),
        Err(StoreError::NotFound(_))
    ));
    let entry = last_entry(db, JournalAction::CardAssigned);
    assert_eq!(entry.aidant_id.as_deref(), Some(w.aidant.id.as_str()));
    assert_eq!(entry.organisation_id.as_deref(), Some(w.organisation.id.as_str()));
    let details = entry.details.unwrap();
    assert_eq!(details.value()["serial"], "C-1");
    assert_eq!(details.value()["by"], other.id.as_str());
    assert!(!details.as_str().contains(CARD_SECRET));
}

fn resetting_removes_every_factor_and_frees_the_card(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    let before = second_factors::list(&mut conn, &db.keys, &w.aidant.id).unwrap().len();
    second_factors::add_confirmed_app(&mut conn, &db.keys, &w.aidant.id, APP_SECRET, 30, now()).unwrap();
    cards::import(&mut conn, &db.keys, &[("C-1".into(), CARD_SECRET.into())], now()).unwrap();
    cards::assign(&mut conn, &db.keys, "C-1", &w.aidant.id, None, None, now()).unwrap();
    let removed = second_factors::reset(&mut conn, &w.aidant.id, None, Some(&w.organisation.id), now()).unwrap();
    assert_eq!(removed, before + 2);
    assert!(second_factors::list(&mut conn, &db.keys, &w.aidant.id).unwrap().is_empty());
    assert!(!second_factors::has_confirmed(&mut conn, &w.aidant.id).unwrap());
    assert!(cards::find_unassigned(&mut conn, &db.keys, "C-1").unwrap().is_some(), "the card may be given again");
    let entry = last_entry(db, JournalAction::SecondFactorReset);
    assert_eq!(entry.aidant_id.as_deref(), Some(w.aidant.id.as_str()));
    assert_eq!(entry.details.unwrap().value()["by"], "operator");
}

fn changing_the_password_ends_the_other_sessions(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    for id_hash in ["here", "elsewhere"] {
        sessions::create(&mut conn, id_hash, now(), Duration::hours(8)).unwrap();
        sessions::password_verified(&mut conn, id_hash, &w.aidant.id, &w.organisation.id, now()).unwrap();
    }
    sessions::create(&mut conn, "anonymous", now(), Duration::hours(8)).unwrap();
    let ended = aidants::change_password(&mut conn, &w.aidant.id, "$argon2id$new", "here", now()).unwrap();
    assert_eq!(ended, 1);
    assert_eq!(aidants::find(&mut conn, &w.aidant.id).unwrap().password_hash, "$argon2id$new");
    assert!(sessions::find_live(&mut conn, "here", now()).unwrap().is_some());
    assert!(sessions::find_live(&mut conn, "elsewhere", now()).unwrap().is_none());
    assert!(sessions::find_live(&mut conn, "anonymous", now()).unwrap().is_some(), "not the helper's");
    let entry = last_entry(db, JournalAction::PasswordChanged);
    assert_eq!(entry.aidant_id.as_deref(), Some(w.aidant.id.as_str()));
    assert_eq!(entry.details.unwrap().value()["sessions_ended"], 1);
}
