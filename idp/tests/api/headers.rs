//! Safe by default: the security headers on every kind of answer (a page, a token response, a
//! form_post response, a 404, a static file), HSTS only behind an https issuer; unknown paths
//! and methods, and failures, answered with a page for people and JSON for programs, showing no
//! internals; no inline script or style in any template; and a helper idle past
//! `session.sign_in_after_idle_minutes` signing in again. On SQLite and PostgreSQL.

use std::path::Path;

use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::{stderr, TestApp};
use crate::robot::{location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    every_kind_of_answer_carries_the_security_headers,
    strict_transport_security_only_behind_an_https_issuer,
    unknown_paths_and_methods_answer_people_with_a_page_and_programs_with_json,
    a_server_failure_shows_no_internals,
    a_helper_idle_past_the_sign_in_limit_gives_the_password_again,
);

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or_else(|| panic!("no {name} header"))
}

/// The headers every answer carries, whatever it is.
#[track_caller]
fn assert_security_headers(response: &reqwest::Response, what: &str) {
    assert_eq!(header(response, "content-security-policy"), CSP, "{what}");
    assert_eq!(header(response, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header(response, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(response, "x-frame-options"), "DENY", "{what}");
    assert!(response.headers().get("strict-transport-security").is_none(), "{what}: the issuer is http");
}

fn demo_request(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
        ("nonce", "n"),
    ];
    params.extend_from_slice(extra);
    params
}

async fn every_kind_of_answer_carries_the_security_headers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);

    let page = robot.get("/login").await;
    assert_eq!(page.status(), 200);
    assert_security_headers(&page, "the login page");
    assert_eq!(header(&page, "cache-control"), "no-store", "pages are not stored");

    let stylesheet = robot.get("/static/idp.css").await;
    assert_eq!(stylesheet.status(), 200);
    assert_security_headers(&stylesheet, "the stylesheet");
    assert_eq!(header(&stylesheet, "cache-control"), "public, max-age=3600", "static files keep theirs");
    let script = robot.get("/static/form-post.js").await;
    assert_eq!(script.status(), 200);
    assert!(header(&script, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&script, "cache-control"), "public, max-age=3600");
    assert!(script.text().await.unwrap().contains(".submit()"));

    let missing = robot.get("/nulle-part").await;
    assert_eq!(missing.status(), 404);
    assert_security_headers(&missing, "a 404 page");
    assert_eq!(header(&missing, "cache-control"), "no-store");

    // A whole delegation, and the token response that ends it.
    let first = robot.authorize(&demo_request(&[])).await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();
    let tokens = robot.exchange_demo_code(&code).await;
    assert_eq!(tokens.status(), 200);
    assert_security_headers(&tokens, "a token response");
    assert_eq!(header(&tokens, "cache-control"), "no-store", "RFC 6749 §5.1");
    let failed = robot.token(&[("grant_type", "authorization_code"), ("code", &code)], None).await;
    assert_eq!(failed.status(), 401);
    assert_security_headers(&failed, "a refused token request");

    // The form_post response posts itself through a script file, and says how without scripts.
    let form_post = robot.authorize(&demo_request(&[("prompt", "none"), ("response_mode", "form_post")])).await;
    assert_eq!(form_post.status(), 200);
    assert_security_headers(&form_post, "a form_post response");
    assert_eq!(header(&form_post, "cache-control"), "no-store");
    let html = form_post.text().await.unwrap();
    assert!(html.contains("<script src=\"/static/form-post.js\" defer></script>"), "{html}");
    assert!(html.contains(&format!("action=\"{CALLBACK}\" id=\"reponse-autorisation\"")), "{html}");
    assert!(html.contains("<noscript><button type=\"submit\">"), "{html}");
    assert!(!html.contains("onload"), "{html}");

    // Discovery keeps its own cache time, and gains the headers.
    let discovery = robot.get("/.well-known/openid-configuration").await;
    assert_security_headers(&discovery, "discovery");
    assert_eq!(header(&discovery, "cache-control"), "public, max-age=300");
}

async fn strict_transport_security_only_behind_an_https_issuer(backend: Backend) {
    // The public URL is https (a reverse proxy ends TLS); the server itself listens on http.
    let Some(app) = TestApp::spawn_with(backend, |s| s.issuer = "https://aidants.example.gouv.fr".into()).await else {
        return;
    };
    for path in ["/", "/static/idp.css", "/nulle-part", "/jwks"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(header(&response, "strict-transport-security"), "max-age=63072000", "{path}");
        assert_eq!(header(&response, "content-security-policy"), CSP, "{path}");
    }
}

async fn unknown_paths_and_methods_answer_people_with_a_page_and_programs_with_json(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let send = |method: reqwest::Method, path: &str, accept: &str| {
        app.client.request(method, app.url(path)).header("Accept", accept.to_owned()).send()
    };

    // People: a page in plain French, with a way back.
    let not_found = send(reqwest::Method::GET, "/espace-aidant/nulle-part", browser_accept).await.unwrap();
    assert_eq!(not_found.status(), 404);
    assert!(header(&not_found, "content-type").starts_with("text/html"));
    let page = not_found.text().await.unwrap();
    assert!(page.contains("<html lang=\"fr\">") && page.contains("<h1>Page introuvable</h1>"), "{page}");
    assert!(page.contains("href=\"/\">Revenir à l&#39;accueil</a>"), "{page}");
    let refused = send(reqwest::Method::PUT, "/login", browser_accept).await.unwrap();
    assert_eq!(refused.status(), 405);
    let page = refused.text().await.unwrap();
    assert!(page.contains("<h1>Cette page ne s&#39;ouvre pas ainsi</h1>") && page.contains("href=\"/\""), "{page}");

    // In English for a browser that chose it.
    let english = app
        .client
        .get(app.url("/nulle-part"))
        .header("Accept", browser_accept)
        .header("Cookie", "idp_lang=en")
        .send()
        .await
        .unwrap();
    let page = english.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains("<h1>Page not found</h1>"), "{page}");

    // Programs: JSON in RFC 6749's shape, on API paths whatever they accept, and anywhere for a
    // client that asks for JSON only.
    for (method, path, accept, status, error) in [
        (reqwest::Method::GET, "/token", browser_accept, 405, "invalid_request"),
        (reqwest::Method::DELETE, "/userinfo", "*/*", 405, "invalid_request"),
        (reqwest::Method::GET, "/.well-known/nothing-here", browser_accept, 404, "not_found"),
        (reqwest::Method::GET, "/jwks/other", "*/*", 404, "not_found"),
        // The demo upstream provider does not exist outside demo mode.
        (reqwest::Method::POST, "/demo-upstream/token", "*/*", 404, "not_found"),
        (reqwest::Method::GET, "/nulle-part", "application/json", 404, "not_found"),
    ] {
        let response = send(method.clone(), path, accept).await.unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        assert!(header(&response, "content-type").starts_with("application/json"), "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{method} {path}: {body}");
        assert!(body["error_description"].is_string(), "{body}");
    }

    // A token request that is not a form is the endpoint's own OAuth error (RFC 6749 §5.2: 400
    // invalid_request), not actix's 415 (protocol_attacks.rs has the other endpoints).
    let unreadable = app.client.post(app.url("/token")).json(&serde_json::json!({"grant_type": "x"})).send().await;
    let unreadable = unreadable.unwrap();
    assert_eq!(unreadable.status(), 400);
    let body: Value = unreadable.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
    // The OAuth errors of the endpoints themselves are as they were.
    let refused: Value = app
        .client
        .post(app.url("/token"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refused["error"], "invalid_client", "{refused}");
}

async fn a_server_failure_shows_no_internals(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    // A value outside its column's set, as someone with database access could write it: reading
    // the client fails inside the store.
    app.db.execute_sql(&format!(
        "UPDATE clients SET demarches = '[\"argent\",\"impots_secret_column_value\"]' WHERE id = '{DEMO_CLIENT_ID}'"
    ));
    let internals = ["impots_secret_column_value", "demarches", "CorruptRow", "corrupt", "clients", "SELECT", "diesel"];

    let robot = Robot::new(&app);
    let page = robot.authorize(&demo_request(&[])).await;
    assert_eq!(page.status(), 500);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert_security_headers(&page, "a 500 page");
    let html = page.text().await.unwrap();
    assert!(html.contains("Le service rencontre un problème"), "{html}");
    for word in internals {
        assert!(!html.contains(word), "{word} in {html}");
    }

    let tokens = robot
        .token(
            &[("grant_type", "authorization_code"), ("code", "c"), ("redirect_uri", CALLBACK)],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await;
    assert_eq!(tokens.status(), 500);
    let body = tokens.text().await.unwrap();
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "server_error", "{body}");
    for word in internals {
        assert!(!body.contains(word), "{word} in {body}");
    }
}

/// `YYYY-MM-DD HH:MM:SS`, `minutes` ago: a timestamp both backends read.
fn minutes_ago(minutes: i64) -> String {
    (chrono::Utc::now().naive_utc() - chrono::Duration::minutes(minutes)).format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn a_helper_idle_past_the_sign_in_limit_gives_the_password_again(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.session.idle_minutes = 20;
        s.session.sign_in_after_idle_minutes = 90;
    })
    .await
    else {
        return;
    };
    seed(&app);
    let mut robot = Robot::new(&app);
    let (status, _) = robot.log_in_until(robot.get("/login").await, "class=\"space-nav\"").await;
    assert_eq!(status, 200, "signed in, in the helper's space");

    // Idle past the code's limit, not the sign-in's: the one-time code only.
    let ago = minutes_ago(21);
    app.db.execute_sql(&format!("UPDATE sessions SET last_seen_at = '{ago}', second_factor_at = '{ago}'"));
    let response = robot.get("/espace-aidant").await;
    assert_eq!((response.status().as_u16(), location(&response).as_str()), (303, "/login/otp"));

    // Idle past the sign-in limit: the password again, from the space, from a relying party's
    // request, and from the one-time code page itself.
    let ago = minutes_ago(91);
    app.db.execute_sql(&format!("UPDATE sessions SET last_seen_at = '{ago}', second_factor_at = '{ago}'"));
    let response = robot.get("/espace-aidant").await;
    assert_eq!((response.status().as_u16(), location(&response).as_str()), (303, "/login"));
    let response = robot.authorize(&demo_request(&[])).await;
    assert!(location(&response).starts_with("/login?request="), "{}", location(&response));
    let response = robot.get("/login/otp").await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/login?"), "{}", location(&response));
    let silent = robot.authorize(&demo_request(&[("prompt", "none")])).await;
    assert_eq!(query_params(&location(&silent))["error"], "login_required");

    // Signing in again (password, then code) opens the space.
    let (status, _) = robot.log_in_until(robot.get("/espace-aidant").await, "class=\"space-nav\"").await;
    assert_eq!(status, 200);
}

#[test]
fn a_sign_in_limit_shorter_than_the_code_limit_stops_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("serve")
        .env("IDP__SESSION__IDLE_MINUTES", "60")
        .env("IDP__SESSION__SIGN_IN_AFTER_IDLE_MINUTES", "30")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(stderr(&out).contains("`session.sign_in_after_idle_minutes`"), "{}", stderr(&out));
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The inline scripts and styles in `source`: a `<script>` without `src`, a `<style>`, a
/// `style` attribute, an event-handler attribute or a `javascript:` URL.
fn inline_code(source: &str) -> Vec<String> {
    let lower = source.to_ascii_lowercase();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices("<script") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap_or(lower.len() - at)];
        if !tag.contains(" src=") {
            found.push(tag.to_owned());
        }
    }
    for marker in ["<style", " style=", "javascript:"] {
        if lower.contains(marker) {
            found.push(marker.to_owned());
        }
    }
    for handler in ["onload", "onclick", "onsubmit", "onchange", "oninput", "onerror", "onfocus", "onkeydown"] {
        if lower.contains(&format!(" {handler}=")) {
            found.push(handler.to_owned());
        }
    }
    found
}

#[test]
fn no_template_holds_an_inline_script_or_style() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = files_under(&root.join("templates"));
    assert!(templates.len() > 20, "the templates were found: {templates:?}");
    for file in templates {
        let source = std::fs::read_to_string(&file).unwrap();
        assert_eq!(inline_code(&source), Vec::<String>::new(), "{}", file.display());
    }
    // HTML built in Rust (the QR code's SVG, say) follows the same rule.
    for file in files_under(&root.join("src")).into_iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
        let source = std::fs::read_to_string(&file).unwrap();
        assert_eq!(inline_code(&source), Vec::<String>::new(), "{}", file.display());
    }
    // The checker itself finds what it looks for.
    assert_eq!(inline_code("<body onload=\"go()\"><script>x()</script>").len(), 2);
    assert_eq!(inline_code("<p style=\"color: red\"><script src=\"/static/a.js\" defer></script>"), [" style="]);
}
