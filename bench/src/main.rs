//! `idp-bench [--quick]`: see the crate's documentation and `make bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bench::load::Flow;
use bench::run::{self, Options};
use bench::server::Backend;
use clap::Parser;

/// Load test of the provider: flows per second, latencies, memory, against their limits.
#[derive(Parser)]
#[command(name = "idp-bench")]
struct Args {
    /// About a second per case, at concurrency 1 and 8, nothing written unless --results.
    #[arg(long)]
    quick: bool,
    /// The `idp` binary (default: `IDP_BIN`, else target/release/idp, or target/debug/idp with
    /// --quick).
    #[arg(long, env = "IDP_BIN")]
    idp: Option<PathBuf>,
    /// The design system's files (default: the repository's node_modules, as `npm ci` installs them).
    #[arg(long)]
    assets: Option<PathBuf>,
    /// Only this backend; repeat for both (default: both, SQLite first).
    #[arg(long = "backend", value_parser = ["sqlite", "postgres"])]
    backends: Vec<String>,
    /// Only these flows, comma-separated (login, sso, code_exchange_rs256, code_exchange_es256,
    /// discovery, jwks; default: all).
    #[arg(long, value_delimiter = ',')]
    flows: Vec<String>,
    /// Seconds measured per case (login: at most 6).
    #[arg(long)]
    seconds: Option<u64>,
    /// Concurrencies, comma-separated (default: 1,8,32; with --quick 1,8).
    #[arg(long, value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Folder for the JSON and Markdown results (default: bench/results, none with --quick).
    #[arg(long)]
    results: Option<PathBuf>,
    /// A sentence kept with the results (what else the machine was doing, say).
    #[arg(long)]
    note: Option<String>,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let profile = if args.quick { "debug" } else { "release" };
    let idp = args.idp.unwrap_or_else(|| repository().join("target").join(profile).join("idp"));
    let assets = args.assets.unwrap_or_else(|| repository().join("node_modules/@gouvfr/dsfr/dist"));
    if !idp.exists() {
        eprintln!(
            "{} not found: build it (`cargo build -p idp{}`) or name one with --idp",
            idp.display(),
            if args.quick { "" } else { " --release" }
        );
        return ExitCode::FAILURE;
    }
    let mut options = if args.quick { Options::quick(idp, assets) } else { Options::full(idp, assets) };
    if !args.backends.is_empty() {
        options.backends =
            args.backends.iter().map(|b| if b == "sqlite" { Backend::Sqlite } else { Backend::Postgres }).collect();
    }
    if let Some(seconds) = args.seconds {
        options.timing.measure = Duration::from_secs(seconds);
        options.login_measure = Duration::from_secs(seconds.min(6));
    }
    if !args.flows.is_empty() {
        let known: Vec<&str> = Flow::ALL.iter().map(|f| f.key()).collect();
        if let Some(unknown) = args.flows.iter().find(|f| !known.contains(&f.as_str())) {
            eprintln!("idp-bench: unknown flow {unknown}: {}", known.join(", "));
            return ExitCode::FAILURE;
        }
        options.flows = Flow::ALL.into_iter().filter(|f| args.flows.iter().any(|a| a == f.key())).collect();
    }
    if !args.concurrency.is_empty() {
        options.concurrencies = args.concurrency;
    }
    options.note = args.note;
    let report = match run::run(&options).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("idp-bench: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let markdown = report.markdown();
    println!("\n{markdown}");
    let results = args.results.or_else(|| (!options.quick).then(|| repository().join("bench").join("results")));
    if let Some(dir) = results {
        let name = report.started_at.replace(':', "-");
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(format!("{name}.md")), &markdown))
            .and_then(|()| {
                let json = serde_json::to_string_pretty(&report).expect("the report serialises");
                std::fs::write(dir.join(format!("{name}.json")), json + "\n")
            });
        match written {
            Ok(()) => println!("Results: {}/{name}.{{json,md}}", dir.display()),
            Err(e) => {
                eprintln!("idp-bench: cannot write the results in {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let failed = report.failed_cases();
    if !failed.is_empty() {
        for (backend, case) in failed {
            eprintln!(
                "FAILED: {} {} c={}: {} errors; the first: {}",
                backend.name(),
                case.flow,
                case.concurrency,
                case.errors,
                case.first_error.as_deref().unwrap_or("?")
            );
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
