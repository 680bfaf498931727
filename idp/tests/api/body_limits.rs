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
    a_body_sent_in_chunks_without_a_length_is_refused_at_its_limit,
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

/// `POST /token` with a chunked body of `size` bytes (no `Content-Length`: the limit can only be
/// found while reading), over a raw connection; returns the status line and the body. (Blocking
/// I/O, off the runtime that serves the server.)
async fn chunked_token_request(app: &TestApp, size: usize) -> (String, String) {
    let address = app.address.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || send_chunked(&address, size)).await.unwrap()
}

fn send_chunked(address: &str, size: usize) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let body = padded(&[("grant_type", "authorization_code")], size);
    for chunk in body.as_bytes().chunks(4096) {
        // The server may answer and close before the last chunk: what matters is its answer.
        if stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
            || stream.write_all(chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

async fn a_body_sent_in_chunks_without_a_length_is_refused_at_its_limit(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (status, body) = chunked_token_request(&app, CLIENT_REQUEST + 1).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}\n{body}");
    assert!(body.contains("invalid_request"), "{body}");
    let (status, body) = chunked_token_request(&app, CLIENT_REQUEST).await;
    assert!(status.starts_with("HTTP/1.1 400"), "read whole, then refused on its merits: {status}\n{body}");
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
