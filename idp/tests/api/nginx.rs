//! The example nginx configuration (`deploy/nginx/idp.conf`), run as an operator would: Debian's
//! nginx in front of `idp serve`, TLS with a certificate of a certificate authority made for the
//! run (the clients trust that authority), the server knowing its public URL (the issuer,
//! `https://localhost:PORT`) and the proxy it may believe (`http.trusted_proxies=127.0.0.1`).
//! A helper signs in with password and one-time code, picks a usager and a démarche; the relying
//! party exchanges the code and reads userinfo, all through nginx; the server counted and logged
//! the client's address (127.0.0.2), not nginx's, read from `X-Forwarded-For` on SQLite and
//! from `Forwarded` on PostgreSQL.
//!
//! nginx runs as the test's own process (`nginx -c … -p … -g 'daemon off; …'`), never as a
//! system service. Under CI a missing nginx is a failure; elsewhere the test says it is skipped.

use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idp::admin::demo::{self, DEMO_EMAIL};
use mandate_store::sign_in_delays::{self, account_key, SignInStep};
use mandate_store::testing::TestDb;
use mandate_store::Backend;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::Value;

use crate::helpers::{dsfr_dist, say_skipped, test_settings, TestApp};
use crate::robot::{input_value, query_params, Robot, CALLBACK};

crate::on_both_backends!(a_whole_sign_in_goes_through_the_example_nginx);

const EXAMPLE: &str = include_str!("../../../deploy/nginx/idp.conf");
/// Where the test's browser and relying party connect from: any of 127.0.0.0/8 reaches nginx
/// on 127.0.0.1, and this one is not the proxy's.
const CLIENT: &str = "127.0.0.2";

/// Debian's nginx, where it installs it, or the one on the `PATH`.
fn nginx_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("nginx"));
    std::iter::once(PathBuf::from("/usr/sbin/nginx")).chain(on_path).find(|path| path.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A process of the test, ended however the test ends: `SIGTERM` first (nginx's master then
/// stops its workers), `SIGKILL` if it lingers.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A certificate authority for the run, and nginx's certificate for `localhost` and 127.0.0.1
/// signed by it, written into `dir`; returns the authority's certificate (PEM).
fn certificates(dir: &Path) -> String {
    let mut authority = CertificateParams::new(Vec::<String>::new()).unwrap();
    authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    authority.distinguished_name.push(DnType::CommonName, "Aidants IdP test authority");
    authority.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let authority_key = KeyPair::generate().unwrap();
    let authority_pem = authority.self_signed(&authority_key).unwrap().pem();
    let issuer = Issuer::new(authority, authority_key);

    let mut site = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    site.distinguished_name.push(DnType::CommonName, "localhost");
    site.use_authority_key_identifier_extension = true;
    site.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    site.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let site_key = KeyPair::generate().unwrap();
    let site_pem = site.signed_by(&site_key, &issuer).unwrap().pem();
    std::fs::write(dir.join("fullchain.pem"), format!("{site_pem}{authority_pem}")).unwrap();
    std::fs::write(dir.join("privkey.pem"), site_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("authority.pem"), &authority_pem).unwrap();
    authority_pem
}

/// The example with what is the operator's to choose set for this run: ports, certificate
/// paths, the server's address, the cache folder. Each replaced text must be in the example,
/// so that the example cannot drift away from what is tested.
fn adapted_example(dir: &Path, https_port: u16, http_port: u16, backend_port: u16) -> String {
    let replacements = [
        ("listen 443 ssl http2;", format!("listen 127.0.0.1:{https_port} ssl http2;")),
        ("listen [::]:443 ssl http2;", String::new()),
        ("listen 80;", format!("listen 127.0.0.1:{http_port};")),
        ("listen [::]:80;", String::new()),
        ("server 127.0.0.1:8080;", format!("server 127.0.0.1:{backend_port};")),
        ("/etc/ssl/aidants-idp/fullchain.pem", dir.join("fullchain.pem").display().to_string()),
        ("/etc/ssl/aidants-idp/privkey.pem", dir.join("privkey.pem").display().to_string()),
        ("/var/cache/nginx/aidants-idp", dir.join("cache").display().to_string()),
    ];
    let mut conf = EXAMPLE.to_owned();
    for (example, run) in replacements {
        assert!(conf.contains(example), "deploy/nginx/idp.conf no longer has {example:?}");
        conf = conf.replace(example, &run);
    }
    conf
}

/// The main configuration around the example, as /etc/nginx/nginx.conf would include it, with
/// every file nginx writes inside `dir`.
fn main_configuration(dir: &Path) -> String {
    let d = dir.display();
    // As root, nginx's workers would run as `nobody`, who cannot enter the run's folder.
    let as_root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    let user = if as_root { "user root;" } else { "" };
    format!(
        "{user}\nworker_processes 1;\nevents {{ worker_connections 256; }}\nhttp {{\n\
         access_log {d}/access.log;\n\
         client_body_temp_path {d}/client_body;\nproxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
         include {d}/idp.conf;\n}}\n"
    )
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `ready` holds, or fails with `what` and the logs.
async fn wait_for(what: &str, process: &mut Process, logs: &[&Path], mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        let exited = process.0.try_wait().unwrap();
        if exited.is_some() || Instant::now() > deadline {
            let logs: Vec<String> = logs.iter().map(|p| log_of(p)).collect();
            panic!("{what} did not start ({exited:?}):\n{}", logs.join("\n---\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn answers_readyz(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = format!("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
}

async fn a_whole_sign_in_goes_through_the_example_nginx(backend: Backend) {
    let Some(nginx) = nginx_binary() else {
        assert!(std::env::var_os("CI").is_none(), "nginx is missing (apt-get install nginx): CI runs this test");
        say_skipped("the nginx test needs Debian's nginx (apt-get install nginx)");
        return;
    };
    let Some(mut db) = TestDb::for_backend(backend) else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (https_port, http_port, backend_port) = (free_port(), free_port(), free_port());
    let issuer = format!("https://localhost:{https_port}");
    // The example sets both forwarding headers: each run reads one of them, so that both lines
    // of the example are checked.
    let header = match backend {
        Backend::Sqlite => "X-Forwarded-For",
        Backend::Postgres => "Forwarded",
    };

    // The server, on its private address, as the example's comment sets it.
    let server_log = dir.join("server.log");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_idp"));
    serve
        .arg("serve")
        .current_dir(dir)
        .env_remove("IDP_CONFIG")
        .env("IDP__ISSUER", &issuer)
        .env("IDP__HTTP__BIND", format!("127.0.0.1:{backend_port}"))
        .env("IDP__HTTP__TRUSTED_PROXIES", "127.0.0.1")
        .env("IDP__HTTP__CLIENT_ADDRESS_HEADER", header)
        .env("IDP__DATABASE__URL", &db.url)
        .env("IDP__KEYS__DIR", dir.join("keys"))
        .env("IDP__UI__ASSETS_DIR", dsfr_dist())
        .env("IDP__LOG__FORMAT", "json")
        .env("IDP__LOG__FILTER", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&server_log).unwrap());
    let mut server = Process(serve.spawn().unwrap());
    wait_for("idp serve", &mut server, &[&server_log], || answers_readyz(backend_port)).await;
    db.keys = idp::sealing_keys::keyring(&dir.join("keys")).unwrap();
    let seeded = demo::seed(&mut db.store.conn().unwrap(), &db.keys, &issuer).unwrap();
    let usager = seeded["usagers"][0]["id"].as_str().expect("Angela DUBOIS").to_owned();

    // nginx in front, with the example.
    let authority = certificates(dir);
    std::fs::write(dir.join("idp.conf"), adapted_example(dir, https_port, http_port, backend_port)).unwrap();
    std::fs::write(dir.join("nginx.conf"), main_configuration(dir)).unwrap();
    let error_log = dir.join("error.log");
    let globals =
        format!("daemon off; pid {}; error_log {} info;", dir.join("nginx.pid").display(), error_log.display());
    let mut front = Command::new(&nginx);
    front
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-p")
        .arg(dir)
        .args(["-g", &globals])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx.stderr")).unwrap());
    let mut front = Process(front.spawn().unwrap());
    let nginx_logs = [error_log.as_path(), &dir.join("nginx.stderr")];
    wait_for("nginx", &mut front, &nginx_logs, || TcpStream::connect(("127.0.0.1", https_port)).is_ok()).await;

    // The browser and the relying party: they trust the run's authority only, and reach
    // `localhost` on 127.0.0.1 from 127.0.0.2.
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(authority.as_bytes()).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], https_port).into())
        .local_address(CLIENT.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut settings = test_settings(&db.url, &dir.join("keys"));
    settings.issuer = issuer.clone();
    let app = TestApp::running_at(issuer.clone(), db, settings, client.clone());
    let mut robot = Robot::new(&app);
    robot.client = client;
    let context = || format!("--- server\n{}\n--- nginx\n{}", log_of(&server_log), log_of(&error_log));

    // Discovery through nginx names the public URL.
    let discovery: Value = robot.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str(), "{}", context());
    assert_eq!(discovery["token_endpoint"], format!("{issuer}/token"));

    // A wrong password first: the server counts the failure against the client's address.
    let login = robot.get("/login").await;
    assert_eq!(login.status(), 200, "{}", context());
    assert!(login.headers().contains_key("strict-transport-security"), "HSTS behind an https issuer");
    let html = login.text().await.unwrap();
    let csrf = input_value(&html, "csrf_token").expect("a CSRF token");
    let wrong = [("csrf_token", csrf.as_str()), ("email", DEMO_EMAIL), ("password", "not the password")];
    assert_eq!(robot.post_form("/login", &wrong).await.status(), 401, "{}", context());
    {
        let mut conn = app.db.store.conn().unwrap();
        let rows = sign_in_delays::of_account(&mut conn, SignInStep::Password, &account_key(DEMO_EMAIL)).unwrap();
        let sources: Vec<&str> = rows.iter().map(|row| row.source.as_str()).collect();
        assert!(sources.contains(&CLIENT) && !sources.contains(&"127.0.0.1"), "{header}: counted against {sources:?}");
    }

    // The whole flow: authorize, password, one-time code, the choice, the code back.
    let params = [
        ("client_id", demo::DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "through-nginx"),
        ("nonce", "n-1"),
    ];
    let first = robot.authorize(&params).await;
    let callback = robot.complete(first, &usager, "logement").await;
    let back = query_params(&callback);
    assert_eq!(back["state"], "through-nginx");
    assert_eq!(back["iss"], issuer.as_str(), "RFC 9207: the public URL");
    let tokens = robot.exchange_demo_code(&back["code"]).await;
    assert_eq!(tokens.status(), 200, "{}", context());
    let tokens: Value = tokens.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), demo::DEMO_CLIENT_ID).await;
    assert_eq!(claims["mandate"]["demarche"], "logement");
    let userinfo = robot
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let userinfo: Value = userinfo.json().await.unwrap();
    assert_eq!(userinfo["family_name"], "DUBOIS");
    assert_eq!(userinfo["act"]["email"], DEMO_EMAIL);

    // The server's access log names the client behind nginx.
    let log = log_of(&server_log);
    let token_lines: Vec<&str> = log.lines().filter(|l| l.contains("\"path\":\"/token\"")).collect();
    assert!(!token_lines.is_empty(), "no access line for /token\n{log}");
    for line in token_lines {
        assert!(line.contains(&format!("\"client_address\":\"{CLIENT}\"")), "{line}");
    }

    // A body over the server's limit but within nginx's gets the server's own OAuth answer.
    let large = format!("grant_type=authorization_code&padding={}", "a".repeat(100 * 1024));
    let refused = robot
        .client
        .post(app.url("/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(large)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_request");

    // The design system's files are kept by nginx after the first request.
    let stylesheet = html
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/static/dsfr/") && href.ends_with(".css"));
    let stylesheet = stylesheet.expect("the design system's stylesheet on the login page");
    let first = robot.get(stylesheet).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let again = robot.get(stylesheet).await;
    assert_eq!(again.headers()["x-cache-status"], "HIT", "{:?}", again.headers());

    // Plain HTTP only sends to https; browsers speak HTTP/2.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = plain.get(format!("http://127.0.0.1:{http_port}/login")).send().await.unwrap();
    assert_eq!(redirect.status(), 301);
    assert!(redirect.headers()["location"].to_str().unwrap().starts_with("https://"));
    let version = Command::new("curl")
        .args(["-sS", "--http2", "-o", "/dev/null", "-w", "%{http_version}", "--cacert"])
        .arg(dir.join("authority.pem"))
        .args(["--resolve", &format!("localhost:{https_port}:127.0.0.1")])
        .arg(format!("{issuer}/.well-known/openid-configuration"))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&version.stdout), "2", "{}", String::from_utf8_lossy(&version.stderr));
}
