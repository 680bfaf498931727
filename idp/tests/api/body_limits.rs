//! Request bodies over their route's limit are refused with 413 in the protocol's form: OAuth's
//! JSON `invalid_request` where programs call, a page in French where people do. A body within
//! the limit is read as before. On SQLite and PostgreSQL.

use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use idp::web::body_limits::{CLIENT_REQUEST, OTHER, PAGE_FORM};
use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::robot::{input_value, seed, Robot};

crate::on_both_backends!(
    client_endpoints_refuse_a_body_over_their_limit_in_oauth_json,
    pages_refuse_a_form_over_their_limit_with_a_page,
);

/// A form of `size` bytes: `fields` then one padding field.
fn padded(fields: &[(&str, &str)], size: usize) -> String {
    let mut body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    body.push_str("&padding=");
    body.push_str(&"a".repeat(size.saturating_sub(body.len())));
    body
}

async fn post(robot: &Robot<'_>, path: &str, body: String) -> reqwest::Response {
    let request = robot.client.post(robot.app.url(path)).header("Content-Type", "application/x-www-form-urlencoded");
    request.body(body).send().await.unwrap()
}

async fn client_endpoints_refuse_a_body_over_their_limit_in_oauth_json(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let credentials = [("client_id", DEMO_CLIENT_ID), ("client_secret", DEMO_CLIENT_SECRET)];
    for path in ["/token", "/introspect", "/revoke"] {
        let over = post(&robot, path, padded(&credentials, CLIENT_REQUEST + 1)).await;
        assert_eq!(over.status(), 413, "{path}");
        assert_eq!(over.headers()["cache-control"], "no-store", "{path}");
        let body: Value = over.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{path}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(&CLIENT_REQUEST.to_string()), "{path}: {body}");

        // Just within the limit the body is read, and the request answered on its merits.
        let within = post(&robot, path, padded(&credentials, CLIENT_REQUEST)).await;
        assert_ne!(within.status(), 413, "{path}");
    }
    let token = post(&robot, "/token", padded(&credentials, CLIENT_REQUEST)).await;
    assert_eq!(token.status(), 400);
    assert_eq!(token.json::<Value>().await.unwrap()["error"], "invalid_request", "grant_type is missing");

    // Userinfo by POST (RFC 6750 §2.2): past the limit of the other routes, JSON too.
    let userinfo = post(&robot, "/userinfo", padded(&[("access_token", "x")], OTHER + 1)).await;
    assert_eq!(userinfo.status(), 413);
    assert_eq!(userinfo.json::<Value>().await.unwrap()["error"], "invalid_request");
}

async fn pages_refuse_a_form_over_their_limit_with_a_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let html = robot.get("/login").await.text().await.unwrap();
    let csrf = input_value(&html, "csrf_token").expect("a CSRF token");
    let fields = [("csrf_token", csrf.as_str()), ("email", "personne@example.fr"), ("password", "x")];

    let over = post(&robot, "/login", padded(&fields, PAGE_FORM + 1)).await;
    assert_eq!(over.status(), 413);
    assert!(over.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = over.text().await.unwrap();
    assert!(page.contains("Le formulaire envoyé est trop volumineux"), "{page}");
    let within = post(&robot, "/login", padded(&fields, PAGE_FORM)).await;
    assert_eq!(within.status(), 401, "a wrong password, read and checked");

    // An authorization request and a logout by POST: the page of the other routes' limit.
    for path in ["/authorize", "/logout"] {
        let over = post(&robot, path, padded(&[("client_id", DEMO_CLIENT_ID)], OTHER + 1)).await;
        assert_eq!(over.status(), 413, "{path}");
        let page = over.text().await.unwrap();
        assert!(page.contains("Envoi trop volumineux") && page.contains("href=\"/\""), "{path}: {page}");
    }
}
