//! Starting the real server on a random port, on a fresh database of either backend.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use idp::configuration::Settings;
use idp::startup::{build_state, Application};
use idp::web::AppState;
use mandate_store::testing::TestDb;
use mandate_store::Backend;

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub settings: Settings,
    pub client: reqwest::Client,
    _keys: tempfile::TempDir,
}

/// The design system as `npm ci` installs it at the repository's root (tests run in `idp/`).
pub fn dsfr_dist() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/@gouvfr/dsfr/dist")
}

/// Settings for a test: defaults, a database URL, a fresh keys folder, port 0, the design system
/// installed at the repository's root.
pub fn test_settings(database_url: &str, keys_dir: &Path) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.toml");
    std::fs::write(&file, "").unwrap();
    let mut settings = Settings::load(Some(&file)).unwrap();
    settings.database.url = database_url.to_owned();
    settings.keys.dir = keys_dir.to_owned();
    settings.http.bind = "127.0.0.1:0".into();
    settings.ui.assets_dir = dsfr_dist();
    settings
}

impl TestApp {
    /// `None` when the backend is not available here (PostgreSQL outside CI).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings changed by `adjust` (the issuer is already set).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        Some(TestApp::spawn_with_state(backend, adjust).await?.0)
    }

    /// Like [`TestApp::spawn_with`], with the server's shared state, to read what it counts.
    pub async fn spawn_with_state(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<(TestApp, AppState)> {
        let db = TestDb::for_backend(backend)?;
        let keys = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut settings = test_settings(&db.url, keys.path());
        settings.issuer = format!("http://127.0.0.1:{port}");
        adjust(&mut settings);
        let state = build_state(settings.clone()).await.unwrap();
        let app = Application::from_parts(listener, state.clone()).unwrap();
        tokio::spawn(app.run_until_stopped());
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        Some((TestApp { address: format!("http://127.0.0.1:{port}"), db, settings, client, _keys: keys }, state))
    }

    /// A server started otherwise (an `idp serve` process, behind a proxy), reached at
    /// `address` with `client`, on `db`, with the `settings` it was given.
    pub fn running_at(address: String, db: TestDb, settings: Settings, client: reqwest::Client) -> TestApp {
        TestApp { address, db, settings, client, _keys: tempfile::tempdir().unwrap() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

/// Says on the run's own standard error that a test was skipped and why: written past the test
/// harness's capture (which keeps `eprintln!` for failures only), so that `make test` shows it.
pub fn say_skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// Runs the `idp` binary with the given database and arguments.
pub fn idp(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idp"));
    command
        .args(args)
        .env("IDP__DATABASE__URL", database_url)
        .env("IDP_CONFIG", "/dev/null/no-config.toml")
        .env_remove("IDP_CONFIG");
    match stdin {
        None => command.output().unwrap(),
        Some(input) => {
            use std::io::Write;
            let mut child = command
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

/// `idp demo seed` as `make run DEMO=1` runs it: in demo mode, the issuer on this machine.
pub fn demo_seed(database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idp"))
        .args(["demo", "seed"])
        .env("IDP__DATABASE__URL", database_url)
        .env("IDP__DEMO__ENABLED", "true")
        .env_remove("IDP__ISSUER")
        .env_remove("IDP_CONFIG")
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Declares each async test function (taking a `Backend`) once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(mandate_store::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(mandate_store::Backend::Postgres).await;
                }
            )*
        }
    };
}
