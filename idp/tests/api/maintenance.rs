//! `idp maintenance`: the six-month rule as an operator schedules it, with `--dry-run` first.

use chrono::Months;
use mandate_store::aidants::{self, NewAidant};
use mandate_store::journal::{self, JournalAction, JournalFilter, Page};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::testing::TestDb;
use mandate_store::{now, Backend, Email, Role, Siret};

use crate::helpers::{idp, stderr, stdout};

crate::on_both_backends!(maintenance_deactivates_helpers_idle_for_six_months_and_the_dry_run_only_lists,);

async fn maintenance_deactivates_helpers_idle_for_six_months_and_the_dry_run_only_lists(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let mut conn = db.store.conn().unwrap();
    let organisation = organisations::create(
        &mut conn,
        NewOrganisation {
            name: "France Services Paris 13".into(),
            siret: Siret::parse("21750001600019").unwrap(),
            address: "1 place d'Italie".into(),
            postcode: "75013".into(),
            city: "Paris".into(),
            organisation_type: mandate_store::OrganisationType::FranceServices,
            department: mandate_store::Department::parse("75").unwrap(),
            demarches: mandate_store::Demarche::ALL.to_vec(),
        },
        now(),
    )
    .unwrap();
    let seven_months_ago = now().checked_sub_months(Months::new(7)).unwrap();
    let mut helper = |email: &str, created: chrono::NaiveDateTime| {
        aidants::create(
            &mut conn,
            &db.keys,
            NewAidant {
                email: Email::parse(email).unwrap(),
                given_name: "Dominique".into(),
                family_name: "Petit".into(),
                profession: "Agent d'accueil".into(),
                phone: None,
                organisation_ids: vec![organisation.id.clone()],
                role: Role::Aidant,
                password_hash: "$argon2id$not-a-real-hash".into(),
                totp_secret: "JBSWY3DPEHPK3PXP".into(),
                totp_step_seconds: 30,
                charter_signed_at: None,
            },
            created,
        )
        .unwrap()
    };
    let idle = helper("idle@example.fr", seven_months_ago);
    let busy = helper("busy@example.fr", seven_months_ago);
    aidants::record_sign_in(&mut conn, &busy.id, now()).unwrap();

    let dry = idp(&db.url, &["maintenance", "--dry-run"], None);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let listed = stdout(&dry);
    assert!(listed.starts_with("would deactivate 1 helper account(s)"), "{listed}");
    assert!(listed.contains(&idle.id) && listed.contains("never signed in"), "{listed}");
    assert!(!listed.contains(&busy.id), "{listed}");
    assert!(aidants::find(&mut conn, &idle.id).unwrap().active, "a dry run changes nothing");

    let run = idp(&db.url, &["maintenance"], None);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).starts_with("deactivated 1 helper account(s)"), "{}", stdout(&run));
    let stored = aidants::find(&mut conn, &idle.id).unwrap();
    assert!(!stored.active && stored.deactivation_reason.as_deref() == Some("inactivity"));
    assert!(aidants::find(&mut conn, &busy.id).unwrap().active);

    let again = idp(&db.url, &["maintenance"], None);
    assert!(stdout(&again).starts_with("deactivated 0 helper account(s)"), "{}", stdout(&again));
    let filter = JournalFilter { action: Some(JournalAction::AidantDeactivated), ..Default::default() };
    let entries = journal::search(&mut conn, &filter, Page::first(10)).unwrap().entries;
    assert_eq!(entries.len(), 1, "journalled once");
    assert_eq!(entries[0].aidant_id.as_deref(), Some(idle.id.as_str()));
    assert_eq!(entries[0].organisation_id.as_deref(), Some(organisation.id.as_str()));
}
