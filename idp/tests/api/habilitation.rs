//! Habilitation over HTTP: a helper in habilitation is refused by the delegation flow with a
//! page that says why and leads back to the service, sees what is missing on their home and
//! cannot open the wizard; the charter in force comes before anything else, and the pending
//! request carries on once it is accepted; the wizard offers only the organisation's démarches.
//! On SQLite and PostgreSQL.

use mandate_store::habilitation::CURRENT_CHARTER_VERSION;
use mandate_store::journal::{self, JournalAction};
use mandate_store::organisations::{self, OrganisationUpdate};
use mandate_store::{aidants, now, Backend, Demarche};

use crate::helpers::TestApp;
use crate::robot::{input_value, location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    a_helper_in_habilitation_is_refused_by_the_delegation_flow_and_goes_back_to_the_service,
    a_helper_in_habilitation_sees_what_is_missing_and_cannot_open_the_wizard,
    the_charter_comes_first_and_the_pending_request_carries_on,
    the_wizard_offers_only_the_organisations_demarches,
);

/// A page's text as read, its markup's escapes undone (askama writes `'` as `&#39;`).
fn read(html: &str) -> String {
    html.replace("&#39;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

fn request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", idp::admin::demo::DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st-h"),
        ("nonce", "n-h"),
    ]
}

async fn a_helper_in_habilitation_is_refused_by_the_delegation_flow_and_goes_back_to_the_service(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    // Training recorded, PIX not yet.
    app.db.execute_sql(&format!("UPDATE aidants SET pix_date = NULL WHERE id = '{}'", demo.aidant_id()));
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&request()).await;
    let (status, html) = robot.log_in_until(first, "name=\"choix\"").await;
    assert_eq!(status, 403, "{html}");
    let html = read(&html);
    assert!(html.contains("Vous ne pouvez pas encore agir pour un usager"), "{html}");
    assert!(html.contains("la certification PIX"), "what is missing: {html}");
    assert!(!html.contains("la journée de formation"), "only what is missing: {html}");
    assert!(html.contains("référent de votre structure"), "who to ask: {html}");
    assert!(html.contains("Service de démonstration"), "the service is named: {html}");
    assert!(!html.contains("name=\"choix\""), "no usager is offered: {html}");

    // A button pressed anyway (a page kept from before) gives no code either.
    let csrf = input_value(&html, "csrf_token").unwrap();
    let request_id = input_value(&html, "request").unwrap();
    let forced = robot
        .post_form(
            "/delegation/choix",
            &[("csrf_token", &csrf), ("request", &request_id), ("choix", &format!("{}:logement", demo.usager_id(0)))],
        )
        .await;
    assert_eq!(forced.status(), 403);
    assert!(forced.text().await.unwrap().contains("la certification PIX"));
    let used = journal::count(&mut app.db.store.conn().unwrap(), JournalAction::AuthorisationUsed).unwrap();
    assert_eq!(used, 0);

    // The way back: the service hears access_denied with its state.
    let back = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(back.status(), 302);
    let to = location(&back);
    assert!(to.starts_with(CALLBACK), "{to}");
    let params = query_params(&to);
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("access_denied", "st-h"));
}

async fn a_helper_in_habilitation_sees_what_is_missing_and_cannot_open_the_wizard(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    app.db.execute_sql(&format!(
        "UPDATE aidants SET training_date = NULL, pix_date = NULL WHERE id = '{}'",
        demo.aidant_id()
    ));
    let mut robot = Robot::new(&app);
    let first = robot.get("/espace-aidant").await;
    let (status, home) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200, "{home}");
    let home = read(&home);
    assert!(home.contains("En cours d'habilitation"), "{home}");
    assert!(home.contains("la journée de formation des aidants"), "{home}");
    assert!(home.contains("la certification PIX"), "{home}");
    assert!(
        !home.contains("class=\"fr-btn\" href=\"/espace-aidant/mandats/nouveau\""),
        "no new-mandate button: {home}"
    );

    let wizard = robot.get("/espace-aidant/mandats/nouveau").await;
    assert_eq!(wizard.status(), 403);
    let page = read(&wizard.text().await.unwrap());
    assert!(page.contains("Vous ne pouvez pas encore agir pour un usager") && page.contains("la certification PIX"));
    let csrf = input_value(&home, "csrf_token").unwrap();
    let posted =
        robot.post_form("/espace-aidant/mandats/nouveau", &[("csrf_token", &csrf), ("demarche", "logement")]).await;
    assert_eq!(posted.status(), 403, "no draft is made");

    // Once the operator records both steps, the helper acts.
    {
        let mut conn = app.db.store.conn().unwrap();
        for step in [
            mandate_store::habilitation::HabilitationStep::Training,
            mandate_store::habilitation::HabilitationStep::Pix,
        ] {
            mandate_store::habilitation::record(&mut conn, &demo.aidant_id(), step, now().date(), None, None, now())
                .unwrap();
        }
    }
    let home = read(&robot.get("/espace-aidant").await.text().await.unwrap());
    assert!(!home.contains("En cours d'habilitation"), "{home}");
    assert_eq!(robot.get("/espace-aidant/mandats/nouveau").await.status(), 200);
}

async fn the_charter_comes_first_and_the_pending_request_carries_on(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    // Accepted an older version: the one in force is asked at this sign-in.
    app.db.execute_sql(&format!("UPDATE aidants SET charter_version = '2025-01' WHERE id = '{}'", demo.aidant_id()));
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&request()).await;
    let (status, html) = robot.log_in_until(first, "action=\"/charte\"").await;
    assert_eq!(status, 200, "{html}");
    let html = read(&html);
    assert!(html.contains("Charte de l'aidant") && html.contains("J'accepte la charte"), "{html}");
    assert!(html.contains("mots de passe ou les codes de l'usager"), "the charter's text: {html}");
    let csrf = input_value(&html, "csrf_token").unwrap();
    let request_id = input_value(&html, "request").unwrap();
    assert!(!request_id.is_empty(), "the pending request is kept");

    // Nothing else is reachable before accepting: the space and the choice send back here.
    for path in ["/espace-aidant".to_owned(), format!("/delegation/choix?request={request_id}")] {
        let elsewhere = robot.get(&path).await;
        assert_eq!(elsewhere.status(), 303, "{path}");
        assert!(location(&elsewhere).starts_with("/charte"), "{path}: {}", location(&elsewhere));
    }
    // Without the CSRF token, nothing is accepted.
    let forged = robot
        .post_form(
            "/charte",
            &[("csrf_token", "forged"), ("request", &request_id), ("version", CURRENT_CHARTER_VERSION)],
        )
        .await;
    assert_eq!(forged.status(), 403);

    let accepted = robot
        .post_form("/charte", &[("csrf_token", &csrf), ("request", &request_id), ("version", CURRENT_CHARTER_VERSION)])
        .await;
    assert_eq!(accepted.status(), 303);
    assert_eq!(
        location(&accepted),
        format!("/delegation/choix?request={request_id}"),
        "on to where the helper was going"
    );
    let choice = robot.get(&location(&accepted)).await;
    assert_eq!(choice.status(), 200);
    let html = choice.text().await.unwrap();
    let csrf = input_value(&html, "csrf_token").unwrap();
    let choice = format!("{}:logement", demo.usager_id(0));
    let answered = robot
        .post_form("/delegation/choix", &[("csrf_token", &csrf), ("request", &request_id), ("choix", &choice)])
        .await;
    let to = location(&answered);
    assert!(to.starts_with(CALLBACK) && query_params(&to).contains_key("code"), "{to}");

    let mut conn = app.db.store.conn().unwrap();
    let aidant = aidants::find(&mut conn, &demo.aidant_id()).unwrap();
    assert_eq!(aidant.charter_version.as_deref(), Some(CURRENT_CHARTER_VERSION));
    let entries = journal::recent(&mut conn, Some(JournalAction::CharterAccepted), 5).unwrap();
    let latest = &entries[0];
    assert_eq!(latest.aidant_id.as_deref(), Some(demo.aidant_id().as_str()));
    assert_eq!(latest.details.as_ref().unwrap().value()["version"], CURRENT_CHARTER_VERSION);
}

async fn the_wizard_offers_only_the_organisations_demarches(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    {
        let mut conn = app.db.store.conn().unwrap();
        let organisation_id = aidants::find(&mut conn, &demo.aidant_id()).unwrap().current_organisation_id;
        organisations::update(
            &mut conn,
            &organisation_id,
            OrganisationUpdate { demarches: Some(vec![Demarche::Social, Demarche::Logement]), ..Default::default() },
            None,
            now(),
        )
        .unwrap();
    }
    let mut robot = Robot::new(&app);
    let first = robot.get("/espace-aidant").await;
    let (status, home) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200, "{home}");
    let html = robot.get("/espace-aidant/mandats/nouveau").await.text().await.unwrap();
    let offered: Vec<String> = html
        .split("name=\"demarche\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect();
    assert_eq!(offered, ["social", "logement"], "{html}");

    // A démarche the organisation does not offer, posted anyway, is refused: no draft.
    let csrf = input_value(&html, "csrf_token").unwrap();
    let refused = robot
        .post_form(
            "/espace-aidant/mandats/nouveau",
            &[("csrf_token", &csrf), ("demarche", "social"), ("demarche", "papiers")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let accepted =
        robot.post_form("/espace-aidant/mandats/nouveau", &[("csrf_token", &csrf), ("demarche", "social")]).await;
    assert_eq!(accepted.status(), 303);
    assert!(location(&accepted).starts_with("/espace-aidant/mandats/nouveau/duree"), "{}", location(&accepted));
}
