//! The pool after a PostgreSQL restart: connections the server closed are dropped and the
//! store serves again by itself, without a new `Store`. The machine's shared server must never
//! be restarted, so the test starts a throw-away cluster of its own (initdb + pg_ctl on a free
//! port, in a temporary folder).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use mandate_store::{organisations, Store, StoreError};

/// A PostgreSQL cluster in a temporary folder, stopped and removed when dropped.
struct ThrowAwayCluster {
    bin: PathBuf,
    folder: tempfile::TempDir,
    port: u16,
}

impl ThrowAwayCluster {
    /// `None` (with a message) when no PostgreSQL binaries are installed, outside CI.
    fn start() -> Option<ThrowAwayCluster> {
        let Some(bin) = postgres_binaries() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "no PostgreSQL binaries under /usr/lib/postgresql/*/bin: under CI the restart test must run"
            );
            eprintln!("skipped: no PostgreSQL binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)");
            return None;
        };
        // As root the cluster belongs to `postgres`, who must reach its folder: the run's own
        // temporary folder (`make test` makes one, mode 0700) is root's only, so it goes to /tmp.
        let parent = if running_as_root() { std::path::PathBuf::from("/tmp") } else { std::env::temp_dir() };
        let folder = tempfile::Builder::new().prefix("idp-store-postgres-").tempdir_in(parent).unwrap();
        let port = free_port();
        let cluster = ThrowAwayCluster { bin, folder, port };
        if running_as_root() {
            // initdb refuses to run as root: the cluster belongs to the `postgres` account.
            cluster.run(Command::new("chown").args(["postgres:", &cluster.folder.path().display().to_string()]));
        }
        cluster.pg("initdb", &["-A", "trust", "-U", "postgres", "--no-sync", "-D", &cluster.data()]);
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        self.folder.path().join("data").display().to_string()
    }

    /// `pg_ctl restart -m fast`: every client connection is closed by the server.
    fn restart(&self) {
        self.pg_ctl("restart");
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("server.log").display().to_string();
        self.pg("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &options, "-m", "fast", "-w", action]);
    }

    fn pg(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // From a folder `postgres` may enter (the test's own may be root's only).
        command.args(args).current_dir("/");
        self.run(&mut command);
    }

    fn run(&self, command: &mut Command) {
        let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
        assert!(
            out.status.success(),
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for ThrowAwayCluster {
    fn drop(&mut self) {
        // Best effort: a failed stop must not hide the test's own failure.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.pg_ctl("stop")));
    }
}

/// The newest installed PostgreSQL's `bin` folder holding both `initdb` and `pg_ctl`.
fn postgres_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn running_as_root() -> bool {
    Path::new("/proc/self").exists() && effective_uid() == 0
}

/// The effective user id, read from `/proc/self/status` (no libc call in the tests).
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    uid_line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

fn organisations_listed(store: &Store) -> Result<usize, StoreError> {
    let mut conn = store.conn()?;
    Ok(organisations::list(&mut conn)?.len())
}

#[test]
fn after_a_postgres_restart_the_store_serves_again_by_itself() {
    let Some(cluster) = ThrowAwayCluster::start() else { return };
    let store = Store::open_and_migrate(&cluster.url(), 4).unwrap();
    // Several connections open and idle in the pool, as after a busy moment.
    {
        let held: Vec<_> = (0..3).map(|_| store.conn().unwrap()).collect();
        drop(held);
    }
    assert_eq!(organisations_listed(&store).unwrap(), 0);
    assert!(store.pool_usage().open >= 3, "{:?}", store.pool_usage());

    cluster.restart();

    // The first call may meet a connection the server closed: it fails, with the database's
    // error, not a panic or a wrong answer.
    match organisations_listed(&store) {
        Ok(n) => assert_eq!(n, 0),
        Err(StoreError::Database(_)) => {}
        Err(other) => panic!("the first call after the restart failed with {other:?}"),
    }
    // Every later call succeeds on the same store: the other dead connections were checked and
    // replaced, not handed out.
    for call in 0..6 {
        assert_eq!(organisations_listed(&store).unwrap_or_else(|e| panic!("call {call} after the restart: {e}")), 0);
    }
    store.ping().unwrap();
}
