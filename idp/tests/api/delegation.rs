//! The delegation flow as services and helpers use it: one click from the choice to the service,
//! narrowed by what the service may receive and by FranceConnect v2's `rep_scope`, with a way
//! to cancel back to the service from every page. On SQLite and PostgreSQL.

use idp::admin::clients::ClientRegistration;
use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use mandate_store::{Backend, Demarche};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::robot::{add_client, input_value, location, query_params, seed, Demo, Robot, CALLBACK};

crate::on_both_backends!(
    rep_scope_narrows_the_choice_and_comes_back_in_the_tokens,
    rep_scope_with_several_demarches_offers_each_of_them,
    a_rep_scope_value_that_is_no_demarche_is_an_invalid_request,
    a_request_nobody_can_satisfy_says_so_and_goes_back_to_the_service,
    a_service_is_offered_only_the_demarches_it_is_registered_for,
    cancel_from_every_page_sends_access_denied_with_the_state,
    argent_is_confirmed_after_its_warning,
    a_live_session_reaches_the_service_in_three_requests,
);

fn rep_scope(values: &str) -> String {
    format!(r#"{{"id_token":{{"rep_scope":{{"essential":true,"values":{values}}}}},"userinfo":{{"rep_scope":null}}}}"#)
}

fn request<'a>(client_id: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st-9"),
        ("nonce", "n-9"),
    ];
    params.extend_from_slice(extra);
    params
}

/// Logs the demo helper in from an authorization request, up to the page after the code.
async fn choice_page(robot: &mut Robot<'_>, params: &[(&str, &str)]) -> (reqwest::StatusCode, String) {
    let first = robot.authorize(params).await;
    robot.log_in_until(first, "name=\"choix\"").await
}

/// The `usager:demarche` values of the buttons on a page.
fn buttons(html: &str) -> Vec<String> {
    html.split("name=\"choix\" value=\"").skip(1).map(|rest| rest[..rest.find('"').unwrap()].to_owned()).collect()
}

/// The text of the buttons on a page, as read out (markup inside a button left out).
fn button_texts(html: &str) -> Vec<String> {
    html.split("name=\"choix\" value=\"")
        .skip(1)
        .map(|rest| {
            let inside = &rest[rest.find('>').unwrap() + 1..rest.find("</button>").unwrap()];
            let mut text = String::new();
            for (i, part) in inside.split('<').enumerate() {
                // Every part but the first starts inside a tag, up to its `>`.
                text.push_str(if i == 0 { part } else { part.split_once('>').map_or("", |(_, t)| t) });
            }
            text
        })
        .collect()
}

fn angela(demo: &Demo, demarche: &str) -> String {
    format!("{}:{demarche}", demo.usager_id(0))
}

async fn press(robot: &Robot<'_>, html: &str, choice: &str) -> reqwest::Response {
    let csrf = input_value(html, "csrf_token").unwrap();
    let request = input_value(html, "request").unwrap();
    robot.post_form("/delegation/choix", &[("csrf_token", &csrf), ("request", &request), ("choix", choice)]).await
}

async fn rep_scope_narrows_the_choice_and_comes_back_in_the_tokens(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let claims = rep_scope(r#"["logement"]"#);
    let (status, html) = choice_page(&mut robot, &request(DEMO_CLIENT_ID, &[("claims", &claims)])).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(buttons(&html), vec![angela(&demo, "logement")], "only logement, only Angela holds it");
    assert_eq!(button_texts(&html), vec!["Logement — pour Angela Claire Louise DUBOIS sur Service de démonstration"]);
    assert!(!html.contains(" checked"), "nothing is chosen in advance");
    let answered = press(&robot, &html, &angela(&demo, "logement")).await;
    assert_eq!(answered.status(), 302, "one click answers the service");
    let callback = location(&answered);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let code = query_params(&callback)["code"].clone();
    let tokens: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert_eq!(claims["rep_scope"], serde_json::json!(["logement"]));
    assert_eq!(claims["mandate"]["demarche"], "logement");
    let userinfo: Value = robot
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["rep_scope"], serde_json::json!(["logement"]), "{userinfo}");
}

async fn rep_scope_with_several_demarches_offers_each_of_them(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let claims = rep_scope(r#"["papiers","social","justice"]"#);
    let (_, html) = choice_page(&mut robot, &request(DEMO_CLIENT_ID, &[("claims", &claims)])).await;
    let mut offered = buttons(&html);
    offered.sort();
    let mut expected = vec![angela(&demo, "social"), format!("{}:papiers", demo.usager_id(1))];
    expected.sort();
    assert_eq!(offered, expected, "argent and logement are not asked; nobody holds justice");
    // A token asked without rep_scope carries none.
    let plain = robot.authorize(&request(DEMO_CLIENT_ID, &[])).await;
    let callback = robot.complete(plain, &demo.usager_id(0), "logement").await;
    let tokens: Value = robot.exchange_demo_code(&query_params(&callback)["code"]).await.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert!(claims.get("rep_scope").is_none(), "{claims}");
}

async fn a_rep_scope_value_that_is_no_demarche_is_an_invalid_request(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let claims = rep_scope(r#"["logement","impots"]"#);
    let answer = robot.authorize(&request(DEMO_CLIENT_ID, &[("claims", &claims)])).await;
    let params = query_params(&location(&answer));
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "st-9");
    assert!(params["error_description"].contains("impots"), "{params:?}");
}

async fn a_request_nobody_can_satisfy_says_so_and_goes_back_to_the_service(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let mut robot = Robot::new(&app);
    let claims = rep_scope(r#"["justice"]"#);
    let (status, html) = choice_page(&mut robot, &request(DEMO_CLIENT_ID, &[("claims", &claims)])).await;
    assert_eq!(status, 403);
    assert!(html.contains("ne peut être représentée sur ce service"), "{html}");
    assert!(html.contains("Service de démonstration"), "the service is named: {html}");
    assert!(buttons(&html).is_empty());
    let csrf = input_value(&html, "csrf_token").unwrap();
    let request_id = input_value(&html, "request").unwrap();
    let back = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    let params = query_params(&location(&back));
    assert!(location(&back).starts_with(CALLBACK));
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("access_denied", "st-9"));
}

async fn a_service_is_offered_only_the_demarches_it_is_registered_for(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (client_id, _) = add_client(
        &app,
        ClientRegistration {
            name: "Caisse d'allocations".into(),
            redirect_uris: vec![CALLBACK.into()],
            auth_method: "client_secret_basic".into(),
            id_token_alg: "RS256".into(),
            subject_type: "public".into(),
            demarches: vec![Demarche::Social],
            ..Default::default()
        },
    );
    let mut robot = Robot::new(&app);
    let (_, html) = choice_page(&mut robot, &request(&client_id, &[])).await;
    assert_eq!(buttons(&html), vec![angela(&demo, "social")]);
    assert!(html.contains("Caisse d&#39;allocations") || html.contains("Caisse d'allocations"), "{html}");
    // Pressing a button the page did not offer (forged) shows the choice again, issues nothing.
    let forged = press(&robot, &html, &angela(&demo, "logement")).await;
    assert_eq!(forged.status(), 303);
    assert!(location(&forged).starts_with("/delegation/choix?request="));
    // Narrowed to what it may not receive: nobody can be represented.
    let claims = rep_scope(r#"["logement"]"#);
    let (status, html) = choice_page(&mut robot, &request(&client_id, &[("claims", &claims)])).await;
    assert_eq!(status, 403, "{html}");
}

async fn cancel_from_every_page_sends_access_denied_with_the_state(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let cancel = |html: &str| {
        assert!(html.contains("action=\"/delegation/annuler\""), "no cancel on {html}");
        assert!(html.contains("Service de démonstration"), "the service is not named on {html}");
        (input_value(html, "csrf_token").unwrap(), input_value(html, "request").unwrap())
    };
    // The login page.
    let first = robot.authorize(&request(DEMO_CLIENT_ID, &[])).await;
    let login = robot.get(&location(&first)).await.text().await.unwrap();
    let (csrf, request_id) = cancel(&login);
    let back = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(query_params(&location(&back))["error"], "access_denied");
    assert_eq!(query_params(&location(&back))["state"], "st-9");
    // Spent: a second cancel of the same request is told it has expired.
    let again = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(again.status(), 400);
    // The one-time code page.
    let first = robot.authorize(&request(DEMO_CLIENT_ID, &[])).await;
    let (_, otp) = robot.log_in_until(first, "name=\"otp\"").await;
    let (csrf, request_id) = cancel(&otp);
    let back = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(query_params(&location(&back))["error"], "access_denied");
    // The choice page (after the code this time), and the argent confirmation.
    let first = robot.authorize(&request(DEMO_CLIENT_ID, &[])).await;
    let (_, choice) = robot.log_in_until(first, "name=\"choix\"").await;
    let (csrf, request_id) = cancel(&choice);
    let back = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(query_params(&location(&back))["error"], "access_denied");
    let (_, choice) = choice_page(&mut robot, &request(DEMO_CLIENT_ID, &[])).await;
    let to_confirm = press(&robot, &choice, &angela(&demo, "argent")).await;
    let confirmation = robot.get(&location(&to_confirm)).await.text().await.unwrap();
    let (csrf, request_id) = cancel(&confirmation);
    let back = robot.post_form("/delegation/annuler", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(query_params(&location(&back))["error"], "access_denied");
    assert_eq!(query_params(&location(&back))["state"], "st-9");
}

async fn argent_is_confirmed_after_its_warning(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let (_, html) = choice_page(&mut robot, &request(DEMO_CLIENT_ID, &[])).await;
    assert!(html.contains("donne accès aux impôts et aux finances"), "the warning is shown with the choice");
    let to_confirm = press(&robot, &html, &angela(&demo, "argent")).await;
    assert_eq!(to_confirm.status(), 303);
    assert!(location(&to_confirm).starts_with("/delegation/confirmation?request="), "{}", location(&to_confirm));
    let page = robot.get(&location(&to_confirm)).await.text().await.unwrap();
    assert!(page.contains("donne accès aux impôts") && page.contains("Angela Claire Louise DUBOIS"), "{page}");
    let csrf = input_value(&page, "csrf_token").unwrap();
    let request_id = input_value(&page, "request").unwrap();
    let answered =
        robot.post_form("/delegation/confirmation", &[("csrf_token", &csrf), ("request", &request_id)]).await;
    assert_eq!(answered.status(), 302);
    let tokens: Value = robot
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &query_params(&location(&answered))["code"]),
                ("redirect_uri", CALLBACK),
            ],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await
        .json()
        .await
        .unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert_eq!(claims["mandate"]["demarche"], "argent");
}

async fn a_live_session_reaches_the_service_in_three_requests(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    // Sign in once (a first flow), then count the requests of a second one.
    let first = robot.authorize(&request(DEMO_CLIENT_ID, &[])).await;
    robot.complete(first, &demo.usager_id(0), "logement").await;
    // 1: /authorize sends the signed-in helper straight to the choice.
    let authorize = robot.authorize(&request(DEMO_CLIENT_ID, &[])).await;
    assert_eq!(authorize.status(), 303);
    assert!(location(&authorize).starts_with("/delegation/choix?request="), "{}", location(&authorize));
    // 2: the choice page; 3: the button, answered by the redirect to the service with the code.
    let html = robot.get(&location(&authorize)).await.text().await.unwrap();
    let answered = press(&robot, &html, &angela(&demo, "logement")).await;
    assert_eq!(answered.status(), 302);
    assert!(location(&answered).starts_with(CALLBACK) && location(&answered).contains("code="));
}
