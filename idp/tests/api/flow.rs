//! The whole flow a relying party drives, for each client authentication method, and each
//! error rule a relying party or a helper relies on. On SQLite and PostgreSQL.

use idp::admin::clients::ClientRegistration;
use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_EMAIL};
use idp::keys::{KeySet, SigningAlg};
use mandate_store::Backend;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;
use crate::robot::{add_client, input_value, location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    basic_client_logs_a_helper_in_as_a_usager,
    post_client_gets_tokens,
    private_key_jwt_client_gets_tokens_and_replay_is_refused,
    public_client_must_use_pkce,
    unregistered_redirect_uri_shows_a_page_and_never_redirects,
    reused_code_fails_and_revokes_what_it_gave,
    wrong_pkce_verifier_is_refused,
    expired_code_is_refused,
    mandate_revoked_between_code_and_token_is_refused,
    mandate_revoked_before_userinfo_stops_the_token,
    wrong_client_secret_is_refused_with_a_challenge,
    repeated_failures_lock_the_helper_out,
    forms_without_csrf_token_are_refused,
    prompt_none_reuses_the_session_or_says_login_required,
    demarche_not_covered_is_never_offered,
    refresh_tokens_rotate_and_reuse_revokes,
);

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn demo_params<'a>(state: &'a str, nonce: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", scope),
        ("state", state),
        ("nonce", nonce),
    ]
}

/// Logs in and chooses usager 0 for `argent`; returns the authorization code.
async fn demo_code(robot: &mut Robot<'_>, usager: &str) -> String {
    let first = robot.authorize(&demo_params("st-1", "n-1", "openid profile email offline_access")).await;
    let callback = robot.complete(first, usager, "argent").await;
    let params = query_params(&callback);
    assert_eq!(params.get("state").map(String::as_str), Some("st-1"));
    params["code"].clone()
}

async fn basic_client_logs_a_helper_in_as_a_usager(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot.authorize(&demo_params("st-1", "n-1", "openid profile email")).await;
    assert_eq!(first.status(), 303);
    assert!(location(&first).starts_with("/login?request="), "{}", location(&first));
    let cookie = first.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let params = query_params(&callback);
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], app.settings.issuer);
    assert!(params["code"].len() >= 43);

    let response = robot.exchange_demo_code(&params["code"]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["acr"], "eidas1");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["act"]["sub"], demo.aidant_id());
    assert_eq!(claims["act"]["email"], DEMO_EMAIL);
    assert_eq!(claims["act"]["organisation"]["siret"], "21750001600019");
    assert_eq!(claims["mandate"]["demarche"], "argent");
    assert!(claims["mandate"]["expires_at"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    assert_ne!(claims["sub"], demo.usager_id(0), "pairwise by default");
    let expected_at_hash = b64url(&Sha256::digest(access.as_bytes())[..16]);
    assert_eq!(claims["at_hash"], expected_at_hash);
    assert!(claims["sid"].is_string() && claims["auth_time"].is_i64());

    let userinfo: Value =
        robot.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().json().await.unwrap();
    assert_eq!(userinfo["sub"], claims["sub"]);
    assert_eq!(userinfo["given_name"], "Angela Claire Louise");
    assert_eq!(userinfo["birthdate"], "1962-08-24");
    assert_eq!(userinfo["email"], "angela.dubois@example.fr");
    assert_eq!(userinfo["act"], claims["act"]);
    assert_eq!(userinfo["mandate"], claims["mandate"]);

    // POST with the token in the form body, and never in the query.
    let by_body = robot.client.post(app.url("/userinfo")).form(&[("access_token", access)]).send().await.unwrap();
    assert_eq!(by_body.status(), 200);
    let in_query = robot.get(&format!("/userinfo?access_token={access}")).await;
    assert_eq!(in_query.status(), 400);

    let mut conn = app.db.store.conn().unwrap();
    let used =
        mandate_store::journal::recent(&mut conn, Some(mandate_store::journal::JournalAction::AuthorisationUsed), 10)
            .unwrap();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].client_id.as_deref(), Some(DEMO_CLIENT_ID));
    assert_eq!(used[0].demarche.map(mandate_store::Demarche::key), Some("argent"));
    assert_eq!(used[0].usager_id.as_deref(), Some(demo.usager_id(0).as_str()));
}

fn registration(method: &str) -> ClientRegistration {
    ClientRegistration {
        name: format!("RP {method}"),
        redirect_uris: vec![CALLBACK.into()],
        auth_method: method.into(),
        id_token_alg: "RS256".into(),
        subject_type: "public".into(),
        ..Default::default()
    }
}

async fn code_for(robot: &mut Robot<'_>, client_id: &str, usager: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s"),
    ];
    params.extend_from_slice(extra);
    let first = robot.authorize(&params).await;
    let callback = robot.complete(first, usager, "argent").await;
    query_params(&callback).get("code").cloned().unwrap_or_else(|| panic!("no code in {callback}"))
}

async fn post_client_gets_tokens(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (id, secret) = add_client(&app, registration("client_secret_post"));
    let secret = secret.unwrap();
    let mut robot = Robot::new(&app);
    let code = code_for(&mut robot, &id, &demo.usager_id(0), &[]).await;
    let response = robot
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), &id).await;
    assert_eq!(claims["sub"], demo.usager_id(0), "registered public: the usager's id");
}

async fn private_key_jwt_client_gets_tokens_and_replay_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let client_keys_dir = tempfile::tempdir().unwrap();
    idp::keys::generate(client_keys_dir.path(), SigningAlg::Rs256).unwrap();
    let client_keys = KeySet::load(client_keys_dir.path()).unwrap();
    let (id, _) = add_client(
        &app,
        ClientRegistration { jwks: Some(client_keys.jwks().to_string()), ..registration("private_key_jwt") },
    );
    let mut robot = Robot::new(&app);
    let now = chrono::Utc::now().timestamp();
    let assertion = client_keys
        .sign(
            SigningAlg::Rs256,
            "JWT",
            &json!({"iss": id, "sub": id, "aud": app.url("/token"), "jti": "jti-1", "iat": now, "exp": now + 60}),
        )
        .unwrap();
    let form = |code: &str| -> Vec<(String, String)> {
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("client_id", id.as_str()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let code = code_for(&mut robot, &id, &demo.usager_id(0), &[]).await;
    let response = robot.client.post(app.url("/token")).form(&form(&code)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let code = code_for(&mut robot, &id, &demo.usager_id(0), &[]).await;
    let replay = robot.client.post(app.url("/token")).form(&form(&code)).send().await.unwrap();
    assert_eq!(replay.status(), 401);
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_client");
}

async fn public_client_must_use_pkce(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (id, _) = add_client(&app, registration("none"));
    let mut robot = Robot::new(&app);
    let without = robot
        .authorize(&[
            ("client_id", &id),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    assert_eq!(query_params(&location(&without))["error"], "invalid_request");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let code = code_for(
        &mut robot,
        &id,
        &demo.usager_id(0),
        &[("code_challenge", challenge), ("code_challenge_method", "S256")],
    )
    .await;
    let response = robot
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("client_id", &id),
                ("code_verifier", verifier),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    robot.verify_id_token(tokens["id_token"].as_str().unwrap(), &id).await;
}

async fn unregistered_redirect_uri_shows_a_page_and_never_redirects(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    for (client_id, redirect) in
        [(DEMO_CLIENT_ID, "http://127.0.0.1:8765/callback/other"), ("unknown-client", CALLBACK)]
    {
        let response = robot
            .authorize(&[
                ("client_id", client_id),
                ("redirect_uri", redirect),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "s"),
            ])
            .await;
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("Location").is_none(), "must never redirect");
        assert!(response.text().await.unwrap().contains("<h1>"), "a page for the person");
    }
}

async fn reused_code_fails_and_revokes_what_it_gave(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    let first: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(robot.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().status(), 200);
    let second = robot.exchange_demo_code(&code).await;
    assert_eq!(second.status(), 400);
    assert_eq!(second.headers()["content-type"], "application/json");
    assert_eq!(second.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let after = robot.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(after.status(), 401);
    assert!(after.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let refresh = robot
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(refresh.status(), 400, "the refresh token went with the code");
}

async fn wrong_pkce_verifier_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let code = code_for(
        &mut robot,
        DEMO_CLIENT_ID,
        &demo.usager_id(0),
        &[("code_challenge", challenge), ("code_challenge_method", "S256")],
    )
    .await;
    let wrong = robot
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"),
            ],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

async fn expired_code_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    app.db.execute_sql("UPDATE authorization_codes SET expires_at = '2000-01-01 00:00:00'");
    let response = robot.exchange_demo_code(&code).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

async fn revoke_demo_mandate(app: &TestApp, demo: &crate::robot::Demo) {
    let mut conn = app.db.store.conn().unwrap();
    let org = demo.seed["organisation"]["id"].as_str().unwrap();
    let live =
        mandate_store::mandates::live_authorisations(&mut conn, org, &demo.usager_id(0), mandate_store::now()).unwrap();
    mandate_store::mandates::revoke(&mut conn, &live[0].mandate_id, &demo.aidant_id(), mandate_store::now()).unwrap();
}

async fn mandate_revoked_between_code_and_token_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    revoke_demo_mandate(&app, &demo).await;
    let response = robot.exchange_demo_code(&code).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

async fn mandate_revoked_before_userinfo_stops_the_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    let tokens: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    revoke_demo_mandate(&app, &demo).await;
    let response = robot
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
}

async fn wrong_client_secret_is_refused_with_a_challenge(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    let response = robot
        .token(
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)],
            Some((DEMO_CLIENT_ID, "not-the-secret-0123456789012345678901")),
        )
        .await;
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
}

async fn repeated_failures_lock_the_helper_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let first = robot.authorize(&demo_params("s", "n", "openid")).await;
    let login_url = location(&first);
    let request = login_url.split("request=").nth(1).unwrap().to_owned();
    let mut last = None;
    for _ in 0..app.settings.login.max_failed_attempts {
        let html = robot.get(&login_url).await.text().await.unwrap();
        let csrf = input_value(&html, "csrf_token").unwrap();
        let response = robot
            .post_form(
                "/login",
                &[("csrf_token", &csrf), ("request", &request), ("email", DEMO_EMAIL), ("password", "wrong password!")],
            )
            .await;
        last = Some(response.status());
    }
    // The last free failure says to wait.
    assert_eq!(last, Some(reqwest::StatusCode::TOO_MANY_REQUESTS));
    // Even the right password is refused while held back, with a message that says so.
    let html = robot.get(&login_url).await.text().await.unwrap();
    let csrf = input_value(&html, "csrf_token").unwrap();
    let response = robot
        .post_form(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("email", DEMO_EMAIL),
                ("password", idp::admin::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert!(response.text().await.unwrap().contains("bloqué"));
}

async fn forms_without_csrf_token_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let first = robot.authorize(&demo_params("s", "n", "openid")).await;
    let request = location(&first).split("request=").nth(1).unwrap().to_owned();
    let response = robot
        .post_form(
            "/login",
            &[("request", &request), ("email", DEMO_EMAIL), ("password", idp::admin::demo::DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 403);
    let forged = robot
        .post_form(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("request", &request),
                ("email", DEMO_EMAIL),
                ("password", idp::admin::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
}

async fn prompt_none_reuses_the_session_or_says_login_required(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let stranger = Robot::new(&app);
    let mut params = demo_params("st-none", "n", "openid");
    params.push(("prompt", "none"));
    let refused = stranger.authorize(&params).await;
    let refused_params = query_params(&location(&refused));
    assert_eq!(refused_params["error"], "login_required");
    assert_eq!(refused_params["state"], "st-none");
    assert!(!refused_params.contains_key("code"));

    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    let first: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let silent = robot.authorize(&params).await;
    assert_eq!(silent.status(), 302);
    let silent_code = query_params(&location(&silent))["code"].clone();
    let second: Value = robot.exchange_demo_code(&silent_code).await.json().await.unwrap();
    let a = robot.verify_id_token(first["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    let b = robot.verify_id_token(second["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert_eq!(a["sub"], b["sub"]);
    assert_eq!(a["auth_time"], b["auth_time"]);
}

async fn demarche_not_covered_is_never_offered(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let (id, secret) = add_client(
        &app,
        ClientRegistration { demarches: vec![mandate_store::Demarche::Justice], ..registration("client_secret_basic") },
    );
    let _ = secret;
    let mut robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", &id),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    // The mandates cover argent, logement, social and papiers; the service accepts only justice:
    // nobody can be chosen, and the page says so, with a way back to the service.
    let (status, html) = robot.log_in_until(first, "name=\"choix\"").await;
    assert_eq!(status, 403, "a démarche no mandate covers was offered: {html}");
    assert!(html.contains("ne peut être représentée sur ce service"), "{html}");
    assert!(!html.contains("name=\"choix\""));
    assert!(html.contains("action=\"/delegation/annuler\""), "{html}");
}

async fn refresh_tokens_rotate_and_reuse_revokes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let code = demo_code(&mut robot, &demo.usager_id(0)).await;
    let first: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let old_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    // Another client presenting it is refused, and the token stays usable by its own client.
    let (other, other_secret) = add_client(&app, registration("client_secret_basic"));
    let foreign = robot
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", &old_refresh)],
            Some((&other, other_secret.as_deref().unwrap())),
        )
        .await;
    assert_eq!(foreign.status(), 400);
    assert_eq!(foreign.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let rotated = robot
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", &old_refresh)],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], first["refresh_token"]);
    let reuse = robot
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", &old_refresh)],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(reuse.status(), 400);
    let after = robot
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(rotated["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401, "a reused refresh token revokes the whole grant");
}
