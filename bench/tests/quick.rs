//! The short bench (`idp-bench --quick`) against the debug server that `cargo test --workspace`
//! builds: every flow at concurrency 1 and 8 on SQLite and PostgreSQL, about a second per case.
//! It checks that the load generator still drives every flow without a single error; its rates
//! are not checked (a debug build on a shared machine says nothing of them: `make bench` does).

use std::path::Path;
use std::process::Command;

#[test]
fn every_flow_runs_without_an_error_at_concurrency_1_and_8() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let idp = std::env::var_os("IDP_BIN")
        .map(Into::into)
        .unwrap_or_else(|| repository.join("target").join("debug").join("idp"));
    assert!(
        idp.exists(),
        "{} not found: build it with `cargo build -p idp` (cargo test --workspace does)",
        idp.display()
    );
    let mut bench = Command::new(env!("CARGO_BIN_EXE_idp-bench"));
    bench.arg("--quick").arg("--idp").arg(&idp);
    // PostgreSQL as the other tests find it; without one, SQLite alone, except under CI.
    let postgres = std::env::var_os("IDP_BENCH_POSTGRES_URL").is_some()
        || Command::new("pg_isready").args(["-q", "-h", "127.0.0.1"]).status().is_ok_and(|s| s.success());
    if !postgres {
        assert!(std::env::var_os("CI").is_none(), "no PostgreSQL on 127.0.0.1 and no IDP_BENCH_POSTGRES_URL under CI");
        eprintln!("no PostgreSQL on 127.0.0.1 and no IDP_BENCH_POSTGRES_URL: the short bench runs on SQLite only");
        bench.args(["--backend", "sqlite"]);
    }
    let out = bench.output().expect("idp-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "idp-bench --quick failed ({}):\n{stdout}\n{stderr}", out.status);
    for flow in ["login", "sso", "code_exchange_rs256", "code_exchange_es256", "discovery", "jwks"] {
        assert!(stdout.contains(&format!("| {flow} | 8 |")), "no {flow} case at c=8 in:\n{stdout}");
    }
}
