//! The liveness rule, over generated cases: a démarche may be acted on at `t` exactly when its
//! authorisation is not revoked, its mandate is not revoked and the mandate expires after `t`.
//! The rule is written four times (the choice list, the usagers list, `may_act` and a mandate's
//! status); every one must say the same, including at the very instant of expiry.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, NaiveDateTime};
use mandate_store::mandates::{self, MandateStatus, NewMandate, Permission, Refusal};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, DurationKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::fixtures::{usager, world, World};

mandate_store::tests_on_both_backends!(every_reading_of_the_liveness_rule_agrees_with_it,);

const DEMARCHES: [Demarche; 3] = [Demarche::Argent, Demarche::Famille, Demarche::Logement];

/// One generated mandate and the instant it is looked at, in minutes from its creation.
#[derive(Debug, Clone)]
struct Case {
    lasts_minutes: i64,
    mandate_revoked: bool,
    revoked_demarches: [bool; 3],
    looked_at_minutes: i64,
    /// Looked at exactly when it expires (the boundary a `<` for `<=` would get wrong).
    at_expiry: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    (1_i64..3 * 1440, any::<bool>(), any::<[bool; 3]>(), 0_i64..4 * 1440, prop::bool::weighted(0.2)).prop_map(
        |(lasts_minutes, mandate_revoked, revoked_demarches, looked_at_minutes, at_expiry)| Case {
            lasts_minutes,
            mandate_revoked,
            revoked_demarches,
            looked_at_minutes,
            at_expiry,
        },
    )
}

fn every_reading_of_the_liveness_rule_agrees_with_it(db: &TestDb) {
    let w = world(db);
    let created_at = mandate_store::db::truncate_to_micros(now());
    let usagers = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    runner
        .run(&cases(), |case| {
            check(db, &w, &case, created_at, usagers.fetch_add(1, Ordering::Relaxed));
            Ok(())
        })
        .unwrap();
}

fn check(db: &TestDb, w: &World, case: &Case, created_at: NaiveDateTime, n: usize) {
    // A usager of their own per case: mandates of one usager replace each other's démarches.
    let person = usager(db, &format!("fc-sub-liveness-{n}"));
    let expires_at = created_at + Duration::minutes(case.lasts_minutes);
    let at = if case.at_expiry { expires_at } else { created_at + Duration::minutes(case.looked_at_minutes) };
    let mut conn = db.store.conn().unwrap();
    let created = mandates::create(
        &mut conn,
        NewMandate {
            organisation_id: w.organisation.id.clone(),
            usager_id: person.id.clone(),
            aidant_id: w.aidant.id.clone(),
            demarches: DEMARCHES.to_vec(),
            duration: DurationKind::Custom,
            custom_expires_at: Some(expires_at),
            is_remote: false,
            consent_proof: None,
        },
        created_at,
    )
    .unwrap();
    for (i, revoked) in case.revoked_demarches.iter().enumerate() {
        if *revoked {
            let id = &created.authorisations.iter().find(|a| a.demarche == DEMARCHES[i]).unwrap().id;
            mandates::revoke_authorisation(&mut conn, id, &w.aidant.id, created_at).unwrap();
        }
    }
    if case.mandate_revoked {
        mandates::revoke(&mut conn, &created.mandate.id, &w.aidant.id, created_at).unwrap();
    }

    // The rule, as stated.
    let expired = expires_at <= at;
    let live: Vec<Demarche> = DEMARCHES
        .iter()
        .zip(case.revoked_demarches)
        .filter(|(_, revoked)| !case.mandate_revoked && !revoked && !expired)
        .map(|(d, _)| *d)
        .collect();

    let listed: Vec<Demarche> = mandates::live_authorisations(&mut conn, &w.organisation.id, &person.id, at)
        .unwrap()
        .iter()
        .map(|l| l.demarche)
        .collect();
    assert_eq!(listed, live, "the choice list, {case:?}");

    let usagers = mandates::usagers_with_live_mandates(&mut conn, &w.organisation.id, None, at).unwrap();
    assert_eq!(usagers.iter().any(|u| u.id == person.id), !live.is_empty(), "the usagers list, {case:?}");

    for (demarche, revoked) in DEMARCHES.iter().zip(case.revoked_demarches) {
        let permission = mandates::may_act(&mut conn, &w.aidant.id, &w.organisation.id, &person.id, *demarche, at);
        let expected_refusal = if case.mandate_revoked {
            Some(Refusal::MandateRevoked)
        } else if expired {
            Some(Refusal::MandateExpired)
        } else if revoked {
            Some(Refusal::AuthorisationRevoked)
        } else {
            None
        };
        match (permission.unwrap(), expected_refusal) {
            (Permission::Granted(granted), None) => assert_eq!(granted.demarche, *demarche),
            (Permission::Denied(refusal), Some(expected)) => assert_eq!(refusal, expected, "{demarche:?}, {case:?}"),
            (got, expected) => panic!("may_act {demarche:?}: {got:?}, expected refusal {expected:?}, {case:?}"),
        }
    }

    let mandate = mandates::find(&mut conn, &created.mandate.id).unwrap();
    let status = if case.mandate_revoked {
        MandateStatus::Revoked
    } else if expired {
        MandateStatus::Expired
    } else {
        MandateStatus::Live
    };
    assert_eq!(mandate.status(at), status, "the mandate's status, {case:?}");
}
