//! The server under load: `idp serve` as a child process on a fresh database, its `idp`
//! commands for the data it needs, and what the kernel says of its memory and CPU time.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

/// Which database the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The `idp` binary and the environment every command of one backend's run shares.
pub struct Idp {
    bin: PathBuf,
    env: Vec<(String, String)>,
    pub base: String,
    pub dir: PathBuf,
}

impl Idp {
    /// The server's settings for a run in `dir` on `database_url`. Production defaults except
    /// the quota of sign-in attempts per address: every virtual browser comes from 127.0.0.1,
    /// which the quota would otherwise count as one person spraying accounts.
    pub fn new(bin: &Path, dir: &Path, database_url: &str, assets: &Path) -> anyhow::Result<Idp> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let base = format!("http://127.0.0.1:{port}");
        let keys = dir.join("keys");
        std::fs::create_dir_all(&keys)?;
        let env = [
            ("IDP__ISSUER", base.clone()),
            ("IDP__HTTP__BIND", format!("127.0.0.1:{port}")),
            ("IDP__DATABASE__URL", database_url.to_owned()),
            ("IDP__KEYS__DIR", keys.display().to_string()),
            ("IDP__LOG__FORMAT", "json".to_owned()),
            ("IDP__UI__ASSETS_DIR", assets.display().to_string()),
            ("IDP__LOGIN__ATTEMPTS_PER_ADDRESS_PER_MINUTE", "100000000".to_owned()),
        ];
        Ok(Idp {
            bin: bin.to_owned(),
            env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            base,
            dir: dir.to_owned(),
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        // The server's settings are the run's alone: none from the calling shell's `IDP_…`.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("IDP_") {
                cmd.env_remove(name);
            }
        }
        cmd.args(args).envs(self.env.iter().map(|(k, v)| (k, v))).env_remove("RUST_LOG");
        cmd
    }

    /// Runs `idp ARGS` (with `stdin` fed to it) and parses what it prints as JSON.
    pub fn json(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Value> {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting idp {}", args.join(" ")))?;
        if let Some(input) = stdin {
            child.stdin.take().expect("piped").write_all(input.as_bytes())?;
        }
        drop(child.stdin.take());
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("idp {} failed ({}): {}", args.join(" "), out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("idp {}: not JSON: {}", args.join(" "), String::from_utf8_lossy(&out.stdout)))
    }

    /// Runs `idp ARGS` for its effect only.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self.command(args).stdin(Stdio::null()).output()?;
        if !out.status.success() {
            bail!("idp {} failed ({}): {}", args.join(" "), out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    /// Starts `idp serve`, its log in the run's folder, and waits for `/readyz`.
    pub async fn serve(&self) -> anyhow::Result<Running> {
        let log = self.dir.join("idp.log");
        let file = std::fs::File::create(&log)?;
        let child = self
            .command(&["serve"])
            .stdout(file.try_clone()?)
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .context("starting idp serve")?;
        let mut running = Running { child, log };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = running.child.try_wait()? {
                bail!("idp serve exited ({status}); its log ends with:\n{}", running.log_tail());
            }
            if http.get(format!("{}/readyz", self.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(running);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("idp serve not ready after 60 s; its log ends with:\n{}", running.log_tail())
    }
}

/// A running server; stopped when dropped.
pub struct Running {
    child: Child,
    log: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory as the kernel counts it (`/proc/PID/status`), in KiB.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Memory {
    /// VmHWM: the most since start, or since [`Running::reset_peak`].
    pub peak_kib: u64,
    /// VmRSS: now.
    pub now_kib: u64,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Fails if the server has exited (a crash under load is the worst result of all).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("idp serve exited ({status}); its log ends with:\n{}", self.log_tail());
        }
        Ok(())
    }

    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status.lines().find(|l| l.starts_with(name)).ok_or_else(|| anyhow!("no {name} in status"))?;
            Ok(line[name.len()..].trim().trim_end_matches("kB").trim().parse()?)
        };
        Ok(Memory { peak_kib: field("VmHWM:")?, now_kib: field("VmRSS:")? })
    }

    /// Starts VmHWM again from the current resident size (proc(5), `clear_refs` value 5), so
    /// that each case's peak is its own. Where the kernel refuses, the peak stays the process's.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// User + system CPU time the server has used.
    pub fn cpu(&self) -> Duration {
        cpu_of(&format!("/proc/{}/stat", self.pid()))
    }
}

/// User + system CPU time of this process (the load generator).
pub fn own_cpu() -> Duration {
    cpu_of("/proc/self/stat")
}

fn cpu_of(stat_path: &str) -> Duration {
    // proc(5): fields 14 and 15 (utime, stime) in clock ticks, counted after the command name,
    // which is in parentheses and may hold spaces. Linux's USER_HZ is 100 on every platform.
    let Ok(stat) = std::fs::read_to_string(stat_path) else { return Duration::ZERO };
    let Some(after_name) = stat.rfind(')').map(|at| &stat[at + 2..]) else { return Duration::ZERO };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A PostgreSQL database for one run: `IDP_BENCH_POSTGRES_URL` as given (the run's data has
/// names of its own, so a database used before serves again), or a fresh one created on the
/// server of `IDP_BENCH_POSTGRES_ADMIN_URL` (default: the local one) and dropped afterwards.
pub struct PgDatabase {
    pub url: String,
    created: Option<(String, String)>,
}

impl PgDatabase {
    pub fn get() -> anyhow::Result<PgDatabase> {
        if let Ok(url) = std::env::var("IDP_BENCH_POSTGRES_URL") {
            return Ok(PgDatabase { url, created: None });
        }
        let admin = std::env::var("IDP_BENCH_POSTGRES_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("idp_bench_{}", crate::population::random_token(10).to_lowercase());
        psql(&admin, &format!("CREATE DATABASE {name}")).with_context(|| {
            "no PostgreSQL: set IDP_BENCH_POSTGRES_URL, or IDP_BENCH_POSTGRES_ADMIN_URL to a server where a database may be created"
        })?;
        let mut url = url::Url::parse(&admin)?;
        url.set_path(&format!("/{name}"));
        Ok(PgDatabase { url: url.to_string(), created: Some((admin, name)) })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.created {
            let _ = psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .stdin(Stdio::null())
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}
