//! Organisations: the region follows from the department, an unknown department is refused
//! before anything is written, and an update is journalled with the names of what changed.

use mandate_store::journal::{self, JournalAction};
use mandate_store::organisations::{self, NewOrganisation, OrganisationUpdate};
use mandate_store::testing::TestDb;
use mandate_store::{now, Demarche, Department, OrganisationType, Siret, StoreError};

mandate_store::tests_on_both_backends!(
    the_region_is_derived_from_the_department_and_creation_is_journalled,
    an_update_is_journalled_with_the_names_of_the_changed_fields,
    an_update_that_changes_nothing_writes_nothing,
    an_organisation_offers_at_least_one_demarche,
);

fn rennes(demarches: Vec<Demarche>) -> NewOrganisation {
    NewOrganisation {
        name: "CCAS de Rennes".into(),
        siret: Siret::parse("21350238800001").unwrap(),
        address: "1 place de la Mairie".into(),
        postcode: "35000".into(),
        city: "Rennes".into(),
        organisation_type: OrganisationType::Ccas,
        department: Department::parse("35").unwrap(),
        demarches,
    }
}

fn the_region_is_derived_from_the_department_and_creation_is_journalled(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let created =
        organisations::create(&mut conn, rennes(vec![Demarche::Social, Demarche::Argent, Demarche::Social]), now())
            .unwrap();
    let stored = organisations::find(&mut conn, &created.id).unwrap();
    assert_eq!(stored.department_code, "35");
    assert_eq!(stored.region_code, "53");
    assert_eq!(stored.region, "Bretagne");
    assert_eq!(stored.organisation_type, OrganisationType::Ccas);
    // Sorted, each once.
    assert_eq!(stored.demarches(), &[Demarche::Social, Demarche::Argent]);
    assert!(stored.offers(Demarche::Argent) && !stored.offers(Demarche::Papiers));

    let entries = journal::recent(&mut conn, Some(JournalAction::OrganisationCreated), 5).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].organisation_id.as_deref(), Some(created.id.as_str()));
    assert!(!entries[0].details.as_ref().unwrap().as_str().contains("Rennes"), "no name or address in the journal");

    // An unknown department is refused when the value is parsed, before any store call.
    assert!(matches!(Department::parse("20"), Err(StoreError::UnknownDepartment(_))));
}

fn an_update_is_journalled_with_the_names_of_the_changed_fields(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let created = organisations::create(&mut conn, rennes(vec![Demarche::Social]), now()).unwrap();
    let updated = organisations::update(
        &mut conn,
        &created.id,
        OrganisationUpdate {
            // The same name: not a change.
            name: Some("CCAS de Rennes".into()),
            organisation_type: Some(OrganisationType::FranceServices),
            department: Some(Department::parse("2b").unwrap()),
            demarches: Some(vec![Demarche::Logement, Demarche::Social]),
            ..Default::default()
        },
        Some("manager-1"),
        now(),
    )
    .unwrap();
    let stored = organisations::find(&mut conn, &created.id).unwrap();
    assert_eq!(stored, updated);
    assert_eq!(stored.organisation_type, OrganisationType::FranceServices);
    assert_eq!((stored.department_code.as_str(), stored.region_code.as_str()), ("2B", "94"));
    assert_eq!(stored.region, "Corse");
    assert_eq!(stored.demarches(), &[Demarche::Social, Demarche::Logement]);
    assert_eq!(stored.name, "CCAS de Rennes");
    assert_eq!(stored.siret, created.siret);

    let entries = journal::recent(&mut conn, Some(JournalAction::OrganisationUpdated), 5).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].organisation_id.as_deref(), Some(created.id.as_str()));
    let details = entries[0].details.as_ref().unwrap().value();
    assert_eq!(details["fields"], serde_json::json!(["organisation_type", "department", "demarches"]));
    assert_eq!(details["by"], "manager-1");
}

fn an_update_that_changes_nothing_writes_nothing(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let created = organisations::create(&mut conn, rennes(vec![Demarche::Social]), now()).unwrap();
    let same = organisations::update(
        &mut conn,
        &created.id,
        OrganisationUpdate { city: Some(" Rennes ".into()), ..Default::default() },
        None,
        now(),
    )
    .unwrap();
    assert_eq!(same, created);
    assert_eq!(journal::count(&mut conn, JournalAction::OrganisationUpdated).unwrap(), 0);

    let err = organisations::update(
        &mut conn,
        &created.id,
        OrganisationUpdate { postcode: Some("350".into()), city: Some("Brest".into()), ..Default::default() },
        None,
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "postcode", .. }), "{err:?}");
    assert_eq!(organisations::find(&mut conn, &created.id).unwrap().city, "Rennes");
    let err = organisations::update(&mut conn, "nope", OrganisationUpdate::default(), None, now()).unwrap_err();
    assert!(matches!(err, StoreError::NotFound("organisation")), "{err:?}");
}

fn an_organisation_offers_at_least_one_demarche(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let err = organisations::create(&mut conn, rennes(vec![]), now()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "demarches", .. }), "{err:?}");
    assert!(organisations::list(&mut conn).unwrap().is_empty());
    let created = organisations::create(&mut conn, rennes(vec![Demarche::Social]), now()).unwrap();
    let err = organisations::update(
        &mut conn,
        &created.id,
        OrganisationUpdate { demarches: Some(vec![]), ..Default::default() },
        None,
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::InvalidField { field: "demarches", .. }), "{err:?}");
}
