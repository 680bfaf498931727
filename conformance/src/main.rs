//! `conformance`: starts the provider on SQLite and on PostgreSQL (both at once), runs every
//! plan against each, prints one table, and exits non-zero when a module failed.
//!
//! Usage: `conformance [--verbose] [--backend sqlite|postgres]… [--plan NAME]… [--module NAME]…`
//! (`--verbose` lists every condition of every module before the table).

use std::process::ExitCode;

use conformance::report::{self, ModuleResult, Status};
use conformance::server;
use conformance::totp::CodeUsage;

fn main() -> ExitCode {
    let mut backends = Vec::new();
    let (mut plans, mut modules) = (Vec::new(), Vec::new());
    let mut verbose = false;
    let mut args = std::env::args().skip(1).filter(|a| {
        let flag = a == "--verbose";
        verbose |= flag;
        !flag
    });
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--backend", Some(v)) => backends.push(v),
            ("--plan", Some(v)) => plans.push(v),
            ("--module", Some(v)) => modules.push(v),
            _ => {
                eprintln!(
                    "usage: conformance [--verbose] [--backend sqlite|postgres]… [--plan NAME]… [--module NAME]…"
                );
                return ExitCode::from(2);
            }
        }
    }
    if backends.is_empty() {
        backends = vec!["sqlite".to_owned(), "postgres".to_owned()];
    }
    // Each backend has its own database, server, TLS front and helpers: they run at the same
    // time, so one backend's waits (one-time code steps, an expiring mandate) overlap the other's
    // work. The rows keep the backends' order.
    let runs: Vec<(String, anyhow::Result<BackendRun>)> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            backends.iter().map(|backend| (backend, scope.spawn(|| run_backend(backend, &plans, &modules)))).collect();
        handles
            .into_iter()
            .map(|(backend, handle)| {
                let run = handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the {backend} run panicked")));
                (backend.clone(), run)
            })
            .collect()
    });
    let mut rows: Vec<(String, ModuleResult)> = Vec::new();
    let mut usage = Vec::new();
    for (backend, run) in runs {
        match run {
            Ok(run) => {
                rows.extend(run.results.into_iter().map(|r| (backend.clone(), r)));
                usage.push((backend, run.codes));
            }
            Err(e) => {
                let failed = ModuleResult {
                    plan: "(set-up)".into(),
                    module: "start the provider".into(),
                    status: Status::Failed,
                    conditions: vec![report::Condition {
                        name: "StartProvider".into(),
                        severity: report::Severity::Failure,
                        passed: false,
                        message: format!("{e:#}"),
                    }],
                };
                rows.push((backend.clone(), failed));
            }
        }
    }
    if verbose {
        for (backend, result) in &rows {
            println!("{backend} {} {} {}", result.plan, result.module, result.status);
            for c in &result.conditions {
                let mark = if c.passed { "ok " } else { "NOT" };
                println!("    [{}] {mark} {}: {}", c.severity.tag(), c.name, c.message);
            }
        }
    }
    println!("{}", report::render_table(&rows));
    println!("{}", report::summary(&rows));
    for (backend, codes) in &usage {
        println!(
            "{backend}: {} one-time codes, {:.1} s spent waiting for a free time step",
            codes.codes,
            codes.waited.as_secs_f64()
        );
    }
    if rows.iter().any(|(_, r)| r.status == Status::Failed) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What one backend's run gives: its modules' results and its helpers' one-time codes.
struct BackendRun {
    results: Vec<ModuleResult>,
    codes: CodeUsage,
}

fn run_backend(backend: &str, plans: &[String], modules: &[String]) -> anyhow::Result<BackendRun> {
    let dir = tempfile_dir(backend)?;
    let _pg;
    let url = match backend {
        "sqlite" => format!("sqlite://{}", dir.join("idp.db").display()),
        "postgres" => {
            let db = server::PgDatabase::create()?;
            let url = db.url.clone();
            _pg = db;
            url
        }
        other => anyhow::bail!("unknown backend {other}"),
    };
    let (idp, front) = server::prepare(&dir, &url)?;
    let target = server::seed(&idp, &dir)?;
    let running = server::start(&idp, &dir)?;
    eprintln!("== {backend}: provider at {} (log {})", running.issuer, running.log.display());
    let results = conformance::run_plans(&target, backend, plans, modules);
    drop(running);
    drop(front);
    Ok(BackendRun { results, codes: target.aidants.code_usage() })
}

fn tempfile_dir(backend: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("aidants-conformance-{backend}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
