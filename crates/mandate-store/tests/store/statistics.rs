use chrono::Duration;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::organisations::{self, NewOrganisation, Organisation};
use mandate_store::statistics::{self, Breakdown, Count, Figure, Month};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, Siret};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(figures_over_two_months, four_is_hidden_and_five_is_shown,);

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
