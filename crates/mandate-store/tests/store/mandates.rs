use chrono::Duration;
use mandate_store::mandates::{self, Permission, Refusal};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    live_mandate_lets_the_aidant_act,
    expired_mandate_is_refused,
    revoked_mandate_is_refused,
    revoking_one_authorisation_keeps_the_others,
    new_mandate_replaces_the_overlapping_authorisation,
    wrong_organisation_is_refused,
    inactive_aidant_is_refused,
    uncovered_demarche_and_absent_mandate_say_why,
    live_usagers_and_demarches_are_listed_for_the_choice,
);

fn may_act(db: &TestDb, w: &crate::fixtures::World, org: &str, d: Demarche, at: chrono::NaiveDateTime) -> Permission {
    let mut conn = db.store.conn().unwrap();
    mandates::may_act(&mut conn, &w.aidant.id, org, &w.usager.id, d, at).unwrap()
}

fn live_mandate_lets_the_aidant_act(db: &TestDb) {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent, Demarche::Social], now());
    match may_act(db, &w, &w.organisation.id, Demarche::Argent, now()) {
        Permission::Granted(live) => {
            assert_eq!(live.mandate_id, created.mandate.id);
            assert_eq!(live.demarche, Demarche::Argent);
            assert_eq!(live.expires_at, created.mandate.expires_at);
        }
        other => panic!("expected a grant, got {other:?}"),
    }
    assert_eq!(created.mandate.expires_at - created.mandate.created_at, Duration::days(31));
}

fn expired_mandate_is_refused(db: &TestDb) {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent], now() - Duration::days(40));
    assert!(created.mandate.expires_at < now());
    assert_eq!(
        may_act(db, &w, &w.organisation.id, Demarche::Argent, now()),
        Permission::Denied(Refusal::MandateExpired)
    );
    // The same mandate was live the day after it was signed.
    let day_after = created.mandate.created_at + Duration::days(1);
    assert!(matches!(may_act(db, &w, &w.organisation.id, Demarche::Argent, day_after), Permission::Granted(_)));
}

fn revoked_mandate_is_refused(db: &TestDb) {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent, Demarche::Logement], now());
    let mut conn = db.store.conn().unwrap();
    mandates::revoke(&mut conn, &created.mandate.id, &w.aidant.id, now()).unwrap();
    for d in [Demarche::Argent, Demarche::Logement] {
        assert_eq!(may_act(db, &w, &w.organisation.id, d, now()), Permission::Denied(Refusal::MandateRevoked));
    }
    let stored = mandates::find(&mut conn, &created.mandate.id).unwrap();
    assert_eq!(stored.mandate.revoked_by_aidant_id.as_deref(), Some(w.aidant.id.as_str()));
    assert!(stored.authorisations.iter().all(|a| a.revoked_at.is_some()));
}

fn revoking_one_authorisation_keeps_the_others(db: &TestDb) {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent, Demarche::Social], now());
    let argent = created.authorisations.iter().find(|a| a.demarche == Demarche::Argent).unwrap();
    let mut conn = db.store.conn().unwrap();
    mandates::revoke_authorisation(&mut conn, &argent.id, &w.aidant.id, now()).unwrap();
    assert_eq!(
        may_act(db, &w, &w.organisation.id, Demarche::Argent, now()),
        Permission::Denied(Refusal::AuthorisationRevoked)
    );
    assert!(matches!(may_act(db, &w, &w.organisation.id, Demarche::Social, now()), Permission::Granted(_)));
}

fn new_mandate_replaces_the_overlapping_authorisation(db: &TestDb) {
    let w = world(db);
    let first = mandate(db, &w, &[Demarche::Argent, Demarche::Famille], now() - Duration::days(2));
    let second = mandate(db, &w, &[Demarche::Argent], now());
    let mut conn = db.store.conn().unwrap();
    let live = mandates::live_authorisations(&mut conn, &w.organisation.id, &w.usager.id, now()).unwrap();
    let argent: Vec<_> = live.iter().filter(|l| l.demarche == Demarche::Argent).collect();
    assert_eq!(argent.len(), 1, "never two live authorisations for one démarche: {live:?}");
    assert_eq!(argent[0].mandate_id, second.mandate.id);
    // The first mandate keeps its other démarche.
    assert!(live.iter().any(|l| l.demarche == Demarche::Famille && l.mandate_id == first.mandate.id));
    match may_act(db, &w, &w.organisation.id, Demarche::Argent, now()) {
        Permission::Granted(g) => assert_eq!(g.mandate_id, second.mandate.id),
        other => panic!("{other:?}"),
    }
}

fn wrong_organisation_is_refused(db: &TestDb) {
    let w = world(db);
    mandate(db, &w, &[Demarche::Argent], now());
    assert_eq!(
        may_act(db, &w, &w.other_organisation.id, Demarche::Argent, now()),
        Permission::Denied(Refusal::NotMember)
    );
    // A member of the other organisation, which holds no mandate for this usager, is refused too.
    let mut conn = db.store.conn().unwrap();
    mandate_store::aidants::add_to_organisation(&mut conn, &w.aidant.id, &w.other_organisation.id).unwrap();
    assert_eq!(
        may_act(db, &w, &w.other_organisation.id, Demarche::Argent, now()),
        Permission::Denied(Refusal::NoMandate)
    );
}

fn inactive_aidant_is_refused(db: &TestDb) {
    let w = world(db);
    mandate(db, &w, &[Demarche::Argent], now());
    let mut conn = db.store.conn().unwrap();
    mandate_store::aidants::set_active(&mut conn, &w.aidant.id, false).unwrap();
    assert_eq!(
        may_act(db, &w, &w.organisation.id, Demarche::Argent, now()),
        Permission::Denied(Refusal::AidantInactive)
    );
}

fn uncovered_demarche_and_absent_mandate_say_why(db: &TestDb) {
    let w = world(db);
    assert_eq!(may_act(db, &w, &w.organisation.id, Demarche::Argent, now()), Permission::Denied(Refusal::NoMandate));
    mandate(db, &w, &[Demarche::Argent], now());
    assert_eq!(
        may_act(db, &w, &w.organisation.id, Demarche::Justice, now()),
        Permission::Denied(Refusal::DemarcheNotCovered)
    );
}

fn live_usagers_and_demarches_are_listed_for_the_choice(db: &TestDb) {
    let w = world(db);
    let other = crate::fixtures::usager(db, "fc-sub-2");
    mandate(db, &w, &[Demarche::Argent, Demarche::Social], now());
    let mut conn = db.store.conn().unwrap();
    let listed = mandates::usagers_with_live_mandates(&mut conn, &w.organisation.id, None, now()).unwrap();
    assert_eq!(listed.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), vec![w.usager.id.as_str()]);
    assert_ne!(listed[0].id, other.id);
    let searched =
        mandates::usagers_with_live_mandates(&mut conn, &w.organisation.id, Some("dub ANGELA"), now()).unwrap();
    assert_eq!(searched.len(), 1);
    let missed = mandates::usagers_with_live_mandates(&mut conn, &w.organisation.id, Some("durand"), now()).unwrap();
    assert!(missed.is_empty());
    let none_elsewhere =
        mandates::usagers_with_live_mandates(&mut conn, &w.other_organisation.id, None, now()).unwrap();
    assert!(none_elsewhere.is_empty());
    let demarches: Vec<Demarche> = mandates::live_authorisations(&mut conn, &w.organisation.id, &w.usager.id, now())
        .unwrap()
        .into_iter()
        .map(|l| l.demarche)
        .collect();
    assert_eq!(demarches, vec![Demarche::Argent, Demarche::Social]);
}
