//! The helper's space as a helper uses it over HTTP: the usagers of their organisation, the
//! new-mandate wizard with consent and a one-time code, revoking and renewing from the usager's
//! page; never another organisation's usagers. On SQLite and PostgreSQL.

use mandate_store::mandates::{self, MandateStatus, NewMandate};
use mandate_store::organisations::{self, NewOrganisation, Organisation};
use mandate_store::usagers::{self, NewUsager};
use mandate_store::{aidants, mandate_drafts, now, Backend, Demarche, DurationKind, Siret};

use crate::helpers::TestApp;
use crate::robot::{input_value, location, seed, Demo, Robot};

crate::on_both_backends!(
    the_home_lists_the_organisations_usagers_and_searches_them,
    a_mandate_is_signed_through_the_wizard_once,
    a_demarche_is_revoked_and_the_mandate_renewed_from_the_usager_page,
    the_whole_mandate_is_revoked_from_the_usager_page_with_a_code,
    wrong_codes_asked_again_hold_the_helper_back_as_at_sign_in,
    another_organisations_usager_is_neither_shown_nor_revoked,
    a_helper_of_two_organisations_switches_between_them,
);

/// A demo helper signed in with both factors, on their space's home.
async fn signed_in(app: &TestApp) -> (Robot<'_>, Demo, String) {
    let demo = seed(app);
    let mut robot = Robot::new(app);
    let first = robot.get("/espace-aidant").await;
    assert_eq!(first.status(), 303, "not signed in: sent to sign in");
    let (status, html) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200, "{html}");
    (robot, demo, html)
}

/// An organisation other than the demo one.
fn other_organisation(conn: &mut mandate_store::DbConnection, name: &str, siret: &str, city: &str) -> Organisation {
    organisations::create(
        conn,
        NewOrganisation {
            name: name.into(),
            siret: Siret::parse(siret).unwrap(),
            address: "1 place de l'Hôtel de Ville".into(),
            postcode: "69001".into(),
            city: city.into(),
            organisation_type: mandate_store::OrganisationType::FranceServices,
            department: mandate_store::Department::parse("69").unwrap(),
            demarches: mandate_store::Demarche::ALL.to_vec(),
        },
        now(),
    )
    .unwrap()
}

/// The id of the demo usager's (by index) authorisation for `demarche`.
fn demo_authorisation(demo: &Demo, usager: usize, demarche: &str) -> String {
    let authorisations = demo.seed["usagers"][usager]["authorisations"].as_array().unwrap();
    let found = authorisations.iter().find(|a| a["demarche"] == demarche).expect("the demo mandate covers it");
    found["id"].as_str().unwrap().to_owned()
}

fn csrf(html: &str) -> String {
    input_value(html, "csrf_token").expect("a CSRF token")
}

async fn the_home_lists_the_organisations_usagers_and_searches_them(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (robot, _demo, home) = signed_in(&app).await;
    assert!(home.contains("Angela Claire Louise DUBOIS"), "{home}");
    assert!(home.contains("João SILVA"), "{home}");
    assert!(home.contains("Logement") && home.contains("Papiers - Citoyenneté"), "{home}");
    assert!(home.contains("Camille Martin") && home.contains("France Services Démo"), "who and where: {home}");
    assert!(!home.contains("Expire bientôt"), "demo mandates last a year");
    let found = robot.get("/espace-aidant?q=silva").await.text().await.unwrap();
    assert!(found.contains("João SILVA") && !found.contains("DUBOIS"), "{found}");
    let none = robot.get("/espace-aidant?q=zzz").await.text().await.unwrap();
    assert!(none.contains("Aucune personne avec un mandat en cours ne correspond"), "{none}");
    // `/` sends a signed-in helper to their space.
    assert_eq!(location(&robot.get("/").await), "/espace-aidant");
    // The language link switches the space to English and back, returning to the same page only.
    let english = robot.get("/langue/en?retour=%2Fespace-aidant%3Fq%3Dsilva").await;
    assert_eq!(location(&english), "/espace-aidant?q=silva");
    let page = robot.get("/espace-aidant?q=silva").await.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains("My usagers"), "{page}");
    assert!(page.contains("Identity papers - Citizenship") && page.contains("Version française"), "{page}");
    assert_eq!(location(&robot.get("/langue/fr?retour=//evil.example").await), "/");
    let page = robot.get("/espace-aidant").await.text().await.unwrap();
    assert!(page.contains("Mes usagers"), "{page}");
}

async fn a_mandate_is_signed_through_the_wizard_once(backend: Backend) {
    let Some((app, state)) = TestApp::spawn_with_state(backend, |_| {}).await else { return };
    let (mut robot, demo, home) = signed_in(&app).await;
    let token = csrf(&home);

    // Step 1: no démarche ticked is a readable refusal.
    let refused = robot.post_form("/espace-aidant/mandats/nouveau", &[("csrf_token", &token)]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("Cochez au moins une démarche"));
    let step1 = robot
        .post_form(
            "/espace-aidant/mandats/nouveau",
            &[("csrf_token", &token), ("demarche", "logement"), ("demarche", "famille")],
        )
        .await;
    assert_eq!(step1.status(), 303);
    let duration_url = location(&step1);
    assert!(duration_url.starts_with("/espace-aidant/mandats/nouveau/duree?brouillon="), "{duration_url}");
    let draft = duration_url.split('=').nth(1).unwrap().to_owned();

    // Step 2.
    let page = robot.get(&duration_url).await.text().await.unwrap();
    assert!(page.contains("6 mois (182 jours)"), "{page}");
    let step2 = robot
        .post_form(
            "/espace-aidant/mandats/nouveau/duree",
            &[("csrf_token", &token), ("brouillon", &draft), ("duree", "semester")],
        )
        .await;
    assert_eq!(location(&step2), format!("/espace-aidant/mandats/nouveau/identite?brouillon={draft}"));
    // The recap needs the usager first.
    let early = robot.get(&format!("/espace-aidant/mandats/nouveau/recapitulatif?brouillon={draft}")).await;
    assert_eq!(location(&early), format!("/espace-aidant/mandats/nouveau/identite?brouillon={draft}"));
    let identity = robot.get(&location(&step2)).await.text().await.unwrap();
    assert!(identity.contains("action=\"/espace-aidant/franceconnect/connexion\""), "{identity}");

    // Step 3 happens upstream (tested on its own): here the verified usager is put in the draft.
    let usager = {
        let mut conn = app.db.store.conn().unwrap();
        let usager = usagers::create(
            &mut conn,
            NewUsager {
                given_name: "Lucie".into(),
                family_name: "MOREAU".into(),
                birthdate: "1975-04-00".into(),
                gender: "female".into(),
                birthplace: "69123".into(),
                birthcountry: "99100".into(),
                email: "lucie.moreau@example.fr".into(),
                upstream_issuer: "https://upstream.example".into(),
                upstream_subject: "lucie".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        mandate_drafts::set_usager(&mut conn, &draft, &usager.id).unwrap();
        usager
    };
    let recap_url = format!("/espace-aidant/mandats/nouveau/recapitulatif?brouillon={draft}");
    let recap = robot.get(&recap_url).await.text().await.unwrap();
    assert!(recap.contains("Lucie MOREAU") && recap.contains("avril 1975"), "{recap}");
    assert!(recap.contains("Famille - Scolarité") && recap.contains("Logement"), "{recap}");

    // Consent is required, and so is a valid one-time code; neither refusal creates anything.
    let no_consent = robot
        .post_form(
            "/espace-aidant/mandats/nouveau/recapitulatif",
            &[("csrf_token", &token), ("brouillon", &draft), ("otp", "123456")],
        )
        .await;
    assert_eq!(no_consent.status(), 422);
    assert!(no_consent.text().await.unwrap().contains("La personne doit cocher la case"));
    let bad_code = robot
        .post_form(
            "/espace-aidant/mandats/nouveau/recapitulatif",
            &[("csrf_token", &token), ("brouillon", &draft), ("consentement", "oui"), ("otp", "000000")],
        )
        .await;
    assert_eq!(bad_code.status(), 422);
    assert!(bad_code.text().await.unwrap().contains("est pas valide ou a déjà été utilisé"));
    let organisation_id = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    let count = |app: &TestApp| {
        let mut conn = app.db.store.conn().unwrap();
        mandates::list(&mut conn, Some(&organisation_id), Some(&usager.id)).unwrap()
    };
    assert!(count(&app).is_empty());

    let code = robot.next_totp();
    let signed = robot
        .post_form(
            "/espace-aidant/mandats/nouveau/recapitulatif",
            &[("csrf_token", &token), ("brouillon", &draft), ("consentement", "oui"), ("otp", &code)],
        )
        .await;
    assert_eq!(signed.status(), 303);
    let created = count(&app);
    assert_eq!(created.len(), 1);
    let mandate = &created[0];
    assert_eq!(location(&signed), format!("/espace-aidant/mandats/{}/attestation", mandate.mandate.id));
    assert_eq!(mandate.mandate.duration_kind, DurationKind::Semester);
    let demarches: Vec<Demarche> = mandate.authorisations.iter().map(|a| a.demarche).collect();
    assert_eq!(demarches, vec![Demarche::Famille, Demarche::Logement]);
    assert_eq!(mandate.mandate.created_by_aidant_id, demo.aidant_id());

    // The same form again (another code) makes no second mandate: the draft was taken.
    let code = robot.next_totp();
    let again = robot
        .post_form(
            "/espace-aidant/mandats/nouveau/recapitulatif",
            &[("csrf_token", &token), ("brouillon", &draft), ("consentement", "oui"), ("otp", &code)],
        )
        .await;
    assert_eq!(again.status(), 404, "the draft is gone");
    assert_eq!(count(&app).len(), 1);
    assert_eq!(state.metrics.mandates_created.get(), 1, "the operator's count of mandates signed");
    // And the usager now shows on the home page.
    let home = robot.get("/espace-aidant").await.text().await.unwrap();
    assert!(home.contains("Lucie MOREAU"), "{home}");
}

async fn a_demarche_is_revoked_and_the_mandate_renewed_from_the_usager_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (mut robot, demo, _) = signed_in(&app).await;
    let angela = demo.usager_id(0);
    let mandate_id = demo.seed["usagers"][0]["mandate_id"].as_str().unwrap().to_owned();
    let logement = demo_authorisation(&demo, 0, "logement");
    let page = robot.get(&format!("/espace-aidant/usagers/{angela}")).await.text().await.unwrap();
    assert!(page.contains("Révoquer la démarche Logement"), "{page}");
    let token = csrf(&page);
    // Démarches in force, as keys (listed in their stored order).
    let live = |app: &TestApp| -> Vec<&'static str> {
        let mut conn = app.db.store.conn().unwrap();
        let organisation = demo.seed["organisation"]["id"].as_str().unwrap();
        mandates::live_authorisations(&mut conn, organisation, &angela, now())
            .unwrap()
            .iter()
            .map(|l| l.demarche.key())
            .collect()
    };

    let wrong = robot
        .post_form(
            &format!("/espace-aidant/autorisations/{logement}/revocation"),
            &[("csrf_token", &token), ("otp", "000000")],
        )
        .await;
    assert_eq!(location(&wrong), format!("/espace-aidant/usagers/{angela}?erreur=code"));
    assert_eq!(live(&app), ["argent", "logement", "social"]);
    let code = robot.next_totp();
    let revoked = robot
        .post_form(
            &format!("/espace-aidant/autorisations/{logement}/revocation"),
            &[("csrf_token", &token), ("otp", &code)],
        )
        .await;
    assert_eq!(location(&revoked), format!("/espace-aidant/usagers/{angela}?notice=demarche-revoquee"));
    assert_eq!(live(&app), ["argent", "social"]);
    let page = robot.get(&location(&revoked)).await.text().await.unwrap();
    assert!(page.contains("La démarche est révoquée") && page.contains("révoquée le"), "{page}");

    // Renewal keeps what is left, or less: here social only, for a month.
    let form = robot.get(&format!("/espace-aidant/mandats/{mandate_id}/renouvellement")).await.text().await.unwrap();
    assert!(form.contains("value=\"social\"") && !form.contains("value=\"logement\""), "{form}");
    let code = robot.next_totp();
    let renewed = robot
        .post_form(
            &format!("/espace-aidant/mandats/{mandate_id}/renouvellement"),
            &[
                ("csrf_token", &token),
                ("demarche", "social"),
                ("duree", "month"),
                ("consentement", "oui"),
                ("otp", &code),
            ],
        )
        .await;
    assert_eq!(renewed.status(), 303, "{}", renewed.text().await.unwrap());
    let new_id =
        location(&renewed).trim_start_matches("/espace-aidant/mandats/").trim_end_matches("/attestation").to_owned();
    let mut conn = app.db.store.conn().unwrap();
    let new = mandates::find(&mut conn, &new_id).unwrap();
    assert_eq!(new.mandate.renewed_from_id.as_deref(), Some(mandate_id.as_str()));
    assert_eq!(new.mandate.duration_kind, DurationKind::Month);
    assert_eq!(mandates::find(&mut conn, &mandate_id).unwrap().status(now()), MandateStatus::Revoked);
    drop(conn);
    assert_eq!(live(&app), ["social"]);
    // The old mandate cannot be renewed twice.
    let twice = robot.get(&format!("/espace-aidant/mandats/{mandate_id}/renouvellement")).await;
    assert_eq!(twice.status(), 409);
}

async fn the_whole_mandate_is_revoked_from_the_usager_page_with_a_code(backend: Backend) {
    let Some((app, state)) = TestApp::spawn_with_state(backend, |_| {}).await else { return };
    let (mut robot, demo, _) = signed_in(&app).await;
    let angela = demo.usager_id(0);
    let mandate_id = demo.seed["usagers"][0]["mandate_id"].as_str().unwrap().to_owned();
    let page = robot.get(&format!("/espace-aidant/usagers/{angela}")).await.text().await.unwrap();
    let action = format!("/espace-aidant/mandats/{mandate_id}/revocation");
    assert!(page.contains(&action), "the way to revoke the mandate: {page}");
    let token = csrf(&page);
    let status = |app: &TestApp| {
        let mut conn = app.db.store.conn().unwrap();
        mandates::find(&mut conn, &mandate_id).unwrap().status(now())
    };

    let wrong = robot.post_form(&action, &[("csrf_token", &token), ("otp", "000000")]).await;
    assert_eq!(location(&wrong), format!("/espace-aidant/usagers/{angela}?erreur=code"));
    assert_eq!(status(&app), MandateStatus::Live, "a wrong code revokes nothing");
    let code = robot.next_totp();
    let revoked = robot.post_form(&action, &[("csrf_token", &token), ("otp", &code)]).await;
    assert_eq!(location(&revoked), format!("/espace-aidant/mandats/{mandate_id}/attestation-revocation"));
    assert_eq!(status(&app), MandateStatus::Revoked);
    assert_eq!(state.metrics.mandates_revoked.with_label_values(&["helper"]).get(), 1);
    assert_eq!(state.metrics.mandates_revoked.with_label_values(&["usager"]).get(), 0);
    let attestation = robot.get(&location(&revoked)).await;
    assert_eq!(attestation.status(), 200, "the revocation attestation follows");
}

async fn wrong_codes_asked_again_hold_the_helper_back_as_at_sign_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (mut robot, demo, _) = signed_in(&app).await;
    let angela = demo.usager_id(0);
    let logement = demo_authorisation(&demo, 0, "logement");
    let page = robot.get(&format!("/espace-aidant/usagers/{angela}")).await.text().await.unwrap();
    let token = csrf(&page);
    let action = format!("/espace-aidant/autorisations/{logement}/revocation");
    let live = |app: &TestApp| {
        let mut conn = app.db.store.conn().unwrap();
        let organisation = demo.seed["organisation"]["id"].as_str().unwrap();
        let live = mandates::live_authorisations(&mut conn, organisation, &angela, now()).unwrap();
        live.iter().any(|l| l.authorisation_id == logement)
    };

    // Wrong codes, as someone holding the session would try them: refused, then held back.
    let mut wrong = 0;
    loop {
        wrong += 1;
        let refused = robot.post_form(&action, &[("csrf_token", &token), ("otp", &format!("{:06}", wrong))]).await;
        if location(&refused).ends_with("?erreur=attente") {
            break;
        }
        assert_eq!(location(&refused), format!("/espace-aidant/usagers/{angela}?erreur=code"));
        assert!(wrong < 10, "still no wait after {wrong} wrong codes");
    }
    assert_eq!(wrong, 5, "the fifth wrong code starts a wait, as at sign-in (login.max_failed_attempts)");
    // Held back, the right code is not even checked, and nothing is revoked.
    let code = robot.next_totp();
    let held = robot.post_form(&action, &[("csrf_token", &token), ("otp", &code)]).await;
    assert_eq!(location(&held), format!("/espace-aidant/usagers/{angela}?erreur=attente"));
    assert!(live(&app), "nothing revoked while held back");
    let said = robot.get(&location(&held)).await.text().await.unwrap();
    assert!(said.contains("Trop de codes erronés"), "{said}");
}

async fn another_organisations_usager_is_neither_shown_nor_revoked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (mut robot, demo, home) = signed_in(&app).await;
    let token = csrf(&home);
    // A mandate of another organisation, by its own helper, for a usager of its own.
    let (usager_id, authorisation_id, mandate_id) = {
        let mut conn = app.db.store.conn().unwrap();
        let other = other_organisation(&mut conn, "CCAS de Lyon", "21690123100011", "Lyon");
        let demo_aidant = aidants::find(&mut conn, &demo.aidant_id()).unwrap();
        let helper = aidants::create(
            &mut conn,
            &app.db.keys,
            aidants::NewAidant {
                email: mandate_store::Email::parse("agent@ccas-lyon.example.fr").unwrap(),
                given_name: "Paul".into(),
                family_name: "Girard".into(),
                profession: "Travailleur social".into(),
                phone: None,
                organisation_ids: vec![other.id.clone()],
                role: mandate_store::Role::Aidant,
                password_hash: demo_aidant.password_hash.clone(),
                totp_secret: idp::admin::demo::DEMO_TOTP_SECRET.into(),
                totp_step_seconds: 30,
                charter_signed_at: Some(now()),
            },
            now(),
        )
        .unwrap();
        let usager = usagers::create(
            &mut conn,
            NewUsager {
                given_name: "Marc".into(),
                family_name: "LEROY".into(),
                birthdate: "1950-01-02".into(),
                gender: "male".into(),
                birthplace: "69123".into(),
                birthcountry: "99100".into(),
                email: "marc.leroy@example.fr".into(),
                upstream_issuer: "https://upstream.example".into(),
                upstream_subject: "marc".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        let created = mandates::create(
            &mut conn,
            NewMandate {
                organisation_id: other.id,
                usager_id: usager.id.clone(),
                aidant_id: helper.id,
                demarches: vec![Demarche::Social],
                duration: DurationKind::Long,
                custom_expires_at: None,
                is_remote: false,
                consent_proof: None,
            },
            now(),
        )
        .unwrap();
        (usager.id, created.authorisations[0].id.clone(), created.mandate.id)
    };
    let page = robot.get(&format!("/espace-aidant/usagers/{usager_id}")).await;
    assert_eq!(page.status(), 404);
    assert!(!page.text().await.unwrap().contains("LEROY"));
    let code = robot.next_totp();
    let refused = robot
        .post_form(
            &format!("/espace-aidant/autorisations/{authorisation_id}/revocation"),
            &[("csrf_token", &token), ("otp", &code)],
        )
        .await;
    assert_eq!(refused.status(), 403);
    let renewal = robot.get(&format!("/espace-aidant/mandats/{mandate_id}/renouvellement")).await;
    assert_eq!(renewal.status(), 403);
    let mut conn = app.db.store.conn().unwrap();
    assert!(mandates::find(&mut conn, &mandate_id).unwrap().authorisations[0].revoked_at.is_none(), "still in force");
}

async fn a_helper_of_two_organisations_switches_between_them(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (robot, demo, home) = signed_in(&app).await;
    assert!(!home.contains("Changer de structure"), "one organisation: no switcher");
    let other = {
        let mut conn = app.db.store.conn().unwrap();
        let other = other_organisation(&mut conn, "CCAS de Lyon", "21690123100011", "Lyon");
        aidants::add_to_organisation(&mut conn, &demo.aidant_id(), &other.id).unwrap();
        other
    };
    let home = robot.get("/espace-aidant").await.text().await.unwrap();
    assert!(home.contains("Changer de structure") && home.contains("CCAS de Lyon"), "{home}");
    // The header names the current organisation under the helper's name.
    let current = |name: &str| format!("<span class=\"idp-header__organisation\">{name}</span>");
    assert!(home.contains(&current("France Services Démo")), "the current one is shown: {home}");
    let switched = robot
        .post_form("/espace-aidant/organisation", &[("csrf_token", &csrf(&home)), ("organisation", &other.id)])
        .await;
    assert_eq!(location(&switched), "/espace-aidant");
    let home = robot.get("/espace-aidant").await.text().await.unwrap();
    assert!(home.contains(&current("CCAS de Lyon")), "{home}");
    assert!(!home.contains("DUBOIS"), "the other organisation's usagers only: {home}");
    let mut conn = app.db.store.conn().unwrap();
    let entries =
        mandate_store::journal::recent(&mut conn, Some(mandate_store::journal::JournalAction::OrganisationSwitched), 5)
            .unwrap();
    assert_eq!(entries[0].organisation_id.as_deref(), Some(other.id.as_str()));
    drop(conn);
    // An organisation the helper does not belong to is refused.
    let refused = robot
        .post_form(
            "/espace-aidant/organisation",
            &[("csrf_token", &csrf(&home)), ("organisation", "no-such-organisation")],
        )
        .await;
    assert_eq!(refused.status(), 404);
    let stranger = {
        let mut conn = app.db.store.conn().unwrap();
        other_organisation(&mut conn, "Mairie de Nantes", "21440109300015", "Nantes")
    };
    let refused = robot
        .post_form("/espace-aidant/organisation", &[("csrf_token", &csrf(&home)), ("organisation", &stranger.id)])
        .await;
    assert_eq!(refused.status(), 403, "not a member");
}
