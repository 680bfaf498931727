use chrono::NaiveDateTime;
use mandate_store::aidants::{self, Aidant, NewAidant};
use mandate_store::mandates::{self, MandateWithAuthorisations, NewMandate};
use mandate_store::organisations::{self, NewOrganisation, Organisation};
use mandate_store::testing::TestDb;
use mandate_store::usagers::{self, NewUsager, Usager};
use mandate_store::{now, Demarche, DurationKind, Email, Role, Siret};

pub struct World {
    pub organisation: Organisation,
    pub other_organisation: Organisation,
    pub aidant: Aidant,
    pub usager: Usager,
}

/// One SIRET names one organisation, so each fixture organisation has its own.
pub fn organisation(db: &TestDb, name: &str, siret: &str) -> Organisation {
    let mut conn = db.store.conn().unwrap();
    organisations::create(
        &mut conn,
        NewOrganisation {
            name: name.into(),
            siret: Siret::parse(siret).unwrap(),
            address: "1 place de l'Hôtel de Ville".into(),
            postcode: "75004".into(),
            city: "Paris".into(),
            organisation_type: mandate_store::OrganisationType::FranceServices,
            department: mandate_store::Department::parse("75").unwrap(),
            demarches: mandate_store::Demarche::ALL.to_vec(),
        },
        now(),
    )
    .unwrap()
}

/// A habilitated helper (training, PIX and the charter in force), as most tests need.
pub fn aidant(db: &TestDb, email: &str, organisation_ids: &[&str]) -> Result<Aidant, mandate_store::StoreError> {
    let created = aidant_in_habilitation(db, email, organisation_ids)?;
    let mut conn = db.store.conn().unwrap();
    mandate_store::testing::habilitate(&mut conn, &created.id);
    aidants::find(&mut conn, &created.id)
}

/// A helper with nothing of their habilitation recorded yet.
pub fn aidant_in_habilitation(
    db: &TestDb,
    email: &str,
    organisation_ids: &[&str],
) -> Result<Aidant, mandate_store::StoreError> {
    let mut conn = db.store.conn().unwrap();
    aidants::create(
        &mut conn,
        &db.keys,
        NewAidant {
            email: Email::parse(email).unwrap(),
            given_name: "Camille".into(),
            family_name: "Martin".into(),
            profession: "Conseillère numérique".into(),
            phone: None,
            organisation_ids: organisation_ids.iter().map(|s| s.to_string()).collect(),
            role: Role::Aidant,
            password_hash: "$argon2id$not-a-real-hash".into(),
            totp_secret: "JBSWY3DPEHPK3PXP".into(),
            totp_step_seconds: 30,
            charter_signed_at: Some(now()),
        },
        now(),
    )
}

pub fn usager(db: &TestDb, subject: &str) -> Usager {
    let mut conn = db.store.conn().unwrap();
    usagers::create(
        &mut conn,
        NewUsager {
            given_name: "Angela Claire Louise".into(),
            family_name: "DUBOIS".into(),
            birthdate: "1962-08-24".into(),
            gender: "female".into(),
            birthplace: "75107".into(),
            birthcountry: "99100".into(),
            email: "angela.dubois@example.fr".into(),
            upstream_issuer: "https://fcp.integ01.dev-franceconnect.fr".into(),
            upstream_subject: subject.into(),
            ..Default::default()
        },
        now(),
    )
    .unwrap()
}

pub fn world(db: &TestDb) -> World {
    let organisation = organisation(db, "France Services Paris 13", "21750001600019");
    let other_organisation = organisation_named(db, "CCAS de Lyon");
    let aidant = aidant(db, "camille.martin@france-services.example.fr", &[&organisation.id]).unwrap();
    let usager = usager(db, "fc-sub-1");
    World { organisation, other_organisation, aidant, usager }
}

fn organisation_named(db: &TestDb, name: &str) -> Organisation {
    organisation(db, name, "21690123100011")
}

pub fn mandate(db: &TestDb, w: &World, demarches: &[Demarche], at: NaiveDateTime) -> MandateWithAuthorisations {
    let mut conn = db.store.conn().unwrap();
    mandates::create(
        &mut conn,
        NewMandate {
            organisation_id: w.organisation.id.clone(),
            usager_id: w.usager.id.clone(),
            aidant_id: w.aidant.id.clone(),
            demarches: demarches.to_vec(),
            duration: DurationKind::Month,
            custom_expires_at: None,
            is_remote: false,
            consent_proof: None,
        },
        at,
    )
    .unwrap()
}
