//! The PostgreSQL database failing under the provider (decision 0026): restarted and stopped
//! while flows run, and not there yet when `idp serve` starts. Each test runs its own
//! PostgreSQL server (`postgres_cluster`), never the machine's shared one. Requests during an
//! outage fail cleanly (`503`, `temporarily_unavailable` in JSON, a French page for people), the
//! server recovers by itself, and afterwards nothing a client saw done is lost, nothing is
//! half-written and the journal's chain is intact.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idp::admin::demo::{self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use mandate_store::journal::{self, ChainReport, JournalAction};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::testing::TestDb;
use mandate_store::{Demarche, DurationKind, Store};
use serde_json::Value;

use super::{sso_flow, Refusal, UNAVAILABLE_PAGE};
use crate::helpers::{idp, stderr, TestApp};
use crate::robot::{query_params, Robot, CALLBACK};
use mandate_store::testing::postgres_cluster::PostgresCluster;

/// Browsers running flows at once, the helper's session live in each.
const BROWSERS: usize = 6;
/// How often the server chains the journal's queue.
const SEQUENCE_INTERVAL_MS: &str = "100";

struct Attempt {
    started: Instant,
    ended: Instant,
    outcome: Result<String, Refusal>,
}

/// Mandates created straight in the store beside the flows, by an operator's tool say: the ids
/// of those whose creation returned, and how many failed (each failure a database unavailable).
#[derive(Default)]
struct MandateWrites {
    created: Vec<String>,
    failed: usize,
}

fn write_mandates(url: String, new: NewMandate, stop: Arc<AtomicBool>) -> MandateWrites {
    let store = Store::open(&url, 2).unwrap();
    let mut writes = MandateWrites::default();
    while !stop.load(Ordering::Relaxed) {
        let created = store.conn().and_then(|mut conn| mandates::create(&mut conn, new.clone(), mandate_store::now()));
        match created {
            Ok(m) => writes.created.push(m.mandate.id),
            Err(e) => {
                assert!(e.is_unavailable(), "a mandate write failed otherwise than by the outage: {e}");
                writes.failed += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    writes
}

/// What `/readyz` answered, and when (`None`: no answer within the probe's 3 s).
type Probe = (Instant, Option<u16>);

async fn probe_readiness(base: String, stop: Arc<AtomicBool>, probes: Arc<Mutex<Vec<Probe>>>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    while !stop.load(Ordering::Relaxed) {
        let status = client.get(format!("{base}/readyz")).send().await.ok().map(|r| r.status().as_u16());
        probes.lock().unwrap().push((Instant::now(), status));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn blocking(f: impl FnOnce()) {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_and_stopped_under_load_loses_nothing_and_the_server_recovers_by_itself() {
    let test_began = Instant::now();
    let Some(cluster) = PostgresCluster::start() else { return };
    let url = cluster.url();
    let db = TestDb::existing(&url);
    let env = [("IDP__JOURNAL__SEQUENCE_INTERVAL_MS", SEQUENCE_INTERVAL_MS)];
    let mut app = TestApp::start_process(db, &env);
    // Seeded once the server is ready: the helper's secrets are sealed with the server's key.
    app.wait_ready(Duration::from_secs(30)).await;
    let seeded = demo::seed(&mut app.db.store.conn().unwrap(), &app.db.keys, &app.settings.issuer).unwrap();
    let usager = seeded["usagers"][0]["id"].as_str().unwrap().to_owned();
    let new_mandate = NewMandate {
        organisation_id: seeded["organisation"]["id"].as_str().unwrap().to_owned(),
        usager_id: seeded["usagers"][1]["id"].as_str().unwrap().to_owned(),
        aidant_id: seeded["aidant"]["id"].as_str().unwrap().to_owned(),
        demarches: vec![Demarche::Travail, Demarche::Loisirs],
        duration: DurationKind::Month,
        custom_expires_at: None,
        is_remote: false,
        consent_proof: None,
    };
    let base = app.address.clone();

    // The helper signs in once; every browser then shares the session (one cookie jar).
    let mut robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "st-sign-in"),
            ("nonce", "n-faults"),
        ])
        .await;
    let callback = robot.complete(first, &usager, "logement").await;
    let signed_in = robot.exchange_demo_code(&query_params(&callback)["code"]).await;
    assert_eq!(signed_in.status(), 200);
    let client = robot.client.clone();

    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(Mutex::new(Vec::<Attempt>::new()));
    let browsers: Vec<_> = (0..BROWSERS)
        .map(|b| {
            let (client, base, usager) = (client.clone(), base.clone(), usager.clone());
            let (stop, attempts) = (stop.clone(), attempts.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let started = Instant::now();
                    let outcome = sso_flow(&client, &base, &usager, &format!("st-{b}-{n}")).await;
                    let failed = outcome.is_err();
                    attempts.lock().unwrap().push(Attempt { started, ended: Instant::now(), outcome });
                    if failed {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
        .collect();
    let probes = Arc::new(Mutex::new(Vec::new()));
    let prober = tokio::spawn(probe_readiness(base.clone(), stop.clone(), probes.clone()));
    let writer = tokio::task::spawn_blocking({
        let (url, new, stop) = (url.clone(), new_mandate.clone(), stop.clone());
        move || write_mandates(url, new, stop)
    });

    // Under load: a restart (`-m fast` ends every session), then a stop of a few seconds.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let restart_began = Instant::now();
    blocking(|| cluster.restart());
    let restart_ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stop_began = Instant::now();
    blocking(|| cluster.stop());
    tokio::time::sleep(Duration::from_secs(3)).await;
    blocking(|| cluster.start_again());
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for browser in browsers {
        browser.await.unwrap();
    }
    prober.await.unwrap();
    let mandate_writes = writer.await.unwrap();

    let attempts = std::mem::take(&mut *attempts.lock().unwrap());
    let probes = std::mem::take(&mut *probes.lock().unwrap());
    let completed: Vec<&str> = attempts.iter().filter_map(|a| a.outcome.as_ref().ok().map(String::as_str)).collect();
    let refusals: Vec<&Refusal> = attempts.iter().filter_map(|a| a.outcome.as_ref().err()).collect();
    let unclean: Vec<&&Refusal> = refusals.iter().filter(|r| !r.is_clean()).collect();
    assert!(unclean.is_empty(), "requests failed otherwise than with a clean 503: {unclean:#?}");
    assert!(
        attempts.iter().any(|a| a.ended < restart_began && a.outcome.is_ok()),
        "flows completed before the restart"
    );
    let recovered_flow = attempts
        .iter()
        .filter(|a| a.started >= back && a.outcome.is_ok())
        .map(|a| a.ended)
        .min()
        .expect("flows completed once the database was back, without restarting the server");
    let not_ready_while_stopped =
        probes.iter().filter(|(at, status)| (stop_began..back).contains(at) && *status != Some(200)).count();
    assert!(not_ready_while_stopped > 0, "/readyz said not ready while the database was stopped");
    assert_eq!(probes.last().unwrap().1, Some(200), "/readyz ready again");
    let ready_again = probes.iter().filter(|(at, status)| *at >= back && *status == Some(200)).map(|p| p.0).min();

    // The server recovered: flows at once all succeed now.
    let again: Vec<_> = (0..BROWSERS)
        .map(|i| {
            let (client, base, usager) = (client.clone(), base.clone(), usager.clone());
            tokio::spawn(async move { sso_flow(&client, &base, &usager, &format!("st-after-{i}")).await })
        })
        .collect();
    for flow in again {
        let outcome = flow.await.unwrap();
        assert!(outcome.is_ok(), "a flow after recovery failed: {:?}", outcome.err());
    }

    // Nothing lost: every access token a client received still works, and the server's own
    // sequencer chained every queued journal entry.
    for access in &completed {
        let userinfo = client.get(format!("{base}/userinfo")).bearer_auth(access).send().await.unwrap();
        assert_eq!(userinfo.status(), 200, "a token a client received was lost");
    }
    let chained_by = Instant::now() + Duration::from_secs(15);
    loop {
        let pending = journal::pending_count(&mut app.db.store.conn().unwrap()).unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < chained_by, "{pending} journal entries still queued 15 s after recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing half-written: each exchange is one transaction (code used, token, journal entry),
    // each mandate another (mandate, authorisations, journal entries).
    let db = &app.db;
    let access_tokens = db.count("SELECT count(*) AS n FROM tokens WHERE kind = 'access'");
    let used_codes = db.count("SELECT count(*) AS n FROM authorization_codes WHERE used_at IS NOT NULL");
    let mut conn = db.store.conn().unwrap();
    let used = journal::count(&mut conn, JournalAction::AuthorisationUsed).unwrap();
    assert!(access_tokens >= completed.len() as i64 + 1 + BROWSERS as i64);
    assert_eq!(used, access_tokens, "one journal entry per token issued, none without the other");
    assert_eq!(used_codes, access_tokens, "a code used for each token issued, none used without its token");
    for id in &mandate_writes.created {
        let mandate = mandates::find(&mut conn, id).unwrap_or_else(|e| panic!("mandate {id} was lost: {e}"));
        assert_eq!(mandate.authorisations.len(), 2, "mandate {id} half-written");
    }
    let all_mandates = db.count("SELECT count(*) AS n FROM mandates");
    let bare_mandates = db.count(
        "SELECT count(*) AS n FROM mandates m WHERE NOT EXISTS (SELECT 1 FROM authorisations a WHERE a.mandate_id = m.id)",
    );
    assert_eq!(bare_mandates, 0, "a mandate without its authorisations");
    assert_eq!(journal::count(&mut conn, JournalAction::MandateCreated).unwrap(), all_mandates);
    assert!(all_mandates >= mandate_writes.created.len() as i64);
    drop(conn);
    assert!(matches!(journal::verify(&mut db.store.conn().unwrap()).unwrap(), ChainReport::Intact { .. }));
    let verified = idp(&url, &["journal", "verify"], None);
    assert!(verified.status.success(), "idp journal verify: {}", stderr(&verified));

    let log = app.process.as_ref().unwrap().log();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    assert!(app.process.as_mut().unwrap().exited().is_none(), "the server kept running");
    // The numbers decision 0026 records (shown with `--nocapture`).
    let failed_in = |from: Instant, to: Instant| {
        attempts.iter().filter(|a| a.outcome.is_err() && a.ended >= from && a.started <= to).count()
    };
    eprintln!(
        "postgresql faults: {} flows completed, {} failed cleanly ({} around the restart of {:.1} s, {} around the \
         stop of {:.1} s); mandates: {} created, {} failed; /readyz not ready {} times while stopped, ready {:.2} s \
         after the database was back, first flow completed {:.2} s after; longest flow {:.1} s; test took {:.1} s",
        completed.len(),
        refusals.len(),
        failed_in(restart_began, restart_ended + Duration::from_millis(500)),
        (restart_ended - restart_began).as_secs_f64(),
        failed_in(stop_began, back + Duration::from_millis(500)),
        (back - stop_began).as_secs_f64(),
        mandate_writes.created.len(),
        mandate_writes.failed,
        not_ready_while_stopped,
        ready_again.map_or(f64::NAN, |at| (at - back).as_secs_f64()),
        (recovered_flow - back).as_secs_f64(),
        attempts.iter().map(|a| a.ended - a.started).max().unwrap_or_default().as_secs_f64(),
        test_began.elapsed().as_secs_f64(),
    );
}

#[tokio::test]
async fn a_server_started_before_its_postgresql_database_waits_not_ready_then_serves_by_itself() {
    let Some(cluster) = PostgresCluster::init() else { return };
    // A password in the URL (trust authentication ignores it): it must never be shown.
    let password = "pw-never-shown-4417";
    let url = format!("postgres://postgres:{password}@127.0.0.1:{}/postgres", cluster.port);
    let keys = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut settings = crate::helpers::test_settings(&url, keys.path());
    settings.issuer = format!("http://127.0.0.1:{port}");
    settings.http.bind = format!("127.0.0.1:{port}");
    let mut server = crate::helpers::ServerProcess::start(&settings, &[]);
    let base = settings.issuer.clone();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // The process is up, says it is alive, and not ready.
    let alive_by = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(server.exited().is_none(), "idp serve exited:\n{}", server.log());
        assert!(Instant::now() < alive_by, "idp serve did not answer /healthz:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "not_ready");
    // A client is told to come back; a person gets a page in French.
    let token = client
        .post(format!("{base}/token"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "authorization_code"), ("code", "c")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 503);
    assert_eq!(token.json::<Value>().await.unwrap()["error"], "temporarily_unavailable");
    let page = client.get(format!("{base}/login")).header("Accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 503);
    let headers = page.headers();
    assert_eq!(headers.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{headers:?}");
    let html = page.text().await.unwrap();
    assert!(html.contains(UNAVAILABLE_PAGE));
    // The page is styled: every stylesheet it links to is served while waiting.
    let stylesheets: Vec<&str> =
        html.split("<link rel=\"stylesheet\" href=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(!stylesheets.is_empty(), "{html}");
    for href in stylesheets {
        let css = client.get(format!("{base}{href}")).send().await.unwrap();
        assert_eq!(css.status(), 200, "{href} while waiting for the database");
        assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"), "{href}");
    }
    let log = server.log();
    let waiting = log
        .lines()
        .find(|l| l.contains("database.url"))
        .unwrap_or_else(|| panic!("no line names database.url:\n{log}"));
    assert!(waiting.contains("not ready"), "{waiting}");
    assert!(waiting.contains(&format!("127.0.0.1:{}", cluster.port)), "the line says which database: {waiting}");
    assert!(!log.contains(password), "the URL's password was logged:\n{log}");

    // The database appears: the same process becomes ready and serves, with no restart.
    let appeared = Instant::now();
    blocking_now(|| cluster.start_again());
    let ready_by = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(server.exited().is_none(), "idp serve exited:\n{}", server.log());
        assert!(Instant::now() < ready_by, "not ready 20 s after the database appeared:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let became_ready = appeared.elapsed();
    // The real server now: migrated, a client unknown to it is refused as the protocol says.
    let token = client
        .post(format!("{base}/token"))
        .basic_auth("no-such-client", Some("x"))
        .form(&[("grant_type", "authorization_code"), ("code", "c")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);
    assert_eq!(token.json::<Value>().await.unwrap()["error"], "invalid_client");
    let migrated = TestDb::existing(&cluster.url());
    assert_eq!(migrated.count("SELECT count(*) AS n FROM clients"), 0);
    eprintln!("postgresql absent at start: ready {:.2} s after the database appeared", became_ready.as_secs_f64());
}

/// Blocking work from a single-threaded test runtime (nothing else needs to run meanwhile).
fn blocking_now(f: impl FnOnce()) {
    f()
}

#[tokio::test]
async fn a_server_waiting_for_its_postgresql_database_stops_cleanly_when_asked() {
    // Nothing listens on this port: no PostgreSQL server is needed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let keys = tempfile::tempdir().unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut settings =
        crate::helpers::test_settings(&format!("postgres://postgres@127.0.0.1:{port}/postgres"), keys.path());
    settings.issuer = format!("http://127.0.0.1:{listen}");
    settings.http.bind = format!("127.0.0.1:{listen}");
    let mut server = crate::helpers::ServerProcess::start(&settings, &[]);
    let alive_by = Instant::now() + Duration::from_secs(20);
    let client = reqwest::Client::new();
    while client.get(format!("{}/healthz", settings.issuer)).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(server.exited().is_none(), "idp serve exited:\n{}", server.log());
        assert!(Instant::now() < alive_by, "idp serve did not answer /healthz:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(10)).expect("idp serve stops when asked while it waits");
    assert!(status.success(), "a stop asked for is not a failure: {status}\n{}", server.log());
}
