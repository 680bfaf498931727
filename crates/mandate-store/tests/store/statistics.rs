use chrono::Duration;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::organisations::{self, NewOrganisation, Organisation};
use mandate_store::statistics::{self, Breakdown, Count, Figure, Month};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, Siret};

use crate::fixtures::{aidant, aidant_in_habilitation, mandate, world};

mandate_store::tests_on_both_backends!(
    figures_over_two_months,
    four_is_hidden_and_five_is_shown,
    split_by_organisation_type,
    helpers_habilitated_in_habilitation_and_inactive,
);

fn in_brittany(db: &TestDb) -> Organisation {
    let mut conn = db.store.conn().unwrap();
    organisations::create(
        &mut conn,
        NewOrganisation {
            name: "France Services Rennes".into(),
            siret: Siret::parse("21350238800001").unwrap(),
            address: "1 place de la Mairie".into(),
            postcode: "35000".into(),
            city: "Rennes".into(),
            organisation_type: mandate_store::OrganisationType::FranceServices,
            department: mandate_store::Department::parse("35").unwrap(),
            demarches: mandate_store::Demarche::ALL.to_vec(),
        },
        now(),
    )
    .unwrap()
}

fn access(db: &TestDb, organisation_id: &str, usager_id: &str, demarche: Demarche, at: chrono::NaiveDateTime) {
    let mut conn = db.store.conn().unwrap();
    let entry = NewEntry::new(JournalAction::AuthorisationUsed)
        .aidant("aidant-1")
        .organisation(organisation_id)
        .usager(usager_id)
        .demarche(demarche)
        .client("service-impots");
    journal::append(&mut conn, entry, at).unwrap();
}

fn month_count(figure: &Figure, month: Month) -> Count {
    figure.by_month.iter().find(|m| m.month == month).unwrap().count
}

fn in_month<K: PartialEq>(rows: &[Breakdown<K>], key: &K, month: Month) -> Count {
    rows.iter().find(|b| &b.key == key).unwrap().months.iter().find(|m| m.month == month).unwrap().count
}

fn figures_over_two_months(db: &TestDb) {
    let w = world(db);
    let brittany = in_brittany(db);
    let this_month = Month::of(now());
    let last_month = this_month.previous();
    let in_last_month = last_month.start() + Duration::days(2);
    let in_this_month = this_month.start();

    // Last month: six mandates for argent and social; this month: three for papiers.
    for i in 0..6 {
        mandate(db, &w, &[Demarche::Argent, Demarche::Social], in_last_month + Duration::minutes(i));
    }
    for i in 0..3 {
        mandate(db, &w, &[Demarche::Papiers], in_this_month + Duration::seconds(i));
    }
    // Last month: seven accesses for argent, for five usagers, in Île-de-France, and six in
    // Brittany for one usager; this month: two.
    for i in 0..7 {
        access(db, &w.organisation.id, &format!("usager-{}", i % 5), Demarche::Argent, in_last_month);
    }
    for _ in 0..6 {
        access(db, &brittany.id, "usager-bzh", Demarche::Logement, in_last_month);
    }
    for i in 0..2 {
        access(db, &w.organisation.id, &format!("usager-{i}"), Demarche::Argent, in_this_month);
    }
    // Not counted: older than twelve months, and other journal actions.
    let long_ago = this_month.start() - Duration::days(400);
    for i in 0..6 {
        access(db, &w.organisation.id, &format!("old-{i}"), Demarche::Argent, long_ago);
    }

    let mut conn = db.store.conn().unwrap();
    let stats = statistics::compute(&mut conn, now()).unwrap();
    assert_eq!(stats.months.len(), 12);
    assert_eq!(stats.months[11], this_month);
    assert_eq!(stats.months[10], last_month);

    let mandates = &stats.mandates_created;
    assert_eq!(month_count(mandates, last_month), Count::Exact(6));
    assert_eq!(month_count(mandates, this_month), Count::FewerThan(5));
    assert_eq!(in_month(&mandates.by_demarche, &Demarche::Argent, last_month), Count::Exact(6));
    assert_eq!(in_month(&mandates.by_demarche, &Demarche::Social, last_month), Count::Exact(6));
    assert_eq!(in_month(&mandates.by_demarche, &Demarche::Papiers, this_month), Count::FewerThan(5));
    assert_eq!(mandates.by_demarche.len(), Demarche::ALL.len());
    assert_eq!(in_month(&mandates.by_region, &"Île-de-France".to_owned(), last_month), Count::Exact(6));
    assert_eq!(mandates.by_region.len(), 1, "Brittany created no mandate");

    let accesses = &stats.delegated_accesses;
    assert_eq!(month_count(accesses, last_month), Count::Exact(13));
    assert_eq!(month_count(accesses, this_month), Count::FewerThan(5));
    assert_eq!(in_month(&accesses.by_demarche, &Demarche::Argent, last_month), Count::Exact(7));
    assert_eq!(in_month(&accesses.by_demarche, &Demarche::Logement, last_month), Count::Exact(6));
    assert_eq!(in_month(&accesses.by_region, &"Bretagne".to_owned(), last_month), Count::Exact(6));
    assert_eq!(in_month(&accesses.by_region, &"Île-de-France".to_owned(), last_month), Count::Exact(7));
    assert!(accesses.by_month.iter().all(|m| m.month >= stats.months[0]));

    let usagers = &stats.usagers_helped;
    // Five in Île-de-France and one in Brittany.
    assert_eq!(month_count(usagers, last_month), Count::Exact(6));
    assert_eq!(in_month(&usagers.by_demarche, &Demarche::Argent, last_month), Count::Exact(5));
    assert_eq!(in_month(&usagers.by_region, &"Île-de-France".to_owned(), last_month), Count::Exact(5));
    assert_eq!(in_month(&usagers.by_region, &"Bretagne".to_owned(), last_month), Count::FewerThan(5));
    assert_eq!(month_count(usagers, this_month), Count::FewerThan(5));
}

fn four_is_hidden_and_five_is_shown(db: &TestDb) {
    let w = world(db);
    let this_month = Month::of(now());
    for i in 0..4 {
        access(db, &w.organisation.id, &format!("usager-{i}"), Demarche::Famille, this_month.start());
    }
    let mut conn = db.store.conn().unwrap();
    let four = statistics::compute(&mut conn, now()).unwrap();
    assert_eq!(month_count(&four.delegated_accesses, this_month), Count::FewerThan(5));
    assert_eq!(month_count(&four.usagers_helped, this_month), Count::FewerThan(5));
    drop(conn);

    access(db, &w.organisation.id, "usager-4", Demarche::Famille, this_month.start());
    let mut conn = db.store.conn().unwrap();
    let five = statistics::compute(&mut conn, now()).unwrap();
    assert_eq!(month_count(&five.delegated_accesses, this_month), Count::Exact(5));
    assert_eq!(month_count(&five.usagers_helped, this_month), Count::Exact(5));
    assert_eq!(in_month(&five.delegated_accesses.by_demarche, &Demarche::Famille, this_month), Count::Exact(5));
}

fn split_by_organisation_type(db: &TestDb) {
    let w = world(db);
    let brittany = in_brittany(db);
    db.execute_sql(&format!("UPDATE organisations SET organisation_type = 'ccas' WHERE id = '{}'", brittany.id));
    db.execute_sql(&format!(
        "UPDATE organisations SET organisation_type = 'france_services' WHERE id = '{}'",
        w.organisation.id
    ));
    let this_month = Month::of(now());
    for i in 0..5 {
        access(db, &brittany.id, &format!("usager-{i}"), Demarche::Social, this_month.start());
    }
    access(db, &w.organisation.id, "usager-x", Demarche::Social, this_month.start());

    let mut conn = db.store.conn().unwrap();
    let stats = statistics::compute(&mut conn, now()).unwrap();
    let accesses = &stats.delegated_accesses.by_organisation_type;
    assert_eq!(in_month(accesses, &"ccas".to_owned(), this_month), Count::Exact(5));
    assert_eq!(in_month(accesses, &"france_services".to_owned(), this_month), Count::FewerThan(5));
    assert_eq!(accesses.len(), 2, "only the types with activity are listed");
    assert!(stats.mandates_created.by_organisation_type.is_empty(), "no mandate was created");
}

/// Six habilitated helpers (the world's own, five more; one of whom acted last week and one of
/// whom acted 100 days ago), five in habilitation (with one or two steps recorded, or none) and
/// one deactivated, who counts nowhere.
fn helpers_habilitated_in_habilitation_and_inactive(db: &TestDb) {
    let w = world(db);
    let org = [w.organisation.id.as_str()];
    let habilitated: Vec<String> =
        (0..5).map(|i| aidant(db, &format!("habilite{i}@example.fr"), &org).unwrap().id).collect();
    let in_habilitation: Vec<String> =
        (0..5).map(|i| aidant_in_habilitation(db, &format!("en-cours{i}@example.fr"), &org).unwrap().id).collect();
    db.execute_sql(&format!("UPDATE aidants SET training_date = '2026-01-05' WHERE id = '{}'", in_habilitation[0]));
    db.execute_sql(&format!(
        "UPDATE aidants SET training_date = '2026-01-05', pix_date = '2026-01-06' WHERE id = '{}'",
        in_habilitation[1]
    ));
    let gone = aidant(db, "parti@example.fr", &org).unwrap().id;
    db.execute_sql(&format!("UPDATE aidants SET active = FALSE WHERE id = '{gone}'"));
    {
        let mut conn = db.store.conn().unwrap();
        let used = |aidant_id: &str| {
            NewEntry::new(JournalAction::AuthorisationUsed)
                .aidant(aidant_id)
                .organisation(&w.organisation.id)
                .usager("usager-1")
                .demarche(Demarche::Papiers)
        };
        journal::append(&mut conn, used(&habilitated[0]), now() - Duration::days(7)).unwrap();
        journal::append(&mut conn, used(&habilitated[1]), now() - Duration::days(100)).unwrap();
    }

    let mut conn = db.store.conn().unwrap();
    let helpers = statistics::compute(&mut conn, now()).unwrap().helpers;
    assert_eq!(helpers.habilitated, Count::Exact(6));
    assert_eq!(helpers.in_habilitation, Count::Exact(5));
    // All but the one who acted last week: the world's own helper and four of the five (the one
    // who acted 100 days ago among them).
    assert_eq!(helpers.habilitated_inactive, Count::Exact(5));

    // One more access in the window: four inactive, which is not published as a number.
    journal::append(
        &mut conn,
        NewEntry::new(JournalAction::AuthorisationUsed).aidant(&habilitated[2]).demarche(Demarche::Papiers),
        now() - Duration::days(89),
    )
    .unwrap();
    let helpers = statistics::compute(&mut conn, now()).unwrap().helpers;
    assert_eq!(helpers.habilitated_inactive, Count::FewerThan(5));
}
