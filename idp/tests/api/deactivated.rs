//! A deactivated helper account: the right password leads to a page that says so, why and whom
//! to ask (403, no one-time code asked); a wrong password says no more than for any account; a
//! session open when the account is deactivated stops at its next request.

use mandate_store::aidants::{self, DeactivationReason};
use mandate_store::{now, Backend};

use crate::helpers::TestApp;
use crate::robot::{input_value, location, seed, Robot};
use idp::admin::demo::{DEMO_EMAIL, DEMO_PASSWORD};

crate::on_both_backends!(
    a_deactivated_helper_is_told_why_and_whom_to_ask_and_a_wrong_password_tells_nothing,
    an_open_session_stops_at_the_next_request_once_the_account_is_deactivated,
);

async fn password(robot: &Robot<'_>, secret: &str) -> reqwest::Response {
    let page = robot.get("/login").await.text().await.unwrap();
    let csrf = input_value(&page, "csrf_token").unwrap();
    robot.post_form("/login", &[("csrf_token", &csrf), ("email", DEMO_EMAIL), ("password", secret)]).await
}

async fn a_deactivated_helper_is_told_why_and_whom_to_ask_and_a_wrong_password_tells_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let robot = Robot::new(&app);

    // Before: what a wrong password says for an active account.
    let wrong_active = password(&robot, "not-the-password").await;
    assert_eq!(wrong_active.status(), 401);
    let wrong_active = wrong_active.text().await.unwrap();

    let mut conn = app.db.store.conn().unwrap();
    aidants::deactivate(&mut conn, &demo.aidant_id(), DeactivationReason::Manager, Some("manager-id"), None, now())
        .unwrap();

    let wrong = password(&robot, "not-the-password").await;
    assert_eq!(wrong.status(), 401, "the same answer as for any wrong password");
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("Adresse e-mail ou mot de passe incorrect."), "{wrong}");
    assert!(!wrong.contains("désactivé"), "{wrong}");
    let without_token = |html: &str| html.replace(&input_value(html, "csrf_token").unwrap(), "");
    assert_eq!(without_token(&wrong), without_token(&wrong_active), "the page is the very same");

    let right = password(&robot, DEMO_PASSWORD).await;
    assert_eq!(right.status(), 403);
    let page = right.text().await.unwrap();
    assert!(page.contains("<h1>Votre compte est désactivé</h1>"), "{page}");
    assert!(page.contains("Un responsable de votre structure a désactivé votre compte le "), "{page}");
    assert!(page.contains("Demandez à un responsable de <strong>France Services Démo</strong>"), "whom: {page}");
    assert!(!page.contains("name=\"otp\""), "no one-time code asked");
    // And no half-open session: the code page sends back to the password.
    assert_eq!(location(&robot.get("/login/otp").await), "/login?request=");

    // After six months without sign-in, the page says so.
    aidants::reactivate(&mut conn, &demo.aidant_id(), None, None, now()).unwrap();
    aidants::deactivate(&mut conn, &demo.aidant_id(), DeactivationReason::Inactivity, None, None, now()).unwrap();
    let page = password(&robot, DEMO_PASSWORD).await.text().await.unwrap();
    assert!(page.contains("n&#39;a servi à aucune connexion pendant six mois"), "{page}");
}

async fn an_open_session_stops_at_the_next_request_once_the_account_is_deactivated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot.get("/espace-aidant").await;
    let (status, _) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200);

    let mut conn = app.db.store.conn().unwrap();
    aidants::deactivate(&mut conn, &demo.aidant_id(), DeactivationReason::Inactivity, None, None, now()).unwrap();

    let next = robot.get("/espace-aidant").await;
    assert_eq!(next.status(), 403);
    let page = next.text().await.unwrap();
    assert!(page.contains("Votre compte est désactivé") && page.contains("six mois"), "{page}");
    assert!(!page.contains("Camille Martin"), "the header names nobody: {page}");
    // The session has ended: what follows asks to sign in, where the password leads to the page.
    let after = robot.get(&format!("/espace-aidant/usagers/{}", demo.usager_id(0))).await;
    assert_eq!(after.status(), 303);
    assert!(location(&after).starts_with("/login"), "{}", location(&after));
}
