//! What operators read and do: the server's log lines, and stopping the server while it serves.
//! The server runs as its own process here, configured by `IDP__…` variables as in production.

use std::time::Duration;

use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET};
use mandate_store::Backend;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::TestApp;
use crate::robot::{input_value, query_params, seed, Robot, CALLBACK};

#[tokio::test]
async fn every_log_line_of_a_flow_names_its_request_and_holds_no_secret() {
    let env = [("IDP__LOG__FORMAT", "json"), ("IDP__LOG__FILTER", "info,idp=debug,mandate_store=debug")];
    let Some(app) = TestApp::spawn_process(Backend::Sqlite, &env).await else { return };
    // What the server logs while starting is about no request; what it logs from here on is.
    let started = app.process.as_ref().unwrap().log().len();
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let wrong_password = "Not-the-password-4821";
    let page = robot.get("/login").await.text().await.unwrap();
    let csrf = input_value(&page, "csrf_token").expect("a CSRF token");
    let refused =
        robot.post_form("/login", &[("csrf_token", &csrf), ("email", DEMO_EMAIL), ("password", wrong_password)]).await;
    assert_eq!(refused.status(), 401);
    // A refused request: the handler's own line must carry the request id too.
    let unknown = robot.authorize(&[("client_id", "no-such-client"), ("redirect_uri", CALLBACK)]).await;
    assert_eq!(unknown.status(), 400);
    let first = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "state-of-the-client"),
            ("nonce", "nonce-of-the-client"),
        ])
        .await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();
    let tokens: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = robot.client.get(app.url("/userinfo")).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);
    let one_time_code = idp::totp::code_at(DEMO_TOTP_SECRET, 30, robot.last_totp_step.unwrap() * 30).unwrap();
    // The access line of a request is written when its span closes, just after the answer.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = app.process.as_ref().unwrap().log();
    let lines: Vec<Value> = log[started..]
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    let in_requests: Vec<&Value> = lines.iter().filter(|l| l.get("span").is_some()).collect();
    assert!(in_requests.len() >= 8, "a line per request at least:\n{log}");
    for line in &in_requests {
        let id = line["span"]["request_id"].as_str().unwrap_or_default();
        assert!(id.len() >= 16, "a line without its request id: {line}");
    }
    assert!(
        in_requests.iter().any(|l| l["message"].as_str().is_some_and(|m| m.contains("refused without redirect"))),
        "the handler's line, inside its request:\n{log}"
    );
    let paths: Vec<&str> = in_requests.iter().filter_map(|l| l["span"]["path"].as_str()).collect();
    for path in ["/login", "/authorize", "/token", "/userinfo"] {
        assert!(paths.contains(&path), "{path} is logged:\n{log}");
    }
    // Outside a request, only the server's own background work writes (chaining the journal,
    // signing checkpoints, the purge): every other line is about one request.
    let background = ["idp::journal_sequencer", "idp::journal_proof::checkpoint", "idp::purge"];
    let in_background = |l: &Value| background.contains(&l["target"].as_str().unwrap_or_default());
    if let Some(line) = lines.iter().find(|l| l.get("span").is_none() && !in_background(l)) {
        panic!("a line outside any request: {line}\n{log}");
    }
    let secrets = [
        ("the password", DEMO_PASSWORD),
        ("a wrong password", wrong_password),
        ("the client secret", DEMO_CLIENT_SECRET),
        ("the TOTP secret", DEMO_TOTP_SECRET),
        ("the CSRF token", csrf.as_str()),
        ("the authorization code", code.as_str()),
        ("the access token", access_token.as_str()),
        ("the ID token", tokens["id_token"].as_str().unwrap()),
        ("the client's state", "state-of-the-client"),
        ("the client's nonce", "nonce-of-the-client"),
    ];
    for (what, secret) in secrets {
        assert!(!log.contains(secret), "{what} is in the log:\n{log}");
    }
    let word = regex_free_word(&log, &one_time_code);
    assert!(!word, "the one-time code {one_time_code} is in the log:\n{log}");
}

/// Whether `word` stands alone in `text` (not inside a longer run of digits or letters, as in a
/// timestamp's microseconds).
fn regex_free_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

#[tokio::test]
async fn a_request_under_way_when_the_server_is_stopped_is_answered_before_it_exits() {
    let Some(mut app) = TestApp::spawn_process(Backend::Sqlite, &[]).await else { return };
    let address = app.address.trim_start_matches("http://").to_owned();
    // A token request whose body is still on its way when SIGTERM arrives.
    let body = "grant_type=authorization_code&code=not-a-code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback";
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: Basic ZGVtbzpkZW1v\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let process = app.process.as_mut().unwrap();
    process.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(process.wait_exit(Duration::ZERO).is_none(), "the server waits for the request under way");
    // No new connection is taken any more.
    let refused = reqwest::Client::new().get(format!("http://{address}/healthz")).send().await;
    assert!(refused.is_err(), "a new request after the stop signal: {refused:?}");

    stream.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "the request is answered in full: {answer}");
    assert!(answer.contains("invalid_client"), "{answer}");
    let status = process.wait_exit(Duration::from_secs(10)).expect("the server exits once the request is answered");
    assert!(status.success(), "{status:?}");
}
