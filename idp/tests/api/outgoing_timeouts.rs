//! A server this one calls that never answers costs a bounded wait (`outgoing.*`,
//! `upstream.timeout_seconds`) and a clear answer, never a request left hanging: a relying
//! party's `jwks_uri` at client authentication, its back-channel logout URI at logout. (The
//! upstream provider's: `upstream::an_upstream_that_never_answers_times_out`.) On SQLite and
//! PostgreSQL.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use idp::admin::clients::ClientRegistration;
use idp::keys::{KeySet, SigningAlg};
use mandate_store::Backend;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::robot::{add_client, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    a_jwks_uri_that_never_answers_is_an_invalid_client_within_the_timeout,
    a_back_channel_logout_uri_that_never_answers_does_not_hold_the_logout,
);

/// A server that takes connections and never answers: the kernel completes the handshake for
/// the listening socket, nothing ever reads or writes. Answers nothing for as long as it lives.
pub struct SilentServer(TcpListener);

impl SilentServer {
    pub fn start() -> SilentServer {
        SilentServer(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.0.local_addr().unwrap())
    }
}

/// Whole calls of one second: a test of the wait takes a few.
async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.outgoing.connect_timeout_seconds = 1;
        s.outgoing.timeout_seconds = 1;
    })
    .await
}

/// What `call` answers, and how long it took; a hang fails the test rather than stalling it.
async fn timed<T>(call: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(20), call).await.expect("an answer, not a hang");
    (answer, started.elapsed())
}

async fn a_jwks_uri_that_never_answers_is_an_invalid_client_within_the_timeout(backend: Backend) {
    let Some(app) = spawn(backend).await else { return };
    seed(&app);
    let silent = SilentServer::start();
    let keys_dir = tempfile::tempdir().unwrap();
    idp::keys::generate(keys_dir.path(), SigningAlg::Rs256).unwrap();
    let keys = KeySet::load(keys_dir.path()).unwrap();
    let (id, _) = add_client(
        &app,
        ClientRegistration {
            name: "RP with a silent key server".into(),
            redirect_uris: vec![CALLBACK.into()],
            auth_method: "private_key_jwt".into(),
            jwks_uri: Some(silent.url("/jwks")),
            id_token_alg: "RS256".into(),
            subject_type: "public".into(),
            ..Default::default()
        },
    );
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({"iss": id, "sub": id, "aud": app.url("/introspect"), "jti": "j-1", "iat": now, "exp": now + 60});
    let assertion = keys.sign(SigningAlg::Rs256, "JWT", &claims).unwrap();
    let request = reqwest::Client::new().post(app.url("/introspect")).form(&[
        ("token", "some-token"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion.as_str()),
    ]);
    let (response, took) = timed(request.send()).await;
    let response = response.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
    assert!(took < Duration::from_millis(2_500), "given up after outgoing.timeout_seconds: {took:?}");
}

async fn a_back_channel_logout_uri_that_never_answers_does_not_hold_the_logout(backend: Backend) {
    let Some(app) = spawn(backend).await else { return };
    let demo = seed(&app);
    let silent = SilentServer::start();
    let (id, secret) = add_client(
        &app,
        ClientRegistration {
            name: "RP with a silent logout URI".into(),
            redirect_uris: vec![CALLBACK.into()],
            auth_method: "client_secret_basic".into(),
            id_token_alg: "RS256".into(),
            subject_type: "public".into(),
            backchannel_logout_uri: Some(silent.url("/logout")),
            ..Default::default()
        },
    );
    let secret = secret.unwrap();
    let mut robot = Robot::new(&app);
    let params = [
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s"),
    ];
    let first = robot.authorize(&params).await;
    let callback = robot.complete(first, &demo.usager_id(0), "logement").await;
    let code = query_params(&callback)["code"].clone();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
    let tokens: Value = robot.token(&form, Some((&id, &secret))).await.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().expect("an ID token").to_owned();

    // The browser of that session logs out: its session ends and the page answers, the silent
    // relying party given up on after the timeout.
    let logout = reqwest::Url::parse_with_params(&app.url("/logout"), [("id_token_hint", id_token.as_str())]).unwrap();
    let (response, took) = timed(robot.client.get(logout).send()).await;
    let response = response.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Vous êtes déconnecté"));
    assert!(took < Duration::from_millis(2_500), "given up after outgoing.timeout_seconds: {took:?}");
}
