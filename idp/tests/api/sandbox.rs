//! The practice service: a real delegation through this provider, shown as the service
//! received it; its refusals and its absence before `idp demo seed`. On SQLite and PostgreSQL.

use idp::web::{dates, Lang};
use mandate_store::{mandates, Backend, Demarche};

use crate::helpers::TestApp;
use crate::robot::{location, query_params, seed, Robot};
use crate::upstream::unescape;

crate::on_both_backends!(
    the_practice_service_shows_what_it_received,
    the_practice_service_explains_a_refusal_and_refuses_a_stranger_answer,
    the_practice_service_asks_for_the_demo_seed,
);

/// `/sandbox/commencer` sends the browser to our own `/authorize`; returns that URL.
async fn start(robot: &Robot<'_>) -> String {
    let index = robot.get("/sandbox").await;
    assert_eq!(index.status(), 200);
    let html = index.text().await.unwrap();
    assert!(
        html.contains("Commencer une démarche d'essai") && html.contains("action=\"/sandbox/commencer\""),
        "{html}"
    );
    let started = robot.get("/sandbox/commencer").await;
    assert_eq!(started.status(), 303);
    let cookie = started.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["idp_sandbox=", "HttpOnly", "SameSite=Lax", "Path=/sandbox"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let authorize = location(&started);
    assert!(authorize.starts_with(&robot.app.url("/authorize?")), "{authorize}");
    let params = query_params(&authorize);
    assert_eq!(params["client_id"], "demo-service");
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params.contains_key("nonce") && params.contains_key("state"));
    authorize
}

async fn the_practice_service_shows_what_it_received(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let authorize = start(&robot).await;
    let first = robot.get(&authorize).await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    assert!(callback.starts_with(&app.url("/sandbox/callback?")), "{callback}");

    let received = robot.get(&callback).await;
    assert_eq!(received.status(), 200);
    let cleared = received.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with("idp_sandbox=;") || cleared.contains("Max-Age=0"), "the login is over: {cleared}");
    let html = unescape(&received.text().await.unwrap());
    let mut conn = app.db.store.conn().unwrap();
    let live = mandates::live_authorisations(
        &mut conn,
        demo.seed["organisation"]["id"].as_str().unwrap(),
        &demo.usager_id(0),
        mandate_store::now(),
    )
    .unwrap();
    let argent = live.iter().find(|l| l.demarche == Demarche::Argent).expect("the seeded mandate covers argent");
    for expected in [
        "DUBOIS",
        "Angela Claire Louise",
        "24 août 1962",
        "75107",
        "99100",
        "Camille Martin",
        "France Services Démo",
        Demarche::Argent.label_fr(),
        &dates::long_date(Lang::Fr, argent.expires_at.date()),
        "\"act\": {",
        "\"mandate\": {",
    ] {
        assert!(html.contains(expected), "{expected:?} missing from\n{html}");
    }

    // The answer works once: the cookie is gone, the same answer again is refused.
    let again = robot.get(&callback).await;
    assert_eq!(again.status(), 400);
}

async fn the_practice_service_explains_a_refusal_and_refuses_a_stranger_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let authorize = start(&robot).await;
    let state = query_params(&authorize)["state"].clone();

    // An answer for another login (another state) is not this browser's.
    let stranger = robot.get("/sandbox/callback?code=x&state=another").await;
    assert_eq!(stranger.status(), 400);
    assert!(unescape(&stranger.text().await.unwrap()).contains("Recommencez une démarche d'essai"));

    let refusal = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("error_description", "the mandate does not cover this démarche")
        .append_pair("state", &state)
        .append_pair("iss", &app.settings.issuer)
        .finish();
    let refused = robot.get(&format!("/sandbox/callback?{refusal}")).await;
    assert_eq!(refused.status(), 200);
    let html = unescape(&refused.text().await.unwrap());
    assert!(html.contains("ne couvre plus"), "{html}");
    assert!(html.contains("Recommencer une démarche d'essai"), "{html}");
}

async fn the_practice_service_asks_for_the_demo_seed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let robot = Robot::new(&app);
    for path in ["/sandbox", "/sandbox/commencer"] {
        let page = robot.get(path).await;
        assert_eq!(page.status(), 503, "{path}");
        let html = unescape(&page.text().await.unwrap());
        assert!(html.contains("idp demo seed") && !html.contains("action=\"/sandbox/commencer\""), "{html}");
    }
}
