//! Two `idp serve` processes on one PostgreSQL database behave as one provider: any step of a
//! flow may reach either, the journal they both write stays one chain, and a key rotated in
//! their shared keys folder is taken up by both. PostgreSQL only: that is how replicas run
//! (`database.url`); outside CI a missing PostgreSQL skips the test, under CI it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idp::admin::demo::{self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use mandate_store::journal::{self, ChainReport, JournalAction, NewEntry};
use mandate_store::testing::TestDb;
use mandate_store::{Backend, Demarche};
use serde_json::Value;

use crate::helpers::{dsfr_dist, idp, stderr, stdout};
use crate::robot::{input_value, location, query_params, CALLBACK};

/// How many flows run at once across both servers.
const CONCURRENT_FLOWS: usize = 20;
/// How often each server chains the journal's queue.
const SEQUENCE_INTERVAL_MS: u64 = 100;
/// How often each server looks at the shared keys folder again (`keys.recheck_interval_ms`).
const KEYS_RECHECK: Duration = Duration::from_millis(500);

/// One `idp serve` process, stopped when dropped.
struct Replica {
    base: String,
    child: Child,
    log: PathBuf,
}

impl Replica {
    fn start(db_url: &str, keys: &Path, issuer: &str, dir: &Path, name: &str) -> Replica {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_idp"))
            .arg("serve")
            .current_dir(dir)
            .env_remove("IDP_CONFIG")
            .env("IDP__DATABASE__URL", db_url)
            .env("IDP__HTTP__BIND", format!("127.0.0.1:{port}"))
            .env("IDP__ISSUER", issuer)
            .env("IDP__KEYS__DIR", keys)
            .env("IDP__UI__ASSETS_DIR", dsfr_dist())
            .env("IDP__JOURNAL__SEQUENCE_INTERVAL_MS", SEQUENCE_INTERVAL_MS.to_string())
            .env("IDP__KEYS__RECHECK_INTERVAL_MS", KEYS_RECHECK.as_millis().to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Replica { base: format!("http://127.0.0.1:{port}"), child, log }
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.base)).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}): {}", self.base, std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "{} not ready within 60 s", self.base);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser, with one cookie jar for both servers (cookies ignore the port), that sends each
/// request to the other server than the previous one.
struct Browser {
    client: reqwest::Client,
    servers: [String; 2],
    turn: usize,
}

impl Browser {
    fn new(client: &reqwest::Client, servers: &[String; 2], first: usize) -> Browser {
        Browser { client: client.clone(), servers: servers.clone(), turn: first }
    }

    /// The server for this request: A, B, A, B…
    fn next_server(&mut self) -> String {
        let server = self.servers[self.turn % 2].clone();
        self.turn += 1;
        server
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let server = self.next_server();
        self.client.get(format!("{server}{path}")).send().await.unwrap()
    }

    async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let server = self.next_server();
        self.client.post(format!("{server}{path}")).form(fields).send().await.unwrap()
    }

    /// From `/authorize` to the code, each step on the other server: the login pages (password,
    /// then one-time code) when the session is not live yet, then the choice of usager and
    /// démarche.
    async fn authorization_code(&mut self, issuer: &str, usager: &str, state: &str) -> String {
        let params = [
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", state),
            ("nonce", "n-replicas"),
        ];
        let url = reqwest::Url::parse_with_params("http://idp.invalid/authorize", &params).unwrap();
        let mut response = self.get(&format!("/authorize?{}", url.query().unwrap())).await;
        for _ in 0..12 {
            let status = response.status();
            if status.is_redirection() {
                let next = location(&response);
                if next.starts_with(CALLBACK) {
                    let params = query_params(&next);
                    assert_eq!(params["state"], state);
                    assert_eq!(params["iss"], issuer);
                    return params["code"].clone();
                }
                // Whichever server wrote the address, the next step goes to the other one.
                let path = next.strip_prefix(issuer).unwrap_or(&next).to_owned();
                assert!(path.starts_with('/'), "a redirect off the provider: {next}");
                response = self.get(&path).await;
                continue;
            }
            let html = response.text().await.unwrap();
            assert_eq!(status, 200, "unexpected page: {html}");
            let csrf = input_value(&html, "csrf_token").expect("a CSRF token");
            let request = input_value(&html, "request").unwrap_or_default();
            response = if html.contains("name=\"password\"") {
                self.post_form(
                    "/login",
                    &[("csrf_token", &csrf), ("request", &request), ("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)],
                )
                .await
            } else if html.contains("name=\"otp\"") {
                let unix = chrono::Utc::now().timestamp() as u64;
                let code = idp::totp::code_at(DEMO_TOTP_SECRET, 30, unix).unwrap();
                self.post_form("/login/otp", &[("csrf_token", &csrf), ("request", &request), ("otp", &code)]).await
            } else if html.contains("name=\"choix\"") {
                let choice = format!("{usager}:logement");
                self.post_form("/delegation/choix", &[("csrf_token", &csrf), ("request", &request), ("choix", &choice)])
                    .await
            } else if html.contains("action=\"/delegation/confirmation\"") {
                self.post_form("/delegation/confirmation", &[("csrf_token", &csrf), ("request", &request)]).await
            } else {
                panic!("unknown page: {html}");
            };
        }
        panic!("too many steps before the code")
    }

    /// The code exchanged at the next server: the ID token and the access token.
    async fn tokens(&mut self, code: &str) -> (String, String) {
        let server = self.next_server();
        tokens_at(&self.client, &server, code).await
    }

    /// Userinfo at the next server.
    async fn userinfo(&mut self, access_token: &str) -> Value {
        let server = self.next_server();
        let response = self.client.get(format!("{server}/userinfo")).bearer_auth(access_token).send().await.unwrap();
        assert_eq!(response.status(), 200, "userinfo at {server}");
        response.json().await.unwrap()
    }
}

async fn tokens_at(client: &reqwest::Client, server: &str, code: &str) -> (String, String) {
    let response = client
        .post(format!("{server}/token"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CALLBACK)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "token at {server}");
    let tokens: Value = response.json().await.unwrap();
    (tokens["id_token"].as_str().unwrap().to_owned(), tokens["access_token"].as_str().unwrap().to_owned())
}

/// Checks `id_token` against the JWKS `server` publishes, with an independent JOSE library;
/// returns its `kid` and claims.
async fn verify_at(client: &reqwest::Client, server: &str, issuer: &str, id_token: &str) -> (String, Value) {
    let jwks: JwkSet = client.get(format!("{server}/jwks")).send().await.unwrap().json().await.unwrap();
    let header = decode_header(id_token).unwrap();
    let kid = header.kid.expect("kid in the header");
    let jwk = jwks.find(&kid).unwrap_or_else(|| panic!("{server} does not publish {kid}"));
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[DEMO_CLIENT_ID]);
    validation.set_issuer(&[issuer]);
    let claims = decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap_or_else(|e| panic!("the ID token does not verify at {server}: {e}"))
        .claims;
    (kid, claims)
}

/// Waits until the servers' sequencers emptied the journal's queue (no reader chains it here).
async fn wait_until_chained(db: &TestDb) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pending = journal::pending_count(&mut db.store.conn().unwrap()).unwrap();
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{pending} journal entries still queued after 10 s");
        tokio::time::sleep(Duration::from_millis(SEQUENCE_INTERVAL_MS / 2)).await;
    }
}

fn intact_length(db: &TestDb) -> i64 {
    match journal::verify(&mut db.store.conn().unwrap()).unwrap() {
        ChainReport::Intact { entries, .. } => entries,
        broken => panic!("the journal is broken: {broken:?}"),
    }
}

#[tokio::test]
async fn two_servers_on_one_postgresql_database_act_as_one_provider() {
    let Some(db) = TestDb::for_backend(Backend::Postgres) else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let issuer = "http://127.0.0.1:8081";
    let with_keys = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_idp"))
            .args(args)
            .env_remove("IDP_CONFIG")
            .env("IDP__DATABASE__URL", &db.url)
            .env("IDP__KEYS__DIR", &keys)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    let first_key = with_keys(&["keys", "generate"])["kid"].as_str().unwrap().to_owned();
    // The replicas take up the sealing key the seed used, from the shared folder.
    idp::sealing_keys::create(&keys).unwrap();
    let sealing = idp::sealing_keys::keyring(&keys).unwrap();
    let seeded = demo::seed(&mut db.store.conn().unwrap(), &sealing, issuer).unwrap();
    let usager = seeded["usagers"][0]["id"].as_str().unwrap().to_owned();
    // An entry queued by a process that died before anything chained it (the seed's own entries
    // wait in the queue too: no server runs yet).
    journal::record(
        &mut db.store.conn().unwrap(),
        NewEntry::new(JournalAction::AttestationPrinted).usager(&usager).details(serde_json::json!({"left": "queued"})),
        mandate_store::now(),
    )
    .unwrap();
    let queued_before_start = journal::pending_count(&mut db.store.conn().unwrap()).unwrap();
    assert!(queued_before_start > 1);
    assert!(idp(&db.url, &["journal", "list"], None).status.success(), "the command line reads the journal too");
    let queued_after_listing = journal::pending_count(&mut db.store.conn().unwrap()).unwrap();
    assert_eq!(queued_after_listing, 0, "a reader chains what waits before it reads");
    journal::record(
        &mut db.store.conn().unwrap(),
        NewEntry::new(JournalAction::AttestationPrinted).usager(&usager).details(serde_json::json!({"left": "again"})),
        mandate_store::now(),
    )
    .unwrap();

    let mut a = Replica::start(&db.url, &keys, issuer, dir.path(), "a");
    let mut b = Replica::start(&db.url, &keys, issuer, dir.path(), "b");
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    a.wait_ready(&client).await;
    b.wait_ready(&client).await;
    // A server that starts chains what a dead process left, with no reader asking.
    wait_until_chained(&db).await;
    let before_flows = intact_length(&db);
    let servers = [a.base.clone(), b.base.clone()];

    // One flow, every step on the other server: login on A, one-time code on B, and so on.
    let mut browser = Browser::new(&client, &servers, 0);
    let code = browser.authorization_code(issuer, &usager, "st-alternate").await;
    let (first_token, access) = browser.tokens(&code).await;
    let userinfo = browser.userinfo(&access).await;
    for server in &servers {
        let (kid, claims) = verify_at(&client, server, issuer, &first_token).await;
        assert_eq!(kid, first_key);
        assert_eq!(claims["sub"], userinfo["sub"]);
        assert_eq!(claims["mandate"]["demarche"], "logement");
    }

    // Then flows at once across both, each starting on A or B in turn, the session live.
    let flows: Vec<_> = (0..CONCURRENT_FLOWS)
        .map(|i| {
            let (client, servers, usager) = (client.clone(), servers.clone(), usager.clone());
            tokio::spawn(async move {
                let mut browser = Browser::new(&client, &servers, i);
                let code = browser.authorization_code(issuer, &usager, &format!("st-{i}")).await;
                let (id_token, access) = browser.tokens(&code).await;
                let userinfo = browser.userinfo(&access).await;
                (id_token, userinfo)
            })
        })
        .collect();
    for flow in flows {
        let (id_token, userinfo) = flow.await.unwrap();
        let (_, claims) = verify_at(&client, &servers[0], issuer, &id_token).await;
        assert_eq!(claims["sub"], userinfo["sub"]);
    }

    // Every entry of every step, in one intact chain, chained by the servers themselves.
    wait_until_chained(&db).await;
    let mut conn = db.store.conn().unwrap();
    let used = journal::recent(&mut conn, Some(JournalAction::AuthorisationUsed), 100).unwrap();
    assert_eq!(used.len(), 1 + CONCURRENT_FLOWS, "one use per token exchange");
    assert!(used.iter().all(|e| e.client_id.as_deref() == Some(DEMO_CLIENT_ID)
        && e.demarche == Some(Demarche::Logement)
        && e.usager_id.as_deref() == Some(usager.as_str())));
    assert_eq!(journal::count(&mut conn, JournalAction::AidantConnected).unwrap(), 1, "one sign-in");
    assert_eq!(journal::count(&mut conn, JournalAction::AttestationPrinted).unwrap(), 2, "the dead process's two");
    drop(conn);
    let after_flows = intact_length(&db);
    assert_eq!(after_flows, before_flows + 1 + CONCURRENT_FLOWS as i64 + 1, "nothing else, nothing twice");

    // Key rotation in the shared folder while both run.
    let second_key = with_keys(&["keys", "rotate"])["kid"].as_str().unwrap().to_owned();
    assert_ne!(second_key, first_key);
    let rotated_at = Instant::now();
    for server in &servers {
        let (kid, _) = verify_at(&client, server, issuer, &first_token).await;
        assert_eq!(kid, first_key, "a token signed before the rotation still verifies at {server}");
    }
    // Each server looks at the folder at most once per interval: one interval later, both sign
    // with the new key.
    tokio::time::sleep(KEYS_RECHECK.saturating_sub(rotated_at.elapsed())).await;
    let mut browser = Browser::new(&client, &servers, 0);
    for (i, server) in servers.iter().enumerate() {
        let code = browser.authorization_code(issuer, &usager, &format!("st-rotated-{i}")).await;
        let (id_token, _) = tokens_at(&client, server, &code).await;
        for verifier in &servers {
            let (kid, _) = verify_at(&client, verifier, issuer, &id_token).await;
            assert_eq!(kid, second_key, "{server} signs with the new key one interval after the rotation");
        }
    }
    wait_until_chained(&db).await;
    assert_eq!(intact_length(&db), after_flows + 2);
}
