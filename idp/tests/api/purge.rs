//! `idp maintenance purge` as an operator schedules it, `--dry-run` first, and the same purge
//! run by `idp serve` by itself.

use std::time::Duration;

use chrono::Months;
use mandate_store::mandates::{self, NewMandate};
use mandate_store::testing::TestDb;
use mandate_store::usagers::{self, NewUsager};
use mandate_store::{now, sessions, Backend, Demarche, DurationKind};
use serde_json::Value;

use crate::helpers::{idp, stderr, stdout};

crate::on_both_backends!(
    purge_counts_with_dry_run_then_removes_and_erases_once,
    serve_purges_by_itself_at_its_interval,
);

/// The demo world, an expired helper session, and a usager whose only mandate ended 13 months
/// ago; returns the demo data and that usager's id.
fn world_with_what_is_past(db: &TestDb) -> (Value, String) {
    let mut conn = db.store.conn().unwrap();
    let demo = idp::admin::demo::seed(&mut conn, &db.keys, "http://127.0.0.1:8080").unwrap();
    sessions::create(&mut conn, "expired-session", now() - chrono::Duration::hours(13), chrono::Duration::hours(12))
        .unwrap();
    let long_ago = now().checked_sub_months(Months::new(20)).unwrap();
    let usager = usagers::create(
        &mut conn,
        NewUsager {
            given_name: "Honorine".into(),
            family_name: "LONGTEMPS".into(),
            birthdate: "1940-01-01".into(),
            gender: "female".into(),
            birthplace: "75107".into(),
            birthcountry: "99100".into(),
            email: "honorine@example.fr".into(),
            upstream_issuer: "https://fcp.integ01.dev-franceconnect.fr".into(),
            upstream_subject: "fc-honorine".into(),
            ..Default::default()
        },
        long_ago,
    )
    .unwrap();
    mandates::create(
        &mut conn,
        NewMandate {
            organisation_id: demo["organisation"]["id"].as_str().unwrap().into(),
            usager_id: usager.id.clone(),
            aidant_id: demo["aidant"]["id"].as_str().unwrap().into(),
            demarches: vec![Demarche::Logement],
            duration: DurationKind::Custom,
            custom_expires_at: Some(now().checked_sub_months(Months::new(13)).unwrap()),
            is_remote: false,
            consent_proof: None,
        },
        long_ago,
    )
    .unwrap();
    (demo, usager.id)
}

fn erased_at(conn: &mut mandate_store::DbConnection, usager_id: &str) -> Option<chrono::NaiveDateTime> {
    use diesel::prelude::*;
    use mandate_store::schema::usagers;
    usagers::table.find(usager_id).select(usagers::erased_at).first(conn).unwrap()
}

async fn purge_counts_with_dry_run_then_removes_and_erases_once(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let (demo, usager_id) = world_with_what_is_past(&db);

    let dry = idp(&db.url, &["maintenance", "purge", "--dry-run"], None);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let report = stdout(&dry);
    assert!(report.starts_with("would remove 1 row(s) no longer needed; would erase 1 usager(s)"), "{report}");
    assert!(report.contains("\n  helper sessions: 1\n") && report.contains("\n  tokens: 0\n"), "{report}");
    let mut conn = db.store.conn().unwrap();
    assert!(erased_at(&mut conn, &usager_id).is_none(), "a dry run changes nothing");
    assert!(sessions::find(&mut conn, "expired-session").unwrap().is_some());

    let run = idp(&db.url, &["maintenance", "purge"], None);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).starts_with("removed 1 row(s) no longer needed; erased 1 usager(s)"), "{}", stdout(&run));
    assert!(sessions::find(&mut conn, "expired-session").unwrap().is_none());
    assert!(erased_at(&mut conn, &usager_id).is_some());
    assert!(usagers::find(&mut conn, &usager_id).unwrap().family_name.is_empty());
    for kept in demo["usagers"].as_array().unwrap() {
        assert!(erased_at(&mut conn, kept["id"].as_str().unwrap()).is_none(), "the demo usagers' mandates are live");
    }
    let verify = idp(&db.url, &["journal", "verify"], None);
    assert!(verify.status.success(), "the chain is whole: {}{}", stdout(&verify), stderr(&verify));

    let again = idp(&db.url, &["maintenance", "purge"], None);
    assert!(stdout(&again).starts_with("removed 0 row(s) no longer needed; erased 0 usager(s)"), "{}", stdout(&again));

    // The six-month rule's command line is as it was; the two do not mix.
    let six_months = idp(&db.url, &["maintenance", "--dry-run"], None);
    assert!(stdout(&six_months).starts_with("would deactivate 0 helper account(s)"), "{}", stdout(&six_months));
    let mixed = idp(&db.url, &["maintenance", "--dry-run", "purge"], None);
    assert_eq!(mixed.status.code(), Some(2), "{}", stderr(&mixed));
}

async fn serve_purges_by_itself_at_its_interval(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let (_, usager_id) = world_with_what_is_past(&db);
    let live =
        sessions::create(&mut db.store.conn().unwrap(), "live-session", now(), chrono::Duration::hours(12)).unwrap();
    let task = tokio::spawn(idp::purge::run_periodically(
        db.store.clone(),
        365,
        Duration::from_millis(10),
        Duration::from_secs(3600),
    ));
    let mut conn = db.store.conn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while erased_at(&mut conn, &usager_id).is_none() {
        assert!(std::time::Instant::now() < deadline, "no purge within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    assert!(sessions::find(&mut conn, "expired-session").unwrap().is_none());
    assert!(sessions::find_live(&mut conn, &live.id_hash, now()).unwrap().is_some(), "a live session stays");
}
