//! A PostgreSQL server of the test's own (initdb and pg_ctl from the machine's PostgreSQL
//! binaries, in a temporary folder, on a free port, trust authentication), which the test may
//! stop and restart: the machine's shared server, which other tests use, is never touched.
//! Without PostgreSQL binaries the test is skipped outside CI and fails under CI. Used by the
//! store's restart test and the server's fault tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Says on the run's own standard error that a test was skipped and why: written past the test
/// harness's capture, so that `make test` shows it.
fn say_skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

pub struct PostgresCluster {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    pub port: u16,
    /// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `pg_ctl`.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PostgresCluster {
    /// A new cluster, started. `None` (said) outside CI when PostgreSQL is not installed.
    pub fn start() -> Option<PostgresCluster> {
        let cluster = PostgresCluster::init()?;
        cluster.start_again();
        Some(cluster)
    }

    /// A new cluster, made but not started: nothing answers on its port yet.
    pub fn init() -> Option<PostgresCluster> {
        let Some(bin) = postgres_bin() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "under CI the tests on a PostgreSQL server of their own must run: no pg_ctl found"
            );
            say_skipped("tests on a PostgreSQL server of their own: no /usr/lib/postgresql/*/bin/pg_ctl");
            return None;
        };
        let as_postgres = is_root();
        // The `postgres` user must reach its folder: the run's own temporary folder (`make test`
        // makes one, mode 0700) is root's only, so as root the cluster goes to /tmp itself.
        let parent = if as_postgres { PathBuf::from("/tmp") } else { std::env::temp_dir() };
        let dir = tempfile::Builder::new().prefix("idp-postgres-").tempdir_in(parent).unwrap();
        let data = dir.path().join("data");
        let log = dir.path().join("postgres.log");
        std::fs::create_dir(&data).unwrap();
        if as_postgres {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
            assert!(chown.success(), "chown the cluster's folder to postgres");
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = PostgresCluster { bin, data, log, port, as_postgres, _dir: dir };
        let data = cluster.data.to_str().unwrap().to_owned();
        cluster.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        Some(cluster)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the stopped server and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=50",
            self.port,
            self.data.parent().unwrap().display()
        );
        let data = self.data.to_str().unwrap().to_owned();
        let log = self.log.to_str().unwrap().to_owned();
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "start"]);
    }

    /// Stops the server as an operator does (`-m fast`: sessions are ended, transactions in
    /// flight rolled back) and waits until it is down.
    pub fn stop(&self) {
        let data = self.data.to_str().unwrap().to_owned();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// `pg_ctl restart -m fast`: stopped and started again, waited for.
    pub fn restart(&self) {
        let data = self.data.to_str().unwrap().to_owned();
        let log = self.log.to_str().unwrap().to_owned();
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-m", "fast", "-w", "restart"]);
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let output = self.command(program).args(args).current_dir(Path::new("/")).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        output
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap().to_owned();
        let _ = self.command("pg_ctl").args(["-D", &data, "-m", "immediate", "-w", "stop"]).output();
    }
}
