//! More of what relying parties and helpers rely on: ES256 and signed userinfo, introspection
//! and revocation, FranceConnect's claim formats and acr rule, languages and hints, session
//! idling, logout. On SQLite and PostgreSQL.

use idp::admin::clients::ClientRegistration;
use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_EMAIL};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::robot::{add_client, location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    es256_client_gets_es256_tokens_and_a_signed_userinfo,
    introspection_speaks_of_the_delegation_and_revocation_ends_it,
    franceconnect_claim_formats_and_acr_rule,
    english_pages_and_login_hint,
    an_idle_session_asks_for_the_one_time_code_again,
    prompt_login_asks_for_the_password_again,
    logout_redirects_only_to_registered_uris_and_ends_the_session,
    metrics_count_requests_codes_exchanges_and_logins,
    a_helper_of_two_organisations_switches_and_acts_for_the_second,
);

async fn flow(robot: &mut Robot<'_>, client_id: &str, usager: &str, demarche: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("state", "s"),
        ("nonce", "n"),
    ];
    if !extra.iter().any(|(k, _)| *k == "scope") {
        params.push(("scope", "openid profile"));
    }
    params.extend_from_slice(extra);
    let first = robot.authorize(&params).await;
    let callback = robot.complete(first, usager, demarche).await;
    let code = query_params(&callback)["code"].clone();
    let response = if client_id == DEMO_CLIENT_ID { robot.exchange_demo_code(&code).await } else { unreachable!() };
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn es256_client_gets_es256_tokens_and_a_signed_userinfo(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (id, secret) = add_client(
        &app,
        ClientRegistration {
            name: "FranceConnect".into(),
            redirect_uris: vec![CALLBACK.into()],
            auth_method: "client_secret_post".into(),
            id_token_alg: "ES256".into(),
            userinfo_alg: Some("ES256".into()),
            subject_type: "pairwise".into(),
            ..Default::default()
        },
    );
    let secret = secret.unwrap();
    assert!(secret.len() >= 32);
    let mut robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", &id),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid identite_pivot"),
            ("state", "s"),
            ("nonce", "n"),
        ])
        .await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();
    let tokens: Value = robot
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
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(decode_header(id_token).unwrap().alg, Algorithm::ES256);
    let claims = robot.verify_id_token(id_token, &id).await;

    let response = robot
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/jwt");
    let jwt = response.text().await.unwrap();
    let jwks: JwkSet = robot.get("/jwks").await.json().await.unwrap();
    let header = decode_header(&jwt).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[&id]);
    validation.set_issuer(&[&app.settings.issuer]);
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let userinfo = decode::<Value>(&jwt, &key, &validation).unwrap().claims;
    assert_eq!(userinfo["sub"], claims["sub"]);
    assert_eq!(userinfo["birthplace"], "75107");
    assert_eq!(userinfo["act"]["sub"], demo.aidant_id());
    assert!(userinfo.get("nonce").is_none());
}

async fn introspection_speaks_of_the_delegation_and_revocation_ends_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let tokens = flow(&mut robot, DEMO_CLIENT_ID, &demo.usager_id(0), "logement", &[]).await;
    let access = tokens["access_token"].as_str().unwrap();
    let introspect = |token: String| {
        let request = robot
            .client
            .post(app.url("/introspect"))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .form(&[("token", token)]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let active = introspect(access.to_owned()).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["mandate"]["demarche"], "logement");
    assert_eq!(active["act"]["sub"], demo.aidant_id());
    assert_eq!(active["client_id"], DEMO_CLIENT_ID);

    // Another client learns nothing about this token.
    let (other, other_secret) = add_client(
        &app,
        ClientRegistration {
            name: "Other".into(),
            redirect_uris: vec![CALLBACK.into()],
            auth_method: "client_secret_basic".into(),
            id_token_alg: "RS256".into(),
            subject_type: "pairwise".into(),
            ..Default::default()
        },
    );
    let foreign: Value = robot
        .client
        .post(app.url("/introspect"))
        .basic_auth(&other, other_secret.as_deref())
        .form(&[("token", access)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(foreign["active"], false);
    // Nor can it revoke it.
    robot
        .client
        .post(app.url("/revoke"))
        .basic_auth(&other, other_secret.as_deref())
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(introspect(access.to_owned()).await["active"], true);

    let revoked = robot
        .client
        .post(app.url("/revoke"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(access.to_owned()).await["active"], false);
    assert_eq!(robot.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().status(), 401);
    let unauthenticated = robot.client.post(app.url("/introspect")).form(&[("token", access)]).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

async fn franceconnect_claim_formats_and_acr_rule(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    // João was born abroad, on an unknown day: FranceConnect's formats say so.
    let tokens = flow(
        &mut robot,
        DEMO_CLIENT_ID,
        &demo.usager_id(1),
        "papiers",
        &[("scope", "openid identite_pivot birth email"), ("acr_values", "eidas1")],
    )
    .await;
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert_eq!(claims["acr"], "eidas1");
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
    assert_eq!(userinfo["birthdate"], "1948-00-00");
    assert_eq!(userinfo["birthplace"], "");
    assert_eq!(userinfo["birthcountry"], "99139");
    assert_eq!(userinfo["gender"], "male");
    assert_eq!(userinfo["email"], "joao.silva@example.fr");
    assert!(userinfo.get("preferred_username").is_none(), "not asked");

    // A higher eIDAS level than we reach is refused, never answered with a weaker token.
    let refused = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("acr_values", "eidas2"),
        ])
        .await;
    let params = query_params(&location(&refused));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "s");
    assert_eq!(params["iss"], app.settings.issuer);
}

async fn english_pages_and_login_hint(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("ui_locales", "en fr"),
            ("login_hint", DEMO_EMAIL),
        ])
        .await;
    let html = robot.get(&location(&first)).await.text().await.unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Helper sign-in"), "{html}");
    assert!(html.contains(&format!("value=\"{DEMO_EMAIL}\"")), "login_hint pre-fills the email");
    let french = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    let html = robot.get(&location(&french)).await.text().await.unwrap();
    assert!(html.contains("lang=\"fr\"") && html.contains("Connexion aidant"));
}

async fn an_idle_session_asks_for_the_one_time_code_again(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    flow(&mut robot, DEMO_CLIENT_ID, &demo.usager_id(0), "argent", &[]).await;
    // Idle 40 minutes: past the code's limit (30), within the sign-in's (120).
    let ago = (chrono::Utc::now().naive_utc() - chrono::Duration::minutes(40)).format("%Y-%m-%d %H:%M:%S");
    app.db.execute_sql(&format!("UPDATE sessions SET last_seen_at = '{ago}', second_factor_at = '{ago}'"));
    let again = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    assert!(location(&again).starts_with("/login/otp?"), "only the second factor is asked again: {}", location(&again));
    // And it completes with a code, without the password.
    let callback = robot.complete(again, &demo.usager_id(0), "argent").await;
    assert!(query_params(&callback).contains_key("code"));
}

async fn prompt_login_asks_for_the_password_again(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = flow(&mut robot, DEMO_CLIENT_ID, &demo.usager_id(0), "argent", &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("prompt", "login"),
        ])
        .await;
    assert!(location(&again).starts_with("/login?"), "{}", location(&again));
    let callback = robot.complete(again, &demo.usager_id(0), "argent").await;
    let second: Value = robot.exchange_demo_code(&query_params(&callback)["code"]).await.json().await.unwrap();
    let a = robot.verify_id_token(first["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    let b = robot.verify_id_token(second["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert!(b["auth_time"].as_i64() > a["auth_time"].as_i64());
}

async fn logout_redirects_only_to_registered_uris_and_ends_the_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let tokens = flow(&mut robot, DEMO_CLIENT_ID, &demo.usager_id(0), "argent", &[]).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let bad = robot
        .get(&format!("/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F&state=z"))
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.headers().get("Location").is_none());
    let good = robot
        .get(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Flogged-out&state=z"
        ))
        .await;
    assert_eq!(good.status(), 302);
    assert_eq!(location(&good), "http://127.0.0.1:8765/logged-out?state=z");
    assert_eq!(
        robot
            .client
            .get(app.url("/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let silent = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("prompt", "none"),
        ])
        .await;
    assert_eq!(query_params(&location(&silent))["error"], "login_required");
    // Without a hint, the person is asked first.
    let ask = robot.get("/logout").await;
    assert_eq!(ask.status(), 200);
    assert!(ask.text().await.unwrap().contains("action=\"/logout/confirm\""));
}

async fn metrics_count_requests_codes_exchanges_and_logins(backend: Backend) {
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("metrics-token");
    std::fs::write(&token_file, "scraper-token-0123456789\n").unwrap();
    let Some(app) = TestApp::spawn_with(backend, |s| s.metrics.token_file = token_file.display().to_string()).await
    else {
        return;
    };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    flow(&mut robot, DEMO_CLIENT_ID, &demo.usager_id(0), "argent", &[]).await;
    let refused = robot
        .token(
            &[("grant_type", "authorization_code"), ("code", "nope"), ("redirect_uri", CALLBACK)],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(refused.status(), 400);
    // Before: anyone read them. Now only the scraper with the token.
    let anonymous = robot.get("/metrics").await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let wrong = robot.client.get(app.url("/metrics")).bearer_auth("scraper-token-0123456788").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let response = robot.client.get(app.url("/metrics")).bearer_auth("scraper-token-0123456789").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("idp_authorization_codes_issued_total 1"), "{text}");
    assert!(text.contains(r#"idp_token_exchanges_total{grant_type="authorization_code",outcome="ok"} 1"#), "{text}");
    assert!(
        text.contains(r#"idp_token_exchanges_total{grant_type="authorization_code",outcome="invalid_grant"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"idp_login_steps_total{outcome="ok",step="otp"} 1"#), "{text}");
    assert!(text.contains("idp_http_requests_total"), "{text}");
    // One flow started and answered with a code; latency per route; the pool as configured.
    assert!(text.contains("idp_authorization_flows_started_total 1"), "{text}");
    assert!(text.contains(r#"idp_authorization_flows_completed_total{outcome="code"} 1"#), "{text}");
    assert!(text.contains(r#"idp_http_requests_duration_seconds_bucket{endpoint="/token""#), "{text}");
    let max = app.settings.database.max_connections;
    assert!(text.contains(&format!("idp_db_pool_max_connections {max}")), "{text}");
    let open = text.lines().find_map(|l| l.strip_prefix("idp_db_pool_connections ")).expect("open connections");
    assert!((1..=i64::from(max)).contains(&open.parse::<i64>().unwrap()), "{text}");
}

async fn a_helper_of_two_organisations_switches_and_acts_for_the_second(backend: Backend) {
    use mandate_store::{aidants, mandates, now, organisations, usagers, Demarche, DurationKind, Siret};
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (second, marie) = {
        let mut conn = app.db.store.conn().unwrap();
        let second = organisations::create(
            &mut conn,
            organisations::NewOrganisation {
                name: "CCAS de Lyon".into(),
                siret: Siret::parse("21690123100011").unwrap(),
                address: "1 place de la Comédie".into(),
                postcode: "69001".into(),
                city: "Lyon".into(),
                organisation_type: mandate_store::OrganisationType::FranceServices,
                department: mandate_store::Department::parse("69").unwrap(),
                demarches: mandate_store::Demarche::ALL.to_vec(),
            },
            now(),
        )
        .unwrap();
        aidants::add_to_organisation(&mut conn, &demo.aidant_id(), &second.id).unwrap();
        let marie = usagers::create(
            &mut conn,
            usagers::NewUsager {
                given_name: "Marie".into(),
                family_name: "LEROY".into(),
                birthdate: "1975-01-15".into(),
                gender: "female".into(),
                birthplace: "69123".into(),
                birthcountry: "99100".into(),
                email: "marie.leroy@example.fr".into(),
                upstream_issuer: "https://upstream.example.fr".into(),
                upstream_subject: "marie".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        mandates::create(
            &mut conn,
            mandates::NewMandate {
                organisation_id: second.id.clone(),
                usager_id: marie.id.clone(),
                aidant_id: demo.aidant_id(),
                demarches: vec![Demarche::Argent],
                duration: DurationKind::Month,
                custom_expires_at: None,
                is_remote: false,
                consent_proof: None,
            },
            now(),
        )
        .unwrap();
        (second, marie)
    };
    let mut robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .await;
    // Log in, up to the choice page of the current (first) organisation.
    let (_, html) = robot.log_in_until(first, "name=\"choix\"").await;
    assert!(!html.contains(&marie.id), "another organisation's usager is not offered");
    assert!(html.contains(&format!("value=\"{}\"", second.id)), "the switch offers the second organisation");
    let csrf = crate::robot::input_value(&html, "csrf_token").unwrap();
    let request = crate::robot::input_value(&html, "request").unwrap();
    let switched = robot
        .post_form(
            "/delegation/organisation",
            &[("csrf_token", &csrf), ("request", &request), ("organisation", &second.id)],
        )
        .await;
    assert_eq!(switched.status(), 303);
    let page = robot.get(&location(&switched)).await;
    let callback = robot.complete(page, &marie.id, "argent").await;
    let tokens: Value = robot.exchange_demo_code(&query_params(&callback)["code"]).await.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), DEMO_CLIENT_ID).await;
    assert_eq!(claims["act"]["organisation"]["id"], second.id);
    assert_eq!(claims["act"]["organisation"]["name"], "CCAS de Lyon");
    let mut conn = app.db.store.conn().unwrap();
    let switches =
        mandate_store::journal::count(&mut conn, mandate_store::journal::JournalAction::OrganisationSwitched).unwrap();
    assert_eq!(switches, 1);
}
