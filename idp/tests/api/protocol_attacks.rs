//! Attacks on the protocol endpoints, repeated as an outsider would make them, and refused:
//! parameters sent twice, parameters too long to be stored or echoed, bodies that are not forms.
//! On SQLite and PostgreSQL.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::prelude::*;
use idp::admin::clients::ClientRegistration;
use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use idp::keys::{KeySet, SigningAlg};
use mandate_store::Backend;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::robot::{add_client, location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    a_repeated_client_or_redirect_uri_is_a_page_never_a_redirect,
    other_repeated_authorization_parameters_go_back_as_invalid_request,
    oversized_authorization_parameters_are_refused_and_nothing_is_stored,
    repeated_or_oversized_token_parameters_are_invalid_request_and_spend_nothing,
    the_demo_upstream_refuses_repeated_parameters,
    token_introspection_and_revocation_answer_non_forms_in_oauth_json,
    an_unknown_client_and_a_wrong_secret_get_the_same_answer,
    failed_client_authentications_hold_the_address_back_and_successes_never_do,
    a_jwks_uri_is_fetched_once_for_well_formed_assertions_and_its_failures_stay_inside,
    an_id_token_hint_alone_does_not_end_another_browsers_session,
    metrics_answer_nobody_without_a_configured_token,
    a_pairwise_subject_is_keyed_and_the_same_on_every_replica,
);

fn pending_requests(app: &TestApp) -> i64 {
    use mandate_store::schema::authorization_requests;
    let mut conn = app.db.store.conn().unwrap();
    authorization_requests::table.count().get_result(&mut *conn).unwrap()
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s-1"),
        ("nonce", "n-1"),
    ]
}

async fn a_repeated_client_or_redirect_uri_is_a_page_never_a_redirect(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    for extra in [
        ("client_id", "another-client"),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", "https://attacker.example/cb"),
        ("redirect_uri", CALLBACK),
    ] {
        let mut params = base();
        params.push(extra);
        let response = robot.authorize(&params).await;
        assert_eq!(response.status(), 400, "{extra:?}");
        assert!(location(&response).is_empty(), "{extra:?}: never redirected");
        let page = response.text().await.unwrap();
        assert!(page.contains("mal formée"), "{extra:?}: {page}");
        // The same by POST.
        let response = robot.post_form("/authorize", &params).await;
        assert_eq!(response.status(), 400, "{extra:?} by POST");
        assert!(location(&response).is_empty(), "{extra:?} by POST: never redirected");
    }
    assert_eq!(pending_requests(&app), 0, "nothing stored for a refused request");
}

async fn other_repeated_authorization_parameters_go_back_as_invalid_request(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    for extra in [("response_type", "code"), ("response_type", "token"), ("scope", "openid"), ("nonce", "n-2")] {
        let mut params = base();
        params.push(extra);
        let response = robot.authorize(&params).await;
        assert!(response.status().is_redirection(), "{extra:?}: {}", response.status());
        let to = location(&response);
        assert!(to.starts_with(CALLBACK), "{extra:?}: {to}");
        let answer = query_params(&to);
        assert_eq!(answer["error"], "invalid_request", "{extra:?}");
        assert_eq!(answer["error_description"], format!("{} is repeated", extra.0));
        assert_eq!(answer["state"], "s-1");
    }
    assert_eq!(pending_requests(&app), 0, "nothing stored for a refused request");
}

async fn oversized_authorization_parameters_are_refused_and_nothing_is_stored(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    // What got through before: a 30 KB state and a 20 KB nonce, stored with the pending request.
    let (state, nonce) = ("s".repeat(30 * 1024), "n".repeat(20 * 1024));
    let mut params = base();
    params.retain(|(k, _)| *k != "state" && *k != "nonce");
    params.extend([("state", state.as_str()), ("nonce", nonce.as_str())]);
    let response = robot.post_form("/authorize", &params).await;
    // By POST, 50 KB is past the body limit of the route (web::body_limits): refused unread.
    assert_eq!(response.status(), 413);
    assert!(location(&response).is_empty(), "a request of 50 KB is not echoed anywhere");
    // By GET, the HTTP layer may refuse so long a request line before the endpoint sees it.
    let response = robot.authorize(&params).await;
    assert!([400, 414, 431].contains(&response.status().as_u16()), "{}", response.status());
    assert!(location(&response).is_empty());

    let long = |n: usize| "x".repeat(n);
    let claims = format!(r#"{{"id_token":{{"x":"{}"}}}}"#, long(5000));
    let cases = [
        ("state", long(513)),
        ("nonce", long(513)),
        ("claims", claims),
        ("login_hint", long(257)),
        ("acr_values", long(257)),
        ("ui_locales", long(65)),
    ];
    for (name, value) in &cases {
        let mut params = base();
        params.retain(|(k, _)| k != name);
        params.push((*name, value.as_str()));
        let response = robot.authorize(&params).await;
        let to = location(&response);
        assert!(to.starts_with(CALLBACK), "{name}: {to}");
        let answer = query_params(&to);
        assert_eq!(answer["error"], "invalid_request", "{name}");
        assert!(answer["error_description"].contains(name), "{name}: {answer:?}");
        assert!(to.len() < 2048, "{name}: nothing long is echoed ({} bytes)", to.len());
    }
    assert_eq!(pending_requests(&app), 0, "nothing stored for a refused request");

    // At the limits, the request is served and stored.
    let (state, nonce) = (long(512), long(512));
    let mut params = base();
    params.retain(|(k, _)| *k != "state" && *k != "nonce");
    params.extend([("state", state.as_str()), ("nonce", nonce.as_str())]);
    let response = robot.authorize(&params).await;
    assert!(location(&response).starts_with("/login"), "{}", location(&response));
    assert_eq!(pending_requests(&app), 1);
}

async fn token_error(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
        "OAuth errors are JSON"
    );
    (status, response.json().await.unwrap())
}

async fn repeated_or_oversized_token_parameters_are_invalid_request_and_spend_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&base()).await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();

    let basic = Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET));
    let exchange = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
    let verifier = "v".repeat(129);
    for extra in [
        ("code", "another-code"),
        ("code", code.as_str()),
        ("grant_type", "refresh_token"),
        ("redirect_uri", "https://attacker.example/cb"),
        ("client_id", DEMO_CLIENT_ID),
        ("code_verifier", verifier.as_str()),
    ] {
        let mut form = exchange.to_vec();
        if extra.0 == "client_id" {
            form.push(extra);
        }
        form.push(extra);
        let (status, body) = token_error(robot.token(&form, basic).await).await;
        assert_eq!(status, 400, "{extra:?}: {body}");
        assert_eq!(body["error"], "invalid_request", "{extra:?}: {body}");
    }
    // None of the refused requests spent the code.
    let response = robot.token(&exchange, basic).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let tokens: Value = response.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();

    // The access token in a form body, twice: refused, even with the same value both times.
    let userinfo = |form: Vec<(&'static str, String)>| robot.client.post(app.url("/userinfo")).form(&form).send();
    let twice =
        userinfo(vec![("access_token", access_token.into()), ("access_token", access_token.into())]).await.unwrap();
    let (status, body) = token_error(twice).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let once = userinfo(vec![("access_token", access_token.into())]).await.unwrap();
    assert_eq!(once.status(), 200);
}

async fn the_demo_upstream_refuses_repeated_parameters(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let client = reqwest::Client::new();
    let token = client
        .post(app.url("/demo-upstream/token"))
        .form(&[("grant_type", "authorization_code"), ("code", "one"), ("code", "two")])
        .send()
        .await
        .unwrap();
    let (status, body) = token_error(token).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let userinfo = client
        .post(app.url("/demo-upstream/userinfo"))
        .form(&[("access_token", "one"), ("access_token", "two")])
        .send()
        .await
        .unwrap();
    let (status, body) = token_error(userinfo).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
}

async fn token_introspection_and_revocation_answer_non_forms_in_oauth_json(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let client = reqwest::Client::new();
    for path in ["/token", "/introspect", "/revoke"] {
        let json = client
            .post(app.url(path))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .json(&serde_json::json!({"grant_type": "authorization_code", "code": "x", "token": "x"}))
            .send()
            .await
            .unwrap();
        let (status, body) = token_error(json).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{path} JSON: {body}");

        let bare = client
            .post(app.url(path))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .body("grant_type=authorization_code&code=x&token=x")
            .send()
            .await
            .unwrap();
        let (status, body) = token_error(bare).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{path} bare: {body}");

        // A form with a charset is a form.
        let charset = client
            .post(app.url(path))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
            .body("grant_type=authorization_code&code=x&redirect_uri=x&token=x")
            .send()
            .await
            .unwrap();
        assert_ne!(charset.status(), 415, "{path}");
        if path == "/token" {
            let (_, body) = token_error(charset).await;
            assert_eq!(body["error"], "invalid_grant", "{path}: the form was read: {body}");
        } else {
            assert_eq!(charset.status(), 200, "{path}");
        }
    }
}

async fn an_unknown_client_and_a_wrong_secret_get_the_same_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let client = reqwest::Client::new();
    let form = [("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", CALLBACK)];
    let mut answers = Vec::new();
    for (id, secret) in [("no-such-client", "whatever"), (DEMO_CLIENT_ID, "wrong-secret"), ("no-such-client", "")] {
        let response = client.post(app.url("/token")).basic_auth(id, Some(secret)).form(&form).send().await.unwrap();
        let challenge = response.headers().get("WWW-Authenticate").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(challenge.as_deref(), Some("Basic realm=\"aidants-idp\""), "{id}");
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    for (id, secret) in [("no-such-client", "whatever"), (DEMO_CLIENT_ID, "wrong-secret")] {
        let mut posted = form.to_vec();
        posted.extend([("client_id", id), ("client_secret", secret)]);
        let response = client.post(app.url("/token")).form(&posted).send().await.unwrap();
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    let first = answers[0].clone();
    assert_eq!(first.0, 401);
    assert!(first.1.contains("invalid_client"), "{}", first.1);
    for answer in &answers {
        assert_eq!(answer, &first, "one answer whatever the cause");
    }
}

/// A client's key server: serves `jwks` at `/jwks` and counts the requests.
async fn failed_client_authentications_hold_the_address_back_and_successes_never_do(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.login.attempts_per_address_per_minute = 3).await else { return };
    seed(&app);
    let client = reqwest::Client::new();
    let introspect = |secret: &'static str| {
        client.post(app.url("/introspect")).basic_auth(DEMO_CLIENT_ID, Some(secret)).form(&[("token", "none")]).send()
    };
    // A relying party that authenticates is never slowed, however often it calls.
    for _ in 0..10 {
        assert_eq!(introspect(DEMO_CLIENT_SECRET).await.unwrap().status(), 200);
    }
    for _ in 0..3 {
        let (status, body) = token_error(introspect("wrong-secret").await.unwrap()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    }
    let held = introspect("wrong-secret").await.unwrap();
    let retry_after: u64 = held.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    let (status, body) = token_error(held).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("temporarily_unavailable")), "{body}");
    // Held back, the right secret waits too (a right guess must not get through), at every
    // endpoint that authenticates clients.
    let (status, _) = token_error(introspect(DEMO_CLIENT_SECRET).await.unwrap()).await;
    assert_eq!(status, 429);
    let token = client
        .post(app.url("/token"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "authorization_code"), ("code", "any"), ("redirect_uri", CALLBACK)])
        .send()
        .await
        .unwrap();
    let (status, body) = token_error(token).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("temporarily_unavailable")), "{body}");
}

async fn key_server(jwks: Value) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (counted, served) = (hits.clone(), Arc::new(jwks));
    let server = HttpServer::new(move || {
        let (counted, served) = (counted.clone(), served.clone());
        App::new().route(
            "/jwks",
            web::get().to(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let body = served.clone();
                async move { HttpResponse::Ok().json(&*body) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/jwks"), hits)
}

async fn a_jwks_uri_is_fetched_once_for_well_formed_assertions_and_its_failures_stay_inside(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let dir = tempfile::tempdir().unwrap();
    idp::keys::generate(dir.path(), SigningAlg::Rs256).unwrap();
    let keys = KeySet::load(dir.path()).unwrap();
    let (jwks_uri, fetches) = key_server(keys.jwks()).await;
    let registration = |jwks_uri: String| ClientRegistration {
        name: "RP private_key_jwt".into(),
        redirect_uris: vec![CALLBACK.into()],
        auth_method: "private_key_jwt".into(),
        jwks_uri: Some(jwks_uri),
        id_token_alg: "RS256".into(),
        subject_type: "public".into(),
        ..Default::default()
    };
    let (id, _) = add_client(&app, registration(jwks_uri));
    let audience = app.url("/introspect");
    let assertion = |iss: &str, jti: &str| {
        let now = chrono::Utc::now().timestamp();
        keys.sign(
            SigningAlg::Rs256,
            "JWT",
            &json!({"iss": iss, "sub": iss, "aud": audience, "jti": jti, "iat": now, "exp": now + 60}),
        )
        .unwrap()
    };
    let client = reqwest::Client::new();
    let introspect = |assertion: String| {
        let request = client.post(app.url("/introspect")).form(&[
            ("token", "some-token"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ]);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    // Junk, and assertions that cannot be this client's, never reach the client's server.
    let other = {
        let now = chrono::Utc::now().timestamp();
        keys.sign(
            SigningAlg::Rs256,
            "JWT",
            &json!({"iss": id, "sub": "someone-else", "aud": audience, "exp": now + 60}),
        )
        .unwrap()
    };
    for junk in
        ["not-a-jwt".to_owned(), "eyJhbGciOiJub25lIn0.e30.".to_owned(), assertion("no-such-client", "j-0"), other]
    {
        let (status, body) = introspect(junk).await;
        assert_eq!(status, 401, "{body}");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 0, "no fetch for assertions that cannot be the client's");

    // Good assertions: one fetch, then the kept key set.
    for jti in ["j-1", "j-2", "j-3"] {
        let (status, body) = introspect(assertion(&id, jti)).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the key set is kept");

    // A key the set does not hold: refused without fetching again within the minute.
    let stranger_dir = tempfile::tempdir().unwrap();
    idp::keys::generate(stranger_dir.path(), SigningAlg::Rs256).unwrap();
    let stranger = KeySet::load(stranger_dir.path()).unwrap();
    for jti in ["k-1", "k-2", "k-3", "k-4"] {
        let now = chrono::Utc::now().timestamp();
        let forged = stranger
            .sign(
                SigningAlg::Rs256,
                "JWT",
                &json!({"iss": id, "sub": id, "aud": audience, "jti": jti, "exp": now + 60}),
            )
            .unwrap();
        let (status, body) = introspect(forged).await;
        assert_eq!(status, 401, "{body}");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "an unknown kid fetches again at most once a minute");

    // A client whose key server is down: the answer names neither the URL nor the failure.
    let internal = "http://127.0.0.1:9/internal-keys".to_owned();
    let (down, _) = add_client(&app, ClientRegistration { name: "RP down".into(), ..registration(internal) });
    let (status, body) = introspect(assertion(&down, "d-1")).await;
    assert_eq!(status, 401);
    assert!(!body.contains("127.0.0.1") && !body.contains("internal-keys") && !body.contains("jwks"), "{body}");
    let (_, unknown_body) = introspect(assertion("no-such-client", "d-2")).await;
    assert_eq!(body, unknown_body, "the same answer as for an unknown client");
}

fn still_signed_in(to: &str) -> bool {
    let answer = query_params(to);
    answer.contains_key("code") && !answer.contains_key("error")
}

async fn silent_authorize(robot: &Robot<'_>) -> String {
    let response = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("prompt", "none"),
        ])
        .await;
    location(&response)
}

async fn an_id_token_hint_alone_does_not_end_another_browsers_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut helper = Robot::new(&app);
    let first = helper.authorize(&base()).await;
    let callback = helper.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();
    let tokens: Value = helper.exchange_demo_code(&code).await.json().await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap().to_owned();
    let logout = format!(
        "/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Flogged-out&state=z"
    );

    // Before: anyone holding the ID token ended the helper's session with one GET.
    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = stranger.get(app.url(&logout)).send().await.unwrap();
    assert_eq!(response.status(), 302, "the stranger is sent back to the relying party");
    assert!(still_signed_in(&silent_authorize(&helper).await), "the helper's session goes on");
    let userinfo = stranger.get(app.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap());
    assert_eq!(userinfo.send().await.unwrap().status(), 200, "and its tokens with it");

    // Another browser with a session of its own is asked, and its confirmation ends its own only.
    let other = Robot::new(&app);
    other.authorize(&base()).await;
    let asked = other.get(&logout).await;
    assert_eq!(asked.status(), 200);
    let page = asked.text().await.unwrap();
    assert!(page.contains("action=\"/logout/confirm\""), "{page}");
    let csrf = crate::robot::input_value(&page, "csrf_token").unwrap();
    let forged = other.post_form("/logout/confirm", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), 403, "the confirmation's CSRF token is checked");
    let confirmed = other.post_form("/logout/confirm", &[("csrf_token", &csrf)]).await;
    assert!(confirmed.status().is_success(), "{}", confirmed.status());
    assert!(still_signed_in(&silent_authorize(&helper).await), "the helper's session goes on");

    // A repeated state could not be told apart: refused, nothing echoed, nothing ended.
    let repeated = helper.get(&format!("{logout}&state=other")).await;
    assert_eq!(repeated.status(), 400);
    assert!(location(&repeated).is_empty());
    assert!(still_signed_in(&silent_authorize(&helper).await));

    // From the helper's own browser, the hint ends the session at once.
    let own = helper.get(&logout).await;
    assert_eq!(own.status(), 302);
    assert_eq!(location(&own), "http://127.0.0.1:8765/logged-out?state=z");
    assert_eq!(query_params(&silent_authorize(&helper).await)["error"], "login_required");
}

async fn metrics_answer_nobody_without_a_configured_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let client = reqwest::Client::new();
    let response = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let guessed = client.get(app.url("/metrics")).bearer_auth("anything").send().await.unwrap();
    assert_eq!(guessed.status(), 404);
    assert!(!guessed.text().await.unwrap().contains("idp_http_requests_total"));
}

async fn a_pairwise_subject_is_keyed_and_the_same_on_every_replica(backend: Backend) {
    use sha2::{Digest, Sha256};
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&base()).await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();
    let tokens: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    let sub = claims["sub"].as_str().unwrap().to_owned();

    // Before: anyone with a usager's id computed the sub every service received.
    let client = {
        let mut conn = app.db.store.conn().unwrap();
        mandate_store::clients::find(&mut conn, DEMO_CLIENT_ID).unwrap().unwrap()
    };
    let computable = Sha256::digest(
        format!("{}|{}|{}", client.sector_identifier, demo.usager_id(0), app.settings.issuer).as_bytes(),
    );
    let computable = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, computable);
    assert_ne!(sub, computable);
    assert_ne!(sub, demo.usager_id(0));

    // Another replica, or this one restarted, on the same database: the same sub.
    let replica = idp::startup::build_state(app.settings.clone()).await.unwrap();
    assert_eq!(replica.subjects.subject_for(&client, &demo.usager_id(0)), sub);
}
