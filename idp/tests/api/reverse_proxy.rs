//! Behind a reverse proxy: the client's address is read from the forwarding header only when
//! the connection comes from a trusted proxy (`http.trusted_proxies`), so that a header anyone
//! can send cannot move a client out of its quota of sign-in attempts, nor into someone
//! else's. On SQLite and PostgreSQL.

use idp::configuration::{ClientAddressHeader, Settings, TrustedProxies};
use mandate_store::sign_in_delays::{self, account_key, SignInStep};
use mandate_store::Backend;

use crate::helpers::TestApp;
use crate::robot::{input_value, seed, Robot};

crate::on_both_backends!(
    a_forwarding_header_from_an_untrusted_peer_changes_nothing,
    behind_a_trusted_proxy_the_forwarded_client_is_counted,
    only_the_configured_header_is_read,
);

/// Three attempts per address and minute; the test's connections come from 127.0.0.1.
async fn spawn(backend: Backend, trusted: &[&str], header: ClientAddressHeader) -> Option<TestApp> {
    let trusted = TrustedProxies::parse(trusted).unwrap();
    TestApp::spawn_with(backend, move |s: &mut Settings| {
        s.login.attempts_per_address_per_minute = 3;
        s.http.trusted_proxies = trusted;
        s.http.client_address_header = header;
    })
    .await
}

/// A wrong password for `email`, sent with the forwarding header `(name, value)`.
async fn attempt(robot: &Robot<'_>, token: &str, email: &str, forwarded: (&str, &str)) -> u16 {
    let form = [("csrf_token", token), ("email", email), ("password", "not the password")];
    let sent = robot.client.post(robot.app.url("/login")).header(forwarded.0, forwarded.1).form(&form);
    sent.send().await.unwrap().status().as_u16()
}

async fn login_token(robot: &Robot<'_>) -> String {
    let html = robot.get("/login").await.text().await.unwrap();
    input_value(&html, "csrf_token").expect("a CSRF token")
}

/// The addresses whose failures at the password step for `email` the store counted.
fn counted_sources(app: &TestApp, email: &str) -> Vec<String> {
    let mut conn = app.db.store.conn().unwrap();
    let rows = sign_in_delays::of_account(&mut conn, SignInStep::Password, &account_key(email)).unwrap();
    rows.into_iter().filter(|row| row.source != sign_in_delays::EVERY_SOURCE).map(|row| row.source).collect()
}

async fn a_forwarding_header_from_an_untrusted_peer_changes_nothing(backend: Backend) {
    // A proxy is trusted, but not the address the test connects from.
    let Some(app) = spawn(backend, &["127.0.0.2"], ClientAddressHeader::XForwardedFor).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let token = login_token(&robot).await;
    let mut statuses = Vec::new();
    for i in 1..=4 {
        // A new address claimed at each attempt, and the trusted proxy's own at the last.
        let claimed = if i == 4 { "127.0.0.2".to_owned() } else { format!("203.0.113.{i}") };
        statuses.push(attempt(&robot, &token, &format!("personne{i}@example.fr"), ("X-Forwarded-For", &claimed)).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429], "the quota is the real peer's");
    assert_eq!(counted_sources(&app, "personne1@example.fr"), ["127.0.0.1"]);
}

async fn behind_a_trusted_proxy_the_forwarded_client_is_counted(backend: Backend) {
    let Some(app) = spawn(backend, &["127.0.0.1"], ClientAddressHeader::XForwardedFor).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let token = login_token(&robot).await;
    let mut statuses = Vec::new();
    for i in 1..=4 {
        statuses.push(
            attempt(&robot, &token, &format!("personne{i}@example.fr"), ("X-Forwarded-For", "203.0.113.7")).await,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429], "the forwarded client's quota is spent");
    assert_eq!(counted_sources(&app, "personne1@example.fr"), ["203.0.113.7"]);
    // Another client behind the same proxy has its whole quota, whatever it writes itself left
    // of what the proxy appended.
    let other = ("X-Forwarded-For", "203.0.113.7, 198.51.100.8");
    assert_eq!(attempt(&robot, &token, "autre@example.fr", other).await, 401);
    assert_eq!(counted_sources(&app, "autre@example.fr"), ["198.51.100.8"]);
    // The proxy's own requests (no header) count as the proxy's.
    let own = robot.client.post(app.url("/login")).form(&[
        ("csrf_token", token.as_str()),
        ("email", "sonde@example.fr"),
        ("password", "not the password"),
    ]);
    assert_eq!(own.send().await.unwrap().status(), 401);
    assert_eq!(counted_sources(&app, "sonde@example.fr"), ["127.0.0.1"]);
}

async fn only_the_configured_header_is_read(backend: Backend) {
    let Some(app) = spawn(backend, &["127.0.0.1"], ClientAddressHeader::Forwarded).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let token = login_token(&robot).await;
    let forwarded = ("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https");
    assert_eq!(attempt(&robot, &token, "un@example.fr", forwarded).await, 401);
    assert_eq!(counted_sources(&app, "un@example.fr"), ["2001:db8:cafe::"], "an IPv6 client counts as its /64");
    // The proxy sets `Forwarded`; an `X-Forwarded-For` is the client's own and is not read.
    assert_eq!(attempt(&robot, &token, "deux@example.fr", ("X-Forwarded-For", "203.0.113.9")).await, 401);
    assert_eq!(counted_sources(&app, "deux@example.fr"), ["127.0.0.1"]);
    // A hop the proxy wrote that names no address leaves the proxy as the client.
    assert_eq!(attempt(&robot, &token, "trois@example.fr", ("Forwarded", "for=unknown")).await, 401);
    assert_eq!(counted_sources(&app, "trois@example.fr"), ["127.0.0.1"]);
}
