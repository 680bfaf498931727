//! What the web layer promises every page: a helper who is not signed in is sent to the step
//! they owe, with their request kept; a page asked without its request, or a form from
//! nowhere, gets a readable page in French, never a bare parse error. On SQLite and PostgreSQL.

use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_EMAIL, DEMO_PASSWORD};
use mandate_store::Backend;

use crate::helpers::TestApp;
use crate::robot::{input_value, location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    delegation_pages_send_a_helper_not_signed_in_to_the_step_they_owe,
    pages_asked_without_their_request_answer_with_a_readable_page,
    a_choice_sent_twice_at_once_gives_one_code,
);

fn demo_request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s"),
        ("nonce", "n"),
    ]
}

async fn delegation_pages_send_a_helper_not_signed_in_to_the_step_they_owe(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let first = robot.authorize(&demo_request()).await;
    let login = location(&first);
    let request = query_params(&robot.absolute(&login))["request"].clone();
    assert_eq!(login, format!("/login?request={request}"));

    // Straight to the choice without logging in: back to the password, the request kept.
    let usager_page = format!("/delegation/choix?request={request}");
    let response = robot.get(&usager_page).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/login?request={request}"));

    // Password given, one-time code not yet: the choice sends to the code.
    let html = robot.get(&login).await.text().await.unwrap();
    let csrf = input_value(&html, "csrf_token").unwrap();
    let response = robot
        .post_form(
            "/login",
            &[("csrf_token", &csrf), ("request", &request), ("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(location(&response), format!("/login/otp?request={request}"));
    let response = robot.get(&usager_page).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/login/otp?request={request}"));

    // A form posted there with the request in the form, not the URL: the same rule.
    let response = robot.post_form("/delegation/choix", &[("csrf_token", &csrf), ("request", &request)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/login/otp?request={request}"));
}

async fn pages_asked_without_their_request_answer_with_a_readable_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&demo_request()).await;
    let (status, html) = robot.log_in_until(first, "name=\"choix\"").await;
    assert_eq!(status, 200);
    let csrf = input_value(&html, "csrf_token").unwrap();

    for response in [
        robot.get("/delegation/choix").await,
        robot.get("/delegation/confirmation?request=").await,
        robot
            .post_form(
                "/delegation/choix",
                &[("csrf_token", &csrf), ("choix", &format!("{}:logement", demo.usager_id(0)))],
            )
            .await,
        robot.post_form("/delegation/confirmation", &[("csrf_token", &csrf), ("request", "no-such-request")]).await,
        robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", "no-such-request")]).await,
    ] {
        assert_eq!(response.status(), 400);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let page = response.text().await.unwrap();
        assert!(page.contains("<html lang=\"fr\">"), "{page}");
        assert!(page.contains("Cette demande de connexion a expiré"), "{page}");
    }

    // A form from another browser (no session cookie): the "form expired" page.
    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = stranger
        .post(app.url("/login"))
        .form(&[("csrf_token", csrf.as_str()), ("email", DEMO_EMAIL)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Le formulaire a expiré"));
}

async fn a_choice_sent_twice_at_once_gives_one_code(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&demo_request()).await;
    let (_, html) = robot.log_in_until(first, "name=\"choix\"").await;
    let csrf = input_value(&html, "csrf_token").unwrap();
    let request = input_value(&html, "request").unwrap();
    let choice = format!("{}:logement", demo.usager_id(0));
    let pressed = [("csrf_token", csrf.as_str()), ("request", request.as_str()), ("choix", choice.as_str())];
    let (a, b) =
        tokio::join!(robot.post_form("/delegation/choix", &pressed), robot.post_form("/delegation/choix", &pressed));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [302, 400], "one code, and the second submit told the request is spent");
    let winner = if a.status() == 302 { a } else { b };
    assert!(location(&winner).starts_with(CALLBACK) && location(&winner).contains("code="));
}
