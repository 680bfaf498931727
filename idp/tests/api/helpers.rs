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
    /// The `idp serve` process when the server runs as operators run it ([`TestApp::spawn_process`]).
    pub process: Option<ServerProcess>,
    _keys: tempfile::TempDir,
}

/// `idp serve` as a child process, its log (stderr) kept in a file; killed when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `idp serve` with `settings` (database, keys, listener, issuer, design system) given
    /// as `IDP__…` variables, then `env`. Does not wait for it to be ready.
    pub fn start(settings: &Settings, env: &[(&str, &str)]) -> ServerProcess {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("idp.log");
        let child = Command::new(env!("CARGO_BIN_EXE_idp"))
            .arg("serve")
            .env_remove("IDP_CONFIG")
            .env("IDP__DATABASE__URL", &settings.database.url)
            .env("IDP__KEYS__DIR", &settings.keys.dir)
            .env("IDP__HTTP__BIND", &settings.http.bind)
            .env("IDP__ISSUER", &settings.issuer)
            .env("IDP__UI__ASSETS_DIR", &settings.ui.assets_dir)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        ServerProcess { child, log, _dir: dir }
    }

    /// Its exit status, if it has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM, as a service manager stopping the server does.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits at most `limit` for the process to end; its exit status, or `None` if it still runs.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
        let mut db = TestDb::for_backend(backend)?;
        let keys = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut settings = test_settings(&db.url, keys.path());
        settings.issuer = format!("http://127.0.0.1:{port}");
        adjust(&mut settings);
        let state = build_state(settings.clone()).await.unwrap();
        // What the test writes in the store is sealed with the server's keys.
        db.keys = state.sealing.keyring();
        share_keys_with_commands(&db.url, keys.path());
        let app = Application::from_parts(listener, state.clone()).unwrap();
        tokio::spawn(app.run_until_stopped());
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        let address = format!("http://127.0.0.1:{port}");
        Some((TestApp { address, db, settings, client, process: None, _keys: keys }, state))
    }

    /// The server as operators run it: `idp serve` in its own process, configured by `IDP__…`
    /// variables (the test's settings, then `env`), its log in a file. Returns once `/readyz`
    /// answers 200.
    pub async fn spawn_process(backend: Backend, env: &[(&str, &str)]) -> Option<TestApp> {
        let mut app = TestApp::start_process(TestDb::for_backend(backend)?, env);
        app.wait_ready(std::time::Duration::from_secs(20)).await;
        Some(app)
    }

    /// `idp serve` on `db` in its own process, as [`TestApp::spawn_process`], without waiting
    /// for it to be ready.
    pub fn start_process(db: TestDb, env: &[(&str, &str)]) -> TestApp {
        let keys = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut settings = test_settings(&db.url, keys.path());
        settings.issuer = format!("http://127.0.0.1:{port}");
        settings.http.bind = format!("127.0.0.1:{port}");
        let process = ServerProcess::start(&settings, env);
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        let address = format!("http://127.0.0.1:{port}");
        TestApp { address, db, settings, client, process: Some(process), _keys: keys }
    }

    /// Waits at most `limit` for `/readyz` to answer 200; panics with the server's log otherwise.
    pub async fn wait_ready(&mut self, limit: std::time::Duration) {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    self.db.keys = idp::sealing_keys::keyring(&self.settings.keys.dir).unwrap();
                    share_keys_with_commands(&self.db.url, self._keys.path());
                    return;
                }
            }
            if let Some(process) = &mut self.process {
                if let Some(status) = process.exited() {
                    panic!("idp serve exited ({status}):\n{}", process.log());
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let log = self.process.as_ref().map(ServerProcess::log).unwrap_or_default();
        panic!("idp serve did not get ready in {limit:?}:\n{log}");
    }

    /// A server started otherwise (an `idp serve` process, behind a proxy), reached at
    /// `address` with `client`, on `db`, with the `settings` it was given.
    pub fn running_at(address: String, db: TestDb, settings: Settings, client: reqwest::Client) -> TestApp {
        TestApp { address, db, settings, client, process: None, _keys: tempfile::tempdir().unwrap() }
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

/// The keys folders of the servers started by [`TestApp`], by database URL.
static SERVER_KEYS: std::sync::Mutex<Vec<(String, std::path::PathBuf)>> = std::sync::Mutex::new(Vec::new());

fn share_keys_with_commands(database_url: &str, dir: &Path) {
    SERVER_KEYS.lock().unwrap().push((database_url.to_owned(), dir.to_owned()));
}

/// The keys folder of the commands [`idp`] and [`demo_seed`] run on `database_url`: the server's
/// when a [`TestApp`] serves that database (its secrets are sealed with the server's key), else
/// one per database in the temporary folder, so that the sealing key they make stays out of the
/// tree.
pub fn cli_keys_dir(database_url: &str) -> std::path::PathBuf {
    let servers = SERVER_KEYS.lock().unwrap();
    match servers.iter().rev().find(|(url, _)| url == database_url) {
        Some((_, dir)) => dir.clone(),
        None => std::env::temp_dir().join(format!("idp-test-keys-{}", &mandate_store::secret_hash(database_url)[..16])),
    }
}

/// Runs the `idp` binary with the given database and arguments.
pub fn idp(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idp"));
    command
        .args(args)
        .env("IDP__DATABASE__URL", database_url)
        .env("IDP__KEYS__DIR", cli_keys_dir(database_url))
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
        .env("IDP__KEYS__DIR", cli_keys_dir(database_url))
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
