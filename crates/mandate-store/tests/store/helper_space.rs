//! What the helper space relies on: attestations that can be checked, renewals, drafts, upstream
//! logins that work once, and a usager known again by their upstream identity.

use chrono::Duration;
use diesel::prelude::*;
use mandate_store::attestation::{self, Verification};
use mandate_store::journal::{self, JournalAction};
use mandate_store::mandates::{self, MandateStatus};
use mandate_store::testing::TestDb;
use mandate_store::upstream_logins::{self, FailureReason, NewUpstreamLogin};
use mandate_store::usagers::{self, Recorded, UpstreamIdentity};
use mandate_store::{mandate_drafts, now, Demarche, DurationKind, StoreError};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    a_mandate_records_its_attestation_hash_in_the_journal,
    a_changed_field_is_named_by_verification,
    renewal_replaces_the_old_mandate_and_links_them,
    renewal_cannot_add_demarches_nor_revive_a_revoked_mandate,
    drafts_belong_to_one_session_and_are_taken_once,
    upstream_logins_work_once_for_their_session,
    the_same_upstream_person_is_found_again,
    failed_upstream_logins_are_journalled_without_personal_data,
);

fn a_mandate_records_its_attestation_hash_in_the_journal(db: &TestDb) {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Logement, Demarche::Famille], now());
    let hash = created.mandate.attestation_hash.clone().expect("an attestation hash");
    assert_eq!(hash.len(), 64);
    let mut conn = db.store.conn().unwrap();
    let entry = journal::recent(&mut conn, Some(JournalAction::MandateCreated), 1).unwrap().remove(0);
    let details = entry.details.unwrap();
    assert_eq!(details.value()["attestation_sha256"], hash.as_str());
    assert_eq!(details.value()["template_version"], attestation::TEMPLATE_VERSION);
    assert!(!details.as_str().contains("DUBOIS") && !details.as_str().contains("Angela"), "{}", details.as_str());
    // Read back, the stored rows hash to what was journalled.
    match attestation::verify(&mut conn, &created.mandate.id).unwrap() {
        Verification::Matches { attestation_sha256, journal_seq } => {
            assert_eq!(attestation_sha256, hash);
            assert_eq!(journal_seq, entry.seq);
        }
        other => panic!("{other:?}"),
    }
    // Two mandates with the same content do not hash alike (per-mandate salt).
    let again = mandate(db, &w, &[Demarche::Logement, Demarche::Famille], now());
    assert_ne!(again.mandate.attestation_hash, Some(hash));
}

fn a_changed_field_is_named_by_verification(db: &TestDb) {
    use mandate_store::schema::{mandates as mandates_table, usagers as usagers_table};
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent], now());
    let mut conn = db.store.conn().unwrap();
    diesel::update(usagers_table::table.find(&w.usager.id))
        .set(usagers_table::birthdate.eq("1962-08-25"))
        .execute(&mut *conn)
        .unwrap();
    match attestation::verify(&mut conn, &created.mandate.id).unwrap() {
        Verification::Differs { fields, .. } => assert_eq!(fields, vec!["usager.birthdate".to_owned()]),
        other => panic!("{other:?}"),
    }
    diesel::update(mandates_table::table.find(&created.mandate.id))
        .set(mandates_table::expires_at.eq(now() + Duration::days(900)))
        .execute(&mut *conn)
        .unwrap();
    match attestation::verify(&mut conn, &created.mandate.id).unwrap() {
        Verification::Differs { fields, .. } => {
            assert_eq!(fields, vec!["mandate.expires_at".to_owned(), "usager.birthdate".to_owned()])
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(attestation::verify(&mut conn, "no-such-mandate"), Err(StoreError::NotFound(_))));
}

fn renewal_replaces_the_old_mandate_and_links_them(db: &TestDb) {
    let w = world(db);
    let old = mandate(db, &w, &[Demarche::Logement, Demarche::Famille, Demarche::Social], now());
    let mut conn = db.store.conn().unwrap();
    let renewed = mandates::renew(
        &mut conn,
        &old.mandate.id,
        &w.aidant.id,
        vec![Demarche::Logement, Demarche::Famille],
        DurationKind::Long,
        now(),
    )
    .unwrap();
    assert_eq!(renewed.mandate.renewed_from_id.as_deref(), Some(old.mandate.id.as_str()));
    assert_eq!(renewed.authorisations.len(), 2);
    assert!(renewed.mandate.expires_at > now() + Duration::days(364));
    let old_now = mandates::find(&mut conn, &old.mandate.id).unwrap();
    assert_eq!(old_now.status(now()), MandateStatus::Revoked);
    assert!(old_now.authorisations.iter().all(|a| a.revoked_at.is_some()), "the social démarche left out ends too");
    let live: Vec<Demarche> = mandates::live_authorisations(&mut conn, &w.organisation.id, &w.usager.id, now())
        .unwrap()
        .iter()
        .map(|l| l.demarche)
        .collect();
    assert_eq!(live, vec![Demarche::Famille, Demarche::Logement]);
    let entry = journal::recent(&mut conn, Some(JournalAction::MandateRenewed), 1).unwrap().remove(0);
    let details = entry.details.unwrap();
    assert_eq!(details.value()["renewed_from"], old.mandate.id.as_str());
    assert_eq!(details.value()["renewed_by"], renewed.mandate.id.as_str());
    assert!(matches!(attestation::verify(&mut conn, &renewed.mandate.id).unwrap(), Verification::Matches { .. }));
}

fn renewal_cannot_add_demarches_nor_revive_a_revoked_mandate(db: &TestDb) {
    let w = world(db);
    let old = mandate(db, &w, &[Demarche::Logement], now());
    let mut conn = db.store.conn().unwrap();
    let err = mandates::renew(
        &mut conn,
        &old.mandate.id,
        &w.aidant.id,
        vec![Demarche::Logement, Demarche::Argent],
        DurationKind::Month,
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "demarches", .. }), "{err}");
    mandates::revoke(&mut conn, &old.mandate.id, &w.aidant.id, now()).unwrap();
    let err =
        mandates::renew(&mut conn, &old.mandate.id, &w.aidant.id, vec![Demarche::Logement], DurationKind::Month, now())
            .unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "mandate", .. }), "{err}");
    // Nothing was created by the refused attempts.
    assert_eq!(mandates::list(&mut conn, Some(&w.organisation.id), None).unwrap().len(), 1);
}

fn drafts_belong_to_one_session_and_are_taken_once(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    let draft = mandate_drafts::create(
        &mut conn,
        "sid-1",
        &w.aidant.id,
        &w.organisation.id,
        vec![Demarche::Social, Demarche::Famille, Demarche::Social],
        now(),
    )
    .unwrap();
    assert_eq!(draft.demarches(), &[Demarche::Famille, Demarche::Social]);
    assert!(mandate_drafts::find(&mut conn, &draft.id, "sid-2", now()).unwrap().is_none(), "another browser");
    let later = now() + Duration::minutes(mandate_drafts::DRAFT_LIFETIME_MINUTES + 1);
    assert!(mandate_drafts::find(&mut conn, &draft.id, "sid-1", later).unwrap().is_none(), "expired");
    mandate_drafts::set_duration(&mut conn, &draft.id, DurationKind::Semester).unwrap();
    mandate_drafts::set_usager(&mut conn, &draft.id, &w.usager.id).unwrap();
    let found = mandate_drafts::find(&mut conn, &draft.id, "sid-1", now()).unwrap().unwrap();
    assert_eq!(found.duration_kind, Some(DurationKind::Semester));
    assert_eq!(found.usager_id.as_deref(), Some(w.usager.id.as_str()));
    assert!(mandate_drafts::set_duration(&mut conn, &draft.id, DurationKind::Custom).is_err());
    assert!(mandate_drafts::delete(&mut conn, &draft.id).unwrap());
    assert!(!mandate_drafts::delete(&mut conn, &draft.id).unwrap(), "a second submission finds nothing");
}

fn upstream_logins_work_once_for_their_session(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let begin = |conn: &mut mandate_store::DbConnection, state: &str| {
        upstream_logins::begin(
            conn,
            NewUpstreamLogin { state, session_sid: "sid-1", draft_id: None, nonce: "n-1", code_verifier: "v-1" },
            now(),
        )
        .unwrap()
    };
    begin(&mut conn, "state-1");
    assert!(upstream_logins::take(&mut conn, "state-unknown", "sid-1", now()).unwrap().is_none());
    let taken = upstream_logins::take(&mut conn, "state-1", "sid-1", now()).unwrap().expect("taken");
    assert_eq!((taken.nonce.as_str(), taken.code_verifier.as_str()), ("n-1", "v-1"));
    assert_ne!(taken.state_hash, "state-1", "state is stored hashed");
    assert!(upstream_logins::take(&mut conn, "state-1", "sid-1", now()).unwrap().is_none(), "once");
    // Another browser's callback with a stolen state gets nothing, and spends it.
    begin(&mut conn, "state-2");
    assert!(upstream_logins::take(&mut conn, "state-2", "sid-2", now()).unwrap().is_none());
    assert!(upstream_logins::take(&mut conn, "state-2", "sid-1", now()).unwrap().is_none());
    // Too late.
    begin(&mut conn, "state-3");
    let later = now() + Duration::minutes(upstream_logins::LOGIN_LIFETIME_MINUTES + 1);
    assert!(upstream_logins::take(&mut conn, "state-3", "sid-1", later).unwrap().is_none());
}

fn identity(subject: &str, family_name: &str) -> UpstreamIdentity {
    UpstreamIdentity {
        issuer: "https://upstream.example".into(),
        subject: subject.into(),
        given_name: "João".into(),
        family_name: family_name.into(),
        birthdate: "1948-00-00".into(),
        gender: "male".into(),
        birthplace: String::new(),
        birthcountry: "99139".into(),
        email: "joao.silva@example.fr".into(),
        preferred_username: Some(String::new()),
    }
}

fn the_same_upstream_person_is_found_again(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    let first = usagers::record_upstream_identity(
        &mut conn,
        identity("sub-9", "SILVA"),
        &w.aidant.id,
        &w.organisation.id,
        now(),
    )
    .unwrap();
    let Recorded::Created(created) = first else { panic!("{first:?}") };
    assert_eq!(created.preferred_username, None, "an empty claim is no name");
    // The same person again (their family name corrected upstream): found, refreshed, not duplicated.
    let again = usagers::record_upstream_identity(
        &mut conn,
        identity("sub-9", "SILVA SANTOS"),
        &w.aidant.id,
        &w.organisation.id,
        now(),
    )
    .unwrap();
    let Recorded::Known(known) = again else { panic!("{again:?}") };
    assert_eq!(known.id, created.id);
    assert_eq!(known.family_name, "SILVA SANTOS");
    assert_eq!(usagers::list(&mut conn, Some("silva")).unwrap().len(), 1);
    assert_eq!(journal::count(&mut conn, JournalAction::UsagerCreated).unwrap(), 1);
    assert_eq!(journal::count(&mut conn, JournalAction::UsagerIdentityVerified).unwrap(), 2);
    // A malformed identity is refused and stores nothing.
    let mut bad = identity("sub-10", "SILVA");
    bad.birthdate = "48-1-1".into();
    assert!(usagers::record_upstream_identity(&mut conn, bad, &w.aidant.id, &w.organisation.id, now()).is_err());
    assert!(usagers::find_by_upstream(&mut conn, "https://upstream.example", "sub-10").unwrap().is_none());
}

fn failed_upstream_logins_are_journalled_without_personal_data(db: &TestDb) {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    upstream_logins::record_failure(
        &mut conn,
        Some(&w.aidant.id),
        Some(&w.organisation.id),
        FailureReason::NonceMismatch,
        now(),
    )
    .unwrap();
    let entry = journal::recent(&mut conn, Some(JournalAction::UpstreamLoginFailed), 1).unwrap().remove(0);
    assert_eq!(entry.aidant_id.as_deref(), Some(w.aidant.id.as_str()));
    assert_eq!(entry.usager_id, None);
    assert_eq!(entry.details.unwrap().as_str(), r#"{"reason":"nonce_mismatch"}"#);
}
