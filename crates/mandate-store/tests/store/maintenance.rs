//! The six-month rule: an account with no sign-in for six calendar months is deactivated,
//! journalled once, and the rule run again changes nothing.

use chrono::{Days, Months, NaiveDate, NaiveDateTime};
use mandate_store::aidants::{self, Aidant, DeactivationReason, NewAidant};
use mandate_store::journal::{self, JournalAction, JournalFilter, Page};
use mandate_store::maintenance;
use mandate_store::testing::TestDb;
use mandate_store::{Email, Role};

use crate::fixtures::world;

mandate_store::tests_on_both_backends!(
    six_months_without_sign_in_deactivates_a_day_short_does_not,
    the_dry_run_lists_without_changing_and_a_second_run_finds_nothing,
);

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap().and_hms_opt(3, 0, 0).unwrap()
}

fn six_months_ago() -> NaiveDateTime {
    now().checked_sub_months(Months::new(6)).unwrap()
}

/// A helper created at `created`, who last signed in at `signed_in` (never, if `None`).
fn helper(
    db: &TestDb,
    email: &str,
    organisation_id: &str,
    created: NaiveDateTime,
    signed_in: Option<NaiveDateTime>,
) -> Aidant {
    let mut conn = db.store.conn().unwrap();
    let aidant = aidants::create(
        &mut conn,
        &db.keys,
        NewAidant {
            email: Email::parse(email).unwrap(),
            given_name: "Dominique".into(),
            family_name: "Petit".into(),
            profession: "Agent d'accueil".into(),
            phone: None,
            organisation_ids: vec![organisation_id.to_owned()],
            role: Role::Aidant,
            password_hash: "$argon2id$not-a-real-hash".into(),
            totp_secret: "JBSWY3DPEHPK3PXP".into(),
            totp_step_seconds: 30,
            charter_signed_at: None,
        },
        created,
    )
    .unwrap();
    if let Some(at) = signed_in {
        aidants::record_sign_in(&mut conn, &aidant.id, at).unwrap();
    }
    aidant
}

fn deactivations(db: &TestDb) -> Vec<journal::JournalEntry> {
    let filter = JournalFilter { action: Some(JournalAction::AidantDeactivated), ..Default::default() };
    journal::search(&mut db.store.conn().unwrap(), &filter, Page::first(100)).unwrap().entries
}

fn six_months_without_sign_in_deactivates_a_day_short_does_not(db: &TestDb) {
    let w = world(db);
    let long_ago = now().checked_sub_months(Months::new(24)).unwrap();
    let day = Days::new(1);
    let recent = helper(db, "recent@example.fr", &w.organisation.id, long_ago, Some(six_months_ago() + day));
    let stale = helper(db, "stale@example.fr", &w.organisation.id, long_ago, Some(six_months_ago() - day));
    let never_old = helper(db, "never-old@example.fr", &w.other_organisation.id, six_months_ago() - day, None);
    let never_new = helper(db, "never-new@example.fr", &w.organisation.id, six_months_ago() + day, None);
    let by_manager = helper(db, "gone@example.fr", &w.organisation.id, long_ago, Some(long_ago));
    let mut conn = db.store.conn().unwrap();
    aidants::deactivate(&mut conn, &by_manager.id, DeactivationReason::Manager, Some(&w.aidant.id), None, long_ago)
        .unwrap();

    let done = maintenance::deactivate_inactive(&mut conn, now()).unwrap();
    let ids: Vec<&str> = done.iter().map(|d| d.aidant_id.as_str()).collect();
    assert_eq!(ids, [stale.id.as_str(), never_old.id.as_str()], "oldest first; the fixture's own helper is new");
    assert_eq!(done[1].last_sign_in_at, None, "never signed in: counted from the account's creation");

    for (aidant, active) in
        [(&recent, true), (&stale, false), (&never_old, false), (&never_new, true), (&w.aidant, true)]
    {
        let stored = aidants::find(&mut conn, &aidant.id).unwrap();
        assert_eq!(stored.active, active, "{}", aidant.email);
        if !active {
            assert_eq!(stored.deactivation_reason.as_deref(), Some("inactivity"));
            assert_eq!(stored.deactivated_at, Some(now()));
        }
    }
    let still_by_manager = aidants::find(&mut conn, &by_manager.id).unwrap();
    assert_eq!(still_by_manager.deactivation_reason.as_deref(), Some("manager"), "left as it was");

    // One entry per account, in the organisation the helper works for, naming no one.
    let entries: Vec<_> = deactivations(db).into_iter().filter(|e| e.created_at == now()).collect();
    assert_eq!(entries.len(), 2);
    for (entry, (aidant, organisation)) in
        entries.iter().rev().zip([(&stale, &w.organisation.id), (&never_old, &w.other_organisation.id)])
    {
        assert_eq!(entry.aidant_id.as_deref(), Some(aidant.id.as_str()));
        assert_eq!(entry.organisation_id.as_deref(), Some(organisation.as_str()));
        assert_eq!(
            entry.details.as_ref().unwrap().value(),
            &serde_json::json!({"reason": "inactivity", "by": "operator"})
        );
        assert!(!entry.details.as_ref().unwrap().as_str().contains('@'), "no e-mail in the journal");
    }
}

fn the_dry_run_lists_without_changing_and_a_second_run_finds_nothing(db: &TestDb) {
    let w = world(db);
    let stale = helper(db, "stale@example.fr", &w.organisation.id, six_months_ago() - Days::new(40), None);
    let mut conn = db.store.conn().unwrap();
    // Exactly six calendar months: the rule applies (29 May to 29 November).
    let exactly = helper(db, "exactly@example.fr", &w.organisation.id, six_months_ago(), Some(six_months_ago()));

    let listed = maintenance::inactive_aidants(&mut conn, now()).unwrap();
    assert_eq!(listed.iter().map(|l| l.aidant_id.as_str()).collect::<Vec<_>>(), [&stale.id, &exactly.id]);
    assert!(aidants::find(&mut conn, &stale.id).unwrap().active, "listing changes nothing");
    assert!(deactivations(db).is_empty(), "and journals nothing");

    assert_eq!(maintenance::deactivate_inactive(&mut conn, now()).unwrap().len(), 2);
    let later = now() + Days::new(1);
    assert!(maintenance::deactivate_inactive(&mut conn, later).unwrap().is_empty(), "nothing more to do");
    assert!(maintenance::inactive_aidants(&mut conn, later).unwrap().is_empty());
    assert_eq!(deactivations(db).len(), 2, "journalled once each");

    // Reactivated, an account counts from then: the next run leaves it alone.
    aidants::reactivate(&mut conn, &stale.id, Some(&w.aidant.id), Some(&w.organisation.id), later).unwrap();
    assert!(maintenance::deactivate_inactive(&mut conn, later + Days::new(1)).unwrap().is_empty());
}
