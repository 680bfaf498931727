//! Codes and refresh tokens work once even when a client (or an attacker) sends the same one
//! many times at the same instant (RFC 6749 §4.1.2, RFC 9700 §4.14.2). On SQLite and
//! PostgreSQL, over HTTP.

use idp::admin::clients::ClientRegistration;
use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::robot::{add_client, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    a_code_sent_twenty_times_at_once_is_exchanged_once_and_then_revoked,
    a_refresh_token_sent_ten_times_at_once_rotates_once_and_then_revoked,
    a_code_sent_by_two_clients_at_once_leaves_no_valid_token,
);

/// Logs in (once per robot) and chooses usager 0 for `argent`; returns a fresh code.
async fn fresh_code(robot: &mut Robot<'_>, usager: &str) -> String {
    let first = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile offline_access"),
            ("state", "st"),
            ("nonce", "n"),
        ])
        .await;
    let callback = robot.complete(first, usager, "argent").await;
    query_params(&callback)["code"].clone()
}

/// A token request: its form fields, and the client id and secret sent as Basic credentials.
type TokenRequest<'a> = (Vec<(&'a str, String)>, (String, String));

/// Sends every form to /token at once, each with its client's Basic credentials; returns the
/// statuses and bodies in the order given. The requests are all built first, then spawned
/// together: none starts before the test yields, and then they all go out concurrently.
async fn post_all_at_once(app: &TestApp, requests: Vec<TokenRequest<'_>>) -> Vec<(u16, Value)> {
    let built: Vec<_> = requests
        .into_iter()
        .map(|(form, (id, secret))| {
            let form: Vec<(String, String)> = form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            app.client.post(app.url("/token")).basic_auth(id, Some(secret)).form(&form)
        })
        .collect();
    let handles: Vec<_> = built
        .into_iter()
        .map(|request| {
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    outcomes
}

fn demo_credentials() -> (String, String) {
    (DEMO_CLIENT_ID.to_owned(), DEMO_CLIENT_SECRET.to_owned())
}

fn code_form(code: &str) -> Vec<(&'static str, String)> {
    vec![("grant_type", "authorization_code".into()), ("code", code.into()), ("redirect_uri", CALLBACK.into())]
}

/// Asserts one success among `outcomes` and every other an `invalid_grant`; returns the success.
fn the_one_success(outcomes: &[(u16, Value)]) -> Value {
    let successes: Vec<&Value> = outcomes.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert_eq!(successes.len(), 1, "exactly one success: {outcomes:#?}");
    for (status, body) in outcomes.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
    successes[0].clone()
}

async fn userinfo_status(app: &TestApp, access: &str) -> u16 {
    app.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().status().as_u16()
}

async fn introspected_active(app: &TestApp, token: &str) -> bool {
    let body: Value = app
        .client
        .post(app.url("/introspect"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["active"] == true
}

async fn a_code_sent_twenty_times_at_once_is_exchanged_once_and_then_revoked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    // Several rounds: a race lost once in a while must still show.
    for round in 0..3 {
        let code = fresh_code(&mut robot, &demo.usager_id(0)).await;
        let outcomes = post_all_at_once(&app, (0..20).map(|_| (code_form(&code), demo_credentials())).collect()).await;
        let winner = the_one_success(&outcomes);
        let access = winner["access_token"].as_str().unwrap();
        assert_eq!(userinfo_status(&app, access).await, 401, "round {round}: the reuse revoked the winner's token");
        assert!(!introspected_active(&app, access).await, "round {round}");
        assert!(!introspected_active(&app, winner["refresh_token"].as_str().unwrap()).await, "round {round}");
    }
}

async fn a_refresh_token_sent_ten_times_at_once_rotates_once_and_then_revoked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = fresh_code(&mut robot, &demo.usager_id(0)).await;
    let first = robot.exchange_demo_code(&code).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let form = vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", refresh)];
    let outcomes = post_all_at_once(&app, (0..10).map(|_| (form.clone(), demo_credentials())).collect()).await;
    let winner = the_one_success(&outcomes);
    for access in [winner["access_token"].as_str().unwrap(), first["access_token"].as_str().unwrap()] {
        assert_eq!(userinfo_status(&app, access).await, 401, "a reused refresh token revokes the whole grant");
        assert!(!introspected_active(&app, access).await);
    }
    assert!(!introspected_active(&app, winner["refresh_token"].as_str().unwrap()).await);
}

async fn a_code_sent_by_two_clients_at_once_leaves_no_valid_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (other, other_secret) = add_client(
        &app,
        ClientRegistration {
            name: "Another service".into(),
            redirect_uris: vec![CALLBACK.into()],
            auth_method: "client_secret_basic".into(),
            id_token_alg: "RS256".into(),
            subject_type: "pairwise".into(),
            ..Default::default()
        },
    );
    let other_credentials = (other, other_secret.unwrap());
    let mut robot = Robot::new(&app);
    for round in 0..3 {
        let code = fresh_code(&mut robot, &demo.usager_id(0)).await;
        let outcomes = post_all_at_once(
            &app,
            vec![(code_form(&code), demo_credentials()), (code_form(&code), other_credentials.clone())],
        )
        .await;
        assert!(outcomes.iter().filter(|(s, _)| *s == 200).count() <= 1, "round {round}: {outcomes:#?}");
        for (status, body) in &outcomes {
            if *status == 200 {
                let access = body["access_token"].as_str().unwrap();
                assert_eq!(userinfo_status(&app, access).await, 401, "round {round}: no token stays valid");
                assert!(!introspected_active(&app, access).await, "round {round}");
            } else {
                assert_eq!(body["error"], "invalid_grant", "round {round}");
            }
        }
    }
}
