//! The run's results: each case as a ratio to its limit, the targets met or not, as
//! JSON and as a Markdown table.

use std::fmt::Write as _;

use crate::limits::Limits;
use crate::load::Flow;
use crate::server::Backend;
use crate::stats::CaseResult;

#[derive(Debug, Clone, serde::Serialize)]
pub struct BackendRun {
    pub backend: Backend,
    pub cases: Vec<CaseResult>,
    /// Resident memory before the first case (after start and sign-ins), the highest any case
    /// reached, and after the last one, MiB.
    pub start_mib: f64,
    pub peak_mib: f64,
    pub final_mib: f64,
    /// Helpers created for the login flow's one-time codes.
    pub login_helpers: usize,
    pub setup_seconds: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    pub what: String,
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub started_at: String,
    pub mode: &'static str,
    pub idp_binary: String,
    pub commit: Option<String>,
    pub machine: Machine,
    pub note: Option<String>,
    pub limits: Limits,
    pub backends: Vec<BackendRun>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cores: usize,
    /// /proc/loadavg when the run started and when it ended: others' work on the machine.
    pub load_before: String,
    pub load_after: String,
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The ceiling a flow's rate is compared with: each flow does one argon2id check (login) or
/// signs one ID token (SSO, exchanges); the documents have none.
pub fn limit_of(flow: &str, limits: &Limits) -> Option<(f64, &'static str)> {
    match flow {
        "login" => Some((limits.argon2id_checks_per_second, "argon2id")),
        "sso" | "code_exchange_rs256" => Some((limits.rs256_signatures_per_second, "RS256")),
        "code_exchange_es256" => Some((limits.es256_signatures_per_second, "ES256")),
        _ => None,
    }
}

impl Report {
    fn case(&self, backend: Backend, flow: Flow, concurrency: usize) -> Option<&CaseResult> {
        self.backends
            .iter()
            .find(|b| b.backend == backend)?
            .cases
            .iter()
            .find(|c| c.flow == flow.key() && c.concurrency == concurrency)
    }

    /// The targets, at the highest concurrency run (32 in a full run).
    pub fn evaluate_targets(&mut self, top: usize) {
        let mut targets = Vec::new();
        let mut rate_target = |what: String, measured: Option<f64>, min: f64, unit: &str| {
            targets.push(Target {
                what,
                target: format!("≥ {min:.0} {unit}"),
                measured: measured.map_or("not run".into(), |m| format!("{m:.0} {unit}")),
                met: measured.map(|m| m >= min),
            });
        };
        let sqlite = |flow| self.case(Backend::Sqlite, flow, top);
        rate_target(
            format!("SSO flow, SQLite, c={top}"),
            sqlite(Flow::Sso).map(|c| c.flows_per_second),
            1600.0,
            "flows/s",
        );
        rate_target(
            format!("code exchange RS256, SQLite, c={top}"),
            sqlite(Flow::ExchangeRs256).map(|c| c.flows_per_second),
            4300.0,
            "/s",
        );
        rate_target(
            format!("code exchange ES256, SQLite, c={top}"),
            sqlite(Flow::ExchangeEs256).map(|c| c.flows_per_second),
            10000.0,
            "/s",
        );
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for flow in [Flow::Discovery, Flow::Jwks] {
                rate_target(
                    format!("{}, {}, c={top}", flow.key(), backend.name()),
                    self.case(backend, flow, top).map(|c| c.requests_per_second),
                    50000.0,
                    "req/s",
                );
            }
        }
        let p99 = sqlite(Flow::Sso).map(|c| c.flow_p99_ms);
        targets.push(Target {
            what: format!("SSO flow p99, SQLite, c={top}"),
            target: "≤ 50 ms".into(),
            measured: p99.map_or("not run".into(), |p| format!("{p:.1} ms")),
            met: p99.map(|p| p <= 50.0),
        });
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let login = self.case(backend, Flow::Login, top).map(|c| c.flows_per_second);
            let ratio = login.map(|l| l / self.limits.argon2id_checks_per_second);
            targets.push(Target {
                what: format!("login flow, {}, c={top}, to the raw argon2id rate", backend.name()),
                target: "≥ 80 %".into(),
                measured: ratio.map_or("not run".into(), |r| format!("{:.0} %", r * 100.0)),
                met: ratio.map(|r| r >= 0.8),
            });
        }
        for flow in Flow::ALL {
            let (Some(pg), Some(lite)) = (self.case(Backend::Postgres, flow, top), sqlite(flow)) else { continue };
            let ratio = pg.flows_per_second / lite.flows_per_second.max(1e-9);
            targets.push(Target {
                what: format!("{}, c={top}: PostgreSQL to SQLite", flow.key()),
                target: "≥ 70 %".into(),
                measured: format!("{:.0} %", ratio * 100.0),
                met: Some(ratio >= 0.7),
            });
        }
        for b in &self.backends {
            targets.push(Target {
                what: format!("resident memory after the run, {}", b.backend.name()),
                target: "≤ 33 MiB".into(),
                measured: format!("{:.0} MiB", b.final_mib),
                met: Some(b.final_mib <= 33.0),
            });
            targets.push(Target {
                what: format!("resident memory at peak, {}", b.backend.name()),
                target: "≤ 96 MiB".into(),
                measured: format!("{:.0} MiB", b.peak_mib),
                met: Some(b.peak_mib <= 96.0),
            });
        }
        self.targets = targets;
    }

    pub fn failed_cases(&self) -> Vec<(Backend, &CaseResult)> {
        self.backends
            .iter()
            .flat_map(|b| b.cases.iter().filter(|c| c.errors > 0).map(move |c| (b.backend, c)))
            .collect()
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ =
            writeln!(md, "# `make bench`{}: {}\n", if self.mode == "quick" { " QUICK=1" } else { "" }, self.started_at);
        let _ = writeln!(
            md,
            "Binary `{}`{}; {} cores; load average {} before, {} after.",
            self.idp_binary,
            self.commit.as_deref().map(|c| format!(" at commit {c}")).unwrap_or_default(),
            self.machine.cores,
            self.machine.load_before,
            self.machine.load_after
        );
        if let Some(note) = &self.note {
            let _ = writeln!(md, "\n{note}");
        }
        let _ = writeln!(
            md,
            "\n## Limits (the server's own code, {} threads, nothing else running)\n",
            self.limits.threads
        );
        let _ = writeln!(md, "| operation | per second |\n|---|---:|");
        let _ =
            writeln!(md, "| RS256 signature (RSA-2048, aws-lc-rs) | {:.0} |", self.limits.rs256_signatures_per_second);
        let _ = writeln!(md, "| ES256 signature (P-256, aws-lc-rs) | {:.0} |", self.limits.es256_signatures_per_second);
        let _ = writeln!(
            md,
            "| argon2id check (19 MiB, 2 passes, 1 lane) | {:.1} |",
            self.limits.argon2id_checks_per_second
        );
        for b in &self.backends {
            let _ = writeln!(
                md,
                "\n## {} (resident memory: {:.0} MiB before the cases, {:.0} MiB at peak, {:.0} MiB after)\n",
                b.backend.name(),
                b.start_mib,
                b.peak_mib,
                b.final_mib
            );
            let _ = writeln!(
                md,
                "| flow | c | flows/s | requests/s | p50 ms | p99 ms | of its limit | server cores | generator cores | peak MiB | errors |"
            );
            let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for c in &b.cases {
                let of_limit = limit_of(c.flow, &self.limits)
                    .map(|(l, name)| format!("{:.0} % of {name}", 100.0 * c.flows_per_second / l))
                    .unwrap_or_else(|| "—".into());
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.0} | {} |",
                    c.flow,
                    c.concurrency,
                    c.flows_per_second,
                    c.requests_per_second,
                    c.flow_p50_ms,
                    c.flow_p99_ms,
                    of_limit,
                    c.server_cores,
                    c.generator_cores,
                    c.peak_mib,
                    c.errors
                );
            }
        }
        let _ = writeln!(md, "\n## The issue's targets\n\n| target | wanted | measured | met |\n|---|---|---|---|");
        for t in &self.targets {
            let met = match t.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(md, "| {} | {} | {} | {met} |", t.what, t.target, t.measured);
        }
        md
    }
}
