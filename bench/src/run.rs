//! A whole run: the limits, then for each backend a fresh server, its data, its signed-in
//! browsers, and every flow at every concurrency.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::browser::{http_client, Browser};
use crate::flows::{self, CodeBook, RelyingParty};
use crate::limits::{self, Limits};
use crate::load::{self, Flow, SessionBrowser, Shared, Timing};
use crate::population;
use crate::report::{load_average, BackendRun, Machine, Report};
use crate::server::{Backend, Idp, PgDatabase};

/// How long the server is left idle after the last case before its resident memory is read.
const SETTLE_BEFORE_FINAL_MEMORY: Duration = Duration::from_secs(8);

pub struct Options {
    pub quick: bool,
    pub idp: PathBuf,
    pub assets: PathBuf,
    pub backends: Vec<Backend>,
    pub concurrencies: Vec<usize>,
    pub flows: Vec<Flow>,
    pub timing: Timing,
    /// The login flow's measured time (its rate settles fast; each flow spends a code).
    pub login_measure: Duration,
    pub limits_time: Duration,
    pub note: Option<String>,
}

impl Options {
    /// `make bench`: a few tens of seconds per case, at 1, 8 and 32.
    pub fn full(idp: PathBuf, assets: PathBuf) -> Options {
        Options {
            quick: false,
            idp,
            assets,
            backends: vec![Backend::Sqlite, Backend::Postgres],
            concurrencies: vec![1, 8, 32],
            flows: Flow::ALL.to_vec(),
            timing: Timing { warm_up: Duration::from_secs(2), measure: Duration::from_secs(20) },
            login_measure: Duration::from_secs(6),
            limits_time: Duration::from_secs(3),
            note: None,
        }
    }

    /// `make bench QUICK=1`: about a second per case, at 1 and 8, to keep the bench working.
    pub fn quick(idp: PathBuf, assets: PathBuf) -> Options {
        Options {
            quick: true,
            concurrencies: vec![1, 8],
            timing: Timing { warm_up: Duration::from_millis(200), measure: Duration::from_secs(1) },
            login_measure: Duration::from_secs(1),
            limits_time: Duration::from_millis(300),
            ..Options::full(idp, assets)
        }
    }
}

pub async fn run(options: &Options) -> anyhow::Result<Report> {
    let started_at = chrono::Utc::now();
    let load_before = load_average();
    println!("Limits: the server's signing and argon2id, alone on every core…");
    let time = options.limits_time;
    let limits = tokio::task::spawn_blocking(move || limits::measure(time)).await??;
    println!(
        "  RS256 {:.0}/s, ES256 {:.0}/s, argon2id {:.1}/s on {} threads",
        limits.rs256_signatures_per_second,
        limits.es256_signatures_per_second,
        limits.argon2id_checks_per_second,
        limits.threads
    );
    let mut backends = Vec::new();
    for backend in &options.backends {
        backends.push(run_backend(*backend, options, &limits).await.with_context(|| format!("on {}", backend.name()))?);
    }
    let mut report = Report {
        started_at: started_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        mode: if options.quick { "quick" } else { "full" },
        idp_binary: options.idp.display().to_string(),
        commit: commit(),
        machine: Machine { cores: limits.threads, load_before, load_after: load_average() },
        note: options.note.clone(),
        limits,
        backends,
        targets: Vec::new(),
    };
    report.evaluate_targets(options.concurrencies.iter().copied().max().unwrap_or(1));
    Ok(report)
}

fn commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "describe", "--always", "--dirty"])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Helpers the login flow needs: each gives two codes at first (see `CodeBook`) and one more
/// per 30-s step, and the server signs in no faster than argon2id checks passwords. Counted
/// with the two first codes only, and twice the rate measured (on a busy machine the limit
/// measured may come out lower than the server then reaches).
fn login_helpers_needed(options: &Options, limits: &Limits) -> usize {
    if !options.flows.contains(&Flow::Login) {
        return 0;
    }
    let per_case = (options.timing.warm_up + options.login_measure).as_secs_f64();
    let total = per_case * options.concurrencies.len() as f64;
    let needed = 2.0 * limits.argon2id_checks_per_second * total / 2.0;
    needed.ceil() as usize + options.concurrencies.iter().copied().max().unwrap_or(1)
}

async fn run_backend(backend: Backend, options: &Options, limits: &Limits) -> anyhow::Result<BackendRun> {
    let setup_started = Instant::now();
    let dir = tempfile::Builder::new().prefix("idp-bench-").tempdir()?;
    let pg = if backend == Backend::Postgres { Some(PgDatabase::get()?) } else { None };
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join("idp.db").display()),
    };
    let idp = Idp::new(&options.idp, dir.path(), &url, &options.assets)?;
    let sessions_needed = options.concurrencies.iter().copied().max().unwrap_or(1);
    let login_helpers = login_helpers_needed(options, limits);
    println!("{}: {} helpers with sessions, {} for the login flow…", backend.name(), sessions_needed, login_helpers);
    idp.run(&["migrate"])?;
    let population = {
        let idp = &idp;
        tokio::task::block_in_place(|| population::create(idp, sessions_needed, login_helpers))?
    };
    let mut server = idp.serve().await?;
    let http = http_client();
    let shared = Arc::new(Shared {
        http: http.clone(),
        base: idp.base.clone(),
        rs256: RelyingParty::new(&population.client_rs256),
        es256: RelyingParty::new(&population.client_es256),
        choice: flows::choice(&population.usager_id),
        codes: CodeBook::new(population.login_helpers.len()),
        login_helpers: population.login_helpers,
    });
    // Every session helper signs in once, all at once, then accepts the charter.
    let mut tasks = Vec::new();
    for (i, helper) in population.session_helpers.into_iter().enumerate() {
        let (http, base) = (http.clone(), idp.base.clone());
        tasks.push(tokio::spawn(async move {
            let mut browser = Browser::new(http, &base);
            let step = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() / 30;
            let code = flows::code_of(&helper, step)?;
            flows::open_session(&mut browser, &helper, &code).await.with_context(|| helper.email.clone())?;
            browser.tally = Default::default();
            Ok::<_, anyhow::Error>(SessionBrowser { browser, csrf: None, name: format!("b{i}"), flows: 0 })
        }));
    }
    let mut sessions = Vec::new();
    for task in tasks {
        sessions.push(task.await??);
    }
    let at_start = server.memory()?;
    let start_mib = at_start.now_kib as f64 / 1024.0;
    let setup_seconds = setup_started.elapsed().as_secs_f64();
    println!("  ready in {setup_seconds:.0} s ({start_mib:.0} MiB resident)");

    let mut cases = Vec::new();
    for &flow in &options.flows {
        for &c in &options.concurrencies {
            let mut timing = options.timing;
            if flow == Flow::Login {
                timing.measure = options.login_measure;
            }
            let case_started = Instant::now();
            if std::env::var_os("IDP_BENCH_DEBUG").is_some() {
                eprintln!("{} c={c} starts at {}", flow.key(), chrono::Utc::now().format("%H:%M:%S%.3f"));
            }
            let result = load::run(flow, c, timing, &shared, &mut sessions, &server).await;
            println!(
                "  {:<20} c={:<3} ({:>4.1} s) {:>8.0} flows/s {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  server {:.2} cores, generator {:.2}  peak {:>4.0} MiB{}{}",
                flow.key(),
                c,
                case_started.elapsed().as_secs_f64(),
                result.flows_per_second,
                result.requests_per_second,
                result.flow_p50_ms,
                result.flow_p99_ms,
                result.server_cores,
                result.generator_cores,
                result.peak_mib,
                if result.waited_for_codes_seconds > 0.0 {
                    format!("  (waited {:.1} s for one-time codes)", result.waited_for_codes_seconds)
                } else {
                    String::new()
                },
                match &result.first_error {
                    Some(e) => format!("\n    FAILED: {} errors; the first: {e}", result.errors),
                    None => String::new(),
                }
            );
            if std::env::var_os("IDP_BENCH_DEBUG").is_some() {
                eprintln!(
                    "{} c={c} ends at {} (server pid {})",
                    flow.key(),
                    chrono::Utc::now().format("%H:%M:%S%.3f"),
                    server.pid()
                );
            }
            cases.push(result);
            server.check_alive()?;
        }
    }
    // "After the run" is the server once idle, as between busy moments: it gives freed memory
    // back from 2 s without a request on, and again after actix closes the keep-alive
    // connections left (5 s) (decision 0028).
    // The short mode proves the flows work, not the memory: it does not wait.
    if !options.quick {
        tokio::time::sleep(SETTLE_BEFORE_FINAL_MEMORY).await;
    }
    let memory = server.memory()?;
    // Each case restarted the peak from its own start; the sign-ins before them had theirs.
    let peak_mib = cases.iter().map(|c| c.peak_mib).fold(at_start.peak_kib as f64 / 1024.0, f64::max);
    drop(server);
    drop(pg);
    Ok(BackendRun {
        backend,
        cases,
        start_mib,
        peak_mib,
        final_mib: memory.now_kib as f64 / 1024.0,
        login_helpers,
        setup_seconds,
    })
}
